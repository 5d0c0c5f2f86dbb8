"""The data-credibility report as a page a director files: standalone HTML, and PDF through reportlab.

Both render the same JSON (:func:`talktrack.pipelines.management.credibility.credibility_report`): the
manager ranking, a trend chart of each team's data quality over the report's months, and per team
the month's hand share per field and the cross-system checks. The PDF is drawn by reportlab (a real
renderer with its own charts), so it needs no browser; its fonts are the built-in Helvetica plus the
CID font STSong-Light, which reportlab ships for Chinese names.
"""

from __future__ import annotations

import io
from html import escape

CJK_FONT = "STSong-Light"
FORMATS = ("json", "html", "pdf")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _manager(row: dict) -> str:
    manager = row.get("manager")
    return "-" if not manager else f"{manager['name'] or manager['id']} ({manager['id']})"


def _month_of(team: dict, month: str) -> dict:
    return next(m for m in team["months"] if m["month"] == month)


def to_html(report: dict) -> str:
    """One self-contained page (no scripts, inline SVG for the trend)."""
    parts = [f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Data credibility {escape(report['month'])}"
             "</title><style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}"
             "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;"
             "text-align:right}td:first-child,th:first-child{text-align:left}</style>",
             f"<h1>Data credibility, {escape(report['month'])}</h1>",
             f"<p>Months {escape(report['months'][0])} to {escape(report['months'][-1])}.</p>",
             "<h2>Managers by data quality</h2><table><tr><th>rank</th><th>manager</th><th>team</th>"
             "<th>data quality</th><th>captured share</th><th>pass rate</th></tr>"]
    for r in report["ranking"]:
        parts.append(f"<tr><td>{r['rank']}</td><td>{escape(_manager(r))}</td><td>{escape(r['team'])}</td>"
                     f"<td>{_pct(r['quality'])}</td><td>{_pct(r['captured_share'])}</td><td>{_pct(r['pass_rate'])}</td></tr>")
    parts.append("</table><h2>Trend of data quality</h2>" + _svg_trend(report))
    for team in report["teams"]:
        parts.append(_html_team(team, _month_of(team, report["month"])))
    parts.append("<h2>Formulas</h2><ul>" + "".join(f"<li><b>{escape(k)}</b> = {escape(v)}</li>"
                                                   for k, v in report["formulas"].items()) + "</ul></html>")
    return "".join(parts)


def _html_team(team: dict, month: dict) -> str:
    rows = "".join(f"<tr><td>{escape(f['field'])}</td><td>{f['hand']}</td><td>{f['captured']}</td>"
                   f"<td>{_pct(f['hand_share'])}</td><td>{escape(', '.join(f'{k} {v}' for k, v in f['by_source'].items()))}"
                   "</td></tr>" for f in month["fields"])
    checks = "".join(f"<tr><td>{name}</td><td>{c['checked']}</td><td>{c['passed']}</td><td>{_pct(c['pass_rate'])}</td></tr>"
                     for name, c in month["checks"].items())
    return (f"<h2>{escape(team['team'])} {escape(team['name'] or '')} — {escape(_manager(team))}</h2>"
            "<table><tr><th>field</th><th>by hand</th><th>captured</th><th>hand share</th><th>captured from</th></tr>"
            f"{rows}</table><table><tr><th>check</th><th>checked</th><th>passed</th><th>pass rate</th></tr>{checks}"
            "</table>")


