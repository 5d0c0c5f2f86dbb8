// Management page, revenue section: the figures a director can trust instead of contract value and the
// number of new customers. Healthy contract value per team (with what was excluded and why), renewal vs
// new business and concentration flags per region (GET /v1/management/revenue), and new-customer
// LTV/CAC per lead source, team and region with the renewal model's interval (GET /v1/management/ltv-cac).
// The API scopes both: a manager's key sees its own team, a director's every team (or ?team=).
"use strict";

Object.assign(TT_STRINGS.en, {
  "rev.window": "Trailing year {first} – {last}, in {currency}", "rev.healthy": "Healthy contract value",
  "rev.split": "Renewal vs new business", "rev.ltv": "New-customer LTV/CAC",
  "rev.ltv_formula": "LTV = contract value × gross margin × (1 + p + … + p^{h}) with p the region's renewal chance; CAC = (marketing spend of the leads + sales hours × {rate}) ÷ customers won",
  "rev.team": "Team", "rev.region": "Region", "rev.source": "Lead source", "rev.healthy_value": "Healthy",
  "rev.contracts": "Contracts", "rev.excluded": "Excluded", "rev.excluded_by": "Excluded (all time): {reasons}",
  "rev.none": "none", "rev.total": "Revenue", "rev.new": "New", "rev.renewal_share": "Renewal share",
  "rev.top_share": "Top {n} share", "rev.new_yoy": "New vs year before", "rev.flags": "Flags",
  "rev.leads": "Leads", "rev.won": "Won", "rev.cac": "CAC", "rev.ltv_col": "LTV", "rev.ratio": "LTV/CAC",
  "rev.interval": "{p}% interval", "rev.all": "all", "rev.renewal_model": "Renewal chance per region (renewed / ended terms): {fits}",
  "rev.no_data": "No contracts in this scope.",
  "reason.payment_terms": "payment terms", "reason.discount": "discount", "reason.contract_type": "non-standard contract",
  "reason.currency": "no exchange rate", "flag.top_customers": "top customers", "flag.renewals": "renewals",
  "flag.new_business_drop": "new business drop",
});
Object.assign(TT_STRINGS.zh, {
  "rev.window": "近一年 {first} – {last}，单位 {currency}", "rev.healthy": "健康合同额",
  "rev.split": "续约与新业务", "rev.ltv": "新客户 LTV/CAC",
  "rev.ltv_formula": "LTV = 合同额 × 毛利率 × (1 + p + … + p^{h})，p 为所在区域的续约概率；CAC = (线索的市场费用 + 销售工时 × {rate}) ÷ 赢得的客户数",
  "rev.team": "团队", "rev.region": "区域", "rev.source": "线索来源", "rev.healthy_value": "健康",
  "rev.contracts": "合同数", "rev.excluded": "剔除", "rev.excluded_by": "剔除原因（全部时间）：{reasons}",
  "rev.none": "无", "rev.total": "收入", "rev.new": "新业务", "rev.renewal_share": "续约占比",
  "rev.top_share": "前 {n} 客户占比", "rev.new_yoy": "新业务同比", "rev.flags": "预警",
  "rev.leads": "线索", "rev.won": "赢单", "rev.cac": "获客成本", "rev.ltv_col": "生命周期价值", "rev.ratio": "LTV/CAC",
  "rev.interval": "{p}% 区间", "rev.all": "合计", "rev.renewal_model": "各区域续约概率（续约 / 到期合同）：{fits}",
  "rev.no_data": "该范围内没有合同。",
  "reason.payment_terms": "账期过长", "reason.discount": "折扣过深", "reason.contract_type": "非标合同",
  "reason.currency": "无汇率", "flag.top_customers": "大客户集中", "flag.renewals": "依赖续约",
  "flag.new_business_drop": "新业务下滑",
});

