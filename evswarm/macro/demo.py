"""`evswarm demo`: analyze the shipped batch offline and summarize what it found, in under half a minute.

The shipped batch (`data/`) holds 1000 saved runs (bundles in a zip), their grades, and the embedding and
UMAP caches for their documents, so the demo needs no model download, no API key and no JIT warm-up.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evswarm.core.analysis import read_optional_table, read_table
from evswarm.core.causes import CauseRow, RunCauseRow
from evswarm.core.errors import EvswarmError
from evswarm.macro.config import AnalyzeConfig
from evswarm.macro.pipeline import analyze
from evswarm.macro.report.verified import verified_lines

SHIPPED_FILES = ("batch.json", "results.jsonl", "run_summary.json", "eval_labels.jsonl", "bundles.zip")
REGENERATE = "regenerate it with `make data` (about 10 minutes), or restore it with `git checkout -- data`"


def default_data_dir() -> Path:
    """`$EVSWARM_DATA_DIR`, else the repository's `data/` beside the package."""
    env = os.environ.get("EVSWARM_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def check_shipped_batch(data_dir: Path) -> None:
    """Fail with a clear message if the shipped batch is missing, incomplete or its archive is corrupt."""
    if not data_dir.is_dir():
        raise EvswarmError(f"the shipped batch is missing: {data_dir} does not exist", hint=REGENERATE)
    missing = [name for name in SHIPPED_FILES if not (data_dir / name).exists()]
    if missing:
        raise EvswarmError(
            f"the shipped batch in {data_dir} is incomplete: missing {', '.join(missing)}", hint=REGENERATE
        )
    archive = data_dir / "bundles.zip"
    try:
        with zipfile.ZipFile(archive) as bundles:
            broken = bundles.testzip()
    except zipfile.BadZipFile as exc:
        raise EvswarmError(f"{archive} is not a readable zip archive ({exc})", hint=REGENERATE) from exc
    if broken is not None:
        raise EvswarmError(f"{archive} is corrupt: member {broken} fails its checksum", hint=REGENERATE)


def _seed_cache(data_dir: Path, cache: Path) -> None:
    """Copy the shipped embedding and UMAP caches into the demo's own cache directory."""
    shipped = data_dir / "cache"
    if not shipped.is_dir():
        return
    for source in shipped.rglob("*"):
        if source.is_file():
            target = cache / source.relative_to(shipped)
            if not target.exists() or target.stat().st_size != source.stat().st_size:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


@dataclass
class DemoSummary:
    report_path: Path
    lines: list[str]
    seconds: float


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def summarize(patterns: pd.DataFrame, version_compare: pd.DataFrame, analyzed: int, total: int) -> list[str]:
    """A short text summary: the top five patterns with impact and suspect, and the version headline."""
    lines = [f"{analyzed} of {total} runs failed at least one check and were clustered into patterns."]
    top = patterns[patterns.pattern_id > 0].sort_values("impact", ascending=False).head(5)
    for rank, row in enumerate(top.itertuples(), start=1):
        suspect = f"; top suspect: {row.top_suspect}" if isinstance(row.top_suspect, str) and row.top_suspect else ""
        lines.append(
            f"{rank}. {row.label}: impact {row.impact:.3f}, {row.trace_count} runs "
            f"({_percent(row.prevalence)}){suspect}"
        )
    significant = version_compare[version_compare.q_value < 0.05] if "q_value" in version_compare else version_compare
    if not significant.empty:
        row = significant.loc[significant.difference.abs().idxmax()]
        lines.append(
            f"Versions: '{row.pattern}' goes from {_percent(row.baseline_prevalence)} in {row.baseline} to "
            f"{_percent(row.prevalence)} in {row.version_set} (difference {100 * row.difference:+.1f} points, "
            f"95% CI {100 * row.diff_ci_low:+.1f} to {100 * row.diff_ci_high:+.1f}; {row.change})."
        )
    else:
        lines.append("Versions: no pattern's prevalence differs significantly between version sets.")
    return lines


def run_demo(out: Path, data_dir: Path | None = None, *, progress: bool = True) -> DemoSummary:
    data = data_dir or default_data_dir()
    check_shipped_batch(data)
    cache = out / ".cache"
    _seed_cache(data, cache)
    config = AnalyzeConfig(embedder="minilm", cache_root=cache, progress=progress)
    result = analyze(data, out, "minilm", config=config)
    lines = summarize(result.patterns, result.version_compare, len(result.assignments), len(result.traces))
    if result.extra.get("verified_kept"):
        per_run = read_optional_table(out, RunCauseRow)
        lines += verified_lines(read_table(out, CauseRow), per_run) or [
            "Verified: no tested suspect removed its pattern."
        ]
    return DemoSummary(result.report_path, lines, sum(result.timings.values()))
