// Drill: a virtual customer raises a real objection; the rep answers (typed or spoken), sees the score
// and its breakdown, the three closest real top-seller answers, and the customer's next line.
"use strict";

(() => {
  const { el, t, name, pct } = TT;
  const form = document.getElementById("scenario");
  const box = document.getElementById("drill");
  const historyBox = document.getElementById("history");
  const scenarios = TT.taxonomy.drills;
  let role = null;

  // -- scenario form: exactly the values POST /v1/drills accepts, rendered into the page ------------
  function fillScenarioForm(me) {
    const options = (select, entries) => select.replaceChildren(...entries.map(([value, label]) => el("option", { value }, label)));
    options(form.objection_type, Object.keys(TT.taxonomy.objection_types).map((k) => [k, name("objection_types", k)]));
    options(form.persona, Object.entries(scenarios.personas).map(([k, names]) => [k, names[TT.lang] || k]));
    options(form.language, scenarios.languages.map((l) => [l, l === "zh" ? "中文" : l === "en" ? "English" : l]));
    form.language.value = scenarios.languages.includes(TT.lang) ? TT.lang : scenarios.languages[0];
    const forOthers = ["coach", "admin"].includes(me.role);  // a rep key always drills as itself
    document.getElementById("d-rep-box").hidden = !forOthers;
    form.rep_id.required = forOthers;
    form.hidden = !["rep", "coach", "admin"].includes(me.role);  // a manager reads the team's drills only
    form.addEventListener("submit", start);
  }

  async function start(event) {
    event.preventDefault();
    const body = { objection_type: form.objection_type.value, persona: form.persona.value, language: form.language.value };
    if (!document.getElementById("d-rep-box").hidden) body.rep_id = form.rep_id.value.trim();
    const button = document.getElementById("d-start");
    button.disabled = true;
    box.replaceChildren(el("p", { class: "muted" }, t("drill.starting")));
    try {
      const drill = await TT.api("/v1/drills", { method: "POST", body });
      show({ ...drill, turns: [] });
      loadHistory();
    } catch (error) {
      TT.showError(box, error);
    } finally {
      button.disabled = false;
    }
  }

  // -- one drill ---------------------------------------------------------------------------------
  async function open(id) {
    box.replaceChildren(el("p", { class: "muted" }, t("common.loading")));
    try {
      show(await TT.api(`/v1/drills/${encodeURIComponent(id)}`));
    } catch (error) {
      TT.showError(box, error);
    }
  }

  function show(drill) {
    history.replaceState(null, "", `?id=${encodeURIComponent(drill.drill_id)}`);
    const chat = el("div", { class: "chat", id: "chat" },
      bubble("customer", drill.opening.text, drill.opening.objection_type));
    for (const turn of drill.turns) chat.append(...turnNodes(turn));
    const active = drill.status === "active" && (role === "rep" || role === "coach" || role === "admin");
    box.replaceChildren(...[
      el("h2", {}, name("objection_types", drill.objection_type), " · ", personaName(drill.persona), " ",
        el("span", { class: `badge ${drill.status === "active" ? "proposed" : "approved"}`, dataset: { status: drill.status } },
          t(`drill.status.${drill.status}`))),
      el("p", { class: "muted" }, `${drill.rep_id} · ${drill.created_at || ""}`),
      chat,
      active ? composer(drill, chat) : null,
      drill.summary ? summary(drill.summary) : null,
    ].filter(Boolean));
    chat.scrollTop = chat.scrollHeight;
  }

  const personaName = (key) => (scenarios.personas[key] || {})[TT.lang] || key;

  function bubble(who, text, objectionType) {
    return el("div", { class: `bubble ${who}` },
      el("span", { class: `who ${who}` }, t(`speaker.${who}`)),
      objectionType && who === "customer" ? el("span", { class: "badge" }, name("objection_types", objectionType)) : null,
      el("div", {}, text));
  }

  function turnNodes(turn) {
    return [bubble("rep", turn.rep_text), feedback(turn), bubble("customer", turn.customer_line.text, turn.customer_line.objection_type)];
  }

  // The score and why: closeness to real top-seller answers, the track's moves covered and missed.
  function feedback(turn) {
    const b = turn.breakdown || {};
    const moves = (list) => (list && list.length ? list.map((m) => name("moves", m)).join(", ") : "–");
    const bar = (share) => el("div", { class: "bar" }, el("span", { style: `width:${Math.round(100 * (share || 0))}%` }));
    const row = (label, value, share) => el("tr", {}, el("th", {}, label), el("td", {}, value, share !== undefined ? bar(share) : null));
    return el("div", { class: "card turn-result", dataset: { seq: turn.seq } },
      el("div", { class: "stats" },
        el("span", {}, t("drill.turn", { seq: turn.seq })),
        el("span", { class: "score" }, Number(turn.score).toFixed(0)), el("span", {}, "/ 100"),
        el("span", { class: `badge reaction ${turn.reaction}` }, t(`drill.reaction.${turn.reaction}`))),
      el("table", { class: "breakdown" },
        row(t("drill.closeness"), pct(b.closeness), b.closeness),
        b.moves_share === null || b.moves_share === undefined ? null : row(t("drill.moves_share"), pct(b.moves_share), b.moves_share),
        row(t("drill.covered"), moves(b.moves_covered)),
        row(t("drill.missing"), moves(b.moves_missing)),
        b.feedback ? row(t("drill.coach"), coachSays(b.feedback)) : null),
      el("details", { class: "answers" },
        el("summary", {}, t("drill.answers", { n: (turn.answers || []).length })),
        ...(turn.answers || []).map(topAnswer)));
  }

  // What the scorer says, in the drill's language: what was good, then the one move to add.
  function coachSays(f) {
    return [f.good && f.good.length ? `✓ ${f.good.join(", ")}` : "", f.advice || ""].filter(Boolean).join(" · ") || "–";
  }

  function topAnswer(a) {
    return el("div", { class: "exemplar" },
      el("div", { class: "stats" },
        el("span", {}, a.rep_id), el("span", {}, `${t("drill.deal")} ${a.deal_id}: ${t(`outcome.${a.outcome}`)}`),
        el("span", {}, `${t("drill.similarity")} ${Number(a.similarity || 0).toFixed(2)}`)),
      el("p", { class: "say" }, el("span", { class: "who rep" }, t("speaker.rep")), a.text),
      el("div", { class: "actions" },
        a.audio_clip_url ? Clips.button(a.call_id, a.start_s, a.end_s) : null,
        el("a", { href: `/app/calls/${encodeURIComponent(a.call_id)}?t=${a.start_s}` }, t("tracks.open_call"))));
  }

  function composer(drill, chat) {
    const answer = el("textarea", { id: "answer", maxlength: "4000", placeholder: t("drill.answer_hint") });
    const status = el("div", { id: "composer-status", "aria-live": "polite" });
    const send = el("button", { type: "button", class: "primary", id: "send" }, t("drill.send"));
    const end = el("button", { type: "button", id: "end" }, t("drill.end"));
    const buttons = [send, end];
    const busy = (on) => { for (const b of buttons) b.disabled = on; };

    async function post(options) {
      busy(true);
      status.replaceChildren(el("span", { class: "muted" }, t("drill.scoring")));
      try {
        const turn = await TT.api(`/v1/drills/${encodeURIComponent(drill.drill_id)}/turns`, { method: "POST", ...options });
        chat.append(...turnNodes(turn));
        chat.scrollTop = chat.scrollHeight;
        answer.value = "";
        status.replaceChildren();
      } catch (error) {
        TT.showError(status, error);
      } finally {
        busy(false);
      }
    }
    send.addEventListener("click", () => {
      const text = answer.value.trim();
      if (text) post({ body: { text } });
    });
    answer.addEventListener("keydown", (e) => e.key === "Enter" && (e.ctrlKey || e.metaKey) && send.click());
    end.addEventListener("click", async () => {
      busy(true);
      try {
        show(await TT.api(`/v1/drills/${encodeURIComponent(drill.drill_id)}/end`, { method: "POST" }));
        loadHistory();
      } catch (error) {
        TT.showError(status, error);
        busy(false);
      }
    });
    const record = recorder((blob) => {
      const data = new FormData();
      data.append("audio", blob, `answer.${blob.type.includes("ogg") ? "ogg" : "webm"}`);
      return post({ form: data });
    });
    if (record) buttons.push(record);
    return el("div", { class: "composer" }, answer, send, record, end, status);
  }

  // A microphone button (MediaRecorder): press to record, press again to send. None without a mic API.
  function recorder(onRecorded) {
    if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return null;
    const button = el("button", { type: "button", id: "record" }, t("drill.record"));
    let running = null;
    button.addEventListener("click", async () => {
      if (running) return running.stop();
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        const chunks = [];
        running = new MediaRecorder(stream);
        running.addEventListener("dataavailable", (e) => chunks.push(e.data));
        running.addEventListener("stop", () => {
          stream.getTracks().forEach((track) => track.stop());
          const blob = new Blob(chunks, { type: running.mimeType || "audio/webm" });
          running = null;
          button.textContent = t("drill.record");
          onRecorded(blob);
        });
        running.start();
        button.textContent = t("drill.stop");
      } catch (error) {
        button.replaceWith(el("span", { class: "muted" }, t("drill.no_mic")));
      }
    });
    return button;
  }

  function summary(s) {
    const moves = (list) => (list && list.length ? list.map((m) => name("moves", m)).join(", ") : "–");
    const row = (label, value) => el("tr", {}, el("th", {}, label), el("td", {}, value));
    return el("div", { class: "card summary" },
      el("h3", {}, t("drill.summary")),
      el("table", {},
        row(t("drill.turns"), s.turns),
        row(t("drill.mean"), s.mean_score ?? "–"),
        row(t("drill.best"), s.best_score ?? "–"),
        row(t("drill.scores"), (s.scores || []).map((x) => Number(x).toFixed(0)).join(" · ") || "–"),
        row(t("drill.raised"), (s.objections_raised || []).map((k) => name("objection_types", k)).join(", ")),
        row(t("drill.missing_most"), moves(s.moves_missing_most))),
      el("p", {}, s.advice || ""));
  }

  // -- history -----------------------------------------------------------------------------------
  async function loadHistory() {
    try {
      const { drills } = await TT.api("/v1/drills?limit=20");
      if (!drills.length) return historyBox.replaceChildren(el("p", { class: "muted" }, t("drill.none")));
      historyBox.replaceChildren(el("ul", { class: "track-list" }, drills.map((d) => el("li", {
        dataset: { drillId: d.drill_id }, tabindex: "0",
        onclick: () => open(d.drill_id), onkeydown: (e) => e.key === "Enter" && open(d.drill_id),
      },
        el("div", { class: "track-moves" }, name("objection_types", d.objection_type), " · ", personaName(d.persona)),
        el("div", { class: "stats" },
          el("span", {}, d.created_at || ""), role === "rep" ? null : el("span", {}, d.rep_id),
          el("span", {}, t(`drill.status.${d.status}`)),
          d.summary ? el("span", {}, t("drill.mean"), " ", el("b", {}, d.summary.mean_score ?? "–")) : null)))));
    } catch (error) {
      TT.showError(historyBox, error);
    }
  }

  TT.page(async (me) => {
    role = me.role;
    fillScenarioForm(me);
    const id = new URLSearchParams(location.search).get("id");
    await Promise.all([loadHistory(), id ? open(id) : null]);
  });
})();
