"""Ordered items with observed covariates (lavaan's ``conditional.x = TRUE``).

The sample statistics of :func:`riskmodel_sem.sem.polychoric.conditional_stats` (probit /
linear regressions on the covariates, residual polychoric / polyserial correlations and their
asymptotic covariance) against ``lavInspect(fit, "wls.obs")`` and ``lavInspect(fit, "gamma")``
of the corpus cases with covariates (tests/lavaan_cases/ord_*mimic*, written by
make_cases.R); the fits themselves are compared by tests/test_lavaan_cases.py. lavaan's
``nlminb`` stops its probit and correlation fits at a relative change of 1e-10 of the
objective, where ours solve the likelihood equations: the statistics agree to 1e-6 and gamma
to 1e-5 of its largest element.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from riskmodel_sem.errors import DataQualityWarning, OptionError
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.sem.polychoric import conditional_stats
from riskmodel_sem.sem.syntax import parse_syntax, variable_roles

CASES = ROOT / "tests" / "lavaan_cases"


def _with_covariates() -> list[str]:
    """The corpus cases with ordered items and observed exogenous covariates."""
    out = []
    for path in sorted(CASES.glob("*/case.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        if not (case.get("options") or {}).get("ordered"):
            continue
        model = (path.parent / "model.lav").read_text(encoding="utf-8")
        if variable_roles(parse_syntax(model)).ov_x:
            out.append(path.parent.name)
    return out


NAMES = _with_covariates()


def _case(name):
    folder = CASES / name
    case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    ref = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))
    model = (folder / "model.lav").read_text(encoding="utf-8")
    data = pd.read_csv(CASES / "data" / case["data"])
    return case, ref, model, data


@pytest.mark.parametrize("name", NAMES)
def test_conditional_statistics_match_lavaan(name):
    case, ref, model, data = _case(name)
    roles = variable_roles(parse_syntax(model))
    exo = [v for v in roles.ov_x]
    ys = [v for v in data.columns if v in roles.observed and v not in exo]
    ordered = [v in case["options"]["ordered"] for v in ys]
    group = case["options"].get("group")
    labels = ref["group_labels"] if group else [None]
    wls = ref["extras"]["wls_obs"]
    gammas = ref["extras"]["gamma"]
    for label in labels:
        frame = data[data[group] == label] if group else data
        frame = frame[ys + exo].dropna()
        got = conditional_stats(frame[ys].to_numpy(float), ys, ordered,
                                frame[exo].to_numpy(float), exo)
        want = wls[label] if group else wls
        gamma = np.asarray((gammas[label] if group else gammas)["values"])
        assert list(got.wls_names) == list(want)
        np.testing.assert_allclose(got.wls_obs, list(want.values()), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got.gamma, gamma, rtol=0, atol=1e-5 * np.abs(gamma).max())
        np.testing.assert_allclose(got.gamma, got.gamma.T, rtol=0, atol=1e-12)


def test_slopes_of_a_probit_regression_solve_its_likelihood_equation():
    """Property without a reference: simulated probit data recover the true slopes."""
    rng = np.random.default_rng(11)
    n = 4000
    x = rng.normal(size=(n, 2))
    ystar = x @ np.array([0.8, -0.4]) + rng.normal(size=n)
    y = np.digitize(ystar, [-1.0, 0.0, 1.2]).astype(float)
    z = ystar + rng.normal(size=n) * 0.5
    s = conditional_stats(np.column_stack([y, z]), ["y", "z"], [True, False], x, ["a", "b"])
    np.testing.assert_allclose(s.slopes[0], [0.8, -0.4], atol=0.08)
    np.testing.assert_allclose(s.thresholds, [-1.0, 0.0, 1.2], atol=0.08)
    np.testing.assert_allclose(s.slopes[1], [0.8, -0.4], atol=0.05)
    # residual polyserial correlation of y* and z given x: 1 / sqrt(1.25)
    assert abs(s.correlations[0, 1] - 1 / np.sqrt(1.25)) < 0.03


def test_pairwise_deletion_with_covariates_is_refused():
    _, _, model, data = _case("ord_hs5_mimic")
    with pytest.raises(OptionError, match="pairwise.*conditional.x"):
        fit_model(model, data, estimator="WLSMV", ordered=[f"x{i}" for i in range(1, 7)],
                  missing="pairwise")


def test_fixed_x_false_is_refused_as_lavaan_does():
    _, _, model, data = _case("ord_hs5_mimic")
    with pytest.raises(OptionError, match="fixed.x = FALSE"):
        fit_model(model, data, estimator="WLSMV", ordered=True, fixed_x=False)


def test_an_ordered_covariate_is_used_as_numeric_with_a_warning():
    _, _, _, data = _case("ord_hs5_mimic")
    model = "visual =~ x1 + x2 + x3\nvisual ~ x4\n"
    with pytest.warns(DataQualityWarning, match="x4"):
        fit = fit_model(model, data, estimator="WLSMV", ordered=["x1", "x2", "x3", "x4"])
    assert not fit.estimates.query("lhs == 'x4' and op == '|'").shape[0]


def test_inputs_are_not_modified():
    _, _, model, data = _case("ord_hs5_mimic")
    before = data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_model(model, data, estimator="WLSMV", ordered=True)
    pd.testing.assert_frame_equal(data, before)


@pytest.mark.parametrize("name", [n for n in NAMES
                                  if "std_solution" in _case(n)[1]["extras"]])
def test_standard_errors_of_the_standardized_solution_match_lavaan(name):
    """se of std.all (``standardizedSolution``): the residual variances of the ordered
    y* (1/Delta^2 minus the explained variance) move with the parameters."""
    case, ref, model, data = _case(name)
    from test_lavaan_cases import fit_arguments

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_model(model, data, **fit_arguments(case))
    grouped = int(ref["ngroups"]) > 1
    ours = {(r["lhs"], r["op"], r["rhs"], int(r["group"]) if grouped else 1): r
            for r in res.estimates.to_dict("records")}
    checked = 0
    for row in ref["extras"]["std_solution"]:
        if row["op"] in ("|", "~*~") or row.get("se") is None:
            continue  # lavaan gives no SE for these rows' standardized values
        key = (row["lhs"], row["op"], row["rhs"], int(row.get("group", 1)) if grouped else 1)
        mine = ours[key]
        assert mine["std_all"] == pytest.approx(row["est.std"], rel=1e-4, abs=1e-6), key
        assert mine["se_std_all"] == pytest.approx(row["se"], rel=1e-3, abs=1e-6), key
        checked += 1
    assert checked > 10
