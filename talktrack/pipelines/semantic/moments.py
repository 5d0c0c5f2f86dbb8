"""Moments over the catalog: train the detector, run it over calls, take coach labels.

- :func:`train_detector` fits on the taxonomy examples plus every ``moment_labels`` row
  (coach decisions; generated labels, capped per class) and saves to
  ``workspace.models_dir / "moments"``; :func:`load_detector` loads that, or fits the
  zero-shot detector (taxonomy only) when nothing was trained.
- :func:`detect_calls` labels every call whose ``moments_model`` differs from the
  detector's version: it embeds all sentences of a batch of calls at once, replaces the
  call's objection and move rows, stamps the version and commits per batch, so a second
  run does nothing and an interrupted one resumes where it stopped.

Moment rows: ``kind`` objection (customer utterances) or move (rep utterances; both
kinds scored for an unknown role), ``sentence`` the first sentence of the moment inside
its utterance (consecutive sentences with one label are merged), ``text`` the sentences.
Read them ordered by utterance ``seq`` then ``sentence`` for the order of a rep's moves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
from sqlalchemy import delete, exists, insert, or_, select, update

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Moment, MomentLabel, Utterance
from talktrack.core.clock import utcnow
from talktrack.core.config import Settings
from talktrack.core.progress import Progress
from talktrack.core.workspace import Workspace
from talktrack.models.embedding import EmbedderSet
from talktrack.models.moments import LabelledExample, MomentDetector, Taxonomy, load_taxonomy
from talktrack.models.moments.notes import FieldNotes, extract_notes
from talktrack.models.moments.taxonomy import KINDS, NONE

DETECTED_KINDS = ("objection", "move")
LABEL_LANGUAGES = ("en", "zh", "mixed")


class MomentLabelError(ValueError):
    """A labelled example that cannot be used; the message names the input and the reason."""


@dataclass(frozen=True)
class DetectSummary:
    model: str
    calls_pending: int
    calls_detected: int
    moments: int

    def to_dict(self) -> dict:
        return asdict(self)


# -- building blocks ------------------------------------------------------------------------
def taxonomy_for(settings: Settings) -> Taxonomy:
    return load_taxonomy(settings.semantic.moments.taxonomy, settings.objection_keys, settings.move_keys)


@lru_cache(maxsize=4)
def _embedders(embedder_settings, cache_dir: Path | None) -> EmbedderSet:
    return EmbedderSet.from_settings(embedder_settings, cache_dir=cache_dir)


def moment_embedder(settings: Settings, workspace: Workspace | None):
    """The shared multilingual space (one loaded model per process and cache folder)."""
    cache = workspace.models_dir if workspace is not None else None
    return _embedders(settings.models.embedder, cache).multilingual


def new_detector(settings: Settings, embedder) -> MomentDetector:
    """An unfitted detector with the configured labels and parameters."""
    ms = settings.semantic.moments
    return MomentDetector(embedder, objection_types=settings.objection_keys, moves=settings.move_keys,
                          objection_threshold=ms.objection_threshold, move_threshold=ms.move_threshold,
                          C=ms.regularization_c, coach_weight=ms.coach_weight, generated_weight=ms.generated_weight)


def fit_detector(settings: Settings, embedder, labels: Sequence[LabelledExample] = ()) -> MomentDetector:
    """Fit on the taxonomy examples plus ``labels`` (generated ones capped per class, see settings)."""
    labels = cap_generated(labels, settings.semantic.moments.max_labels_per_class)
    return new_detector(settings, embedder).fit([*taxonomy_for(settings).examples, *labels])


def cap_generated(labels: Sequence[LabelledExample], cap: int | None) -> list[LabelledExample]:
    """Keep at most ``cap`` generated labels per (kind, label, language): a seeded sample, so the
    ``none`` sentences that dominate a call do not swamp the rare types. Coach labels are all kept."""
    if cap is None:
        return list(labels)
    groups: dict[tuple[str, str, str], list[LabelledExample]] = {}
    for example in labels:
        key = (example.kind, example.label, example.language) if example.source == "generated" else ("", "", "")
        groups.setdefault(key, []).append(example)
    rng = np.random.default_rng(0)
    out = groups.pop(("", "", ""), [])
    for key in sorted(groups):
        items = sorted(groups[key], key=lambda e: e.text)
        if len(items) > cap:
            items = [items[i] for i in sorted(rng.choice(len(items), cap, replace=False))]
        out.extend(items)
    return out


def read_labels_file(path: Path | str) -> list[LabelledExample]:
    """JSONL lines {text, language, kind, label[, source]} (source defaults to generated)."""
    path = Path(path)
    if not path.is_file():
        raise MomentLabelError(f"labels file {path}: not found")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(LabelledExample(str(row["text"]), str(row.get("language", "en")), str(row["kind"]),
                                       str(row["label"]), str(row.get("source", "generated"))))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise MomentLabelError(f"labels file {path}, line {number}: expected a JSON object with text, kind, "
                                   f"label (and language, source): {exc}") from None
    return out


# -- training and loading --------------------------------------------------------------------
def model_dir(workspace: Workspace) -> Path:
    return workspace.models_dir / "moments"


def detector_stamp(workspace: Workspace) -> float | None:
    """When the workspace's trained detector was last saved (None: none trained): a kept
    detector is stale once this changes."""
    params = model_dir(workspace) / "params.json"
    return params.stat().st_mtime if params.is_file() else None


def train_detector(catalog: Catalog, settings: Settings, workspace: Workspace,
                   labels_file: Path | str | None = None) -> MomentDetector:
    """Train on taxonomy + ``moment_labels`` (after inserting ``labels_file`` as generated labels); save it."""
    if labels_file is not None:
        store_labels(catalog, read_labels_file(labels_file), settings, source="generated")
    detector = fit_detector(settings, moment_embedder(settings, workspace), catalog_labels(catalog))
    detector.save(model_dir(workspace))
    return detector


def load_detector(settings: Settings, workspace: Workspace) -> MomentDetector:
    """The trained detector of the workspace, or the zero-shot one (taxonomy only) if none was trained."""
    embedder = moment_embedder(settings, workspace)
    directory = model_dir(workspace)
    if (directory / "params.json").is_file():
        return MomentDetector.load(directory, embedder)
    return fit_detector(settings, embedder)


def catalog_labels(catalog: Catalog) -> list[LabelledExample]:
    with catalog.session() as session:
        rows = session.execute(select(MomentLabel.text, MomentLabel.language, MomentLabel.kind, MomentLabel.label,
                                      MomentLabel.source).order_by(MomentLabel.id)).all()
    return [LabelledExample(text, language, kind, label, source) for text, language, kind, label, source in rows]


def store_labels(catalog: Catalog, labels: Iterable[LabelledExample], settings: Settings, *, source: str,
                 actor: str | None = None) -> int:
    """Insert labelled sentences into ``moment_labels`` (already stored ones are skipped); return how many new."""
    labels = [LabelledExample(e.text, e.language, e.kind, e.label, source) for e in labels]
    for example in labels:
        _check_label(example, settings)
    now = utcnow()
    with catalog.session() as session:
        have = set(session.execute(select(MomentLabel.text, MomentLabel.kind, MomentLabel.label)
                                   .where(MomentLabel.source == source)).all())
        fresh = {(e.text, e.kind, e.label): e for e in labels if (e.text, e.kind, e.label) not in have}
        if fresh:
            session.execute(insert(MomentLabel), [
                {"text": e.text, "language": e.language, "kind": e.kind, "label": e.label, "source": source,
                 "created_by": actor, "created_at": now} for e in fresh.values()])
    return len(fresh)


def add_coach_label(catalog: Catalog, text: str, kind: str, label: str, language: str, actor: str,
                    settings: Settings | None = None) -> int:
    """Record a coach's decision on a sentence (it replaces that coach-source label of the same text and
    kind); it takes effect at the next :func:`train_detector`. Returns the label's id."""
    example = LabelledExample(text.strip(), language, kind, label, "coach")
    _check_label(example, settings)
    with catalog.session() as session:
        session.execute(delete(MomentLabel).where(MomentLabel.text == example.text, MomentLabel.kind == kind,
                                                  MomentLabel.source == "coach"))
        row = MomentLabel(text=example.text, language=language, kind=kind, label=label, source="coach",
                          created_by=actor, created_at=utcnow())
        session.add(row)
        session.flush()
        return row.id


