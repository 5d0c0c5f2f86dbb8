"""Render call plans into speaker-turn transcripts in the customer's language.

Each beat of a plan becomes one utterance: a phrasing picked from the lexicon (no
repeat within a call until a list is used up), its ``[a|b]`` choices resolved and its
slots filled with this customer's specifics, then dressed as people talk (see
:func:`dress`). Objections and answer moves come in named families of phrasings (an
objection said directly, indirectly, hedged or as a question); the family of each is
kept in the utterance's labels so that an evaluation can train on some families and
grade on unseen ones. Times are estimated from the
text length at a speaking rate, with 0.2-1.2 s gaps; ``audio`` overwrites them with
the real times when a call is rendered to sound.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from talktrack.core.progress import Progress
from talktrack.evaluation.world.compose import expand, pick, pick_family
from talktrack.evaluation.world.lexicon import lexicon
from talktrack.evaluation.world.plans import Beat, CallPlan
from talktrack.evaluation.world.records import Call, Customer, Deal, Pain, Rep, Utterance
from talktrack.evaluation.world.spec import Taxonomy, WorldSpec, child_rng

STEP_RENDER = 40
GAP_S = (0.2, 1.2)

SIMPLE_ACTS = {
    ("greet_first", "customer"): "greet.customer_first",
    ("greet", "rep"): "greet.rep",
    ("greet", "customer"): "greet.customer",
    ("rapport", "rep"): "rapport.rep",
    ("rapport", "customer"): "rapport.customer",
    ("confirm", "customer"): "paraphrase.customer",
    ("value", "rep"): "value.rep",
    ("value_reaction", "customer"): "value.customer",
    ("next_step", "rep"): "next.rep",
    ("next_step_confirm", "customer"): "next.customer",
    ("farewell", "rep"): "bye.rep",
    ("farewell", "customer"): "bye.customer",
    ("backchannel", "rep"): "backchannel.rep",
    ("backchannel", "customer"): "backchannel.customer",
}
PLAIN_ACTS = frozenset({"backchannel", "confirm", "greet_first", "greet", "farewell"})  # no filler added
MOMENT_ACTS = frozenset({"objection", "move"})  # their sentences are labelled: dressing adds no sentence
PREAMBLE_ACTS = frozenset({"answer", "pain_point", "question", "agenda", "value", "value_reaction", "reaction",
                           "rapport", "paraphrase", "confirm", "next_step_confirm"})
TAIL_ACTS = frozenset({"answer", "objection", "reaction", "value_reaction", "rapport", "question", "value", "agenda"})
# How often a turn is dressed: an opener (hedge, discourse marker, the other's name, a cut-in;
# short acts take an interjection instead), else a short sentence before it, a tag at its end, and a short sentence after
# a question, a greeting or a farewell.
DRESS_P = {"opener": 0.45, "preamble": 0.3, "tail": 0.25, "afterword": 0.35}
# Objections: how often each family of phrasings is used; moves: the plain form most of the time.
OBJECTION_FAMILY_WEIGHTS = {"direct": 0.34, "indirect": 0.24, "hedged": 0.22, "question": 0.20}
MOVE_FAMILY_WEIGHTS = {"plain": 0.55, "spoken": 0.45}


class Chooser:
    """Picks phrasings for one call, not repeating one until its list is used up."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: dict[str, list[int]] = {}

    def pick(self, key: str, options: tuple[str, ...]) -> str:
        """A template of ``options`` not used yet in this call (under ``key``), its choices resolved."""
        used = self.used.setdefault(key, [])
        if len(used) >= len(options):
            used.clear()
        fresh = [i for i in range(len(options)) if i not in used]
        index = fresh[int(self.rng.integers(len(fresh)))]
        used.append(index)
        return expand(options[index], self.rng)