(() => {
  const { el, t, pct, num } = TT;
  TT.applyI18n(document.getElementById("revenue"));  // the page applied the strings before this script added its own (the section's headings)
  const $ = (id) => document.getElementById(id);
  const money = (x) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString(TT.lang === "zh" ? "zh-CN" : "en-US"));
  const table = (id, labels, rows) => el("table", { id }, el("thead", {}, el("tr", {}, labels.map((l) => el("th", {}, l)))),
    el("tbody", {}, rows));

  function drawHealthy(report) {
    const first = report.windows.current[0].slice(0, 7);
    const teams = new Map();
    for (const row of report.healthy_value.team) {
      if (row.month < first) continue;
      const cell = teams.get(row.key) || { healthy: 0, contracts: 0, excluded: 0, excludedValue: 0 };
      cell.healthy += row.healthy_value; cell.contracts += row.contracts;
      cell.excluded += row.excluded; cell.excludedValue += row.excluded_value;
      teams.set(row.key, cell);
    }
    if (!teams.size) return $("rev-healthy").replaceChildren(el("p", { class: "muted" }, t("rev.no_data")));
    const rows = [...teams].sort().map(([team, c]) => el("tr", { dataset: { team } },
      el("td", {}, team), el("td", { class: "healthy" }, el("b", {}, money(c.healthy))), el("td", {}, c.contracts),
      el("td", { class: "excluded" }, money(c.excludedValue), " ", el("span", { class: "muted" }, `(${c.excluded})`))));
    const reasons = Object.entries(report.excluded.by_reason)
      .map(([reason, e]) => `${t(`reason.${reason}`)} ${e.count} (${money(e.value)})`).join(" · ");
    $("rev-healthy").replaceChildren(
      table("healthy-table", [t("rev.team"), t("rev.healthy_value"), t("rev.contracts"), t("rev.excluded")], rows),
      el("p", { class: "muted", id: "excluded-reasons" }, t("rev.excluded_by", { reasons: reasons || t("rev.none") })));
  }

  function drawSplit(report) {
    const regions = report.concentration.region;
    const n = report.limits.top_customers;
    const rows = regions.map((r) => el("tr", { dataset: { region: r.key, flags: r.flags.join(" ") } },
      el("td", {}, r.key), el("td", {}, money(r.total)), el("td", {}, money(r.new)),
      el("td", { class: "renewal-share" }, pct(r.renewal_share),
        el("div", { class: "bar" }, el("span", { style: `width:${Math.round(100 * r.renewal_share)}%` }))),
      el("td", {}, pct(r.top_share)),
      el("td", {}, r.new_yoy_change === null ? "–" : `${r.new_yoy_change >= 0 ? "+" : ""}${pct(r.new_yoy_change)}`),
      el("td", { class: "flags" }, r.flags.length ? r.flags.map((f) => el("span", { class: "badge rejected" }, t(`flag.${f}`))) : "–")));
    $("rev-split").replaceChildren(table("split-table", [t("rev.region"), t("rev.total"), t("rev.new"), t("rev.renewal_share"),
      t("rev.top_share", { n }), t("rev.new_yoy"), t("rev.flags")], rows));
  }

  function ltvRows(rows, group) {
    return rows.map((r) => el("tr", { dataset: { group, key: r.key, ratio: r.ltv_cac ?? "" } },
      el("td", {}, r.key === "all" ? el("b", {}, t("rev.all")) : r.key), el("td", {}, r.leads), el("td", {}, r.acquisitions),
      el("td", {}, money(r.cac)), el("td", {}, money(r.ltv)), el("td", { class: "ratio" }, el("b", {}, num(r.ltv_cac, 1))),
      el("td", { class: "muted" }, r.ltv_cac === null ? "–" : `${num(r.ltv_cac_low, 1)} – ${num(r.ltv_cac_high, 1)}`)));
  }

  function drawLtv(report) {
    const s = report.settings;
    const labels = (first) => [first, t("rev.leads"), t("rev.won"), t("rev.cac"), t("rev.ltv_col"), t("rev.ratio"),
      t("rev.interval", { p: Math.round(s.interval * 100) })];
    const fits = report.renewal_model.map((f) => `${f.region} ${pct(f.p)} (${f.renewed}/${f.contracts})`).join(" · ");
    $("rev-ltv").replaceChildren(
      el("p", { class: "muted" }, t("rev.ltv_formula", { h: s.horizon_terms - 1, rate: `${money(s.sales_hour_cost)} ${report.currency}/h` })),
      el("div", { class: "scroll" }, table("ltv-source", labels(t("rev.source")), ltvRows([...report.by.source, report.total], "source"))),
      el("div", { class: "grid2" },
        el("div", { class: "scroll" }, table("ltv-team", labels(t("rev.team")), ltvRows(report.by.team, "team"))),
        el("div", { class: "scroll" }, table("ltv-region", labels(t("rev.region")), ltvRows(report.by.region, "region")))),
      el("p", { class: "muted", id: "renewal-model" }, t("rev.renewal_model", { fits })));
  }

  async function load() {
    const page = new URLSearchParams(location.search);
    const query = new URLSearchParams();
    if (page.get("team")) query.set("team", page.get("team"));
    if (/^\d{4}-\d{2}-\d{2}$/.test(page.get("as_of") || "")) query.set("as_of", page.get("as_of"));
    const section = $("revenue");
    try {
      const [revenue, ltv] = await Promise.all([TT.api(`/v1/management/revenue?${query}`),
        TT.api(`/v1/management/ltv-cac?${query}`)]);
      const [first, end] = revenue.windows.current;
      $("rev-window").textContent = t("rev.window", { first, last: end, currency: revenue.currency });
      drawHealthy(revenue);
      drawSplit(revenue);
      drawLtv(ltv);
      section.classList.remove("placeholder");
      section.dataset.ready = "1";
    } catch (error) {
      TT.showError($("rev-body"), error);
    }
  }

  if (sessionStorage.getItem(TT.KEY)) load();
})();
