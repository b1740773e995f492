// Report Remove: hash photos and videos on this device with Safeguard's own
// hasher (WebAssembly) and send only the hashes. No photo or video bytes
// are ever put in a request: the only request with a body is the POST of
// `payload` below. Videos are decoded by the browser and sampled at one
// frame a second (video.js).
"use strict";

const $ = (id) => document.getElementById(id);
const picked = []; // {name, hashes | null, video | null, problem}

// The service worker keeps the page working offline once loaded.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/remove/sw.js", { scope: "/remove" }).catch(() => {});
}

// The hasher runs in a worker (hasher.js), so the page stays responsive.
const worker = new Worker("/remove/hasher.js");
const waiting = new Map(); // id -> resolve
let nextID = 0;
const ready = new Promise((resolve, reject) => {
  worker.onmessage = (ev) => {
    if ("ready" in ev.data) {
      ev.data.ready ? resolve() : reject(new Error(ev.data.error));
      return;
    }
    waiting.get(ev.data.id)(ev.data);
    waiting.delete(ev.data.id);
  };
  worker.onerror = () => reject(new Error("hasher failed"));
});

// ask gives the worker a job (what it hashes stays on this device) and
// resolves to its answer.
function ask(job, transfer) {
  const id = nextID++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker.postMessage({ id, ...job }, transfer);
  });
}

// hash resolves to a photo's {pdq, quality, md5, sha256, ms} or {error, kind}.
const hash = (bytes) => ask({ bytes }, [bytes.buffer]);
// hashFrame resolves to a video frame's {pdq, quality}.
const hashFrame = (frame, width, height, format) => ask({ frame, width, height, format }, [frame.buffer]);
// digestFile resolves to a video file's {md5, sha256}, read in slices.
const digestFile = (file) => ask({ file }, []);
// videoSamples resolves to an MP4 movie box's frames to take (videoPlan).
const videoSamples = (moov) => ask({ moov }, [moov.buffer]);

// hashVideo resolves to a video's hashes as the API takes them, or throws
// an Error with a kind for problemText.
async function hashVideo(file, text) {
  const url = URL.createObjectURL(file); // read by the browser on this device only
  try {
    const digest = digestFile(file);
    const plan = await videoPlan(file, videoSamples).catch(() => null);
    const frames = await sampleVideo(url, hashFrame, (done, total) => {
      text.textContent = "Working… " + done + " of " + total + " seconds.";
    }, plan);
    if (!frames.some((f) => f.quality >= 50)) throw Object.assign(new Error("flat"), { kind: "low_quality_video" });
    const d = await digest;
    if (d.error) throw Object.assign(new Error(d.error), { kind: "other" });
    return { vpdq: vpdqSignal(frames), md5: d.md5, sha256: d.sha256 };
  } finally {
    URL.revokeObjectURL(url);
  }
}

// isVideo tells a video by its type or, where the browser gives none, its
// name.
function isVideo(file) {
  return file.type.startsWith("video/") || (!file.type && /\.(mp4|m4v|mov|webm|mkv|3gp|avi)$/i.test(file.name));
}

ready.then(() => {
  $("loading").textContent = "Ready.";
}, () => {
  $("loading").textContent = "Sorry, this page can't work right now (the hasher did not load). Please try again later.";
  $("loading").className = "bad";
});

// Words for what went wrong with one file.
function problemText(kind) {
  switch (kind) {
    case "unplayable": return "This browser can't play this video, so it can't make its hashes. Try another browser (on an iPhone, Safari), or pick a screenshot of it.";
    case "too_long": return "This video is longer than 30 minutes, too long to do here. A screenshot of the worst part can be sent instead.";
    case "low_quality_video": return "This video is too plain (for example, mostly dark or one colour) to be spotted safely, so it won't be sent.";
    case "heic": return "This is an iPhone photo in HEIC format, which we can't read here. On an iPhone, pick it from Photos on this page (the iPhone turns it into a JPEG). On a computer, open it and save it as JPEG first, or take a screenshot of it and pick that.";
    case "unsupported": return "We can't read this kind of file yet. Try a screenshot of it instead.";
    case "too_large": return "This picture is too big for us to read.";
    case "low_quality": return "This picture is too plain (for example, mostly one colour) to be spotted safely, so it won't be sent.";
    default: return "We couldn't read this file. It may be damaged.";
  }
}

