// Sponsored slots' beacons (marketplace/listings/beacon.py). An impression is sent once, when at
// least half of a [data-sponsored-token] slot has stayed in view for a second; a click (or a
// middle click) on its [data-sponsored-click] link sends a click and the navigation proceeds.
// The server dedupes both and bills only what the signed token allows; without JavaScript
// nothing is sent, so nothing is billed. Slots that htmx swaps in later (the catalog's
// type-ahead results) are watched as they arrive.
(() => {
  const BEACON_URL = "/listings/beacon/";
  const VISIBLE_RATIO = 0.5;
  const DWELL_MS = 1000;

  function send(slot, event) {
    const body = new URLSearchParams({ token: slot.dataset.sponsoredToken, event });
    if (navigator.sendBeacon && navigator.sendBeacon(BEACON_URL, body)) return;
    // sendBeacon refused (queue full, or absent): a keepalive fetch outlives the page too.
    fetch(BEACON_URL, { method: "POST", body, keepalive: true, credentials: "same-origin" })
      .catch(() => {});
  }

  const timers = new Map();
  const seen = new WeakSet();
  const watched = new Set();

  function stopTimer(slot) {
    clearTimeout(timers.get(slot));
    timers.delete(slot);
  }

  const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const slot = entry.target;
      if (!entry.isIntersecting || entry.intersectionRatio < VISIBLE_RATIO) {
        stopTimer(slot);  // scrolled away before a second: not seen yet
      } else if (!seen.has(slot) && !timers.has(slot)) {
        timers.set(slot, setTimeout(() => {
          timers.delete(slot);
          if (document.visibilityState !== "visible" || seen.has(slot)) return;
          seen.add(slot);
          observer.unobserve(slot);
          send(slot, "impression");
        }, DWELL_MS));
      }
    }
  }, { threshold: VISIBLE_RATIO }) : null;

  function onClick(event) {
    const slot = event.currentTarget;
    const link = event.target.closest("[data-sponsored-click]");
    if (!link || !slot.contains(link)) return;
    if (event.type === "auxclick" && event.button !== 1) return;  // middle click only
    send(slot, "click");
  }

  function watch(root) {
    root.querySelectorAll("[data-sponsored-token]").forEach((slot) => {
      if (watched.has(slot)) return;
      watched.add(slot);
      if (observer) observer.observe(slot);
      slot.addEventListener("click", onClick);
      slot.addEventListener("auxclick", onClick);
    });
  }

  // A hidden tab does not count as viewing: restart the dwell when it comes back.
  document.addEventListener("visibilitychange", () => {
    if (!observer) return;
    if (document.visibilityState !== "visible") {
      Array.from(timers.keys()).forEach(stopTimer);
      return;
    }
    watched.forEach((slot) => {
      if (!slot.isConnected) {
        watched.delete(slot);
      } else if (!seen.has(slot)) {
        observer.unobserve(slot);
        observer.observe(slot);  // re-reports the current intersection
      }
    });
  });

  watch(document);
  document.addEventListener("htmx:load", (event) => watch(event.target));
})();
