// Management page, decision sandbox: "move 20 % of the reps from product line A to B". The form posts a
// scenario to POST /v1/management/sandbox; the answer's next-quarter gross margin, customer churn and margin
// per seller are drawn as intervals, baseline above scenario on one scale per figure, with the change and
// its interval beside them. The product lines come from the revenue report's product-line rows.
"use strict";

Object.assign(TT_STRINGS.en, {
  "sbx.heading": "Decision sandbox: move reps between product lines",
  "sbx.method": "Monte Carlo over next quarter ({first} – {last}) from the fitted deal flow, cycle times, win rates, deal values, margins and renewals; bars are {p}% intervals, dots the means ({draws} draws).",
  "sbx.move": "Move", "sbx.of_reps": "of the reps of", "sbx.to": "to", "sbx.rule": "chosen", "sbx.hire": "hire",
  "sbx.remove": "remove", "sbx.run": "Simulate", "sbx.baseline": "Baseline", "sbx.scenario": "Scenario",
  "sbx.change": "Change", "sbx.gross_margin": "Gross margin", "sbx.churn": "Customer churn",
  "sbx.productivity": "Margin per seller", "sbx.moved": "Moves {names} ({n} of {of} reps of {line}).",
  "sbx.nobody": "Nobody moves: {line} has no reps in this scope.",
  "rule.random": "at random", "rule.lowest_margin": "lowest won margin first", "rule.highest_margin": "highest won margin first",
  "sbx.no_lines": "No product lines with contracts in this scope.",
});
Object.assign(TT_STRINGS.zh, {
  "sbx.heading": "决策沙盘：在产品线之间调配销售",
  "sbx.method": "基于拟合的商机流量、周期、赢率、金额、毛利率和续约，对下个季度（{first} – {last}）做蒙特卡洛模拟；横条为 {p}% 区间，圆点为均值（{draws} 次抽样）。",
  "sbx.move": "调动", "sbx.of_reps": "的销售，来自", "sbx.to": "调往", "sbx.rule": "选人方式", "sbx.hire": "新招",
  "sbx.remove": "减员", "sbx.run": "模拟", "sbx.baseline": "现状", "sbx.scenario": "方案",
  "sbx.change": "变化", "sbx.gross_margin": "毛利", "sbx.churn": "客户流失率",
  "sbx.productivity": "人均毛利", "sbx.moved": "调动 {names}（{line} 的 {of} 人中 {n} 人）。",
  "sbx.nobody": "无人调动：该范围内 {line} 没有销售。",
  "rule.random": "随机", "rule.lowest_margin": "赢单毛利最低者优先", "rule.highest_margin": "赢单毛利最高者优先",
  "sbx.no_lines": "该范围内没有带合同的产品线。",
});

