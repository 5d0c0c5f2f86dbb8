"""SOP compliance per call and key-question coverage per deal.

For a call, every step of its stage's SOP (``configs/sops.yaml``) is looked for among the
rep's sentences: a sentence matches a step when its cosine similarity to one of the step's
example phrasings (in the embedding space of the call's language) reaches the step
threshold and, with the margin rule on, the step is that sentence's best step among all
steps of the book by at least ``margin`` (so "when do you go live?" counts for the delivery
timeline, not also for the purchase timeline). A missing step comes with the closest
successful example: the rep sentence of a won deal's call, in the same stage and language,
that matches the step best; without one, the SOP's own example phrasing.

Checking many calls embeds all their rep sentences in a few large batches (the embedder
caches by text hash), so a whole catalog is checked at embedding speed::

    >>> results = check_calls(catalog, settings, workspace, progress=hook)
    >>> results[0].missing_key_questions
    ['budget']
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal, Utterance
from talktrack.core.records import Transcript
from talktrack.core.workspace import Workspace
from talktrack.models.embedding import EmbedderSet
from talktrack.pipelines.semantic.sop_book import SopBook, SopStep, load_sop_book

Progress = Callable[[str, int, int], None]
SNIPPET_CHARS = 160
CALL_CHUNK = 400            # calls embedded and scored together in check_calls
_SENTENCE_END = re.compile(r"(?<=[?!。？！])|(?<=\.)(?=\s)")


class SopNotFoundError(LookupError):
    """A call or deal id that the catalog does not hold."""


@dataclass(frozen=True)
class StepMatch:
    """Where a step was found: the rep's sentence and the utterance that holds it."""

    seq: int
    start_s: float
    end_s: float
    snippet: str
    similarity: float


@dataclass(frozen=True)
class Suggestion:
    """How a missing step sounds when done well: a won deal's rep sentence, or the SOP's own example."""

    source: Literal["won_call", "sop_example"]
    text: str
    call_id: str | None = None
    deal_id: str | None = None
    seq: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    similarity: float | None = None


@dataclass(frozen=True)
class StepResult:
    step: str
    name_en: str
    name_zh: str
    key_question: str | None
    covered: bool
    similarity: float                   # best similarity of any rep sentence to the step's examples
    match: StepMatch | None = None      # where it was covered (None when missing)
    suggestion: Suggestion | None = None  # for a missing step


@dataclass(frozen=True)
class SopResult:
    """One call checked against its SOPs; ``options`` echoes what produced it."""

    call_id: str | None
    deal_id: str | None
    stage: str
    language: str
    sops: list[str]
    steps: list[StepResult]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def covered_steps(self) -> list[str]:
        return [s.step for s in self.steps if s.covered]

    @property
    def missing_steps(self) -> list[str]:
        return [s.step for s in self.steps if not s.covered]

    @property
    def covered_key_questions(self) -> list[str]:
        return [s.key_question for s in self.steps if s.key_question and s.covered]

    @property
    def missing_key_questions(self) -> list[str]:
        return [s.key_question for s in self.steps if s.key_question and not s.covered]

    @property
    def compliance(self) -> float:
        """Share of required steps covered (0-1)."""
        return len(self.covered_steps) / len(self.steps) if self.steps else 1.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out |= {"compliance": round(self.compliance, 4), "covered_key_questions": self.covered_key_questions,
                "missing_key_questions": self.missing_key_questions}
        return out


@dataclass(frozen=True)
class RepSentence:
    """One sentence of a rep utterance; times are the utterance's."""

    seq: int
    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class CallInput:
    """What a check needs of a call, whether it comes from the catalog or a transcript file."""

    call_id: str | None
    deal_id: str | None
    stage: str
    channel: str | None
    language: str
    sentences: list[RepSentence]


