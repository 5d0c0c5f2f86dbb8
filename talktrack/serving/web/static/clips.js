// Audio of one stretch of a call. <audio src> cannot send the API key, so the clip is fetched
// with it (/v1/calls/{id}/audio?start=&end=) and played from a blob URL.
"use strict";

const Clips = (() => {
  async function load(callId, start, end) {
    const params = new URLSearchParams();
    if (start !== undefined && start !== null) params.set("start", Number(start).toFixed(3));
    if (end !== undefined && end !== null) params.set("end", Number(end).toFixed(3));
    const query = params.toString() ? `?${params}` : "";
    const response = await TT.api(`/v1/calls/${encodeURIComponent(callId)}/audio${query}`, { raw: true });
    return URL.createObjectURL(await response.blob());
  }

  // A "play" button that turns into an audio player with exactly that clip.
  function button(callId, start, end) {
    const holder = TT.el("span", { class: "clip" });
    const play = TT.el("button", { type: "button", class: "play" }, TT.t("clip.play"));
    play.addEventListener("click", async () => {
      play.disabled = true;
      try {
        const audio = TT.el("audio", { controls: true, src: await load(callId, start, end) });
        holder.replaceChildren(audio);
        await audio.play().catch(() => {});
      } catch (error) {
        TT.showError(holder, error);
      }
    });
    holder.append(play);
    return holder;
  }

  return { load, button };
})();
