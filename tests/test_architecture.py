"""The layering rules of ARCHITECTURE.md section 9 (as `[tool.importlinter]` contracts in pyproject.toml),
and no import cycle between any two evswarm modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def test_import_contracts_hold() -> None:
    done = subprocess.run(
        [LINT_IMPORTS, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout and "6 kept" in done.stdout


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("evswarm", exclude_type_checking_imports=True)
    edges = nx.DiGraph(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith("evswarm")
    )
    cycles = [sorted(c) for c in nx.strongly_connected_components(edges) if len(c) > 1]
    assert cycles == []


def test_a_forbidden_import_breaks_a_contract(tmp_path: Path) -> None:
    """The contract check can fail: a copy of the package where macro imports the simulator breaks it."""
    import shutil

    copy = tmp_path / "evswarm"
    shutil.copytree(ROOT / "evswarm", copy, ignore=shutil.ignore_patterns("__pycache__", "static"))
    victim = copy / "macro" / "rank.py"
    victim.write_text(victim.read_text() + "\nfrom evswarm.simulator import batch  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    done = subprocess.run(
        [LINT_IMPORTS, "--config", str(tmp_path / "pyproject.toml")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={"PYTHONPATH": str(tmp_path), "PATH": ""},
    )  # fmt: skip
    assert done.returncode != 0 and "BROKEN" in done.stdout
