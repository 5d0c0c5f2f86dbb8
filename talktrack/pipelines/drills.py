"""Virtual-customer drills: the drill bank built once from the catalog, and the drill lifecycle.

A drill is a practice conversation of one rep with a virtual customer of a scenario
(objection type, persona, language). :func:`build_bank` reads the corpus once:

1. objection episodes (customer objection -> rep answer moves, via the mining episode
   reader) and how the customer replied next (:class:`ReplyReader`), the examples the
   :class:`CustomerPolicy` learns from;
2. real customer lines to draw from: objections per (type, language), concede and push-back
   replies per language;
3. reference answers per (type, language): top sellers' real answers that follow the best
   approved track of the type (else the best mined track, else all their answers), embedded
   in the language's space, with call, times and deal outcome.

:class:`DrillEngine` then runs drills against it (start, turn, end, list, get) and stores
them in the ``drills``/``drill_turns`` tables. A turn embeds one answer, detects its moves,
scores it and draws the customer's reaction: tens of milliseconds once the bank is built.

Example::

    engine = DrillEngine(catalog, settings, workspace, load_drill_settings())
    drill = engine.start("price", "skeptical", "en", rep="REP-001", team="TEAM-01", actor="rep-key")
    turn = engine.turn(drill["drill_id"], "I understand. When do you need it running?")
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal, Drill, DrillTurn, Moment, Rep, TalkTrack, Utterance
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.models.drills import (
    REACTIONS,
    AnswerScorer,
    CustomerPolicy,
    Persona,
    PersonaFitter,
    ReactionExample,
    Reference,
    ReplyReader,
    ScoreWeights,
    make_generator,
)
from talktrack.models.embedding import EmbedderSet
from talktrack.models.threads import torch_threads
from talktrack.pipelines.mining.episodes import DealRecord, Episode, Line, find_episodes
from talktrack.pipelines.mining.mine import top_sellers
from talktrack.pipelines.mining.patterns import is_subsequence

DRILL_STATUSES = ("active", "ended")
APPROVED_STATUSES = ("approved", "edited")
MAX_AUDIO_S = 120.0


# -- settings ----------------------------------------------------------------------------------
class PolicySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    regularization_c: float = Field(1.0, gt=0.0)
    min_episodes_per_type: int = Field(20, ge=1)
    prior_strength: float = Field(3.0, ge=0.0)
    reader_margin: float = Field(0.02, ge=-1.0, le=1.0)
    max_reply_lookahead: int = Field(3, ge=1, le=10)


class GeneratorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["none", "transformers"] = "none"
    model_path: str | None = None
    max_new_tokens: int = Field(48, ge=1, le=512)


class DrillSettings(BaseModel):
    """``configs/drills.yaml``: languages, scoring weights, policy knobs, generator, reply examples, personas."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    languages: tuple[str, ...] = ("en", "zh")
    scoring: ScoreWeights = ScoreWeights()
    policy: PolicySettings = PolicySettings()
    generator: GeneratorSettings = GeneratorSettings()
    replies: dict[Literal["concede", "push_back", "neither"], dict[str, list[str]]]
    personas: dict[str, Persona]


def drill_config_path(workspace: Workspace) -> Path | None:
    """``<workspace>/drills.yaml`` when a deployment has one (e.g. to plug in a generator), else None."""
    path = workspace.root / "drills.yaml"
    return path if path.is_file() else None


def load_drill_settings(path: Path | str | None = None) -> DrillSettings:
    """The drill settings of ``path`` (default: the bundled ``configs/drills.yaml``), validated."""
    path = Path(path) if path else Path(str(resources.files("talktrack.configs") / "drills.yaml"))
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key, persona in (data.get("personas") or {}).items():
        persona.setdefault("key", key)
    try:
        return DrillSettings.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"drill settings {path}: {exc}") from None


# -- errors the routes map to HTTP ----------------------------------------------------------------
class DrillError(ValueError):
    """A drill request that cannot be done as asked (unknown scenario value, empty answer)."""


class DrillNotFound(LookupError):
    """No drill with that id."""


class DrillEnded(RuntimeError):
    """The drill has ended: it takes no more turns."""


