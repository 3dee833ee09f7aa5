// The trace page's ways into the diff page: the run's counterfactual twins (`evswarm verify`), each linked
// to its side-by-side view, and "compare with…" another trace or another version of this one.
"use strict";

function diffHref(params) { return "/diff?" + new URLSearchParams(params).toString(); }

function renderTwins(view) {
  const box = document.getElementById("twins");
  box.replaceChildren();
  if (!view.twins || !view.twins.length) return;
  box.append(el("h3", { text: "Counterfactual twins" }),
    el("p", { class: "small muted", text: "This run re-executed with one thing changed and everything else identical." }),
    el("ul", { class: "twins small" }, ...view.twins.map((twin) => {
      const outcome = twin.identical ? "identical" : twin.flipped ? "symptoms gone" : "symptoms remain";
      return el("li", { dataset: { intervention: twin.intervention } },
        el("a", { class: "twin-link", href: twin.diff_url, text: twin.label || twin.intervention }), " ",
        el("span", { class: "badge " + (twin.flipped ? "pass" : twin.identical ? "" : "fail"), text: outcome }),
        twin.description ? el("div", { text: twin.description }) : null,
        el("div", { class: "muted", text: `symptoms: ${twin.symptoms_before.join(", ") || "none"} → ${twin.symptoms_after.join(", ") || "none"}` +
          (twin.verdict ? ` · pattern verdict: ${twin.verdict}` : "") }));
    })));
}

function renderCompare(view) {
  const box = document.getElementById("compare");
  const here = { left: view.trace_id };
  if (view.version !== view.latest_version) here.left_version = String(view.version);
  const input = el("input", { type: "text", id: "compare-input", placeholder: "another trace id", "aria-label": "trace id to compare with",
    maxlength: "128", autocomplete: "off" });
  const form = el("form", { class: "compare-form", id: "compare-form" }, input, el("button", { type: "submit", text: "compare" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const other = input.value.trim();
    if (other) location.href = diffHref(Object.assign({}, here, { right: other }));
  });
  box.replaceChildren(el("h3", { text: "Compare with…" }), form);
  if (view.versions.length > 1 && view.version > 1) {
    box.append(el("a", { class: "small", id: "compare-previous", text: `version ${view.version - 1} → ${view.version}`,
      href: diffHref({ left: view.trace_id, right: view.trace_id, left_version: view.version - 1, right_version: view.version }) }));
  }
}
