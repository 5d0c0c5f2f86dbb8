"""How well quote watermarks catch forgeries: issue quotes, forge them the ways people do, check them.

Bases are proposals drawn here with reportlab (English and Chinese, one to four pages, with
amounts and terms) and, beside them, third-party PDFs found on the machine (TeX manuals under
``/usr/share/doc``, another producer's layout and fonts). Each base is issued for a deal of a real
SQLite catalog, then every variant of :data:`VARIANTS` is written as a real PDF file and checked
against a deal. ``intact`` and ``resaved`` must pass (a false alarm otherwise); every other variant
must be flagged. The report gives, per set, the share flagged per variant and overall, and the
false alarms.

    >>> report = evaluate_quotes(Path("/tmp/q"), bases=12, seed=0)   # doctest: +SKIP
    >>> report["generated"]["flagged_share"], report["generated"]["false_alarms"]
    (1.0, 0)
"""

from __future__ import annotations

import io
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Customer, Deal, Rep, Team
from talktrack.models.pdf_watermark import MARK_KEY, Mark, stamp_pdf
from talktrack.pipelines.quotes import check_quote, issue_quote

THIRD_PARTY_GLOB = ("/usr/share/doc", "**/*.pdf")
MAX_THIRD_PARTY = 4
INTACT = ("intact", "resaved")
_LITERAL_DIGIT = re.compile(rb"\(((?:[^()\\]|\\.)*?)(\d)")
_EN_LINES = ("Scope: {users} seats of the {product} suite, onboarding and training included.",
             "Price: {amount:,} CNY per year, payment terms net {terms} days.",
             "Delivery: go-live by week {week}; a named onboarding owner on both sides.",
             "Pains addressed: stock-outs at {sites} sites, manual reconciliation of {hours} hours a week.")
_ZH_LINES = ("范围：{product}套件 {users} 个账号，含上线实施与培训。",
             "报价：每年 {amount:,} 元，付款条件 {terms} 天。",
             "交付：第 {week} 周上线，双方指定上线负责人。",
             "解决的痛点：{sites} 个门店缺货，每周 {hours} 小时手工对账。")


@dataclass(frozen=True)
class Case:
    """One file to check: which variant, against which deal, and whether it must pass."""

    variant: str
    path: Path
    deal_id: str

    @property
    def should_pass(self) -> bool:
        return self.variant in INTACT