class DrillNotReady(RuntimeError):
    """The corpus has nothing to drill on yet (no objections with answers, or none in a scenario)."""


# -- the bank -----------------------------------------------------------------------------------
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


@dataclass
class Corpus:
    """Calls with detected moments, read once: the episodes with the reactions that followed."""

    deals: dict[str, DealRecord]
    episodes: list[Episode]
    reactions: list[ReactionExample | None]  # per episode; None when the reply could not be read
    replies: list[tuple[str, Line, str]]  # (concede | push_back, the reply, call id) that decided a reaction


def read_corpus(catalog: Catalog, reader: ReplyReader, lookahead: int) -> Corpus:
    """Episodes of every call with moments, and each episode's customer reaction."""
    with catalog.session() as session:
        calls = session.execute(
            select(Call.id, Call.external_id, Call.language, Call.audio_path, Deal.external_id, Deal.status,
                   Deal.amount, Deal.created_at, Deal.closed_at, Rep.external_id)
            .join(Deal, Deal.id == Call.deal_id).join(Rep, Rep.id == Deal.rep_id)
            .where(Call.moments_model.is_not(None))
        ).all()
        lines = _lines_by_call(session, [c[0] for c in calls])
        moments = _moments_by_utterance(session, [c[0] for c in calls])
    deals: dict[str, DealRecord] = {}
    episodes, after = [], []
    for pk, call_id, language, audio, deal_id, status, amount, created, closed, rep_id in calls:
        deals.setdefault(deal_id, DealRecord(deal_id, rep_id, status, float(amount or 0.0), created, closed))
        found = find_episodes(lines.get(pk, []), moments, call_id=call_id, deal_id=deal_id, rep_id=rep_id,
                              language=language, audio_path=audio)
        episodes += found
        after += [_replies_after(e, lines.get(pk, []), lookahead) for e in found]
    labels = _read_replies(reader, [line for replies in after for line in replies])
    reactions, replies = [], []
    for episode, candidates in zip(episodes, after, strict=True):
        reaction, decided_by = _reaction(episode, candidates, moments, labels)
        reactions.append(reaction)
        if decided_by is not None:
            replies.append((reaction.reaction, decided_by, episode.call_id))
    return Corpus(deals, episodes, reactions, replies)


def _lines_by_call(session, call_ids: list[int]) -> dict[int, list[Line]]:
    out: dict[int, list[Line]] = defaultdict(list)
    for begin in range(0, len(call_ids), 900):
        rows = session.execute(
            select(Utterance.call_id, Utterance.id, Utterance.seq, Utterance.role, Utterance.start_s,
                   Utterance.end_s, Utterance.text, Utterance.language)
            .where(Utterance.call_id.in_(call_ids[begin : begin + 900])).order_by(Utterance.call_id, Utterance.seq)
        ).all()
        for call_id, *rest in rows:
            out[call_id].append(Line(*rest))
    return out


def _moments_by_utterance(session, call_ids: list[int]) -> dict[int, list[tuple[int, str, str, float]]]:
    """utterance id -> [(sentence, kind, label, score)] in sentence order (the episode reader's input)."""
    out: dict[int, list] = defaultdict(list)
    for begin in range(0, len(call_ids), 900):
        rows = session.execute(
            select(Moment.utterance_id, Moment.sentence, Moment.kind, Moment.label, Moment.score)
            .where(Moment.call_id.in_(call_ids[begin : begin + 900]), Moment.kind.in_(("objection", "move")))
        ).all()
        for utterance_id, *rest in rows:
            out[utterance_id].append(tuple(rest))
    for items in out.values():
        items.sort()
    return out


def _replies_after(episode: Episode, lines: list[Line], lookahead: int) -> list[Line]:
    """The first ``lookahead`` customer utterances after the answer began (none without an answer)."""
    if not episode.answer:
        return []
    first = episode.answer[0].seq
    return [line for line in lines if line.seq > first and line.role == "customer"][:lookahead]


