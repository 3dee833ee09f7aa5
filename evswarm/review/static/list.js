// The trace list: filters, search, paging, and live updates from the server-sent-event stream.
"use strict";

const PAGE = 50;
const FILTERS = LIST_FILTERS;
const form = document.getElementById("filters");
let offset = 0;
let pending = 0;
let reloadTimer = null;
let lastReload = 0;
const RELOAD_EVERY = 1000; // while traces stream in (an import), the list reloads at most once a second

function currentFilters() {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  for (const name of FILTERS) if (params.has(name)) form.elements[name].value = params.get(name);
  offset = Math.max(0, parseInt(params.get("offset") || "0", 10) || 0);
}

function writeUrl() {
  const params = currentFilters();
  if (offset) params.set("offset", offset);
  const query = params.toString();
  history.replaceState(null, "", query ? "?" + query : location.pathname);
}

async function loadFacets() {
  const facets = await api("/api/facets");
  for (const [name, values] of Object.entries(facets)) {
    const select = form.elements[name];
    if (!select) continue;
    const chosen = select.value || new URLSearchParams(location.search).get(name) || "";
    while (select.options.length > 1) select.remove(1);
    for (const value of values) select.append(el("option", { value, text: value }));
    select.value = chosen;
  }
}

function gradeCell(row) {
  if (row.passed === null || row.passed === undefined) return el("td", { class: "muted", text: "–" });
  if (row.passed) return el("td", {}, el("span", { class: "badge pass", text: "pass" }));
  return el("td", {}, el("span", { class: "badge fail", text: "fail" }), " ", el("span", { class: "small", text: (row.failed || []).join(", ") }));
}

function renderRows(data) {
  const body = document.getElementById("rows");
  body.replaceChildren(...data.rows.map((row) => el("tr", { "data-trace-id": row.trace_id },
    el("td", {}, el("a", { href: traceHref(row.trace_id, currentFilters()), class: "trace-link", text: row.trace_id }),
      el("div", { class: "small", text: row.title || "" })),
    el("td", { text: row.case_type || "–" }),
    el("td", {}, el("span", { class: "badge outcome", text: row.outcome || "–" })),
    el("td", { text: row.version_set || "–" }),
    gradeCell(row),
    el("td", { text: row.pattern || "–" }),
    el("td", { class: "num", text: row.n_steps }),
    el("td", { class: "num", text: row.annotators ? `${row.annotators} annotator${row.annotators > 1 ? "s" : ""}` : "–" }),
  )));
  const end = Math.min(data.offset + data.rows.length, data.total);
  document.getElementById("count").textContent = `${data.total.toLocaleString()} trace${data.total === 1 ? "" : "s"}`;
  document.getElementById("page").textContent = data.total ? `${data.offset + 1}–${end} of ${data.total.toLocaleString()}` : "no traces match";
  document.getElementById("prev").disabled = data.offset === 0;
  document.getElementById("next").disabled = end >= data.total;
}

async function load() {
  const params = currentFilters();
  params.set("offset", offset);
  params.set("limit", PAGE);
  writeUrl();
  const data = await api("/api/traces?" + params.toString());
  renderRows(data);
  document.body.dataset.loaded = String(Date.now());
  if (!document.body.dataset.loadedAt) document.body.dataset.loadedAt = String(Math.round(performance.now()));
}

async function showErrors() {
  const status = await api("/api/status");
  const node = document.getElementById("errors");
  node.hidden = !status.import_error_count;
  node.textContent = `${status.import_error_count} import error(s): see /api/status (with the server token)`;
}

function onNewTrace(event) {
  const info = JSON.parse(event.data);
  const toast = document.getElementById("new-traces");
  if (offset === 0) {
    toast.hidden = false;
    toast.textContent = `${info.status === "new_version" ? "new version" : "new trace"}: ${info.trace_id}`;
    if (!reloadTimer) {
      const wait = Math.max(150, RELOAD_EVERY - (Date.now() - lastReload));
      reloadTimer = setTimeout(() => { reloadTimer = null; lastReload = Date.now(); loadFacets().then(load).catch(() => null); }, wait);
    }
  } else {
    pending += 1;
    toast.hidden = false;
    toast.textContent = `${pending} new trace(s): show newest`;
  }
}

function connect() {
  const dot = document.getElementById("live");
  openStream({
    connected: () => { dot.classList.add("on"); document.body.dataset.live = "1"; },
    trace: onNewTrace,
    error: () => dot.classList.remove("on"),
  });
}

// The start-up import runs while the page already answers: a progress line until it is done.
async function watchImport() {
  const line = document.getElementById("import-progress");
  for (;;) {
    let loading;
    try { loading = (await api("/api/health", { auth: false })).loading; } catch (_) { loading = null; }
    if (!loading || loading.phase === "done" || (loading.phase !== "importing" && !loading.total)) {
      if (!line.hidden) { line.hidden = true; loadFacets().then(load).then(queueInfo).catch(() => null); }
      document.body.dataset.imported = "1";
      return;
    }
    line.hidden = false;
    const pct = loading.total ? Math.floor((100 * loading.done) / loading.total) : 0;
    line.replaceChildren(`importing traces: ${loading.done.toLocaleString()} of ${loading.total.toLocaleString()} (${pct}%)`,
      loading.seconds ? ` · ${loading.seconds} s` : "", el("progress", { max: String(loading.total || 1), value: String(loading.done) }));
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
}

// The annotation queue: how many traces of this list the signed-in annotator has not labelled, and a
// button that opens the first of them (the trace page then goes on to the next).
async function queueInfo() {
  const box = document.getElementById("queue");
  let data;
  try { data = await api("/api/queue?" + currentFilters().toString()); } catch (_) { box.hidden = true; return; }
  box.hidden = false;
  const who = data.annotator === "admin" ? "anyone" : data.annotator;
  box.replaceChildren(el("span", { class: "small", text: `${data.unlabelled.toLocaleString()} unlabelled by ${who}` }));
  if (data.next) {
    const params = currentFilters();
    params.set("queue", "1");
    box.append(" ", el("a", { class: "button", id: "start-queue", href: traceHref(data.next, params), text: "label next →" }));
  }
}

async function start() {
  await redeemSignInLink();
  watchImport();
  try {
    // Filters in the URL need the facet options first; otherwise fetch facets and rows in parallel.
    await (location.search ? loadFacets().then(load) : Promise.all([loadFacets(), load()]));
  } catch (error) {
    if (error.status !== 401) throw error;
    showAuthNotice();
    document.body.dataset.auth = "needed";
    return;
  }
  hideAuthNotice();
  connect();
  queueInfo();
  await showErrors();
}

form.addEventListener("submit", (event) => { event.preventDefault(); offset = 0; load(); queueInfo(); });
for (const select of form.querySelectorAll("select")) select.addEventListener("change", () => { offset = 0; load(); queueInfo(); });
document.getElementById("clear").addEventListener("click", () => { form.reset(); offset = 0; load(); queueInfo(); });
document.getElementById("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(); });
document.getElementById("next").addEventListener("click", () => { offset += PAGE; load(); });
document.getElementById("new-traces").addEventListener("click", () => { pending = 0; offset = 0; load(); });

readUrl();
redeemSignInLink().then(() => renderSignIn(document.getElementById("signin"), reloadPage)).then(start);
