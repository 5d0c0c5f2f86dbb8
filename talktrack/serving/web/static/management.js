// Management page: process health (stage funnel, key actions done in time, team efficiency) per team and
// month, and the lineage graph from imported fields to what managers read, drawn as our own SVG.
// The revenue section of the template is a placeholder another script fills.
"use strict";

Object.assign(TT_STRINGS.en, {
  "mgmt.heading": "Management", "mgmt.revenue": "Revenue",
  "mgmt.revenue_soon": "Healthy contract value, renewal vs new business and concentration will appear here.",
  "mgmt.funnel": "Stage funnel", "mgmt.key_actions": "Key actions done in time", "mgmt.efficiency": "Team efficiency",
  "mgmt.efficiency_formula": "effective touches per working hour × needs-diagnosis accuracy × solution match",
  "mgmt.lineage": "Lineage: imported fields → features → models → metrics",
  "mgmt.lineage_help": "Click a node to follow what feeds it and what it feeds.",
  "mgmt.window": "{first} – {last}, as of {as_of}", "mgmt.funnel_note": "{n} deals created in these months, by the furthest stage they reached; % = conversion from the stage before.",
  "mgmt.action": "Action", "mgmt.team": "Team", "mgmt.month": "Month", "mgmt.within": "within {h} h of {stage}",
  "mgmt.touches": "Effective touches", "mgmt.hours": "Working hours", "mgmt.per_hour": "Touches / hour",
  "mgmt.diagnosis": "Diagnosis accuracy", "mgmt.solution": "Solution match", "mgmt.efficiency_col": "Efficiency",
  "mgmt.calls": "{n} calls", "mgmt.no_data": "No deals or calls in these months.", "mgmt.chains": "Chains through {node}",
  "mgmt.no_chains": "Nothing reads {node} yet.", "mgmt.rate_of": "{done} of {n}",
  "kind.field": "imported field", "kind.derived": "derived", "kind.feature": "feature", "kind.model": "model", "kind.metric": "metric",
});
Object.assign(TT_STRINGS.zh, {
  "mgmt.heading": "管理驾驶舱", "mgmt.revenue": "收入",
  "mgmt.revenue_soon": "健康合同额、续约与新业务、客户集中度将显示在这里。",
  "mgmt.funnel": "阶段漏斗", "mgmt.key_actions": "关键动作按时完成率", "mgmt.efficiency": "团队效能",
  "mgmt.efficiency_formula": "每工作小时有效客户触达 × 需求诊断准确度 × 方案匹配度",
  "mgmt.lineage": "数据血缘：导入字段 → 特征 → 模型 → 指标",
  "mgmt.lineage_help": "点击节点，查看它的来源和去向。",
  "mgmt.window": "{first} – {last}，截至 {as_of}", "mgmt.funnel_note": "这几个月创建的 {n} 个商机按到达的最远阶段统计；% 为相对上一阶段的转化率。",
  "mgmt.action": "动作", "mgmt.team": "团队", "mgmt.month": "月份", "mgmt.within": "进入{stage}后 {h} 小时内",
  "mgmt.touches": "有效触达", "mgmt.hours": "工作小时", "mgmt.per_hour": "每小时触达",
  "mgmt.diagnosis": "诊断准确度", "mgmt.solution": "方案匹配度", "mgmt.efficiency_col": "效能",
  "mgmt.calls": "{n} 通", "mgmt.no_data": "这几个月没有商机或通话。", "mgmt.chains": "经过 {node} 的链路",
  "mgmt.no_chains": "还没有指标使用 {node}。", "mgmt.rate_of": "{done} / {n}",
  "kind.field": "导入字段", "kind.derived": "派生数据", "kind.feature": "特征", "kind.model": "模型", "kind.metric": "指标",
});