def _svg_trend(report: dict, width: int = 640, height: int = 200) -> str:
    months = report["months"]
    step = (width - 60) / max(1, len(months) - 1)
    lines = []
    for i, team in enumerate(report["teams"]):
        points = [(40 + j * step, height - 20 - (m["quality"] or 0.0) * (height - 40))
                  for j, m in enumerate(team["months"]) if m["quality"] is not None]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        lines.append(f"<polyline fill='none' stroke='hsl({i * 67 % 360},60%,40%)' stroke-width='2' points='{path}'>"
                     f"<title>{escape(team['team'])}</title></polyline>")
    labels = "".join(f"<text x='{40 + j * step:.1f}' y='{height - 4}' font-size='10' text-anchor='middle'>"
                     f"{escape(m[2:])}</text>" for j, m in enumerate(months))
    return (f"<svg viewBox='0 0 {width} {height}' width='100%' role='img' aria-label='data quality per team and month'>"
            f"<line x1='40' y1='{height - 20}' x2='{width - 20}' y2='{height - 20}' stroke='#999'/>"
            f"<text x='4' y='24' font-size='10'>100%</text><text x='4' y='{height - 22}' font-size='10'>0%</text>"
            f"{''.join(lines)}{labels}</svg>")


def to_pdf(report: dict) -> bytes:
    """An A4 PDF: the ranking, the trend chart and each team's month, drawn by reportlab."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    styles = getSampleStyleSheet()
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("FONTNAME", (0, 0), (-1, -1), CJK_FONT),
                       ("FONTSIZE", (0, 0), (-1, -1), 8), ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)])
    story = [Paragraph(f"Data credibility, {report['month']}", styles["Title"]),
             Paragraph(f"Months {report['months'][0]} to {report['months'][-1]}; data quality = "
                       f"{report['formulas']['data_quality']}.", styles["Normal"]), Spacer(1, 8),
             Paragraph("Managers by data quality", styles["Heading2"]),
             Table([["rank", "manager", "team", "data quality", "captured share", "pass rate"]]
                   + [[str(r["rank"]), _manager(r), r["team"], _pct(r["quality"]), _pct(r["captured_share"]),
                       _pct(r["pass_rate"])] for r in report["ranking"]], style=grid),
             Paragraph("Trend of data quality", styles["Heading2"]), _pdf_trend(report)]
    for team in report["teams"]:
        month = _month_of(team, report["month"])
        story += [Paragraph(f"{team['team']} — {_manager(team)}", styles["Heading3"]),
                  Table([["field", "by hand", "captured", "hand share"]]
                        + [[f["field"], str(f["hand"]), str(f["captured"]), _pct(f["hand_share"])] for f in month["fields"]]
                        + [["check " + name, str(c["checked"]), str(c["passed"]), _pct(c["pass_rate"])]
                           for name, c in month["checks"].items()], style=grid)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=f"Data credibility {report['month']}").build(story)
    return buffer.getvalue()


def _pdf_trend(report: dict):
    """A reportlab line chart: one line per team, data quality (%) per month.

    reportlab cannot draw a line through fewer than two points, so a team with data in one month
    only (or none) is named under the chart with its value instead of being drawn."""
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    series = {t["team"]: [None if m["quality"] is None else round(100 * m["quality"], 1) for m in t["months"]]
              for t in report["teams"]}
    drawn = {team: values for team, values in series.items() if sum(v is not None for v in values) >= 2}
    apart = [f"{team}: {', '.join(f'{v:.1f}%' for v in values if v is not None) or 'no data'}"
             for team, values in series.items() if team not in drawn]
    drawing = Drawing(460, 180 + 12 * len(apart))
    for i, line in enumerate(apart):
        drawing.add(String(40, 4 + 12 * (len(apart) - 1 - i), f"Too few months to draw — {line}", fontSize=8))
    if not drawn:
        return drawing
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 40, 30 + 12 * len(apart), 320, 130
    chart.data = list(drawn.values())
    chart.categoryAxis.categoryNames = [m[2:] for m in report["months"]]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    palette = [colors.HexColor(c) for c in ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")]
    for i in range(len(chart.data)):
        chart.lines[i].strokeColor = palette[i % len(palette)]
        chart.lines[i].strokeWidth = 1.5
    legend = Legend()
    legend.x, legend.y = 372, chart.y + 120
    legend.colorNamePairs = [(palette[i % len(palette)], team) for i, team in enumerate(drawn)]
    drawing.add(chart)
    drawing.add(legend)
    return drawing
