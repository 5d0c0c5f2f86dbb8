// Management page, mentoring section: sessions awaiting the manager (a senior rep replayed a call with a
// mentee and marked its key points) with a confirm / reject form, and this month's points ledger per
// mentor (GET /v1/mentoring/...). Only the manager of the mentee's team (or an admin) reviews: the form is
// shown only where the API would accept it; a director reads.
"use strict";

Object.assign(TT_STRINGS.en, {
  "mentor.heading": "Mentoring points", "mentor.awaiting": "Sessions awaiting confirmation",
  "mentor.none": "No session is waiting.", "mentor.session": "Session {id}: {mentor} mentored {mentee}", "mentor.call": "Call replayed:",
  "mentor.points_note": "Confirming earns {points} points (at most {cap} a month per mentor).",
  "mentor.note": "Note (needed to reject)", "mentor.confirm": "Confirm", "mentor.reject": "Reject",
  "mentor.need_note": "Write why the session is rejected.", "mentor.done": "Session {id} {status}.",
  "mentor.not_yours": "The mentee's manager reviews this session.", "mentor.ledger": "Ledger, {month}",
  "mentor.rep": "Mentor", "mentor.team": "Team", "mentor.sessions": "Sessions", "mentor.earned": "Earned",
  "mentor.reversed": "Reversed", "mentor.net": "Net", "mentor.empty": "No points in {month}.",
});
Object.assign(TT_STRINGS.zh, {
  "mentor.heading": "带教积分", "mentor.awaiting": "待确认的带教",
  "mentor.none": "没有待确认的带教。", "mentor.session": "带教 {id}：{mentor} 带教 {mentee}", "mentor.call": "复盘通话：",
  "mentor.points_note": "确认后计 {points} 分（每位导师每月最多 {cap} 分）。",
  "mentor.note": "备注（驳回时必填）", "mentor.confirm": "确认", "mentor.reject": "驳回",
  "mentor.need_note": "请写明驳回原因。", "mentor.done": "带教 {id} 已{status}。",
  "mentor.not_yours": "由学员的主管确认。", "mentor.ledger": "积分台账，{month}",
  "mentor.rep": "导师", "mentor.team": "团队", "mentor.sessions": "带教次数", "mentor.earned": "获得",
  "mentor.reversed": "冲销", "mentor.net": "净积分", "mentor.empty": "{month} 没有积分。",
});

(() => {
  const { el, t, clock } = TT;
  const $ = (id) => document.getElementById(id);
  const mayReview = (me, s) => me.role === "admin" || (me.role === "manager" && me.team === s.mentee.team);
  const thisMonth = () => new Date().toISOString().slice(0, 7);

  function reviewForm(me, s, rules, reload) {
    if (!mayReview(me, s)) return el("p", { class: "muted" }, t("mentor.not_yours"));
    const note = el("textarea", { name: "note", rows: 2, maxlength: 4000, placeholder: t("mentor.note"), "aria-label": t("mentor.note") });
    const status = el("p", { class: "muted status" });
    const decide = async (decision) => {
      if (decision === "reject" && !note.value.trim()) { status.textContent = t("mentor.need_note"); return; }
      try {
        const done = await TT.api(`/v1/mentoring/sessions/${s.id}/review`,
          { method: "POST", body: { decision, note: note.value.trim() } });
        $("mentor-status").textContent = t("mentor.done", { id: done.id, status: done.status });
        await reload();
      } catch (error) {
        TT.showError(status, error);
      }
    };
    return el("form", { class: "review-session", onsubmit: (e) => e.preventDefault() },
      el("p", { class: "muted" }, t("mentor.points_note", { points: rules.points_per_session, cap: rules.monthly_cap })),
      note, el("div", { class: "row" },
        el("button", { type: "button", class: "primary confirm", onclick: () => decide("confirm") }, t("mentor.confirm")),
        el("button", { type: "button", class: "reject", onclick: () => decide("reject") }, t("mentor.reject"))), status);
  }

  function drawSession(me, s, rules, reload) {
    const call = el("a", { href: `/app/calls/${encodeURIComponent(s.call_id)}` }, s.call_id);
    return el("article", { class: "mentoring-session", dataset: { sessionId: s.id, mentee: s.mentee.rep_id } },
      el("h3", {}, t("mentor.session", { id: s.id, mentor: s.mentor.name || s.mentor.rep_id,
        mentee: s.mentee.name || s.mentee.rep_id })),
      el("p", { class: "muted" }, t("mentor.call"), " ", call),
      el("ol", { class: "key-points" }, s.annotations.map((a) => el("li", {},
        el("a", { href: `/app/calls/${encodeURIComponent(s.call_id)}?t=${a.at_s}` }, clock(a.at_s)), " ", a.note))),
      reviewForm(me, s, rules, reload));
  }

  function drawLedger(book, month) {
    if (!book.reps.length) return el("p", { class: "muted" }, t("mentor.empty", { month }));
    const columns = ["sessions", "earned", "reversed", "net"];
    return el("div", { class: "scroll" }, el("table", { id: "mentor-ledger" },
      el("thead", {}, el("tr", {}, el("th", {}, t("mentor.rep")), el("th", {}, t("mentor.team")),
        columns.map((c) => el("th", {}, t(`mentor.${c}`))))),
      el("tbody", {}, book.reps.map((r) => el("tr", { dataset: { rep: r.rep_id, net: r.net } },
        el("td", {}, `${r.rep_name} (${r.rep_id})`), el("td", {}, r.team || "–"),
        columns.map((c) => el("td", { dataset: { column: c } }, String(r[c]))))))));
  }

  async function load() {
    const page = new URLSearchParams(location.search);
    const section = $("mentoring");
    TT.applyI18n(section);  // the page applied its strings before this script added these
    const month = page.get("month") || thisMonth();
    let me;
    const reload = async () => {
      const query = new URLSearchParams({ status: "submitted" });
      const ledgerQuery = new URLSearchParams({ month });
      if (page.get("team")) { query.set("team", page.get("team")); ledgerQuery.set("team", page.get("team")); }
      const [waiting, book] = await Promise.all([TT.api(`/v1/mentoring/sessions?${query}`),
        TT.api(`/v1/mentoring/ledger?${ledgerQuery}`)]);
      $("mentor-awaiting").replaceChildren(...(waiting.sessions.length
        ? waiting.sessions.map((s) => drawSession(me, s, waiting.rules, reload)) : [el("p", { class: "muted" }, t("mentor.none"))]));
      $("mentor-ledger-heading").textContent = t("mentor.ledger", { month });
      $("mentor-book").replaceChildren(drawLedger(book, month));
      section.dataset.ready = "1";
    };
    try {
      me = await TT.api("/v1/me");
      await reload();
    } catch (error) {
      TT.showError($("mentor-awaiting"), error);
    }
  }

  if (sessionStorage.getItem(TT.KEY)) load();
})();
