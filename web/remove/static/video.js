// Samples a video as vPDQ hashes it at one frame a second, for Report
// Remove: the browser decodes it (a muted <video> that never plays), each
// whole second's frame is drawn to a canvas at the video's own size, and
// its pixels are handed to hashFrame (the WebAssembly PDQ,
// safeguardHashFrame). Each step waits on the browser (a seek, the frame
// being presented, the hash), so the page never freezes. No video code is
// in the WebAssembly: decoding is the browser's.
"use strict";

// The longest video sampled: the server takes at most 1800 frames
// (selfreport.MaxVideoFrames), half an hour at one a second.
const maxVideoSeconds = 1800;

// sampleVideo resolves to [{t, pdq, quality, via}, ...] (via: the pixels'
// path, "I420", "NV12" or "canvas"), one a second from 0;
// hashFrame(pixels, width, height, format) resolves to {pdq,
// quality} or {error}; pixels may be the decoder's planes (format "I420",
// "NV12") or canvas RGBA. progress(done, total) is told after each frame.
// It rejects with an Error whose kind is "unplayable" (this browser cannot
// decode it) or "too_long".
//
// plan, when given, is the frames to take, [{n, t, at}, ...] (videoPlan):
// frame n, stamped t, shown at time at. Without it (not an MP4, or its
// movie box unreadable) the page takes each whole second's frame, which
// is the server's only at whole-number frame rates.
async function sampleVideo(src, hashFrame, progress, plan) {
  const v = document.createElement("video");
  v.muted = true;
  v.playsInline = true;
  v.preload = "auto";
  const fail = (kind, msg) => Object.assign(new Error(msg), { kind });
  await new Promise((ok, bad) => {
    v.onloadeddata = ok;
    v.onerror = () => bad(fail("unplayable", "this browser cannot decode the video"));
    v.src = src;
  });
  const w = v.videoWidth, h = v.videoHeight;
  if (!(w > 0 && h > 0 && isFinite(v.duration))) throw fail("unplayable", "the video has no picture or no length");
  if (v.duration > maxVideoSeconds) throw fail("too_long", "longer than " + maxVideoSeconds + " s");
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  const g = c.getContext("2d", { willReadFrequently: true });
  if (plan && plan.length > maxVideoSeconds) throw fail("too_long", "more than " + maxVideoSeconds + " frames to take");
  if (!plan) {
    plan = [];
    for (let t = 0; t < v.duration; t += 1) plan.push({ t, at: t + 0.005 }); // just past the frame's start
  }
  const out = [];
  for (const s of plan) {
    // "seeked" can come before that frame is ready to draw (Chromium then
    // draws the previous one): wait for it to be presented too, for at
    // most half a second.
    const presented = new Promise((ok) => {
      if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => ok());
      setTimeout(ok, 500);
    });
    const seeked = new Promise((ok) => { v.onseeked = ok; });
    v.currentTime = s.at;
    await seeked;
    await presented;
    const r = await grab(v, g, w, h, hashFrame);
    if (r.error) throw fail("other", r.error);
    out.push({ t: s.t, pdq: r.pdq, quality: r.quality, via: r.via });
    if (progress) progress(out.length, plan.length);
  }
  v.removeAttribute("src");
  v.load();
  return out;
}

// grab hashes the frame v shows. Where the browser hands over its
// decoder's own planes (WebCodecs: new VideoFrame(v), copyTo) in 8-bit
// 4:2:0, the hasher converts them to RGB as the server does (BT.601, as
// vPDQ's reference); the browser's own conversion, by drawing to the
// canvas, is the fallback: it picks BT.709 for some untagged videos
// (a 1080x1080 one: ~15 bits a frame off the server's), and scales to the
// display size where pixels are not square.
async function grab(v, g, w, h, hashFrame) {
  if (typeof VideoFrame === "function") {
    let f = null;
    try {
      f = new VideoFrame(v);
      const r = f.visibleRect;
      if ((f.format === "I420" || f.format === "NV12") && r.x % 2 === 0 && r.y % 2 === 0) {
        const fw = r.width, fh = r.height, cw = (fw + 1) >> 1, ch = (fh + 1) >> 1;
        const buf = new Uint8Array(fw * fh + 2 * cw * ch);
        const layout = f.format === "I420"
          ? [{ offset: 0, stride: fw }, { offset: fw * fh, stride: cw }, { offset: fw * fh + cw * ch, stride: cw }]
          : [{ offset: 0, stride: fw }, { offset: fw * fh, stride: 2 * cw }];
        await f.copyTo(buf, { rect: r, layout });
        return Object.assign(await hashFrame(buf, fw, fh, f.format), { via: f.format });
      }
    } catch (e) {
      // Not this browser's frame, or not copyable: the canvas below.
    } finally {
      if (f) f.close();
    }
  }
  g.drawImage(v, 0, 0, w, h);
  return Object.assign(await hashFrame(g.getImageData(0, 0, w, h).data, w, h, "RGBA"), { via: "canvas" });
}

// videoPlan resolves to the frames of an MP4 file (a Blob) the server's
// vPDQ keeps at one a second, [{n, t, at}, ...], or null when the file is
// not an MP4 or its movie box cannot be read. It walks the file's
// top-level boxes, reading only their headers, to find the movie box (at
// the start or at the end of the file), and hands that box alone to
// samplesOf (the WebAssembly's safeguardVideoSamples: internal/mp4).
async function videoPlan(file, samplesOf) {
  const maxMoov = 64 << 20, maxBoxes = 10000;
  let at = 0;
  for (let i = 0; i < maxBoxes && at + 8 <= file.size; i++) {
    const h = new DataView(await file.slice(at, at + 16).arrayBuffer());
    let size = h.getUint32(0);
    const type = String.fromCharCode(h.getUint8(4), h.getUint8(5), h.getUint8(6), h.getUint8(7));
    if (size === 1 && h.byteLength >= 16) size = h.getUint32(8) * 2 ** 32 + h.getUint32(12);
    else if (size === 0) size = file.size - at;
    if (size < 8 || at + size > file.size) return null;
    if (type === "moov") {
      if (size > maxMoov) return null;
      const r = await samplesOf(new Uint8Array(await file.slice(at, at + size).arrayBuffer()));
      return r && r.samples && r.samples.length ? r.samples : null;
    }
    at += size;
  }
  return null;
}

// vpdqSignal is frames as python-threatexchange's vPDQ signal, the form
// POST /v1/self-reports takes: ["pdqHex,quality,timestamp", ...].
function vpdqSignal(frames) {
  return frames.map((f) => f.pdq + "," + f.quality + "," + f.t.toFixed(3));
}
