"""Evidence authenticity: documents read back, and real notes told from templates and copies.

The small semantic world (200 deals) is imported once; its evidence is checked once per
module (about 1,000 documents through the real embedders), and the verdicts are graded
against the world's truth. The bounds on detection and false alarms come from the
measurements reported with the feature (dev world of 3,000 deals and this one).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from talktrack.models.documents import DocumentError, DocumentLimits, DocumentTooLarge, read_document
from tests.document_bombs import docx_bomb, lying_docx

runner = CliRunner()


# --- documents --------------------------------------------------------------------------------

def test_text_and_markdown_read_back_in_utf8_and_gb18030(tmp_path):
    (tmp_path / "a.txt").write_text("Pain points: 21 stockouts this year.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# 纪要\n上季度流失12个大客户", encoding="gb18030")
    assert read_document(tmp_path / "a.txt") == "Pain points: 21 stockouts this year."
    assert read_document(tmp_path / "b.md") == "# 纪要\n上季度流失12个大客户"


def test_docx_paragraphs_and_tables_read_back(tmp_path):
    from docx import Document

    document = Document()
    document.add_paragraph("Call with Sam Shaw on Tuesday, March 4.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Budget", "$85,000"
    document.save(tmp_path / "notes.docx")
    assert read_document(tmp_path / "notes.docx") == "Call with Sam Shaw on Tuesday, March 4.\nBudget | $85,000"


def test_pdf_text_reads_back_and_a_scan_without_text_is_named(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Proposal for Lakeshore Health: 1,200 users, net 60.")
    pdf.output(str(tmp_path / "proposal.pdf"))
    assert "1,200 users, net 60" in read_document(tmp_path / "proposal.pdf")

    scan = FPDF()
    scan.add_page()
    scan.rect(10, 10, 100, 50, style="F")  # an image-like page: no text layer
    scan.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(DocumentError, match=r"scan\.pdf: .*no text layer"):
        read_document(tmp_path / "scan.pdf")


@pytest.mark.parametrize("name, content, reason", [
    ("broken.pdf", b"%PDF-1.7 this is not really a pdf", "not a readable PDF"),
    ("broken.docx", b"PK not a zip", "not a readable Word"),
    ("notes.rtf", b"{\\rtf1 hello}", "unsupported file type '.rtf'"),
    ("empty.txt", b"", "the file is empty"),
])
def test_bad_documents_raise_an_error_naming_file_and_reason(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        read_document(tmp_path / name)
    assert name in str(caught.value) and reason in str(caught.value)


# A fresh process reads one document and reports how long it took and how much its peak memory grew
# (the libraries are imported before the baseline, so only the reading counts).
MEASURE_READ = """
import json, resource, sys, time
import docx, pypdf
from talktrack.models.documents import DocumentError, read_document
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    outcome = {"chars": len(read_document(sys.argv[1]))}
except DocumentError as exc:
    outcome = {"error": type(exc).__name__, "reason": exc.reason}
