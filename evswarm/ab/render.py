"""Writing an A/B verdict: `ab.json` (the schema in `evswarm.core.ab`), `ab.md` (a short summary for a
pull-request comment: verdict first, then regressions and improvements with the runs that show them) and
`junit.xml` (one test case per gating check, a failure per regression, for CI systems to display)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from evswarm.core.ab import ABReport, Check, write_ab_report
from evswarm.core.io import atomic_write_bytes

MARKS = {"regressed": "❌ regressed", "tolerated": "⚠️ within tolerance", "improved": "✅ improved", "tied": "✅ tied"}
BEHAVIOR_ROWS = 10
REVIEW_URL = "http://127.0.0.1:8765/traces/"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _diff(check: Check) -> str:
    return f"{100 * check.difference:+.1f} pts ({100 * check.ci_low:+.1f} to {100 * check.ci_high:+.1f})"


def _p(check: Check) -> str:
    value = check.p_adjusted if check.p_adjusted is not None else check.p_value
    return f"{value:.2g}" if value >= 0.0001 else "<0.0001"


def _what(check: Check) -> str:
    kind = {"overall": "overall", "rubric": "rubric", "pattern": "pattern", "behavior": "behavior"}[check.kind]
    presence = f" ({check.presence})" if check.presence else ""
    return f"{kind}: {check.label}{presence}"


def _runs(check: Check) -> str:
    where = "" if check.examples_in == "both" else f"{check.examples_in}: "
    return where + ", ".join(f"`{run_id}`" for run_id in check.examples[:3]) if check.examples else ""


def _table(checks: list[Check]) -> list[str]:
    lines = [
        "| check | base | candidate | difference (95% CI) | p (adjusted) | runs that show it |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {_what(c)} | {_pct(c.base_rate)} | {_pct(c.candidate_rate)} | {_diff(c)} | {_p(c)} | {_runs(c)} |"
        for c in checks
    ]
    return lines


def _by_size(checks: list[Check]) -> list[Check]:
    return sorted(checks, key=lambda c: (-abs(c.difference), c.kind, c.name))


def markdown(report: ABReport) -> str:
    """The pull-request summary: verdict first."""
    v, base, cand = report.verdict, report.base, report.candidate
    names = [", ".join(arm.version_sets) or arm.role for arm in (base, cand)]
    lines = [f"## evswarm A/B: {names[1]} vs {names[0]} — {MARKS[v.outcome]}", "", v.headline, ""]
    lines += [
        "| | base | candidate |",
        "|---|---|---|",
        f"| version set | {names[0]} | {names[1]} |",
        f"| runs (graded) | {base.runs} ({base.graded}) | {cand.runs} ({cand.graded}) |",
        f"| batch | `{base.batch_dir}` | `{cand.batch_dir}` |",
        "",
        f"**Compared:** {report.pairing}.",
        "",
        "**What the candidate changes:** " + "; ".join(report.changes),
        "",
    ]
    gating = [c for c in report.checks if c.gates]
    sections = [
        ("Regressions (fail the gate)", [c for c in gating if c.fails_gate]),
        ("Regressions within tolerance", [c for c in gating if c.status == "regressed" and not c.fails_gate]),
        ("Improvements", [c for c in gating if c.status == "improved"]),
    ]
    for title, rows in sections:
        if rows:
            lines += [f"### {title}", "", *_table(_by_size(rows)), ""]
    behaviors = _by_size([c for c in report.checks if c.kind == "behavior" and c.status == "changed"])
    if behaviors:
        shown = behaviors[:BEHAVIOR_ROWS]
        more = f" ({len(behaviors) - len(shown)} more in ab.json)" if len(behaviors) > len(shown) else ""
        lines += [
            "### Behavior that changed (not gated: no rubric judges it)",
            "",
            f"Steps whose share of runs differs significantly between the arms{more}.",
            "",
            *_table(shown),
            "",
        ]
    tied = [c for c in gating if c.status == "no clear change"]
    if tied:
        kinds = {k: sum(1 for c in tied if c.kind == k) for k in ("overall", "rubric", "pattern")}
        parts = [f"{n} {k if k == 'overall' else k + 's'}" for k, n in kinds.items() if n]
        lines += [
            f"**No clear change** on {', '.join(parts)} "
            f"(differences under {100 * v.smallest_significant_difference:.1f} points cannot show with these runs; "
            f"{100 * v.detectable_difference:.1f} points would be caught 80% of the time).",
            "",
        ]
    examples = [c for c in report.checks if c.examples]
    if examples:
        first = examples[0]
        arm = cand if first.examples_in in ("both", "candidate") else base
        lines += [
            "**Open the traces:** "
            f"`evswarm serve {arm.batch_dir}` then {REVIEW_URL}{first.examples[0]}"
            + (
                f" (the same run in the other arm: `evswarm serve {base.batch_dir}`)" if report.mode == "paired" else ""
            ),
            "",
        ]
    if report.notes:
        lines += ["<details><summary>Notes</summary>", "", *[f"- {note}" for note in report.notes], "", "</details>"]
    return "\n".join(lines).rstrip() + "\n"


def junit(report: ABReport) -> bytes:
    """JUnit XML: a test case per gating check; a failure for each regression beyond the tolerance."""
    gating = [c for c in report.checks if c.gates]
    names = [", ".join(arm.version_sets) or arm.role for arm in (report.base, report.candidate)]
    failures = sum(1 for c in gating if c.fails_gate)
    suites = ET.Element("testsuites", name="evswarm ab", tests=str(len(gating)), failures=str(failures), errors="0")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"evswarm ab: {names[1]} vs {names[0]}",
        tests=str(len(gating)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("verdict", report.verdict.outcome),
        ("mode", report.mode),
        ("base", names[0]),
        ("candidate", names[1]),
        ("pairs", str(report.pairs)),
        ("alpha", f"{report.alpha:g}"),
        ("max_regression", f"{report.max_regression:g}"),
    ):
        ET.SubElement(properties, "property", name=key, value=value)
    for check in gating:
        case = ET.SubElement(suite, "testcase", classname=f"evswarm.ab.{check.kind}", name=check.name, time="0")
        summary = f"{_pct(check.base_rate)} -> {_pct(check.candidate_rate)}, {_diff(check)}, p (adjusted) {_p(check)}"
        if check.fails_gate:
            failure = ET.SubElement(case, "failure", type="regression", message=f"regressed: {summary}")
            failure.text = f"{_what(check)}\nruns that show it: {', '.join(check.examples)}"
        else:
            ET.SubElement(case, "system-out").text = f"{check.status}: {summary}"
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def write_outputs(out: Path, report: ABReport) -> dict[str, Path]:
    """Write ab.json, ab.md and junit.xml into `out` (atomically, each)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "ab.json", "markdown": out / "ab.md", "junit": out / "junit.xml"}
    write_ab_report(paths["json"], report)
    atomic_write_bytes(paths["markdown"], markdown(report).encode("utf-8"))
    atomic_write_bytes(paths["junit"], junit(report))
    return paths
