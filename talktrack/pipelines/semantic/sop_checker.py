"""The SOP scorer: which steps of a call's SOPs its rep sentences cover, and what a missing one sounds like.

A sentence matches a step when its cosine similarity to one of the step's example phrasings
(in the embedding space of the call's language) reaches the step threshold and, with the
margin rule on, the step is that sentence's best step among all steps of the book by at least
``margin`` (:func:`decide`), so "when do you go live?" counts for the delivery timeline, not
also for the purchase timeline. A missing step comes with the closest successful example: the
rep sentence of a won deal's call, in the same stage and language, that matches the step best;
without one, the SOP's own example phrasing.

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
from talktrack.pipelines.semantic.sop_calls import CallInput, rep_sentences, rep_utterances, won_calls
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

    def _example_vectors(self, space: str) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, column per row) of every step's examples in ``space``, embedded once; the last
        column is the background (sentences that are no step)."""
        with self._lock:
            if space not in self._examples:
                languages = ("en",) if space == "english" else self.options.multilingual_example_languages
                groups = [step.examples for step in self._steps] + [self.book.background]
                texts, owner = [], []
                for column, examples in enumerate(groups):
                    for language in languages:
                        texts += examples.get(language, ())
                        owner += [column] * len(examples.get(language, ()))
                vectors = self.embedders.space(space).encode(texts)
                self._examples[space] = (vectors, np.asarray(owner))
            return self._examples[space]

    def step_scores(self, space: str, vectors: np.ndarray) -> np.ndarray:
        """Similarity of each sentence to each step of the book (and, last, to the background), max over
        the examples. shape: (num_sentences, num_steps + 1)."""
        examples, owner = self._example_vectors(space)
        sims = vectors @ examples.T                              # (n, num_examples)
        scores = np.full((len(vectors), len(self._steps) + 1), -1.0, dtype=np.float32)
        for column in range(scores.shape[1]):
            rows = owner == column
            if rows.any() and len(vectors):
                scores[:, column] = sims[:, rows].max(axis=1)
        return scores

    def rivals(self, steps: Sequence[SopStep]) -> np.ndarray:
        """Columns a sentence's best step is chosen among: every stage SOP's steps, ``steps``, the background."""
        keys = set(self.book.stage_steps()) | {step.key for step in steps}
        return np.array([step.key in keys for step in self._steps] + [True])

    def eligible(self, space: str, scores: np.ndarray, rivals: np.ndarray) -> np.ndarray:
        """Which (sentence, step) pairs count under the configured threshold and margin."""
        return decide(scores, rivals, self.threshold(space), self.options.margin)

    # --- one call ---------------------------------------------------------------------------
    def evaluate(self, call: CallInput, vectors: np.ndarray, sop: Sequence[str] = ()) -> SopResult:
        """Score one call whose rep sentences are already embedded (``vectors`` in its space)."""
        space = self.embedders.space_for(call.language)
        required = self.book.steps_for(call.stage, call.channel, sop)
        scores = self.step_scores(space, vectors)
        eligible = self.eligible(space, scores, self.rivals(required))
        column = {step.key: index for index, step in enumerate(self._steps)}
        steps = [self._step_result(call, step, scores[:, column[step.key]], eligible[:, column[step.key]], space)
                 for step in required]
        sops = [s.key for s in self.book.applicable(call.stage, call.channel, sop)]
        return SopResult(call_id=call.call_id, deal_id=call.deal_id, stage=call.stage, language=call.language,
                         sops=sops, steps=steps, options=self._echo(space))

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

    def _echo(self, space: str) -> dict[str, Any]:
        return {"step_threshold": self.threshold(space), "margin": self.options.margin,
                "embedder": self.embedders.space(space).name, "sop_file": self.book.path}

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
        rows = rep_utterances(self.catalog, [c[0] for c in calls])
        sentences, owners = [], []
        for pk, call_id, deal_id, _ in calls:
            for s in rep_sentences(rows.get(pk, [])):
                sentences.append(s)
                owners.append((call_id, deal_id))
        if not sentences:
            return {}
        scores = self.step_scores(space, self.embedders.space(space).encode([s.text for s in sentences]))
        eligible = self.eligible(space, scores, self.rivals([]))
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
        """Embed every rep sentence of ``calls`` (one batch per space), then score each call."""
        by_space: dict[str, list[int]] = {}
        for index, call in enumerate(calls):
            by_space.setdefault(self.embedders.space_for(call.language), []).append(index)
        vectors: dict[int, np.ndarray] = {}
        for space, members in by_space.items():
            texts = [s.text for i in members for s in calls[i].sentences]
            encoded = self.embedders.space(space).encode(texts)
            offset = 0
            for i in members:
                n = len(calls[i].sentences)
                vectors[i] = encoded[offset: offset + n]
                offset += n
        results = []
        for index, call in enumerate(calls):
            results.append(self.evaluate(call, vectors[index], sop))
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
