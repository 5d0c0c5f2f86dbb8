// Management page, anomaly section: the breaker's open cases (a rule fired on a team's or region's monthly
// metrics) with their evidence — each metric this month against the month before, the deals and visits
// behind it, the frozen reimbursement — and, for a role that may close the case, a note and a Close button
// (POST /v1/management/anomalies/cases/{id}/close). Who may close what is the API's rule, mirrored here only
// to hide a button that would be refused: a director or admin closes any case, a manager their team's.
"use strict";

Object.assign(TT_STRINGS.en, {
  "anom.heading": "Anomaly breaker: open cases", "anom.none": "No open cases.",
  "anom.case": "Case {id}: {rule}", "anom.scope": "{scope} {key}, {month}", "anom.metric": "Metric",
  "anom.before": "Month before", "anom.month": "This month", "anom.change": "Change",
  "anom.behind": "Behind it: {ids}", "anom.freeze": "{what} frozen for {month} ({state})",
  "anom.note": "What was checked, and what was found", "anom.confirm": "Confirm the freeze",
  "anom.lift": "Lift (a false alarm)", "anom.close": "Close the case", "anom.closed": "Case {id} closed: freeze {state}.",
  "anom.need_note": "Write what was checked first.", "anom.not_yours": "A director closes this case.",
  "scope.team": "Team", "scope.region": "Region",
});
Object.assign(TT_STRINGS.zh, {
  "anom.heading": "异常熔断：未结案件", "anom.none": "没有未结案件。",
  "anom.case": "案件 {id}：{rule}", "anom.scope": "{scope} {key}，{month}", "anom.metric": "指标",
  "anom.before": "上月", "anom.month": "本月", "anom.change": "变化",
  "anom.behind": "涉及：{ids}", "anom.freeze": "{month} 的{what}已冻结（{state}）",
  "anom.note": "核查了什么，发现了什么", "anom.confirm": "维持冻结",
  "anom.lift": "解除（误报）", "anom.close": "结案", "anom.closed": "案件 {id} 已结案：冻结{state}。",
  "anom.need_note": "请先填写核查说明。", "anom.not_yours": "此案件由总监结案。",
  "scope.team": "团队", "scope.region": "区域",
});

(() => {
  const { el, t, pct } = TT;
  const $ = (id) => document.getElementById(id);

  const mayClose = (me, c) => ["admin", "director"].includes(me.role)
    || (me.role === "manager" && c.scope === "team" && c.key === me.team);

  function evidenceTable(c) {
    const rows = Object.entries(c.evidence.metrics).map(([metric, m]) => el("tr", { dataset: { metric } },
      el("td", {}, metric.replaceAll("_", " ")), el("td", {}, m.previous_month), el("td", {}, el("b", {}, m.month)),
      el("td", { class: m.change > 0 ? "up" : "down" }, m.change === null ? "–" : `${m.change > 0 ? "+" : ""}${pct(m.change)}`)));
    return el("div", { class: "scroll" }, el("table", { class: "evidence" },
      el("thead", {}, el("tr", {}, el("th", {}, t("anom.metric")), el("th", {}, `${t("anom.before")} ${c.evidence.previous_month}`),
        el("th", {}, `${t("anom.month")} ${c.month}`), el("th", {}, t("anom.change")))),
      el("tbody", {}, rows)));
  }

  function behind(c) {
    return Object.entries(c.evidence.behind || {}).map(([metric, ids]) => el("details", { class: "behind", dataset: { metric } },
      el("summary", {}, `${metric.replaceAll("_", " ")}: ${ids.month.length} (${c.month}) / ${ids.previous_month.length} (${c.evidence.previous_month})`),
      el("p", { class: "muted ids" }, t("anom.behind", { ids: ids.month.join(", ") || "–" }))));
  }

  function closeForm(me, c, reload) {
    if (!mayClose(me, c)) return el("p", { class: "muted" }, t("anom.not_yours"));
    const note = el("textarea", { name: "note", rows: 2, maxlength: 4000, placeholder: t("anom.note"), "aria-label": t("anom.note") });
    const outcome = el("select", { name: "outcome", "aria-label": t("anom.close") },
      el("option", { value: "confirmed" }, t("anom.confirm")), el("option", { value: "lifted" }, t("anom.lift")));
    const status = el("p", { class: "muted status" });
    const form = el("form", { class: "close-case" }, note, el("div", { class: "row" }, outcome,
      el("button", { type: "submit", class: "primary" }, t("anom.close"))), status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!note.value.trim()) { status.textContent = t("anom.need_note"); return; }
      try {
        const closed = await TT.api(`/v1/management/anomalies/cases/${c.id}/close`,
          { method: "POST", body: { note: note.value.trim(), outcome: outcome.value } });
        $("anom-status").textContent = t("anom.closed", { id: closed.id, state: closed.freeze.state });
        await reload();
      } catch (error) {
        TT.showError(status, error);
      }
    });
    return form;
  }

  function drawCase(me, c, reload) {
    const rule = (c.evidence.rule_name || {})[TT.lang] || c.rule;
    return el("article", { class: "case", dataset: { caseId: c.id, scope: c.scope, key: c.key, month: c.month } },
      el("h3", {}, t("anom.case", { id: c.id, rule })),
      el("p", { class: "muted" }, t("anom.scope", { scope: t(`scope.${c.scope}`), key: c.key, month: c.month }),
        " · ", t("anom.freeze", { what: c.freeze.what.replaceAll("_", " "), month: c.freeze.month, state: c.freeze.state })),
      evidenceTable(c), behind(c), closeForm(me, c, reload));
  }

  async function load() {
    const page = new URLSearchParams(location.search);
    const query = new URLSearchParams({ status: "open" });
    if (page.get("team")) query.set("team", page.get("team"));
    const section = $("anomalies");
    TT.applyI18n(section);  // the page applied its strings before this script added these
    let me;
    const reload = async () => {
      const listing = await TT.api(`/v1/management/anomalies?${query}`);
      $("anom-cases").replaceChildren(...(listing.cases.length ? listing.cases.map((c) => drawCase(me, c, reload))
        : [el("p", { class: "muted" }, t("anom.none"))]));
      section.dataset.ready = "1";
    };
    try {
      me = await TT.api("/v1/me");
      await reload();
    } catch (error) {
      TT.showError($("anom-cases"), error);
    }
  }

  if (sessionStorage.getItem(TT.KEY)) load();
})();
