// actorflow ui: the little JavaScript it has, served locally (U2).
// A list marked data-live asks a small JSON endpoint (data-poll) every few seconds whether
// what it shows changed (a new fingerprint); when it did, it fetches the page again and swaps
// the list in. The new list is markup the server escaped; it is parsed, never run.
"use strict";

function startLive(live) {
  // The next check waits for the last one to finish, and for longer when it was slow (a
  // filter that matches little makes the journal walk far): never more than one in flight.
  const every = Number(live.dataset.every || "2") * 1000;
  let fingerprint = live.dataset.fingerprint;
  const status = document.getElementById("live-status");
  async function check() {
    const started = performance.now();
    if (!document.hidden) {
      try {
        const answer = await fetch(live.dataset.poll, { headers: { Accept: "application/json" } });
        if (!answer.ok) throw new Error(String(answer.status));
        const data = await answer.json();
        if (data.fingerprint !== fingerprint) {
          const page = await fetch(window.location.href);
          const doc = new DOMParser().parseFromString(await page.text(), "text/html");
          const fresh = doc.getElementById(live.id);
          if (fresh) {
            live.replaceWith(fresh);
            live = fresh;
            fingerprint = fresh.dataset.fingerprint;
          }
        }
        if (status) status.textContent = "live: checked " + new Date().toLocaleTimeString();
      } catch (error) {
        if (status) status.textContent = "live: cannot reach the UI (" + error.message + ")";
      }
    }
    const took = performance.now() - started;
    setTimeout(check, Math.max(every, 4 * took));
  }
  setTimeout(check, every);
}

function markStep() {
  // A link to a step (#step-...) highlights its row on the message page.
  document.querySelectorAll("tr.step-target").forEach((row) => row.classList.remove("step-target"));
  if (!window.location.hash) return;
  const row = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
  if (row) row.classList.add("step-target");
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(startLive);
  markStep();
  window.addEventListener("hashchange", markStep);
});
