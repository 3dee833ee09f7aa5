// The diff page: two traces side by side (a run and its counterfactual twin, two traces, or two versions of
// one), one row per aligned step pair from /api/diff; the first difference highlighted and scrolled to,
// changed tool inputs and outputs shown inline with the differing words marked, the answers compared last.
"use strict";

const query = new URLSearchParams(location.search);
const OPS = { same: "same", changed: "changed", removed: "only left", added: "only right" };
const MARK = { same: "", changed: "≠", removed: "−", added: "+" };
const FIELD_LABELS = { arguments: "input", text: "text", error: "error", data: "data", result: "output" };
const CONTEXT = 2; // unchanged rows kept around each difference when only differences are shown
let diffRows = []; // the row elements that differ, in order
let current = -1;

// --- word-level highlighting ----------------------------------------------------------------------

function tokens(text) { return String(text).match(/\s+|[A-Za-z0-9_.\-]+|[^\sA-Za-z0-9_.\-]/g) || []; }

// Which tokens of `a` and of `b` are not in their longest common subsequence. The common head and tail are
// trimmed first; a middle too large to align (over a million token pairs) is marked changed as a whole.
function wordDiff(a, b) {
  const x = tokens(a), y = tokens(b);
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const n = x.length - head - tail, m = y.length - head - tail;
  const left = x.map(() => false), right = y.map(() => false);
  for (let i = 0; i < n; i++) left[head + i] = true;
  for (let j = 0; j < m; j++) right[head + j] = true;
  if (n && m && n * m <= 1e6) {
    const width = m + 1;
    const table = new Uint32Array((n + 1) * width); // table[i][j]: LCS length of the suffixes from i and j
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i * width + j] = x[head + i] === y[head + j] ? table[(i + 1) * width + j + 1] + 1 :
          Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
      }
    }
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (x[head + i] === y[head + j]) { left[head + i] = right[head + j] = false; i++; j++; }
      else if (table[(i + 1) * width + j] >= table[i * width + j + 1]) i++;
      else j++;
    }
  }
  return { left: [x, left], right: [y, right] };
}

// A <pre> of `parts` ([tokens, changed flags]): runs of changed tokens wrapped in <del> or <ins>.
function marked(parts, tag, kind) {
  const [words, changed] = parts;
  const pre = el("pre", { class: "text text-" + kind });
  let run = null;
  words.forEach((word, i) => {
    if (!changed[i]) { run = null; pre.append(word); return; }
    if (!run) { run = el(tag, { class: "word" }); pre.append(run); }
    run.append(word);
  });
  return pre;
}

function plain(text, kind) { return el("pre", { class: "text text-" + kind, text }); }

// --- rows ----------------------------------------------------------------------------------------

function fieldText(side, name) {
  if (!side) return null;
  if (name === "result") {
    if (side.result === null || side.result === undefined) return null;
    return side.result + (side.result_error ? "\nerror: " + side.result_error : "");
  }
  const value = side[name];
  if (value === null || value === undefined || value === "") return null;
  return typeof value === "object" ? JSON.stringify(value, null, 2) : String(value);
}

function stepHead(side) {
  const what = side.tool ? el("code", { class: "tool" + (side.kind === "handoff" ? " handoff" : ""), text: side.tool }) : null;
  return el("header", { class: "card-head" }, el("span", { class: "step-no", text: "#" + (side.index + 1) }),
    agentChip(side.agent), el("span", { class: "badge kind", text: side.kind === "answer" ? "final answer" : (side.label && side.kind !== "tool_call" && side.kind !== "handoff" ? side.label : side.kind.replace("_", " ")) }), what);
}

function fieldBlock(name, body) {
  return el("div", { class: "diff-field", dataset: { field: name } }, el("div", { class: "field-name", text: FIELD_LABELS[name] }), body);
}

