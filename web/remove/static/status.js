// Check or withdraw a Report Remove case by its code and PIN. The PIN goes
// in the request body, never in the address.
"use strict";

const $ = (id) => document.getElementById(id);

async function post(action) {
  const code = $("code").value.trim();
  const resp = await fetch("/v1/self-reports/" + encodeURIComponent(code) + "/" + action, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ pin: $("pin").value.trim() }),
    credentials: "omit",
    cache: "no-store",
  });
  const body = await resp.json();
  if (resp.status === 404) throw new Error("We couldn't find a case with that code and PIN. Check both and try again.");
  if (resp.status === 429) throw new Error("Too many tries. Please wait a while and try again.");
  if (!resp.ok) throw new Error((body.error && body.error.message) || "Something went wrong.");
  return body;
}

function show(c) {
  const when = new Date(c.created_at).toLocaleDateString();
  const count = (k, one) => (k === 1 ? "1 " + one : k + " " + one + "s");
  const n = [c.images ? count(c.images, "photo") : "", c.videos ? count(c.videos, "video") : ""].filter(Boolean).join(" and ");
  $("state").textContent = c.state === "active"
    ? `Case ${c.code}: active since ${when}. ${n} are hidden here at once if anyone tries to post them, and a person checks them.`
    : `Case ${c.code}: taken back on ${new Date(c.withdrawn_at).toLocaleDateString()}. ${n} are not hidden any more.`;
  $("case").hidden = false;
  $("case").dataset.state = c.state;
  $("withdraw").hidden = c.state !== "active";
}

async function run(action) {
  $("answer").textContent = "Checking…";
  $("answer").className = "";
  try {
    show(await post(action));
    $("answer").textContent = action === "withdraw" ? "Done: your case is taken back." : "Found your case.";
  } catch (e) {
    $("case").hidden = true;
    $("answer").textContent = navigator.onLine === false ? "You're offline. Connect and try again." : e.message;
    $("answer").className = "bad";
  }
}

$("check").addEventListener("submit", (ev) => {
  ev.preventDefault();
  run("status");
});

$("withdraw").addEventListener("click", () => {
  if (confirm("Take your case back? Your photos and videos will not be hidden any more.")) run("withdraw");
});