def _read_replies(reader: ReplyReader, lines: list[Line]) -> dict[int, str]:
    """utterance id -> concede / push_back / neither (one batch)."""
    unique = list({line.utterance_id: line for line in lines}.values())
    labels = reader.predict([line.text for line in unique])
    return {line.utterance_id: label for line, label in zip(unique, labels, strict=True)}


def _objection_of(line: Line, moments: dict) -> str | None:
    found = [(score, label) for _, kind, label, score in moments.get(line.utterance_id, ()) if kind == "objection"]
    return max(found)[1] if found else None


def _reaction(episode: Episode, candidates: list[Line], moments: dict,
              labels: dict[int, str]) -> tuple[ReactionExample | None, Line | None]:
    """How the customer took the answer, and the reply that said so when it was read (not an objection).

    The first reply that raises an objection (same type: push back; another: new objection) or
    reads as concede/push back decides; listener tokens ("mm-hm") are skipped; (None, None) when
    no reply in the lookahead says."""
    for line in candidates:
        objection = _objection_of(line, moments)
        if objection is not None:
            same = objection == episode.objection_type
            return ReactionExample(episode.objection_type, episode.moves, "push_back" if same else "new_objection",
                                   None if same else objection), None
        reply = labels.get(line.utterance_id, "neither")
        if reply != "neither":
            return ReactionExample(episode.objection_type, episode.moves, reply), line
    return None, None


def tracks_stamp(catalog: Catalog) -> tuple:
    """Changes when a track is mined or reviewed: the bank's references are rebuilt then."""
    with catalog.session() as session:
        return tuple(session.execute(
            select(func.count(TalkTrack.id), func.max(TalkTrack.mined_at), func.max(TalkTrack.reviewed_at))
        ).one())


def read_tracks(catalog: Catalog) -> list[dict]:
    with catalog.session() as session:
        rows = session.scalars(select(TalkTrack).where(TalkTrack.active.is_(True))).all()
        return [{"key": t.key, "objection_type": t.objection_type, "moves": list(t.moves), "status": t.status,
                 "script": t.script, "lift": float((t.stats or {}).get("lift") or 0.0)} for t in rows]


def best_track(tracks: list[dict], objection_type: str) -> tuple[dict | None, str]:
    """The reference track of a type and its source: the approved/edited one with the largest lift,
    else the mined (not rejected) one with the largest lift, else none."""
    of_type = [t for t in tracks if t["objection_type"] == objection_type]
    approved = [t for t in of_type if t["status"] in APPROVED_STATUSES]
    if approved:
        return max(approved, key=lambda t: (t["lift"], t["key"])), "approved"
    mined = [t for t in of_type if t["status"] != "rejected"]
    if mined:
        return max(mined, key=lambda t: (t["lift"], t["key"])), "mined"
    return None, "top_sellers"


