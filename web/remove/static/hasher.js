// A worker that runs the WebAssembly hasher, so that hashing a large photo
// never freezes the page. It gets a photo's bytes from the page and answers
// with their hashes; it makes no request of its own beyond loading itself.
"use strict";

importScripts("/remove/wasm_exec.js");

const ready = (async () => {
  const go = new Go();
  const resp = await fetch("/remove/hasher.wasm");
  if (!resp.ok) throw new Error("hasher missing");
  const { instance } = await WebAssembly.instantiateStreaming(resp, go.importObject);
  go.run(instance); // defines safeguardHash, then waits for calls
})();

ready.then(() => postMessage({ ready: true }), (e) => postMessage({ ready: false, error: String(e) }));

onmessage = async (ev) => {
  await ready;
  const t0 = performance.now();
  const h = self.safeguardHash(ev.data.bytes);
  h.ms = performance.now() - t0;
  h.id = ev.data.id;
  postMessage(h);
};
