// Keeps Report Remove's page working offline once it has loaded: the page,
// its scripts and the hasher come from this cache when the network is not
// there. Requests to the API always go to the network (the worker never
// sees or stores a photo: the page sends none).
"use strict";

const CACHE = "safeguard-remove-v3";
const ASSETS = ["/remove", "/remove/status", "/remove/remove.css", "/remove/remove.js", "/remove/status.js", "/remove/video.js",
  "/remove/hasher.js", "/remove/wasm_exec.js", "/remove/hasher.wasm", "/remove/helplines.json"];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Network first, so a fixed page reaches people at once; the cache when
// offline.
self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/remove")) return;
  ev.respondWith(fetch(ev.request).then((resp) => {
    if (resp.ok) {
      const copy = resp.clone();
      caches.open(CACHE).then((c) => c.put(ev.request, copy));
    }
    return resp;
  }).catch(() => caches.match(ev.request, { ignoreSearch: true })));
});
