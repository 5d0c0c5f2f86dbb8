// Management page, credibility section: how much of the CRM a director can believe (GET
// /v1/management/credibility). Managers ranked by data quality over the report's months, a small trend of
// each team's data quality per month (our own SVG), and per team the month's fields typed by hand vs
// captured and the cross-system checks; the same report as a PDF on a click (fetched with the signed-in key).
// The month is ?month=YYYY-MM, else the month before ?as_of, else the API's default (last month).
"use strict";

Object.assign(TT_STRINGS.en, {
  "cred.heading": "Data credibility", "cred.window": "{month}; trend {first} – {last}",
  "cred.rank": "Rank", "cred.manager": "Manager", "cred.team": "Team", "cred.quality": "Data quality",
  "cred.captured": "Captured", "cred.check.stage": "Stage check", "cred.check.visit": "Visit check",
  "cred.check.amount": "Amount check", "cred.field": "Field", "cred.hand": "By hand", "cred.hand_share": "Hand share",
  "cred.from": "Captured from", "cred.trend": "Data quality per month", "cred.pdf": "Download PDF",
  "cred.formula": "data quality = (captured share + cross-check pass rate) ÷ 2",
});
Object.assign(TT_STRINGS.zh, {
  "cred.heading": "数据可信度", "cred.window": "{month}；趋势 {first} – {last}",
  "cred.rank": "排名", "cred.manager": "经理", "cred.team": "团队", "cred.quality": "数据质量",
  "cred.captured": "自动采集", "cred.check.stage": "阶段核验", "cred.check.visit": "拜访核验",
  "cred.check.amount": "金额核验", "cred.field": "字段", "cred.hand": "手工录入", "cred.hand_share": "手工占比",
  "cred.from": "采集来源", "cred.trend": "每月数据质量", "cred.pdf": "下载 PDF",
  "cred.formula": "数据质量 = (自动采集占比 + 交叉核验通过率) ÷ 2",
});

(() => {
  const { el, t, pct } = TT;
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const CHECKS = ["stage", "visit", "amount"];

  const svg = (tag, attrs, ...children) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    node.append(...children);
    return node;
  };

  function ranking(report) {
    const teams = new Map(report.teams.map((team) => [team.team, team]));
    const head = el("tr", {}, ["rank", "manager", "team", "quality", "captured", ...CHECKS.map((c) => `check.${c}`)]
      .map((k) => el("th", {}, t(`cred.${k}`))));
    const rows = report.ranking.map((r) => {
      const checks = teams.get(r.team).window.checks;
      return el("tr", { dataset: { team: r.team, quality: r.quality ?? "" } }, el("td", {}, r.rank),
        el("td", {}, r.manager ? r.manager.name || r.manager.id : "–"), el("td", {}, r.team),
        el("td", { class: "quality" }, el("b", {}, pct(r.quality))), el("td", {}, pct(r.captured_share)),
        CHECKS.map((c) => el("td", { dataset: { check: c } }, pct(checks[c].pass_rate),
          el("span", { class: "muted" }, ` ${checks[c].passed}/${checks[c].checked}`))));
    });
    return el("div", { class: "scroll" }, el("table", { id: "cred-ranking" }, el("thead", {}, head), el("tbody", {}, rows)));
  }

  function trend(report) {
    const w = 480, h = 150, left = 34, bottom = 20;
    const step = (w - left - 10) / Math.max(1, report.months.length - 1);
    const y = (q) => h - bottom - q * (h - bottom - 10);
    const lines = report.teams.map((team, i) => {
      const points = team.months.map((m, j) => (m.quality === null ? null : `${left + j * step},${y(m.quality)}`)).filter(Boolean);
      return svg("polyline", { points: points.join(" "), fill: "none", "stroke-width": 2,
        stroke: `hsl(${(i * 67) % 360},60%,40%)`, "data-team": team.team }, svg("title", {}, team.team));
    });
    const labels = report.months.map((m, j) => svg("text", { x: left + j * step, y: h - 4, "font-size": 10,
      "text-anchor": "middle" }, m.slice(2)));
    return el("figure", { class: "scroll" }, el("figcaption", { class: "muted" }, t("cred.trend")),
      svg("svg", { id: "cred-trend", viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img", "aria-label": t("cred.trend") },
        svg("line", { x1: left, x2: w - 10, y1: y(0), y2: y(0), stroke: "#999" }),
        svg("text", { x: 0, y: y(1) + 4, "font-size": 10 }, "100%"), svg("text", { x: 8, y: y(0), "font-size": 10 }, "0%"),
        ...lines, ...labels));
  }

  function teamMonth(report, team) {
    const month = team.months.find((m) => m.month === report.month);
    const rows = month.fields.map((f) => el("tr", { dataset: { field: f.field } }, el("td", {}, f.field),
      el("td", {}, f.hand), el("td", {}, f.captured), el("td", { class: "share" }, pct(f.hand_share)),
      el("td", { class: "muted" }, Object.entries(f.by_source).map(([s, n]) => `${s} ${n}`).join(", "))));
    return el("details", { class: "cred-team", dataset: { team: team.team } },
      el("summary", {}, `${team.team} — ${report.month}: ${t("cred.quality")} ${pct(month.quality)}`),
      el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {},
        ["field", "hand", "captured", "hand_share", "from"].map((k) => el("th", {}, t(`cred.${k}`))))), el("tbody", {}, rows))));
  }

  async function downloadPdf(query, month) {
    const response = await TT.api(`/v1/management/credibility?${query}&format=pdf`, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `credibility-${month}.pdf` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  function monthOf(page) {
    if (/^\d{4}-(0[1-9]|1[0-2])$/.test(page.get("month") || "")) return page.get("month");
    const asOf = page.get("as_of") || "";
    if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) return null;
    const index = Number(asOf.slice(0, 4)) * 12 + Number(asOf.slice(5, 7)) - 2;  // the month before as_of's
    return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
  }

  async function load() {
    const page = new URLSearchParams(location.search);
    const query = new URLSearchParams();
    if (page.get("team")) query.set("team", page.get("team"));
    if (monthOf(page)) query.set("month", monthOf(page));
    TT.applyI18n($("credibility"));  // the page applied its strings before this script added these
    try {
      const report = await TT.api(`/v1/management/credibility?${query}`);
      const pdf = el("button", { type: "button", id: "cred-pdf" }, t("cred.pdf"));
      pdf.addEventListener("click", () => downloadPdf(query, report.month).catch((error) => TT.showError($("cred-body"), error)));
      $("cred-window").textContent = t("cred.window", { month: report.month, first: report.months[0], last: report.months.at(-1) });
      $("cred-body").replaceChildren(ranking(report), el("p", { class: "muted" }, t("cred.formula")), trend(report),
        ...report.teams.map((team) => teamMonth(report, team)), pdf);
      $("credibility").dataset.ready = "1";
    } catch (error) {
      TT.showError($("cred-body"), error);
    }
  }

  if (sessionStorage.getItem(TT.KEY)) load();
})();
