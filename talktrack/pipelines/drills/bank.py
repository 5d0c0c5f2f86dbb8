"""The drill bank: built once from the corpus, the inputs every drill turn draws on.

:class:`BankBuilder` learns the :class:`~talktrack.models.drills.CustomerPolicy` from the corpus's
reactions, gathers real customer lines to draw from (objections per (type, language), concede
and push-back replies per language) and, per (type, language), the reference answers: top
sellers' real answers that follow any approved track of the type (else any mined track, else
all their answers), embedded in the language's space. Every track counts, not only the best:
top sellers answer one objection in several good ways (issue 16).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from talktrack.core.catalog import Catalog
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.models.drills import CustomerPolicy, Reference, ReplyReader
from talktrack.models.embedding import EmbedderSet
from talktrack.pipelines.drills.book import DrillBook
from talktrack.pipelines.drills.corpus import Corpus, read_corpus, read_tracks, tracks_stamp
from talktrack.pipelines.drills.errors import DrillNotReady
from talktrack.pipelines.mining.episodes import DealRecord, Episode
from talktrack.pipelines.mining.mine import top_sellers
from talktrack.pipelines.mining.patterns import is_subsequence

APPROVED_STATUSES = ("approved", "edited")


@dataclass
class LinePool:
    """Real utterances to draw customer lines from; ``vectors`` in the multilingual space."""

    texts: list[str] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    vectors: np.ndarray | None = None


@dataclass
class DrillBank:
    policy: CustomerPolicy
    objections: dict[tuple[str, str], LinePool]
    replies: dict[tuple[str, str], LinePool]
    references: dict[tuple[str, str], Reference]
    top_sellers: list[str]
    tracks_stamp: tuple
    stats: dict


def type_tracks(tracks: list[dict], objection_type: str) -> tuple[list[dict], str]:
    """The reference tracks of a type, largest lift first, and their source: the approved/edited
    ones, else the mined (not rejected) ones, else none (``top_sellers``)."""
    of_type = [t for t in tracks if t["objection_type"] == objection_type]
    approved = [t for t in of_type if t["status"] in APPROVED_STATUSES]
    chosen, source = (approved, "approved") if approved else \
        ([t for t in of_type if t["status"] != "rejected"], "mined")
    if not chosen:
        return [], "top_sellers"
    return sorted(chosen, key=lambda t: (-t["lift"], t["key"])), source


def best_track(tracks: list[dict], objection_type: str) -> tuple[dict | None, str]:
    """The reference track of a type with the largest lift (see :func:`type_tracks`) and its source."""
    chosen, source = type_tracks(tracks, objection_type)
    return (chosen[0] if chosen else None), source


class BankBuilder:
    """Builds a :class:`DrillBank`; holds the embedders so a rebuild (tracks reviewed) reuses them."""

    def __init__(self, settings: Settings, workspace: Workspace, book: DrillBook) -> None:
        self.settings = settings
        self.workspace = workspace
        self.book = book
        self.embedders = EmbedderSet.from_settings(settings.models.embedder, cache_dir=workspace.models_dir)

    @property
    def multilingual(self):
        from talktrack.pipelines.semantic.moments import moment_embedder

        return moment_embedder(self.settings, self.workspace)

    def answer_space(self, language: str):
        """The embedder answers of ``language`` are compared in (the multilingual one is shared)."""
        if self.embedders.space_for(language) == "multilingual":
            return self.multilingual
        return self.embedders.for_language(language)

    def reader(self) -> ReplyReader:
        examples = {label: [text for texts in by_language.values() for text in texts]
                    for label, by_language in self.book.replies.items()}
        return ReplyReader(self.multilingual, margin=self.settings.drills.policy.reader_margin).fit(examples)

    def build(self, catalog: Catalog, tracks: list[dict] | None = None) -> DrillBank:
        """Read the corpus, learn the policy, gather lines and references. ``tracks``: default the catalog's."""
        started = time.perf_counter()
        knobs = self.settings.drills.policy
        stamp = tracks_stamp(catalog)
        corpus = read_corpus(catalog, self.reader(), knobs.max_reply_lookahead)
        examples = [r for r in corpus.reactions if r is not None]
        if not examples:
            raise DrillNotReady("no objection in the catalog has a rep answer and a customer reply yet: import or "
                                "ingest calls and run `talktrack moments detect` first")
        policy = CustomerPolicy(self.settings.objection_keys, self.settings.move_keys, C=knobs.regularization_c,
                                min_episodes=knobs.min_episodes_per_type,
                                prior_strength=knobs.prior_strength).fit(examples)
        top = sorted(top_sellers(corpus.deals.values(), self.settings.semantic.mining.top_sellers))
        tracks = read_tracks(catalog) if tracks is None else tracks
        bank = DrillBank(policy, self._objection_pools(corpus), self._reply_pools(corpus),
                         self._references(corpus, set(top), tracks), top, stamp, {})
        bank.stats = {"episodes": len(corpus.episodes), "episodes_with_reaction": len(examples),
                      "reactions": dict(Counter(e.reaction for e in examples)), "policy": policy.describe(),
                      "top_sellers": top, "build_s": round(time.perf_counter() - started, 3)}
        return bank

    def _pool(self, items: list[tuple[str, dict]]) -> LinePool:
        unique = list({text: (text, source) for text, source in items}.values())
        texts = [text for text, _ in unique]
        return LinePool(texts, [source for _, source in unique], self.multilingual.encode(texts))

    def _objection_pools(self, corpus: Corpus) -> dict[tuple[str, str], LinePool]:
        grouped: dict[tuple[str, str], list] = defaultdict(list)
        for episode in corpus.episodes:
            line = episode.objection
            grouped[(episode.objection_type, episode.language)].append(
                (line.text, {"call_id": episode.call_id, "start_s": line.start_s, "end_s": line.end_s}))
        return {key: self._pool(items) for key, items in grouped.items() if key[1] in self.settings.drills.languages}

    def _reply_pools(self, corpus: Corpus) -> dict[tuple[str, str], LinePool]:
        """Concede and push-back lines: the real replies that decided an episode's reaction."""
        grouped: dict[tuple[str, str], list] = defaultdict(list)
        for label, line, call_id in corpus.replies:
            grouped[(label, line.language)].append((line.text, {"call_id": call_id, "start_s": line.start_s,
                                                                "end_s": line.end_s}))
        return {key: self._pool(items) for key, items in grouped.items() if key[1] in self.settings.drills.languages}

    def _references(self, corpus: Corpus, top: set[str], tracks: list[dict]) -> dict[tuple[str, str], Reference]:
        out = {}
        for objection_type in self.settings.objection_keys:
            chosen, source = type_tracks(tracks, objection_type)
            for language in self.settings.drills.languages:
                answers = [e for e in corpus.episodes if e.objection_type == objection_type and e.language == language
                           and e.rep_id in top and e.answer]
                out[(objection_type, language)] = self._reference(answers, corpus.deals, chosen, source, language)
        return out

    def _reference(self, answers: list[Episode], deals: dict[str, DealRecord], tracks: list[dict],
                   source: str, language: str) -> Reference:
        note = {"approved": "compared with top-seller answers that follow the approved tracks",
                "mined": "no track of this objection type is approved yet: compared with top-seller answers that "
                         "follow the mined tracks",
                "top_sellers": "no talk track of this objection type has been mined yet: compared with all "
                               "top-seller answers"}[source]
        spare: list[Episode] = []
        if tracks:
            following = [e for e in answers if any(is_subsequence(tuple(t["moves"]), e.moves) for t in tracks)]
            if following:
                kept = {id(e) for e in following}
                answers, spare = following, [e for e in answers if id(e) not in kept]
            else:
                note += " (no top-seller answer in this language follows them yet: all their answers are used)"
        items, vectors = self._answers(answers, deals, language)
        spare_items, spare_vectors = self._answers(spare, deals, language, follows_track=False)
        best = tracks[0] if tracks else None
        return Reference(vectors, source, best["key"] if best else None, tuple(best["moves"]) if best else (), note,
                         items, spare_vectors, spare_items, tuple(tuple(t["moves"]) for t in tracks))

    def _answers(self, answers: list[Episode], deals: dict[str, DealRecord], language: str,
                 **extra) -> tuple[list[dict], np.ndarray]:
        items = [answer_item(e, deals[e.deal_id]) | extra for e in answers]
        vectors = self.answer_space(language).encode([item["text"] for item in items]) if items \
            else np.zeros((0, 1), dtype=np.float32)
        return items, vectors