function cell(row, which) {
  const side = row[which];
  const node = el("div", { class: "diff-cell " + which });
  if (!side) {
    node.classList.add("gap");
    node.append(el("span", { class: "small muted", text: which === "left" ? "not in the left trace" : "not in the right trace" }));
    return node;
  }
  const step = el("article", { class: `dstep kind-${side.kind}`, dataset: { stepId: side.step_id, agent: side.agent || "" } });
  if (side.agent) step.style.setProperty("--agent", agentColor(side.agent));
  step.append(stepHead(side));
  if (row.op === "same") step.append(el("p", { class: "summary small", text: side.summary }));
  else if (row.op === "changed") {
    const other = row[which === "left" ? "right" : "left"];
    for (const name of row.differs) {
      const parts = wordDiff(fieldText(row.left, name) || "", fieldText(row.right, name) || "");
      const mine = fieldText(side, name);
      step.append(fieldBlock(name, mine === null ? el("p", { class: "small muted", text: "none" }) :
        marked(parts[which], which === "left" ? "del" : "ins", name)));
    }
    if (!row.differs.length && other) step.append(el("p", { class: "summary small", text: side.summary }));
  } else {
    for (const name of ["arguments", "text", "result", "error", "data"]) {
      const value = fieldText(side, name);
      if (value !== null) step.append(fieldBlock(name, plain(value, name)));
    }
  }
  node.append(step);
  return node;
}

function rowNode(row, number) {
  const node = el("div", { class: `diff-row op-${row.op}`, role: "group", tabindex: "-1",
    "aria-label": `row ${number + 1}: ${OPS[row.op]}`, dataset: { op: row.op, row: String(number) } });
  node.append(cell(row, "left"), el("div", { class: "diff-mark", title: OPS[row.op], text: MARK[row.op] }), cell(row, "right"));
  return node;
}

function renderRows(data) {
  const container = document.getElementById("rows");
  const nodes = data.rows.map(rowNode);
  const near = new Set();
  data.rows.forEach((row, i) => {
    if (row.op !== "same") for (let j = Math.max(0, i - CONTEXT); j <= Math.min(data.rows.length - 1, i + CONTEXT); j++) near.add(j);
  });
  nodes.forEach((node, i) => { if (!near.has(i)) node.classList.add("far"); });
  container.replaceChildren(...(nodes.length ? nodes : [el("p", { class: "muted", text: "Neither trace has steps." })]));
  diffRows = nodes.filter((node) => node.dataset.op !== "same");
  if (data.first_difference !== null) {
    const first = nodes[data.first_difference];
    first.classList.add("first-diff");
    first.id = "first-diff";
    first.insertBefore(el("div", { class: "first-diff-label", text: "first difference" }), first.firstChild);
  }
}

function goTo(index) {
  if (!diffRows.length) return;
  current = Math.max(0, Math.min(diffRows.length - 1, index));
  const node = diffRows[current];
  for (const other of document.querySelectorAll(".diff-row.current")) other.classList.remove("current");
  node.classList.add("current");
  node.scrollIntoView({ block: "center" });
  node.focus({ preventScroll: true });
  document.getElementById("announce").textContent = `difference ${current + 1} of ${diffRows.length}: ${OPS[node.dataset.op]}`;
}

// --- header, summary and answers ------------------------------------------------------------------

function traceLabel(info) {
  if (info.twin) return `twin under ${info.twin.intervention}`;
  return info.version === info.latest_version ? info.trace_id : `${info.trace_id} (version ${info.version})`;
}

function sideHead(info, which, other) {
  const head = [el("div", { class: "side-title" }, el("strong", { text: which === "left" ? "left: " : "right: " }),
    info.href ? el("a", { href: info.href, id: which + "-link", text: traceLabel(info) }) : el("span", { text: traceLabel(info) }))];
  const chips = [["outcome", info.outcome], ["case", info.case_type], ["version set", info.version_set], ["steps", String(info.steps)]];
  head.push(el("div", { class: "meta" }, ...chips.filter(([, v]) => v).map(([k, v]) => el("span", { class: "chip" }, el("span", { class: "muted", text: k + " " }), v))));
  const twin = info.twin;
  if (twin) {
    const flipped = twin.flipped === null ? null : twin.flipped ? "symptoms gone" : "symptoms remain";
    head.push(el("p", { class: "small twin-info" }, twin.description ? twin.description + ". " : "",
      `Re-run of ${other.trace_id} with everything else identical`, flipped ? ` · ${flipped}` : "",
      twin.symptoms_before ? ` (before: ${twin.symptoms_before.join(", ") || "none"}; after: ${(twin.symptoms_after || []).join(", ") || "none"})` : "",
      twin.verdict ? ` · verdict on the pattern: ${twin.verdict}` : ""),
    el("p", { class: "small muted", text: "read from " + twin.path }));
  }
  return head;
}