class BankBuilder:
    """Builds a :class:`DrillBank`; holds the embedders so a rebuild (tracks reviewed) reuses them."""

    def __init__(self, settings: Settings, workspace: Workspace, drill_settings: DrillSettings) -> None:
        self.settings = settings
        self.workspace = workspace
        self.drill_settings = drill_settings
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
        ds = self.drill_settings
        examples = {label: [text for texts in by_language.values() for text in texts]
                    for label, by_language in ds.replies.items()}
        return ReplyReader(self.multilingual, margin=ds.policy.reader_margin).fit(examples)

    def build(self, catalog: Catalog, tracks: list[dict] | None = None) -> DrillBank:
        """Read the corpus, learn the policy, gather lines and references. ``tracks``: default the catalog's."""
        started = time.perf_counter()
        ds = self.drill_settings
        stamp = tracks_stamp(catalog)
        corpus = read_corpus(catalog, self.reader(), ds.policy.max_reply_lookahead)
        examples = [r for r in corpus.reactions if r is not None]
        if not examples:
            raise DrillNotReady("no objection in the catalog has a rep answer and a customer reply yet: import or "
                                "ingest calls and run `talktrack moments detect` first")
        policy = CustomerPolicy(self.settings.objection_keys, self.settings.move_keys, C=ds.policy.regularization_c,
                                min_episodes=ds.policy.min_episodes_per_type,
                                prior_strength=ds.policy.prior_strength).fit(examples)
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
        return {key: self._pool(items) for key, items in grouped.items() if key[1] in self.drill_settings.languages}

    def _reply_pools(self, corpus: Corpus) -> dict[tuple[str, str], LinePool]:
        """Concede and push-back lines: the real replies that decided an episode's reaction."""
        grouped: dict[tuple[str, str], list] = defaultdict(list)
        for label, line, call_id in corpus.replies:
            grouped[(label, line.language)].append((line.text, {"call_id": call_id, "start_s": line.start_s,
                                                                "end_s": line.end_s}))
        return {key: self._pool(items) for key, items in grouped.items() if key[1] in self.drill_settings.languages}

    def _references(self, corpus: Corpus, top: set[str], tracks: list[dict]) -> dict[tuple[str, str], Reference]:
        out = {}
        for objection_type in self.settings.objection_keys:
            track, source = best_track(tracks, objection_type)
            for language in self.drill_settings.languages:
                answers = [e for e in corpus.episodes if e.objection_type == objection_type and e.language == language
                           and e.rep_id in top and e.answer]
                out[(objection_type, language)] = self._reference(answers, corpus.deals, track, source, language)
        return out

    def _reference(self, answers: list[Episode], deals: dict[str, DealRecord], track: dict | None,
                   source: str, language: str) -> Reference:
        note = {"approved": "compared with top-seller answers that follow the approved track",
                "mined": "no track of this objection type is approved yet: compared with top-seller answers that "
                         "follow the best mined track",
                "top_sellers": "no talk track of this objection type has been mined yet: compared with all "
                               "top-seller answers"}[source]
        spare: list[Episode] = []
        if track is not None:
            following = [e for e in answers if is_subsequence(tuple(track["moves"]), e.moves)]
            if following:
                kept = {id(e) for e in following}
                answers, spare = following, [e for e in answers if id(e) not in kept]
            else:
                note += " (no top-seller answer in this language follows it yet: all their answers are used)"
        items, vectors = self._answers(answers, deals, language)
        spare_items, spare_vectors = self._answers(spare, deals, language, follows_track=False)
        return Reference(vectors, source, track["key"] if track else None,
                         tuple(track["moves"]) if track else (), note, items, spare_vectors, spare_items)

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


