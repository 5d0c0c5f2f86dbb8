"""The daily brief's question, "which customer surprised you today?": answers in, market signals out.

Reps answer through the API, the workbench or a voice note (its transcript); every answer is a row of
``surprise_answers``. Once a week's answers are in, they are clustered by meaning in the multilingual
embedding space (average-linkage on cosine distance, so English, Chinese and mixed answers about
the same thing meet). An answer is *known* when it sits close to an example of a known objection type
(``configs/moments.yaml``) or a configured known topic (``management.brief.surprises.known_topics``);
a cluster of mostly unknown answers, from enough answers and reps, is a possible market signal:
something several reps heard that the taxonomy has no word for yet.

Example::

    record_answer(catalog, settings, "REP-003", "A customer asked if we host in Singapore", actor="api")
    weekly_clusters(catalog, settings, embedder, team="TEAM-01", until=date(2026, 12, 7))["signals"]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import ANSWER_CHANNELS, Customer, Rep, SurpriseAnswer, Team
from talktrack.core.clock import utcnow
from talktrack.models.embedding import detect_language

WEEK_DAYS = 7


class AnswerError(ValueError):
    """An answer that cannot be stored (empty, too long, unknown rep/customer, bad channel or day)."""


@dataclass(frozen=True)
class KnownExamples:
    """Known objection types and topics: one unit vector per label, the mean of its examples' vectors.

    A label's centre is compared rather than its nearest example: on the dev split of the hand-written
    answers it separates known from new better (ROC AUC 0.93 against 0.83), as one stray example no
    longer makes news look familiar."""

    labels: list[str]
    vectors: np.ndarray  # shape: (n_labels, dim), unit length


def record_answer(catalog: Catalog, settings, rep: str, text: str, *, actor: str, channel: str = "api",
                  answered_on: date | None = None, customer: str | None = None, language: str | None = None) -> dict:
    """Store one answer; the rep (and customer, if named) must exist. Returns the stored answer."""
    options = settings.management.brief.surprises
    text = (text or "").strip()
    if not text:
        raise AnswerError("the answer is empty: say which customer surprised you, and how")
    if len(text) > options.max_answer_chars:
        raise AnswerError(f"the answer has {len(text)} characters; at most {options.max_answer_chars}")
    if channel not in ANSWER_CHANNELS:
        raise AnswerError(f"channel {channel!r} is not one of: {', '.join(ANSWER_CHANNELS)}")
    today = utcnow().date()
    answered_on = answered_on or today
    if answered_on > today + timedelta(days=1):
        raise AnswerError(f"answered_on {answered_on.isoformat()} is in the future")
    with catalog.session() as session:
        rep_pk = session.scalar(select(Rep.id).where(Rep.external_id == rep))
        if rep_pk is None:
            raise AnswerError(f"unknown rep {rep!r}")
        customer_pk = None
        if customer is not None:
            customer_pk = session.scalar(select(Customer.id).where(Customer.external_id == customer))
            if customer_pk is None:
                raise AnswerError(f"unknown customer {customer!r}")
        row = SurpriseAnswer(rep_id=rep_pk, answered_on=answered_on, text=text,
                             language=language or detect_language(text), customer_id=customer_pk, channel=channel,
                             created_at=utcnow(), created_by=actor)
        session.add(row)
        session.commit()
        return {"id": row.id, "rep": rep, "customer": customer, "answered_on": answered_on.isoformat(),
                "text": text, "language": row.language, "channel": channel}


def week_answers(catalog: Catalog, team: str | None, until: date) -> list[dict]:
    """The answers of the seven days ending ``until`` (all teams when ``team`` is None), oldest first."""
    since = until - timedelta(days=WEEK_DAYS - 1)
    query = (select(SurpriseAnswer.id, SurpriseAnswer.text, SurpriseAnswer.answered_on, SurpriseAnswer.language,
                    SurpriseAnswer.channel, Rep.external_id.label("rep"), Team.external_id.label("team"),
                    Customer.external_id.label("customer"))
             .join(Rep, Rep.id == SurpriseAnswer.rep_id).join(Team, Team.id == Rep.team_id)
             .outerjoin(Customer, Customer.id == SurpriseAnswer.customer_id)
             .where(SurpriseAnswer.answered_on >= since, SurpriseAnswer.answered_on <= until)
             .order_by(SurpriseAnswer.answered_on, SurpriseAnswer.id))
    if team is not None:
        query = query.where(Team.external_id == team)
    with catalog.session() as session:
        return [{"id": r.id, "text": r.text, "answered_on": r.answered_on.isoformat(), "language": r.language,
                 "channel": r.channel, "rep": r.rep, "team": r.team, "customer": r.customer}
                for r in session.execute(query)]


def known_examples(settings, embedder) -> KnownExamples:
    """The objection examples of the moment taxonomy and the configured known topics, embedded."""
    from talktrack.models.moments.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(settings.semantic.moments.taxonomy, settings.objection_keys, settings.move_keys)
    pairs = [(f"objection:{e.label}", e.text) for e in taxonomy.examples if e.kind == "objection" and e.label != "none"]
    pairs += [(f"topic:{t.key}", text) for t in settings.management.brief.surprises.known_topics for text in t.examples]
    vectors = np.asarray(embedder.encode([text for _, text in pairs]))
    labels = sorted({label for label, _ in pairs})
    centres = np.stack([vectors[[i for i, (label, _) in enumerate(pairs) if label == key]].mean(axis=0) for key in labels])
    return KnownExamples(labels, centres / np.linalg.norm(centres, axis=1, keepdims=True))


def cluster_answers(answers: list[dict], vectors: np.ndarray, known: KnownExamples, options) -> dict:
    """Sort ``answers`` (rows with ``id``, ``rep`` and ``text``; ``vectors`` unit length, one row each) into
    known ones (counted by their nearest known label) and new ones, and group the new ones by meaning
    (``options``: ``management.brief.surprises``). Known answers are set aside *before* clustering, so a
    new topic is not swallowed by a large cluster of price complaints. Signals: groups with at least
    ``min_answers`` answers from ``min_reps`` reps, largest first."""
    if not answers:
        return {"known": [], "signals": [], "unclustered": 0}
    similarity = vectors @ known.vectors.T  # shape: (answers, known examples)
    best, nearest = similarity.max(axis=1), similarity.argmax(axis=1)
    is_known = best >= options.known_similarity
    counts = Counter(known.labels[nearest[i]] for i in range(len(answers)) if is_known[i])
    fresh = [i for i in range(len(answers)) if not is_known[i]]
    groups = _groups(vectors[fresh], options.cluster_distance) if fresh else []
    signals = []
    for group in sorted(set(groups)):
        members = [fresh[k] for k, g in enumerate(groups) if g == group]
        reps = sorted({answers[i]["rep"] for i in members})
        if len(members) < options.min_answers or len(reps) < options.min_reps:
            continue
        centroid = vectors[members].mean(axis=0)
        central = members[int(np.argmax(vectors[members] @ centroid))]
        signals.append({"size": len(members), "reps": reps, "example": answers[central]["text"],
                        "answer_ids": [answers[i]["id"] for i in members],
                        "answers": [{"id": answers[i]["id"], "rep": answers[i]["rep"], "text": answers[i]["text"],
                                     "similarity_to_known": round(float(best[i]), 3)} for i in members]})
    signals.sort(key=lambda c: (-c["size"], c["answer_ids"][0]))
    return {"known": [{"label": label, "answers": n} for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))],
            "signals": signals, "unclustered": len(fresh) - sum(c["size"] for c in signals)}


def weekly_clusters(catalog: Catalog, settings, embedder, team: str | None, until: date,
                    known: KnownExamples | None = None) -> dict:
    """The week's answers of ``team``: counts per known label, and the new clusters (possible market signals)."""
    answers = week_answers(catalog, team, until)
    options = settings.management.brief.surprises
    known = known or known_examples(settings, embedder)
    texts = without_names([a["text"] for a in answers], customer_names(catalog))
    vectors = np.asarray(embedder.encode(texts)) if answers else np.zeros((0, 1))
    return {"since": (until - timedelta(days=WEEK_DAYS - 1)).isoformat(), "until": until.isoformat(),
            "question": {"en": options.question_en, "zh": options.question_zh},
            "answers": len(answers), "reps_answering": len({a["rep"] for a in answers}),
            **cluster_answers(answers, vectors, known, options)}


def customer_names(catalog: Catalog) -> list[str]:
    with catalog.session() as session:
        return list(session.scalars(select(Customer.name)))


def without_names(texts: list[str], names: list[str]) -> list[str]:
    """Each customer name replaced by "the customer" (客户 in Chinese text): two answers about the same
    news from different customers should meet, and a name alone must not make two answers alike."""
    names = sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True)
    out = []
    for text in texts:
        for name in names:
            if name in text:   # the sentence's own language, not the name's, picks the word
                text = text.replace(name, "the customer" if detect_language(text.replace(name, "")) == "en" else "客户")
        out.append(text)
    return out


def _groups(vectors: np.ndarray, distance: float) -> list[int]:
    """Average-linkage clusters under ``distance`` (cosine); a lone answer is its own cluster."""
    if len(vectors) == 1:
        return [0]
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average")
    return model.fit_predict(vectors).tolist()
