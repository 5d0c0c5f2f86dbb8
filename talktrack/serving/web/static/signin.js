// Sign-in: check the key with /v1/me, keep it in sessionStorage, go to the page that fits the role.
"use strict";

(() => {
  const form = document.getElementById("signin-form");
  const status = document.getElementById("signin-status");

  function landingFor(me) {
    const next = new URLSearchParams(location.search).get("next");
    if (next && next.startsWith("/app/")) return next;  // only our own pages, never another site
    return TT.HOME[me.role];
  }

  async function signIn(event) {
    event.preventDefault();
    const key = form.key.value.trim();
    try {
      const me = await TT.api("/v1/me", { key });
      const target = landingFor(me);
      if (!target) {
        status.replaceChildren(TT.el("div", { class: "alert" }, TT.t("signin.norole", { role: me.role })));
        return;
      }
      sessionStorage.setItem(TT.KEY, key);
      location.assign(target);
    } catch (error) {
      const message = error.status === 401 ? TT.t("signin.bad") : error.message;
      status.replaceChildren(TT.el("div", { class: "alert", role: "alert" }, message));
    }
  }

  document.documentElement.lang = TT.lang === "zh" ? "zh-CN" : "en";
  TT.applyI18n();
  TT.setupHeader(null);
  form.addEventListener("submit", signIn);
})();
