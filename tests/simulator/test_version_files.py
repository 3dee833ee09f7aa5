"""Version files as a user writes them: they round-trip, extend built-in sets, and every bad input is refused
with the file, line and field named (exit code 2 from the CLI, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evswarm.agents.versions import BUILTIN_FILE, builtin_catalog, load_catalog
from evswarm.cli import app
from evswarm.core.errors import EvswarmError
from evswarm.core.version_catalog import parse_version_file
from evswarm.core.versions import BatchVersions, VersionFile
from evswarm.core.yaml_lines import parse_yaml, read_yaml

GOOD = """\
format: evswarm.versions.v1
version_sets:
  pricing-v2:
    extends: v1.0
    description: the pricing agent's new instructions, on a real model
    agents:
      PricingAgent:
        instructions: {file: prompts/pricing.txt}
        model: openai:gpt-4.1-mini
        base_url: http://127.0.0.1:9/v1
  pricing-v2-workshop:
    extends: pricing-v2
    agents:
      IncentivePolicyAgent:
        faults: [stale_incentive]
      PricingAgent:
        policy: tariff_omitted
  inline:
    extends: v1.1
    agents:
      Orchestrator:
        instructions: "You orchestrate one order. Be brief."
      IncentivePolicyAgent:
        policy: standard
