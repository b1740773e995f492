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
    case "unsupported": return "We can't read this kind of file yet. If it is an iPhone photo (HEIC), take a screenshot of it and pick that instead.";
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
    if (file.type.startsWith("video/")) {
      item.problem = "video";
    } else {
      img.src = URL.createObjectURL(file); // shown on this device only
      const h = await hash(new Uint8Array(await file.arrayBuffer()));
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
    $("done").focus();
    picked.length = 0;
    $("picked").replaceChildren();
    update();
  } catch (e) {
    $("sending").textContent = navigator.onLine === false
      ? "You're offline. Your photos are still only on your phone; connect and press Send again."
      : "Not sent: " + e.message;
    $("sending").className = "bad";
    $("send").disabled = false;
  }
});
