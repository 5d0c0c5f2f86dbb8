"""The utterance index: every catalog utterance searchable by meaning, with metadata filters.

One :class:`~talktrack.models.vector_index.VectorIndex` per embedding space
(:meth:`EmbedderSet.space_for`: English utterances in MiniLM, Chinese and mixed ones in the
multilingual USE), kept under ``workspace.index_dir / "utterances"``. With the default ``auto``
embedders, English utterances are also put into the multilingual space, so that it holds every
utterance: that is where an English query finds Chinese lines and a Chinese query English ones.

    utterances/build.json                 what the last build did (spaces, counts, embedders)
    utterances/<space>.faiss (+ .json)    the FAISS index and its sidecar: one vector per distinct text
    utterances/<space>.manifest.npz       indexed utterance ids, a fingerprint of each one's text, its group
    utterances/<space>.faiss.vectors      compressed (IVF-PQ) spaces only: the exact vectors, for re-ranking
    utterances/<space>.faiss.rows.npy     ... and the group id of each of their rows

**Kind** (``semantic.index``): exact while a space holds at most ``exact_max_vectors`` texts,
HNSW beyond, IVF-PQ past ``compressed_min_vectors`` (the switch happens inside an add, from the
vectors already indexed: nothing is embedded again). A compressed space is loaded
memory-mapped, so a search process holds little more than its codes; the next build reads it
into memory before adding.

**One vector per distinct text.** Calls repeat phrases word for word, and that many identical
vectors break an HNSW graph (:mod:`talktrack.pipelines.semantic.text_groups` has the figures).
So the utterances of a space are grouped by text fingerprint (:class:`TextGroups`); the FAISS id
is the group id, and a search expands each group it finds into its utterances, so ``k`` hits are
still ``k`` utterances.

**Incremental builds.** A build compares the catalog's (id, text fingerprint) pairs with the
manifest: ids that are gone or whose text changed leave their group, and a group left empty
loses its vector. New utterances join the group of their text; only texts with no group yet
are embedded. The fingerprint matters because a re-transcribed call replaces its utterances,
and SQLite may hand the new rows the ids of the deleted ones. A space whose embedder changed,
or saved by the older one-vector-per-utterance format, is rebuilt from scratch.

**What is indexed.** Utterances with fewer than ``min_text_units`` content units (Latin
words or numbers plus CJK characters; default 2) are skipped: "Mm.", "Right.", "嗯" match
almost any query and help none.

**Search across languages.** A query is embedded in the space of its own language and in the
shared multilingual one; each space returns its best utterances and the two rankings are fused
by reciprocal rank (score = sum of 1 / (60 + rank), copies of one text sharing a rank). English
lines thus keep MiniLM's sharper English ranking and Chinese lines come in through the shared
space. Measured on the hand-written lines of ``evaluation/real_phrasing/search_corpus.yaml``
(``talktrack eval semantic``; README has the figures): one space per query language found no
line in the other language at all.

**Channels.** Chat and e-mail utterances (:mod:`.chat_text`) are indexed beside the calls' lines
under negative ids (:mod:`.chat_index`); ``channel`` (call, chat, email, voice_note) filters them.

**Filters** (channel, role, rep, team, outcome, stage, dates, language) resolve to an allowed id set with
one SQL query over utterances → calls → deals/reps/teams; the groups holding at least one
allowed utterance go to FAISS as an ``IDSelector`` (see :class:`VectorIndex` for how a filter
still yields ``k`` hits), and only the allowed members of a found group are returned.

Example::

    report = build_utterance_index(catalog, settings, workspace, progress=hook)
    hits = UtteranceIndex(catalog, settings, workspace).search("too expensive for us", k=5, role="customer")
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import aliased

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal, Rep, Team, Utterance
from talktrack.core.config import Settings
from talktrack.core.progress import Progress
from talktrack.core.workspace import Workspace
from talktrack.models.embedding import EmbedderSet, detect_language
from talktrack.models.vector_index import VectorIndex, VectorIndexError
from talktrack.pipelines.semantic.chat_index import TEXT_CHANNELS, allowed_chat_ids, chat_hit_rows, chat_rows
from talktrack.pipelines.semantic.text_groups import TextGroups, content_units, text_fingerprint

SPACES = ("english", "multilingual")
SHARED = "multilingual"               # the space where every language meets
RRF_K = 60                            # reciprocal-rank fusion constant (the usual 60: ranks deep in a list still count)
EMBED_BATCH = 512                      # texts per embedding call (one progress step each)
OUTCOMES = ("won", "lost", "open")
ROLES = ("rep", "customer", "unknown")


class IndexNotBuiltError(VectorIndexError):
    """No utterance index in this workspace yet (run ``talktrack index build``)."""


class OutdatedIndexError(VectorIndexError):
    """A space saved in the older one-vector-per-utterance format; a build replaces it."""


@dataclass(frozen=True)
class SearchHit:
    utterance_id: int
    seq: int                       # the utterance's place in its call or chat conversation
    call_id: str | None            # None for a chat or e-mail utterance (negative id)
    deal_id: str | None
    rep_id: str | None
    start_s: float
    end_s: float
    speaker: str
    role: str
    text: str
    language: str
    similarity: float
    outcome: str | None
    channel: str = "call"          # call | chat | email | voice_note
    conversation_id: str | None = None   # a chat's: its conversation, message and time
    message_id: str | None = None
    sent_at: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SpaceReport:
    space: str
    embedder: str
    kind: str
    vectors: int                   # in the FAISS index: one per group
    groups: int = 0                # distinct texts among the indexed utterances
    utterances: int = 0            # indexed utterances (members of the groups)
    embedded: int = 0              # texts sent to the embedder in this build (= groups created)
    added: int = 0                 # utterances added in this build
    removed: int = 0               # utterances removed in this build (gone or text changed)
    rebuilt: bool = False
    seconds: float = 0.0


@dataclass
class IndexBuildReport:
    utterances: int                # in the catalog
    skipped_short: int             # below min_text_units
    spaces: dict[str, SpaceReport] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"utterances": self.utterances, "skipped_short": self.skipped_short,
                "seconds": round(self.seconds, 2),
                "spaces": {name: asdict(report) for name, report in self.spaces.items()}}


def build_utterance_index(catalog: Catalog, settings: Settings, workspace: Workspace,
                          progress: Progress | None = None, rebuild: bool = False,
                          embedders: EmbedderSet | None = None) -> IndexBuildReport:
    """Bring the workspace's utterance index up to date with the catalog (see the module docstring)."""
    index = UtteranceIndex(catalog, settings, workspace, embedders=embedders)
    return index.build(progress=progress, rebuild=rebuild)


