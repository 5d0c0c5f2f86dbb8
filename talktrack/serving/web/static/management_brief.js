// Management page, daily-brief section: "three checks and one question" per team (GET /v1/management/brief):
// lead-pool health, stages over their timers, capability shortfalls two months running, and the week's
// answers to "which customer surprised you today?" — the known topics counted, the new clusters shown as
// possible market signals. A manager (or admin) records a rep's answer here (POST .../brief/answers, channel
// workbench); the Markdown button shows the e-mail-ready text. ?team and ?as_of are the page's.
"use strict";

Object.assign(TT_STRINGS.en, {
  "brief.heading": "Daily brief: three checks and one question", "brief.leads": "Lead pool",
  "brief.leads_line": "new {new} of {pool} (at least {min}) · invalid {invalid} (under {max})",
  "brief.stuck": "Stages over their timers", "brief.skills": "Below the team mean {n} months running",
  "brief.no_model": "Capability model not trained yet.", "brief.none": "None.",
  "brief.deal": "Deal", "brief.rep": "Rep", "brief.stage": "Stage", "brief.days": "Days in stage", "brief.timer": "Timer",
  "brief.question": "Which customer surprised you today?", "brief.answers": "{n} answers from {reps} reps, {since} – {until}",
  "brief.known": "Known topics: {list}", "brief.signals": "Possible market signals", "brief.no_signal": "No new topic this week.",
  "brief.signal": "{n} answers from {reps} reps", "brief.answer_for": "Rep", "brief.answer": "The answer",
  "brief.send": "Record the answer", "brief.sent": "Recorded.", "brief.markdown": "Markdown for e-mail",
  "brief.ok": "OK", "brief.act": "Act", "brief.na": "n/a",
});
Object.assign(TT_STRINGS.zh, {
  "brief.heading": "每日简报：三项检查和一个问题", "brief.leads": "线索池",
  "brief.leads_line": "新线索 {new} / {pool}（不低于 {min}）· 无效 {invalid}（低于 {max}）",
  "brief.stuck": "超时的阶段", "brief.skills": "连续 {n} 个月低于团队均值",
  "brief.no_model": "能力模型尚未训练。", "brief.none": "无。",
  "brief.deal": "商机", "brief.rep": "销售", "brief.stage": "阶段", "brief.days": "停留天数", "brief.timer": "时限",
  "brief.question": "今天哪位客户让你感到意外？", "brief.answers": "{since} – {until}：{reps} 位销售的 {n} 条回答",
  "brief.known": "已知话题：{list}", "brief.signals": "可能的市场信号", "brief.no_signal": "本周没有新话题。",
  "brief.signal": "{n} 条回答，来自 {reps} 位销售", "brief.answer_for": "销售", "brief.answer": "回答",
  "brief.send": "记录回答", "brief.sent": "已记录。", "brief.markdown": "邮件版 Markdown",
  "brief.ok": "正常", "brief.act": "需处理", "brief.na": "无数据",
});

