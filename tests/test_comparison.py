"""Comparison of specifications against lavaan's lavTestLRT (hs_compare.json)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from riskmodel_sem.sem.comparison import compare, difference_test, nested_in
from riskmodel_sem.errors import OptionError

from conftest import load_reference


HS = "visual  =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed   =~ x7 + x8 + x9"
HS1 = "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9"
FIT_KEYS = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
            "rmsea.ci.upper", "srmr", "aic", "bic", "logl"]
ROBUST_KEYS = ["chisq.scaled", "chisq.scaling.factor", "cfi.robust", "tli.robust",
               "rmsea.robust"]


@pytest.fixture(scope="module")
def ref():
    return load_reference("hs_compare.json")


@pytest.fixture(scope="module")
def ml(hs):
    return compare(hs, {"one_factor_ml": HS1, "three_factor_ml": HS})


def _check_fit(result, ref, keys):
    for name, fit in result.fits.items():
        for key in keys:
            np.testing.assert_allclose(fit.fit[key.replace(".", "_")], ref["fit"][name][key],
                                       rtol=1e-4, atol=1e-12,
                                       err_msg=f"{name} {key}")  # lavaan: p = 1 - pchisq


def _lrt_row(ref, block, name):
    return next(r for r in ref["lrt"][block]["table"] if r["model"] == name)


def test_ml_fit_measures_match_lavaan(ml, ref):
    _check_fit(ml, ref, FIT_KEYS)
    table = ml.models.set_index("name")
    for name in ("one_factor_ml", "three_factor_ml"):
        f = ref["fit"][name]
        np.testing.assert_allclose(table.loc[name, "chisq_df"], f["chisq"] / f["df"], rtol=1e-4)
        np.testing.assert_allclose(table.loc[name, "aic"], f["aic"], rtol=1e-4)


def test_ml_lrt_matches_lavtestlrt(ml, ref):
    assert len(ml.tests) == 1
    test = ml.tests.iloc[0]
    assert (test["model_a"], test["model_b"]) == ("one_factor_ml", "three_factor_ml")
    assert test["basis"] == "factor_merge" and test["method"] == "lrt"
    row = _lrt_row(ref, "ml", "one_factor_ml")
    np.testing.assert_allclose(test["chisq_diff"], row["Chisq diff"], rtol=1e-4)
    assert test["df_diff"] == row["Df diff"]
    np.testing.assert_allclose(test["pvalue"], row["Pr(>Chisq)"], rtol=1e-4)
    np.testing.assert_allclose(test["rmsea_diff"], row["RMSEA"], rtol=1e-4)


def test_ml_deltas_and_weights(ml, ref):
    table = ml.models.set_index("name")
    one, three = ref["fit"]["one_factor_ml"], ref["fit"]["three_factor_ml"]
    np.testing.assert_allclose(table.loc["three_factor_ml", "delta_cfi"],
                               three["cfi"] - one["cfi"], rtol=1e-4)
    np.testing.assert_allclose(table.loc["three_factor_ml", "delta_rmsea"],
                               three["rmsea"] - one["rmsea"], rtol=1e-4)
    assert table.loc["one_factor_ml", "delta_cfi"] == 0.0
    d = one["aic"] - three["aic"]
    np.testing.assert_allclose(table.loc["one_factor_ml", "aic_weight"],
                               math.exp(-d / 2) / (1 + math.exp(-d / 2)), rtol=1e-3)
    np.testing.assert_allclose(table["bic_weight"].sum(), 1.0, rtol=1e-12)
    assert ml.equivalent == []


def test_mlr_scaled_difference_matches_lavtestlrt(hs, ref):
    res = compare(hs, {"one_factor_mlr": HS1, "three_factor_mlr": HS}, estimator="MLR")
    _check_fit(res, ref, FIT_KEYS + ROBUST_KEYS)
    test = res.tests.iloc[0]
    assert test["method"] == "satorra.bentler.2001"
    row = _lrt_row(ref, "mlr", "one_factor_mlr")
    np.testing.assert_allclose(test["chisq_diff"], row["Chisq diff"], rtol=1e-4)
    assert test["df_diff"] == row["Df diff"]
    # p is ~1e-46: its relative error is about chisq_diff/2 times that of chisq_diff, which
    # inherits the 5e-7 agreement of the MLR scaling factors; compare on the log scale here
    # (test_satorra_bentler_2001_formula checks p to 1e-8 from lavaan's own factors)
    np.testing.assert_allclose(np.log(test["pvalue"]), np.log(row["Pr(>Chisq)"]), rtol=1e-5)


def _fake(chisq, df, c, estimator="MLR"):
    return SimpleNamespace(fit={"chisq": chisq, "df": df, "chisq_scaling_factor": c},
                           estimator=estimator, n_obs=301, model=SimpleNamespace(ngroups=1))


def test_satorra_bentler_2001_formula(ref):
    # the formula alone, from lavaan's own statistics and scaling factors
    one, three = ref["fit"]["one_factor_mlr"], ref["fit"]["three_factor_mlr"]
    res = difference_test(_fake(one["chisq"], one["df"], one["chisq.scaling.factor"]),
                          _fake(three["chisq"], three["df"], three["chisq.scaling.factor"]))
    row = _lrt_row(ref, "mlr", "one_factor_mlr")
    np.testing.assert_allclose(res["chisq_diff"], row["Chisq diff"], rtol=1e-10)
    np.testing.assert_allclose(res["pvalue"], row["Pr(>Chisq)"], rtol=1e-8)
    cd = (27 * one["chisq.scaling.factor"] - 24 * three["chisq.scaling.factor"]) / 3
    np.testing.assert_allclose(res["scaling_factor"], cd, rtol=1e-12)


def test_negative_scaling_factor_gives_nan():
    res = difference_test(_fake(50.0, 10, 0.5), _fake(40.0, 8, 2.0))
    assert math.isnan(res["chisq_diff"]) and math.isnan(res["pvalue"])


def test_second_order_is_equivalent_to_three_factors(hs):
    second = HS + "\ng =~ visual + textual + speed"
    res = compare(hs, {"three": HS, "second": second, "one": HS1})
    assert res.equivalent == [["three", "second"]]
    pairs = set(zip(res.tests["model_a"], res.tests["model_b"]))
    assert ("one", "three") in pairs
    assert ("second", "three") not in pairs and ("three", "second") not in pairs


def test_parameter_subset_nesting(hs):
    orth = HS + "\nvisual ~~ 0*textual"
    res = compare(hs, {"three": HS, "orth": orth})
    test = res.tests.iloc[0]
    assert (test["model_a"], test["model_b"], test["basis"]) == ("orth", "three", "parameters")
    assert test["df_diff"] == 1
    assert nested_in(res.fits["three"], res.fits["orth"]) is None


def test_declared_nesting_and_errors(hs):
    with pytest.raises(OptionError):
        compare(hs, {"three": HS})
    with pytest.raises(OptionError):
        compare(hs, {"three": HS, "one": HS1}, declared_nesting=[("one", "nine")])
    with pytest.raises(OptionError):
        compare(hs, {"three": HS, "one": HS1}, estimator="WLS")


def test_same_rows_for_all_models(hs):
    data = hs.copy()
    data.loc[:9, "x9"] = np.nan  # x9 is only in the 3-factor model
    res = compare(data, {"three": HS, "small": "visual =~ x1 + x2 + x3"})
    assert {f.n_obs for f in res.fits.values()} == {291}


def test_to_dict_layout(ml):
    out = ml.to_dict()
    assert [m["name"] for m in out["models"]] == ["one_factor_ml", "three_factor_ml"]
    assert set(out["tests"][0]) >= {"model_a", "model_b", "chisq_diff", "df_diff", "pvalue",
                                    "method"}
    assert out["equivalent"] == []
    assert out["models"][0]["fit"]["df"] == 27
