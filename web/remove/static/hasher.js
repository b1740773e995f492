// A worker that runs the WebAssembly hasher, so that hashing a large photo
// or a video never freezes the page. It gets from the page a photo's
// bytes, a video frame's pixels, or a video file to digest, and answers
// with their hashes; it makes no request of its own beyond loading itself.
"use strict";

importScripts("/remove/wasm_exec.js");

const ready = (async () => {
  const go = new Go();
  const resp = await fetch("/remove/hasher.wasm");
  if (!resp.ok) throw new Error("hasher missing");
  const { instance } = await WebAssembly.instantiateStreaming(resp, go.importObject);
  go.run(instance); // defines safeguardHash, safeguardHashFrame and safeguardDigest, then waits for calls
})();

ready.then(() => postMessage({ ready: true }), (e) => postMessage({ ready: false, error: String(e) }));

// digest reads a video file in slices (never all of it at once) into the
// hasher's MD5 and SHA-256.
async function digest(file) {
  const d = self.safeguardDigest();
  const slice = 4 << 20;
  for (let at = 0; at < file.size; at += slice) {
    d.write(new Uint8Array(await file.slice(at, at + slice).arrayBuffer()));
  }
  return d.sum();
}

onmessage = async (ev) => {
  await ready;
  const t0 = performance.now();
  const m = ev.data;
  let h;
  if (m.frame) h = self.safeguardHashFrame(m.frame, m.width, m.height, m.format);
  else if (m.moov) h = self.safeguardVideoSamples(m.moov);
  else if (m.file) {
    try { h = await digest(m.file); } catch (e) { h = { error: String(e), kind: "other" }; }
  } else h = self.safeguardHash(m.bytes);
  h.ms = performance.now() - t0;
  h.id = m.id;
  postMessage(h);
};
