// Agreement and calibration tables.
"use strict";

function num(value) { return value === null || value === undefined ? "n/a" : Number(value).toFixed(3); }

async function main() {
  await renderSignIn(document.getElementById("signin"), reloadPage);
  let data;
  try {
    data = await api("/api/agreement");
  } catch (error) {
    if (error.status !== 401) throw error;
    showAuthNotice();
    document.body.dataset.auth = "needed";
    return;
  }
  document.querySelector("#agreement tbody").replaceChildren(...data.agreement.map((row) => el("tr", { dataset: { scheme: row.scheme } },
    el("td", { text: row.scheme }), el("td", { class: "num", text: row.labels }), el("td", { class: "num", text: row.annotators }),
    el("td", { class: "num", text: row.items_multi }),
    el("td", { class: "num", text: num(row.cohen_kappa_mean), title: row.cohen_pairs.map((p) => `${p.annotators.join(" & ")}: ${num(p.kappa)} on ${p.items}`).join("\n") }),
    el("td", { class: "num", text: num(row.fleiss_kappa) }), el("td", { class: "num", text: num(row.krippendorff_alpha) }))));
  document.querySelector("#calibration tbody").replaceChildren(...data.calibration.map((row) => el("tr", { dataset: { rubric: row.rubric } },
    el("td", { text: row.rubric }), el("td", { class: "num", text: row.traces }), el("td", { class: "num", text: num(row.agreement) }),
    el("td", { class: "num", text: num(row.kappa) }), el("td", { class: "num", text: row.human_pass_promptfoo_pass }),
    el("td", { class: "num", text: row.human_pass_promptfoo_fail }), el("td", { class: "num", text: row.human_fail_promptfoo_pass }),
    el("td", { class: "num", text: row.human_fail_promptfoo_fail }), el("td", { class: "num", text: row.ties }))));
  const status = document.getElementById("export-status");
  document.getElementById("export-jsonl").addEventListener("click", () => downloadExport("jsonl", status));
  document.getElementById("export-csv").addEventListener("click", () => downloadExport("csv", status));
  document.body.dataset.ready = "1";
}

main();
