"""`analyze --baseline`: the version comparison is made against the version set the reader names."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from evswarm.cli import app
from evswarm.core.errors import EvswarmError
from evswarm.macro.versions import baseline_version, compare_versions, prevalence_by_version


def _prevalence() -> pd.DataFrame:
    versions = ["v1.0"] * 40 + ["v1.1"] * 40 + ["v2-base"] * 40
    traces = pd.DataFrame({"run_id": [f"r{i}" for i in range(120)], "agent_version_set": versions})
    # the pattern: 2 runs of v1.0, 20 of v1.1, none of v2-base
    members = [f"r{i}" for i in (0, 1, *range(40, 60))]
    assign = pd.DataFrame({"run_id": members, "cluster_id": [1] * len(members)})
    return prevalence_by_version(assign, traces, {1: "the pattern"})


def test_the_named_baseline_is_the_one_every_version_is_compared_with() -> None:
    table = compare_versions(_prevalence(), alpha=0.05, min_support=5, baseline="v1.0")
    assert set(table.baseline) == {"v1.0"} and set(table.version_set) == {"v1.1", "v2-base"}
    row = table[table.version_set == "v1.1"].iloc[0]
    assert row.change == "up" and row.difference == pytest.approx(0.45)


def test_without_a_name_the_documented_rule_picks_the_baseline() -> None:
    assert set(compare_versions(_prevalence(), alpha=0.05, min_support=5).baseline) == {"v2-base"}
    assert baseline_version(["v1.1", "v1.0"]) == "v1.0"


def test_an_unknown_baseline_is_refused_naming_the_batch_versions() -> None:
    with pytest.raises(EvswarmError, match="--baseline 'v9' is not a version set of this batch") as caught:
        compare_versions(_prevalence(), alpha=0.05, min_support=5, baseline="v9")
    assert "v1.0, v1.1, v2-base" in str(caught.value.hint)
    help_text = " ".join(CliRunner().invoke(app, ["analyze", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "--baseline" in help_text
