// The ops dashboard: reads the worker's JSON ops API with the session cookie, polls it every two seconds,
// and sends the CSRF token with every action. Text from the API goes into the page as text, never as HTML.
"use strict";

const REFRESH_MS = 2000;
const DLQ_PAGE = 200;
let csrf = null;
let timer = null;

const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, credentials: "same-origin",
                                       body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || response.statusText);
  return data;
}

// -- formatting -------------------------------------------------------------------------------------------
function ago(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 1) return "now";
  if (seconds < 90) return `${Math.round(seconds)}s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}
const since = (ms) => (ms ? ago((Date.now() - ms) / 1000) : "—");
const isoAgo = (iso) => (iso ? ago((Date.now() - Date.parse(iso)) / 1000) : "never");
const ratio = (r) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(1)}%`);
const traceId = (traceparent) => ((traceparent || "").split("-")[1] || "—");
const short = (id) => (id && id.length > 12 ? `${id.slice(0, 12)}…` : id || "—");
function lag(seconds) {
  if (!seconds) return "0s";
  return seconds < 60 ? `${seconds.toFixed(1)}s` : `${Math.round(seconds / 60)} min`;
}
function badge(text, kind) { return el("span", { class: `badge ${kind || text}` }, text); }

function fill(table, rows, empty) {
  const body = $(table).querySelector("tbody");
  body.replaceChildren(...rows);
  if (empty) $(empty).hidden = rows.length > 0;
}

// -- confirmation ---------------------------------------------------------------------------------------
function confirmDialog(text, action) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = action;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
  });
}

// -- the sections ---------------------------------------------------------------------------------------
function showFlows(status) {
  const rows = Object.entries(status.flows).map(([flow, f]) => el("tr", { dataset: { flow } },
    el("td", {}, el("strong", {}, flow)), el("td", { class: "num" }, f.depth), el("td", { class: "num" }, lag(f.lag_seconds)),
    el("td", { class: "num" }, f.in_flight), el("td", { class: "num" }, f.retries_waiting),
    el("td", { class: `num ${f.dead_letters ? "bad" : ""}`, dataset: { cell: "dead_letters" } }, f.dead_letters),
    el("td", { class: `num ${f.needs_attention ? "bad" : ""}` }, f.needs_attention),
    el("td", {}, isoAgo(f.last_success))));
  fill("flows", rows);
}

function showDeadLetters(items, total) {
  $("dlq-count").textContent = total;
  $("dlq-count").className = `count ${total ? "bad" : ""}`;
  $("replay-all").disabled = total === 0;
  $("dlq-more").textContent = total > items.length ? `The oldest ${items.length} of ${total} are shown.` : "";
  const rows = items.map((item) => el("tr", { dataset: { id: item.id } },
    el("td", { class: "mono" }, item.id), el("td", {}, badge(item.class)), el("td", { class: "mono" }, item.entity),
    el("td", {}, item.kind || "?"), el("td", {}, since(item.failed_at)), el("td", { class: "num", title: "failed tries (poison errors counted apart)" }, item.retries ?? "—"),
    el("td", { class: "reason", title: item.reason }, item.reason),
    el("td", { class: "mono", title: item.traceparent || "" }, short(traceId(item.traceparent))),
    el("td", { class: "actions" },
      el("button", { type: "button", class: "replay", onclick: () => act("replay", item.id) }, "Replay"),
      el("button", { type: "button", class: "drop danger", onclick: () => act("drop", item.id) }, "Drop"))));
  fill("dlq", rows, "dlq-empty");
}

function showEdges(edges) {
  const rows = edges.map((e) => {
    const w = e.window || {};
    const perMinute = e.window_seconds ? Math.round((w.requests || 0) * 60 / Math.max(e.window_seconds, 1)) : 0;
    const reads = w.erp_reads || {};
    const breakers = e.breakers || {};
    return el("tr", { class: e.silent ? "silent" : "", dataset: { instance: e.instance } },
      el("td", { class: "mono" }, e.instance), el("td", { class: "num" }, perMinute),
      el("td", { class: "num", dataset: { cell: "answers" } }, ratio((w.answers || {}).ratio)), el("td", { class: "num" }, ratio((w.prices_l1 || {}).ratio)),
      el("td", { class: "num" }, ratio((w.stock_l1 || {}).ratio)), el("td", { class: "num" }, reads.ok ?? 0),
      el("td", { class: `num ${reads.error || reads.breaker_open ? "bad" : ""}` }, (reads.error || 0) + (reads.breaker_open || 0)),
      el("td", { class: "num" }, reads.over_budget ?? 0),
      el("td", {}, badge(breakers.erp || "?")), el("td", {}, badge(breakers.upstream || "?")),
      el("td", {}, e.silent ? `silent ${ago(e.age_seconds)}` : ago(e.age_seconds)));
  });
  fill("edges", rows, "edges-empty");
}

function showAudit(entries) {
  const rows = entries.map((a) => el("tr", {},
    el("td", { title: new Date(a.at_ms).toISOString() }, since(a.at_ms)), el("td", {}, el("strong", {}, a.operator)),
    el("td", {}, a.via), el("td", { class: "mono" }, a.action), el("td", { class: "mono" }, a.target),
    el("td", {}, a.outcome === "ok" ? badge("ok") : badge(a.outcome, "bad")), el("td", { class: "mono" }, a.address),
    el("td", { class: "mono", title: a.trace_id }, short(a.trace_id))));
  fill("audit", rows, "audit-empty");
}

