"""A proposal or quote PDF is checked by its watermark too (:mod:`talktrack.pipelines.quotes`).

The text checks say whether a document carries this customer's specifics; the watermark says
whether it is exactly what TalkTrack issued for this deal. A genuine mark makes the document
authentic (it *is* the issued proposal); a mark of another deal, an altered file or a forged mark
makes it fabricated whatever its text says. A PDF without any mark keeps its text verdict, with a
reason against it: proposals made before TalkTrack issued them carry none.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from talktrack.core.config import EvidenceSettings
from talktrack.pipelines.quotes import WATERMARKED_KINDS, QuoteCheck, QuoteError, check_quote
from talktrack.pipelines.semantic.evidence.records import EvidenceVerdict, Reason

FLAGGED_SCORE = 0.05


def watermarked_file(kind: str | None, path: str | Path | None) -> Path | None:
    """The PDF to check by its watermark, when the evidence is a proposal/quote with one on disk."""
    if kind not in WATERMARKED_KINDS or not path or Path(path).suffix.lower() != ".pdf" or not Path(path).is_file():
        return None
    return Path(path)


def check_watermark(catalog, verdict: EvidenceVerdict, path: Path, settings: EvidenceSettings) -> EvidenceVerdict:
    """``verdict`` with the watermark's finding on ``path`` folded in (a reason, and the score it implies)."""
    try:
        check = check_quote(catalog, verdict.deal_id, path)
    except QuoteError as exc:
        return _with(verdict, Reason("watermark_unreadable", "against", f"the watermark could not be read: {exc}"))
    return fold(verdict, check, settings)


def fold(verdict: EvidenceVerdict, check: QuoteCheck, settings: EvidenceSettings) -> EvidenceVerdict:
    if check.genuine:
        reason = Reason("watermark_genuine", "support", f"carries TalkTrack's watermark of quote {check.quote.quote_id} "
                        f"(version {check.quote.version}) issued for this deal, unaltered")
        return _with(verdict, reason, max(verdict.score, settings.authentic_min_score), "authentic")
    message = "; ".join(r.message for r in check.reasons)
    if check.codes == ["no_watermark"]:
        return _with(verdict, Reason("no_watermark", "against", message))
    return _with(verdict, Reason("watermark_flagged", "against", f"watermark check failed ({', '.join(check.codes)}): "
                                 f"{message}"), min(verdict.score, FLAGGED_SCORE), "fabricated")


def _with(verdict: EvidenceVerdict, reason: Reason, score: float | None = None,
          label: str | None = None) -> EvidenceVerdict:
    return replace(verdict, reasons=[*verdict.reasons, reason], score=verdict.score if score is None else score,
                   verdict=label or verdict.verdict)
