"""MLR and FIML against lavaan 0.6.14 (tests/reference) and their defining properties."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import load_reference, load_reference_data
from riskmodel_sem.errors import DataQualityWarning
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.sem.em import em_saturated

RTOL = 1e-4

# (case id, json file, key inside multi-model files, data file, fit_model options)
CASES = [
    ("hs_cfa_mlr", "hs_cfa_mlr.json", None, "holzinger1939.csv", {"estimator": "MLR"}),
    ("one_factor_mlr", "hs_compare.json", "one_factor_mlr", "holzinger1939.csv",
     {"estimator": "MLR"}),
    ("three_factor_mlr", "hs_compare.json", "three_factor_mlr", "holzinger1939.csv",
     {"estimator": "MLR"}),
    ("hs_cfa_fiml", "hs_cfa_fiml.json", None, "holzinger1939_missing.csv", {"missing": "fiml"}),
]

_FITS: dict = {}


def _case(case_id):
    for c in CASES:
        if c[0] == case_id:
            return c
    raise KeyError(case_id)


def _reference(case_id):
    _, json_name, key, data_name, options = _case(case_id)
    ref = load_reference(json_name)
    if key is None:
        return ref["model"], ref, data_name, options
    model = ref["model"][key.rsplit("_", 1)[0]]
    block = {name: ref[name][key] for name in ("fit", "estimates", "r2", "modindices")}
    return model, block, data_name, options


def _fit(case_id):
    if case_id not in _FITS:
        model, _, data_name, options = _reference(case_id)
        data = load_reference_data(data_name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            _FITS[case_id] = fit_model(model, data, **options)
    return _FITS[case_id]


CASE_IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_converged(case_id):
    res = _fit(case_id)
    assert res.converged
    assert res.n_obs == 301


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_estimates_se_std_all(case_id):
    _, ref, _, _ = _reference(case_id)
    est = _fit(case_id).estimates
    for row in ref["estimates"]:
        ours = est[(est["lhs"] == row["lhs"]) & (est["op"] == row["op"]) &
                   (est["rhs"] == row["rhs"])]
        assert len(ours) == 1, row
        for col, ref_col in (("est", "est"), ("se", "se"), ("std_all", "std.all")):
            expected = row[ref_col]
            if expected is None:
                continue
            got = float(ours[col].iloc[0])
            assert got == pytest.approx(expected, rel=RTOL, abs=1e-6), (row, col)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_every_fit_measure(case_id):
    _, ref, _, _ = _reference(case_id)
    fit = _fit(case_id).fit
    for name, expected in ref["fit"].items():
        key = name.replace(".", "_")
        assert key in fit, f"fit measure {name} missing"
        got = fit[key]
        if expected is None:
            assert got is None or not math.isfinite(got), name
            continue
        assert got == pytest.approx(expected, rel=RTOL, abs=1e-12), name


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_r2(case_id):
    _, ref, _, _ = _reference(case_id)
    r2 = _fit(case_id).r2
    assert set(r2) == set(ref["r2"])
    for k, v in ref["r2"].items():
        assert r2[k] == pytest.approx(v, rel=RTOL), k


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_top_modification_indices(case_id):
    _, ref, _, _ = _reference(case_id)
    mi = _fit(case_id).modindices
    for row in ref["modindices"]:
        hit = mi[(mi["lhs"] == row["lhs"]) & (mi["op"] == row["op"]) & (mi["rhs"] == row["rhs"])]
        if len(hit) == 0 and row["op"] == "~~":
            hit = mi[(mi["lhs"] == row["rhs"]) & (mi["op"] == "~~") & (mi["rhs"] == row["lhs"])]
        assert len(hit) == 1, row
        for col, ref_col in (("mi", "mi"), ("epc", "epc"), ("sepc_all", "sepc.all")):
            assert float(hit[col].iloc[0]) == pytest.approx(row[ref_col], rel=RTOL), (row, col)
    # the table is sorted as lavaan's modindices(sort. = TRUE)
    assert mi["mi"].is_monotonic_decreasing


def test_mlr_point_estimates_equal_ml():
    ml_ref = load_reference("hs_cfa_ml.json")
    res = _fit("hs_cfa_mlr")
    est = res.estimates
    for row in ml_ref["estimates"]:
        ours = est[(est["lhs"] == row["lhs"]) & (est["op"] == row["op"]) &
                   (est["rhs"] == row["rhs"])]
        assert float(ours["est"].iloc[0]) == pytest.approx(row["est"], rel=RTOL, abs=1e-6)
    assert res.fit["chisq"] == pytest.approx(ml_ref["fit"]["chisq"], rel=1e-6)


def test_fiml_chisq_is_twice_loglik_difference():
    fit = _fit("hs_cfa_fiml").fit
    assert fit["chisq"] == pytest.approx(2 * (fit["unrestricted_logl"] - fit["logl"]), rel=1e-10)


# ------------------------------------------------------------------------------------------
# properties without a reference
# ------------------------------------------------------------------------------------------

def _hs_model():
    return load_reference("hs_cfa_mlr.json")["model"]


def test_mlr_fiml_reduces_to_mlr_on_complete_data():
    data = load_reference_data("holzinger1939.csv")
    complete = _fit("hs_cfa_mlr")
    both = fit_model(_hs_model(), data, estimator="MLR", missing="fiml")
    assert both.converged
    for key in ("chisq", "chisq_scaled", "chisq_scaling_factor", "baseline_chisq_scaled",
                "cfi_scaled", "tli_scaled", "rmsea_scaled"):
        assert both.fit[key] == pytest.approx(complete.fit[key], rel=1e-6), key
    merged = complete.estimates.merge(both.estimates, on=["lhs", "op", "rhs"])
    np.testing.assert_allclose(merged["se_y"], merged["se_x"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(merged["est_y"], merged["est_x"], rtol=1e-6, atol=1e-9)


def test_fiml_reduces_to_ml_on_complete_data():
    data = load_reference_data("holzinger1939.csv")
    ml_ref = load_reference("hs_cfa_ml.json")
    res = fit_model(_hs_model(), data, missing="fiml")
    assert res.fit["chisq"] == pytest.approx(ml_ref["fit"]["chisq"], rel=1e-5)
    assert res.fit["logl"] == pytest.approx(ml_ref["fit"]["logl"], rel=1e-8)
    assert res.fit["unrestricted_logl"] == pytest.approx(ml_ref["fit"]["unrestricted.logl"],
                                                         rel=1e-8)
    assert res.fit["baseline_chisq"] == pytest.approx(ml_ref["fit"]["baseline.chisq"], rel=1e-8)


def test_mlr_fiml_on_missing_data_is_finite():
    data = load_reference_data("holzinger1939_missing.csv")
    res = fit_model(_hs_model(), data, estimator="MLR", missing="fiml")
    assert res.converged
    assert np.all(np.isfinite(res.estimates["se"]))
    free = res.estimates[res.estimates["se"] > 0]
    assert len(free) == 30
    for key in ("chisq_scaled", "chisq_scaling_factor", "cfi_scaled", "cfi_robust",
                "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust", "rmsea_ci_upper_robust",
                "baseline_chisq_scaled", "srmr"):
        assert math.isfinite(res.fit[key]), key
    # same point estimates and unscaled test as ML-FIML
    fiml = _fit("hs_cfa_fiml")
    assert res.fit["chisq"] == pytest.approx(fiml.fit["chisq"], rel=1e-8)
    np.testing.assert_allclose(res.estimates["est"], fiml.estimates["est"], rtol=1e-6, atol=1e-8)
    # the scaling factor is in a plausible range for roughly normal data
    assert 0.8 < res.fit["chisq_scaling_factor"] < 1.3


def test_em_matches_complete_data_moments():
    data = load_reference_data("holzinger1939.csv")[[f"x{i}" for i in range(1, 10)]]
    x = data.to_numpy(float)
    mu, sigma, logl, converged = em_saturated(x)
    assert converged
    np.testing.assert_allclose(mu, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(x.T, bias=True), rtol=1e-9, atol=1e-12)
    ml_ref = load_reference("hs_cfa_ml.json")
    assert logl == pytest.approx(ml_ref["fit"]["unrestricted.logl"], rel=1e-10)


def test_em_unrestricted_logl_matches_reference():
    data = load_reference_data("holzinger1939_missing.csv")[[f"x{i}" for i in range(1, 10)]]
    _, _, logl, converged = em_saturated(data.to_numpy(float))
    assert converged
    ref = load_reference("hs_cfa_fiml.json")["fit"]["unrestricted.logl"]
    assert logl == pytest.approx(ref, rel=1e-9)


def test_fiml_drops_rows_without_any_answer():
    data = load_reference_data("holzinger1939_missing.csv")
    items = [f"x{i}" for i in range(1, 10)]
    empty = data.iloc[:3].copy()
    empty[items] = np.nan
    padded = pd.concat([data, empty], ignore_index=True)
    with pytest.warns(DataQualityWarning, match="3 row"):
        res = fit_model(_hs_model(), padded, missing="fiml")
    assert res.n_obs == 301
    assert res.fit["chisq"] == pytest.approx(_fit("hs_cfa_fiml").fit["chisq"], rel=1e-8)


def test_fiml_recovers_population_values():
    """Simulate a one-factor model with MCAR holes, refit by FIML and check recovery."""
    rng = np.random.default_rng(20240611)
    n = 2000
    loadings = np.array([1.0, 0.8, 0.6, 0.9])
    eta = rng.standard_normal(n)
    x = eta[:, None] * loadings + rng.standard_normal((n, 4)) * 0.6 + np.array([3, 2, 1, 0])
    x[rng.random((n, 4)) < 0.15] = np.nan
    x = x[~np.isnan(x).all(axis=1)]
    data = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    res = fit_model("f =~ a + b + c + d", data, missing="fiml")
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    for item, lam in zip("bcd", loadings[1:]):
        row = est.loc[("f", "=~", item)]
        assert abs(row["est"] - lam) < 4 * row["se"], item
    assert abs(est.loc[("d", "~1", "")]["est"] - 0.0) < 4 * est.loc[("d", "~1", "")]["se"]
    assert abs(est.loc[("a", "~~", "a")]["est"] - 0.36) < 4 * est.loc[("a", "~~", "a")]["se"]