def split_sentences(text: str) -> list[str]:
    """Split on . ? ! 。 ？ ！ (a period only before a space, so "7.5k" stays whole)."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def _sentences(utterances: Iterable[tuple[int, float, float, str]]) -> list[RepSentence]:
    return [RepSentence(seq, start, end, sentence)
            for seq, start, end, text in utterances for sentence in split_sentences(text)]


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
        calls = _won_calls(self.catalog, stage, self.options.suggestion_pool_calls * 4)
        calls = [c for c in calls if self.embedders.space_for(c[3]) == space][: self.options.suggestion_pool_calls]
        if not calls:
            return {}
        rows = _rep_utterances(self.catalog, [c[0] for c in calls])
        sentences, owners = [], []
        for pk, call_id, deal_id, _ in calls:
            for s in _sentences(rows.get(pk, [])):
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


# --- catalog access ------------------------------------------------------------------------------
def _won_calls(catalog: Catalog, stage: str, limit: int) -> list[tuple[int, str, str, str]]:
    """(pk, call id, deal id, language) of the latest calls in ``stage`` of won deals."""
    with catalog.session() as session:
        rows = session.execute(
            select(Call.id, Call.external_id, Deal.external_id, Call.language)
            .join(Deal, Call.deal_id == Deal.id)
            .where(Deal.status == "won", Call.stage == stage)
            .order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
        ).all()
    return [tuple(row) for row in rows]


def _rep_utterances(catalog: Catalog, call_pks: Sequence[int]) -> dict[int, list[tuple[int, float, float, str]]]:
    out: dict[int, list] = {}
    with catalog.session() as session:
        for begin in range(0, len(call_pks), 500):
            chunk = list(call_pks[begin: begin + 500])
            rows = session.execute(
                select(Utterance.call_id, Utterance.seq, Utterance.start_s, Utterance.end_s, Utterance.text)
                .where(Utterance.call_id.in_(chunk), Utterance.role == "rep")
                .order_by(Utterance.call_id, Utterance.seq)
            ).all()
            for call_pk, seq, start, end, text in rows:
                out.setdefault(call_pk, []).append((seq, start, end, text))
    return out


def _call_rows(catalog: Catalog, call_ids: Sequence[str] | None) -> list[tuple]:
    """(pk, call id, deal id, stage, channel, language) of the calls asked for (all when None), in order."""
    query = (select(Call.id, Call.external_id, Deal.external_id, Call.stage, Call.channel, Call.language)
             .outerjoin(Deal, Call.deal_id == Deal.id))
    with catalog.session() as session:
        if call_ids is None:
            return [tuple(r) for r in session.execute(query.order_by(Call.id)).all()]
        found = {}
        for begin in range(0, len(call_ids), 500):
            chunk = list(call_ids[begin: begin + 500])
            found |= {r[1]: tuple(r) for r in session.execute(query.where(Call.external_id.in_(chunk))).all()}
    missing = [c for c in call_ids if c not in found]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise SopNotFoundError(f"unknown call id {missing[0]!r}{more}")
    return [found[c] for c in call_ids]


def load_calls(catalog: Catalog, call_ids: Sequence[str]) -> list[CallInput]:
    """The catalog calls ``call_ids`` as check inputs (rep sentences with their times)."""
    return _inputs(catalog, _call_rows(catalog, call_ids))


def _inputs(catalog: Catalog, rows: Sequence[tuple], default_stage: str | None = None) -> list[CallInput]:
    utterances = _rep_utterances(catalog, [r[0] for r in rows])
    out = []
    for pk, call_id, deal_id, stage, channel, language in rows:
        stage = stage or default_stage
        if stage is None:
            raise ValueError(f"call {call_id!r} has no stage; pass the stage to check it against")
        sentences = _sentences(utterances.get(pk, []))
        out.append(CallInput(call_id, deal_id, stage, channel, language or "en", sentences))
    return out


# --- public entry points ----------------------------------------------------------------------
def check_calls(catalog: Catalog, settings, workspace: Workspace, call_ids: Sequence[str] | None = None, *,
                sop: Sequence[str] = (), progress: Progress | None = None) -> list[SopResult]:
    """Check many calls (all with a stage when ``call_ids`` is None), in chunks of embedded batches."""
    rows = _call_rows(catalog, call_ids)
    if call_ids is None:
        rows = [r for r in rows if r[3]]
    engine = checker(catalog, settings, workspace)
    results: list[SopResult] = []
    for begin in range(0, len(rows), CALL_CHUNK):
        chunk = _inputs(catalog, rows[begin: begin + CALL_CHUNK])
        results += engine.check(chunk, sop, progress, done_before=begin, total=len(rows))
    return results


def check_call(catalog: Catalog, settings, workspace: Workspace, call_id: str, *, stage: str | None = None,
               sop: Sequence[str] = ()) -> SopResult:
    """Check one catalog call (by external id) against its stage's SOP (``stage`` overrides the call's)."""
    rows = _call_rows(catalog, [call_id])
    if stage:
        rows = [rows[0][:3] + (stage,) + rows[0][4:]]
    _known_stage(settings, rows[0][3], f"call {call_id!r}")
    return checker(catalog, settings, workspace).check(_inputs(catalog, rows), sop)[0]


def check_transcript(transcript: str | Path | dict | Transcript, stage: str | None, settings, workspace: Workspace,
                     catalog: Catalog | None = None, *, sop: Sequence[str] = ()) -> SopResult:
    """Check a ``talktrack.transcript/1`` transcript (a path, a JSON string, a dict or a record).

    ``stage`` may be None when the transcript names one (top-level ``stage`` or ``source.stage``).
    With a catalog, missing steps get suggestions from won deals' calls."""
    raw, record = _read_transcript(transcript)
    stage = stage or raw.get("stage") or record.source.get("stage")
    if not stage:
        raise ValueError("the transcript names no stage; pass one (e.g. --stage qualification)")
    _known_stage(settings, stage, "transcript")
    reps = [(i, u.start, u.end, u.text) for i, u in enumerate(record.utterances) if u.role == "rep"]
    if not reps:
        raise ValueError("the transcript has no utterance of a speaker with role 'rep'; "
                         "set the rep's role under 'speakers' and on the utterances")
    call = CallInput(record.call_id, raw.get("deal_id"), stage, raw.get("channel"), record.language,
                      _sentences(reps))
    return checker(catalog, settings, workspace).check([call], sop)[0]


