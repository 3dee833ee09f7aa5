// The trace view: three synchronized panes (Reasoning | Function Calls | Final Answer), step linking,
// keyboard navigation, collapsible long outputs, grades and suspects beside them, and the annotation form.
"use strict";

const state = { config: null, trace: null, cycle: -1, cycles: 0, who: null };
// A malformed escape in the address (e.g. /traces/%E0%A4%A) is "no such trace", not a stuck page.
const traceId = (() => {
  try { return decodeURIComponent(location.pathname.replace(/^\/traces\//, "")); } catch (_) { return null; }
})();
const wantedVersion = new URLSearchParams(location.search).get("version");

function block(text, kind) {
  const value = text === null || text === undefined ? "" : String(text);
  const limit = state.config.collapse_lines;
  const lines = value.split("\n");
  const pre = el("pre", { class: "text text-" + (kind || "plain") });
  if (limit <= 0 || lines.length <= limit) {
    pre.textContent = value;
    return pre;
  }
  const wrapper = el("div", { class: "collapsible collapsed" });
  const preview = lines.slice(0, limit).join("\n");
  pre.textContent = preview;
  const toggle = el("button", { type: "button", class: "expand", "aria-expanded": "false",
    text: `show all ${lines.length} lines` });
  toggle.addEventListener("click", (event) => {
    event.stopPropagation();
    const open = wrapper.classList.toggle("collapsed") === false;
    pre.textContent = open ? value : preview;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? `collapse to ${limit} lines` : `show all ${lines.length} lines`;
  });
  wrapper.append(pre, el("div", { class: "more", text: open_hint(lines.length, limit) }), toggle);
  return wrapper;
}

function open_hint(total, limit) { return `… ${total - limit} more line${total - limit === 1 ? "" : "s"} hidden`; }

function card(step, extraClass, children) {
  const number = step.cycle + 1;
  const node = el("article", {
    class: `card ${extraClass} kind-${step.kind}`, tabindex: "0", role: "button", "aria-pressed": "false",
    "aria-label": `Step ${number}${step.agent ? " by " + step.agent : ""}: highlight across panes`,
    dataset: { cycle: String(step.cycle), stepId: step.step_id, agent: step.agent || "" },
  });
  if (step.span_id) node.dataset.spanId = step.span_id;
  if (step.agent) node.style.setProperty("--agent", agentColor(step.agent));
  node.append(...children.filter((child) => child !== null && child !== undefined));
  node.addEventListener("click", (event) => { if (!event.target.closest("button")) select(step.cycle, node); });
  node.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target === node) { event.preventDefault(); select(step.cycle, node); }
  });
  return node;
}

function head(step, ...badges) {
  return el("header", { class: "card-head" }, el("span", { class: "step-no", text: "#" + (step.cycle + 1) }),
    agentChip(step.agent), ...badges);
}

function reasoningCard(step) {
  const label = step.label || step.kind;
  return card(step, "reasoning-card", [head(step, el("span", { class: "badge kind", text: label })),
    block(step.text, step.kind), step.error ? el("p", { class: "error", text: step.error }) : null]);
}

function resultBlock(result) {
  return el("div", { class: "result" + (result.error ? " has-error" : ""), dataset: { stepId: result.step_id } },
    el("div", { class: "result-head", text: "↳ result" + (result.tool ? " of " + result.tool : "") }),
    block(result.text, "result"), result.error ? el("p", { class: "error", text: "error: " + result.error }) : null);
}

function callCard(step) {
  if (step.kind === "orphan_result") {
    return card(step, "call-card orphan", [head(step, el("span", { class: "badge", text: "result without a call" })),
      resultBlock(step)]);
  }
  const tool = el("code", { class: "tool" + (step.kind === "handoff" ? " handoff" : ""), text: step.tool || "call" });
  const children = [head(step, step.kind === "handoff" ? el("span", { class: "badge handoff", text: "handoff" }) : null, tool)];
  if (step.arguments) children.push(block(step.arguments, "arguments"));
  if (step.results.length) children.push(...step.results.map(resultBlock));
  else children.push(el("p", { class: "muted small", text: "no result recorded" }));
  return card(step, "call-card", children);
}

function answerCard(step) {
  const children = [head(step, el("span", { class: "badge kind", text: "final answer" }))];
  if (step.data && typeof step.data === "object") {
    const rows = Object.entries(step.data).map(([key, value]) => el("tr", {}, el("th", { text: key }),
      el("td", { text: typeof value === "object" ? JSON.stringify(value) : String(value) })));
    children.push(el("table", { class: "decision" }, el("tbody", {}, ...rows)));
  }
  children.push(block(step.text, "answer"));
  return card(step, "answer-card", children);
}

