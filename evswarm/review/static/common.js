// Shared helpers for the review pages. All trace text goes through textContent: never innerHTML.
"use strict";

const TOKEN_KEY = "evswarm-review-token";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function getToken() { return localStorage.getItem(TOKEN_KEY) || ""; }
function setToken(token) { if (token) localStorage.setItem(TOKEN_KEY, token); else localStorage.removeItem(TOKEN_KEY); }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const token = getToken();
  if (token && options.auth !== false) headers["Authorization"] = "Bearer " + token;
  if (options.body && typeof options.body !== "string") {
    headers["Content-Type"] = "application/json";
    options = Object.assign({}, options, { body: JSON.stringify(options.body) });
  }
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (options.raw) return response;
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (!response.ok) {
    const detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : response.statusText;
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return data;
}

// One colour per agent, the same as in the analysis report: the server sends each agent's colour
// (`agent_colors` of /api/config: agents sorted by name take a 24-colour palette in turn). An agent it
// has not seen yet gets a palette colour from a hash of its name.
const AGENT_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#aec7e8", "#ffbb78", "#98df8a",
  "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5"];
const agentColors = {};

function setAgentColors(colors) { Object.assign(agentColors, colors || {}); }

function agentColor(name) {
  const key = String(name || "");
  if (agentColors[key]) return agentColors[key];
  let hash = 2166136261;
  for (const ch of key) hash = Math.imul(hash ^ ch.codePointAt(0), 16777619) >>> 0;
  return AGENT_PALETTE[hash % AGENT_PALETTE.length];
}

// Dark text on light colours, white on dark ones (relative luminance).
function inkFor(hex) {
  const n = parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4 ? "#1d1f24" : "#fff";
}

function agentChip(name) {
  if (!name) return null;
  const chip = el("span", { class: "agent-chip", text: name, title: "agent " + name });
  const color = agentColor(name);
  chip.style.setProperty("--agent", color);
  chip.style.setProperty("--agent-ink", inkFor(color));
  return chip;
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

// The list's filters travel with a trace's address (`?case_type=...&q=...`), so that its page can step to
// the previous and next trace of the same list, and `queue=1` keeps the annotation queue going.
const LIST_FILTERS = ["q", "case_type", "outcome", "failed_rubric", "pattern", "version_set", "annotated"];

function traceHref(traceId, params) {
  const query = params && params.toString();
  return "/traces/" + encodeURIComponent(traceId) + (query ? "?" + query : "");
}

async function downloadExport(format, statusNode) {
  try {
    const response = await api(`/api/annotations/export?format=${format}`, { raw: true });
    if (!response.ok) throw new Error(response.status === 401 ? "sign in with a token to export" : response.statusText);
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `annotations.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    if (statusNode) statusNode.textContent = `exported annotations.${format}`;
  } catch (error) {
    if (statusNode) statusNode.textContent = "export failed: " + error.message;
  }
}

// Reads need a token (unless the server runs with --public-read): a notice under the header says so.
const SIGN_IN_NEEDED = "Reads need a token: sign in (top right) with the server token or an annotator token.";

let signInProblem = null; // why a sign-in link did not work, shown with the sign-in notice

function showAuthNotice(text) {
  let node = document.getElementById("auth-notice");
  if (!node) {
    node = el("div", { id: "auth-notice", class: "notice", role: "status", "data-testid": "auth-notice" });
    document.querySelector("header.topbar").after(node);
  }
  node.hidden = false;
  node.textContent = text || (signInProblem ? `Sign-in link: ${signInProblem}. ${SIGN_IN_NEEDED}` : SIGN_IN_NEEDED);
}

function hideAuthNotice() {
  const node = document.getElementById("auth-notice");
  if (node) node.hidden = true;
}

// The live stream. EventSource cannot send an Authorization header, so each connection opens with a
// single-use ticket fetched with the token; after an error it reconnects with a new ticket, resuming
// after the last event it saw.
function openStream(handlers) {
  let lastId = null;
  let delay = 1000;
  let source = null;
  let stopped = false;
  function retry() {
    if (stopped) return;
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 15000);
  }
  async function connect() {
    const params = new URLSearchParams();
    if (lastId !== null) params.set("after", lastId);
    if (getToken()) {
      try {
        params.set("ticket", (await api("/api/traces/stream/ticket", { method: "POST" })).ticket);
      } catch (error) {
        if (handlers.error) handlers.error(error);
        if (error.status === 401) { stopped = true; showAuthNotice(); return; }
        retry();
        return;
      }
    }
    source = new EventSource("/api/traces/stream?" + params.toString());
    source.addEventListener("connected", (event) => {
      delay = 1000;
      if (lastId === null) lastId = JSON.parse(event.data).last_id;
      if (handlers.connected) handlers.connected(event);
    });
    source.addEventListener("trace", (event) => {
      if (event.lastEventId) lastId = event.lastEventId;
      handlers.trace(event);
    });
    source.onerror = () => {
      source.close();
      if (handlers.error) handlers.error(null);
      retry();
    };
  }
  connect();
  return { close() { stopped = true; if (source) source.close(); } };
}

// A sign-in link (`/#signin=CODE`, printed by `evswarm serve`): the code is traded for its token once and
// the fragment is removed from the address. The code never reaches the server in a URL.
async function redeemSignInLink() {
  const match = /(?:^#|&)signin=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", location.pathname + location.search);
  try {
    const answer = await api("/api/signin", { method: "POST", body: { code: match[1] }, auth: false });
    setToken(answer.token);
    return null;
  } catch (error) {
    signInProblem = error.message;
    return error.message;
  }
}

// The sign-in widget in the header: an annotator (or server) token kept in localStorage. `onChange` runs
// after signing in or out (the pages reload, so that everything is read with the new token).
async function renderSignIn(container, onChange) {
  const linkProblem = await redeemSignInLink();
  container.replaceChildren();
  if (linkProblem || signInProblem) showAuthNotice();
  const token = getToken();
  if (token) {
    try {
      const who = await api("/api/whoami");
      container.append(el("span", { class: "who", text: `signed in as ${who.name} (${who.role})`, "data-testid": "whoami" }),
        el("button", { type: "button", class: "link", text: "sign out", onclick: () => { setToken(""); renderSignIn(container, onChange).then(() => { if (onChange) onChange(null); }); } }));
      return who;
    } catch (error) { if (error.status === 401) setToken(""); else throw error; }
  }
  const input = el("input", { type: "password", placeholder: "server or annotator token", "aria-label": "token", id: "token-input", autocomplete: "off" });
  const form = el("form", { class: "signin", onsubmit: (event) => { event.preventDefault(); setToken(input.value.trim()); renderSignIn(container, onChange).then((who) => { if (onChange) onChange(who); }); } },
    input, el("button", { type: "submit", text: "sign in" }));
  container.append(form);
  return null;
}

function reloadPage() { location.reload(); }

function fmtScore(value) { return value === null || value === undefined ? "–" : Number(value).toFixed(2); }

// A sign-in link pasted into a tab that shows the app already: load the page again to use it.
window.addEventListener("hashchange", () => { if (/signin=/.test(location.hash)) location.reload(); });
