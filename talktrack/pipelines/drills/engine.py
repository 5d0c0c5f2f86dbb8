"""The drill lifecycle: start, turn, end, list, get, over a bank built on first use.

A turn embeds one answer, detects its moves, reads what it does (strengths, failures), scores
it against the reference answers, says in the rep's language what was good and what to add, and
draws the customer's reaction from the policy: tens of milliseconds once the bank is built.
Drills are stored in the ``drills``/``drill_turns`` tables.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from functools import cached_property

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Drill, DrillTurn
from talktrack.core.clock import utcnow
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.models.drills import AnswerReader, AnswerScorer, Persona, PersonaFitter, feedback, make_generator
from talktrack.models.threads import torch_threads
from talktrack.pipelines.drills.bank import BankBuilder, DrillBank, LinePool, shown_answers
from talktrack.pipelines.drills.book import DrillBook
from talktrack.pipelines.drills.corpus import tracks_stamp
from talktrack.pipelines.drills.errors import DrillEnded, DrillError, DrillNotReady
from talktrack.pipelines.drills.records import drill_dict, find_drill, summarise

MAX_AUDIO_S = 120.0


class DrillEngine:
    """Runs drills over a bank built on first use (and rebuilt when talk tracks are mined or reviewed)."""

    def __init__(self, catalog: Catalog, settings: Settings, workspace: Workspace, book: DrillBook) -> None:
        self.catalog = catalog
        self.settings = settings
        self.book = book
        self.builder = BankBuilder(settings, workspace, book)
        self.scorer = AnswerScorer(settings.drills.scoring)
        self.generator = make_generator(settings.drills.generator)
        self._bank: DrillBank | None = None
        self._detector = None
        self._detector_stamp: float | None = None
        self._transcriber = None
        self._warm = False
        self._lock = threading.Lock()

    @cached_property
    def fitter(self) -> PersonaFitter:
        return PersonaFitter(self.builder.multilingual)

    @cached_property
    def reader(self) -> AnswerReader:
        """Reads an answer's strengths and failures (examples embedded once; answers skip the vector cache)."""
        scoring = self.settings.drills.scoring
        space = getattr(self.builder.multilingual, "inner", self.builder.multilingual)
        spans = {"strength": (scoring.strength_floor, scoring.strength_ceiling),
                 "failure": (scoring.failure_floor, scoring.failure_ceiling)}
        return AnswerReader(space, self.book.answer_qualities, spans=spans).fit()

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
            self.reader  # noqa: B018 (embeds the example phrasings now)
            for language in self.settings.drills.languages:  # past the vector cache: loads the weights
                self.builder.answer_space(language).inner.encode(["warm up"])
            self._warm = True
        return bank.stats

    # -- scenario ----------------------------------------------------------------------------
    def check_scenario(self, objection_type: str, persona: str, language: str) -> None:
        problems = []
        for name, value, allowed in (("objection_type", objection_type, self.settings.objection_keys),
                                     ("persona", persona, tuple(self.book.personas)),
                                     ("language", language, self.settings.drills.languages)):
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
        people = self.book.personas[persona]
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
            row = find_drill(session, drill_id)
            return {"rep": row.rep_external_id, "team": row.team_external_id, "status": row.status}

    def turn(self, drill_id: str, text: str, *, source: str = "text") -> dict:
        """Score one rep answer, show the 3 closest real top-seller answers, draw the customer's reaction."""
        started = time.perf_counter()
        text = (text or "").strip()
        if not text:
            raise DrillError("the answer is empty: say or type what you would answer the customer")
        with self.catalog.session() as session:
            row = find_drill(session, drill_id)
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
                row = find_drill(session, drill_id)
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
        """Moves detected in the answer, what it does, its 0-100 score, breakdown and feedback, the closest
        reference answers."""
        detected = self.detector().detect([text], roles=["rep"])[0]
        moves = tuple(m.label for m in detected if m.kind == "move")
        reference = self.bank().references[(objection_type, language)]
        vector = self.builder.answer_space(language).inner.encode([text])[0]  # new text: skip the cache
        found = self.reader.read(text, moves)
        scored = self.scorer.score(vector, moves, reference, found)
        scoring = self.settings.drills.scoring
        scored["breakdown"]["feedback"] = feedback(self.book.answer_qualities, found, scoring.strength_weights,
                                                   language)
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
        people = self.book.personas[persona]
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
            row = find_drill(session, drill_id)
            if row.status != "ended":
                row.summary = summarise(row)
                row.status, row.ended_at = "ended", utcnow()
            session.flush()
            return drill_dict(row, with_turns=True)

    def get(self, drill_id: str) -> dict:
        with self.catalog.session() as session:
            return drill_dict(find_drill(session, drill_id), with_turns=True)

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
        from talktrack.models.language_routing import LanguageRouter

        audio = decode_bytes(data, name=name, max_duration_s=MAX_AUDIO_S)
        with self._lock:
            if self._transcriber is None:  # a Mandarin answer goes to the multilingual model, like a call
                self._transcriber = LanguageRouter(self.settings.models.transcriber)
        return self._transcriber.transcribe(audio.mono).text.strip()