(() => {
  const { el, t, pct } = TT;
  const $ = (id) => document.getElementById(id);
  const NS = "http://www.w3.org/2000/svg";
  const FIGURES = ["gross_margin", "churn", "productivity"];
  TT.applyI18n($("sandbox"));  // the page applied the strings before this script added its own
  const money = (x) => Math.round(x).toLocaleString(TT.lang === "zh" ? "zh-CN" : "en-US");
  const show = (figure, x) => (figure === "churn" ? pct(x) : money(x));
  const signed = (figure, x) => `${x > 0 ? "+" : x < 0 ? "−" : "±"}${show(figure, Math.abs(x))}`;

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    node.append(...children);
    return node;
  }

  // One figure: baseline and scenario intervals on a shared axis (the lowest low to the highest high).
  function intervals(figure, base, scen) {
    const width = 420, left = 90, right = 16, row = 26;
    const low = Math.min(base.low, scen.low), high = Math.max(base.high, scen.high);
    const span = high - low || Math.abs(high) || 1;
    const x = (v) => left + (width - left - right) * (v - low) / span;
    const colour = (cls) => (cls === "baseline" ? "#8a94a6" : "#3167de");
    const bar = (label, f, y, cls) => svg("g", { class: `interval ${cls}`, "data-low": f.low, "data-mean": f.mean, "data-high": f.high },
      svg("text", { x: 0, y: y + 4, class: "label", "font-size": 12 }, label),
      svg("line", { x1: x(f.low), x2: Math.max(x(f.high), x(f.low) + 1), y1: y, y2: y, stroke: colour(cls), "stroke-width": 6,
        "stroke-linecap": "round", "stroke-opacity": 0.55 }),
      svg("circle", { cx: x(f.mean), cy: y, r: 5, fill: colour(cls) }),
      svg("title", {}, `${show(figure, f.mean)} [${show(figure, f.low)}, ${show(figure, f.high)}]`));
    const root = svg("svg", { viewBox: `0 0 ${width} ${2 * row + 22}`, role: "img", class: "sandbox-chart" },
      bar(t("sbx.baseline"), base, row * 0.6, "baseline"), bar(t("sbx.scenario"), scen, row * 1.6, "scenario"),
      svg("text", { x: left, y: 2 * row + 18, class: "axis", "font-size": 11, fill: "#667" }, show(figure, low)),
      svg("text", { x: width - right, y: 2 * row + 18, class: "axis", "text-anchor": "end", "font-size": 11, fill: "#667" },
        show(figure, high)));
    Object.assign(root.style, { display: "block", width: "100%", maxWidth: "560px" });  // CSSOM: allowed by the CSP
    return root;
  }

  function draw(answer) {
    const p = Math.round(answer.interval * 100);
    const plan = answer.plan;
    const line = answer.scenario.from_line;
    const moved = plan.moved.length
      ? t("sbx.moved", { names: plan.moved.map((m) => m.name).join(", "), n: plan.moved.length, of: plan.from_line_reps, line })
      : t("sbx.nobody", { line });
    const rows = FIGURES.map((figure) => {
      const change = answer.difference[figure];
      return el("div", { class: "sandbox-row", dataset: { figure, change: change.mean, low: change.low, high: change.high } },
        el("h3", {}, t(`sbx.${figure}`)),
        el("div", { class: "scroll" }, intervals(figure, answer.baseline[figure], answer.scenario[figure])),
        el("p", { class: "change" }, el("b", {}, `${t("sbx.change")} ${signed(figure, change.mean)}`), " ",
          el("span", { class: "muted" }, `[${signed(figure, change.low)}, ${signed(figure, change.high)}]`)));
    });
    $("sbx-result").replaceChildren(el("p", { id: "sbx-moved" }, moved), ...rows,
      el("p", { class: "muted" }, t("sbx.method", { first: answer.quarter[0], last: answer.quarter[1], p, draws: answer.draws })));
    const margins = answer.fitted.margins;
    for (const option of document.querySelectorAll("#sandbox select.line option")) {
      if (margins[option.value] !== undefined) option.textContent = `${option.value} (${pct(margins[option.value])})`;
    }
  }

  function form(lines) {
    const choose = (id, options, selected, label) => el("select", { id, class: label ? "line" : "" },
      options.map((value) => el("option", { value, selected: value === selected ? "" : null }, label ? value : t(`rule.${value}`))));
    const number = (id, value, attrs) => el("input", { id, type: "number", value, ...attrs });
    return el("form", { id: "sbx-form", class: "sandbox-form" },
      el("label", {}, t("sbx.move"), " ", number("sbx-share", 20, { min: 0, max: 100, step: 5 }), " % ", t("sbx.of_reps"), " ",
        choose("sbx-from", lines, lines[0], true)),
      el("label", {}, t("sbx.to"), " ", choose("sbx-to", lines, lines[1], true)),
      el("label", {}, t("sbx.rule"), " ", choose("sbx-rule", ["random", "lowest_margin", "highest_margin"], "random")),
      el("label", {}, t("sbx.hire"), " ", number("sbx-hire", 0, { min: 0, max: 100 })),
      el("label", {}, t("sbx.remove"), " ", number("sbx-remove", 0, { min: 0, max: 100 })),
      el("button", { type: "submit", id: "sbx-run" }, t("sbx.run")));
  }

  async function simulate(query) {
    const section = $("sandbox");
    section.dataset.ready = "0";
    const body = {
      move_share: Number($("sbx-share").value) / 100, from_line: $("sbx-from").value, to_line: $("sbx-to").value,
      rule: $("sbx-rule").value, hire: Number($("sbx-hire").value), remove: Number($("sbx-remove").value),
    };
    if (query.get("team")) body.team = query.get("team");
    if (query.get("as_of")) body.as_of = query.get("as_of");
    try {
      draw(await TT.api("/v1/management/sandbox", { method: "POST", body }));
      section.dataset.ready = "1";
    } catch (error) {
      TT.showError($("sbx-result"), error);
    }
  }

  async function load() {
    const page = new URLSearchParams(location.search);
    const query = new URLSearchParams();
    if (page.get("team")) query.set("team", page.get("team"));
    if (/^\d{4}-\d{2}-\d{2}$/.test(page.get("as_of") || "")) query.set("as_of", page.get("as_of"));
    try {
      const revenue = await TT.api(`/v1/management/revenue?${query}`);
      const lines = [...new Set(revenue.healthy_value.product_line.map((r) => r.key))].sort();
      if (lines.length < 2) return $("sbx-body").replaceChildren(el("p", { class: "muted" }, t("sbx.no_lines")));
      const controls = form(lines);
      controls.addEventListener("submit", (event) => { event.preventDefault(); simulate(query); });
      $("sbx-body").replaceChildren(controls, el("div", { id: "sbx-result" }));
      await simulate(query);
    } catch (error) {
      TT.showError($("sbx-body"), error);
    }
  }

  if (sessionStorage.getItem(TT.KEY)) load();
})();