def evaluate_quotes(folder: Path, *, bases: int = 24, seed: int = 0, third_party: bool = True) -> dict:
    """Issue ``bases`` generated proposals (and the third-party PDFs found), forge them, check every file."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    catalog = open_catalog(f"sqlite:///{folder / 'catalog.db'}")
    try:
        deals = seed_deals(catalog, max(4, bases))
        rng = random.Random(seed)
        generated = [draw_proposal(folder / f"base-{i:03d}.pdf", rng, zh=i % 2 == 1) for i in range(bases)]
        report = {"seed": seed, "generated": _measure(catalog, folder / "generated", generated, deals, rng)}
        found = third_party_pdfs() if third_party else []
        report["third_party"] = (_measure(catalog, folder / "third-party", found, deals, rng) | {
            "files": [str(p) for p in found]}) if found else None
        return report
    finally:
        catalog.dispose()


def third_party_pdfs() -> list[Path]:
    """PDFs made by other tools on this machine (none on a bare one: the report says so)."""
    root, pattern = THIRD_PARTY_GLOB
    return sorted(Path(root).glob(pattern))[:MAX_THIRD_PARTY] if Path(root).is_dir() else []


def _measure(catalog, folder: Path, bases: list[Path], deals: list[tuple[str, str]], rng: random.Random) -> dict:
    folder.mkdir(parents=True)
    cases: list[Case] = []
    for number, base in enumerate(bases):
        deal, customer = deals[number % len(deals)]
        donor = bases[(number + 1) % len(bases)] if len(bases) > 1 else base
        cases += _forge(catalog, folder / f"{number:03d}", base, donor, deal, deals, rng)
    results: dict[str, list[bool]] = {}
    missed = []
    for case in cases:
        check = check_quote(catalog, case.deal_id, case.path)
        correct = check.genuine == case.should_pass
        results.setdefault(case.variant, []).append(correct)
        if not correct:
            missed.append({"variant": case.variant, "file": case.path.name, "reasons": check.codes})
    forged = [ok for variant, oks in results.items() if variant not in INTACT for ok in oks]
    intact = [ok for variant, oks in results.items() if variant in INTACT for ok in oks]
    return {"bases": len(bases), "files": len(cases), "forged": len(forged), "intact": len(intact),
            "flagged_share": round(sum(forged) / len(forged), 4) if forged else None,
            "false_alarms": len(intact) - sum(intact),
            "per_variant": {v: {"files": len(oks), "correct": sum(oks)} for v, oks in sorted(results.items())},
            "missed": missed}


def _forge(catalog, folder: Path, base: Path, donor: Path, deal: str, deals, rng: random.Random) -> list[Case]:
    """The issued file and every forgery of it, as files under ``folder``."""
    folder.mkdir(parents=True)
    issued = folder / "issued.pdf"
    quote = issue_quote(catalog, deal, base, issued)
    mark = Mark(quote.quote_id, deal, quote.customer_id, quote.version, quote.source_sha256)
    other_customer = next(d for d, c in deals if c != quote.customer_id)
    same_customer = next((d for d, c in deals if c == quote.customer_id and d != deal), None)
    cases = [Case("intact", issued, deal), Case("resaved", _resaved(issued, folder / "resaved.pdf"), deal),
             Case("other_customer", issued, other_customer)]
    if same_customer:
        cases.append(Case("other_deal_same_customer", issued, same_customer))
    forgeries: dict[str, Callable[[Path], Path | None]] = {
        "text_edited": lambda out: _edit_text(issued, out, rng),
        "whiteout": lambda out: _whiteout(issued, out, rng),
        "page_added": lambda out: _add_page(issued, donor, mark, out),
        "page_removed": lambda out: _remove_page(issued, out),
        "pages_swapped": lambda out: _swap_pages(issued, out),
        "stripped": lambda out: Path(shutil.copy(base, out)),
        "stripped_kept_ids": lambda out: _ids_only(base, mark, out),
        "mark_copied": lambda out: _copy_mark(donor, base, mark, out),
    }
    for variant, forge in forgeries.items():
        path = forge(folder / f"{variant}.pdf")
        if path is not None:
            cases.append(Case(variant, Path(path), deal))
    return cases


# -- the forgeries ------------------------------------------------------------------------------------
def _resaved(source: Path, out: Path) -> Path:
    """Opened and saved again by another program (pypdf): same pages, different bytes."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.compress_identical_objects()
    writer.write(out)
    return out


def _edit_text(source: Path, out: Path, rng: random.Random) -> Path:
    """A digit inside a text string of the content stream changed, as a PDF editor does; whiteout when the
    text is not stored as plain strings (a CID font)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ContentStream

    writer = PdfWriter(clone_from=PdfReader(source))
    for page in writer.pages:
        data = page.get_contents().get_data()
        hits = list(_LITERAL_DIGIT.finditer(data))
        if hits:
            hit = hits[rng.randrange(len(hits))]
            digit = hit.group(2)
            new = str((int(digit) + rng.randint(1, 8)) % 10).encode()
            data = data[:hit.start(2)] + new + data[hit.end(2):]
            stream = ContentStream(None, writer)
            stream.set_data(data)
            page.replace_contents(stream)
            writer.write(out)
            return out
    return _whiteout(source, out, rng)


def _whiteout(source: Path, out: Path, rng: random.Random) -> Path:
    """A white box over a line and a new figure typed on it (an edit on top of the page)."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    writer = PdfWriter(clone_from=PdfReader(source))
    page = writer.pages[rng.randrange(len(writer.pages))]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=(width, height))
    drawing.setFillColorRGB(1, 1, 1)
    drawing.rect(60, height - 200, 300, 16, stroke=0, fill=1)
    drawing.setFillColorRGB(0, 0, 0)
    drawing.setFont("Helvetica", 11)
    drawing.drawString(62, height - 196, f"Price: {rng.randint(50, 99)},000 CNY per year")
    drawing.save()
    page.merge_page(PdfReader(io.BytesIO(buffer.getvalue())).pages[0])
    writer.write(out)
    return out


def _add_page(source: Path, donor: Path, mark: Mark, out: Path) -> Path:
    """A page of another proposal appended, given the same mark so it looks like the rest."""
    from pypdf import PdfReader, PdfWriter

    marked_donor = out.with_name(out.stem + "-donor.pdf")
    stamp_pdf(donor, marked_donor, mark, f"TalkTrack · {mark.deal_id}")
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.add_page(PdfReader(marked_donor).pages[0])
    writer.write(out)
    return out