class UtteranceIndex:
    """Build and search the utterance index of one workspace. The constructor does no I/O."""

    def __init__(self, catalog: Catalog, settings: Settings, workspace: Workspace,
                 embedders: EmbedderSet | None = None) -> None:
        self.catalog = catalog
        self.settings = settings
        self.workspace = workspace
        self.embedders = embedders or EmbedderSet.from_settings(settings.models.embedder,
                                                                cache_dir=workspace.models_dir)
        self._spaces: dict[str, VectorIndex] = {}
        self._groups: dict[str, TextGroups] = {}

    @property
    def folder(self) -> Path:
        return self.workspace.index_dir / "utterances"

    # ------------------------------------------------------------------ build
    def build(self, progress: Progress | None = None, rebuild: bool = False) -> IndexBuildReport:
        """Embed and add what is new, drop what is gone or changed, save each changed space."""
        started = time.perf_counter()
        rows, skipped, total = self._catalog_rows()
        report = IndexBuildReport(utterances=total, skipped_short=skipped)
        for space in SPACES:
            wanted = rows.get(space, {})
            if wanted or self._index_path(space).exists():
                report.spaces[space] = self._build_space(space, wanted, progress, rebuild)
        report.seconds = time.perf_counter() - started
        self._write_build_record(report)
        return report

    def _catalog_rows(self) -> tuple[dict[str, dict[int, tuple[str, int]]], int, int]:
        """``{space: {utterance id: (text, fingerprint)}}`` of indexable utterances, skipped count, total."""
        minimum = self.settings.semantic.index.min_text_units
        rows: dict[str, dict[int, tuple[str, int]]] = {}
        skipped = total = 0
        with self.catalog.session() as session:
            calls = session.execute(select(Utterance.id, Utterance.text, Utterance.language)).all()
            for uid, text, language in [*calls, *chat_rows(session)]:
                total += 1
                text = (text or "").strip()
                if content_units(text) < minimum:
                    skipped += 1
                    continue
                for space in spaces_for_language(self.embedders, language or detect_language(text)):
                    rows.setdefault(space, {})[uid] = (text, text_fingerprint(text))
        return rows, skipped, total

    def _build_space(self, space: str, wanted: dict[int, tuple[str, int]], progress: Progress | None,
                     rebuild: bool) -> SpaceReport:
        started = time.perf_counter()
        embedder = self.embedders.space(space)
        index, groups, fresh = self._open_for_build(space, embedder, rebuild)
        stale = [uid for uid, (fp, _) in groups.members.items() if wanted.get(uid, (None, None))[1] != fp]
        for uid in stale:
            groups.remove(uid)
        new = sorted(uid for uid in wanted if uid not in groups.members)
        texts = {}  # group created in this build -> its text, to embed
        for uid in new:
            created = groups.add(uid, wanted[uid][1])
            if created is not None:
                texts[created] = wanted[uid][0]
        emptied = groups.prune()  # after the adds: a group whose text came back keeps its vector
        if emptied:
            index.remove(np.asarray(emptied, dtype=np.int64))
        self._embed_and_add(space, index, list(texts.items()), progress)
        if new or stale or fresh:
            self._save_space(space, index, groups)
        self._spaces[space], self._groups[space] = index, groups
        return SpaceReport(space=space, embedder=embedder.name, kind=index.kind, vectors=len(index),
                           groups=len(groups), utterances=len(groups.members), embedded=len(texts),
                           added=len(new), removed=len(stale), rebuilt=fresh,
                           seconds=round(time.perf_counter() - started, 2))

    def _open_for_build(self, space: str, embedder, rebuild: bool) -> tuple[VectorIndex, TextGroups, bool]:
        """The saved index and groups of ``space``, or a new empty pair (rebuild, none yet, old format, model changed)."""
        if not rebuild and self._index_path(space).exists():
            try:
                index, groups = self._load_space(space)
            except OutdatedIndexError:
                index = None
            if index is not None and index.embedder == embedder.name and index.dim == embedder.dim:
                return index, groups, False
        return VectorIndex(embedder.dim, self.settings.semantic.index, embedder=embedder.name), TextGroups(), True

    def _embed_and_add(self, space: str, index: VectorIndex, items: list[tuple[int, str]],
                       progress: Progress | None) -> None:
        """Embed ``(group id, text)`` pairs in batches and add each vector under its group id."""
        embedder = self.embedders.space(space)
        step = f"embed {space}"
        if progress:
            progress(step, 0, len(items))
        for begin in range(0, len(items), EMBED_BATCH):
            chunk = items[begin : begin + EMBED_BATCH]
            vectors = embedder.encode([text for _, text in chunk])  # shape: (len(chunk), dim)
            index.add(np.array([group for group, _ in chunk], dtype=np.int64), vectors)
            if progress:
                progress(step, begin + len(chunk), len(items))

    # ------------------------------------------------------------------ files
    def _index_path(self, space: str) -> Path:
        return self.folder / f"{space}.faiss"

    def _manifest_path(self, space: str) -> Path:
        return self.folder / f"{space}.manifest.npz"

    def _save_space(self, space: str, index: VectorIndex, groups: TextGroups) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        ids, fingerprints, group_ids = groups.to_arrays()
        index.save(self._index_path(space))
        tmp = self._manifest_path(space).with_suffix(".tmp.npz")
        np.savez(tmp, ids=ids, fingerprints=fingerprints, groups=group_ids)
        tmp.replace(self._manifest_path(space))

    def _load_space(self, space: str) -> tuple[VectorIndex, TextGroups]:
        path = self._index_path(space)
        index = VectorIndex.load(path, settings=self.settings.semantic.index)
        manifest = self._manifest_path(space)
        try:
            with np.load(manifest) as data:
                if "groups" not in data.files:
                    raise OutdatedIndexError(f"{path}: saved by an older version (one vector per utterance); "
                                             "run `talktrack index build` to replace it")
                groups = TextGroups(data["ids"], data["fingerprints"], data["groups"])
        except (OSError, KeyError, ValueError) as exc:
            raise VectorIndexError(f"{manifest}: missing or corrupt manifest ({exc}); "
                                   "run `talktrack index build --rebuild`") from None
        if not np.array_equal(np.sort(groups.group_ids()), np.sort(index.ids())):
            raise VectorIndexError(f"{path}: holds {len(index)} vectors but its manifest lists {len(groups)} "
                                   "text groups, not the same ids; run `talktrack index build --rebuild`")
        return index, groups

    def _write_build_record(self, report: IndexBuildReport) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        record = report.to_dict() | {"built_at": datetime.now().isoformat(timespec="seconds")}
        tmp = self.folder / ".build.json.tmp"
        tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
        tmp.replace(self.folder / "build.json")

    def space_index(self, space: str) -> VectorIndex | None:
        """The saved index of ``space``: one vector per text group (None: the catalog had no utterance there).

        Raises :class:`IndexNotBuiltError` when no build ever ran in this workspace.
        """
        if space not in self._spaces:
            if not (self.folder / "build.json").is_file():
                raise IndexNotBuiltError(f"no utterance index in {self.workspace.root}: "
                                         "run `talktrack index build` first")
            if not self._index_path(space).exists():
                return None
            self._spaces[space], self._groups[space] = self._load_space(space)
        return self._spaces[space]

    def text_groups(self, space: str) -> TextGroups | None:
        """Which utterances each vector of :meth:`space_index` stands for (None: no index in that space)."""
        return self._groups[space] if self.space_index(space) is not None else None

    # ----------------------------------------------------------------- search
    def search(self, text: str, k: int = 10, *, role: str | None = None, rep: str | None = None,
               team: str | None = None, outcome: str | None = None, stage: str | None = None,
               date_from: date | None = None, date_to: date | None = None,
               language: str | None = None, channel: str | None = None) -> list[SearchHit]:
        """The ``k`` utterances closest in meaning to ``text`` that pass every given filter.

        Copies of one text tie; they come back in utterance id order.

        ``rep``/``team``: external ids; ``outcome``: won/lost/open (the deal's status);
        ``stage``: the call's stage key; dates bound the call's start (inclusive);
        ``language``: the utterance language (en, zh, mixed); the query is then embedded in that
        language's space only; ``channel``: call, chat, email or voice_note. Without ``language``, the query is searched in the space of its own language
        and in the shared multilingual space, and the rankings are fused (module doc).
        """
        if not text or not text.strip():
            raise ValueError("search text is empty")
        _check_choice("role", role, ROLES)
        _check_choice("outcome", outcome, OUTCOMES)
        _check_choice("channel", channel, TEXT_CHANNELS)
        filters = dict(channel=channel, role=role, rep=rep, team=team, outcome=outcome, stage=stage, date_from=date_from,
                       date_to=date_to, language=language)
        allowed = self.allowed_ids(**filters) if any(v is not None for v in filters.values()) else None
        wanted = ((self.embedders.space_for(language),) if language
                  else dict.fromkeys((self.embedders.space_for(detect_language(text)), SHARED)))
        spaces = [space for space in wanted if self.space_index(space) is not None]
        queries = {space: self.embedders.space(space).encode([text.strip()]) for space in spaces}
        return self._hits(fuse_rankings([self._search_space(space, query, k, allowed)
                                         for space, query in queries.items()], k))

    def _search_space(self, space: str, query: np.ndarray, k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """The ``k`` best ``(utterance id, cosine)`` of one space for an embedded query."""
        index = self.space_index(space)
        groups = self._groups[space]
        # k groups hold at least k (allowed) utterances, so the top k utterances lie in them
        scores, found = index.search(query, k, allowed_ids=None if allowed is None else groups.groups_of(allowed))
        return groups.expand(found[0], scores[0], k, allowed)

    def allowed_ids(self, *, channel=None, role=None, rep=None, team=None, outcome=None, stage=None, date_from=None,
                    date_to=None, language=None) -> np.ndarray:
        """Ids of the utterances that pass the filters: one SQL query per table (utterances → calls →
        deals/reps/teams; chat utterances → conversations → ...)."""
        filters = dict(role=role, rep=rep, team=team, outcome=outcome, stage=stage, date_from=date_from,
                       date_to=date_to, language=language)
        with self.catalog.session() as session:
            chats = (allowed_chat_ids(session, channel=channel, **filters) if channel != "call"
                     else np.empty(0, dtype=np.int64))
        calls = self._allowed_call_ids(**filters) if channel in (None, "call") else np.empty(0, dtype=np.int64)
        return np.concatenate([calls, chats])

    def _allowed_call_ids(self, *, role, rep, team, outcome, stage, date_from, date_to, language) -> np.ndarray:
        query = select(Utterance.id).join(Call, Utterance.call_id == Call.id)
        if outcome is not None:
            query = query.join(Deal, Call.deal_id == Deal.id).where(Deal.status == outcome)
        if rep is not None or team is not None:
            call_rep = aliased(Rep)
            query = query.join(call_rep, Call.rep_id == call_rep.id)
            if rep is not None:
                query = query.where(call_rep.external_id == rep)
            if team is not None:
                query = query.join(Team, call_rep.team_id == Team.id).where(Team.external_id == team)
        query = _where_call(query, role=role, stage=stage, date_from=date_from, date_to=date_to, language=language)
        with self.catalog.session() as session:
            return np.fromiter(session.scalars(query), dtype=np.int64)

    def _hits(self, found: list[tuple[int, float]]) -> list[SearchHit]:
        if not found:
            return []
        call_rep = aliased(Rep)
        query = (select(Utterance, Call.external_id, Deal.external_id, call_rep.external_id, Deal.status)
                 .join(Call, Utterance.call_id == Call.id)
                 .outerjoin(Deal, Call.deal_id == Deal.id)
                 .outerjoin(call_rep, Call.rep_id == call_rep.id)
                 .where(Utterance.id.in_([uid for uid, _ in found])))
        with self.catalog.session() as session:
            rows = {u.id: (u, call, deal, rep, status) for u, call, deal, rep, status in session.execute(query)}
            chats = chat_hit_rows(session, [uid for uid, _ in found])
        hits = []
        for uid, score in found:
            if uid in chats:
                hits.append(SearchHit(**chats[uid], similarity=round(score, 4)))
                continue
            if uid not in rows:  # deleted from the catalog since the last build
                continue
            u, call, deal, rep, status = rows[uid]
            hits.append(SearchHit(utterance_id=uid, seq=u.seq, call_id=call, deal_id=deal, rep_id=rep,
                                  start_s=u.start_s, end_s=u.end_s, speaker=u.speaker_label, role=u.role,
                                  text=u.text, language=u.language, similarity=round(score, 4), outcome=status))
        return hits


def spaces_for_language(embedders: EmbedderSet, language: str | None) -> tuple[str, ...]:
    """The spaces an utterance of ``language`` is indexed in: its own, and the shared one when that differs
    and holds the other languages (``auto`` embedders)."""
    own = embedders.space_for(language)
    return (own, SHARED) if own != SHARED and embedders.space_for("zh") == SHARED else (own,)


def fuse_rankings(rankings: list[list[tuple[int, float]]], k: int) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion of ``(id, cosine)`` rankings: the ``k`` best ids with the cosine of the first
    ranking that holds them. Equal cosines share a rank, so copies of one text stay tied (by id).

    >>> fuse_rankings([[(7, 0.9), (8, 0.5)], [(9, 0.8), (8, 0.7)]], 3)
    [(8, 0.5), (7, 0.9), (9, 0.8)]
    """
    fused: dict[int, float] = {}
    similarity: dict[int, float] = {}
    for ranking in rankings:
        rank, last = 0, None
        for uid, score in ranking:
            if score != last:
                rank, last = rank + 1, score
            fused[uid] = fused.get(uid, 0.0) + 1.0 / (RRF_K + rank)
            similarity.setdefault(uid, score)
    best = sorted(fused, key=lambda uid: (-fused[uid], uid))[:k]
    return [(uid, similarity[uid]) for uid in best]


def _where_call(query, *, role, stage, date_from, date_to, language):
    if role is not None:
        query = query.where(Utterance.role == role)
    if language is not None:
        query = query.where(Utterance.language == language)
    if stage is not None:
        query = query.where(Call.stage == stage)
    if date_from is not None:
        query = query.where(Call.started_at >= datetime.combine(date_from, dtime.min))
    if date_to is not None:
        query = query.where(Call.started_at <= datetime.combine(date_to, dtime.max))
    return query


def _check_choice(name: str, value: str | None, accepted: tuple[str, ...]) -> None:
    if value is not None and value not in accepted:
        raise ValueError(f"{name} {value!r} is not one of: {', '.join(accepted)}")