def render_calls(spec: WorldSpec, taxonomy: Taxonomy, calls: list[Call], deals: list[Deal], reps: list[Rep],
                 customers: list[Customer], progress: Progress | None = None) -> None:
    """Fill utterances, speakers and duration of every planned call."""
    deals_by_id = {d.deal_id: d for d in deals}
    reps_by_id = {r.rep_id: r for r in reps}
    customers_by_id = {c.customer_id: c for c in customers}
    for index, call in enumerate(calls):
        rng = child_rng(spec.seed, STEP_RENDER, index)
        render_call(call, customers_by_id[call.customer_id], deals_by_id[call.deal_id], reps_by_id[call.rep_id],
                    taxonomy, rng)
        if progress and (index + 1 == len(calls) or (index + 1) % 200 == 0):
            progress("calls", index + 1, len(calls))


def render_call(call: Call, customer: Customer, deal: Deal, rep: Rep, taxonomy: Taxonomy,
                rng: np.random.Generator) -> None:
    lex = lexicon(call.language)
    slots = call_slots(lex, call.plan, customer, deal, rep)
    pains = {pain.pain_id: pain for pain in customer.pains}
    chooser = Chooser(rng)
    speakers = speaker_labels(call.plan)
    utterances = []
    for beat in call.plan.beats:
        families: dict = {}
        text = lex.finish(beat_text(beat, lex, slots, pains, chooser, taxonomy, call.plan, families))
        text = dress(text, beat, lex, slots, rng)
        labels = {"act": beat.act} | beat.labels | families
        utterances.append(Utterance(speakers[(beat.role, beat.contact)], beat.role, text, 0.0, 0.0, labels))
    call.utterances = estimate_times(utterances, lex, rng)
    call.duration_s = round(call.utterances[-1].end + float(rng.uniform(0.3, 1.0)), 3)
    call.speakers = speaker_entries(speakers, call.rep_id)


def dress(text: str, beat: Beat, lex, slots: dict[str, str], rng: np.random.Generator) -> str:
    """The turn as people say it: sometimes an opener ("Honestly, ", "{contact_first}, ", 嗯，) or, for
    turns whose sentences are not labelled moments, a short sentence before it ("Good question."),
    a tag at the end (", to be honest"), a filler or repeated word, and in Mandarin an English word
    or two (code-switching). Objection and move turns get no extra sentence, so their sentences
    still pair with their labels."""
    plain = beat.act in PLAIN_ACTS
    roll = rng.random()
    if roll < DRESS_P["opener"]:
        openers = lex.INTERJECTIONS if plain else lex.OPENERS[beat.role]
        if beat.act == "question" and rng.random() < 0.5:
            openers = lex.QUESTION_OPENERS
        text = lex.open_with(_say(openers, slots, rng), text)
    elif roll < DRESS_P["opener"] + DRESS_P["preamble"] and beat.act in PREAMBLE_ACTS:
        text = lex.JOINER.join([_say(lex.PREAMBLES[beat.role], slots, rng), text])
    if beat.act in TAIL_ACTS and rng.random() < DRESS_P["tail"]:
        text = lex.with_tail(text, rng)
    afterwords = lex.AFTERWORDS.get(f"{beat.act}.{beat.role}")
    if afterwords and rng.random() < DRESS_P["afterword"]:
        text = lex.JOINER.join([text, _say(afterwords, slots, rng)])
    if not plain:
        text = lex.disfluent(text, rng)
    return lex.code_switch(text, rng)


def _say(options: tuple[str, ...], slots: dict[str, str], rng: np.random.Generator) -> str:
    return expand(pick(options, rng), rng).format_map(slots)


