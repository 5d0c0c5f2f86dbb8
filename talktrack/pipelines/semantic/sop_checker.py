"""The SOP scorer: which steps of a call's SOPs its rep sentences cover, and what a missing one sounds like.

A sentence matches a step when its cosine similarity to one of the step's example phrasings
reaches the step threshold and, with the margin rule on, the step is that sentence's best step
among all steps of the book (and the background of sentences that are no step) by at least
``margin`` (:func:`decide`), so "when do you go live?" counts for the delivery timeline, not
also for the purchase timeline. An English call is scored in both embedding spaces (the
English model and the multilingual one, similarities averaged: each misses paraphrases the
other catches); other languages in the multilingual space.

A question followed by the customer's answer is scored a second time as the pair: the
question's similarities blended (``answer_weight``) with the answer's similarity to the step's
example answers, so "would halving the manual work be a success?" + "if the team stops working
weekends, that's success" covers the success criteria even though the question alone is vague.
A missing step comes with the closest successful example: the rep sentence of a won deal's
call, in the same stage and language, that matches the step best; without one, the SOP's own
example phrasing.

A :class:`SopChecker` holds the embedded step examples and the mined suggestions, so it is
built once per (catalog, settings, workspace) and shared (:func:`checker`)::

    engine = checker(catalog, settings, workspace)
    results = engine.check(load_calls(catalog, ["CALL-000001"]))
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from talktrack.core.catalog import Catalog
from talktrack.core.progress import Progress
from talktrack.core.workspace import Workspace
from talktrack.models.embedding import EmbedderSet
from talktrack.pipelines.semantic.sop_book import SopBook, SopStep, load_sop_book
from talktrack.pipelines.semantic.sop_calls import CallInput, RepSentence, call_turns, rep_sentences, won_calls
from talktrack.pipelines.semantic.sop_results import SopResult, StepMatch, StepResult, Suggestion

SNIPPET_CHARS = 160


def decide(scores: np.ndarray, rivals: np.ndarray, threshold: float, margin: float | None) -> np.ndarray:
    """Which (sentence, step) pairs count: at or above ``threshold`` and, unless ``margin`` is None,
    the sentence's best column among ``rivals`` by at least ``margin``. shape: like ``scores``."""
    ok = scores >= threshold
    if margin is None or not len(scores):
        return ok
    contest = np.where(rivals[None, :], scores, -np.inf)
    top2 = np.sort(contest, axis=1)[:, -2:]
    is_best = np.zeros_like(ok)
    is_best[np.arange(len(scores)), contest.argmax(axis=1)] = (top2[:, 1] - top2[:, 0]) >= margin
    return ok & is_best


