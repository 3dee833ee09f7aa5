"""The report's "Verified causes" section: what `verify` found, written into the analysis's report.html
between the markers the report leaves for it (see `evswarm.core.analysis.REPORT_VERIFIED_START`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evswarm.core.causes import REPORT_VERIFIED_END, REPORT_VERIFIED_START, CauseRow, RunCauseRow
from evswarm.core.io import atomic_write_bytes
from evswarm.macro.report.verified import render_verified


def clear_section(report: Path) -> bool:
    """Say in `report`'s verified-causes section that no verdicts stand (a verify is under way or stopped
    before it finished); False when there is no such section."""
    return _replace(
        report,
        "<h2 id='verified'>Verified causes</h2><p>Not verified yet: <code>evswarm verify</code> started re-running "
        "this analysis's runs and has not finished. Run it again to fill this section.</p>",
    )


def write_section(
    report: Path, causes: list[CauseRow], notes: list[str], run_causes: Sequence[RunCauseRow] = ()
) -> bool:
    """Replace the verified-causes section of `report` (atomically). False when the report is missing or
    was written by an evswarm without the section's markers (it is then left as it is)."""
    return _replace(report, render_verified(causes, notes, run_causes))


def _replace(report: Path, body: str) -> bool:
    if not report.is_file():
        return False
    text = report.read_text(encoding="utf-8")
    start, end = text.find(REPORT_VERIFIED_START), text.find(REPORT_VERIFIED_END)
    if start < 0 or end < start:
        return False
    text = text[: start + len(REPORT_VERIFIED_START)] + "\n" + body + "\n" + text[end:]
    atomic_write_bytes(report, text.encode("utf-8"))
    return True
