"""`evswarm versions` (and its old name `evswarm faults`): list version sets, what each changes, the
planted faults and the rogue windows."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from evswarm.cli.app import app, err_console, user_errors

VERSIONS_HELP = (
    "List every version set (built-in, and those of --versions FILE) with what it changes relative to the "
    "set it extends, then the planted faults (each a policy variant of its agent) and the rogue windows.\n\n"
    "A version file (YAML, format evswarm.versions.v1) defines version sets you own, per agent: policy "
    "(standard, or a fault of that agent), instructions (text, or {file: PATH}), model (offline, or "
    "openai:MODEL with an optional base_url) and faults. A set may extend another and override a few agents. "
    "The built-in sets ship in the same format (evswarm/agents/versions.yaml). Exit code 2 names the file, "
    "line and field of any problem."
)


@app.command("versions", help=VERSIONS_HELP)
@user_errors
def versions_command(
    versions: Path = typer.Option(None, "--versions", help="Your version file, listed beside the built-in sets."),
    as_json: bool = typer.Option(False, "--json", help="Print every resolved set as JSON (agents in full)."),
) -> None:
    from evswarm.agents.versions import FAULTS, load_catalog

    catalog = load_catalog(versions)
    if as_json:
        payload = {
            "sources": [s.model_dump() for s in catalog.sources],
            "schedule": catalog.schedule,
            "version_sets": {name: vs.model_dump(mode="json") for name, vs in catalog.sets.items()},
        }
        typer.echo(json.dumps(payload, indent=2, sort_keys=True))
        return
    sets = Table(title="Version sets")
    for column in ("version set", "extends", "from", "changes", "description"):
        sets.add_column(column, no_wrap=column in ("version set", "extends"))
    for name, vs in catalog.sets.items():
        changes = catalog.changes(name)
        sets.add_row(
            name,
            vs.extends or "",
            vs.source,
            "\n".join(changes) or "nothing (every agent standard)",
            vs.description,
        )
    faults = Table(title="Faults (a fault is a policy variant of its agent: `policy: <fault>`)")
    for column in ("fault", "responsible agent", "trigger", "what goes wrong"):
        faults.add_column(column, no_wrap=column in ("fault", "responsible agent"))
    for fault in FAULTS.values():
        faults.add_row(fault.fault_id, fault.agent_name, fault.trigger, fault.description)
    windows = Table(title="Rogue windows")
    for column in ("window", "fault", "from", "to", "version sets"):
        windows.add_column(column, no_wrap=column != "version sets")
    seen: dict[str, list[str]] = {}
    for name, vs in catalog.sets.items():
        for window in vs.rogue_windows:
            seen.setdefault(window.id, []).append(name)
    for window_id, names in seen.items():
        window = next(w for w in catalog.sets[names[0]].rogue_windows if w.id == window_id)
        windows.add_row(window.id, window.fault, str(window.start), str(window.end), ", ".join(names))
    console = Console()
    for table in (sets, faults, windows):
        console.print(table)
    if catalog.schedule:
        mix = ", ".join(f"{name} {share:.0%}" for name, share in catalog.schedule.items())
        console.print(f"Default batch mix (schedule): {mix}", highlight=False)


@app.command("faults", help="Old name of `evswarm versions` (same output).")
@user_errors
def faults_command(
    versions: Path = typer.Option(None, "--versions", help="Your version file, listed beside the built-in sets."),
) -> None:
    err_console.print("`evswarm faults` is now `evswarm versions`; showing its output.", highlight=False)
    versions_command(versions=versions, as_json=False)