def _check_label(example: LabelledExample, settings: Settings | None) -> None:
    if not example.text.strip():
        raise MomentLabelError("moment label: the text is empty")
    if example.kind not in KINDS:
        raise MomentLabelError(f"moment label kind {example.kind!r}: expected one of {list(KINDS)}")
    if example.language not in LABEL_LANGUAGES:
        raise MomentLabelError(f"moment label language {example.language!r}: expected one of {list(LABEL_LANGUAGES)}")
    if settings is not None:
        allowed = (NONE, *(settings.objection_keys if example.kind == "objection" else settings.move_keys))
        if example.label not in allowed:
            raise MomentLabelError(f"moment label {example.label!r} of kind {example.kind}: expected one of "
                                   f"{', '.join(allowed)}")


def field_notes(settings: Settings, workspace: Workspace, text: str, reference_date: date | None = None,
                detector: MomentDetector | None = None) -> FieldNotes:
    """Objections, decision-chain roles and the next action (with its date) of a field note or call text."""
    return extract_notes(text, detector or load_detector(settings, workspace), reference_date)


# -- detection over the catalog --------------------------------------------------------------
def detect_calls(catalog: Catalog, settings: Settings, workspace: Workspace, progress: Progress | None = None,
                 force: bool = False, detector: MomentDetector | None = None) -> DetectSummary:
    """Label the calls not yet labelled by this detector version (all with ``force``); see the module doc."""
    detector = detector or load_detector(settings, workspace)
    version = detector.version
    pending = _pending_calls(catalog, version, force)
    batch_size = settings.semantic.moments.batch_calls
    done = found = 0
    if progress:
        progress("moments", 0, len(pending))
    for begin in range(0, len(pending), batch_size):
        batch = pending[begin:begin + batch_size]
        found += label_calls(catalog, detector, batch)
        done += len(batch)
        if progress:
            progress("moments", done, len(pending))
    return DetectSummary(version, len(pending), done, found)


