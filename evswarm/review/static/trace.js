// The trace view: three synchronized panes (Reasoning | Function Calls | Final Answer), step linking,
// keyboard navigation, collapsible long outputs, grades and suspects beside them, and the annotation form.
"use strict";

const state = { config: null, trace: null, cycle: -1, cycles: 0, who: null, suspectStep: null };
// A malformed escape in the address (e.g. /traces/%E0%A4%A) is "no such trace", not a stuck page.
const traceId = (() => {
  try { return decodeURIComponent(location.pathname.replace(/^\/traces\//, "")); } catch (_) { return null; }
})();
const query = new URLSearchParams(location.search);
const wantedVersion = query.get("version");
const inQueue = query.get("queue") === "1";
// The list this trace was opened from: its filters are kept for previous / next and the queue.
const listParams = new URLSearchParams();
for (const name of LIST_FILTERS) if (query.get(name)) listParams.set(name, query.get(name));

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
  const more = el("div", { class: "more", text: open_hint(lines.length, limit) });
  toggle.addEventListener("click", (event) => {
    event.stopPropagation();
    const open = wrapper.classList.toggle("collapsed") === false;
    pre.textContent = open ? value : preview;
    more.hidden = open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? `collapse to ${limit} lines` : `show all ${lines.length} lines`;
  });
  wrapper.append(pre, more, toggle);
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
  if (step.step_id === state.suspectStep) node.classList.add("suspect");
  node.append(...children.filter((child) => child !== null && child !== undefined));
  node.addEventListener("click", (event) => { if (!event.target.closest("button")) select(step.cycle, node); });
  node.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target === node) { event.preventDefault(); select(step.cycle, node); }
  });
  return node;
}

function durationBadge(step, what) {
  if (step.duration_ms === null || step.duration_ms === undefined) return null;
  return el("span", { class: "duration", title: `${what} took ${fmtDuration(step.duration_ms)}`, text: fmtDuration(step.duration_ms) });
}

function head(step, ...badges) {
  return el("header", { class: "card-head" }, el("span", { class: "step-no", text: "#" + (step.cycle + 1) }),
    agentChip(step.agent), ...badges);
}

function reasoningCard(step) {
  const label = step.label || step.kind;
  return card(step, "reasoning-card", [head(step, el("span", { class: "badge kind", text: label }), durationBadge(step, "the model turn")),
    block(step.text, step.kind), step.error ? el("p", { class: "error", text: step.error }) : null]);
}

