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

// A stable colour per agent (its lane colour), from a hash of the name.
function agentColor(name) {
  let hash = 2166136261;
  for (const ch of String(name || "")) hash = Math.imul(hash ^ ch.codePointAt(0), 16777619) >>> 0;
  return `hsl(${Math.round(((hash % 1000) / 1000) * 360)}, 60%, ${38 + (hash >>> 10) % 3 * 6}%)`;
}

function agentChip(name) {
  if (!name) return null;
  const chip = el("span", { class: "agent-chip", text: name, title: "agent " + name });
  chip.style.setProperty("--agent", agentColor(name));
  return chip;
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

// The sign-in widget in the header: an annotator (or server) token kept in localStorage.
async function renderSignIn(container, onChange) {
  container.replaceChildren();
  const token = getToken();
  if (token) {
    try {
      const who = await api("/api/whoami");
      container.append(el("span", { class: "who", text: `signed in as ${who.name} (${who.role})`, "data-testid": "whoami" }),
        el("button", { type: "button", class: "link", text: "sign out", onclick: () => { setToken(""); renderSignIn(container, onChange).then(() => { if (onChange) onChange(null); }); } }));
      return who;
    } catch (_) { setToken(""); }
  }
  const input = el("input", { type: "password", placeholder: "annotator token", "aria-label": "annotator token", id: "token-input", autocomplete: "off" });
  const form = el("form", { class: "signin", onsubmit: (event) => { event.preventDefault(); setToken(input.value.trim()); renderSignIn(container, onChange).then((who) => { if (onChange) onChange(who); }); } },
    input, el("button", { type: "submit", text: "sign in" }));
  container.append(form);
  return null;
}

function fmtScore(value) { return value === null || value === undefined ? "–" : Number(value).toFixed(2); }
