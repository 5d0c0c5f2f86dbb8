// What every page shares: the signed-in key, calls to /v1, translations, safe DOM building, the nav bar.
// The key lives in sessionStorage (gone when the tab closes); every call sends it as a Bearer token,
// so a page can only show what the API lets that key see.
"use strict";

const TT = (() => {
  const KEY = "tt.key";
  const LANG = "tt.lang";
  // Which pages the nav offers to which role; the API still decides what each call may return.
  const NAV_ROLES = {
    tracks: ["admin", "coach", "manager", "rep"],  // review buttons only for coach and admin
    drill: ["admin", "coach", "rep"],  // a coach or admin drills for a named rep
    dashboard: ["admin", "coach", "manager"],
    management: ["admin", "director", "manager"],
  };
  // The page each role starts its day on.
  const HOME = { admin: "/app/tracks", coach: "/app/tracks", manager: "/app/dashboard", rep: "/app/drill",
    director: "/app/management" };

  const taxonomy = JSON.parse(document.getElementById("tt-taxonomy").textContent);

  function chooseLanguage() {
    const saved = localStorage.getItem(LANG);
    if (saved === "en" || saved === "zh") return saved;
    return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
  }
  const lang = chooseLanguage();

  function t(key, vars) {
    const table = TT_STRINGS[lang] || TT_STRINGS.en;
    let text = table[key] ?? TT_STRINGS.en[key] ?? key;
    for (const [name, value] of Object.entries(vars || {})) text = text.replaceAll(`{${name}}`, String(value));
    return text;
  }

  function applyI18n(root) {
    for (const node of (root || document).querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of (root || document).querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
  }

  // The display name of a configured key (objection type, move, stage, dimension) in the page's language.
  function name(part, key) {
    const entry = (taxonomy[part] || {})[key];
    return entry ? entry[lang] : String(key).replaceAll("_", " ");
  }

  // el("p", {class: "x", onclick: fn}, "text", child): text is always text, never HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [attr, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (attr.startsWith("on")) node.addEventListener(attr.slice(2), value);
      else if (attr === "dataset") Object.assign(node.dataset, value);
      else if (attr === "style") node.style.cssText = value;  // CSSOM: allowed by the pages' CSP (style-src 'self')
      else node.setAttribute(attr, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  class ApiFailure extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, options) {
    const { method = "GET", body, form, raw = false, key = sessionStorage.getItem(KEY) } = options || {};
    const headers = { Authorization: `Bearer ${key}` };
    let payload;
    if (form) payload = form;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(path, { method, headers, body: payload });
    if (!response.ok) throw await failureOf(response);
    return raw ? response : response.json();
  }

  async function failureOf(response) {
    try {
      const { error } = await response.json();
      return new ApiFailure(response.status, error.code, error.message);
    } catch (_) {
      return new ApiFailure(response.status, `http_${response.status}`, response.statusText);
    }
  }

  // A refused or failed call becomes a message in place of the data, never a half-filled page.
  function showError(container, error) {
    if (error instanceof ApiFailure && error.status === 401) return signOut();
    if (!(error instanceof ApiFailure)) console.warn(error);
    const title = error.status === 403 ? t("error.forbidden")
      : error.status === 404 ? t("error.notfound")
      : error.status === 409 ? t("error.notready") : t("error.failed");
    const box = el("div", { class: "alert", role: "alert", dataset: { status: error.status || "" } },
      el("strong", {}, title), el("span", {}, error.message));
    container.replaceChildren(box);
    return box;
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    location.assign(`/?next=${encodeURIComponent(location.pathname + location.search)}`);
  }

  function setupHeader(me) {
    const select = document.getElementById("lang");
    select.value = lang;
    select.addEventListener("change", () => {
      localStorage.setItem(LANG, select.value);
      location.reload();
    });
    if (!me) return;
    for (const link of document.querySelectorAll("[data-nav]")) {
      link.hidden = !NAV_ROLES[link.dataset.nav].includes(me.role);
      if (link.dataset.nav === document.body.dataset.page) link.setAttribute("aria-current", "page");
    }
    const scope = me.rep || me.team || "";
    document.getElementById("whoami").textContent = `${me.name || ""} · ${t("role." + me.role)}${scope ? " · " + scope : ""}`;
    const out = document.getElementById("signout");
    out.hidden = false;
    out.addEventListener("click", signOut);
  }

  // Runs a page: checks the key (back to sign-in without one), fills the nav, then calls start(me).
  function page(start) {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    applyI18n();
    const main = document.getElementById("main");
    if (!sessionStorage.getItem(KEY)) return signOut();
    api("/v1/me")
      .then((me) => {
        setupHeader(me);
        return start(me);
      })
      .catch((error) => showError(main, error));
  }

  // A URL from data (a course link), when it is an absolute http(s) URL; null for anything else
  // (javascript:, data:, relative), which is then never put in an href.
  function webUrl(url) {
    try {
      const parsed = new URL(String(url));
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
  const num = (x, digits = 2) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));
  const interval = (ci, fmt = num) => (Array.isArray(ci) && ci.length === 2 ? `[${fmt(ci[0])}, ${fmt(ci[1])}]` : "");
  const clock = (seconds) => {
    const s = Math.max(0, Math.floor(seconds || 0));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };

  return {
    KEY, HOME, NAV_ROLES, lang, taxonomy, t, applyI18n, name, el, api, ApiFailure, showError, signOut,
    setupHeader, page, webUrl, pct, num, interval, clock,
  };
})();