$("files").addEventListener("change", async (ev) => {
  const files = Array.from(ev.target.files);
  ev.target.value = ""; // picking the same file again still fires
  try { await ready; } catch { return; }
  for (const file of files) {
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.alt = "";
    const text = document.createElement("span");
    text.textContent = "Working…";
    li.append(img, text);
    $("picked").append(li);
    const item = { name: file.name, hashes: null, video: null, problem: "" };
    const bytes = isVideo(file) ? null : new Uint8Array(await file.arrayBuffer());
    if (!bytes) {
      const t0 = performance.now();
      try {
        item.video = await hashVideo(file, text);
      } catch (e) {
        item.problem = e.kind || "other";
      }
      li.dataset.ms = String(Math.round(performance.now() - t0));
    } else if (isHEIC(file, bytes)) {
      item.problem = "heic"; // desktop browsers hand the file as it is; iOS Safari converts to JPEG
    } else {
      img.src = URL.createObjectURL(file); // shown on this device only
      const h = await hash(bytes);
      li.dataset.ms = String(Math.round(h.ms || 0));
      if (h.error) item.problem = h.kind;
      else if (h.quality < 50) item.problem = "low_quality";
      else item.hashes = { pdq: h.pdq, quality: h.quality, md5: h.md5, sha256: h.sha256 };
    }
    const ok = item.hashes || item.video;
    text.textContent = ok ? (item.video ? "Video ready to send (" + item.video.vpdq.length + " frames)." : "Ready to send.") : problemText(item.problem);
    text.className = ok ? "ok" : "bad";
    picked.push(item);
  }
  update();
});

function payload() {
  return {
    images: picked.filter((p) => p.hashes).map((p) => p.hashes),
    videos: picked.filter((p) => p.video).map((p) => p.video),
  };
}

function update() {
  const p = payload();
  const any = p.images.length + p.videos.length > 0;
  $("payload").textContent = any ? JSON.stringify(p, null, 1) : "Nothing yet: pick a photo or video first.";
  $("send").disabled = !any;
}

$("send").addEventListener("click", async () => {
  const p = payload();
  $("send").disabled = true;
  $("sending").textContent = "Sending…";
  $("sending").className = "";
  try {
    const resp = await fetch("/v1/self-reports", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(p),
      credentials: "omit",
      cache: "no-store",
    });
    const body = await resp.json();
    if (!resp.ok) {
      throw new Error(resp.status === 429
        ? "Too many tries from here. Please wait a while and try again."
        : (body.error && body.error.message) || "Something went wrong.");
    }
    $("code").textContent = body.code;
    $("pin").textContent = body.pin;
    $("sending").textContent = "Sent.";
    $("done").hidden = false;
    // On a phone the code and PIN are below the fold: bring them into view.
    $("done").focus({ preventScroll: true });
    $("done").scrollIntoView({ block: "start" });
    picked.length = 0;
    $("picked").replaceChildren();
    update();
  } catch (e) {
    $("sending").textContent = navigator.onLine === false
      ? "You're offline. Your photos and videos are still only on this device; connect and press Send again."
      : "Not sent: " + e.message;
    $("sending").className = "bad";
    $("send").disabled = false;
  }
});

// isHEIC tells an iPhone's HEIC/HEIF photo by its type, its name, or its
// bytes (an ISO-BMFF "ftyp" box of a HEIF brand), since browsers on
// computers often give it no type.
function isHEIC(file, b) {
  if (/^image\/hei[cf]/.test(file.type) || /\.hei[cf]$/i.test(file.name)) return true;
  if (b.length < 12 || String.fromCharCode(b[4], b[5], b[6], b[7]) !== "ftyp") return false;
  const brand = String.fromCharCode(b[8], b[9], b[10], b[11]);
  return ["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"].includes(brand);
}

// The code and PIN, copied together; where the clipboard is refused, the
// text is selected so that the person can copy it themselves.
$("copy").addEventListener("click", async () => {
  const text = "Case code: " + $("code").textContent + "\nPIN: " + $("pin").textContent;
  try {
    await navigator.clipboard.writeText(text);
    $("copied").textContent = "Copied.";
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("done"));
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    $("copied").textContent = "Selected: copy it with your device's copy command.";
  }
});

// The helplines of the person's region (from the browser's languages, e.g.
// en-GB), else every region the service lists.
fetch("/remove/helplines.json", { credentials: "omit" }).then((r) => r.json()).then((h) => {
  const regions = (navigator.languages || [navigator.language || ""])
    .map((l) => (l.split("-")[1] || "").toUpperCase()).filter((r) => h.regions[r]);
  const show = regions.length ? [regions[0]] : h.order;
  for (const r of show) {
    for (const l of h.regions[r]) {
      const li = document.createElement("li");
      const name = document.createElement(l.url ? "a" : "strong");
      name.textContent = l.name;
      if (l.url) { name.href = l.url; name.rel = "noreferrer"; name.target = "_blank"; }
      li.append(name, document.createTextNode(" (" + r + "): " + l.what + (l.phone ? " Phone " + l.phone + "." : "")));
      $("helplines").append(li);
    }
  }
}).catch(() => {});