def _pending_calls(catalog: Catalog, version: str, force: bool) -> list[int]:
    """Calls with utterances whose moments are missing or from another model version."""
    query = select(Call.id).where(exists().where(Utterance.call_id == Call.id)).order_by(Call.id)
    if not force:
        query = query.where(or_(Call.moments_model.is_(None), Call.moments_model != version))
    with catalog.session() as session:
        return list(session.scalars(query))


def label_calls(catalog: Catalog, detector: MomentDetector, call_ids: list[int]) -> int:
    """One transaction: read these calls' utterances (catalog ids), detect, replace their objection and
    move rows, stamp the detector version; the number of moments written."""
    with catalog.session() as session:
        utterances = session.execute(
            select(Utterance.id, Utterance.call_id, Utterance.role, Utterance.text)
            .where(Utterance.call_id.in_(call_ids)).order_by(Utterance.call_id, Utterance.seq)).all()
        roles = [role if role in ("rep", "customer") else None for _, _, role, _ in utterances]
        moments = detector.detect([text for *_, text in utterances], roles=roles)
        rows = [{"call_id": call_id, "utterance_id": utt_id, "sentence": m.sentence, "kind": m.kind,
                 "label": m.label, "score": m.score, "text": m.text}
                for (utt_id, call_id, _, _), found in zip(utterances, moments, strict=True) for m in found]
        session.execute(delete(Moment).where(Moment.call_id.in_(call_ids), Moment.kind.in_(DETECTED_KINDS)))
        if rows:
            session.execute(insert(Moment), rows)
        session.execute(update(Call).where(Call.id.in_(call_ids)).values(moments_model=detector.version))
    return len(rows)
