"""Reliability against psych::alpha and semTools::compRelSEM / AVE (tests/reference)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pingouin
import pytest

from riskmodel_sem.errors import ModelError, OptionError, SurveyDataError
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.psychometrics.reliability import (ave, composite_reliability, cronbach_alpha, feldt_ci,
                                       loadings, omega, omega_higher_order)

from conftest import REFERENCE
from conftest import load_reference as _ref

RTOL = 1e-4  # the reference README's precision for lavaan's converged values

#: Every reference case with a ``reliability`` block, with how it was fitted.
CASES = {
    "hs_cfa_ml.json": {"estimator": "ML", "missing": "listwise"},
    "hs_cfa_mlr.json": {"estimator": "MLR", "missing": "listwise"},
    "hs_cfa_fiml.json": {"estimator": "ML", "missing": "fiml"},
    "poldem_sem_ml.json": {"estimator": "ML", "missing": "listwise"},
    "hs_second_order.json": {"estimator": "ML", "missing": "listwise"},
    "hs_ordinal_wlsmv.json": {"estimator": "WLSMV", "missing": "listwise"},
}


def _data(ref: dict) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / ref["data"])


def test_every_reference_reliability_block_is_covered():
    found = {p.name for p in REFERENCE.glob("*.json")
             if "reliability" in json.loads(p.read_text(encoding="utf-8"))}
    assert found == set(CASES)


# ---------------------------------------------------------------------------------------------
# psych::alpha
# ---------------------------------------------------------------------------------------------

ALPHA_CASES = [(case, factor) for case in CASES
               for factor in _ref(case)["reliability"]["psych_alpha"]]


@pytest.mark.parametrize("case,factor", ALPHA_CASES)
def test_alpha_matches_psych(case, factor):
    ref = _ref(case)
    block = ref["reliability"]["psych_alpha"][factor]
    data = _data(ref)[block["items"]]
    res = cronbach_alpha(data)
    assert res.n_obs == block["n_rows"]
    tot = block["total"]
    got = [res.alpha, res.alpha_std, res.ase, res.alpha_ci_lower, res.alpha_ci_upper,
           res.duhachek_ci_lower, res.duhachek_ci_upper, res.g6, res.average_r]
    want = [block["raw_alpha"], block["std.alpha"], block["ase"], block["ci95_feldt"]["lower"],
            block["ci95_feldt"]["upper"], block["ci95_duhachek"]["lower"],
            block["ci95_duhachek"]["upper"], tot["G6(smc)"], tot["average_r"]]
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)
    items = res.items.set_index("item")
    for drop, st in zip(block["alpha_drop"], block["item_stats"]):
        row = items.loc[drop["item"]]
        assert row["n"] == st["n"]
        np.testing.assert_allclose(
            [row["alpha_if_deleted"], row["alpha_std_if_deleted"], row["alpha_if_deleted_se"],
             row["citc"], row["raw_r"], row["std_r"], row["r_cor"], row["mean"], row["sd"]],
            [drop["raw_alpha"], drop["std.alpha"], drop["alpha se"], st["r.drop"],
             st["raw.r"], st["std.r"], st["r.cor"], st["mean"], st["sd"]],
            rtol=RTOL, atol=0)


def test_alpha_and_feldt_ci_agree_with_pingouin():
    hs = pd.read_csv(REFERENCE / "holzinger1939_missing.csv")
    items = ["x1", "x2", "x3"]
    res = cronbach_alpha(hs[items])
    a, ci = pingouin.cronbach_alpha(hs[items], nan_policy="pairwise", ci=0.95)
    assert res.alpha == pytest.approx(a, rel=1e-12)
    # pingouin rounds its interval to 3 decimals
    np.testing.assert_allclose([res.alpha_ci_lower, res.alpha_ci_upper], ci, atol=5e-4)


def test_feldt_ci_formula():
    lo, hi = feldt_ci(0.8, 101, 5)
    from scipy import stats
    assert lo == pytest.approx(1 - 0.2 * stats.f.ppf(0.975, 100, 400), rel=1e-14)
    assert hi == pytest.approx(1 - 0.2 * stats.f.ppf(0.025, 100, 400), rel=1e-14)
    assert lo < 0.8 < hi


def test_two_item_alpha_drop_follows_psych():
    rng = np.random.default_rng(1)
    z = rng.standard_normal(200)
    df = pd.DataFrame({"a": z + rng.standard_normal(200), "b": 2 * z + rng.standard_normal(200)})
    res = cronbach_alpha(df)
    c = df.cov().to_numpy()
    r = df.corr().to_numpy()
    assert res.items["alpha_if_deleted"].tolist() == pytest.approx(
        [c[0, 1] / c[1, 1], c[0, 1] / c[0, 0]], rel=1e-12)
    assert res.items["alpha_std_if_deleted"].tolist() == pytest.approx([r[0, 1]] * 2)


def test_alpha_rejects_bad_input():
    with pytest.raises(SurveyDataError):
        cronbach_alpha(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))
    with pytest.raises(SurveyDataError, match="no variance"):
        cronbach_alpha(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 2.0, 2.0]}))


# ---------------------------------------------------------------------------------------------
# semTools::compRelSEM and AVE
# ---------------------------------------------------------------------------------------------

_FITS: dict = {}


def _fit(case: str):
    if case not in _FITS:
        ref = _ref(case)
        opts = CASES[case]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _FITS[case] = fit_model(ref["model"], _data(ref), estimator=opts["estimator"],
                                    missing=opts["missing"])
    return _FITS[case]


MODEL_CASES = [c for c in CASES if CASES[c]["estimator"] != "WLSMV"]


@pytest.mark.parametrize("case", MODEL_CASES)
def test_omega_matches_comprelsem(case):
    ref = _ref(case)["reliability"]["omega"]
    got = omega(_fit(case))
    assert list(got) == list(ref)
    np.testing.assert_allclose([got[k] for k in ref], list(ref.values()), rtol=RTOL, atol=0)


@pytest.mark.parametrize("case", MODEL_CASES)
def test_ave_matches_semtools(case):
    ref = _ref(case)["reliability"]["ave"]
    got = ave(_fit(case))
    assert list(got) == list(ref)
    np.testing.assert_allclose([got[k] for k in ref], list(ref.values()), rtol=RTOL, atol=0)


def test_higher_order_omega_matches_comprelsem():
    ref = _ref("hs_second_order.json")["reliability"]["omega_higher_order"]["value"]
    got = omega_higher_order(_fit("hs_second_order.json"), "g")
    assert list(got) == list(ref)
    np.testing.assert_allclose([got[k] for k in ref], list(ref.values()), rtol=RTOL, atol=0)


def test_higher_order_needs_latent_indicators():
    with pytest.raises(ModelError):
        omega_higher_order(_fit("hs_cfa_ml.json"), "visual")
    with pytest.raises(ModelError):
        omega_higher_order(_fit("hs_cfa_ml.json"), "nothing")


def _has_ordinal_statistics() -> bool:
    import importlib.util

    return importlib.util.find_spec("riskmodel_sem.sem.polychoric") is not None


@pytest.mark.skipif(not _has_ordinal_statistics(),
                    reason="ordered data need riskmodel_sem.sem.polychoric (thresholds and "
                           "polychoric correlations), which this tree does not have yet")
def test_ordinal_omega_matches_comprelsem():
    ref = _ref("hs_ordinal_wlsmv.json")
    fit = fit_model(ref["model"], _data(ref), estimator="WLSMV")
    got = omega(fit)
    np.testing.assert_allclose([got[k] for k in ref["reliability"]["omega"]],
                               list(ref["reliability"]["omega"].values()), rtol=RTOL)
    got = ave(fit)
    np.testing.assert_allclose([got[k] for k in ref["reliability"]["ave"]],
                               list(ref["reliability"]["ave"].values()), rtol=RTOL)


def test_composite_reliability_is_the_reliability_of_standardized_items():
    # CR is the model-implied reliability of the sum of z-scored items: on the implied
    # correlation matrix, common variance 1'D^-1 (l l' phi) D^-1 1 over 1'R 1.
    fit = _fit("hs_cfa_ml.json")
    cr = composite_reliability(fit)
    sigma = fit.implied_cov
    lam = loadings(fit)
    phi = _ref("hs_cfa_ml.json")["estimates"]
    for f, ld in lam.items():
        names = list(ld)
        var_f = next(e["est"] for e in phi if e["op"] == "~~" and e["lhs"] == f and e["rhs"] == f)
        d = np.sqrt(np.diag(sigma.loc[names, names].to_numpy()))
        common = np.outer(list(ld.values()), list(ld.values())) * var_f / np.outer(d, d)
        total = sigma.loc[names, names].to_numpy() / np.outer(d, d)
        assert cr[f] == pytest.approx(common.sum() / total.sum(), rel=RTOL)
    # ... and differs from compRelSEM's raw-score omega
    assert abs(cr["speed"] - omega(fit)["speed"]) > 1e-3


def test_composite_reliability_by_hand():
    fit = _fit("hs_cfa_ml.json")
    est = _ref("hs_cfa_ml.json")["estimates"]
    lam = [e["std.all"] for e in est if e["op"] == "=~" and e["lhs"] == "speed"]
    th = [e["std.all"] for e in est if e["op"] == "~~" and e["lhs"] == e["rhs"]
          and e["lhs"] in ("x7", "x8", "x9")]
    want = sum(lam) ** 2 / (sum(lam) ** 2 + sum(th))
    assert composite_reliability(fit)["speed"] == pytest.approx(want, rel=RTOL)
