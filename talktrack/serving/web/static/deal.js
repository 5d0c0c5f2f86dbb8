// Deal page: who and what the deal is, the customer's conversations on every channel (calls, chats,
// e-mail threads, voice messages) with "did this topic come up, and where", the stage gate (what leaving
// the stage requires, evidence verified / present / missing, earlier changes accepted unverified) and
// the deal's watermarked quotes. Each box asks its own /v1 route, so a slow one never blanks the others.
"use strict";

(() => {
  const { el, t, name, clock } = TT;
  const dealId = document.getElementById("deal").dataset.dealId;
  const base = `/v1/deals/${encodeURIComponent(dealId)}`;
  const $ = (id) => document.getElementById(id);
  // The roles GET /v1/deals/{id}/quotes serves (a director follows deals but does not read quotes).
  const QUOTE_READERS = ["admin", "coach", "crm", "manager", "rep"];

  // A configured key's display name where the taxonomy has one, else its own words.
  const said = (key, prefix) => {
    const text = t(`${prefix}.${key}`);
    return text === `${prefix}.${key}` ? String(key).replaceAll("_", " ") : text;
  };
  const day = (iso) => (iso ? iso.slice(0, 10) : "–");
  const when = (iso) => (iso ? iso.slice(0, 16).replace("T", " ") : "–");
  const callUrl = (id, seconds) => `/app/calls/${encodeURIComponent(id)}${seconds === undefined ? "" : `?t=${seconds}`}`;

  // -- header -------------------------------------------------------------------------------------------
  function drawHead(deal) {
    const amount = deal.amount === null || deal.amount === undefined ? "–"
      : `${Number(deal.amount).toLocaleString(TT.lang === "zh" ? "zh-CN" : "en-US")} ${deal.currency || ""}`.trim();
    const clockText = deal.days_in_stage === null ? name("stages", deal.stage)
      : t("dash.in_stage", { days: Math.floor(deal.days_in_stage), stage: name("stages", deal.stage) });
    const facts = [
      ["customer", [deal.customer_name, deal.customer].filter(Boolean).join(" · ")],
      ["stage", clockText], ["status", t(`outcome.${deal.status}`)], ["rep", [deal.rep, deal.team].filter(Boolean).join(" · ")],
      ["amount", amount], ["progress", deal.progress_level ? name("progress_levels", deal.progress_level) : "–"],
    ];
    if (deal.title) $("deal-title").textContent = `${dealId} · ${deal.title}`;
    $("deal-head").replaceChildren(...facts.map(([key, value]) => el("div", { dataset: { fact: key } },
      el("dt", {}, t(`deal.${key}`)), el("dd", { class: key === "stage" && deal.over_threshold ? "deal-status over" : null }, value))));
  }

  // -- conversations and the topic ---------------------------------------------------------------------
  function topicOptions() {
    const options = [...Object.keys(TT.taxonomy.objection_types || {}).map((k) => name("objection_types", k)),
      ...Object.keys(TT.taxonomy.key_questions || {}).map((k) => name("key_questions", k))];
    $("topic-options").replaceChildren(...options.map((value) => el("option", { value })));
  }

  async function loadConversations() {
    const topic = $("topic").value.trim();
    const last = Math.min(50, Math.max(1, Number($("last").value) || 10));
    const params = new URLSearchParams({ last: String(last) });
    if (topic) params.set("topic", topic);
    const box = $("conversations");
    box.setAttribute("aria-busy", "true");
    $("topic-summary").textContent = topic ? t("deal.searching") : "";
    try {
      drawConversations(await TT.api(`${base}/conversations?${params}`));
    } catch (error) {
      $("topic-summary").textContent = "";
      TT.showError(box, error);
    } finally {
      box.removeAttribute("aria-busy");
    }
  }

  function topicName(topic) {
    if (topic.kind === "objection") return name("objection_types", topic.key);
    if (topic.kind === "key_question") return name("key_questions", topic.key);
    return `“${topic.key}”`;
  }

  function drawConversations(answer) {
    const box = $("conversations");
    box.dataset.topic = answer.topic ? `${answer.topic.kind}:${answer.topic.key}` : "";
    $("topic-summary").textContent = answer.topic
      ? t("deal.found_in", { topic: topicName(answer.topic), kind: t(`deal.kind_${answer.topic.kind}`), found: answer.found_in, n: answer.count })
      : t("deal.listed", { n: answer.count, customer: answer.customer || answer.customer_id });
    if (!answer.conversations.length) return box.replaceChildren(el("p", { class: "muted" }, t("deal.no_conversations")));
    box.replaceChildren(el("ul", { class: "conv-list", id: "conv-list" }, answer.conversations.map(conversation)));
  }

  function conversation(c) {
    const isCall = c.channel === "call";
    const found = c.topic_found === null ? null : el("span", { class: "found" }, c.topic_found ? t("deal.came_up") : t("deal.not_found"));
    const other = c.deal_id && c.deal_id !== dealId ? el("a", { href: `/app/deals/${encodeURIComponent(c.deal_id)}` }, c.deal_id) : null;
    return el("li", { class: "conv", title: isCall ? null : c.id,
      dataset: { convId: c.id, channel: c.channel, found: c.topic_found === null ? "" : String(c.topic_found) } },
      el("div", { class: "conv-head" },
        el("span", { class: `badge channel-${c.channel}` }, t(`deal.channel_${c.channel}`)),
        // a chat's or thread's id is the importer's long key: kept on hover, not in the line
        isCall ? el("a", { href: callUrl(c.id) }, c.id) : null,
        el("span", { class: "muted" }, [when(c.started_at), c.stage ? name("stages", c.stage) : null,
          t(isCall ? "deal.utterances" : "deal.messages", { n: c.turns }),
          c.voice_messages ? t("deal.voice", { n: c.voice_messages }) : null].filter(Boolean).join(" · ")),
        other, found),
      c.passages.map((p) => passage(c, p)));
  }

  function passage(c, p) {
    const where = p.start_s !== null && p.start_s !== undefined ? clock(p.start_s) : when(p.sent_at);
    const who = t(`speaker.${p.role in { customer: 1, rep: 1 } ? p.role : "other"}`);
    const jump = c.channel === "call" && p.start_s !== null && p.start_s !== undefined
      ? el("a", { class: "jump", href: callUrl(c.id, p.start_s) }, t("deal.open_at", { at: clock(p.start_s) })) : null;
    return el("blockquote", { class: "passage", dataset: { seq: p.seq } },
      el("span", { class: "where" }, `${where} · ${who}${p.kind === "voice" ? ` · ${t("deal.voice_message")}` : ""}`),
      el("span", {}, p.text), jump ? " " : null, jump);
  }

  // -- stage gate ---------------------------------------------------------------------------------------
  function drawGate(gate) {
    const box = $("gate");
    const stage = gate.stage ? name("stages", gate.stage) : "–";
    const parts = [el("p", {}, t(gate.requirements.length ? "deal.requires" : "deal.requires_nothing", { stage }),
      " ", el("span", { class: "muted" }, t(gate.enforce ? "deal.enforced" : "deal.not_enforced")))];
    if (gate.requirements.length) {
      parts.push(el("table", { class: "requirements", id: "requirements" },
        el("tr", {}, el("th", {}, t("deal.evidence")), el("th", {}, t("deal.state")), el("th", {}, t("deal.documents"))),
        gate.requirements.map(requirement)));
    }
    const unverified = gate.checks.filter((c) => c.status !== "verified");
    parts.push(el("h3", {}, t("deal.changes", { n: gate.checks_total, unverified: gate.unverified })));
    parts.push(gate.checks.length ? el("ul", { class: "check-list", id: "gate-checks" }, gate.checks.map(check))
      : el("p", { class: "muted" }, t("deal.no_checks")));
    box.dataset.unverified = String(unverified.length);
    box.replaceChildren(...parts);
  }

  function requirement(r) {
    return el("tr", { dataset: { status: r.status, kinds: r.evidence_kinds.join(",") } },
      el("td", {}, r.evidence_kinds.map((k) => said(k, "evkind")).join(` ${t("deal.or")} `)),
      el("td", {}, el("span", { class: `badge gate-${r.status}` }, t(`gate.${r.status}`))),
      el("td", {}, r.documents.length ? el("ul", { class: "flag-reasons" }, r.documents.map((d) => el("li", {},
        `${d.evidence_id} · ${said(d.kind, "evkind")} · ${day(d.submitted_at)} · `, el("b", {}, said(d.verdict, "verdict")))))
        : el("span", { class: "muted" }, "–")));
  }

  function check(c) {
    const move = c.from_stage ? `${name("stages", c.from_stage)} → ${name("stages", c.to_stage)}` : name("stages", c.to_stage);
    return el("li", { class: "check", dataset: { status: c.status, toStage: c.to_stage } },
      el("span", { class: `badge gate-${c.status}` }, t(`gate.${c.status}`)), " ", el("b", {}, move),
      el("span", { class: "muted" }, ` · ${day(c.entered_at)} · ${t(`deal.source_${c.source}`)}`),
      (c.missing || []).length ? el("ul", { class: "flag-reasons" }, c.missing.map((m) => el("li", {},
        `${name("stages", m.stage)}: ${m.evidence_kinds.map((k) => said(k, "evkind")).join(` ${t("deal.or")} `)} — ${m.reason}`))) : null);
  }

  // -- quotes -------------------------------------------------------------------------------------------
  function drawQuotes(answer) {
    const box = $("quotes");
    if (!answer.quotes.length) return box.replaceChildren(el("p", { class: "muted" }, t("deal.no_quotes")));
    box.replaceChildren(el("ul", { class: "trail", id: "quote-list" }, answer.quotes.map((q) => el("li", { dataset: { quoteId: q.quote_id } },
      el("b", {}, q.quote_id), ` v${q.version} · ${q.filename || ""} · ${day(q.issued_at)} · ${q.issued_by || ""}`))));
  }

  function hideQuotes() {
    $("quotes").closest("section").hidden = true;
  }

  async function fill(id, path, draw) {
    try {
      draw(await TT.api(path));
    } catch (error) {
      TT.showError($(id), error);
    }
  }

  TT.page(async (me) => {
    topicOptions();
    $("topic-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadConversations();
    });
    const asked = new URLSearchParams(location.search).get("topic");
    if (asked) $("topic").value = asked;
    await Promise.all([
      fill("deal-head", base, drawHead),
      loadConversations(),
      // the gate verifies the documents its stage requires (the evidence index loads once per service)
      fill("gate", `${base}/stage-gates`, drawGate),
      QUOTE_READERS.includes(me.role) ? fill("quotes", `${base}/quotes`, drawQuotes) : hideQuotes(),
    ]);
  });
})();
