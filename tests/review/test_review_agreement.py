"""Agreement statistics checked against scikit-learn, statsmodels and hand-computed worked examples."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from evswarm.review.agreement import agreement_table, cohen_kappa, fleiss_kappa, krippendorff_alpha
from evswarm.review.config import pad_pane_labels
from evswarm.review.schemes import Scheme, SchemeSet


def test_cohen_kappa_is_scikit_learns() -> None:
    first = [1, 2, 3, 3, 2, 1, 5, 4, 4, 2]
    second = [1, 2, 3, 2, 2, 1, 4, 4, 5, 2]
    assert cohen_kappa(first, second) == pytest.approx(cohen_kappa_score(first, second))
    assert cohen_kappa(first, second, weights="quadratic") == pytest.approx(
        cohen_kappa_score(first, second, weights="quadratic")
    )


def test_cohen_kappa_is_undefined_when_both_raters_never_vary() -> None:
    assert cohen_kappa(["pass"] * 4, ["pass"] * 4) is None
    assert cohen_kappa([], []) is None


def _rows(scheme: str, votes: dict[str, list[object]]) -> list[dict[str, object]]:
    return [
        {"scheme": scheme, "trace_id": f"t{i}", "annotator": name, "value": value}
        for name, values in votes.items()
        for i, value in enumerate(values)
    ]


def test_scales_use_quadratic_weights_over_the_whole_scale() -> None:
    # Worked example, scale 1-5, w_ij = (i - j)^2 / 16: a = [1, 2, 5], b = [2, 1, 5].
    # observed sum w*O = 2/3 * 1/16 = 1/24; marginals 1/3 each, so sum w*E = (1/9)(2*1 + 2*16 + 2*9)/16 = 13/36;
    # kappa = 1 - (1/24) / (13/36) = 23/26. (Unweighted: 0; weighted over the observed labels only: 0.5.)
    schemes = SchemeSet(schemes=[Scheme(name="quality", type="likert", min=1, max=5)])
    (row,) = agreement_table(_rows("quality", {"a": [1, 2, 5], "b": [2, 1, 5]}), schemes)
    assert row["cohen_kappa_mean"] == pytest.approx(23 / 26, abs=1e-4)
    assert cohen_kappa([1, 2, 5], [2, 1, 5]) == pytest.approx(0.0)
    assert cohen_kappa([1, 2, 5], [2, 1, 5], weights="quadratic") == pytest.approx(0.5)


def test_pass_fail_schemes_use_plain_kappa() -> None:
    schemes = SchemeSet(schemes=[Scheme(name="ok", type="binary")])
    votes = {"a": ["pass", "fail", "pass", "fail"], "b": ["pass", "fail", "fail", "fail"]}
    (row,) = agreement_table(_rows("ok", votes), schemes)
    # observed 3/4, expected (2*1 + 2*3)/16 = 1/2: kappa 1/2
    assert row["cohen_kappa_mean"] == pytest.approx(0.5)


def test_fleiss_kappa_on_the_worked_example_of_fleiss_1971_as_tabulated_on_wikipedia() -> None:
    # 10 subjects, 14 raters, 5 categories: P-bar 0.378, P-e 0.213, kappa 0.210
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    items = [[category for category, count in enumerate(row) for _ in range(count)] for row in table]
    assert fleiss_kappa(items) == pytest.approx(0.210, abs=0.0005)


def test_fleiss_kappa_with_a_varying_number_of_raters_per_item() -> None:
    # P_1 = (2^2 + 1^2 - 3) / (3*2) = 1/3, P_2 = (1 + 1 - 2) / 2 = 0, P_3 = (16 - 4) / 12 = 1: P-bar = 4/9.
    # Shares over all 9 ratings: a 3/9, b 6/9, so P-e = 1/9 + 4/9 = 5/9; kappa = (4/9 - 5/9) / (4/9) = -1/4.
    assert fleiss_kappa([["a", "a", "b"], ["a", "b"], ["b", "b", "b", "b"], ["a"]]) == pytest.approx(-0.25)


def test_fleiss_kappa_matches_statsmodels_for_a_fixed_number_of_raters() -> None:
    rng = np.random.default_rng(3)
    ratings = rng.integers(1, 4, size=(30, 4))
    ratings[:10] = ratings[:10, :1]  # some agreement
    table, _ = aggregate_raters(ratings)
    assert fleiss_kappa([list(row) for row in ratings]) == pytest.approx(sm_fleiss(table))


def test_krippendorff_alpha_nominal_on_a_known_example() -> None:
    # Krippendorff (2011), 2 coders, binary data: alpha = 0.095
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    units = {str(i): {"a": a[i], "b": b[i]} for i in range(10)}
    assert krippendorff_alpha(units, ["a", "b"], "nominal") == pytest.approx(0.095, abs=0.001)
    assert krippendorff_alpha({"u": {"a": 1}}, ["a"], "nominal") is None


def test_pane_labels_are_padded_from_the_defaults() -> None:
    assert pad_pane_labels(["Only One"]) == ["Only One", "Function Calls", "Final Answer"]
    assert pad_pane_labels(["A", "", "C", "D"]) == ["A", "Function Calls", "C"]
    assert pad_pane_labels(None) == ["Reasoning", "Function Calls", "Final Answer"]


def test_responsible_steps_agree_on_the_responsible_agent() -> None:
    schemes = SchemeSet(schemes=[Scheme(name="who", type="responsible_step")])

    def step(agent: str, step_id: str = "s1") -> dict[str, str]:
        return {"step_id": step_id, "agent": agent}

    # two steps of the same agent count as agreement: the agent is what is blamed
    votes = {
        "a": [step("PricingAgent"), step("SupplyAgent"), step("PricingAgent"), step("Orchestrator")],
        "b": [step("PricingAgent", "s2"), step("SupplyAgent"), step("SupplyAgent"), step("Orchestrator")],
    }
    (row,) = agreement_table(_rows("who", votes), schemes)
    first = ["PricingAgent", "SupplyAgent", "PricingAgent", "Orchestrator"]
    second = ["PricingAgent", "SupplyAgent", "SupplyAgent", "Orchestrator"]
    assert row["type"] == "responsible_step" and row["labels"] == 8
    assert row["cohen_kappa_mean"] == pytest.approx(cohen_kappa_score(first, second), abs=1e-4)
    with pytest.raises(ValueError, match="expected the id of a step"):
        schemes.schemes[0].validate_value({"agent": "PricingAgent"})
    assert schemes.schemes[0].validate_value("span_1") == {"step_id": "span_1"}