function resultBlock(result) {
  return el("div", { class: "result" + (result.error ? " has-error" : ""), dataset: { stepId: result.step_id } },
    el("div", { class: "result-head" }, "↳ result" + (result.tool ? " of " + result.tool : ""), " ", durationBadge(result, "the call")),
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
  else if (event.key === "n" || event.key === "]") { const next = document.getElementById("next-trace"); if (next && next.href) { event.preventDefault(); next.click(); } }
  else if (event.key === "p" || event.key === "[") { const prev = document.getElementById("prev-trace"); if (prev && prev.href) { event.preventDefault(); prev.click(); } }
}

// Previous / next trace of the list this one was opened from (same filters), or, in the annotation queue,
// the next trace this annotator has not labelled.
async function renderNav(view) {
  const nav = document.getElementById("trace-nav");
  const back = el("a", { href: "/" + (listParams.toString() ? "?" + listParams.toString() : ""), text: "← list" });
  nav.replaceChildren(back);
  try {
    const around = await api(`/api/traces/${encodeURIComponent(view.trace_id)}/neighbors?${listParams.toString()}`);
    const link = (id, key, text) => id ? el("a", { id: key, class: "button", href: traceHref(id, listParams), text }) :
      el("span", { id: key, class: "button disabled", "aria-disabled": "true", text });
    nav.append(link(around.previous, "prev-trace", "← previous"),
      el("span", { class: "small muted", id: "trace-position", text: around.position ? `${around.position} of ${around.total}` : `not in this list (${around.total})` }),
      link(around.next, "next-trace", "next →"));
  } catch (_) { /* a missing neighbour list leaves the buttons out */ }
  if (inQueue) {
    try {
      const next = await api(`/api/queue?${listParams.toString()}&after=${encodeURIComponent(view.trace_id)}`);
      const params = new URLSearchParams(listParams);
      params.set("queue", "1");
      nav.append(next.next ? el("a", { id: "queue-next", class: "button primary", href: traceHref(next.next, params),
        text: `next unlabelled → (${next.unlabelled} left)` }) : el("span", { id: "queue-next", class: "small", text: "queue done: nothing left to label" }));
    } catch (_) { /* not signed in: no queue */ }
  }
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
  renderAnalysis(view);
  renderTwins(view);
  renderCompare(view);
  const findings = document.getElementById("findings");
  findings.replaceChildren();
  if (view.findings.length) {
    findings.append(el("h3", { text: "Findings" }), ...view.findings.map((f) => el("div", { class: "finding sev-" + f.severity },
      el("strong", { text: f.code }), " ", el("span", { class: "small", text: `${f.severity} · ${f.agent || ""}` }),
      el("p", { class: "reason", text: f.message }), citeButton(f.cites, "step"))));
  }
}

function bar(value) {
  const node = el("span", { class: "bar" });
  node.style.width = `${Math.round(100 * Math.max(0, Math.min(1, value || 0)))}%`; // CSSOM: allowed by the CSP
  return node;
}

function pct(x) { return x === null || x === undefined ? "–" : `${Math.round(100 * x)}%`; }

function stepLink(ids, text) {
  if (!ids || !ids.length) return el("span", { class: "small muted", text });
  const node = document.querySelector(`.card[data-step-id="${CSS.escape(ids[0])}"]`) ||
    document.querySelector(`.result[data-step-id="${CSS.escape(ids[0])}"]`)?.closest(".card");
  const label = node ? `step #${Number(node.dataset.cycle) + 1}` : text;
  return el("button", { type: "button", class: "cite step-link", text: label, onclick: () => markSteps(ids) });
}

// The pattern's status against the previous analysis, its bootstrap stability, and its prevalence over the
// chain of analyses (OUT/lineage.json): a small line, and the steps in words beneath it.
const RELATION = { split: "split from", merged: "merged from", continuing: "absorbed", returned: "absorbed" };

function sparkline(history, steps) {
  const ns = "http://www.w3.org/2000/svg", width = 160, height = 32, pad = 4;
  const values = Array.from({ length: steps }, () => 0);
  for (const h of history) values[h.step - 1] = h.prevalence;
  const top = Math.max(...values) || 1;
  const xy = values.map((v, i) => [pad + (width - 2 * pad) * (steps > 1 ? i / (steps - 1) : 0), height - pad - (height - 2 * pad) * (v / top)]);
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", width); svg.setAttribute("height", height); svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "prevalence over the analyses: " + values.map((v) => pct(v)).join(", "));
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "));
  line.setAttribute("fill", "none"); line.setAttribute("stroke", "#2a6fdb"); line.setAttribute("stroke-width", "1.5");
  svg.append(line);
  for (const [x, y] of xy) {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", x.toFixed(1)); dot.setAttribute("cy", y.toFixed(1)); dot.setAttribute("r", "2.5"); dot.setAttribute("fill", "#2a6fdb");
    svg.append(dot);
  }
  return svg;
}

function patternHistory(info) {
  const box = el("div", { class: "pattern-history", id: "pattern-history" });
  const related = info.related && info.related.length ? ` (${RELATION[info.status] || "with"} ${info.related.map((r) => "P" + r).join(", ")})` : "";
  box.append(el("p", { class: "small" },
    info.status ? el("span", { class: `badge status status-${info.status}`, id: "pattern-status", text: info.status + related }) : null,
    info.basis === "assignment" ? el("span", { class: "muted", id: "pattern-basis", title: "its traces fit the earlier pattern's centre and were assigned to it; the clustering did not find it again", text: " carried over by assignment" }) : null,
    info.stability !== null && info.stability !== undefined
      ? el("span", { class: "muted", id: "pattern-stability", title: "mean best-match Jaccard over bootstrap resamples (0.75 or more: stable)", text: ` stability ${info.stability.toFixed(2)}` })
      : null));
  if (info.history && info.history.length && info.steps > 1) {
    box.append(el("h4", { text: `History over ${info.steps} analyses` }), sparkline(info.history, info.steps),
      el("ol", { class: "history small" },
        ...info.history.map((h) => el("li", { value: h.step, dataset: { step: h.step } },
          el("span", { class: "muted", text: h.batch + ": " }), `${h.status}${h.basis === "assignment" ? " (by assignment)" : ""} · ${pct(h.prevalence)} of runs (${h.traces} traces)`))));
  }
  return box;
}

// What each rule that picks a suspect means (see evswarm.macro.attribution).
const RULE_HELP = {
  "contrast with peers": "the best-scoring step that departs from passing peers",
  "unusual input": "no step departs from passing peers, and the request is unlike theirs",
  "nearest agent step to the anchor": "no step departs from passing peers and the request is usual: the agent step that produced what the failure shows",
  "no agent step before the anchor": "no agent acted before the failure showed",
};

// The analysis beside the panes: the trace's pattern, its attribution (suspect step with score parts and
// the rule that chose it, the anchor and the rule that placed it, the three baselines) and what its pattern's traces blame.
function renderAnalysis(view) {
  const macro = document.getElementById("macro");
  macro.replaceChildren();
  const info = view.pattern_info;
  if (info || view.pattern) {
    macro.append(el("h3", { text: "Behavior pattern" }), el("p", { class: "pattern" },
      info ? el("strong", { text: `P${info.id} ` }) : null, info ? info.label : view.pattern,
      info && info.traces ? el("span", { class: "small muted", text: ` · ${info.traces} traces (${pct(info.prevalence)} of runs)` }) : null));
    if (info) macro.append(patternHistory(info));
  }
  const a = view.attribution;
  if (a) {
    const box = el("div", { class: "attribution", id: "attribution" });
    const who = a.suspect_side === "input" ? "the input" : a.suspect_component;
    box.append(el("h3", { text: "Attribution" }),
      el("p", { class: "verdict" }, "Responsible: ", a.suspect_side === "input" ? el("strong", { text: who }) : agentChip(a.suspect_agent),
        a.suspect_component !== a.suspect_agent && a.suspect_side !== "input" ? el("code", { class: "tool", text: a.suspect_component }) : null,
        el("span", { class: "badge", text: a.suspect_side })),
      el("p", { class: "small" }, "at ", stepLink(a.cites, a.suspect_seq >= 0 ? `event ${a.suspect_seq}` : "the input"),
        ` (${a.suspect_kind}${a.suspect_tool ? " " + a.suspect_tool : ""}), score ${fmtScore(a.score)}`),
      a.suspect_rule ? el("p", { class: "small suspect-rule", id: "suspect-rule" }, "chosen by: ",
        el("strong", { text: a.suspect_rule }), el("span", { class: "muted", text: ` (${RULE_HELP[a.suspect_rule] || "see the attribution docs"})` })) : null,
      el("table", { class: "parts" }, el("tbody", {},
        ...[["deviation", a.deviation, "how much more often failing traces take this step than passing peers"],
          ["earliness", a.earliness, "1 for the first unusual step, 1/2 for the second, ..."],
          ["proximity", a.proximity, "1/(1 + hops) to the anchor over content edges"]].map(([name, value, help]) =>
          el("tr", { title: help }, el("th", { text: name }), el("td", { class: "num", text: fmtScore(value) }),
            el("td", { class: "bar-cell" }, bar(value)))))),
      el("p", { class: "small" }, "failure shows at ", stepLink(a.anchor_cites, a.anchor_event_id ? "a status entry (not a pane step)" : "–"),
        a.anchor_rule ? el("span", { class: "muted", text: ` (placed by: ${a.anchor_rule})` }) : null,
        ` · ${a.unusual_steps} unusual step(s) before it`),
      el("h4", { text: "Baselines" }),
      el("ul", { class: "baselines small" },
        ...[["last agent before the failure", a.baseline_last_agent], ["agent with most steps", a.baseline_most_frequent_agent],
          ["first agent", a.baseline_first_agent]].map(([name, agent]) => el("li", {}, `${name}: `, agent ? agentChip(agent) : "–",
          agent && agent === a.suspect_agent ? el("span", { class: "small muted", text: " (agrees)" }) : null))));
    macro.append(box);
  }
  if (view.suspect_steps.length) {
    macro.append(el("h4", { text: "Suspect steps of this trace" }), el("ol", { class: "suspects" },
      ...view.suspect_steps.map((s) => el("li", {}, stepLink(s.cites, s.seq >= 0 ? `event ${s.seq}` : "input"), " ",
        agentChip(s.agent_name), s.tool_name ? el("code", { class: "tool", text: s.tool_name }) : null, " ",
        el("span", { class: "small muted", title: `deviation ${fmtScore(s.deviation)} · earliness ${fmtScore(s.earliness)} · proximity ${fmtScore(s.proximity)}`,
          text: fmtScore(s.score) })))));
  }
  if (view.pattern_suspects.length) {
    macro.append(el("h4", { text: "What this pattern's traces blame" }), el("ol", { class: "suspects" },
      ...view.pattern_suspects.map((s) => el("li", {}, s.side === "agent" ? agentChip(s.component) : el("code", { class: "tool", text: s.component }),
        el("span", { class: "small muted", text: ` ${s.side} · ${pct(s.share)} of its traces (${s.traces})` })))));
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

// A "responsible agent and step" label: the annotator selects a step in the panes and takes it; the agent
// follows from the step (the server adds it when the label is saved).
function responsibleField(scheme, field, current) {
  const name = "scheme-" + scheme.name;
  const input = el("input", { type: "hidden", name, value: current && current.step_id ? current.step_id : "" });
  const shown = el("span", { class: "small responsible-shown" });
  function show(stepId) {
    input.value = stepId || "";
    shown.replaceChildren();
    if (!stepId) { shown.textContent = "no step chosen"; return; }
    const node = document.querySelector(`.card[data-step-id="${CSS.escape(stepId)}"]`);
    shown.append(node ? `step #${Number(node.dataset.cycle) + 1} ` : stepId + " ", agentChip(node ? node.dataset.agent : (current && current.agent)));
  }
  const take = el("button", { type: "button", class: "take-step", text: "use the selected step", onclick: () => {
    const first = document.querySelector(`.card[data-cycle="${state.cycle}"]`);
    const status = document.getElementById("save-status");
    if (!first) { if (status) status.textContent = "select a step first (click it, or j / k)"; return; }
    show(first.dataset.stepId);
  } });
  const clear = el("button", { type: "button", class: "link", text: "clear", onclick: () => show("") });
  field.append(input, shown, " ", take, " ", clear);
  show(input.value);
  return field;
}

function schemeField(scheme, current) {
  const name = "scheme-" + scheme.name;
  const legend = el("legend", { text: scheme.name.replaceAll("_", " ") });
  const field = el("fieldset", { class: "scheme", dataset: { scheme: scheme.name }, title: scheme.description || "" }, legend);
  if (scheme.type === "responsible_step") return responsibleField(scheme, field, current);
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
      else if (scheme.type === "responsible_step") { const v = form.elements[name].value; if (v) labels[scheme.name] = { step_id: v }; }
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
      document.body.dataset.saved = String(Date.now());
      if (inQueue) renderNav(view);
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
  await redeemSignInLink();
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
  state.suspectStep = view.attribution && view.attribution.cites.length ? view.attribution.cites[0] : null;
  setAgentColors(state.config.agent_colors);
  renderMeta(view);
  renderPanes(view);
  renderSide(view);
  renderNav(view);
  const wantedStep = query.get("step"); // a step the report links to: a span, event or step id
  if (wantedStep) {
    const bySpan = [...document.querySelectorAll(".card")].filter((n) => n.dataset.spanId === wantedStep).map((n) => n.dataset.stepId);
    markSteps(view.step_of[wantedStep] || (bySpan.length ? bySpan : [wantedStep]));
  }
  document.body.dataset.ready = "1";
  document.body.dataset.renderMs = String(Math.round(performance.now() - started));
  document.body.dataset.readyAt = String(Math.round(performance.now()));
  document.addEventListener("keydown", onKey);
  state.who = await signedIn;
  renderAnnotate(view);
}

main();