class SopChecker:
    """Holds the SOP book, the step example vectors per embedding space and the won-call suggestions.

    Build one per (settings, workspace) and reuse it: :func:`checker` caches them.
    """

    def __init__(self, settings, workspace: Workspace, catalog: Catalog | None = None,
                 embedders: EmbedderSet | None = None, book: SopBook | None = None) -> None:
        self.settings = settings
        self.options = settings.semantic.sop
        self.catalog = catalog
        self.book = book or load_sop_book(settings)
        self.embedders = embedders or EmbedderSet.from_settings(settings.models.embedder,
                                                                cache_dir=workspace.models_dir)
        self._steps = list(self.book.steps.values())
        self._examples: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._suggestions: dict[tuple[str, str], dict[str, Suggestion]] = {}
        self._lock = threading.Lock()
        self._pool_lock = threading.Lock()

    def refresh(self) -> None:
        """Forget the won-call suggestions (after new calls or outcomes reached the catalog)."""
        with self._pool_lock:
            self._suggestions.clear()

    # --- scoring -------------------------------------------------------------------------
    def threshold(self, space: str) -> float:
        if space == "english":
            return self.options.step_threshold
        return self.options.step_threshold_multilingual

    def spaces(self, space: str) -> tuple[str, ...]:
        """The spaces whose similarities are averaged for a call whose language lives in ``space``."""
        return tuple(self.options.english_spaces) if space == "english" else (space,)

    def _bank(self, space: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, column per row) of every step's ``examples`` or ``answers`` in ``space``, embedded
        once; the last column is the background (sentences or answers that are no step)."""
        with self._lock:
            if (space, kind) not in self._examples:
                languages = ("en",) if space == "english" else self.options.multilingual_example_languages
                background = self.book.background if kind == "examples" else self.book.background_answers
                groups = [getattr(step, kind) for step in self._steps] + [background]
                texts, owner = [], []
                for column, examples in enumerate(groups):
                    for language in languages:
                        texts += examples.get(language, ())
                        owner += [column] * len(examples.get(language, ()))
                vectors = self.embedders.space(space).encode(texts) if texts else np.zeros((0, 1), np.float32)
                self._examples[(space, kind)] = (vectors, np.asarray(owner, dtype=int))
            return self._examples[(space, kind)]

    def step_scores(self, space: str, vectors: np.ndarray, kind: str = "examples") -> np.ndarray:
        """Similarity of each sentence (or answer) to each step of the book (and, last, to the
        background): the max over the step's ``kind`` phrasings blended (``centroid_weight``) with
        the similarity to their mean direction, so one lucky example does not decide alone and a
        sentence near the step's gist but far from every single wording still scores; -1 where a
        step has none. shape: (num_sentences, num_steps + 1)."""
        examples, owner = self._bank(space, kind)
        scores = np.full((len(vectors), len(self._steps) + 1), -1.0, dtype=np.float32)
        if not len(vectors) or not len(examples):
            return scores
        sims = vectors @ examples.T                              # (n, num_examples)
        w = self.options.centroid_weight
        for column in range(scores.shape[1]):
            rows = owner == column
            if rows.any():
                centroid = examples[rows].mean(axis=0)
                centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
                scores[:, column] = (1 - w) * sims[:, rows].max(axis=1) + w * (vectors @ centroid)
        return scores

    def sentence_scores(self, space: str, sentences: Sequence[RepSentence]) -> tuple[np.ndarray, np.ndarray]:
        """(alone, with_answer) step similarities of ``sentences`` in a call of ``space``, averaged
        over :meth:`spaces`; ``with_answer`` is -inf on rows without an answer (or with
        ``answer_weight`` 0). shape: (num_sentences, num_steps + 1) each."""
        alone = with_answer = None
        answered = [i for i, s in enumerate(sentences) if s.answer] if self.options.answer_weight > 0 else []
        for name in self.spaces(space):
            embedder = self.embedders.space(name)
            q = self.step_scores(name, embedder.encode([s.text for s in sentences]))
            a = self.step_scores(name, embedder.encode([sentences[i].answer for i in answered]), "answers")
            alone = q if alone is None else alone + q
            with_answer = a if with_answer is None else with_answer + a
        n = len(self.spaces(space))
        alone, answers = alone / n, with_answer / n
        paired = np.full_like(alone, -np.inf)
        w = self.options.answer_weight
        paired[answered] = (1 - w) * alone[answered] + w * answers
        return alone, paired

    def rivals(self, steps: Sequence[SopStep]) -> np.ndarray:
        """Columns a sentence's best step is chosen among: every stage SOP's steps, ``steps``, the background."""
        keys = set(self.book.stage_steps()) | {step.key for step in steps}
        return np.array([step.key in keys for step in self._steps] + [True])

    def eligible(self, space: str, scores: tuple[np.ndarray, np.ndarray], rivals: np.ndarray,
                 threshold: float | None = None, margin: float | None | str = "configured") -> np.ndarray:
        """Which (sentence, step) pairs count: the sentence alone or with its answer passes
        :func:`decide` (at the configured threshold and margin unless given)."""
        threshold = self.threshold(space) if threshold is None else threshold
        margin = self.options.margin if margin == "configured" else margin
        alone, paired = scores
        ok = decide(alone, rivals, threshold, margin)
        answered = np.isfinite(paired[:, 0])
        ok[answered] |= decide(paired[answered], rivals, threshold, margin)
        return ok

    # --- one call ---------------------------------------------------------------------------
    def evaluate(self, call: CallInput, sop: Sequence[str] = ()) -> SopResult:
        """Score one call against its stage's SOP (and ``sop``, scenario SOPs asked for by name)."""
        space = self.embedders.space_for(call.language)
        required = self.book.steps_for(call.stage, call.channel, sop)
        alone, paired = self.sentence_scores(space, call.sentences)
        eligible = self.eligible(space, (alone, paired), self.rivals(required))
        scores = np.maximum(alone, paired)
        column = {step.key: index for index, step in enumerate(self._steps)}
        steps = [self._step_result(call, step, scores[:, column[step.key]], eligible[:, column[step.key]], space)
                 for step in required]
        sops = [s.key for s in self.book.applicable(call.stage, call.channel, sop)]
        return SopResult(call_id=call.call_id, deal_id=call.deal_id, stage=call.stage, language=call.language,
                         sops=sops, steps=steps, options=self.options_for(space))

    def _step_result(self, call: CallInput, step: SopStep, scores: np.ndarray, eligible: np.ndarray,
                     space: str) -> StepResult:
        best = float(scores.max()) if len(scores) else 0.0
        base = dict(step=step.key, name_en=step.name_en, name_zh=step.name_zh, key_question=step.key_question)
        if eligible.any():
            i = int(np.flatnonzero(eligible)[np.argmax(scores[eligible])])
            s = call.sentences[i]
            match = StepMatch(s.seq, s.start_s, s.end_s, _snippet(s.text), round(float(scores[i]), 4))
            return StepResult(**base, covered=True, similarity=round(float(scores[i]), 4), match=match)
        suggestion = self.suggestion(step, call.stage, call.language, space)
        return StepResult(**base, covered=False, similarity=round(best, 4), suggestion=suggestion)

    def options_for(self, space: str) -> dict[str, Any]:
        return {"step_threshold": self.threshold(space), "margin": self.options.margin,
                "answer_weight": self.options.answer_weight, "centroid_weight": self.options.centroid_weight,
                "embedder": "+".join(self.embedders.space(name).name for name in self.spaces(space)),
                "sop_file": self.book.path}

    # --- suggestions from won deals -----------------------------------------------------------
    def suggestion(self, step: SopStep, stage: str, language: str, space: str) -> Suggestion:
        pool = self._won_examples(stage, space)
        found = pool.get(step.key)
        return found or Suggestion(source="sop_example", text=step.example_for(language))

    def _won_examples(self, stage: str, space: str) -> dict[str, Suggestion]:
        """Best rep sentence per step among recent won-deal calls of this stage and space (computed once)."""
        with self._pool_lock:
            if (stage, space) not in self._suggestions:
                found = self._mine_won_examples(stage, space) if self.catalog else {}
                self._suggestions[(stage, space)] = found
            return self._suggestions[(stage, space)]

    def _mine_won_examples(self, stage: str, space: str) -> dict[str, Suggestion]:
        calls = won_calls(self.catalog, stage, self.options.suggestion_pool_calls * 4)
        calls = [c for c in calls if self.embedders.space_for(c[3]) == space][: self.options.suggestion_pool_calls]
        if not calls:
            return {}
        rows = call_turns(self.catalog, [c[0] for c in calls])
        sentences, owners = [], []
        for pk, call_id, deal_id, _ in calls:
            for s in rep_sentences(rows.get(pk, [])):
                sentences.append(RepSentence(s.seq, s.start_s, s.end_s, s.text))   # a suggestion is said alone
                owners.append((call_id, deal_id))
        if not sentences:
            return {}
        scores, paired = self.sentence_scores(space, sentences)
        eligible = self.eligible(space, (scores, paired), self.rivals([]))
        ranked = np.where(eligible, scores, scores - 1.0)   # prefer sentences that would count for the step
        best = ranked.argmax(axis=0)
        out = {}
        for j, step in enumerate(self._steps):   # the background column (last) is no step
            i = int(best[j])
            if not eligible[i, j]:
                continue
            s, (call_id, deal_id) = sentences[i], owners[i]
            out[step.key] = Suggestion(source="won_call", text=s.text, call_id=call_id, deal_id=deal_id, seq=s.seq,
                                       start_s=s.start_s, end_s=s.end_s, similarity=round(float(scores[i, j]), 4))
        return out

    # --- batches ---------------------------------------------------------------------------
    def check(self, calls: Sequence[CallInput], sop: Sequence[str] = (), progress: Progress | None = None,
              done_before: int = 0, total: int | None = None) -> list[SopResult]:
        """Embed every rep sentence and answer of ``calls`` (one batch per space; the embedder
        caches by text, so scoring call by call then reads the cache), then score each call."""
        for space in {self.embedders.space_for(call.language) for call in calls}:
            members = [c for c in calls if self.embedders.space_for(c.language) == space]
            texts = [t for c in members for s in c.sentences for t in (s.text, s.answer) if t]
            for name in self.spaces(space):
                self.embedders.space(name).encode(texts)
        results = []
        for index, call in enumerate(calls):
            results.append(self.evaluate(call, sop))
            if progress:
                progress("sop check", done_before + index + 1, total or len(calls))
        return results


_CHECKERS: dict[tuple, SopChecker] = {}
_CHECKERS_LOCK = threading.Lock()
_MAX_CHECKERS = 8


def checker(catalog: Catalog | None, settings, workspace: Workspace) -> SopChecker:
    """The cached :class:`SopChecker` of this catalog, settings and workspace (models load once).

    Keyed by object identity; a checker keeps its catalog and settings alive, so an id is
    never reused while its entry exists. The oldest of more than 8 entries is dropped."""
    key = (id(catalog), id(settings), str(workspace.root))
    with _CHECKERS_LOCK:
        if key not in _CHECKERS:
            if len(_CHECKERS) >= _MAX_CHECKERS:
                _CHECKERS.pop(next(iter(_CHECKERS)))
            _CHECKERS[key] = SopChecker(settings, workspace, catalog)
        return _CHECKERS[key]


def _snippet(text: str) -> str:
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
