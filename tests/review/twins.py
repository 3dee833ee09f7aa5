"""Counterfactual twins for the diff tests: hand-made ones (a bundle copied and changed, as `evswarm verify`
lays them out) and one real pair (a simulated run re-run with its faulty agent reverted)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from evswarm.core.analysis import write_table
from evswarm.core.causes import CauseRow, CounterfactualRunRow

from .bundles import make_bundle
from .helpers import run_id, write_analysis

REVERT = "agent-PricingAgent"
"""The intervention of the hand-made twin: the quote changes and one stock check is inserted."""
NEW_QUOTE = json.dumps({"total": 47900.0, "currency": "USD"})


def twin_dir(analysis: Path, slug: str) -> Path:
    return analysis / "counterfactual" / slug / "bundles"


def _cause(slug: str, description: str, verdict: str, runs: list[str]) -> CauseRow:
    return CauseRow(
        pattern_id=1, pattern="pricing drift", intervention=slug, kind=slug.split("-")[0], target="PricingAgent",
        description=description, runs=len(runs), flipped=len(runs) if verdict == "confirmed" else 0,
        flip_rate=1.0 if verdict == "confirmed" else 0.0, ci_low=0.2, ci_high=1.0, verdict=verdict,
        explains=runs if verdict == "confirmed" else [], counterfactual_dir=f"counterfactual/{slug}",
    )  # fmt: skip


def write_twins(batch: Path, analysis: Path) -> Path:
    """An analysis (pattern 1: runs 0 and 1) whose run 0 has two twins: under `agent-PricingAgent` (a copy
    of its bundle whose quote changed and where PricingAgent checks stock once more: a `changed` row, then
    two `added` rows) and under `control` (the bundle byte for byte). Run 1 has no twin. The causes table
    also holds a split's row for the same change (scope `split`), which the review app must not show as
    the pattern's verdict."""
    write_analysis(analysis, [run_id(0), run_id(1)])
    original = batch / "bundles" / f"{run_id(0)}.json"
    twin = make_bundle(run_id(0), extra_tool_turns=1, quote_output=NEW_QUOTE)
    twin_dir(analysis, REVERT).mkdir(parents=True)
    (twin_dir(analysis, REVERT) / original.name).write_text(json.dumps(twin, indent=2))
    twin_dir(analysis, "control").mkdir(parents=True)
    shutil.copyfile(original, twin_dir(analysis, "control") / original.name)
    rows = [
        CounterfactualRunRow(
            run_id=run_id(0), pattern_id=1, intervention=REVERT, flipped=True, symptoms_before=["price_mismatch"],
            symptoms_after=[], identical=False, counterfactual_dir=f"counterfactual/{REVERT}",
        ),
        CounterfactualRunRow(
            run_id=run_id(0), pattern_id=1, intervention="control", flipped=False,
            symptoms_before=["price_mismatch"], symptoms_after=["price_mismatch"], identical=True,
            counterfactual_dir="counterfactual/control",
        ),
    ]  # fmt: skip
    write_table(analysis, CounterfactualRunRow, rows)
    write_table(analysis, CauseRow, [
        _cause(REVERT, "PricingAgent runs the reference version's policy", "confirmed", [run_id(0)]),
        _cause("control", "no intervention", "reproduced", []),
        # the same change's verdict on one split of the pattern: the twin shows the pattern's verdict, not it
        _cause(REVERT, "a split's row", "confirmed", [run_id(0)]).model_copy(
            update={"scope": "split", "verdict": "partial"}
        ),
    ])  # fmt: skip
    return analysis


@dataclass(frozen=True)
class RealPair:
    batch: Path
    analysis: Path
    run_id: str
    slug: str
    """The intervention that reverts the run's faulty agent (its twin differs)."""


REAL_SEED, REAL_VERSION_SET, REAL_AGENT = 5, "v1.1", "IncentivePolicyAgent"


def simulate_real_pair(root: Path) -> RealPair:
    """One simulated run (seed 5, v1.1: IncentivePolicyAgent's stale-incentive fault acts in it) and its twins
    re-run by the simulator: with IncentivePolicyAgent reverted to a policy without the fault, and a control.
    Call it before Playwright starts: the simulator runs its own event loop, which cannot start under another."""
    from evswarm.core.io import load_json, read_bundle
    from evswarm.core.layout import BatchLayout
    from evswarm.core.manifest import BatchManifest
    from evswarm.counterfactual.plan import OWNERS
    from evswarm.simulator import simulate
    from evswarm.simulator.rerun import rerun_each
    from evswarm.world.intervention import Intervention

    batch, analysis = root / "batch", root / "analysis"
    simulate(1, REAL_SEED, batch, version_sets=[REAL_VERSION_SET], workers=1, progress=False)
    layout = BatchLayout(batch)
    (path,) = layout.bundle_paths()
    causes = [c.component for c in read_bundle(path).injected_faults]  # ground truth: tests may read it
    assert REAL_AGENT in causes, f"the simulated run no longer has {REAL_AGENT}'s fault: {causes}"
    manifest = BatchManifest.model_validate(load_json(layout.manifest))
    revert = Intervention(kind="agent", target=REAL_AGENT, faults=[], owner_of=OWNERS)
    for test in (revert, Intervention(kind="control")):
        done = rerun_each(batch, manifest, {path.stem: test}, analysis / "counterfactual" / test.slug, workers=1,
                          progress=False)  # fmt: skip
        assert done == {path.stem: None}, done
    return RealPair(batch, analysis, path.stem, revert.slug)