outcome["seconds"] = time.perf_counter() - started
outcome["rss_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps(outcome))
"""


def test_a_docx_bomb_is_refused_from_its_zip_directory_in_milliseconds(tmp_path):
    """70 MB of XML in a 250 KB .docx: python-docx took 110 s and +840 MB before this check (2 cores);
    refused from the zip directory it takes about 3 ms and no memory."""
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(docx_bomb(70))
    assert bomb.stat().st_size < 400_000
    run = subprocess.run([sys.executable, "-c", MEASURE_READ, str(bomb)], capture_output=True, text=True, check=True)
    measured = json.loads(run.stdout)
    assert measured["error"] == "DocumentTooLarge" and "unpacks to" in measured["reason"], measured
    assert measured["seconds"] < 0.5 and measured["rss_mb"] < 20, measured


@pytest.mark.parametrize("content, limits, reason", [
    (lambda: docx_bomb(30), DocumentLimits(), r"inflates \d+:1 \(at most 100:1\)"),  # within the unpacked size, past the ratio
    (lambda: lying_docx(30, 400_000), DocumentLimits(), "more than 200000 characters"),
    (lambda: lying_docx(30, 400_000), DocumentLimits(max_chars=10**9), "inflates past the 400000 bytes"),
    (lambda: lying_docx(30, 400_000), DocumentLimits(max_chars=10**9, max_docx_elements=1000), "more than 1000 XML"),
])
def test_a_docx_that_hides_its_size_is_refused_while_it_is_inflated(tmp_path, content, limits, reason):
    """The directory's sizes can lie: every member is inflated in 64 KB steps, counted against what it
    declared, and document.xml's elements and text are counted before python-docx sees it."""
    path = tmp_path / "hidden.docx"
    path.write_bytes(content())
    with pytest.raises(DocumentTooLarge, match=reason):
        read_document(path, limits=limits)


def test_text_pdf_pages_and_reading_time_have_limits(tmp_path):
    from fpdf import FPDF

    (tmp_path / "long.txt").write_text("stockouts " * 20_001, encoding="utf-8")
    with pytest.raises(DocumentTooLarge, match="its text is 200009 characters; at most 200000"):
        read_document(tmp_path / "long.txt")
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for page in range(3):
        pdf.add_page()
        pdf.cell(text=f"Proposal page {page + 1}: 1,200 users, net 60.")
    pdf.output(str(tmp_path / "proposal.pdf"))
    assert "page 3" in read_document(tmp_path / "proposal.pdf")
    with pytest.raises(DocumentTooLarge, match="the PDF has 3 pages; at most 2"):
        read_document(tmp_path / "proposal.pdf", limits=DocumentLimits(max_pdf_pages=2))
    with pytest.raises(DocumentTooLarge, match=r"took more than 0 s \(page 1 of 3\)"):
        read_document(tmp_path / "proposal.pdf", limits=DocumentLimits(max_pdf_s=0))


# --- verdicts on the small world ----------------------------------------------------------------

@pytest.fixture(scope="module")
def evidence_ws(tmp_path_factory, semantic_workspace):
    """A private copy of the imported small world, with the evidence index built once."""
    from talktrack.core.catalog import open_catalog
    from talktrack.core.workspace import Workspace
    from talktrack.pipelines.semantic.evidence import open_verifier

    settings, workspace, _ = semantic_workspace
    root = tmp_path_factory.mktemp("evidence") / "ws"
    shutil.copytree(workspace.root, root)
    settings = settings.model_copy(update={"workspace": root})
    workspace = Workspace.at(root).ensure()
    catalog = open_catalog(workspace.catalog_url)
    verifier = open_verifier(catalog, settings, workspace)
    verifier.load_all_facts()
    return settings, workspace, catalog, verifier


@pytest.fixture(scope="module")
def reports(evidence_ws):
    from talktrack.pipelines.semantic.evidence import verify_all

    settings, workspace, catalog, _ = evidence_ws
    return verify_all(catalog, settings, workspace)


def _evidence_text(catalog, evidence_id):
    from sqlalchemy import select

    from talktrack.core.catalog.schema import EvidenceDocument

    with catalog.session() as session:
        return session.execute(select(EvidenceDocument.text).where(EvidenceDocument.external_id == evidence_id)).scalar()


def _first(truth, authenticity, kinds=("meeting_notes", "call_summary")):
    return next(eid for eid, t in sorted(truth["evidence"].items())
                if t["authenticity"] == authenticity and t["kind"] in kinds)


def test_an_authentic_note_is_authentic_with_the_real_facts_and_their_calls(evidence_ws, semantic_truth):
    from talktrack.pipelines.semantic.evidence import verify_evidence

    settings, workspace, catalog, verifier = evidence_ws
    evidence_id = _first(semantic_truth, "authentic")
    truth = semantic_truth["evidence"][evidence_id]
    verdict = verify_evidence(catalog, settings, workspace, truth["deal_id"], _evidence_text(catalog, evidence_id),
                              exclude_evidence_id=evidence_id, verifier=verifier)
    assert verdict.verdict == "authentic", verdict.to_dict()
    support = next(r for r in verdict.reasons if r.code == "specific_facts")
    calls = set(semantic_truth["deals"][truth["deal_id"]]["calls"])
    assert any(p.source == "call" and p.ref in calls for p in support.passages)
    assert all(f.passages for f in verdict.matched_facts)


def test_another_customers_note_with_the_name_swapped_is_caught_and_names_its_source(evidence_ws, semantic_truth):
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Customer, Deal
    from talktrack.pipelines.semantic.evidence import verify_evidence

    settings, workspace, catalog, verifier = evidence_ws
    source_id = _first(semantic_truth, "authentic")
    source_deal = semantic_truth["evidence"][source_id]["deal_id"]
    with catalog.session() as session:
        names = dict(session.execute(select(Deal.external_id, Customer.name).join(Customer)).all())
    target_deal = next(d for d, name in sorted(names.items()) if name != names[source_deal]
                       and semantic_truth["deals"][d]["calls"])
    copied = _evidence_text(catalog, source_id).replace(names[source_deal], names[target_deal])
    verdict = verify_evidence(catalog, settings, workspace, target_deal, copied, verifier=verifier)
    assert verdict.verdict in ("fabricated", "suspicious")
    assert verdict.copy_of == source_id
    copy_reason = next(r for r in verdict.reasons if r.code == "near_copy")
    assert copy_reason.passages[0].ref == source_id


def test_a_template_note_is_flagged_for_having_nothing_specific(evidence_ws, semantic_truth):
    from talktrack.pipelines.semantic.evidence import verify_evidence

    settings, workspace, catalog, verifier = evidence_ws
    evidence_id = _first(semantic_truth, "template")
    deal_id = semantic_truth["evidence"][evidence_id]["deal_id"]
    verdict = verify_evidence(catalog, settings, workspace, deal_id, _evidence_text(catalog, evidence_id),
                              exclude_evidence_id=evidence_id, verifier=verifier)
    assert verdict.verdict != "authentic"
    assert verdict.specificity == 0.0
    assert "no_specific_facts" in {r.code for r in verdict.reasons}


def test_detection_and_false_alarms_on_the_small_world(evidence_ws, reports, semantic_world):
    from talktrack.evaluation.semantic.evidence import evaluate_evidence

    settings, workspace, catalog, _ = evidence_ws
    result = evaluate_evidence(semantic_world, catalog, settings, workspace, reports=reports)
    notes = result["documents"]["notes"]["all"]
    assert notes["template"]["n"] > 0 and notes["copied"]["n"] > 0
    assert notes["fake"]["rate"] >= 0.95
    assert notes["authentic"]["rate"] <= 0.05
    assert notes["copy_source_correct"]["correct"] >= 0.9 * notes["copy_source_correct"]["n"]
    deals = result["deals"]["all"]
    assert deals["fake"]["rate"] >= 0.9
    assert deals["authentic"]["rate"] <= 0.08


def test_cli_verify_prints_json_and_an_unknown_deal_exits_2(evidence_ws, semantic_truth, tmp_path):
    from talktrack.cli.main import app

    _, workspace, catalog, _ = evidence_ws
    evidence_id = _first(semantic_truth, "authentic")
    note = tmp_path / "note.md"
    note.write_text(_evidence_text(catalog, evidence_id), encoding="utf-8")
    deal_id = semantic_truth["evidence"][evidence_id]["deal_id"]
    result = runner.invoke(app, ["-w", str(workspace.root), "evidence", "verify", "--deal", deal_id, str(note),
                                 "--json"])
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["deal_id"] == deal_id and verdict["verdict"] in ("authentic", "suspicious", "fabricated")
    assert 0.0 <= verdict["score"] <= 1.0 and verdict["reasons"]

    unknown = runner.invoke(app, ["-w", str(workspace.root), "evidence", "verify", "--deal", "DEAL-NOPE", "hello"])
    assert unknown.exit_code == 2
    assert "DEAL-NOPE" in unknown.output

    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    unreadable = runner.invoke(app, ["-w", str(workspace.root), "evidence", "verify", "--deal", deal_id, str(bad)])
    assert unreadable.exit_code == 2 and "scan.pdf" in unreadable.output


def test_a_deal_report_flags_a_faking_deal_and_passes_an_honest_one(evidence_ws, semantic_truth):
    from talktrack.pipelines.semantic.evidence import verify_deal

    settings, workspace, catalog, verifier = evidence_ws
    with_evidence = {t["deal_id"] for t in semantic_truth["evidence"].values()}
    fake = next(d for d, t in sorted(semantic_truth["deals"].items()) if t["fake_progress"] and d in with_evidence)
    honest = next(d for d, t in sorted(semantic_truth["deals"].items())
                  if not t["fake_progress"] and t["backed_progress_level"] == "proposal_submitted")
    flagged = verify_deal(catalog, settings, workspace, fake, verifier=verifier)
    assert flagged.fake_progress and flagged.reasons and flagged.backed_progress_level is None
    passed = verify_deal(catalog, settings, workspace, honest, verifier=verifier)
    assert not passed.fake_progress
    assert passed.backed_progress_level == "proposal_submitted"


def test_the_index_adds_new_evidence_without_rebuilding(evidence_ws, tmp_path):
    from talktrack.pipelines.semantic.evidence.sources import load_evidence_rows
    from talktrack.pipelines.semantic.evidence.store import EvidenceIndex

    _, _, catalog, verifier = evidence_ws
    rows = load_evidence_rows(catalog)
    index = EvidenceIndex(tmp_path / "evidence", verifier.index.embedders)
    first = index.sync(rows[:-10])
    reopened = EvidenceIndex(tmp_path / "evidence", verifier.index.embedders)
    second = reopened.sync(rows)
    assert sum(c["added"] for c in second.values()) == 10
    assert sum(c["rows"] for c in second.values()) == sum(c["rows"] for c in first.values()) + 10
    row = rows[-1]
    space, vector = reopened.vector_of(row.evidence_id)
    assert reopened.search(space, vector, 1)[0].similarity > 0.999  # its own vector (or an identical text)


def test_a_proposal_pdf_is_checked_by_its_watermark(evidence_ws, tmp_path):
    """Genuine TalkTrack mark of this deal → authentic whatever the text; another customer's → fabricated;
    no mark → the text verdict stands, with a reason against."""
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Deal
    from talktrack.pipelines.quotes import issue_quote
    from talktrack.pipelines.semantic.evidence import verify_evidence
    from tests.test_quotes import fpdf_proposal

    settings, workspace, catalog, verifier = evidence_ws
    with catalog.session() as session:
        deal, customer = session.execute(select(Deal.external_id, Deal.customer_id).order_by(Deal.id).limit(1)).one()
        other = session.scalar(select(Deal.external_id).where(Deal.customer_id != customer).limit(1))
    source = fpdf_proposal(tmp_path / "offer.pdf")
    issue_quote(catalog, deal, source, tmp_path / "ours.pdf")
    issue_quote(catalog, other, source, tmp_path / "theirs.pdf")
    text = "Proposal page 1: 1,200 users at 128,000 CNY a year, net 60."

    def check(name):
        verdict = verify_evidence(catalog, settings, workspace, deal, text, kind="proposal", verifier=verifier,
                                  document=tmp_path / name)
        return verdict.verdict, {r.code: r.message for r in verdict.reasons}

    plain_verdict, plain = check("offer.pdf")
    ours_verdict, ours = check("ours.pdf")
    theirs_verdict, theirs = check("theirs.pdf")
    assert ours_verdict == "authentic" and "watermark_genuine" in ours
    assert theirs_verdict == "fabricated" and "other_customer" in theirs["watermark_flagged"]
    assert "no_watermark" in plain and plain_verdict != "authentic"  # made-up figures, no mark