function fill(containerId, cards) {
  const node = document.getElementById(containerId);
  node.replaceChildren(...(cards.length ? cards : [el("p", { class: "muted empty", text: "—" })]));
}

function renderPanes(view) {
  const labels = state.config.pane_labels;
  document.getElementById("label-reasoning").textContent = labels[0];
  document.getElementById("label-calls").textContent = labels[1];
  document.getElementById("label-answer").textContent = labels[2];
  const panes = view.panes;
  fill("reasoning", panes.reasoning.map(reasoningCard));
  fill("calls", panes.calls.map(callCard));
  const answer = panes.answer ? [answerCard(panes.answer)] : [el("p", { class: "muted", text: "No final answer in this trace." })];
  answer.push(el("p", { class: "muted small answer-source", text: "answer chosen by: " + view.answer_source }));
  document.getElementById("answer").replaceChildren(...answer);
  state.cycles = panes.cycles;
  document.getElementById("agents").replaceChildren(el("span", { class: "small muted", text: "agents: " }),
    ...panes.agents.map((name) => el("button", { type: "button", class: "agent-filter", onclick: () => highlightAgent(name) }, agentChip(name))));
}

function clearMarks() {
  for (const node of document.querySelectorAll(".card.linked, .card.cited")) {
    node.classList.remove("linked", "cited");
    node.setAttribute("aria-pressed", "false");
  }
}

function select(cycle, origin) {
  if (cycle < 0 || cycle >= state.cycles) return;
  clearMarks();
  state.cycle = cycle;
  const linked = document.querySelectorAll(`.card[data-cycle="${cycle}"]`);
  for (const node of linked) { node.classList.add("linked"); node.setAttribute("aria-pressed", "true"); }
  for (const paneId of ["reasoning", "calls", "answer"]) {
    const first = document.querySelector(`#${paneId} .card[data-cycle="${cycle}"]`);
    if (first) scrollWithin(document.getElementById(paneId), first);
  }
  const focusTarget = origin || linked[0];
  if (focusTarget) focusTarget.focus({ preventScroll: true });
  const agents = [...new Set([...linked].map((n) => n.dataset.agent).filter(Boolean))];
  document.getElementById("announce").textContent = `Step ${cycle + 1} of ${state.cycles}: ${linked.length} linked card(s)${agents.length ? ", " + agents.join(", ") : ""}`;
  updateAttach();
}

function scrollWithin(pane, node) {
  const paneBox = pane.getBoundingClientRect();
  const box = node.getBoundingClientRect();
  if (box.top < paneBox.top || box.bottom > paneBox.bottom) pane.scrollTop += box.top - paneBox.top - 8;
}

function markSteps(stepIds) {
  clearMarks();
  const nodes = [];
  for (const id of stepIds) {
    const node = document.querySelector(`.card[data-step-id="${CSS.escape(id)}"]`) ||
      document.querySelector(`.result[data-step-id="${CSS.escape(id)}"]`)?.closest(".card");
    if (node && !nodes.includes(node)) nodes.push(node);
  }
  if (!nodes.length) return;
  select(Number(nodes[0].dataset.cycle), nodes[0]);
  for (const node of nodes) node.classList.add("cited");
}

function highlightAgent(name) {
  const ids = [...document.querySelectorAll(".card")].filter((n) => n.dataset.agent === name).map((n) => n.dataset.stepId);
  markSteps(ids);
}

function onKey(event) {
  if (event.target.closest("input, textarea, select") || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); select(Math.min(state.cycle + 1, state.cycles - 1)); }
  else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); select(Math.max(state.cycle - 1, 0)); }
  else if (event.key === "Escape") { clearMarks(); state.cycle = -1; updateAttach(); }
}

function citeButton(ids, label) {
  if (!ids || !ids.length) return null;
  return el("button", { type: "button", class: "cite", text: `${label} (${ids.length})`, onclick: () => markSteps(ids) });
}

