"""Evidence authenticity: is a deal's meeting note real, a template, or another customer's copy?

:func:`verify_evidence` scores one document, :func:`verify_deal` all of a deal's evidence,
:func:`verify_all` every deal at once, :func:`verify_screenshot` a calendar screenshot alone; see :mod:`.verify` for the signals and the score.
"""

from talktrack.pipelines.semantic.evidence.api import (
    catalog_stamp,
    check_row,
    deal_report,
    open_verifier,
    verify_all,
    verify_deal,
    verify_evidence,
    verify_screenshot,
)
from talktrack.pipelines.semantic.evidence.records import (
    VERDICTS,
    DealEvidenceReport,
    EvidenceError,
    EvidenceVerdict,
    MatchedFact,
    Reason,
)
from talktrack.pipelines.semantic.evidence.sources import Passage
from talktrack.pipelines.semantic.evidence.verify import EvidenceVerifier

__all__ = [
    "VERDICTS", "DealEvidenceReport", "EvidenceError", "EvidenceVerdict", "EvidenceVerifier", "MatchedFact",
    "Passage", "Reason", "catalog_stamp", "check_row", "deal_report", "open_verifier", "verify_all", "verify_deal",
    "verify_evidence", "verify_screenshot",
]
