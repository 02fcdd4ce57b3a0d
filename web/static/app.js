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

  // ---- the video page's player: swapped in place when a new build (preview or final) lands
  const live = document.getElementById("live");
  const head = document.querySelector(".videohead");
  const current = head ? head.dataset.video : null;
  const player = document.getElementById("player");

  function seekButtons() { return Array.from(document.querySelectorAll(".seek")); }

  function fmtTime(t) {
    const s = Math.floor(t || 0);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function renderScenes(scenes) {
    const list = document.querySelector(".scenes");
    if (!list || !scenes.length) return;
    list.replaceChildren(...scenes.map((sc) => {
      const b = el("button", "seek");
      b.type = "button"; b.dataset.t = String(sc.start_s); b.dataset.scene = String(sc.index);
      if (sc.thumb_url) {
        b.classList.add("withthumb");
        const img = el("img", "sthumb"); img.src = sc.thumb_url; img.alt = ""; img.loading = "lazy";
        img.width = 96; img.height = 54; b.append(img);
      }
      b.append(el("span", "t", fmtTime(sc.start_s)), el("span", "kind", sc.visual_kind || ""));
      if (sc.chapter) b.append(el("span", "chapter", sc.chapter));
      b.append(el("span", "narr", sc.narration || sc.title || ""));
      if (sc.retention) {
        const n = el("span", "rnote", sc.retention.text);
        if (sc.retention.weakest) n.classList.add("weak");
        if (sc.retention.drop > 0.0005) n.classList.add("lost");
        b.append(n);
      }
      const li = el("li"); li.append(b); return li;
    }));
  }

  function renderLastBuild(lb) {
    const box = document.getElementById("lastbuild");
    if (!box || !lb) return;
    box.hidden = false;
    document.getElementById("lb-when").textContent = "last build: " + lb.profiles.join(" + ") + ", " + lb.state;
    const items = lb.changes.map((c) => {
      const li = el("li");
      li.append(el("span", "where", (c.scene !== null ? "scene " + (c.scene + 1) + " · " : "") + c.input), " ",
                el("code", "", c.why));
      return li;
    });
    if (!items.length) items.push(el("li", "muted", "Nothing changed: every step came from the cache."));
    document.getElementById("changes").replaceChildren(...items);
    document.getElementById("buildlog").textContent = lb.log.join("\n");
  }

  // Show the build the API says is current: the same URL keeps playing; a new one replaces the source, keeping
  // the time when the new video is long enough (an edit rarely moves what the viewer was looking at).
  function applyDetail(d) {
    const s = d.summary;
    head.dataset.digest = s.build.build_digest;
    head.dataset.shown = s.shown;
    document.querySelectorAll("[data-badge]").forEach((b) => setBadge(b, s.badge));
    const shown = document.getElementById("shown");
    if (shown) {
      shown.hidden = s.shown !== "preview";
      document.getElementById("preview-badge").textContent = s.preview_label || "preview";
      document.getElementById("shown-note").textContent = d.final_url ?
        "newer than the final build; the final render follows" : "the final render follows";
    }
    const pub = document.getElementById("published");
    if (pub && s.published && s.published.url) {
      pub.hidden = false;
      const a = pub.querySelector("a"); a.href = s.published.url; a.textContent = s.published.url;
    }
    renderLastBuild(d.last_build);
    applyQC(d);
    const unitSel = document.querySelector('select[name="unit"]');
    if (unitSel) Array.from(unitSel.options).forEach((o) => {
      const u = (d.units || []).find((x) => (x.unit.split("@")[1] || "") === o.value);
      if (u) o.dataset.digest = u.build_digest;
    });
    const dur = document.getElementById("duration");
    if (dur && s.duration_s !== null) dur.textContent = fmtTime(s.duration_s);
    const bd = document.getElementById("build-digest");
    if (bd) bd.textContent = s.build.build_digest.slice(0, 12);
    if (!player || !d.video_url || player.getAttribute("src") === d.video_url) return;
    const t = player.currentTime, playing = !player.paused && !player.ended, first = !player.getAttribute("src");
    player.querySelectorAll("track").forEach((tr) => tr.remove());
    if (d.captions_url) {
      const tr = document.createElement("track");
      tr.kind = "captions"; tr.src = d.captions_url; tr.srclang = "en"; tr.label = "Captions"; tr.default = true;
      player.append(tr);
    }
    if (!first) {
      player.addEventListener("loadedmetadata", () => {
        if (t > 0 && t < player.duration) player.currentTime = t;
        if (playing) player.play().catch(() => {});
      }, { once: true });
    }
    player.src = d.video_url;
    if (s.thumbnail) player.poster = s.thumbnail;
    player.hidden = false;
    const none = document.getElementById("noplayer");
    if (none) none.hidden = true;
    renderScenes(d.scenes);
    const sel = document.querySelector('select[name="scene_index"]');
    if (sel && d.scenes.length) {
      const keep = sel.value;
      sel.replaceChildren(el("option", "", "any"), ...d.scenes.map((sc) => {
        const o = el("option", "", String(sc.index + 1)); o.value = String(sc.index); return o;
      }));
      sel.options[0].value = ""; sel.value = keep;
    }
  }

  // ---- QC: the section (server-rendered fragment) and what the verdict means for publishing
  const qcBox = document.getElementById("qc");
  async function refreshQC() {
    if (!qcBox || !current) return;
    try {
      const res = await fetch("/videos/" + current + "/qc-section", { credentials: "same-origin" });
      if (res.ok) qcBox.innerHTML = await res.text();
    } catch (e) { /* the next event retries */ }
  }
  function applyQC(d) {
    const gate = document.getElementById("qc-gate");
    const g = d.publish_gate || { state: "none", message: "", reasons: [] };
    if (gate) {
      gate.hidden = g.state === "none";
      gate.className = "gate gate-" + g.state;
      gate.dataset.state = g.state;
      document.getElementById("qc-gate-msg").textContent = g.message;
      document.getElementById("qc-gate-reasons").replaceChildren(...g.reasons.map((r) => el("span", "chip", r)));
    }
    const actions = document.getElementById("publish-actions");
    if (actions) actions.hidden = g.state === "rejected";
    const qb = document.getElementById("qc-badge");
    if (qb) {
      qb.hidden = !d.qc;
      qb.className = "badge qc qc-" + (d.qc ? d.qc.verdict : "");
      qb.textContent = d.qc ? "QC " + d.qc.label : "";
    }
    const digest = d.qc ? d.qc.build_digest : "";
    if (qcBox && qcBox.dataset.qcDigest !== digest) {
      qcBox.dataset.qcDigest = digest;
      qcBox.dataset.verdict = d.qc ? d.qc.verdict : "";
      refreshQC();
    }
  }
  if (qcBox) qcBox.addEventListener("click", (ev) => {
    const b = ev.target.closest(".qc-seek");
    if (!b || !player || player.hidden || b.dataset.t === "") return;
    player.currentTime = parseFloat(b.dataset.t); player.play().catch(() => {});
    const sel = document.querySelector('select[name="scene_index"]');
    if (sel && b.dataset.scene !== undefined) sel.value = b.dataset.scene;
  });

  // ---- the review queue: its count in the nav everywhere, its list on /queue
  const queueList = document.getElementById("queue-list");
  let queueFetch = null, queueAgain = false;
  async function refreshQueue() {
    if (!queueList) return;
    if (queueFetch) { queueAgain = true; return; }
    queueFetch = (async () => {
      try {
        const res = await fetch("/queue/items", { credentials: "same-origin" });
        if (res.ok) queueList.innerHTML = await res.text();
      } catch (e) { /* the next event retries */ }
    })();
    await queueFetch;
    queueFetch = null;
    if (queueAgain) { queueAgain = false; refreshQueue(); }
  }
  function applyQueue(q) {
    const c = document.getElementById("queue-count");
    if (c) { c.textContent = String(q.count); c.classList.toggle("zero", !q.count); }
    refreshQueue();
    if (current && q.units && q.units.some((u) => u.split("@")[0] === current)) refreshQC();
  }

  let refreshing = null, again = false;
  async function refreshDetail() {
    if (refreshing) { again = true; return refreshing; }
    refreshing = (async () => {
      try {
        const res = await fetch("/api/videos/" + current, { credentials: "same-origin" });
        if (res.ok) applyDetail(await res.json());
      } catch (e) { /* the next event retries */ }
    })();
    await refreshing;
    refreshing = null;
    if (again) { again = false; return refreshDetail(); }
  }

  // ---- live updates
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
        const note = document.querySelector("[data-building]");
        if (note) note.textContent = (st.state === "queued" || st.state === "building") ? ": building…" : "";
        // a build finished (the preview, then the final): show what the API now says is current, no reload
        if ((st.state === "built" || st.state === "failed") && before && before.state !== st.state) refreshDetail();
      } else if (!current && st.state === "built" && before && before.state === "building") {
        location.reload();
      }
    });
    es.addEventListener("queue", (ev) => applyQueue(JSON.parse(ev.data)));
    es.addEventListener("job", (ev) => {
      const job = JSON.parse(ev.data);
      const out = document.getElementById("publish-out");
      if (out && current && job.unit.split("@")[0] === current) {
        out.hidden = false;
        out.textContent = job.lines.join("\n") + "\n\n" + job.status + (job.url ? " " + job.url : "") + (job.message ? "\n" + job.message : "");
        if (job.state !== "running") refreshDetail();
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
  if (player && current) {
    const t = sessionStorage.getItem("t:" + current);
    if (t) { sessionStorage.removeItem("t:" + current); player.addEventListener("loadedmetadata", () => { player.currentTime = parseFloat(t); }, { once: true }); }
    const list = document.querySelector(".scenes");
    if (list) list.addEventListener("click", (ev) => {
      const b = ev.target.closest(".seek");
      if (!b || player.hidden) return;
      player.currentTime = parseFloat(b.dataset.t); player.play().catch(() => {});
      const sel = document.querySelector('select[name="scene_index"]');
      if (sel) sel.value = b.dataset.scene;
    });
    player.addEventListener("timeupdate", () => {
      const seeks = seekButtons();
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
      const unit = f.unit ? f.unit.options[f.unit.selectedIndex] : null;  // a further format's build
      const body = {
        verdict, build_digest: unit && unit.value ? unit.dataset.digest : head.dataset.digest, reviewer: f.reviewer.value,
        reasons: Array.from(form.querySelectorAll('input[name="reasons"]:checked')).map((c) => c.value),
        note: f.note.value,
      };
      if (unit && unit.value) body.format = unit.value;
      if (f.scene_index.value !== "") body.scene_index = parseInt(f.scene_index.value, 10);
      if (f.timecode_s.value !== "") body.timecode_s = parseFloat(f.timecode_s.value);
      msg.className = "msg"; msg.textContent = "saving…";
      try {
        await api("POST", path("/reviews"), body);
        if (player && player.getAttribute("src")) sessionStorage.setItem("t:" + current, String(player.currentTime));
        location.reload();
      }
      catch (e) { msg.className = "msg err"; msg.textContent = e.message; }
    });
  }

  const out = document.getElementById("publish-out");
  document.querySelectorAll('[data-action="dry-run"]').forEach((b) => b.addEventListener("click", async () => {
    out.hidden = false; out.textContent = "asking…";
    try {
      const r = await api("POST", path("/publish/dry-run"), {});
      out.textContent = (r.message ? r.message + "\n\n" : "") + r.lines.join("\n") +
        (r.calls.length ? "\n\n" + JSON.stringify(r.calls, null, 2) : "");
    } catch (e) { out.textContent = e.message; }
  }));
  document.querySelectorAll('[data-action="publish"]').forEach((b) => b.addEventListener("click", async () => {
    if (!confirm("Publish this build to YouTube now?")) return;
    out.hidden = false; out.textContent = "starting…";
    try { const j = await api("POST", path("/publish"), {}); out.textContent = "job " + j.id + " running…"; }
    catch (e) { out.textContent = e.message; }
  }));
  // Schedule: the dry run with the chosen publishAt first (exactly what will be sent), then Confirm
  const at = document.getElementById("publish-at");
  const confirmBtn = document.querySelector('[data-action="schedule-confirm"]');
  // an approval covers the publish time too: a time nobody approved is refused, and can be approved here
  const approveAtBtn = document.querySelector('[data-action="schedule-approve"]');
  let askedAt = null;
  const smsg = document.getElementById("schedule-msg");
  let shownAt = null;
  function pad(n) { return String(n).padStart(2, "0"); }
  if (at) {
    const soon = new Date(Date.now() + 15 * 60 * 1000);
    at.min = soon.getFullYear() + "-" + pad(soon.getMonth() + 1) + "-" + pad(soon.getDate()) + "T" + pad(soon.getHours()) + ":" + pad(soon.getMinutes());
    at.addEventListener("input", () => {
      shownAt = null; if (confirmBtn) confirmBtn.hidden = true; if (approveAtBtn) approveAtBtn.hidden = true;
    });
  }
  document.querySelectorAll('[data-action="schedule"]').forEach((b) => b.addEventListener("click", async () => {
    smsg.className = "msg"; confirmBtn.hidden = true; shownAt = null; approveAtBtn.hidden = true;
    const when = at.value ? new Date(at.value) : null;  // datetime-local: the browser's local time
    if (!when || isNaN(when.getTime())) { smsg.className = "msg err"; smsg.textContent = "pick a date and time first"; return; }
    if (when.getTime() < Date.now() + 10 * 60 * 1000) { smsg.className = "msg err"; smsg.textContent = "pick a time at least 10 minutes from now"; return; }
    const utc = when.toISOString().replace(/\.\d{3}Z$/, "Z");
    out.hidden = false; out.textContent = "asking…";
    try {
      const r = await api("POST", path("/publish/dry-run"), { publish_at: utc });
      out.textContent = (r.message ? r.message + "\n\n" : "") + r.lines.join("\n") +
        (r.calls.length ? "\n\n" + JSON.stringify(r.calls, null, 2) : "");
      if (r.status === "dry-run") {
        shownAt = r.publish_at; confirmBtn.hidden = false;
        smsg.textContent = "private until " + when.toLocaleString() + " (" + r.publish_at + "), then public: check the dry run, then confirm";
      } else if (r.status === "not-approved" && /publishAt|publish time/.test(r.message)) {
        askedAt = utc; approveAtBtn.hidden = false;
        smsg.className = "msg err"; smsg.textContent = "this publish time is not approved yet: approve it, then Schedule again";
      } else { smsg.className = "msg err"; smsg.textContent = r.status + ": cannot schedule (see above)"; }
    } catch (e) { out.textContent = e.message; smsg.className = "msg err"; smsg.textContent = e.message; }
  }));
  if (approveAtBtn) approveAtBtn.addEventListener("click", async () => {
    if (!askedAt) return;
    const reviewer = form && form.elements.reviewer.value ? form.elements.reviewer.value : "studio";
    try {
      await api("POST", path("/reviews"), { verdict: "approve", build_digest: head.dataset.digest, reviewer,
                                           note: "approved to go public at " + askedAt, publish_at: askedAt });
      approveAtBtn.hidden = true; smsg.className = "msg"; smsg.textContent = "approved for " + askedAt + ": Schedule again to see the dry run";
    } catch (e) { smsg.className = "msg err"; smsg.textContent = e.message; }
  });
  if (confirmBtn) confirmBtn.addEventListener("click", async () => {
    if (!shownAt) return;
    out.hidden = false; out.textContent = "starting…";
    try {
      const j = await api("POST", path("/publish"), { publish_at: shownAt });
      out.textContent = "job " + j.id + " running (scheduled for " + shownAt + ")…"; confirmBtn.hidden = true;
    } catch (e) { out.textContent = e.message; }
  });
  document.querySelectorAll('[data-action="build"]').forEach((b) => b.addEventListener("click", async () => {
    try { await api("POST", path("/build")); } catch (e) { alert(e.message); }
  }));
  // the logout form posts its CSRF field; nothing else to do
})();
