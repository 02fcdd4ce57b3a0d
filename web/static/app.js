// The studio's only script: live updates over Server-Sent Events, and the API calls with the CSRF header.
"use strict";
(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  async function api(method, url, body) {
    const res = await fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const msg = data && (data.detail || data.message) ? (data.detail || data.message) : res.status + " " + res.statusText;
      throw new Error(typeof msg === "string" ? msg : JSON.stringify(msg));
    }
    return data;
  }

  function badgeText(st) {
    if (st.state === "error") return "spec error";
    if (st.state === "building") return "building " + Math.round((st.fraction || 0) * 100) + "%";
    if (st.state === "queued") return "queued";
    if (st.state === "failed") return "build failed";
    return null; // built: reviews/publishing decide; the page reloads to show them
  }

  function setBadge(el, text) {
    el.textContent = text;
    el.className = "badge badge-" + text.split(" ")[0];
  }

  // ---- live updates
  const live = document.getElementById("live");
  const head = document.querySelector(".videohead");
  const current = head ? head.dataset.video : null;
  let lastState = {};
  if (window.EventSource) {
    const es = new EventSource("/api/events");
    es.onopen = () => live && live.classList.add("on");
    es.onerror = () => live && live.classList.remove("on");
    es.addEventListener("state", (ev) => {
      const st = JSON.parse(ev.data);
      document.querySelectorAll('[data-video="' + CSS.escape(st.video) + '"] [data-badge]').forEach((el) => {
        const t = badgeText(st);
        if (t) setBadge(el, t);
      });
      const before = lastState[st.video];
      lastState[st.video] = st;
      if (st.video === current) {
        const err = document.getElementById("error");
        if (err) { err.textContent = st.error || ""; err.hidden = !(st.state === "error" || st.state === "failed"); }
        // a new build finished: reload to show the new preview (the player keeps its time)
        if (st.state === "built" && before && before.state === "building" && st.build_digest !== head.dataset.digest) {
          const v = document.getElementById("player");
          if (v) sessionStorage.setItem("t:" + current, String(v.currentTime));
          location.reload();
        }
      } else if (!current && st.state === "built" && before && before.state === "building") {
        location.reload();
      }
    });
    es.addEventListener("job", (ev) => {
      const job = JSON.parse(ev.data);
      const out = document.getElementById("publish-out");
      if (out && current && job.unit.split("@")[0] === current) {
        out.hidden = false;
        out.textContent = job.lines.join("\n") + "\n\n" + job.status + (job.url ? " " + job.url : "") + (job.message ? "\n" + job.message : "");
      }
    });
    es.addEventListener("job-event", (ev) => {
      const e = JSON.parse(ev.data);
      const out = document.getElementById("publish-out");
      if (out && current && e.video && e.video.split("@")[0] === current && e.detail) {
        out.hidden = false;
        if (e.type === "progress") {
          const lines = out.textContent.split("\n");
          if (lines.length && lines[lines.length - 1].startsWith("upload")) lines.pop();
          lines.push(e.detail); out.textContent = lines.join("\n");
        } else { out.textContent += (out.textContent ? "\n" : "") + e.detail; }
      }
    });
  }

  // ---- video page
  const player = document.getElementById("player");
  if (player && current) {
    const t = sessionStorage.getItem("t:" + current);
    if (t) { sessionStorage.removeItem("t:" + current); player.addEventListener("loadedmetadata", () => { player.currentTime = parseFloat(t); }, { once: true }); }
    const seeks = Array.from(document.querySelectorAll(".seek"));
    seeks.forEach((b) => b.addEventListener("click", () => {
      player.currentTime = parseFloat(b.dataset.t); player.play().catch(() => {});
      const sel = document.querySelector('select[name="scene_index"]');
      if (sel) sel.value = b.dataset.scene;
    }));
    player.addEventListener("timeupdate", () => {
      let on = null;
      seeks.forEach((b) => { if (parseFloat(b.dataset.t) <= player.currentTime + 0.01) on = b; });
      seeks.forEach((b) => b.classList.toggle("on", b === on));
    });
  }
  function path(suffix) { return "/api/videos/" + current + suffix; }

  document.querySelectorAll('[data-action="timecode"]').forEach((b) => b.addEventListener("click", () => {
    if (!player) return;
    const f = document.getElementById("review");
    f.elements.timecode_s.value = player.currentTime.toFixed(1);
    let idx = null;
    document.querySelectorAll(".seek").forEach((s) => { if (parseFloat(s.dataset.t) <= player.currentTime + 0.01) idx = s.dataset.scene; });
    if (idx !== null) f.elements.scene_index.value = idx;
  }));

  const form = document.getElementById("review");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const verdict = ev.submitter ? ev.submitter.value : "request-changes";
      const msg = document.getElementById("review-msg");
      const f = form.elements;
      const body = {
        verdict, build_digest: head.dataset.digest, reviewer: f.reviewer.value,
        reasons: Array.from(form.querySelectorAll('input[name="reasons"]:checked')).map((c) => c.value),
        note: f.note.value,
      };
      if (f.scene_index.value !== "") body.scene_index = parseInt(f.scene_index.value, 10);
      if (f.timecode_s.value !== "") body.timecode_s = parseFloat(f.timecode_s.value);
      msg.className = "msg"; msg.textContent = "saving…";
      try { await api("POST", path("/reviews"), body); location.reload(); }
      catch (e) { msg.className = "msg err"; msg.textContent = e.message; }
    });
  }

  const out = document.getElementById("publish-out");
  document.querySelectorAll('[data-action="dry-run"]').forEach((b) => b.addEventListener("click", async () => {
    out.hidden = false; out.textContent = "asking…";
    try {
      const r = await api("POST", path("/publish/dry-run"), {});
      out.textContent = (r.message ? r.status + ": " + r.message + "\n\n" : "") + r.lines.join("\n") +
        (r.calls.length ? "\n\n" + JSON.stringify(r.calls, null, 2) : "");
    } catch (e) { out.textContent = e.message; }
  }));
  document.querySelectorAll('[data-action="publish"]').forEach((b) => b.addEventListener("click", async () => {
    if (!confirm("Publish this build to YouTube now?")) return;
    out.hidden = false; out.textContent = "starting…";
    try { const j = await api("POST", path("/publish"), {}); out.textContent = "job " + j.id + " running…"; }
    catch (e) { out.textContent = e.message; }
  }));
  document.querySelectorAll('[data-action="build"]').forEach((b) => b.addEventListener("click", async () => {
    try { await api("POST", path("/build")); } catch (e) { alert(e.message); }
  }));
  // the logout form posts its CSRF field; nothing else to do
})();