function renderSummary(data) {
  const counts = data.counts;
  const summary = document.getElementById("summary");
  const parts = ["changed", "removed", "added", "same"].map((op) => el("span", { class: `chip op-chip op-${op}`, dataset: { count: op } },
    el("span", { class: "diff-mark-inline", text: MARK[op] || "=" }), ` ${counts[op]} ${OPS[op]}`));
  const verdict = data.identical ? "The traces are the same." :
    data.first_difference === null ? "Every step aligns; only the final answers differ." :
      `They part at row ${data.first_difference + 1}.`;
  const only = el("input", { type: "checkbox", id: "only-diffs" });
  only.addEventListener("change", () => { document.body.classList.toggle("only-diffs", only.checked); });
  summary.replaceChildren(el("p", { id: "verdict", text: verdict }), el("div", { class: "meta" }, ...parts),
    el("div", { class: "diff-tools" },
      el("button", { type: "button", id: "to-first", disabled: data.first_difference === null, text: "first difference", onclick: () => goTo(0) }),
      el("button", { type: "button", id: "prev-diff", text: "← previous", disabled: !diffRows.length, onclick: () => goTo(current - 1) }),
      el("button", { type: "button", id: "next-diff", text: "next →", disabled: !diffRows.length, onclick: () => goTo(current + 1) }),
      el("label", { class: "small" }, only, ` only differences (with ${CONTEXT} rows around them)`)));
}

function renderAnswers(data) {
  const box = document.getElementById("answers");
  const title = el("h2", { id: "answers-title", class: "pane-label", text: data.answer_changed ? "Final answers differ" : "Final answers are the same" });
  const parts = wordDiff(data.left.answer || "", data.right.answer || "");
  const column = (which) => el("div", { class: "diff-cell " + which, id: "answer-" + which },
    (which === "left" ? data.left.answer : data.right.answer) ? marked(parts[which], which === "left" ? "del" : "ins", "answer") :
      el("p", { class: "muted small", text: "no final answer" }));
  box.classList.toggle("changed", data.answer_changed);
  box.replaceChildren(title, el("div", { class: "diff-row" }, column("left"), el("div", { class: "diff-mark", text: data.answer_changed ? "≠" : "" }), column("right")));
}

function onKey(event) {
  if (event.target.closest("input, textarea, select") || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); goTo(current + 1); }
  else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); goTo(current - 1); }
}

function apiPath() {
  const params = new URLSearchParams();
  for (const name of ["left", "right", "twin", "left_version", "right_version"]) if (query.get(name)) params.set(name, query.get(name));
  return "/api/diff?" + params.toString();
}

async function main() {
  const title = document.getElementById("title");
  await redeemSignInLink();
  const signedIn = renderSignIn(document.getElementById("signin"), reloadPage);
  let config, data;
  try {
    [config, data] = await Promise.all([api("/api/config"), api(apiPath())]);
  } catch (error) {
    await signedIn.catch(() => null);
    if (error.status === 401) { title.textContent = "Sign in to compare traces"; showAuthNotice(); document.body.dataset.ready = "auth"; }
    else { title.textContent = "Cannot compare: " + error.message; document.body.dataset.ready = "error"; }
    return;
  }
  setAgentColors(config.agent_colors);
  document.title = `evswarm review · ${data.left.trace_id} ↔ ${traceLabel(data.right)}`;
  title.textContent = `${traceLabel(data.left)} ↔ ${data.right.twin ? `its ${traceLabel(data.right)}` : traceLabel(data.right)}`;
  document.getElementById("left-head").replaceChildren(...sideHead(data.left, "left", data.right));
  document.getElementById("right-head").replaceChildren(...sideHead(data.right, "right", data.left));
  renderRows(data);
  renderSummary(data);
  renderAnswers(data);
  document.addEventListener("keydown", onKey);
  if (data.first_difference !== null) goTo(0);
  else if (data.answer_changed) document.getElementById("answers").scrollIntoView({ block: "center" });
  document.body.dataset.ready = "1";
}

main();
