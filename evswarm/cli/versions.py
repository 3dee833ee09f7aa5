"""`evswarm versions` (and its old name `evswarm faults`): list version sets, what each changes, the
planted faults and the rogue windows."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evswarm.cli.app import Command, app, user_errors, warn

if TYPE_CHECKING:
    from evswarm.core.version_catalog import VersionCatalog

VERSIONS_HELP = (
    "List every version set (built-in, and those of --versions FILE) with what it changes relative to the "
    "set it extends, then the planted faults (each a policy variant of its agent) and the rogue windows.\n\n"
    "A version file (YAML, format evswarm.versions.v1) defines version sets you own, per agent: policy "
    "(standard, or a fault of that agent), instructions (text, or {file: PATH}), model (offline, or "
    "openai:MODEL with an optional base_url) and faults. A set may extend another and override a few agents. "
    "The built-in sets ship in the same format (evswarm/agents/versions.yaml). Exit code 2 names the file, "
    "line and field of any problem."
)
VERSIONS_OPTION = typer.Option(
    None, "--versions", metavar="FILE", show_default=False, help="Your version file, listed beside the built-in sets."
)


def versions_text(width: int, catalog: VersionCatalog | None = None) -> str:
    """Every version set, fault and rogue window as indented paragraphs wrapped at `width` columns."""
    from evswarm.agents.versions import FAULTS, builtin_catalog

    catalog = catalog or builtin_catalog()

    def entry(title: str, lines: list[str]) -> list[str]:
        body = [textwrap.fill(line, width, initial_indent="    ", subsequent_indent="      ") for line in lines]
        return [f"  {title}", *body]

    out = ["Version sets (what each changes relative to the set it extends):"]
    for name, vs in catalog.sets.items():
        parent = f"extends {vs.extends}; " if vs.extends else ""
        changes = "; ".join(catalog.changes(name)) or "nothing (every agent standard)"
        mode = f"; {vs.orchestrator_mode} orchestrator" if vs.orchestrator_mode != "canonical" else ""
        out += entry(name, [vs.description, f"{parent}changes: {changes}{mode}; from {vs.source}"])
    out += ["", "Faults (a fault is a policy variant of its agent: `policy: <fault>`):"]
    for fault in FAULTS.values():
        out += entry(
            f"{fault.fault_id} ({fault.agent_name})",
            [f"what goes wrong: {fault.description}", f"trigger: {fault.trigger}"],
        )
    windows: dict[str, list[str]] = {}
    for name, vs in catalog.sets.items():
        for window in vs.rogue_windows:
            windows.setdefault(window.id, []).append(name)
    out += ["", "Rogue windows (a fault switched on for a span of order dates):"]
    for window_id, names in windows.items():
        w = next(w for w in catalog.sets[names[0]].rogue_windows if w.id == window_id)
        out += entry(window_id, [f"{w.fault} from {w.start} to {w.end} in {', '.join(names)}"])
    if catalog.schedule:
        mix = ", ".join(f"{name} {share:.0%}" for name, share in catalog.schedule.items())
        out += ["", textwrap.fill(f"Default batch mix (schedule): {mix}", width, subsequent_indent="  ")]
    return "\n".join(out) + "\n"


@app.command(
    "versions",
    cls=Command,
    short_help="List version sets, what each changes, planted faults and rogue windows.",
    help=VERSIONS_HELP,
    epilog="Example: evswarm versions --versions examples/versions/my-versions.yaml",
)
@user_errors
def versions_command(
    versions: Path | None = VERSIONS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print every resolved set as JSON (agents in full)."),
) -> None:
    from evswarm.agents.versions import load_catalog

    catalog = load_catalog(versions)
    if as_json:
        payload = {
            "sources": [s.model_dump() for s in catalog.sources],
            "schedule": catalog.schedule,
            "version_sets": {name: vs.model_dump(mode="json") for name, vs in catalog.sets.items()},
        }
        typer.echo(json.dumps(payload, indent=2, sort_keys=True))
        return
    width = max(60, shutil.get_terminal_size((100, 24)).columns - 1)
    typer.echo(versions_text(width, catalog), nl=False)


@app.command("faults", cls=Command, short_help="Old name of `evswarm versions` (same output).")
@user_errors
def faults_command(versions: Path | None = VERSIONS_OPTION) -> None:
    """Old name of `evswarm versions`: the same listing."""
    warn("`evswarm faults` is now `evswarm versions`; showing its output")
    versions_command(versions=versions, as_json=False)
