"""Pass rates per rubric and per agent version set, with 95% Wilson intervals, as a rich table."""

from __future__ import annotations

from dataclasses import dataclass

from rich import box
from rich.table import Table
from statsmodels.stats.proportion import proportion_confint

from evswarm.core.labels import LabelRow
from evswarm.evals.rubrics import RUBRICS

ALL_FIVE = "all rubrics"


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval for a binomial proportion; (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return float(low), float(high)


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

    def cell(self, usual_n: int | None = None) -> str:
        """'50.0%' over '[9–91]' (the 95% interval in percent), plus the count when it is not the row's usual one."""
        if not self.n:
            return "–"
        low, high = self.interval
        count = "" if self.n == usual_n else f" n={self.n}"
        return f"{self.value:.1%}\n[{low * 100:.0f}–{high * 100:.0f}]{count}"


def pass_rates(rows: list[LabelRow]) -> dict[str, dict[str, Rate]]:
    """{rubric or ALL_FIVE: {version set or "all": Rate}}; runs not graded on a rubric are left out."""
    versions = sorted({row.agent_version_set or "unknown" for row in rows if not row.is_error})
    table: dict[str, dict[str, Rate]] = {}
    graded = [r for r in RUBRICS if any(row.passed(r) is not None for row in rows)]
    for rubric in (*graded, ALL_FIVE):
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


SHORT_NAMES = {
    "final_decision_quality": "decision",
    "policy_compliance_correctness": "policy",
    "routing_specialist_activation": "routing",
    "market_drift_awareness": "drift",
    "review_appropriateness": "review",
    "tool_use": "tools",
    "control_flow": "flow",
    "final_answer": "answer",
    ALL_FIVE: "all",
}
"""Column headings short enough for an 80-column terminal; the caption spells them out."""


def rates_table(rows: list[LabelRow], title: str) -> Table:
    """One row per version set (and all of them), one column per rubric: compare versions down a column."""
    rates = pass_rates(rows)
    versions = list(next(iter(rates.values())).keys())
    caption = "pass rate [95% Wilson interval]; " + "; ".join(
        f"{short} = {rubric}" for rubric, short in SHORT_NAMES.items() if rubric in rates
    )
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("version set", style="bold", no_wrap=True)
    for rubric in rates:
        table.add_column(
            SHORT_NAMES.get(rubric, rubric),
            justify="right",
            overflow="fold",
            style="bold" if rubric == ALL_FIVE else None,
        )
    for version in versions:
        usual = rates[ALL_FIVE][version].n
        cells = [rates[rubric][version].cell(usual) for rubric in rates]
        name = "all versions" if version == "all" else version
        table.add_row(
            f"{name}\n{usual} runs",
            *cells,
            end_section=version == versions[-2] if len(versions) > 1 else False,
        )
    return table