"""


def write(tmp_path: Path, text: str, name: str = "versions.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "pricing.txt").write_text("Price the order. Quote every tariff in force.", encoding="utf-8")
    return write(tmp_path, GOOD)


def test_a_version_file_round_trips_through_its_model_and_yaml(user_file: Path) -> None:
    parsed = parse_version_file(read_yaml(user_file, what="version file"))
    dumped = yaml.safe_dump(parsed.model_dump(mode="json", exclude_none=True, exclude_defaults=True), sort_keys=False)
    again = parse_version_file(parse_yaml(dumped, user_file, what="version file"))
    assert again == parsed
    assert VersionFile.model_validate(parsed.model_dump(mode="json")) == parsed


def test_user_sets_stand_beside_the_built_in_ones_and_override_only_what_they_name(user_file: Path) -> None:
    catalog = load_catalog(user_file)
    base, v2, workshop = catalog.sets["v1.0"], catalog.sets["pricing-v2"], catalog.sets["pricing-v2-workshop"]
    assert set(builtin_catalog().sets) < set(catalog.sets)
    assert v2.changed_agents(base) == ["PricingAgent"]
    pricing = v2.agents["PricingAgent"]
    assert pricing.instructions == "Price the order. Quote every tariff in force."
    assert pricing.instructions_source == "prompts/pricing.txt"
    assert (pricing.model, pricing.base_url) == ("openai:gpt-4.1-mini", "http://127.0.0.1:9/v1")
    # extends: the workshop set keeps pricing-v2's instructions and model, and adds two faults
    assert workshop.agents["PricingAgent"].instructions == pricing.instructions
    assert workshop.agents["PricingAgent"].model == "openai:gpt-4.1-mini"
    assert workshop.faults == ["stale_incentive", "tariff_omitted"]
    assert sorted(workshop.changed_agents(v2)) == ["IncentivePolicyAgent", "PricingAgent"]
    # a child can switch its parent's fault back off
    assert catalog.sets["inline"].faults == [] and catalog.sets["v1.1"].faults == ["stale_incentive"]
    changes = catalog.changes("pricing-v2")
    assert changes == [
        "PricingAgent: instructions changed (from prompts/pricing.txt, 45 characters)",
        "PricingAgent: model the batch's --model → openai:gpt-4.1-mini at http://127.0.0.1:9/v1",
    ]
    assert catalog.changes("pricing-v2-workshop") == [
        "PricingAgent: policy standard → tariff_omitted",
        "IncentivePolicyAgent: fault(s) switched on: stale_incentive",
    ]


def test_every_agent_version_is_a_content_hash(user_file: Path) -> None:
    catalog = load_catalog(user_file)
    again = load_catalog(user_file)
    assert catalog.sets["pricing-v2"].agent_versions == again.sets["pricing-v2"].agent_versions
    assert catalog.sets["v1.0"].agent_versions == builtin_catalog().sets["v1.0"].agent_versions
    offline = catalog.sets["v1.0"].with_default_model("offline", None)
    live = catalog.sets["v1.0"].with_default_model("openai:m", None)
    assert offline.agent_versions != live.agent_versions, "the model an agent ran on is part of its version"
    shadow = builtin_catalog().sets["v1.0-shadow"]
    assert shadow.changed_agents(builtin_catalog().sets["v1.0"]) == ["Orchestrator", "ShadowOrchestrator"]
    batch = BatchVersions(
        sources=catalog.sources, version_sets={"pricing-v2": catalog.sets["pricing-v2"]}, schedule=None
    )
    assert BatchVersions.model_validate_json(batch.model_dump_json()) == batch


def test_a_copy_of_the_shipped_file_loads_as_a_user_file(tmp_path: Path) -> None:
    copy = write(tmp_path, BUILTIN_FILE.read_text(encoding="utf-8"))
    assert load_catalog(copy).sets.keys() == builtin_catalog().sets.keys()


BAD: list[tuple[str, str, str, int]] = [
    (
        "unknown agent",
        "version_sets:\n  x:\n    agents:\n      PricingAgnet: {policy: standard}\n",
        "`version_sets.x.agents.PricingAgnet`: unknown agent 'PricingAgnet'",
        5,
    ),
    (
        "unknown policy",
        "version_sets:\n  x:\n    agents:\n      PricingAgent:\n        policy: cheaper\n",
        "`version_sets.x.agents.PricingAgent.policy`: unknown policy 'cheaper'; PricingAgent's policies are "
        "standard, tariff_omitted",
        6,
    ),
    (
        "another agent's fault",
        "version_sets:\n  x:\n    agents:\n      PricingAgent:\n        faults: [stale_incentive]\n",
        "`version_sets.x.agents.PricingAgent.faults.0`: 'stale_incentive' is a fault of IncentivePolicyAgent, "
        "not PricingAgent",
        6,
    ),
    (
        "cycle in extends",
        "version_sets:\n  a:\n    extends: b\n  b:\n    extends: c\n  c:\n    extends: a\n",
        "`version_sets.c.extends`: a cycle in `extends`: a → b → c → a",
        8,
    ),
    (
        "extends itself",
        "version_sets:\n  a:\n    extends: a\n",
        "`version_sets.a.extends`: a cycle in `extends`: a → a",
        4,
    ),
    (
        "unknown parent",
        "version_sets:\n  a:\n    extends: v1.9\n",
        "`version_sets.a.extends`: extends unknown version set 'v1.9'",
        4,
    ),
    (
        "missing instructions file",
        "version_sets:\n  a:\n    agents:\n      PricingAgent:\n        instructions: {file: nowhere.txt}\n",
        "`version_sets.a.agents.PricingAgent.instructions.file`: instructions file nowhere.txt does not exist",
        6,
    ),
    (
        "bad model",
        "version_sets:\n  a:\n    agents:\n      PricingAgent: {model: gpt-4}\n",
        "`version_sets.a.agents.PricingAgent.model`: unknown model 'gpt-4'",
        5,
    ),
    (
        "base_url without a live model",
        "version_sets:\n  a:\n    agents:\n      PricingAgent: {base_url: 'http://127.0.0.1:8000/v1'}\n",
        "`version_sets.a.agents.PricingAgent.base_url`: base_url only applies with model: openai:MODEL",
        5,
    ),
    (
        "unknown field",
        "version_sets:\n  a:\n    agents:\n      PricingAgent: {temperature: 0}\n",
        "`version_sets.a.agents.PricingAgent.temperature`: Extra inputs are not permitted",
        5,
    ),
    (
        "built-in redefined",
        "version_sets:\n  v1.0:\n    description: mine\n",
        "`version_sets.v1.0`: 'v1.0' is a built-in version set with another definition",
        3,
    ),
    (
        "window of an unknown fault",
        "version_sets:\n  a:\n    rogue_windows:\n      - {id: w, fault: nope, start: 2025-01-01, end: 2025-02-01}\n",
        "`version_sets.a.rogue_windows.0.fault`: unknown fault 'nope'",
        5,
    ),
    (
        "window backwards",
        "version_sets:\n  a:\n    rogue_windows:\n"
        "      - {id: w, fault: tariff_omitted, start: 2025-03-01, end: 2025-02-01}\n",
        "`version_sets.a.rogue_windows.0`: the window ends (2025-02-01) before it starts (2025-03-01)",
        5,
    ),
    (
        "schedule names an unknown set",
        "version_sets:\n  a: {extends: v1.0}\nschedule:\n  a: 1\n  b: 1\n",
        "`schedule.b`: the schedule names unknown version set 'b'",
        6,
    ),
    ("duplicate key", "version_sets:\n  a: {}\n  a: {}\n", "`version_sets.a` appears twice in the same mapping", 4),
    ("not YAML", "version_sets:\n  a: [unclosed\n", "not valid YAML", 4),
]


@pytest.mark.parametrize(("case", "body", "message", "line"), BAD, ids=[case for case, *_ in BAD])
def test_bad_version_files_name_the_file_line_and_field(
    tmp_path: Path, case: str, body: str, message: str, line: int
) -> None:
    path = write(tmp_path, "format: evswarm.versions.v1\n" + body)
    with pytest.raises(EvswarmError) as caught:
        load_catalog(path)
    text = str(caught.value)
    assert message in text, text
    if case != "not YAML":
        assert text.startswith(f"{path}:{line}: "), text


def test_a_file_without_format_or_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EvswarmError, match=r"missing `format: evswarm\.versions\.v1`"):
        load_catalog(write(tmp_path, "version_sets: {}\n"))
    with pytest.raises(EvswarmError, match="is a mapping with `format`"):
        load_catalog(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(EvswarmError, match="does not exist"):
        load_catalog(tmp_path / "missing.yaml")
    with pytest.raises(EvswarmError, match="is empty"):
        load_catalog(write(tmp_path, ""))


def test_the_cli_refuses_a_bad_version_file_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "format: evswarm.versions.v1\nversion_sets:\n  a:\n    extends: a\n")
    runner = CliRunner(env={"COLUMNS": "300"})
    out = tmp_path / "batch"
    commands = [
        ["versions", "--versions", str(path)],
        ["simulate", "--runs", "2", "--out", str(out), "--versions", str(path), "--version-set", "a"],
        ["ab", "--base", "v1.0", "--candidate", "a", "--runs", "2", "--out", str(out), "--versions", str(path)],
    ]
    for command in commands:
        result = runner.invoke(app, command)
        assert result.exit_code == 2, (command, result.output)
        assert f"{path}:4: `version_sets.a.extends`: a cycle in `extends`: a → a" in " ".join(result.output.split())
    assert not out.exists()


def test_an_openai_model_without_a_key_is_refused_naming_the_field(
    tmp_path: Path, user_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "batch"
    result = CliRunner(env={"COLUMNS": "300"}).invoke(
        app, ["simulate", "--runs", "1", "--out", str(out), "--versions", str(user_file), "--version-set", "pricing-v2"]
    )
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert (
        f"{user_file}:9: `version_sets.pricing-v2.agents.PricingAgent.model` openai:gpt-4.1-mini needs OPENAI_API_KEY"
        in text
    )
    assert not out.exists()
    listed = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["versions", "--versions", str(user_file)])
    assert listed.exit_code == 0 and "pricing-v2" in listed.output, "listing needs no key"
    as_json = CliRunner().invoke(app, ["versions", "--versions", str(user_file), "--json"])
    resolved = json.loads(as_json.output)["version_sets"]["pricing-v2"]["agents"]["PricingAgent"]
    assert resolved["model"] == "openai:gpt-4.1-mini" and resolved["instructions_source"] == "prompts/pricing.txt"


def test_the_documented_example_file_loads_and_changes_one_agent_per_set() -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "versions.yaml"
    catalog = load_catalog(example)
    base = catalog.sets["v1.0"]
    assert catalog.sets["pricing-v2"].changed_agents(base) == ["PricingAgent"]
    assert catalog.sets["incentives-v2"].changed_agents(base) == ["IncentivePolicyAgent"]
    assert catalog.sets["incentives-v2"].faults == ["stale_incentive"]