function showReconciliation(report) {
  const box = $("reconciliation");
  if (!report) { box.replaceChildren(el("p", { class: "empty" }, "No reconciliation report yet.")); return; }
  const list = el("dl", { class: "facts" });
  for (const [key, value] of Object.entries(report)) {
    list.append(el("dt", {}, key), el("dd", {}, typeof value === "object" ? JSON.stringify(value) : value));
  }
  box.replaceChildren(list);
}

function showLedger(entry) {
  const detail = entry.detail ? JSON.parse(entry.detail) : {};
  const facts = el("dl", { class: "facts" },
    el("dt", {}, "order"), el("dd", { class: "mono" }, `${entry.flow} ${entry.bc_id}`),
    el("dt", {}, "ERP number"), el("dd", { class: "mono" }, entry.erp_id || "—"),
    el("dt", {}, "status"), el("dd", {}, badge(entry.status)),
    el("dt", {}, "reference"), el("dd", { class: "mono" }, detail.reference || "—"),
    el("dt", {}, "ERP status"), el("dd", {}, detail.erp_status || "—"),
    el("dt", {}, "last synced"), el("dd", {}, since(entry.last_synced_ms)),
    el("dt", {}, "last error"), el("dd", { class: entry.last_error ? "bad" : "" }, entry.last_error || "—"),
    el("dt", {}, "price mismatches"), el("dd", {}, (detail.price_mismatches || []).join("; ") || "none"));
  const history = (detail.history || []).slice().reverse().map((step) => el("tr", {},
    el("td", {}, since(step.at)), el("td", { class: "mono" }, step.kind), el("td", { class: "num" }, step.attempt ?? "—"),
    el("td", {}, step.outcome === "ok" ? badge("ok") : badge(step.outcome, "bad")),
    el("td", { class: "num" }, step.erp_calls ?? "—"),
    el("td", { class: "mono", title: step.traceparent || "" }, step.trace_id || "—")));
  const table = el("table", { id: "ledger-history" },
    el("thead", {}, el("tr", {}, ...["when", "message", "attempt", "outcome", "ERP calls", "trace id"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...history));
  $("ledger").replaceChildren(facts, el("h3", {}, "Attempts"), table);
}

// -- actions --------------------------------------------------------------------------------------------
async function act(kind, id) {
  const sure = await confirmDialog(
    kind === "replay" ? `Replay dead letter ${id}? Its message goes back on its entity's queue.`
                      : `Drop dead letter ${id}? The message is deleted for good.`,
    kind === "replay" ? "Replay" : "Drop");
  if (!sure) return;
  try {
    if (kind === "replay") await api("POST", `/ops/dlq/${encodeURIComponent(id)}/replay`);
    else await api("DELETE", `/ops/dlq/${encodeURIComponent(id)}`);
    notice("");
  } catch (error) { notice(`${kind} ${id}: ${error.message}`); }
  refresh();
}

async function replayAll() {
  const count = $("dlq-count").textContent;
  if (!(await confirmDialog(`Replay all ${count} dead letters?`, "Replay all"))) return;
  try { await api("POST", "/ops/dlq/replay-all"); notice(""); } catch (error) { notice(`replay all: ${error.message}`); }
  refresh();
}

function notice(text) { $("notice").textContent = text; }

// -- refresh --------------------------------------------------------------------------------------------
async function refresh() {
  clearTimeout(timer);
  if (document.hidden) { timer = setTimeout(refresh, REFRESH_MS); return; }  // a background tab asks nothing
  try {
    const [status, dlq, edges, audit, reconciliation] = await Promise.all([
      api("GET", "/ops/status"), api("GET", `/ops/dlq?limit=${DLQ_PAGE}`), api("GET", "/ops/edges"), api("GET", "/ops/audit?limit=25"),
      api("GET", "/ops/reconciliation")]);
    const deadLetters = Object.values(status.flows).reduce((sum, f) => sum + f.dead_letters, 0);
    showFlows(status); showDeadLetters(dlq.items, deadLetters); showEdges(edges.edges); showAudit(audit.entries);
    showReconciliation(reconciliation.report);
    $("updated").textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    $("live").classList.remove("down");
  } catch (error) {
    if (error.status === 401) { showLogin(""); return; }
    $("updated").textContent = `cannot reach the worker: ${error.message}`;
    $("live").classList.add("down");
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

function showLogin(message) {
  clearTimeout(timer);
  csrf = null;
  $("board").hidden = true; $("who").hidden = true; $("live").hidden = true;
  $("login").hidden = false; $("login-error").textContent = message;
  $("token").focus();
}

function showBoard(session) {
  csrf = session.csrf;
  $("operator").textContent = session.operator;
  $("login").hidden = true; $("board").hidden = false; $("who").hidden = false; $("live").hidden = false;
  refresh();
}

async function start() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { showBoard(await api("POST", "/ops/login", { token: $("token").value })); $("token").value = ""; }
    catch (error) { showLogin(error.message); }
  });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/ops/logout"); } finally { showLogin(""); }
  });
  $("replay-all").addEventListener("click", replayAll);
  $("ledger-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("ledger-key").value.trim();
    try { showLedger(await api("GET", `/ops/ledger/orders/${encodeURIComponent(key)}`)); }
    catch (error) { $("ledger").replaceChildren(el("p", { class: "error" }, error.message)); }
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden && csrf) refresh(); });
  try { showBoard(await api("GET", "/ops/session")); }
  catch (error) { showLogin(error.status === 401 ? "" : error.message); }
}

document.addEventListener("DOMContentLoaded", start);