# -- drills -------------------------------------------------------------------------------------
def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class DrillEngine:
    """Runs drills over a bank built on first use (and rebuilt when talk tracks are mined or reviewed)."""

    def __init__(self, catalog: Catalog, settings: Settings, workspace: Workspace,
                 drill_settings: DrillSettings) -> None:
        self.catalog = catalog
        self.settings = settings
        self.drill_settings = drill_settings
        self.builder = BankBuilder(settings, workspace, drill_settings)
        self.scorer = AnswerScorer(drill_settings.scoring)
        gen = drill_settings.generator
        self.generator = make_generator(gen.kind, gen.model_path, max_new_tokens=gen.max_new_tokens)
        self._bank: DrillBank | None = None
        self._detector = None
        self._detector_stamp: float | None = None
        self._transcriber = None
        self._warm = False
        self._lock = threading.Lock()

    @cached_property
    def fitter(self) -> PersonaFitter:
        return PersonaFitter(self.builder.multilingual)

    # -- lazily loaded parts ------------------------------------------------------------------
    def bank(self, *, refresh: bool = False) -> DrillBank:
        """The bank; with ``refresh``, rebuilt first if talk tracks changed since it was built."""
        with self._lock:
            if self._bank is None or (refresh and tracks_stamp(self.catalog) != self._bank.tracks_stamp):
                self._bank = self.builder.build(self.catalog)
            return self._bank

    def detector(self):
        """The moment detector, reloaded when ``talktrack moments train`` has saved a new one."""
        from talktrack.pipelines.semantic.moments import detector_stamp, load_detector

        stamp = detector_stamp(self.builder.workspace)
        with self._lock:
            if self._detector is None or stamp != self._detector_stamp:
                detector = load_detector(self.settings, self.builder.workspace)
                # a rep's answer is new text: encode it without the vector cache's disk write per turn
                detector.embedder = getattr(detector.embedder, "inner", detector.embedder)
                self._detector, self._detector_stamp = detector, stamp
            return self._detector

    def warm_up(self) -> dict:
        """Build the bank and load the models now (so the first turn is as quick as the others)."""
        bank = self.bank()
        if not self._warm:
            self.detector()
            for language in self.drill_settings.languages:  # past the vector cache: loads the weights
                self.builder.answer_space(language).inner.encode(["warm up"])
            self._warm = True
        return bank.stats

    # -- scenario ----------------------------------------------------------------------------
    def check_scenario(self, objection_type: str, persona: str, language: str) -> None:
        problems = []
        for name, value, allowed in (("objection_type", objection_type, self.settings.objection_keys),
                                     ("persona", persona, tuple(self.drill_settings.personas)),
                                     ("language", language, self.drill_settings.languages)):
            if value not in allowed:
                problems.append(f"{name} {value!r}: expected one of {', '.join(allowed)}")
        if problems:
            raise DrillError("; ".join(problems))

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, objection_type: str, persona: str, language: str, *, rep: str, team: str | None,
              actor: str) -> dict:
        """A new drill and the customer's opening line (a real objection of the type, fitted to the persona)."""
        self.check_scenario(objection_type, persona, language)
        bank = self.bank(refresh=True)
        pool = bank.objections.get((objection_type, language))
        if pool is None or not pool.texts:
            raise DrillNotReady(f"no real customer raised a {objection_type!r} objection in {language!r} in the "
                                "catalog yet: pick another scenario")
        drill_id = secrets.token_hex(8)
        seed = int.from_bytes(hashlib.sha256(drill_id.encode()).digest()[:4], "big")
        rng = np.random.default_rng([seed, 0])
        people = self.drill_settings.personas[persona]
        index = self.fitter.choose(people, language, pool.texts, pool.vectors, rng)
        opening = self._line(people, language, pool, index, lead_in=True) | {"objection_type": objection_type}
        state = {"seed": seed, "current_type": objection_type, "used": [pool.texts[index]],
                 "raised": [objection_type]}
        row = Drill(external_id=drill_id, rep_external_id=rep, team_external_id=team, objection_type=objection_type,
                    persona=persona, language=language, status="active", opening=opening, state=state,
                    created_by=actor, created_at=utcnow())
        with self.catalog.session() as session:
            session.add(row)
            session.flush()
            return drill_dict(row)

    def _line(self, persona: Persona, language: str, pool: LinePool, index: int, *, lead_in: bool = False) -> dict:
        original = pool.texts[index]
        text = self.generator.rephrase(original, persona, language)
        lead = persona.lead_in.get(language) if lead_in else None
        if lead:
            text = f"{lead}{'' if language == 'zh' else ' '}{text}"
        return {"text": text, "original": original, "source": pool.sources[index], "generator": self.generator.name}

    def owner(self, drill_id: str) -> dict:
        """Who a drill belongs to (rep, team) and its status, for the caller's scope check."""
        with self.catalog.session() as session:
            row = _drill(session, drill_id)
            return {"rep": row.rep_external_id, "team": row.team_external_id, "status": row.status}

    def turn(self, drill_id: str, text: str, *, source: str = "text") -> dict:
        """Score one rep answer, show the 3 closest real top-seller answers, draw the customer's reaction."""
        started = time.perf_counter()
        text = (text or "").strip()
        if not text:
            raise DrillError("the answer is empty: say or type what you would answer the customer")
        with self.catalog.session() as session:
            row = _drill(session, drill_id)
            if row.status != "active":
                raise DrillEnded(f"drill {drill_id} has ended: start a new drill to keep practising")
            state = dict(row.state or {})
            seq = len(row.turns) + 1
            scenario = (row.persona, row.language)
        objection_type = state["current_type"]
        with torch_threads(1):
            scored = self.score_answer(objection_type, scenario[1], text)
            reaction, probs, line, next_type = self._customer_reply(state, objection_type, seq, *scenario,
                                                                    scored["moves"])
        result = {
            "seq": seq, "rep_text": text, "input": source, "objection_type": objection_type,
            "score": scored["score"], "breakdown": scored["breakdown"] | {"reaction_probabilities": probs},
            "answers": scored["answers"], "reaction": reaction, "customer_line": line,
        }
        state.update(current_type=next_type, used=state["used"] + [line["original"]],
                     raised=state["raised"] + ([next_type] if next_type != objection_type else []))
        try:
            with self.catalog.session() as session:
                row = _drill(session, drill_id)
                if row.status != "active" or len(row.turns) + 1 != seq:
                    raise DrillEnded(f"drill {drill_id} changed while this answer was scored (ended, or another "
                                     "answer was recorded first): reload it and answer its latest line")
                row.turns.append(DrillTurn(seq=seq, rep_text=text, score=result["score"],
                                           breakdown=result["breakdown"], answers=result["answers"],
                                           reaction=reaction, customer_line=line, created_at=utcnow()))
                row.state = state
        except IntegrityError:  # a concurrent answer took this seq between the check and the commit
            raise DrillEnded(f"drill {drill_id}: another answer was recorded at the same time; reload it") from None
        result["elapsed_ms"] = round(1000 * (time.perf_counter() - started), 1)
        return result

    def score_answer(self, objection_type: str, language: str, text: str) -> dict:
        """Moves detected in the answer, its 0-100 score and breakdown, the closest reference answers."""
        detected = self.detector().detect([text], roles=["rep"])[0]
        moves = tuple(m.label for m in detected if m.kind == "move")
        reference = self.bank().references[(objection_type, language)]
        vector = self.builder.answer_space(language).inner.encode([text])[0]  # new text: skip the cache
        scored = self.scorer.score(vector, moves, reference)
        answers = shown_answers(reference, vector, scored["order"])
        return {"score": scored["score"], "breakdown": scored["breakdown"], "answers": answers, "moves": moves}

    def _customer_reply(self, state: dict, objection_type: str, seq: int, persona: str, language: str,
                        moves: tuple[str, ...]) -> tuple[str, dict, dict, str]:
        """(reaction, its probabilities, the customer's line, the objection type that is open next).

        concede: a real conceding reply, then (the customer is not done yet) a new objection of the
        type real customers raise next; push back: a real push-back reply on the same objection;
        new objection: a real objection of the next type."""
        bank = self.bank()
        rng = np.random.default_rng([state["seed"], seq])
        reaction, probs = bank.policy.sample(objection_type, moves, rng)
        people = self.drill_settings.personas[persona]
        used = set(state["used"])
        parts, next_type = [], objection_type
        if reaction in ("concede", "push_back"):
            pool = bank.replies.get((reaction, language))
            if pool is not None and pool.texts:
                parts.append(self._pick(people, language, pool, rng, used))
        if reaction in ("concede", "new_objection"):
            next_type = self._next_type(bank, objection_type, language, rng)
            parts.append(self._pick(people, language, bank.objections[(next_type, language)], rng, used)
                         | {"objection_type": next_type})
        if not parts:  # no real push-back reply in this language: the customer repeats the objection
            parts.append(self._pick(people, language, bank.objections[(objection_type, language)], rng, used))
        joiner = "" if language == "zh" else " "
        line = {"text": joiner.join(p["text"] for p in parts), "original": joiner.join(p["original"] for p in parts),
                "parts": parts, "objection_type": next_type}
        return reaction, {k: round(v, 4) for k, v in probs.items()}, line, next_type

    def _pick(self, persona: Persona, language: str, pool: LinePool, rng, used: set[str]) -> dict:
        exclude = {i for i, text in enumerate(pool.texts) if text in used}
        return self._line(persona, language, pool, self.fitter.choose(persona, language, pool.texts, pool.vectors,
                                                                       rng, exclude))

    def _next_type(self, bank: DrillBank, objection_type: str, language: str, rng) -> str:
        """A type drawn from what real customers raised after this one, among those with lines in the language."""
        probs = {t: p for t, p in bank.policy.next_objection_proba(objection_type).items()
                 if bank.objections.get((t, language)) and bank.objections[(t, language)].texts}
        if not probs:
            return objection_type
        types = sorted(probs)
        weights = np.array([probs[t] for t in types])
        return types[int(rng.choice(len(types), p=weights / weights.sum()))]

    def end(self, drill_id: str) -> dict:
        """End the drill (idempotent) and store its summary for the rep and their manager."""
        with self.catalog.session() as session:
            row = _drill(session, drill_id)
            if row.status != "ended":
                row.summary = summarise(row)
                row.status, row.ended_at = "ended", utcnow()
            session.flush()
            return drill_dict(row, with_turns=True)

    def get(self, drill_id: str) -> dict:
        with self.catalog.session() as session:
            return drill_dict(_drill(session, drill_id), with_turns=True)

    def list(self, *, rep: str | None = None, team: str | None = None, status: str | None = None,
             limit: int = 50) -> list[dict]:
        with self.catalog.session() as session:
            query = select(Drill).order_by(Drill.created_at.desc(), Drill.id.desc()).limit(limit)
            if rep:
                query = query.where(Drill.rep_external_id == rep)
            if team:
                query = query.where(Drill.team_external_id == team)
            if status:
                query = query.where(Drill.status == status)
            return [drill_dict(row) for row in session.scalars(query)]

    # -- audio -------------------------------------------------------------------------------
    def transcribe(self, data: bytes, name: str) -> str:
        """The text of a spoken answer (raises ``talktrack.models.audio.AudioError`` for unusable audio)."""
        from talktrack.models.audio import decode_bytes
        from talktrack.models.transcription import Transcriber

        audio = decode_bytes(data, name=name, max_duration_s=MAX_AUDIO_S)
        with self._lock:
            if self._transcriber is None:
                self._transcriber = Transcriber(self.settings.models.transcriber)
        return self._transcriber.transcribe(audio.mono).text.strip()