def call_slots(lex, plan: CallPlan, customer: Customer, deal: Deal, rep: Rep) -> dict[str, str]:
    """Every slot a phrasing may use, filled for this call."""
    numbers = plan.numbers
    contacts = customer.contacts
    slots = {
        "rep_first": rep.first_name, "vendor": lex.VENDOR, "product": deal.product, "customer": customer.short_name,
        "contact_first": contacts[0].first_name, "contact2": contacts[min(1, len(contacts) - 1)].first_name,
        "competitor": customer.competitor, "budget": customer.budget, "amount": lex.format_money(deal.amount),
        "deadline": customer.deadline, "users": str(customer.users), "decision_maker": customer.decision_maker,
        "committee": str(customer.committee_size), "open_positions": str(customer.open_positions),
        "city": lex.CITIES[numbers["city_index"] % len(lex.CITIES)],
        "case_customer": lex.CASE_CUSTOMERS[numbers["case_index"] % len(lex.CASE_CUSTOMERS)],
        "payment_terms": str(deal.payment_terms_days),
        "date": lex.format_day(date.fromisoformat(plan.next_step["date"])),
        **{key: str(numbers[key]) for key in ("installments", "pilot_weeks", "guarantee_days", "weeks", "discount",
                                              "case_pct")},
    }
    slots["next_action"] = next_action_text(lex, plan, slots)
    return slots


def next_action_text(lex, plan: CallPlan, slots: dict[str, str]) -> str:
    """The next step as words (the same in the call and in its notes)."""
    options = lex.NEXT_ACTIONS[plan.next_step["action"]]
    return options[plan.numbers["case_index"] % len(options)].format_map(slots)


def pain_sentence(lex, pain: Pain, chooser: Chooser) -> str:
    return chooser.pick(f"pain.{pain.kind}", lex.PAINS[pain.kind]).format_map(pain.slots)


def pain_note(lex, pain: Pain) -> str:
    """The short written form of a pain point (used in paraphrases and notes)."""
    return lex.PAIN_NOTES[pain.kind].format_map(pain.slots)


def beat_text(beat: Beat, lex, slots: dict[str, str], pains: dict[str, Pain], chooser: Chooser,
              taxonomy: Taxonomy, plan: CallPlan, families: dict) -> str:
    """The words of one beat; an objection's or an answer's phrasing families go into ``families``."""
    key = SIMPLE_ACTS.get((beat.act, beat.role))
    if key is not None:
        return chooser.pick(key, lex.PHRASES[key]).format_map(slots)
    if beat.act == "agenda":
        key = f"agenda.{beat.labels['stage']}"
        return chooser.pick(key, lex.PHRASES[key]).format_map(slots)
    if beat.act == "question":
        return _question(beat, lex, slots, chooser, taxonomy)
    if beat.act in ("answer", "pain_point"):
        return _answer(beat, lex, slots, pains, chooser)
    if beat.act == "paraphrase":
        note = pain_note(lex, pains[beat.labels["pain_id"]])
        return chooser.pick("paraphrase.rep", lex.PHRASES["paraphrase.rep"]).format_map(slots | {"pain_note": note})
    if beat.act == "objection":
        return _objection(beat, lex, slots, chooser, families)
    if beat.act == "move":
        return _moves(beat, lex, slots, pains, chooser, plan, families)
    if beat.act == "reaction":
        key = f"react.{beat.labels['reaction']}"
        return chooser.pick(key, lex.PHRASES[key]).format_map(slots)
    raise ValueError(f"no rendering for act {beat.act!r} of role {beat.role!r}")


def _question(beat: Beat, lex, slots: dict[str, str], chooser: Chooser, taxonomy: Taxonomy) -> str:
    topic, kind = beat.labels.get("key_question"), beat.labels["question_type"]
    if topic is None:
        return chooser.pick(f"q.{kind}", lex.PHRASES[f"q.{kind}"]).format_map(slots)
    if topic not in lex.KEY_QUESTIONS:
        return lex.KQ_FALLBACK["question"].format(topic=_topic_name(taxonomy, topic, lex.LANGUAGE))
    return chooser.pick(f"kq.{topic}.{kind}", lex.KEY_QUESTIONS[topic][kind]).format_map(slots)


def _topic_name(taxonomy: Taxonomy, topic: str, language: str) -> str:
    names = taxonomy.key_question_names.get(topic, {})
    return names.get(f"name_{language}", topic.replace("_", " "))


