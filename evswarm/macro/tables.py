"""Write the machine-readable tables next to the report, as CSV and JSON (records)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evswarm.core.io import atomic_write_bytes, atomic_write_json

TABLES = ("patterns", "trace_patterns", "lift", "version_compare", "suspects")


def _cell(v: object) -> object:
    if isinstance(v, list | tuple):
        return "; ".join(map(str, v))
    return v


def write_table(out_dir: Path, name: str, df: pd.DataFrame) -> list[Path]:
    csv = df.map(_cell) if not df.empty else df
    paths = [out_dir / f"{name}.csv", out_dir / f"{name}.json"]
    atomic_write_bytes(paths[0], csv.to_csv(index=False).encode("utf-8"))
    records = df.astype(object).where(df.notna(), None).to_dict("records") if not df.empty else []
    atomic_write_json(paths[1], records)
    return paths
