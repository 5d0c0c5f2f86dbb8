// Talk-track review: tracks per objection type with their evidence, exemplars with audio, and the review.
"use strict";

(() => {
  const { el, t, name, pct, num, interval } = TT;
  const listBox = document.getElementById("track-list");
  const detail = document.getElementById("track-detail");
  const filters = document.getElementById("filters");
  let role = null;
  let selected = new URLSearchParams(location.search).get("track");

  function fillTypeFilter() {
    const select = filters.objection_type;
    select.append(el("option", { value: "" }, t("common.all")));
    for (const key of Object.keys(TT.taxonomy.objection_types)) select.append(el("option", { value: key }, name("objection_types", key)));
  }

  const movesInWords = (moves) => moves.map((m) => name("moves", m)).join(" → ");
  const liftText = (s) => `${s.lift >= 0 ? "+" : ""}${Math.round(s.lift * 100)} ${t("tracks.pts")} ${interval(s.lift_ci, (x) => Math.round(x * 100))}`;

  function matchesLanguage(track, language) {
    return !language || track.exemplars.some((e) => e.language === language) || track.wording.some((w) => w.language === language);
  }

  async function loadList() {
    const params = new URLSearchParams();
    if (filters.objection_type.value) params.set("objection_type", filters.objection_type.value);
    if (filters.status.value) params.set("status", filters.status.value);
    try {
      const { tracks } = await TT.api(`/v1/tracks?${params}`);
      renderList(tracks.filter((track) => matchesLanguage(track, filters.language.value)));
    } catch (error) {
      TT.showError(listBox, error);
    }
  }

  function renderList(tracks) {
    if (!tracks.length) return listBox.replaceChildren(el("p", { class: "muted" }, t("tracks.none")));
    const groups = Map.groupBy(tracks, (track) => track.objection_type);
    const nodes = [];
    for (const [type, items] of groups) {
      nodes.push(el("h3", {}, name("objection_types", type)));
      nodes.push(el("ul", { class: "track-list" }, items.map(listItem)));
    }
    listBox.replaceChildren(...nodes);
  }

  function listItem(track) {
    const s = track.stats;
    return el("li", {
      dataset: { trackId: track.id }, "aria-selected": String(String(track.id) === selected), tabindex: "0",
      onclick: () => select(track.id), onkeydown: (e) => e.key === "Enter" && select(track.id),
    },
      el("div", { class: "track-moves" }, movesInWords(track.moves), " ", statusBadge(track.status)),
      el("div", { class: "stats" },
        el("span", {}, t("tracks.support"), " ", el("b", {}, s.support_deals)),
        el("span", {}, t("tracks.winrate"), " ", el("b", {}, pct(s.win_rate_used))),
        el("span", {}, t("tracks.lift"), " ", el("b", {}, liftText(s)))));
  }

  const statusBadge = (status) => el("span", { class: `badge ${status}`, dataset: { status } }, t(`status.${status}`));

  async function select(id) {
    selected = String(id);
    history.replaceState(null, "", `?track=${id}`);
    for (const li of listBox.querySelectorAll("li")) li.setAttribute("aria-selected", String(li.dataset.trackId === selected));
    try {
      renderDetail(await TT.api(`/v1/tracks/${id}`));
    } catch (error) {
      TT.showError(detail, error);
    }
  }

  function renderDetail(track) {
    const s = track.stats;
    const language = filters.language.value;
    detail.replaceChildren(...[
      el("h2", {}, name("objection_types", track.objection_type), ": ", movesInWords(track.moves), " ", statusBadge(track.status)),
      el("p", {}, t("tracks.sentence", {
        type: name("objection_types", track.objection_type), moves: movesInWords(track.moves),
        used: pct(s.win_rate_used), other: pct(s.win_rate_other),
      })),
      statsTable(s),
      track.script ? el("div", { class: "notice" }, el("strong", {}, t("tracks.script")), " ", track.script) : null,
      el("h3", {}, t("tracks.exemplars")),
      ...track.exemplars.filter((e) => !language || e.language === language).map(exemplar),
      reviewForm(track),
      el("h3", {}, t("tracks.trail")),
      el("ul", { class: "trail" }, track.trail.map(trailItem)),
    ].filter(Boolean));
  }

  function statsTable(s) {
    const row = (label, value) => el("tr", {}, el("th", {}, label), el("td", {}, value));
    return el("table", { class: "track-stats" },
      row(t("tracks.support"), `${s.support_deals} ${t("tracks.deals")} · ${s.support_episodes} ${t("tracks.answers")}`),
      row(t("tracks.winrate"), `${pct(s.win_rate_used)} ${interval(s.win_rate_used_ci, pct)}`),
      row(t("tracks.winrate_other"), `${pct(s.win_rate_other)} (${s.deals_other} ${t("tracks.deals")})`),
      row(t("tracks.lift"), liftText(s)),
      row(t("tracks.top_share"), `${pct(s.share_of_top_sellers_won_deals)} / ${pct(s.share_of_other_deals)}`));
  }

  function exemplar(e) {
    const line = (who, part) => el("p", { class: "say" }, el("span", { class: `who ${who}` }, t(`speaker.${who}`)), part.text);
    return el("div", { class: "exemplar", dataset: { callId: e.call_id } },
      el("div", { class: "stats" },
        el("span", {}, e.rep_id), e.top_seller ? el("span", { class: "badge top" }, t("tracks.top_seller")) : null,
        el("span", {}, t(`outcome.${e.outcome}`)), el("span", {}, e.language === "zh" ? "中文" : "English"),
        el("span", {}, `${TT.clock(e.start_s)}–${TT.clock(e.end_s)}`)),
      line("customer", e.objection), line("rep", e.answer),
      el("div", { class: "actions" },
        e.audio_url ? Clips.button(e.call_id, e.start_s, e.end_s) : null,  // only calls with a recording the key may read
        el("a", { href: `/app/calls/${encodeURIComponent(e.call_id)}?t=${e.start_s}` }, t("tracks.open_call"))));
  }

  function reviewForm(track) {
    if (!["coach", "admin"].includes(role)) return null;
    const note = el("textarea", { id: "review-note", maxlength: "4000", placeholder: t("tracks.note_hint") });
    const script = el("textarea", { id: "review-script", maxlength: "20000" });
    script.value = track.script || (track.wording[0] && track.wording[0].example) || "";
    const status = el("div", { "aria-live": "polite" });
    const act = (action) => async () => {
      const body = { action, note: note.value.trim() || null };
      if (action === "edit") body.script = script.value;
      try {
        renderDetail(await TT.api(`/v1/tracks/${track.id}/review`, { method: "POST", body }));
        loadList();
      } catch (error) {
        TT.showError(status, error);
      }
    };
    const button = (action, cls) => el("button", { type: "button", class: cls, dataset: { action }, onclick: act(action) }, t(`review.${action}`));
    return el("div", { class: "card review" },
      el("h3", {}, t("tracks.review")),
      el("label", { for: "review-note" }, t("tracks.note")), note,
      el("label", { for: "review-script" }, t("tracks.script")), script,
      el("div", { class: "actions" },
        button("approve", "good"), button("edit", ""), button("reject", "danger"),
        track.status !== "proposed" ? button("reopen", "") : null),
      status);
  }

  const trailItem = (r) => el("li", {}, el("b", {}, t(`review.${r.action}`)), ` · ${r.actor} · ${r.at}`, r.note ? ` — ${r.note}` : "");

  TT.page(async (me) => {
    role = me.role;
    fillTypeFilter();
    filters.addEventListener("change", loadList);
    await loadList();
    if (selected) await select(selected);
  });
})();
