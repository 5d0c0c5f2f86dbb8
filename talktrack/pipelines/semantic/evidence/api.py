"""Entry points: check one document, one deal, or every deal of the catalog.

    >>> verdict = verify_evidence(catalog, settings, workspace, "DEAL-00042", text)   # doctest: +SKIP
    >>> verdict.verdict, round(verdict.score, 2), [r.code for r in verdict.reasons]  # doctest: +SKIP
    ('fabricated', 0.05, ['unsupported_facts', 'near_copy', 'no_call_nearby'])
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from talktrack.core.catalog.schema import Call, ChatMessage, Deal, EvidenceDocument
from talktrack.core.progress import Progress
from talktrack.models.embedding import EmbedderSet
from talktrack.pipelines.semantic.evidence.records import DealEvidenceReport, EvidenceError, EvidenceVerdict
from talktrack.pipelines.semantic.evidence.screenshot import check_screenshot, screenshot_file, screenshot_verdict
from talktrack.pipelines.semantic.evidence.sources import EvidenceRow, load_evidence_rows
from talktrack.pipelines.semantic.evidence.store import EvidenceIndex
from talktrack.pipelines.semantic.evidence.verify import EvidenceVerifier, Subject
from talktrack.pipelines.semantic.evidence.watermark import check_watermark, watermarked_file


def open_verifier(catalog, settings, workspace, progress: Progress | None = None, *,
                  embedders: EmbedderSet | None = None) -> EvidenceVerifier:
    """A verifier over the catalog's evidence, its FAISS index brought up to date first.

    ``settings``: the full :class:`~talktrack.core.config.Settings` (embedder + ``semantic.evidence``).
    Keep it for many checks; it loads each customer's facts once, so it sees the catalog as it
    was (compare :func:`catalog_stamp` before reusing it). ``embedders``: reuse loaded models.
    """
    rows = load_evidence_rows(catalog)
    embedders = embedders or EmbedderSet.from_settings(settings.models.embedder, cache_dir=workspace.models_dir)
    index = EvidenceIndex(workspace.index_dir / "evidence", embedders)
    index.sync(rows, progress=progress)
    return EvidenceVerifier(catalog, settings.semantic.evidence, index, rows)


def catalog_stamp(catalog) -> tuple[tuple, tuple]:
    """``(evidence, conversations)``: cheap summaries that change when evidence documents, or calls and
    chat/e-mail messages, are added, removed or re-imported (counts, largest ids, latest times): a kept
    verifier is stale for evidence when the first changes, and its cached facts when the second does."""
    with catalog.session() as session:
        evidence = session.execute(select(func.count(EvidenceDocument.id), func.max(EvidenceDocument.id),
                                          func.max(EvidenceDocument.submitted_at))).one()
        calls = session.execute(select(func.count(Call.id), func.max(Call.id), func.max(Call.updated_at))).one()
        messages = session.execute(select(func.count(ChatMessage.id), func.max(ChatMessage.id))).one()
    return tuple(evidence), tuple(calls) + tuple(messages)


def verify_evidence(catalog, settings, workspace, deal_id: str, text: str, *, exclude_evidence_id: str | None = None,
                    submitted_at: datetime | None = None, kind: str | None = None,
                    verifier: EvidenceVerifier | None = None, document: Path | None = None) -> EvidenceVerdict:
    """Score one document as evidence for ``deal_id``: authentic, suspicious or fabricated, with reasons.

    ``exclude_evidence_id``: the document's own id when it is already in the catalog (so it is not
    its own near-copy); ``submitted_at``/``kind``: enable the timing check for notes; ``document``:
    the file itself, so a proposal/quote PDF is checked by its watermark as well.
    """
    verifier = verifier or open_verifier(catalog, settings, workspace)
    subject = verifier.subject(deal_id, text, kind=kind, evidence_id=exclude_evidence_id, submitted_at=submitted_at)
    return _watermark(verifier, verifier.check(subject), kind, document, subject.customer_pk)


def verify_screenshot(catalog, settings, workspace, deal_id: str, path: Path, *, submitted_at: datetime | None = None,
                      verifier: EvidenceVerifier | None = None) -> EvidenceVerdict:
    """A calendar screenshot handed in alone: what OCR reads on it (customer, date, time) matched to the deal."""
    verifier = verifier or open_verifier(catalog, settings, workspace)
    with catalog.session() as session:
        customer_pk = session.scalar(select(Deal.customer_id).where(Deal.external_id == deal_id))
    if customer_pk is None:
        raise EvidenceError(f"deal {deal_id!r} is not in the catalog")
    row = EvidenceRow(None, deal_id, customer_pk, verifier.facts_of(customer_pk).name, "calendar", None, submitted_at,
                      "", "", str(path))
    return screenshot_verdict(verifier, row, Path(path))


def verify_deal(catalog, settings, workspace, deal_id: str, *,
                verifier: EvidenceVerifier | None = None) -> DealEvidenceReport:
    """Check every evidence document of a deal and decide whether it fakes progress."""
    verifier = verifier or open_verifier(catalog, settings, workspace)
    claimed = _claimed_levels(catalog, [deal_id])
    if deal_id not in claimed:
        raise EvidenceError(f"deal {deal_id!r} is not in the catalog")
    rows = [row for row in verifier.rows.values() if row.deal_id == deal_id]
    items = [check_row(verifier, row) for row in rows]
    return deal_report(deal_id, claimed[deal_id], items, settings)


def verify_all(catalog, settings, workspace, progress: Progress | None = None) -> list[DealEvidenceReport]:
    """Every deal with evidence, checked in one pass (each document embedded once, vectors from the index)."""
    verifier = open_verifier(catalog, settings, workspace, progress=progress)
    if progress:
        progress("load calls", 0, 1)
    verifier.load_all_facts()
    if progress:
        progress("load calls", 1, 1)
    by_deal: dict[str, list[EvidenceRow]] = {}
    for row in verifier.rows.values():
        if row.text.strip():
            by_deal.setdefault(row.deal_id, []).append(row)
    claimed = _claimed_levels(catalog, list(by_deal))
    reports = []
    for done, (deal_id, rows) in enumerate(sorted(by_deal.items()), start=1):
        reports.append(deal_report(deal_id, claimed.get(deal_id), [check_row(verifier, r) for r in rows], settings))
        if progress and (done % 50 == 0 or done == len(by_deal)):
            progress("verify deals", done, len(by_deal))
    return reports


def check_row(verifier: EvidenceVerifier, row: EvidenceRow) -> EvidenceVerdict:
    """The verdict on one catalog document (its indexed vector, its file's watermark when it has one; a
    calendar screenshot without text by what OCR reads on it)."""
    shot = screenshot_file(row.kind, row.path)
    if shot is not None and not row.text.strip():
        return screenshot_verdict(verifier, row, shot)
    subject = Subject(row.deal_id, row.customer_pk, row.customer_name, row.text, row.kind, row.evidence_id,
                      row.submitted_at)
    verdict = verifier.check(subject, verifier.index.vector_of(row.evidence_id))
    return _watermark(verifier, verdict, row.kind, row.path, row.customer_pk)


def _watermark(verifier: EvidenceVerifier, verdict: EvidenceVerdict, kind: str | None, path,
               customer_pk: int) -> EvidenceVerdict:
    """What the submitted file itself shows: a proposal PDF's watermark, a calendar screenshot's date and name."""
    shot = screenshot_file(kind, path)
    if shot is not None:
        return check_screenshot(verifier, verdict, shot, customer_pk)
    pdf = watermarked_file(kind, path)
    return verdict if pdf is None else check_watermark(verifier.catalog, verdict, pdf, verifier.settings)


def deal_report(deal_id: str, claimed: str | None, items: list[EvidenceVerdict], settings) -> DealEvidenceReport:
    """Fake progress: any fabricated item, or at least ``deal_min_suspicious`` suspicious ones."""
    options = settings.semantic.evidence
    levels = settings.progress_level_keys
    level_of = {kind: level.key for level in settings.progress_levels for kind in level.evidence}
    backed = [level_of[i.kind] for i in items if i.verdict == "authentic" and i.kind in level_of]
    fabricated = [i for i in items if i.verdict == "fabricated"]
    suspicious = [i for i in items if i.verdict == "suspicious"]
    reasons = [f"{i.evidence_id or 'document'} ({i.kind}) {i.verdict}: score {i.score:.2f}"
               for i in fabricated + suspicious]
    fake = bool(fabricated) or len(suspicious) >= options.deal_min_suspicious
    best = max(backed, key=levels.index) if backed else None
    return DealEvidenceReport(deal_id, claimed, best, fake, items, reasons, progress_levels(items, settings))


def progress_levels(items: list[EvidenceVerdict], settings) -> list[dict]:
    """Each level of "in progress" (scheduled, communicated, proposal submitted) and what backs it: ``backed``
    (an authentic document of its kinds), ``not_verified`` (documents, none authentic: why) or ``no_evidence``."""
    out = []
    for level in settings.progress_levels:
        documents = [i for i in items if i.kind in level.evidence]
        good = next((i for i in documents if i.verdict == "authentic"), None)
        entry = {"level": level.key, "evidence_kinds": list(level.evidence)}
        if good is not None:
            out.append(entry | {"status": "backed", "evidence_id": good.evidence_id, "reason": None})
        elif documents:
            why = "; ".join(f"{i.evidence_id or 'document'} {i.verdict}: "
                            + ", ".join(r.message for r in i.reasons if r.effect == "against")[:300] for i in documents)
            out.append(entry | {"status": "not_verified", "evidence_id": None, "reason": why})
        else:
            out.append(entry | {"status": "no_evidence", "evidence_id": None,
                                "reason": f"no {' or '.join(level.evidence)} submitted"})
    return out


def _claimed_levels(catalog, deal_ids: list[str]) -> dict[str, str | None]:
    with catalog.session() as session:
        rows = session.execute(select(Deal.external_id, Deal.progress_level).where(Deal.external_id.in_(deal_ids)))
        return {deal: level for deal, level in rows}
