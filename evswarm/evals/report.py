"""Pass rates per rubric and per agent version set, with 95% Wilson intervals, as a rich table."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.table import Table

from evswarm.evals.labels import LabelRow
from evswarm.evals.rubrics import RUBRICS

ALL_FIVE = "all five rubrics"


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (95% by default); (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    passed: int
    n: int

    @property
    def value(self) -> float:
        return self.passed / self.n if self.n else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.passed, self.n)

    def cell(self) -> str:
        if not self.n:
            return "–"
        low, high = self.interval
        return f"{self.value:.1%} [{low * 100:.0f}–{high * 100:.0f}%] n={self.n}"


def pass_rates(rows: list[LabelRow]) -> dict[str, dict[str, Rate]]:
    """{rubric or ALL_FIVE: {version set or "all": Rate}}; runs not graded on a rubric are left out."""
    versions = sorted({row.agent_version_set or "unknown" for row in rows if not row.is_error})
    table: dict[str, dict[str, Rate]] = {}
    for rubric in (*RUBRICS, ALL_FIVE):
        table[rubric] = {}
        for version in (*versions, "all"):
            verdicts = [
                row.promptfoo_pass if rubric == ALL_FIVE else row.passed(rubric)
                for row in rows
                if version == "all" or (row.agent_version_set or "unknown") == version
            ]
            known = [v for v in verdicts if v is not None]
            table[rubric][version] = Rate(passed=sum(known), n=len(known))
    return table


def rates_table(rows: list[LabelRow], title: str) -> Table:
    rates = pass_rates(rows)
    versions = list(next(iter(rates.values())).keys())
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("rubric", style="bold", no_wrap=True)
    for version in versions:
        table.add_column("all versions" if version == "all" else version, justify="right", no_wrap=True)
    for rubric, by_version in rates.items():
        style = "bold" if rubric == ALL_FIVE else None
        table.add_row(rubric, *(by_version[v].cell() for v in versions), style=style)
    return table