(() => {
  const { el, t, name, pct, num } = TT;
  const $ = (id) => document.getElementById(id);

  // -- process health -------------------------------------------------------------------------------
  function drawFunnel(report) {
    const order = TT.taxonomy.stage_order;
    const reached = order.map((_, k) => report.funnel.reduce((sum, f) => sum + f.stages[k].reached, 0));
    const lost = order.map((_, k) => report.funnel.reduce((sum, f) => sum + f.stages[k].furthest.lost, 0));
    const deals = report.funnel.reduce((sum, f) => sum + f.deals, 0);
    if (!deals) return $("ph-funnel").replaceChildren(el("p", { class: "muted" }, t("mgmt.no_data")));
    const top = Math.max(...reached, 1);
    $("ph-funnel").replaceChildren(...order.map((stage, k) => el("div", { class: "bar-row", dataset: { stage } },
      el("span", {}, name("stages", stage)),
      el("div", { class: "bar" }, el("span", { style: `width:${Math.round(100 * reached[k] / top)}%` })),
      el("span", {}, el("b", {}, reached[k]), k && reached[k - 1] ? ` ${pct(reached[k] / reached[k - 1])}` : "",
        lost[k] ? el("span", { class: "muted lost" }, t("dash.lost_here", { n: lost[k] })) : null))),
    el("p", { class: "muted" }, t("mgmt.funnel_note", { n: deals })));
  }

  const actionName = (report, key) => (report.key_action_names[key] || {})[TT.lang] || key.replaceAll("_", " ");

  function drawKeyActions(report) {
    const rows = report.key_actions;
    if (!rows.length) return $("key-actions").replaceChildren(el("p", { class: "muted" }, t("mgmt.no_data")));
    const cell = new Map(rows.map((r) => [`${r.team}|${r.action}|${r.month}`, r]));
    const pairs = [...new Set(rows.map((r) => `${r.team}|${r.action}`))].sort();
    const head = el("tr", {}, el("th", {}, t("mgmt.team")), el("th", {}, t("mgmt.action")),
      report.months.map((month) => el("th", {}, month)));
    const body = pairs.map((pair) => {
      const [team, action] = pair.split("|");
      const any = rows.find((r) => r.action === action);
      return el("tr", { dataset: { team, action } }, el("td", {}, team),
        el("td", {}, actionName(report, action), el("div", { class: "muted" },
          t("mgmt.within", { h: any.within_h, stage: name("stages", any.after_stage) }))),
        report.months.map((month) => {
          const r = cell.get(`${pair}|${month}`);
          if (!r) return el("td", { dataset: { month } }, "–");
          return el("td", { dataset: { month, rate: r.rate ?? "" }, title: `done ${r.done}, missed ${r.missed}, pending ${r.pending}` },
            el("b", {}, pct(r.rate)), " ", el("span", { class: "muted" }, t("mgmt.rate_of", { done: r.done, n: r.done + r.missed })),
            el("div", { class: "bar" }, el("span", { style: `width:${Math.round(100 * (r.rate || 0))}%` })));
        }));
    });
    $("key-actions").replaceChildren(el("table", { id: "key-action-table" }, el("thead", {}, head), el("tbody", {}, body)));
  }

  function drawEfficiency(report) {
    const rows = report.efficiency;
    const head = el("tr", {}, [t("mgmt.team"), t("mgmt.month"), t("mgmt.touches"), t("mgmt.hours"), t("mgmt.per_hour"),
      t("mgmt.diagnosis"), t("mgmt.solution"), t("mgmt.efficiency_col")].map((label) => el("th", {}, label)));
    const body = rows.map((r) => el("tr", { dataset: { team: r.team, month: r.month } },
      el("td", {}, r.team), el("td", {}, r.month), el("td", {}, r.effective_touches), el("td", {}, num(r.working_hours, 0)),
      el("td", { class: "touches-per-hour" }, num(r.touches_per_hour, 3)),
      el("td", { class: "diagnosis" }, pct(r.diagnosis_accuracy), " ", el("span", { class: "muted" }, t("mgmt.calls", { n: r.diagnosis_calls }))),
      el("td", { class: "solution" }, pct(r.solution_match), " ", el("span", { class: "muted" }, t("mgmt.calls", { n: r.solution_calls }))),
      el("td", { class: "efficiency" }, el("b", {}, num(r.efficiency, 4)))));
    $("efficiency").replaceChildren(el("table", { id: "efficiency-table" }, el("thead", {}, head), el("tbody", {}, body)));
  }

  async function loadHealth(team) {
    const query = new URLSearchParams({ months: "3" });
    if (team) query.set("team", team);
    // ?as_of=YYYY-MM-DD in the page's address replays the months ending that day (default: the latest event)
    const asOf = new URLSearchParams(location.search).get("as_of");
    if (asOf && /^\d{4}-\d{2}-\d{2}$/.test(asOf)) query.set("as_of", asOf);
    try {
      const report = await TT.api(`/v1/management/process-health?${query}`);
      $("window").textContent = t("mgmt.window", { first: report.months[0], last: report.months.at(-1), as_of: report.as_of.slice(0, 10) });
      drawFunnel(report);
      drawKeyActions(report);
      drawEfficiency(report);
    } catch (error) {
      TT.showError($("health-body"), error);
    }
  }

  // -- lineage ------------------------------------------------------------------------------------------
  // One column per kind (fields on the left, metrics on the right); an edge is a curve from the right edge of
  // its source to the left edge of its target. Clicking a node lights what feeds it and what it feeds.
  const COLUMN = 210, ROW = 20, BOX_H = 16, TOP = 28, PAD = 8;

  function layout(graph) {
    const columns = graph.kinds.map((kind) => graph.nodes.filter((n) => n.kind === kind));
    const tallest = Math.max(...columns.map((c) => c.length));
    const at = {};
    columns.forEach((nodes, c) => {
      const offset = TOP + ((tallest - nodes.length) * ROW) / 2;
      nodes.forEach((n, i) => { at[n.id] = { x: PAD + c * COLUMN, y: offset + i * ROW, kind: n.kind }; });
    });
    return { at, width: PAD * 2 + graph.kinds.length * COLUMN - 30, height: TOP + tallest * ROW + PAD };
  }

  function drawLineage(graph) {
    const S = Charts.svg;
    const { at, width, height } = layout(graph);
    const boxW = COLUMN - 40;
    const root = S("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "lineage-graph", "aria-label": t("mgmt.lineage") });
    graph.kinds.forEach((kind, c) => root.append(S("text", { x: PAD + c * COLUMN, y: 14, class: "kind-label" }, t(`kind.${kind}`))));
    const edges = S("g", { class: "edges" });
    for (const [from, to] of graph.edges) {
      const a = at[from], b = at[to];
      const x1 = a.x + boxW, y1 = a.y + BOX_H / 2, x2 = b.x, y2 = b.y + BOX_H / 2, mid = (x1 + x2) / 2;
      edges.append(S("path", { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, class: "edge", "data-from": from, "data-to": to }));
    }
    root.append(edges);
    for (const node of graph.nodes) {
      const p = at[node.id];
      root.append(S("g", { class: `node ${node.kind}`, "data-node": node.id, transform: `translate(${p.x},${p.y})`, tabindex: "0" },
        S("title", {}, `${node.id} (${t(`kind.${node.kind}`)})`),
        S("rect", { width: boxW, height: BOX_H, rx: 4 }),
        S("text", { x: 5, y: 12 }, node.id.length > 30 ? `${node.id.slice(0, 29)}…` : node.id)));
    }
    root.addEventListener("click", (event) => {
      const hit = event.target.closest("g.node");
      if (hit) focus(graph, root, hit.dataset.node);
    });
    $("lineage").replaceChildren(root);
  }

  function reach(graph, start, forward) {
    const seen = new Set([start]);
    const todo = [start];
    while (todo.length) {
      const here = todo.pop();
      for (const [from, to] of graph.edges) {
        const next = forward ? (from === here ? to : null) : (to === here ? from : null);
        if (next && !seen.has(next)) { seen.add(next); todo.push(next); }
      }
    }
    return seen;
  }

  async function focus(graph, root, id) {
    const lit = new Set([...reach(graph, id, true), ...reach(graph, id, false)]);
    for (const g of root.querySelectorAll("g.node")) {
      g.classList.toggle("lit", lit.has(g.dataset.node));
      g.classList.toggle("focus", g.dataset.node === id);
    }
    for (const path of root.querySelectorAll("path.edge")) {
      path.classList.toggle("lit", lit.has(path.dataset.from) && lit.has(path.dataset.to));
    }
    root.classList.add("focused");
    try {
      const view = await TT.api(`/v1/management/lineage?node=${encodeURIComponent(id)}`);
      const chains = view.chains.map((chain) => el("li", {}, chain.join(" → ")));
      $("chains").replaceChildren(el("h3", {}, t("mgmt.chains", { node: id })),
        chains.length ? el("ul", { class: "chains" }, chains) : el("p", { class: "muted" }, t("mgmt.no_chains", { node: id })));
    } catch (error) {
      TT.showError($("chains"), error);
    }
  }

  async function loadLineage() {
    try {
      drawLineage(await TT.api("/v1/management/lineage"));
    } catch (error) {
      TT.showError($("lineage"), error);
    }
  }

  TT.page(async (me) => {
    const asked = new URLSearchParams(location.search).get("team");
    if (!me.team) {
      $("team-form").hidden = false;
      $("team-form").addEventListener("submit", (event) => {
        event.preventDefault();
        const team = $("team").value.trim();
        location.search = team ? `?team=${encodeURIComponent(team)}` : "";
      });
    }
    const team = me.team || asked;  // a manager's own team; a director or admin: all teams, or the one asked
    if (team) {
      $("team").value = team;
      $("team-name").textContent = team;
    }
    await Promise.all([loadHealth(team), loadLineage()]);
  });
})();
