"""What happens in a call, before any words are chosen: a list of beats (one beat = one
utterance) with their labels, the objections with the rep's moves and the customer's
reaction, key questions covered, pain points mentioned and the next step.

Plans are language independent, so the outcome model (which reads the moves) is
settled before any text exists, and ``dialogue`` renders the same plan in English or
Mandarin. Skill enters here: better questioners ask more (and more open) questions,
better listeners paraphrase, better handlers use the planted tracks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from talktrack.evaluation.world import causal
from talktrack.evaluation.world.deals import month_index
from talktrack.evaluation.world.records import Call, Customer, Pain, Rep
from talktrack.evaluation.world.spec import Taxonomy, WorldSpec, child_rng

STEP_PLAN = 30
MIN_BEATS, MAX_BEATS = 12, 40
SECOND_CONTACT_SHARE = 0.12
CUSTOMER_FIRST_SHARE = 0.3

OBJECTION_RATE = {"qualification": 0.7, "needs_diagnosis": 0.9, "solution_presentation": 1.1, "negotiation": 1.5}
OBJECTION_WEIGHTS = {
    "qualification": {"price": .10, "competitor": .15, "timing": .25, "authority": .20, "need": .20,
                      "trust": .05, "delivery": .05},
    "needs_diagnosis": {"price": .15, "competitor": .20, "timing": .15, "authority": .10, "need": .20,
                        "trust": .10, "delivery": .10},
    "solution_presentation": {"price": .20, "competitor": .20, "timing": .10, "authority": .10, "need": .10,
                              "trust": .15, "delivery": .15},
    "negotiation": {"price": .40, "competitor": .15, "timing": .10, "authority": .10, "need": .02,
                    "trust": .08, "delivery": .15},
}
# Moves a rep may pick from when not using a planted track (offer_discount is added separately).
ANSWER_POOLS = {
    "price": ("acknowledge", "clarify", "reframe_value", "cite_case", "propose_next_step", "confirm_timeline",
              "offer_installments"),
    "competitor": ("acknowledge", "clarify", "compare_competitor", "cite_case", "reframe_value", "offer_pilot"),
    "timing": ("acknowledge", "clarify", "confirm_timeline", "propose_next_step", "reframe_value", "offer_pilot"),
    "authority": ("acknowledge", "clarify", "map_decision_chain", "propose_next_step", "cite_case"),
    "need": ("acknowledge", "clarify", "reframe_value", "cite_case", "offer_pilot"),
    "trust": ("acknowledge", "cite_case", "provide_guarantee", "offer_pilot", "clarify"),
    "delivery": ("acknowledge", "clarify", "confirm_delivery_plan", "provide_guarantee", "cite_case", "offer_pilot"),
}
ANSWER_LENGTHS = ((1, 0.35), (2, 0.45), (3, 0.20))
NEXT_ACTIONS = {
    "qualification": ("discovery_meeting", "demo"),
    "needs_diagnosis": ("demo", "decision_meeting"),
    "solution_presentation": ("proposal_review", "decision_meeting"),
    "negotiation": ("contract_review", "decision_meeting"),
}
PAIN_ANSWER_QUESTIONS = ("pain_points", "need_trigger")
SECOND_CONTACT_QUESTIONS = ("budget", "decision_process", "payment_terms")


@dataclass(frozen=True, slots=True)
class Beat:
    role: str  # "rep" | "customer"
    act: str
    contact: int = 0  # which customer-side speaker (0 or 1)
    labels: dict = field(default_factory=dict)  # JSON-ready, copied into truth.json


@dataclass(frozen=True, slots=True)
class Episode:
    objection_type: str
    moves: tuple[str, ...]
    reaction: str
    tracks_used: tuple[str, ...]


@dataclass(slots=True)
class CallPlan:
    beats: list[Beat]
    episodes: list[Episode]
    key_questions_covered: list[str]
    key_questions_missed: list[str]
    pains_mentioned: list[str]
    next_step: dict
    customer_first: bool
    n_contacts: int
    numbers: dict[str, int]
    competitor_mentioned: bool

    @property
    def discount_offered(self) -> int:
        return self.numbers["discount"] if any("offer_discount" in e.moves for e in self.episodes) else 0


@dataclass(frozen=True, slots=True)
class CallContext:
    stage: str
    key_questions: tuple[str, ...]
    levels: dict[str, float]  # the rep's hidden levels in the month of the call
    pains: tuple[Pain, ...]
    day: date
    contacts_available: int
    objection_types: tuple[str, ...]
    moves: tuple[str, ...]


def plan_call(ctx: CallContext, rng: np.random.Generator) -> CallPlan:
    """The beats of one call, in order: opening, rapport, agenda, discovery, value,
    objections, next step, farewell (12-40 beats)."""
    customer_first = bool(rng.random() < CUSTOMER_FIRST_SHARE)
    n_contacts = 2 if ctx.contacts_available > 1 and rng.random() < SECOND_CONTACT_SHARE else 1
    exchanges = _discovery(ctx, rng, n_contacts)
    episodes, objection_beats = _objections(ctx, rng, n_contacts)
    next_step = _next_step(ctx, rng)
    opening = _opening(customer_first)
    agenda = [Beat("rep", "agenda", labels={"stage": ctx.stage})]
    tail = _presentation(ctx, rng) + objection_beats + _closing(next_step, rng)
    fixed = len(opening) + len(agenda) + len(tail)
    exchanges = _trim(exchanges, MAX_BEATS - fixed - 4)  # 4: room for two rapport exchanges
    rapport = _rapport(ctx, rng, max(0, MIN_BEATS - fixed - sum(map(len, exchanges))))
    discovery = [beat for exchange in exchanges for beat in exchange]
    beats = opening + rapport + agenda + discovery + tail
    return _assemble(ctx, beats, episodes, next_step, customer_first, n_contacts, rng)


def _assemble(ctx: CallContext, beats: list[Beat], episodes: list[Episode], next_step: dict,
              customer_first: bool, n_contacts: int, rng: np.random.Generator) -> CallPlan:
    asked = [b.labels["key_question"] for b in beats if b.act == "question" and "key_question" in b.labels]
    covered = [kq for kq in ctx.key_questions if kq in asked]
    mentioned = list(dict.fromkeys(b.labels["pain_id"] for b in beats if "pain_id" in b.labels))
    return CallPlan(
        beats=beats, episodes=episodes, key_questions_covered=covered,
        key_questions_missed=[kq for kq in ctx.key_questions if kq not in covered], pains_mentioned=mentioned,
        next_step=next_step, customer_first=customer_first, n_contacts=n_contacts, numbers=_numbers(rng),
        competitor_mentioned=any(b.labels.get("mentions_competitor") for b in beats)
        or any(e.objection_type == "competitor" for e in episodes),
    )


def _numbers(rng: np.random.Generator) -> dict[str, int]:
    """Per-call figures the rep may quote (installments, pilot length, ...)."""
    return {
        "installments": int(rng.choice((3, 4, 6, 12))), "pilot_weeks": int(rng.choice((2, 4, 6))),
        "guarantee_days": int(rng.choice((30, 60, 90))), "weeks": int(rng.integers(6, 13)),
        "discount": int(rng.choice((5, 8, 10, 12, 15))), "case_index": int(rng.integers(0, 1000)),
        "case_pct": int(rng.integers(20, 61)), "city_index": int(rng.integers(0, 1000)),
    }


def _opening(customer_first: bool) -> list[Beat]:
    beats = [Beat("customer", "greet_first")] if customer_first else []
    return beats + [Beat("rep", "greet"), Beat("customer", "greet")]


def _rapport(ctx: CallContext, rng: np.random.Generator, minimum_beats: int) -> list[Beat]:
    """Small talk: up to two exchanges for good rapport builders, more only to reach 12 beats."""
    pairs = int(rng.binomial(2, causal.sigmoid(0.2 + ctx.levels["rapport"])))
    pairs = max(pairs, -(-minimum_beats // 2))
    return [beat for _ in range(pairs) for beat in (Beat("rep", "rapport"), Beat("customer", "rapport"))]


def _discovery(ctx: CallContext, rng: np.random.Generator, n_contacts: int) -> list[list[Beat]]:
    """Question/answer exchanges; at least one pain point of this customer is always raised."""
    skill = (ctx.levels["questioning"] + ctx.levels["needs_discovery"]) / 2.0
    p_open = causal.sigmoid(0.2 + ctx.levels["needs_discovery"])
    listens = causal.sigmoid(-0.2 + 1.2 * ctx.levels["active_listening"])
    pains = [ctx.pains[int(i)] for i in rng.permutation(len(ctx.pains))]
    asked = [kq for kq in ctx.key_questions if rng.random() < causal.sigmoid(0.4 + 1.1 * skill)]
    n_generic = min(5, int(rng.poisson(0.6 + 1.6 * causal.sigmoid(ctx.levels["questioning"]))))
    topics: list[str | None] = asked + [None] * n_generic
    exchanges = []
    for index in rng.permutation(len(topics)):
        kind = "open" if rng.random() < p_open else "closed"
        exchanges.append(_exchange(topics[int(index)], kind, pains, rng, listens, n_contacts))
    if not any("pain_id" in b.labels for exchange in exchanges for b in exchange):
        exchanges.insert(0, _unprompted_pain(pains[0], rng, listens))
    return exchanges


def _exchange(topic: str | None, kind: str, pains: list[Pain], rng: np.random.Generator, listens: float,
              n_contacts: int) -> list[Beat]:
    question = {"question_type": kind} | ({"key_question": topic} if topic else {})
    answer = {"key_question": topic} if topic else {"question_type": kind}
    carries_pain = topic in PAIN_ANSWER_QUESTIONS or (topic is None and kind == "open" and rng.random() < 0.6)
    if carries_pain and pains:
        answer["pain_id"] = pains.pop(0).pain_id
    if topic == "current_solution":
        answer["mentions_competitor"] = True
    contact = 1 if n_contacts == 2 and topic in SECOND_CONTACT_QUESTIONS and rng.random() < 0.6 else 0
    beats = [Beat("rep", "question", labels=question), Beat("customer", "answer", contact, answer)]
    if "pain_id" in answer and rng.random() < listens:
        beats += _paraphrase(answer["pain_id"], contact)
    return beats


def _unprompted_pain(pain: Pain, rng: np.random.Generator, listens: float) -> list[Beat]:
    beats = [Beat("customer", "pain_point", labels={"pain_id": pain.pain_id})]
    if rng.random() < listens:
        return beats + _paraphrase(pain.pain_id, 0)
    return beats + [Beat("rep", "backchannel")]


def _paraphrase(pain_id: str, contact: int) -> list[Beat]:
    return [Beat("rep", "paraphrase", labels={"pain_id": pain_id}), Beat("customer", "confirm", contact)]


def _trim(exchanges: list[list[Beat]], budget: int) -> list[list[Beat]]:
    """Drop exchanges (those without a pain point first) until the call fits in MAX_BEATS."""
    kept = list(exchanges)
    while sum(map(len, kept)) > budget and len(kept) > 1:
        plain = [i for i, ex in enumerate(kept) if not any("pain_id" in b.labels for b in ex)]
        kept.pop(plain[-1] if plain else len(kept) - 1)
    return kept


def _presentation(ctx: CallContext, rng: np.random.Generator) -> list[Beat]:
    """Value statements: always when presenting the solution, sometimes in other stages."""
    chance = {"qualification": 0.0, "needs_diagnosis": 0.3, "solution_presentation": 1.0, "negotiation": 0.2}
    count = int(rng.random() < chance[ctx.stage])
    if ctx.stage == "solution_presentation" and rng.random() < causal.sigmoid(ctx.levels["value_articulation"]):
        count += 1
    return [beat for _ in range(count) for beat in (Beat("rep", "value"), Beat("customer", "value_reaction"))]


def _objections(ctx: CallContext, rng: np.random.Generator, n_contacts: int) -> tuple[list[Episode], list[Beat]]:
    """0-3 objections; each is answered by 1-4 moves and gets a reaction. A 'new_objection'
    reaction is the next objection itself (so it can push the count past the planned one)."""
    planned = min(3, int(rng.poisson(OBJECTION_RATE[ctx.stage])))
    episodes: list[Episode] = []
    beats: list[Beat] = []
    follows_new = False
    while len(episodes) < 3 and (len(episodes) < planned or follows_new):
        episode = _episode(ctx, rng, can_chain=len(episodes) < 2)
        contact = 1 if n_contacts == 2 and episode.objection_type in ("price", "authority") else 0
        beats += _episode_beats(len(episodes), episode, follows_new, contact, rng)
        episodes.append(episode)
        follows_new = episode.reaction == "new_objection"
    return episodes, beats


def _episode(ctx: CallContext, rng: np.random.Generator, can_chain: bool) -> Episode:
    objection_type = _objection_type(ctx, rng)
    moves = _answer(ctx, objection_type, rng)
    reaction = _reaction(objection_type, moves, rng, can_chain)
    return Episode(objection_type, moves, reaction, tuple(causal.tracks_in_answer(objection_type, moves)))


def _objection_type(ctx: CallContext, rng: np.random.Generator) -> str:
    weights = OBJECTION_WEIGHTS[ctx.stage]
    types = [t for t in ctx.objection_types if t in weights]
    shares = np.array([weights[t] for t in types])
    return types[int(rng.choice(len(types), p=shares / shares.sum()))]


def _answer(ctx: CallContext, objection_type: str, rng: np.random.Generator) -> tuple[str, ...]:
    """The rep's moves: the planted track (more likely for skilled reps), else the decoy
    (fixed chance), else a random plausible answer; weak negotiators add a discount."""
    track, decoy = _planted_for(objection_type)
    if track and rng.random() < causal.sigmoid(causal.TRACK_USE["intercept"]
                                               + causal.TRACK_USE["slope"] * ctx.levels[track.skill]):
        return _decorate(track.moves, rng)
    if decoy and rng.random() < causal.DECOY_USE_PROBABILITY:
        return _decorate(decoy.moves, rng)
    moves = _random_answer(ctx, objection_type, rng)
    if objection_type == "price" and rng.random() < causal.sigmoid(
            causal.DISCOUNT_USE["intercept"] + causal.DISCOUNT_USE["slope"] * ctx.levels["price_negotiation"]):
        moves += ("offer_discount",)
    return moves


def _planted_for(objection_type: str) -> tuple[causal.PlantedTrack | None, causal.PlantedTrack | None]:
    found = {t.decoy: t for t in causal.PLANTED_TRACKS if t.objection_type == objection_type}
    return found.get(False), found.get(True)


def _decorate(moves: tuple[str, ...], rng: np.random.Generator) -> tuple[str, ...]:
    """A track as a real rep says it: sometimes acknowledged first, sometimes with a next step after."""
    if "acknowledge" not in moves and rng.random() < 0.4:
        moves = ("acknowledge",) + moves
    if "propose_next_step" not in moves and rng.random() < 0.25:
        moves = moves + ("propose_next_step",)
    return moves


def _random_answer(ctx: CallContext, objection_type: str, rng: np.random.Generator) -> tuple[str, ...]:
    """1-3 distinct plausible moves that contain no planted track (nor decoy) of this type."""
    pool = [m for m in ANSWER_POOLS.get(objection_type, ("acknowledge", "clarify")) if m in ctx.moves]
    lengths, shares = zip(*ANSWER_LENGTHS, strict=True)
    for _ in range(20):
        size = min(len(pool), int(rng.choice(lengths, p=shares)))
        moves = tuple(pool[int(i)] for i in rng.choice(len(pool), size=size, replace=False))
        if not causal.tracks_in_answer(objection_type, moves):
            return moves
    return ("acknowledge",)


def _reaction(objection_type: str, moves: tuple[str, ...], rng: np.random.Generator, can_chain: bool) -> str:
    """The customer's reaction, by causal.REACTION_POLICY; with three objections already,
    a new objection is folded into a push back."""
    real = [t for t in causal.tracks_in_answer(objection_type, moves) if t not in causal.DECOY_IDS]
    key = ("planted_track" if real else "offer_discount" if "offer_discount" in moves
           else "single_move" if len(moves) == 1 else "other")
    reaction = causal.REACTIONS[int(rng.choice(3, p=causal.REACTION_POLICY[key]))]
    return "push_back" if reaction == "new_objection" and not can_chain else reaction


def _episode_beats(index: int, episode: Episode, follows_new: bool, contact: int,
                   rng: np.random.Generator) -> list[Beat]:
    """Objection, the answer in one or two rep utterances (a backchannel between), reaction."""
    objection = {"objection_type": episode.objection_type, "objection_index": index}
    if follows_new:
        objection["reaction_to_previous"] = "new_objection"
    beats = [Beat("customer", "objection", contact, objection)]
    moves = episode.moves
    split = int(rng.integers(1, len(moves))) if len(moves) > 1 and rng.random() < 0.4 else len(moves)
    for part_index, part in enumerate((moves[:split], moves[split:])):
        if not part:
            continue
        if part_index:
            beats.append(Beat("customer", "backchannel", contact))
        beats.append(Beat("rep", "move", labels={"moves": list(part), "objection_index": index,
                                                 "objection_type": episode.objection_type}))
    if episode.reaction != "new_objection":
        beats.append(Beat("customer", "reaction", contact, {"reaction": episode.reaction, "objection_index": index}))
    return beats


def _next_step(ctx: CallContext, rng: np.random.Generator) -> dict:
    """A concrete next step on a working day 2-10 days after the call."""
    day = ctx.day + timedelta(days=int(rng.integers(2, 11)))
    day += timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)
    actions = NEXT_ACTIONS[ctx.stage]
    return {"date": day.isoformat(), "action": actions[int(rng.integers(len(actions)))]}


def _closing(next_step: dict, rng: np.random.Generator) -> list[Beat]:
    farewell = [Beat("rep", "farewell"), Beat("customer", "farewell")]
    if rng.random() < 0.3:
        farewell.reverse()
    return [Beat("rep", "next_step", labels=dict(next_step)), Beat("customer", "next_step_confirm")] + farewell


def plan_calls(spec: WorldSpec, taxonomy: Taxonomy, calls: list[Call], reps: list[Rep],
               customers: list[Customer]) -> None:
    """Attach a plan to every call, from the rep's levels in that month and the customer's pains."""
    reps_by_id = {rep.rep_id: rep for rep in reps}
    customers_by_id = {c.customer_id: c for c in customers}
    for index, call in enumerate(calls):
        customer = customers_by_id[call.customer_id]
        levels = reps_by_id[call.rep_id].levels[month_index(spec, call.started_at)]
        ctx = CallContext(
            stage=call.stage, key_questions=taxonomy.stage(call.stage).key_questions,
            levels={dim: float(level) for dim, level in zip(taxonomy.capabilities, levels, strict=True)},
            pains=customer.pains, day=call.started_at.date(), contacts_available=len(customer.contacts),
            objection_types=taxonomy.objection_types, moves=taxonomy.moves,
        )
        call.plan = plan_call(ctx, child_rng(spec.seed, STEP_PLAN, index))