def _read_transcript(transcript) -> tuple[dict, Transcript]:
    if isinstance(transcript, Transcript):
        return transcript.model_dump(by_alias=True), transcript
    if isinstance(transcript, dict):
        raw = transcript
    else:
        text = str(transcript)
        path = Path(text)
        source = "transcript"
        if not text.lstrip().startswith("{"):
            if not path.is_file():
                raise ValueError(f"transcript {text!r}: no such file")
            text, source = path.read_text(encoding="utf-8"), str(path)
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source}: not JSON ({exc})") from None
    try:
        return raw, Transcript.model_validate(raw)
    except Exception as exc:  # pydantic ValidationError: say which input and why
        raise ValueError(f"not a talktrack.transcript/1 transcript: {exc}") from None


def _known_stage(settings, stage: str | None, what: str) -> None:
    stages = [s.key for s in settings.stages]
    if stage not in stages:
        raise ValueError(f"{what}: stage {stage!r} is not a known stage (known: {stages})")


def deal_key_questions(catalog: Catalog, settings, workspace: Workspace, deal_id: str) -> dict:
    """Per stage the deal had calls in: which of the stage's key questions some call covered, which never.

    A never-covered question carries the suggestion of the stage's latest call."""
    with catalog.session() as session:
        deal = session.execute(select(Deal.id, Deal.status).where(Deal.external_id == deal_id)).first()
        if deal is None:
            raise SopNotFoundError(f"unknown deal id {deal_id!r}")
        call_ids = list(session.scalars(
            select(Call.external_id).where(Call.deal_id == deal.id, Call.stage.is_not(None))
            .order_by(Call.started_at, Call.id)))
    results = check_calls(catalog, settings, workspace, call_ids) if call_ids else []
    stages = [_stage_coverage(settings, stage, [r for r in results if r.stage == stage])
              for stage in [s.key for s in settings.stages] if any(r.stage == stage for r in results)]
    never = [{"stage": s["stage"], "key_question": kq} for s in stages for kq in s["never_covered"]]
    options = results[0].options if results else {}
    return {"deal_id": deal_id, "status": deal.status, "calls": call_ids, "stages": stages,
            "never_covered": never, "options": options}


def _stage_coverage(settings, stage: str, results: list[SopResult]) -> dict:
    questions = next(s.key_questions for s in settings.stages if s.key == stage)
    names = settings.key_questions
    rows = []
    for kq in questions:
        hits = [(r, st) for r in results for st in r.steps if st.key_question == kq and st.covered]
        row: dict[str, Any] = {"key_question": kq, "name_en": _name(names, kq, "en"),
                               "name_zh": _name(names, kq, "zh"), "covered": bool(hits)}
        if hits:
            result, step = hits[0]
            row |= {"call_id": result.call_id} | asdict(step.match)
        else:
            step = next(st for st in results[-1].steps if st.key_question == kq)
            row["suggestion"] = asdict(step.suggestion) if step.suggestion else None
        rows.append(row)
    return {"stage": stage, "calls": [r.call_id for r in results], "key_questions": rows,
            "covered": [r["key_question"] for r in rows if r["covered"]],
            "never_covered": [r["key_question"] for r in rows if not r["covered"]]}


def _name(names, key: str, language: str) -> str:
    entry = names.get(key)
    if entry is None:
        return key
    value = getattr(entry, f"name_{language}", None)
    if value is None and isinstance(entry, dict):
        value = entry.get(f"name_{language}")
    return value or key


def _snippet(text: str) -> str:
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