function renderSide(view) {
  const grades = document.getElementById("grades");
  grades.replaceChildren(el("h3", { text: "Rubric grades" }));
  if (!view.grades) grades.append(el("p", { class: "muted small", text: "not graded (run `evswarm grade DIR`)" }));
  else {
    grades.append(el("p", { class: "small", text: `overall: ${view.grades.passed ? "pass" : "fail"} · mean ${fmtScore(view.grades.score_mean)}` }));
    for (const rubric of view.grades.rubrics) {
      grades.append(el("div", { class: "grade " + (rubric.passed ? "pass" : "fail"), dataset: { rubric: rubric.rubric } },
        el("div", { class: "grade-head" }, el("span", { class: "badge " + (rubric.passed ? "pass" : "fail"), text: rubric.passed ? "pass" : "fail" }),
          el("strong", { text: rubric.rubric }), el("span", { class: "small muted", text: fmtScore(rubric.score) })),
        el("p", { class: "reason", text: rubric.reason }), citeButton(rubric.cites, "cited steps")));
    }
  }
  const macro = document.getElementById("macro");
  macro.replaceChildren();
  if (view.pattern || view.suspects.length) {
    macro.append(el("h3", { text: "Behavior pattern" }), el("p", { class: "pattern", text: view.pattern || "–" }));
    if (view.suspects.length) {
      macro.append(el("h4", { text: "Top suspects" }), el("ol", { class: "suspects" }, ...view.suspects.map((s) => el("li", {},
        el("span", { text: s.name }), " ", el("span", { class: "small muted", text: fmtScore(s.score) }), " ",
        s.cites.length ? citeButton(s.cites, "steps") : (s.agent ? el("button", { type: "button", class: "cite", text: "agent's steps", onclick: () => highlightAgent(s.agent) }) : null)))));
    }
  }
  const findings = document.getElementById("findings");
  findings.replaceChildren();
  if (view.findings.length) {
    findings.append(el("h3", { text: "Findings" }), ...view.findings.map((f) => el("div", { class: "finding sev-" + f.severity },
      el("strong", { text: f.code }), " ", el("span", { class: "small", text: `${f.severity} · ${f.agent || ""}` }),
      el("p", { class: "reason", text: f.message }), citeButton(f.cites, "step"))));
  }
}

function renderMeta(view) {
  document.title = "evswarm review · " + view.trace_id;
  document.getElementById("title").textContent = view.title || view.trace_id;
  const chips = [["trace", view.trace_id], ["case", view.case_type], ["outcome", view.outcome], ["version set", view.version_set], ["format", view.source_format]];
  const meta = document.getElementById("meta");
  meta.replaceChildren(...chips.filter(([, v]) => v).map(([k, v]) => el("span", { class: "chip" }, el("span", { class: "muted", text: k + " " }), v)));
  if (view.versions.length > 1) {
    const select = el("select", { "aria-label": "trace version", id: "version-select" },
      ...view.versions.map((v) => el("option", { value: v.version, text: `version ${v.version}${v.version === view.latest_version ? " (latest)" : ""}` })));
    select.value = String(view.version);
    select.addEventListener("change", () => { location.search = "?version=" + select.value; });
    meta.append(select);
  }
  const notice = document.getElementById("notice");
  notice.hidden = view.version === view.latest_version;
  notice.textContent = view.version === view.latest_version ? "" : `You are viewing version ${view.version}; version ${view.latest_version} is the latest.`;
}

// --- annotation ---------------------------------------------------------------------------------

function updateAttach() {
  const label = document.getElementById("attach-label");
  const box = document.getElementById("attach-step");
  if (!label || !box) return;
  box.disabled = state.cycle < 0;
  if (state.cycle < 0) box.checked = false;
  label.textContent = state.cycle < 0 ? "select a step to attach it" : `attach to step #${state.cycle + 1}`;
}

function schemeField(scheme, current) {
  const name = "scheme-" + scheme.name;
  const legend = el("legend", { text: scheme.name.replaceAll("_", " ") });
  const field = el("fieldset", { class: "scheme", dataset: { scheme: scheme.name }, title: scheme.description || "" }, legend);
  if (scheme.type === "text") {
    field.append(el("textarea", { name, rows: "3", maxlength: "5000", "aria-label": scheme.name }));
    if (current !== undefined) field.querySelector("textarea").value = current;
    return field;
  }
  const options = scheme.type === "binary" ? ["pass", "fail"] :
    Array.from({ length: scheme.max - scheme.min + 1 }, (_, i) => String(scheme.min + i));
  for (const option of options) {
    const title = scheme.labels && scheme.labels[option] ? scheme.labels[option] : option;
    const input = el("input", { type: "radio", name, value: option, "aria-label": `${scheme.name} ${title}` });
    if (current !== undefined && String(current) === option) input.checked = true;
    field.append(el("label", { class: "opt", title }, input, option));
  }
  return field;
}