def _drill(session, drill_id: str) -> Drill:
    row = session.scalars(select(Drill).where(Drill.external_id == drill_id)).first()
    if row is None:
        raise DrillNotFound(f"drill {drill_id!r}: not found (list yours with GET /v1/drills)")
    return row


def summarise(row: Drill) -> dict:
    """What the rep and their manager see: scores, moves missed most, how the customer reacted."""
    turns = list(row.turns)
    scores = [t.score for t in turns]
    missing = Counter(m for t in turns for m in (t.breakdown or {}).get("moves_missing", []))
    covered = Counter(m for t in turns for m in (t.breakdown or {}).get("moves_covered", []))
    reactions = Counter(t.reaction for t in turns)
    return {
        "turns": len(turns),
        "mean_score": round(float(np.mean(scores)), 1) if scores else None,
        "best_score": max(scores) if scores else None,
        "scores": scores,
        "reactions": {r: reactions.get(r, 0) for r in REACTIONS},
        "objections_raised": list((row.state or {}).get("raised", [row.objection_type])),
        "moves_covered": dict(covered),
        "moves_missing_most": [m for m, _ in missing.most_common(3)],
        "advice": advice(missing, scores),
    }


def advice(missing: Counter, scores: list[float]) -> str:
    if not scores:
        return "No answer was given: start a drill and answer the customer at least once."
    if missing:
        moves = ", ".join(m.replace("_", " ") for m, _ in missing.most_common(2))
        return f"Top sellers' answers to this objection also {moves}: try working that into your answer."
    return "Your answers made every move of the reference track; compare your wording with the closest answers."


def drill_dict(row: Drill, *, with_turns: bool = False) -> dict:
    data = {
        "drill_id": row.external_id, "rep_id": row.rep_external_id, "team_id": row.team_external_id,
        "objection_type": row.objection_type, "persona": row.persona, "language": row.language,
        "status": row.status, "opening": row.opening, "summary": row.summary, "created_by": row.created_by,
        "created_at": _iso(row.created_at), "ended_at": _iso(row.ended_at),
    }
    if with_turns:
        data["turns"] = [{"seq": t.seq, "rep_text": t.rep_text, "score": t.score, "breakdown": t.breakdown,
                          "answers": t.answers, "reaction": t.reaction, "customer_line": t.customer_line,
                          "created_at": _iso(t.created_at)} for t in row.turns]
    return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
