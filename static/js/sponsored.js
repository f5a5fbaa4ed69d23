// Sponsored slots' beacons (marketplace/listings/beacon.py). An impression is sent once, when at
// least half of a [data-sponsored-token] slot has stayed in view for a second; a click (or a
// middle click) on its [data-sponsored-click] link sends a click and the navigation proceeds.
// The server dedupes both and bills only what the signed token allows; without JavaScript
// nothing is sent, so nothing is billed.
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

  const slots = Array.from(document.querySelectorAll("[data-sponsored-token]"));
  if (!slots.length) return;

  const timers = new Map();
  const seen = new WeakSet();

  function stopTimer(slot) {
    clearTimeout(timers.get(slot));
    timers.delete(slot);
  }

  function visible(observer, slot) {
    if (seen.has(slot) || timers.has(slot)) return;
    timers.set(slot, setTimeout(() => {
      timers.delete(slot);
      if (document.visibilityState !== "visible" || seen.has(slot)) return;
      seen.add(slot);
      observer.unobserve(slot);
      send(slot, "impression");
    }, DWELL_MS));
  }

  if ("IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting && entry.intersectionRatio >= VISIBLE_RATIO) {
          visible(observer, entry.target);
        } else {
          stopTimer(entry.target);  // scrolled away before a second: not seen yet
        }
      }
    }, { threshold: VISIBLE_RATIO });
    slots.forEach((slot) => observer.observe(slot));
    // A hidden tab does not count as viewing: restart the dwell when it comes back.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "visible") {
        Array.from(timers.keys()).forEach(stopTimer);
      } else {
        slots.forEach((slot) => {
          if (!seen.has(slot)) {
            observer.unobserve(slot);
            observer.observe(slot);  // re-reports the current intersection
          }
        });
      }
    });
  }

  for (const slot of slots) {
    const onClick = (event) => {
      const link = event.target.closest("[data-sponsored-click]");
      if (!link || !slot.contains(link)) return;
      if (event.type === "auxclick" && event.button !== 1) return;  // middle click only
      send(slot, "click");
    };
    slot.addEventListener("click", onClick);
    slot.addEventListener("auxclick", onClick);
  }
})();
