// Team dashboard: capability heatmap and radars (our SVG), recommendations, deals ranked by score,
// stage timers over threshold and the stage funnel, then (lazily, it is slower) the fake-progress checks.
"use strict";

(() => {
  const { el, t, name, pct } = TT;
  const $ = (id) => document.getElementById(id);
  const EVIDENCE_DEALS = 10;  // fake-progress checks for the best-ranked deals only: each one verifies documents
  const PARALLEL = 4;
  const SHOWN = 8;  // longer lists fold the rest under "show all"

  // The first SHOWN items, the others folded away (a team has dozens of deals and shortfalls).
  function folded(tag, attrs, items) {
    if (items.length <= SHOWN) return el(tag, attrs, items);
    return el("div", {}, el(tag, attrs, items.slice(0, SHOWN)),
      el("details", {}, el("summary", {}, t("dash.more", { n: items.length - SHOWN })), el(tag, {}, items.slice(SHOWN))));
  }

  const dimension = (key) => name("capability_dimensions", key);

  // The team to show: a manager's own; an admin or coach picks one (default: the first team with calls).
  async function teamOf(me) {
    if (me.team) return me.team;
    const asked = new URLSearchParams(location.search).get("team");
    if (asked) return asked;
    if (me.role === "rep") return null;
    const { calls } = await TT.api("/v1/calls?limit=1");
    return calls.length ? calls[0].team_id : null;
  }

  // -- capability -----------------------------------------------------------------------------------
  function drawHeatmap(view) {
    const reasons = Object.fromEntries(view.flagged.map((f) => [`${f.rep}|${f.dimension}`, f.reason]));
    $("month").textContent = view.month;
    $("heatmap").replaceChildren(
      Charts.heatmap({ rows: view.reps, columns: view.dimensions, gaps: view.gaps, values: view.values, flags: view.flags,
        reasons, columnLabel: dimension }),
      el("p", { class: "legend" },
        el("span", {}, el("span", { class: "swatch", style: `background:${Charts.gapColour(-0.3)}` }), t("dash.below")),
        el("span", {}, el("span", { class: "swatch", style: `background:${Charts.gapColour(0.3)}` }), t("dash.above")),
        el("span", {}, el("span", { class: "swatch", style: "border:2px solid var(--bad)" }), t("dash.flagged", { n: view.flagged.length }))));
  }

  async function drawRadars(reps) {
    const box = $("radars");
    box.replaceChildren(...reps.map((rep) => el("figure", { dataset: { rep } }, el("figcaption", {}, rep), el("p", { class: "muted" }, t("common.loading")))));
    await Promise.all(reps.map(async (rep) => {
      const figure = box.querySelector(`figure[data-rep="${CSS.escape(rep)}"]`);
      try {
        const view = await TT.api(`/v1/capability/reps/${encodeURIComponent(rep)}/radar`);
        const rows = view.dimensions;
        figure.replaceChildren(el("figcaption", {}, rep), el("div", { class: "chart" }, Charts.radar({
          axes: rows.map((r) => r.dimension), axisLabel: dimension,
          series: [
            { label: t("dash.team_mean"), className: "team-area", values: rows.map((r) => r.team_mean) },
            { label: rep, className: "rep-area", values: rows.map((r) => r.estimate) },
          ],
        })));
      } catch (error) {
        TT.showError(figure, error);
      }
    }));
  }

  // A course's title, linked only to an http(s) URL; any other URL is shown as plain text.
  function courseTitle(course) {
    const href = course.url ? TT.webUrl(course.url) : null;
    if (href) return el("a", { href, rel: "noopener noreferrer" }, course.title);
    return el("span", {}, el("b", {}, course.title), course.url ? el("span", { class: "muted" }, ` (${course.url})`) : null);
  }

  async function loadRecommendations(team) {
    const box = $("recommendations");
    try {
      const { recommendations } = await TT.api(`/v1/capability/teams/${encodeURIComponent(team)}/recommendations`);
      if (!recommendations.length) return box.replaceChildren(el("p", { class: "muted" }, t("dash.no_recommendations")));
      box.replaceChildren(folded("ul", { class: "trail" }, recommendations.map((r) => el("li", {},
        el("b", {}, `${r.rep} · ${dimension(r.dimension)}`), ` — ${r.reason}`,
        el("div", { class: "stats" },
          el("span", {}, t("dash.course"), " ", courseTitle(r.course)),
          el("span", {}, t("dash.coach_session"), " ", el("b", {}, r.coach_session)),
          r.top_sellers.length ? el("span", {}, t("dash.learn_from"), " ", el("b", {}, r.top_sellers.join(", "))) : null),
        r.examples.slice(0, 2).map((e) => el("p", { class: "say muted" }, "“", e.text, "” ",
          el("a", { href: `/app/calls/${encodeURIComponent(e.call_id)}${e.start_s !== null ? `?t=${e.start_s}` : ""}` }, t("tracks.open_call"))))))));
    } catch (error) {
      TT.showError(box, error);
    }
  }

  // -- deals ------------------------------------------------------------------------------------------
  // The team's open deals (a closed deal has nothing left to rank), with each one's stage clock.
  async function teamDeals(team) {
    const { deals } = await TT.api(`/v1/deals?team=${encodeURIComponent(team)}&status=open&limit=500`);
    return deals;
  }

  async function loadDeals(deals) {
    const box = $("deals");
    if (!deals.length) { box.replaceChildren(el("p", { class: "muted" }, t("dash.no_deals"))); return []; }
    const byId = Object.fromEntries(deals.map((d) => [d.deal_id, d]));
    try {
      const { scores } = await TT.api("/v1/score/batch", { method: "POST", body: { deal_ids: deals.map((d) => d.deal_id) } });
      scores.sort((a, b) => b.probability - a.probability);
      box.replaceChildren(el("table", { id: "deal-table" },
        el("tr", {}, el("th", {}, t("drill.deal")), el("th", {}, t("dash.p_win")), el("th", {}, t("dash.reasons"))),
        scores.map((s) => dealRow(s, byId[s.deal_id]))));
      return scores.map((s) => s.deal_id);
    } catch (error) {
      TT.showError(box, error);
      return deals.map((d) => d.deal_id);
    }
  }

  function dealRow(score, deal) {
    const clock = deal.days_in_stage === null ? name("stages", deal.stage)
      : t("dash.in_stage", { days: Math.floor(deal.days_in_stage), stage: name("stages", deal.stage) });
    return el("tr", { dataset: { dealId: score.deal_id } },
      el("td", {}, dealLink(score.deal_id), el("div", { class: `muted deal-status${deal.over_threshold ? " over" : ""}` },
        [deal.customer_name, clock].filter(Boolean).join(" · "))),
      el("td", {}, el("b", {}, pct(score.probability)), " ", el("span", { class: "badge" }, score.tier)),
      el("td", {}, reasonsText(score.reasons)));
  }

  const dealLink = (id) => el("a", { href: `/app/deals/${encodeURIComponent(id)}` }, id);

  function reasonsText(reasons) {
    const items = (reasons || []).slice(0, 3).map((r) => (typeof r === "string" ? r
      : r.text || r.reason || `${(r.feature || "").replaceAll("_", " ")} ${r.direction || ""}`.trim()));
    return el("ul", { class: "flag-reasons" }, items.map((text) => el("li", {}, text)));
  }

  async function loadAlerts(team) {
    const box = $("alerts");
    try {
      const { alerts } = await TT.api(`/v1/crm/alerts?team=${encodeURIComponent(team)}`);
      if (!alerts.length) return box.replaceChildren(el("p", { class: "muted" }, t("dash.no_alerts")));
      box.replaceChildren(el("table", { id: "alert-table" },
        el("tr", {}, el("th", {}, t("drill.deal")), el("th", {}, t("dash.stage")), el("th", {}, t("dash.days")), el("th", {}, t("dash.over"))),
        alerts.map((a) => el("tr", {},
          el("td", {}, dealLink(a.deal_id), el("div", { class: "muted" }, a.rep)), el("td", {}, name("stages", a.stage)),
          el("td", {}, `${a.days_in_stage} / ${a.threshold_days}`), el("td", {}, el("b", {}, `+${a.days_over}`))))));
    } catch (error) {
      TT.showError(box, error);
    }
  }

  // -- the slower parts, after the rest -------------------------------------------------------------
  async function inBatches(items, work) {
    const results = [];
    for (let i = 0; i < items.length; i += PARALLEL) results.push(...await Promise.all(items.slice(i, i + PARALLEL).map(work)));
    return results;
  }

  async function loadFakeProgress(deals) {
    const box = $("fake");
    const checked = deals.slice(0, EVIDENCE_DEALS);
    if (!checked.length) return box.replaceChildren(el("p", { class: "muted" }, t("dash.no_deals")));
    box.replaceChildren(el("p", { class: "muted" }, t("dash.checking", { n: checked.length })));
    const reports = await inBatches(checked, (deal) => TT.api(`/v1/deals/${encodeURIComponent(deal)}/evidence`).catch((e) => e));
    const failed = reports.find((r) => r instanceof Error);
    if (failed && reports.every((r) => r instanceof Error)) return TT.showError(box, failed);
    const fake = reports.filter((r) => !(r instanceof Error) && r.fake_progress);
    box.replaceChildren(
      el("p", { class: "muted" }, t("dash.fake_count", { fake: fake.length, n: checked.length })),
      el("ul", { class: "trail", id: "fake-list" }, fake.map((r) => el("li", {},
        el("b", {}, dealLink(r.deal_id)), ` · ${t("dash.claimed")} ${r.claimed_progress_level || "–"}, ${t("dash.backed")} ${r.backed_progress_level || "–"}`,
        el("ul", { class: "flag-reasons" }, r.reasons.map((reason) => el("li", {}, reason)))))));
  }

  // Deals reaching each stage (a deal at a later stage passed the earlier ones) and the conversion between.
  async function loadFunnel(team) {
    const box = $("funnel");
    try {
      const funnel = await TT.api(`/v1/crm/funnel?team=${encodeURIComponent(team)}`);
      if (!funnel.deals) return box.replaceChildren(el("p", { class: "muted" }, t("dash.no_deals")));
      const top = Math.max(...funnel.stages.map((row) => row.reached), 1);
      box.replaceChildren(...funnel.stages.map((row) => el("div", { class: "bar-row", dataset: { stage: row.stage } },
        el("span", {}, name("stages", row.stage)),
        el("div", { class: "bar" }, el("span", { style: `width:${Math.round(100 * row.reached / top)}%` })),
        el("span", {}, el("b", {}, row.reached), row.conversion === null ? "" : ` ${pct(row.conversion)}`,
          row.furthest.lost ? el("span", { class: "muted lost" }, t("dash.lost_here", { n: row.furthest.lost })) : null))),
      el("p", { class: "muted" }, t("dash.funnel_note", { n: funnel.deals, ...funnel.outcomes })));
    } catch (error) {
      TT.showError(box, error);
    }
  }

  TT.page(async (me) => {
    const body = $("dash-body");
    if (!me.team && me.role !== "rep") {
      $("team-form").hidden = false;
      $("team-form").addEventListener("submit", (event) => {
        event.preventDefault();
        location.search = `?team=${encodeURIComponent($("team").value.trim())}`;
      });
    }
    const team = await teamOf(me);
    if (!team) {
      // a rep (or an empty catalog): let the API say what this key may see
      return TT.api("/v1/crm/alerts").then(() => body.replaceChildren(el("p", { class: "muted" }, t("dash.no_team"))),
        (error) => TT.showError(body, error));
    }
    $("team").value = team;
    $("team-name").textContent = team;
    let view;
    try {
      view = await TT.api(`/v1/capability/teams/${encodeURIComponent(team)}/heatmap`);
    } catch (error) {
      if (error.status === 403 || error.status === 404) return TT.showError(body, error);  // no data for this key
      TT.showError($("heatmap"), error);
    }
    if (view) drawHeatmap(view);
    const [deals] = await Promise.all([
      teamDeals(team).then(loadDeals).catch((error) => { TT.showError($("deals"), error); return []; }),
      view ? drawRadars(view.reps) : null, loadRecommendations(team), loadAlerts(team), loadFunnel(team),
    ]);
    await loadFakeProgress(deals);
  });
})();
