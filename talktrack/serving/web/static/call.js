// Call viewer: speaker turns on a timeline coloured by role, the transcript in sync with playback,
// moments and SOP steps marked, missing SOP steps and uncovered key questions with a suggestion.
"use strict";

(() => {
  const { el, t, name, clock } = TT;
  const callId = document.getElementById("call").dataset.callId;
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 1000;
  const LANES = { customer: 18, rep: 44, other: 70 };
  let duration = 1;
  let lines = [];
  let audio = null;
  let position = 0;  // seconds; follows the audio when there is a recording
  let playhead = null;

  const svg = (tag, attrs) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  };
  const x = (seconds) => (seconds / duration) * WIDTH;
  const lane = (role) => (role in LANES ? role : "other");

  function drawTimeline(utterances, moments, sop) {
    const chart = svg("svg", { viewBox: `0 0 ${WIDTH} 96`, role: "img", "aria-label": t("call.timeline") });
    for (const [role, y] of Object.entries(LANES)) {
      chart.append(svg("line", { x1: 0, x2: WIDTH, y1: y + 8, y2: y + 8, stroke: "#eef1f5", "stroke-width": 16 }));
    }
    for (const u of utterances) {
      const rect = svg("rect", {
        x: x(u.start_s), y: LANES[lane(u.role)], width: Math.max(1.5, x(u.end_s) - x(u.start_s)), height: 16, rx: 2,
        fill: `var(--${lane(u.role)})`, class: `turn ${lane(u.role)}`,
      });
      rect.append(svg("title", {}));
      rect.firstChild.textContent = `${clock(u.start_s)} ${t("speaker." + lane(u.role))}: ${u.text}`;
      chart.append(rect);
    }
    for (const m of moments) {
      const cx = x(m.start_s);
      const mark = svg("path", { d: `M${cx - 5} 2 L${cx + 5} 2 L${cx} 12 Z`, fill: m.kind === "objection" ? "var(--bad)" : "var(--ok)", class: "moment-mark" });
      mark.append(svg("title", {}));
      mark.firstChild.textContent = momentLabel(m);
      chart.append(mark);
    }
    for (const step of (sop && sop.steps) || []) {
      if (!step.covered || !step.match || step.match.start_s === undefined) continue;
      chart.append(svg("rect", { x: x(step.match.start_s) - 3, y: 88, width: 6, height: 6, fill: "var(--accent)", class: "sop-mark" }));
    }
    playhead = svg("line", { x1: 0, x2: 0, y1: 0, y2: 96, stroke: "var(--ink)", "stroke-width": 2, id: "playhead" });
    chart.append(playhead);
    chart.addEventListener("click", (event) => {
      const box = chart.getBoundingClientRect();
      seek(((event.clientX - box.left) / box.width) * duration);
    });
    document.getElementById("timeline").replaceChildren(chart);
    document.getElementById("legend").replaceChildren(
      ...["customer", "rep"].map((r) => el("span", {}, el("span", { class: "swatch", style: `background: var(--${r})` }), t(`speaker.${r}`))),
      el("span", {}, "▼ ", t("call.objection_move")), el("span", {}, "■ ", t("call.sop_step")));
  }

  function momentLabel(m) {
    const part = m.kind === "objection" ? "objection_types" : m.kind === "move" ? "moves" : "key_questions";
    return `${clock(m.start_s)} ${t(`moment.${m.kind}`)}: ${name(part, m.label)}`;
  }

  function drawTranscript(utterances) {
    lines = utterances.map((u) => el("div", {
      class: "line", role: "button", tabindex: "0", dataset: { start: u.start_s, end: u.end_s, seq: u.seq },
      onclick: () => seek(u.start_s, true), onkeydown: (e) => e.key === "Enter" && seek(u.start_s, true),
    }, el("time", {}, clock(u.start_s)), el("span", { class: `who ${lane(u.role)}` }, t(`speaker.${lane(u.role)}`)), el("span", {}, u.text)));
    document.getElementById("transcript").replaceChildren(...lines);
  }

  // Moves the playback (the recording when there is one) and the marks that follow it.
  function seek(seconds, play) {
    position = Math.max(0, Math.min(seconds, duration));
    if (audio) {
      audio.currentTime = position;
      if (play) audio.play().catch(() => {});
    }
    follow();
  }

  function follow() {
    if (audio) position = audio.currentTime;
    document.getElementById("call").dataset.position = position.toFixed(2);
    if (playhead) { playhead.setAttribute("x1", x(position)); playhead.setAttribute("x2", x(position)); }
    let current = null;
    for (const line of lines) {
      const on = position >= Number(line.dataset.start) - 0.05 && position < Number(line.dataset.end);
      line.classList.toggle("current", on);
      if (on) current = line;
    }
    if (current && audio && !audio.paused) current.scrollIntoView({ block: "nearest" });
  }

  async function setUpPlayer(call) {
    const box = document.getElementById("player");
    if (!call.has_audio) return box.replaceChildren(el("p", { class: "muted" }, t("call.no_audio")));
    audio = el("audio", { controls: true, preload: "auto", id: "call-audio", src: await Clips.load(call.call_id) });
    audio.addEventListener("timeupdate", follow);
    audio.addEventListener("seeked", follow);
    box.replaceChildren(audio);
  }

  function drawSop(sop) {
    const box = document.getElementById("sop");
    const missing = sop.steps.filter((s) => !s.covered);
    box.replaceChildren(
      el("p", {}, t("call.compliance", { share: TT.pct(sop.compliance), stage: name("stages", sop.stage) })),
      el("h3", {}, t("call.missing_steps")),
      missing.length ? el("ul", { id: "missing-steps" }, missing.map(missingStep)) : el("p", { class: "muted" }, t("call.all_covered")),
      el("h3", {}, t("call.missing_questions")),
      sop.missing_key_questions.length
        ? el("ul", { id: "missing-questions" }, sop.missing_key_questions.map((q) => el("li", {}, name("key_questions", q))))
        : el("p", { class: "muted" }, t("call.all_covered")));
  }

  function missingStep(step) {
    const s = step.suggestion;
    return el("li", {}, el("b", {}, TT.lang === "zh" ? step.name_zh : step.name_en),
      s ? el("div", { class: "exemplar" }, el("span", { class: "muted" }, t(`call.suggest_${s.source}`)), " ", s.text,
        s.call_id ? el("div", {}, el("a", { href: `/app/calls/${encodeURIComponent(s.call_id)}?t=${s.start_s ?? 0}` }, t("tracks.open_call"))) : null)
        : null);
  }

  function drawMoments(moments) {
    const box = document.getElementById("moments");
    if (!moments.length) return box.replaceChildren(el("p", { class: "muted" }, t("call.no_moments")));
    box.replaceChildren(el("ul", { class: "trail" }, moments.map((m) =>
      el("li", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); seek(m.start_s, true); } }, momentLabel(m)), " — ", m.text))));
  }

  TT.page(async () => {
    const path = `/v1/calls/${encodeURIComponent(callId)}`;
    const [call, transcript, moments] = await Promise.all([TT.api(path), TT.api(`${path}/transcript`), TT.api(`${path}/moments`)]);
    duration = call.duration_s || Math.max(1, ...transcript.utterances.map((u) => u.end_s));
    const deal = call.deal_id ? el("a", { href: `/app/deals/${encodeURIComponent(call.deal_id)}`, id: "call-deal" }, call.deal_id) : null;
    document.getElementById("call-meta").replaceChildren(...[call.rep_id, deal, call.customer_id,
      call.stage ? name("stages", call.stage) : null, call.language, clock(duration)].filter(Boolean)
      .flatMap((part, i) => (i ? [" · ", part] : [part])));
    drawTranscript(transcript.utterances);
    drawTimeline(transcript.utterances, moments.moments, null);
    drawMoments(moments.moments);
    // The SOP check embeds the call's sentences (slow on a cold service): it fills in when it comes.
    TT.api(`${path}/sop`).then((sop) => {
      drawSop(sop);
      drawTimeline(transcript.utterances, moments.moments, sop);
      follow();
    }).catch((error) => TT.showError(document.getElementById("sop"), error));
    await setUpPlayer(call);
    const start = Number(new URLSearchParams(location.search).get("t"));
    seek(Number.isFinite(start) ? start : 0);
  });
})();
