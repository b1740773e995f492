// Report Remove: hash photos on this device with Safeguard's own hasher
// (WebAssembly) and send only the hashes. No photo bytes are ever put in a
// request: the only request with a body is the POST of `payload` below.
"use strict";

const $ = (id) => document.getElementById(id);
const picked = []; // {name, hashes | null, problem}

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

// hash gives a photo's bytes to the worker (they stay on this device) and
// resolves to {pdq, quality, md5, sha256, ms} or {error, kind}.
function hash(bytes) {
  const id = nextID++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker.postMessage({ id, bytes }, [bytes.buffer]);
  });
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
    case "video": return "Videos can't be done yet. It's coming soon.";
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
    const item = { name: file.name, hashes: null, problem: "" };
    const bytes = file.type.startsWith("video/") ? null : new Uint8Array(await file.arrayBuffer());
    if (!bytes) {
      item.problem = "video";
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
    text.textContent = item.hashes ? "Ready to send." : problemText(item.problem);
    text.className = item.hashes ? "ok" : "bad";
    picked.push(item);
  }
  update();
});

function payload() {
  return { images: picked.filter((p) => p.hashes).map((p) => p.hashes) };
}

function update() {
  const p = payload();
  $("payload").textContent = p.images.length ? JSON.stringify(p, null, 1) : "Nothing yet: pick a photo first.";
  $("send").disabled = p.images.length === 0;
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
      ? "You're offline. Your photos are still only on this device; connect and press Send again."
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