def shown_answers(reference: Reference, vector: np.ndarray, order: Sequence[int], count: int = 3) -> list[dict]:
    """The real answers a turn shows: the closest reference answers (in the scorer's ``order``), then,
    when fewer than ``count`` follow the reference track, the closest other top-seller answers."""
    cosines = reference.vectors @ vector if len(reference.vectors) else np.zeros(0)
    shown = [reference.items[i] | {"similarity": round(float(cosines[i]), 4)} for i in order[:count]]
    if len(shown) < count and reference.spare_items:
        spare = reference.spare_vectors @ vector
        shown += [reference.spare_items[i] | {"similarity": round(float(spare[i]), 4)}
                  for i in np.argsort(-spare)[: count - len(shown)]]
    return shown


def answer_item(episode: Episode, deal: DealRecord) -> dict:
    """A real top-seller answer as a drill shows it: text, call, times, clip URL, deal outcome."""
    start, end = episode.answer[0].start_s, episode.answer[-1].end_s
    return {
        "text": episode.answer_text, "call_id": episode.call_id, "deal_id": episode.deal_id,
        "rep_id": episode.rep_id, "start_s": round(start, 3), "end_s": round(end, 3),
        "objection": episode.objection.text, "moves": list(episode.moves), "outcome": deal.status,
        "audio_clip_url": (f"/v1/calls/{episode.call_id}/audio?start={start:.2f}&end={end:.2f}"
                           if episode.audio_path else None),
    }
