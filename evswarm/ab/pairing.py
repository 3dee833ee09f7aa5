"""Whether two arms can be compared pair by pair: they can when they ran the same scenarios (same run id,
same order, same dated world), as two `simulate` batches with the same seed and one version set each do."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evswarm.ab.arms import Arm
from evswarm.core.errors import EvswarmError
from evswarm.core.layout import BatchLayout
from evswarm.core.manifest import read_manifest


@dataclass
class Pairing:
    mode: str
    """`paired` or `unpaired`."""
    reason: str
    run_ids: list[str] = field(default_factory=list)
    """Paired: the run ids both arms ran on the same scenario, sorted."""
    notes: list[str] = field(default_factory=list)


def check_seeds(base: Path, candidate: Path, *, unpaired: bool) -> None:
    """Refuse to pair two `simulate` batches made with different seeds (they share no scenario), naming
    each manifest's `seed`, unless `unpaired` asks for a comparison of independent samples."""
    if unpaired:
        return
    manifests = [BatchLayout(root).manifest for root in (base, candidate)]
    if not all(m.is_file() for m in manifests):
        return
    seeds = [read_manifest(m).seed for m in manifests]
    if seeds[0] != seeds[1]:
        raise EvswarmError(
            f"{manifests[0]}: field `seed` is {seeds[0]}, but {manifests[1]}: field `seed` is {seeds[1]}: the arms "
            "ran different scenarios, so they cannot be paired",
            hint="simulate both arms with the same --seed (as `evswarm ab` does), or compare them as independent "
            "samples with --unpaired",
        )


def pair_arms(base: Arm, candidate: Arm, *, unpaired: bool = False) -> Pairing:
    """Pair the arms' runs by scenario, or say why they cannot be paired (see `check_seeds`)."""
    check_seeds(base.root, candidate.root, unpaired=unpaired)
    if unpaired:
        return Pairing("unpaired", "compared as independent samples, as asked (--unpaired)")
    shared = sorted(set(base.runs) & set(candidate.runs))
    same = [run_id for run_id in shared if base.runs[run_id].scenario == candidate.runs[run_id].scenario]
    if not same:
        if shared:
            reason = (
                f"the arms share {len(shared)} run id(s) but not their scenarios (the batches were made with "
                "different version-set mixes or world versions), so they are compared as independent samples"
            )
        else:
            reason = "the arms share no scenario, so they are compared as independent samples"
        return Pairing("unpaired", reason)
    pairing = Pairing(
        "paired",
        f"paired on {len(same)} scenario(s) both arms ran (same orders, same world, same organic draws for "
        "agents whose version did not change)",
        same,
    )
    for arm in (base, candidate):
        left = len(arm.runs) - len(same)
        if left:
            pairing.notes.append(f"{left} {arm.role} run(s) have no partner in the other arm and are left out")
    if len(shared) > len(same):
        pairing.notes.append(f"{len(shared) - len(same)} run id(s) ran different scenarios in the two arms: left out")
    return pairing