def _remove_page(source: Path, out: Path) -> Path | None:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(source)
    if len(reader.pages) < 2:
        return None
    writer = PdfWriter(clone_from=reader)
    writer.remove_page(len(writer.pages) - 1)
    writer.write(out)
    return out


def _swap_pages(source: Path, out: Path) -> Path | None:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(source)
    if len(reader.pages) < 2:
        return None
    writer = PdfWriter()
    order = [1, 0, *range(2, len(reader.pages))]
    for index in order:
        writer.add_page(reader.pages[index])
    writer.add_metadata(dict(reader.metadata or {}))
    writer.write(out)
    return out


def _ids_only(base: Path, mark: Mark, out: Path) -> Path:
    """The visible watermark removed (the original pages) but the embedded ids kept."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(base))
    for page in writer.pages:
        page[NameObject(MARK_KEY)] = TextStringObject(mark.token())
    writer.add_metadata({MARK_KEY: mark.token()})
    writer.write(out)
    return out


def _copy_mark(donor: Path, base: Path, mark: Mark, out: Path) -> Path:
    """The watermark reproduced exactly on another document (the donor, or the base when there is one file)."""
    target = donor if donor != base else _whiteout(base, out.with_name(out.stem + "-edited.pdf"), random.Random(1))
    stamp_pdf(target, out, mark, f"TalkTrack · {mark.deal_id} · v{mark.version}")
    return out


# -- the generated material ---------------------------------------------------------------------------
def draw_proposal(path: Path, rng: random.Random, *, zh: bool) -> Path:
    """A proposal of one to four pages with figures, drawn with reportlab (a Chinese CID font for Chinese)."""
    from reportlab.lib.pagesizes import A4, LETTER
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    font = "Helvetica"
    if zh:
        if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        font = "STSong-Light"
    size = A4 if rng.random() < 0.7 else LETTER
    drawing = canvas.Canvas(str(path), pagesize=size)
    lines = _ZH_LINES if zh else _EN_LINES
    for page in range(rng.randint(1, 4)):
        drawing.setFont(font, 16)
        drawing.drawString(60, size[1] - 80, ("方案与报价 第 {} 页" if zh else "Proposal and quote, page {}").format(page + 1))
        drawing.setFont(font, 11)
        for row, line in enumerate(rng.sample(lines, len(lines))):
            values = {"users": rng.randint(20, 2000), "product": rng.choice(("Atlas", "Beacon", "Cobalt")),
                      "amount": rng.randint(20, 900) * 1000, "terms": rng.choice((30, 45, 60, 90)),
                      "week": rng.randint(2, 20), "sites": rng.randint(3, 80), "hours": rng.randint(4, 60)}
            drawing.drawString(60, size[1] - 130 - 22 * row, line.format(**values))
        if rng.random() < 0.5:
            drawing.setFillColorRGB(rng.random(), rng.random(), rng.random())
            drawing.rect(60, 120, rng.randint(80, 400), rng.randint(20, 200), stroke=0, fill=1)
            drawing.setFillColorRGB(0, 0, 0)
        drawing.showPage()
    drawing.save()
    return path


def seed_deals(catalog, count: int) -> list[tuple[str, str]]:
    """``count`` deals over ``count // 2`` customers (two deals each): (deal id, customer id)."""
    deals = []
    with catalog.session() as session:
        team = Team(external_id="EVAL-TEAM", name="Quotes evaluation")
        session.add(team)
        session.flush()
        rep = Rep(external_id="EVAL-REP", name="Evaluation rep", team_id=team.id)
        session.add(rep)
        session.flush()
        for number in range(max(2, count // 2)):
            customer = Customer(external_id=f"EVAL-CUST-{number:03d}",
                                name=f"华东医疗 {number}" if number % 2 else f"Lakeshore Health {number}")
            session.add(customer)
            session.flush()
            for second in range(2):
                deal_id = f"EVAL-DEAL-{number:03d}-{second}"
                session.add(Deal(external_id=deal_id, customer_id=customer.id, rep_id=rep.id,
                                 created_at=datetime(2026, 1, 1), stage="solution_presentation"))
                deals.append((deal_id, customer.external_id))
    return deals
