"""Rebuild the shipped batch in data/: 1000 runs (seed 42, the default mixed version sets with faults),
their promptfoo grades, and the embedding and UMAP caches of their documents, packed into <= 30 MB.

    python scripts/build_data.py [--work .cache/data-build] [--runs 1000] [--seed 42]

Every step is resumable and deterministic: the same seed gives the same bundles byte for byte
(tests/test_shipped_data.py regenerates the first 20 runs and compares them with the archive).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
LIMIT_BYTES = 30 * 1024 * 1024
COPIED = ("batch.json", "versions.json", "results.jsonl", "run_summary.json", "eval_labels.jsonl")
FIXED_TIME = (2025, 1, 1, 0, 0, 0)


def run(*command: str) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def pack_bundles(bundles_dir: Path, archive: Path) -> None:
    """A zip with members in name order and fixed timestamps, so the same bundles give the same archive."""
    tmp = archive.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for path in sorted(bundles_dir.glob("run_*.json")):
            info = zipfile.ZipInfo(path.name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(archive)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "data-build")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    work, cache = args.work, args.work / "cache"
    evswarm = [sys.executable, "-m", "evswarm"]
    run(*evswarm, "simulate", "--runs", str(args.runs), "--seed", str(args.seed), "--out", str(work), "--quiet")
    run(*evswarm, "grade", str(work), "--no-progress")
    shutil.rmtree(cache, ignore_errors=True)
    for _ in range(2):  # the second, warm pass caches UMAP for the embeddings exactly as they load from the cache
        run(
            sys.executable,
            "-c",
            "from pathlib import Path; from evswarm.macro import analyze; "
            "from evswarm.macro.config import AnalyzeConfig; "
            f"analyze(Path({str(work)!r}), Path({str(work / 'analysis')!r}), 'minilm', "
            f"config=AnalyzeConfig(cache_root=Path({str(cache)!r}), progress=False))",
        )
    DATA.mkdir(exist_ok=True)
    for name in COPIED:
        shutil.copyfile(work / name, DATA / name)
    pack_bundles(work / "bundles", DATA / "bundles.zip")
    shutil.rmtree(DATA / "cache", ignore_errors=True)
    (DATA / "cache" / "reduce").mkdir(parents=True)
    shutil.copyfile(cache / "embeddings.sqlite", DATA / "cache" / "embeddings.sqlite")
    for npy in sorted((cache / "reduce").glob("*.npy")):
        shutil.copyfile(npy, DATA / "cache" / "reduce" / npy.name)
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    print(f"data/ holds {total / 1e6:.1f} MB")
    if total > LIMIT_BYTES:
        sys.exit(f"data/ is {total / 1e6:.1f} MB, over the 30 MB budget")


if __name__ == "__main__":
    main()
