// The review console's only script: countdowns, the break reminder,
// keyboard shortcuts and revealing previews one at a time. Everything
// works without it except the shortcuts and revealing.
"use strict";
(function () {
  var body = document.body;
  var csrf = body.getAttribute("data-csrf") || "";
  var loaded = Date.now();

  function human(s) {
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    if (h >= 48) return Math.floor(h / 24) + "d " + (h % 24) + "h";
    if (h > 0) return h + "h " + String(m).padStart(2, "0") + "m";
    if (m > 0) return m + "m " + String(r).padStart(2, "0") + "s";
    return r + "s";
  }

  // Countdowns run from the server's figure at page load, so the
  // browser's clock does not matter.
  var clocks = document.querySelectorAll(".countdown[data-due-in]");
  function tick() {
    var gone = Math.floor((Date.now() - loaded) / 1000);
    clocks.forEach(function (el) {
      var left = parseInt(el.getAttribute("data-due-in"), 10) - gone;
      el.textContent = left > 0 ? "due in " + human(left) : "overdue by " + human(-left);
      var row = el.closest("tr");
      if (left <= 0 && row) row.classList.add("overdue");
    });
  }
  if (clocks.length) setInterval(tick, 1000);

  // The break reminder shows itself when its time comes, even on a page
  // left open.
  var brk = document.getElementById("break");
  var breakIn = parseInt(body.getAttribute("data-break-in") || "0", 10);
  if (brk && brk.hidden && breakIn > 0) {
    setTimeout(function () { brk.hidden = false; }, breakIn * 1000);
  }

  // Previews: blurred until chosen, one at a time, blurred again on leaving.
  var boxes = Array.prototype.slice.call(document.querySelectorAll(".preview-box"));
  var next = 0;
  function media(box) { return box.querySelector(".preview"); }
  function blurAll() {
    boxes.forEach(function (b) {
      var m = media(b);
      m.classList.remove("revealed");
      if (m.tagName === "VIDEO") m.pause();
    });
  }
  function reveal(box) {
    var m = media(box);
    if (m.classList.contains("revealed")) { blurAll(); return; }
    // The look is on record before the content is shown unblurred.
    fetch(box.getAttribute("data-reveal"), {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
    }).then(function (res) {
      if (!res.ok) throw new Error("reveal refused: " + res.status);
      blurAll();
      m.classList.add("revealed");
      next = (boxes.indexOf(box) + 1) % boxes.length;
    }).catch(function (e) { console.error(e); });
  }
  boxes.forEach(function (box) {
    box.querySelector("button.reveal").addEventListener("click", function () { reveal(box); });
    // Content that is not an image is shown as a video that plays only
    // when asked.
    var img = box.querySelector("img.preview");
    function toVideo() {
      var v = document.createElement("video");
      v.className = "preview";
      v.controls = true;
      v.preload = "none";
      // Muted until the reviewer unmutes it: sound can be as harmful.
      v.muted = true;
      v.defaultMuted = true;
      v.setAttribute("muted", "");
      v.src = img.getAttribute("src");
      img.replaceWith(v);
      // Its keyframes, blurred like it, to judge it without playing it.
      var strip = document.createElement("img");
      strip.className = "strip";
      strip.alt = "keyframes of item " + box.getAttribute("data-item") + " (blurred)";
      strip.draggable = false;
      strip.src = img.getAttribute("src") + "/strip";
      v.after(strip);
    }
    // The image may have failed before this script ran.
    if (img.complete && img.naturalWidth === 0) toVideo();
    else img.addEventListener("error", toVideo, { once: true });
  });
  document.addEventListener("visibilitychange", function () { if (document.hidden) blurAll(); });
  window.addEventListener("pagehide", blurAll);
  window.addEventListener("blur", blurAll);

  // Queue page: j/k choose a row, Enter or o opens it.
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  var sel = -1;
  function select(i) {
    if (!rows.length) return;
    if (sel >= 0) rows[sel].classList.remove("selected");
    sel = Math.max(0, Math.min(rows.length - 1, i));
    rows[sel].classList.add("selected");
    rows[sel].scrollIntoView({ block: "nearest" });
  }
  rows.forEach(function (r) {
    r.addEventListener("click", function (e) {
      if (e.target.tagName !== "A") location.href = r.getAttribute("data-href");
    });
  });

  var form = document.getElementById("decision");
  function el(id) { return document.getElementById(id); }
  function submit(id) { if (form) form.requestSubmit(el(id)); }

  // A decision waits a few seconds, shown with a countdown and Undo,
  // before it is sent: a stray key press can be taken back. Nothing is
  // sent until the countdown ends, so closing the tab cancels it.
  var pending = el("pending"), wait = null, armed = false;
  function undo() {
    if (!wait) return;
    clearInterval(wait.timer);
    wait = null;
    pending.hidden = true;
    el("undone").hidden = false;
    freeze(false);
  }
  // While a decision counts down, the form cannot change: what is sent
  // is what the countdown showed.
  function freeze(on) {
    form.querySelectorAll("textarea").forEach(function (f) { f.readOnly = on; });
    if (on && document.activeElement) document.activeElement.blur();
  }
  if (form && pending) {
    var seconds = parseInt(form.getAttribute("data-undo-seconds") || "0", 10);
    form.addEventListener("submit", function (e) {
      if (armed || seconds <= 0) return;
      e.preventDefault();
      if (wait) return;
      var btn = e.submitter || el("confirm");
      var left = seconds;
      el("undone").hidden = true;
      el("pending-what").textContent = btn.getAttribute("data-doing") || btn.textContent;
      el("pending-left").textContent = left;
      pending.hidden = false;
      freeze(true);
      wait = { timer: setInterval(function () {
        left--;
        el("pending-left").textContent = left;
        if (left > 0) return;
        clearInterval(wait.timer);
        wait = null;
        armed = true;
        form.requestSubmit(btn);
      }, 1000) };
    });
    el("undo").addEventListener("click", undo);
    ["click", "mousedown"].forEach(function (type) {
      form.addEventListener(type, function (e) {
        if (wait && e.target !== el("undo")) e.preventDefault();
      }, true);
    });
    window.addEventListener("pagehide", undo);
  }
  var dismissing = false;
  var reason = el("reason");
  if (reason) {
    reason.addEventListener("keydown", function (e) {
      if (dismissing && e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit("dismiss"); }
    });
  }

  var help = document.getElementById("help");
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT") {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    var k = e.key;
    if (wait) {
      if (k === "u" || k === "Escape" || k === "z") { undo(); e.preventDefault(); }
      return;
    }
    if (k === "?") { help.hidden = !help.hidden; return; }
    if (k === "Escape") { help.hidden = true; blurAll(); return; }
    if (k === "g") { var b = el("back"); location.href = b ? b.href : "/console/"; return; }
    if (rows.length) {
      if (k === "j") select(sel + 1);
      else if (k === "k") select(sel - 1);
      else if ((k === "Enter" || k === "o") && sel >= 0) location.href = rows[sel].getAttribute("data-href");
      else if (k === "o" || k === "Enter") select(0);
      return;
    }
    if (k === "v" && boxes.length) { reveal(boxes[next]); e.preventDefault(); return; }
    if (!form) return;
    var cls = el("classification");
    if (cls && k >= "1" && k <= "4") { cls.selectedIndex = parseInt(k, 10); return; }
    if (k === "r") { var r = form.querySelector("input[name=takedown][value=restrict]"); if (r) r.checked = true; return; }
    if (k === "l") { var le = el("le"); if (le) le.checked = !le.checked; return; }
    if (k === "a") { var bank = el("bank"); if (bank) bank.checked = true; submit("confirm"); return; }
    if (k === "c") { submit("confirm"); return; }
    if (k === "d") {
      if (reason && reason.value.trim() === "") {
        dismissing = true;
        e.preventDefault();
        reason.placeholder = "Why dismiss? Enter to dismiss, Esc to cancel";
        reason.focus();
        return;
      }
      submit("dismiss");
    }
  });
})();
