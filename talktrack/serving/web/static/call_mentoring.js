// Call viewer, mentoring section: a senior rep replays this call with a mentee and marks its key points
// (POST /v1/mentoring/...). The key point is taken at the playback position (call.js keeps it in
// #call's data-position), so the mentor pauses where it matters and writes why. The API decides who is
// senior and who may do what; the page only hides forms that would be refused (only the mentor annotates
// and submits; a rep starts a session as its own mentor).
"use strict";

Object.assign(TT_STRINGS.en, {
  "ment.heading": "Mentoring", "ment.none": "No mentoring session on this call yet.",
  "ment.session": "Session {id}: {mentor} mentors {mentee}", "ment.status.open": "open: adding key points",
  "ment.status.submitted": "awaiting the mentee's manager", "ment.status.confirmed": "confirmed, {points} points",
  "ment.status.rejected": "rejected", "ment.start": "Start a session", "ment.mentee": "Mentee (rep id)",
  "ment.mentor": "Mentor (rep id)", "ment.note": "What to hear here, and why it matters",
  "ment.add": "Add key point at {at}", "ment.submit": "Send to the manager ({n} of {min} key points)",
  "ment.need_note": "Write the key point first.", "ment.need_mentee": "Name the rep you mentor.",
  "ment.started": "Session {id} started.", "ment.submitted": "Session {id} sent to the manager.",
  "ment.review_note": "Manager's note: {note}",
});
Object.assign(TT_STRINGS.zh, {
  "ment.heading": "带教", "ment.none": "这通电话还没有带教记录。",
  "ment.session": "带教 {id}：{mentor} 带教 {mentee}", "ment.status.open": "进行中：标注要点",
  "ment.status.submitted": "等待学员主管确认", "ment.status.confirmed": "已确认，{points} 分",
  "ment.status.rejected": "已驳回", "ment.start": "开始带教", "ment.mentee": "学员（销售 ID）",
  "ment.mentor": "导师（销售 ID）", "ment.note": "这里要听什么，为什么重要",
  "ment.add": "在 {at} 添加要点", "ment.submit": "提交主管确认（{n}/{min} 个要点）",
  "ment.need_note": "请先写下要点。", "ment.need_mentee": "请填写学员。",
  "ment.started": "带教 {id} 已开始。", "ment.submitted": "带教 {id} 已提交主管。",
  "ment.review_note": "主管备注：{note}",
});

(() => {
  const { el, t, clock } = TT;
  const $ = (id) => document.getElementById(id);
  const callId = $("call").dataset.callId;
  const position = () => Number($("call").dataset.position || 0);
  let me = null;
  let rules = null;

  const statusText = (s) => t(`ment.status.${s.status}`, { points: s.points });

  function seekTo(seconds) {
    const audio = $("call-audio");
    if (audio) audio.currentTime = seconds;
  }

  function annotateForm(s, reload) {
    const note = el("textarea", { name: "note", rows: 2, maxlength: rules.max_note_chars, placeholder: t("ment.note"),
      "aria-label": t("ment.note") });
    const add = el("button", { type: "submit", class: "primary" }, t("ment.add", { at: clock(position()) }));
    const status = el("p", { class: "muted status", role: "status" });
    const form = el("form", { class: "annotate" }, note, el("div", { class: "row" }, add), status);
    // The button says where the key point will go; it follows the playback.
    form.addEventListener("focusin", () => { add.textContent = t("ment.add", { at: clock(position()) }); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!note.value.trim()) { status.textContent = t("ment.need_note"); return; }
      try {
        await TT.api(`/v1/mentoring/sessions/${s.id}/annotations`,
          { method: "POST", body: { at_s: Number(position().toFixed(2)), note: note.value.trim() } });
        await reload();
      } catch (error) {
        TT.showError(status, error);
      }
    });
    const submit = el("button", { type: "button", class: "submit-session", disabled: s.annotations.length < rules.min_annotations },
      t("ment.submit", { n: s.annotations.length, min: rules.min_annotations }));
    submit.addEventListener("click", async () => {
      try {
        await TT.api(`/v1/mentoring/sessions/${s.id}/submit`, { method: "POST" });
        $("ment-status").textContent = t("ment.submitted", { id: s.id });
        await reload();
      } catch (error) {
        TT.showError(status, error);
      }
    });
    return [form, submit];
  }

  function drawSession(s, reload) {
    const mine = me.role === "admin" || (me.role === "rep" && me.rep === s.mentor.rep_id);
    return el("article", { class: "mentoring-session", dataset: { sessionId: s.id, status: s.status } },
      el("h3", {}, t("ment.session", { id: s.id, mentor: s.mentor.name || s.mentor.rep_id, mentee: s.mentee.name || s.mentee.rep_id })),
      el("p", { class: "muted" }, statusText(s)),
      s.review_note ? el("p", { class: "muted" }, t("ment.review_note", { note: s.review_note })) : null,
      el("ol", { class: "key-points" }, s.annotations.map((a) => el("li", { dataset: { at: a.at_s } },
        el("a", { href: `?t=${a.at_s}`, onclick: (e) => { e.preventDefault(); seekTo(a.at_s); } }, clock(a.at_s)), " ", a.note))),
      mine && s.status === "open" ? annotateForm(s, reload) : null);
  }

  function startForm(reload) {
    if (!["admin", "manager", "rep"].includes(me.role)) return null;
    const mentee = el("input", { name: "mentee", maxlength: 64, placeholder: "REP-…", "aria-label": t("ment.mentee") });
    const mentor = me.role === "rep" ? null
      : el("input", { name: "mentor", maxlength: 64, placeholder: "REP-…", "aria-label": t("ment.mentor") });
    const status = el("p", { class: "muted status", role: "status" });
    const form = el("form", { id: "ment-start", class: "filters" },
      mentor ? el("div", {}, el("label", {}, t("ment.mentor")), mentor) : null,
      el("div", {}, el("label", {}, t("ment.mentee")), mentee),
      el("button", { type: "submit", class: "primary" }, t("ment.start")), status);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!mentee.value.trim()) { status.textContent = t("ment.need_mentee"); return; }
      const body = { call_id: callId, mentee_id: mentee.value.trim() };
      if (mentor && mentor.value.trim()) body.mentor_id = mentor.value.trim();
      try {
        const made = await TT.api("/v1/mentoring/sessions", { method: "POST", body });
        $("ment-status").textContent = t("ment.started", { id: made.id });
        await reload();
      } catch (error) {
        TT.showError(status, error);
      }
    });
    return form;
  }

  async function load() {
    const section = $("mentoring");
    if (!section) return;
    TT.applyI18n(section);  // the page applied its strings before this script added these
    const reload = async () => {
      const listing = await TT.api(`/v1/mentoring/sessions?${new URLSearchParams({ call_id: callId })}`);
      rules = listing.rules;
      const sessions = listing.sessions.length ? listing.sessions.map((s) => drawSession(s, reload))
        : [el("p", { class: "muted" }, t("ment.none"))];
      // A mentor may replay one call with several mentees: the start form stays.
      const body = $("ment-body");
      if (!body) return;  // the call could not be opened: the page shows why in place of its sections
      body.replaceChildren(...sessions, ...[startForm(reload)].filter(Boolean));
      section.dataset.ready = "1";
    };
    try {
      me = await TT.api("/v1/me");
      await reload();
    } catch (error) {
      if ($("ment-body")) TT.showError($("ment-body"), error);
    }
  }

  if (sessionStorage.getItem(TT.KEY)) load();
})();