async function renderAnnotate(view) {
  const box = document.getElementById("annotate");
  box.replaceChildren(el("h3", { text: "Your labels" }));
  if (!state.who) { box.append(el("p", { class: "small muted", text: "Sign in with an annotator token (top right) to label this trace." })); return; }
  if (state.who.role !== "annotator") { box.append(el("p", { class: "small muted", text: "The server token can export but not label: use an annotator token." })); }
  let mine = [];
  try { mine = (await api(`/api/traces/${encodeURIComponent(view.trace_id)}/annotations`)).labels; } catch (_) { mine = []; }
  const current = Object.fromEntries(mine.filter((l) => l.annotator === state.who.name).map((l) => [l.scheme, l.value]));
  const stale = mine.some((l) => l.annotator === state.who.name && l.stale);
  if (stale) box.append(el("p", { class: "notice small", text: "Some of your labels were made on an older version of this trace." }));
  const form = el("form", { id: "label-form", class: "label-form" },
    ...state.config.schemes.map((s) => schemeField(s, current[s.name])),
    el("label", { class: "attach" }, el("input", { type: "checkbox", id: "attach-step" }), el("span", { id: "attach-label" })),
    el("button", { type: "submit", text: "save labels" }), el("span", { id: "save-status", class: "small", "aria-live": "polite" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const labels = {};
    for (const scheme of state.config.schemes) {
      const name = "scheme-" + scheme.name;
      if (scheme.type === "text") { const v = form.elements[name].value.trim(); if (v) labels[scheme.name] = v; }
      else { const checked = form.querySelector(`input[name="${name}"]:checked`); if (checked) labels[scheme.name] = scheme.type === "likert" ? Number(checked.value) : checked.value; }
    }
    const status = document.getElementById("save-status");
    if (!Object.keys(labels).length) { status.textContent = "choose at least one label"; return; }
    const stepIds = document.getElementById("attach-step").checked ?
      [...document.querySelectorAll(`.card[data-cycle="${state.cycle}"]`)].map((n) => n.dataset.stepId) : [];
    try {
      const saved = await api(`/api/traces/${encodeURIComponent(view.trace_id)}/annotations`, { method: "POST",
        body: { version: view.version, content_hash: view.content_hash, labels, step_ids: stepIds } });
      status.textContent = `saved ${saved.saved} label(s)`;
    } catch (error) { status.textContent = "not saved: " + error.message; }
  });
  const exportStatus = el("span", { class: "small", "aria-live": "polite" });
  box.append(form, el("div", { class: "exports" }, el("span", { class: "small", text: "export: " }),
    el("button", { type: "button", id: "export-jsonl", text: "JSONL", onclick: () => downloadExport("jsonl", exportStatus) }),
    el("button", { type: "button", id: "export-csv", text: "CSV", onclick: () => downloadExport("csv", exportStatus) }), exportStatus));
  updateAttach();
}

async function main() {
  const started = performance.now();
  const title = document.getElementById("title");
  const signin = document.getElementById("signin");
  if (traceId === null) {
    title.textContent = "No such trace: the address is malformed";
    document.body.dataset.ready = "error";
    renderSignIn(signin, reloadPage);
    return;
  }
  const signedIn = renderSignIn(signin, reloadPage);
  let view;
  try {
    [state.config, view] = await Promise.all([
      api("/api/config"),
      api(`/api/traces/${encodeURIComponent(traceId)}${wantedVersion ? "?version=" + encodeURIComponent(wantedVersion) : ""}`),
    ]);
  } catch (error) {
    await signedIn.catch(() => null);
    if (error.status === 401) {
      title.textContent = "Sign in to see this trace";
      showAuthNotice();
      document.body.dataset.ready = "auth";
    } else {
      title.textContent = error.status === 404 ? "No such trace" : "Could not load the trace: " + error.message;
      document.body.dataset.ready = "error";
    }
    return;
  }
  state.trace = view;
  renderMeta(view);
  renderPanes(view);
  renderSide(view);
  document.body.dataset.ready = "1";
  document.body.dataset.renderMs = String(Math.round(performance.now() - started));
  document.body.dataset.readyAt = String(Math.round(performance.now()));
  document.addEventListener("keydown", onKey);
  state.who = await signedIn;
  renderAnnotate(view);
}

main();