def _answer(beat: Beat, lex, slots: dict[str, str], pains: dict[str, Pain], chooser: Chooser) -> str:
    """An answer (or unprompted remark), followed by the pain point it carries, if any."""
    topic = beat.labels.get("key_question")
    if beat.act == "pain_point":
        lead = chooser.pick("pain.lead", lex.PHRASES["pain.lead"])
    elif topic is None:
        key = f"a.{beat.labels['question_type']}"
        lead = chooser.pick(key, lex.PHRASES[key])
    elif topic in lex.KEY_QUESTIONS:
        lead = chooser.pick(f"kq.{topic}.answer", lex.KEY_QUESTIONS[topic]["answer"])
    else:
        lead = lex.KQ_FALLBACK["answer"]
    parts = [lead.format_map(slots)]
    if "pain_id" in beat.labels:
        parts.append(pain_sentence(lex, pains[beat.labels["pain_id"]], chooser))
    return lex.JOINER.join(parts)


def _objection(beat: Beat, lex, slots: dict[str, str], chooser: Chooser, families: dict) -> str:
    objection_type = beat.labels["objection_type"]
    options = lex.objection_families(objection_type)
    family = pick_family(options, OBJECTION_FAMILY_WEIGHTS, chooser.rng)
    families["family"] = family
    text = chooser.pick(f"obj.{objection_type}.{family}", options[family]).format_map(slots)
    if beat.labels.get("reaction_to_previous") == "new_objection":
        text = lex.JOINER.join([chooser.pick("obj.lead_new", lex.PHRASES["obj.lead_new"]), text])
    return text


def _moves(beat: Beat, lex, slots: dict[str, str], pains: dict[str, Pain], chooser: Chooser,
           plan: CallPlan, families: dict) -> str:
    """One sentence (or two) per move, in order, each in a family of phrasings drawn per move;
    'concern' names what the objection was about."""
    objection_type = beat.labels["objection_type"]
    concern = chooser.pick(f"concern.{objection_type}", lex.CONCERNS[objection_type]).format_map(slots)
    mentioned = plan.pains_mentioned[0] if plan.pains_mentioned else next(iter(pains))
    local = slots | {"concern": concern, "pain_note": pain_note(lex, pains[mentioned])}
    sentences, chosen = [], []
    for move in beat.labels["moves"]:
        options = lex.move_families(move)
        family = pick_family(options, MOVE_FAMILY_WEIGHTS, chooser.rng)
        chosen.append(family)
        sentences.append(lex.finish(chooser.pick(f"move.{move}.{family}", options[family]).format_map(local)))
    families["families"] = chosen
    return lex.JOINER.join(sentences)


def speaker_labels(plan: CallPlan) -> dict[tuple[str, int], str]:
    """SPEAKER_00, _01, ... in order of first appearance of (role, contact)."""
    labels: dict[tuple[str, int], str] = {}
    for beat in plan.beats:
        labels.setdefault((beat.role, beat.contact), f"SPEAKER_{len(labels):02d}")
    return labels


def speaker_entries(labels: dict[tuple[str, int], str], rep_id: str) -> list[dict]:
    entries = []
    for (role, _), speaker in labels.items():
        entry = {"speaker": speaker, "role": role, "role_confidence": 1.0}
        entries.append(entry | {"rep_id": rep_id} if role == "rep" else entry)
    return entries


def estimate_times(utterances: list[Utterance], lex, rng: np.random.Generator) -> list[Utterance]:
    """Start/end from the text length at the language's speaking rate, plus pauses."""
    clock = float(rng.uniform(0.3, 1.0))
    for utterance in utterances:
        seconds = max(0.4, lex.count_units(utterance.text) / lex.SPEECH_RATE * float(rng.uniform(0.9, 1.1)) + 0.25)
        utterance.start, utterance.end = round(clock, 3), round(clock + seconds, 3)
        clock = utterance.end + float(rng.uniform(*GAP_S))
    return utterances