(() => {
  const { el, t, pct, num } = TT;
  TT.applyI18n(document.getElementById("brief"));  // the page applied its strings before this script added the section's own
  const $ = (id) => document.getElementById(id);
  const badge = (ok) => el("span", { class: `badge ${ok === null ? "" : ok ? "approved" : "rejected"}`, dataset: { ok: String(ok) } },
    t(ok === null ? "brief.na" : ok ? "brief.ok" : "brief.act"));

  function leads(b) {
    const p = b.lead_pool;
    return el("div", { class: "check", dataset: { check: "lead_pool" } }, el("h3", {}, t("brief.leads"), " ", badge(b.checks.lead_pool)),
      el("p", {}, t("brief.leads_line", { new: pct(p.new_share), pool: p.pool, min: pct(p.min_new_share),
        invalid: pct(p.invalid_share), max: pct(p.max_invalid_share) })));
  }

  function stuck(b) {
    const deals = b.breakpoints.deals.slice(0, 10);
    const table = deals.length ? el("div", { class: "scroll" }, el("table", {},
      el("thead", {}, el("tr", {}, ...["deal", "rep", "stage", "days", "timer"].map((k) => el("th", {}, t(`brief.${k}`))))),
      el("tbody", {}, deals.map((d) => el("tr", { dataset: { deal: d.deal_id } }, el("td", {}, d.deal_id), el("td", {}, d.rep),
        el("td", {}, TT.name("stages", d.stage)), el("td", {}, num(d.days_in_stage, 1)), el("td", {}, d.threshold_days))))))
      : el("p", { class: "muted" }, t("brief.none"));
    return el("div", { class: "check", dataset: { check: "breakpoints" } },
      el("h3", {}, `${t("brief.stuck")}: ${b.breakpoints.count} `, badge(b.checks.breakpoints)), table);
  }

  function skills(b) {
    const c = b.capability;
    const body = !c.available ? el("p", { class: "muted" }, t("brief.no_model"))
      : c.shortfalls.length ? el("ul", {}, c.shortfalls.map((s) => el("li", { dataset: { rep: s.rep, dimension: s.dimension } },
        `${s.rep}: ${TT.name("capability_dimensions", s.dimension)} (${pct(s.gap)})`))) : el("p", { class: "muted" }, t("brief.none"));
    return el("div", { class: "check", dataset: { check: "capability" } },
      el("h3", {}, t("brief.skills", { n: c.months_running }), " ", badge(b.checks.capability)), body);
  }

  function question(b, reload) {
    const s = b.surprises;
    const known = s.known.map((k) => `${k.label.split(":")[1].replaceAll("_", " ")} ${k.answers}`).join(", ");
    const signals = s.signals.length ? el("ul", { class: "signals" }, s.signals.map((c) => el("li", { dataset: { size: c.size } },
      el("q", {}, c.example), " ", el("span", { class: "muted" }, t("brief.signal", { n: c.size, reps: c.reps.length })))))
      : el("p", { class: "muted" }, t("brief.no_signal"));
    return el("div", { class: "check question", dataset: { check: "question" } },
      el("h3", {}, s.question[TT.lang] || s.question.en),
      el("p", { class: "muted" }, t("brief.answers", { n: s.answers, reps: s.reps_answering, since: s.since, until: s.until })),
      known ? el("p", { class: "muted" }, t("brief.known", { list: known })) : null,
      el("h4", {}, t("brief.signals")), signals, answerForm(b, reload));
  }

  function answerForm(b, reload) {
    const rep = el("input", { name: "rep_id", maxlength: 64, placeholder: "REP-001", "aria-label": t("brief.answer_for") });
    const text = el("textarea", { name: "text", rows: 2, maxlength: 2000, placeholder: t("brief.question"), "aria-label": t("brief.answer") });
    const status = el("p", { class: "muted status", role: "status" });
    const form = el("form", { class: "answer" }, el("div", { class: "row" }, rep,
      el("button", { type: "submit", class: "primary" }, t("brief.send"))), text, status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await TT.api("/v1/management/brief/answers", { method: "POST", body: { rep_id: rep.value.trim() || null,
          text: text.value.trim() || null, channel: "workbench", answered_on: b.as_of } });
        status.textContent = t("brief.sent");
        text.value = "";
        await reload();
      } catch (error) {
        TT.showError(status, error);
      }
    });
    return form;
  }

  function markdownButton(query) {
    // pre-wrap: a long line of the brief wraps on a phone instead of widening the page
    const out = el("pre", { class: "markdown", hidden: true, style: "white-space:pre-wrap;overflow-wrap:anywhere" });
    const button = el("button", { type: "button" }, t("brief.markdown"));
    button.addEventListener("click", async () => {
      const response = await TT.api(`/v1/management/brief?${query}&format=markdown`, { raw: true });
      out.textContent = await response.text();
      out.hidden = false;
    });
    return el("div", { class: "export" }, button, out);
  }

  async function load() {
    const page = new URLSearchParams(location.search);
    const query = new URLSearchParams();
    for (const key of ["team", "as_of"]) if (page.get(key)) query.set(key, page.get(key));
    const reload = async () => {
      const data = await TT.api(`/v1/management/brief?${query}`);
      $("brief-body").replaceChildren(...data.briefs.map((b) => el("article", { class: "brief", dataset: { team: b.team },
        style: "min-width:0;overflow-wrap:anywhere" },
        el("h3", {}, `${b.team_name} (${b.team}) — ${b.as_of}`),
        el("div", { class: "grid2" }, leads(b), skills(b)), stuck(b), question(b, reload))), markdownButton(query));
      $("brief").dataset.ready = "1";
    };
    try {
      await reload();
    } catch (error) {
      TT.showError($("brief-body"), error);
    }
  }

  if (sessionStorage.getItem(TT.KEY)) load();
})();
