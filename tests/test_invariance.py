"""Measurement invariance against lavaan (hs_invariance_school.json)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel_sem.sem.comparison import invariance, release_parameters
from riskmodel_sem.errors import OptionError
from riskmodel_sem.sem.estimation import fit_model

from conftest import load_reference, load_reference_data


LEVELS = ("configural", "metric", "scalar")


@pytest.fixture(scope="module")
def ref():
    return load_reference("hs_invariance_school.json")


@pytest.fixture(scope="module")
def result(ref, hs):
    return invariance(hs, ref["model"], "school")


def test_group_order_is_first_appearance(result, ref):
    assert result.group_labels == tuple(ref["fit_info"]["configural"]["group.label"])


@pytest.mark.parametrize("level", LEVELS)
def test_fit_measures_match_lavaan(result, ref, level):
    fit = result.fits[level].fit
    for key, value in ref["fit"][level].items():
        if value is None:
            continue
        np.testing.assert_allclose(fit[key.replace(".", "_")], value, rtol=1e-4, atol=1e-12,
                                   err_msg=f"{level} {key}")


@pytest.mark.parametrize("level", LEVELS)
def test_estimates_match_lavaan(result, ref, level):
    est = result.fits[level].estimates.set_index(["lhs", "op", "rhs", "group"])
    refrows = pd.DataFrame(ref["estimates"][level])
    assert len(est) == len(refrows)
    for row in refrows.to_dict(orient="records"):
        where = f"{level} {row['lhs']}{row['op']}{row['rhs']} g{row['group']}"
        ours = est.loc[(row["lhs"], row["op"], row["rhs"], row["group"])]
        assert (ours["label"] or "") == row["label"], where
        for col, rcol in (("est", "est"), ("se", "se"), ("std_all", "std.all"),
                          ("std_lv", "std.lv")):
            np.testing.assert_allclose(ours[col], row[rcol], rtol=1e-4, atol=1e-6,
                                       err_msg=where)


@pytest.mark.parametrize("level", LEVELS)
def test_r2_per_group(result, ref, level):
    r2 = result.fits[level].r2
    for g, label in enumerate(result.group_labels, start=1):
        for var, value in ref["r2"][level][label].items():
            np.testing.assert_allclose(r2[f"{var}.g{g}"], value, rtol=1e-4)


def test_npar_counts_equal_parameters_once(result, ref):
    for level in LEVELS:
        assert result.fits[level].fit["npar"] == ref["fit"][level]["npar"]
    # lavaan's fit_info counts every free row before the equality constraints
    pt = result.fits["scalar"].model.partable
    assert int((pt["free"] > 0).sum()) == ref["fit_info"]["scalar"]["npar"]


def test_lrt_table_matches_lavtestlrt(result, ref):
    tests = result.tests.set_index("model_a")
    for row in ref["lrt"]["table"][1:]:
        t = tests.loc[row["model"]]
        np.testing.assert_allclose(t["chisq_diff"], row["Chisq diff"], rtol=1e-4)
        assert t["df_diff"] == row["Df diff"]
        np.testing.assert_allclose(t["pvalue"], row["Pr(>Chisq)"], rtol=1e-4)
        np.testing.assert_allclose(t["rmsea_diff"], row["RMSEA"], rtol=1e-4)
    assert list(result.tests["model_b"][:2]) == ["configural", "metric"]


def test_chen_criteria(result, ref):
    table = result.models.set_index("name")
    d = ref["fit"]["scalar"]["cfi"] - ref["fit"]["metric"]["cfi"]
    np.testing.assert_allclose(table.loc["scalar", "delta_cfi"], d, rtol=1e-4)
    assert bool(table.loc["metric", "chen_ok"]) is True  # dCFI -.0025, dRMSEA < 0
    assert bool(table.loc["scalar", "chen_ok"]) is False  # dCFI -.038
    assert result.criteria["sample_size"] == "large"  # N = 301 > 300
    assert result.failed_level == "scalar"


def test_strict_constrains_residual_variances(result):
    strict = result.fits["strict"]
    assert strict.fit["df"] == result.fits["scalar"].fit["df"] + 9
    est = strict.estimates
    res = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"]) & est["lhs"].str.match(r"x\d")]
    by_group = res.pivot(index="lhs", columns="group", values="est")
    np.testing.assert_allclose(by_group[1], by_group[2], rtol=1e-12)
    assert result.tests.iloc[-1]["df_diff"] == 9


def test_partial_invariance_releases_intercepts(result, hs, ref):
    partial = result.partial
    assert list(partial["op"].unique()) == ["~1"] and len(partial) == 9
    assert (partial["df"] == 1).all()
    # x3 and x7 are the non-invariant intercepts of the Holzinger-Swineford data
    assert list(partial["lhs"][:2]) == ["x3", "x7"]
    top = partial.iloc[0]
    scalar = result.fits["scalar"].fit["chisq"]
    assert top["chisq"] < scalar and top["df_model"] == 59
    # the score test approximates the likelihood-ratio drop of the refit
    np.testing.assert_allclose(top["score"], scalar - top["chisq"], rtol=0.05)


def test_partable_refit_reproduces_constrained_fit(result, hs):
    table = release_parameters(result.fits["scalar"].model.partable, ())
    again = fit_model(table, hs, group="school", compute_modindices=False)
    np.testing.assert_allclose(again.fit["chisq"], result.fits["scalar"].fit["chisq"],
                               rtol=1e-8)
    assert again.fit["df"] == result.fits["scalar"].fit["df"]


def test_errors(hs, ref):
    with pytest.raises(OptionError):
        invariance(hs, ref["model"], "no_such_column")
    with pytest.raises(OptionError):
        invariance(hs, ref["model"], "school", levels=("metric", "configural"))
    with pytest.raises(OptionError):
        invariance(hs.assign(one="a"), ref["model"], "one")


def test_to_dict_layout(result):
    out = result.to_dict()
    assert [m["name"] for m in out["models"]] == ["configural", "metric", "scalar", "strict"]
    assert out["tests"][0]["model_a"] == "metric" and out["tests"][0]["df_diff"] == 6
    assert out["failed_level"] == "scalar"


@pytest.mark.slow
def test_mlr_fiml_runs_with_scaled_tests():
    data = load_reference_data("holzinger1939_missing.csv")
    res = invariance(data, "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                           "speed =~ x7 + x8 + x9", "school", estimator="MLR", missing="fiml",
                     levels=("configural", "metric"))
    assert res.n_obs == 301
    t = res.tests.iloc[0]
    assert t["method"] == "satorra.bentler.2001"
    fc, fm = res.fits["configural"].fit, res.fits["metric"].fit
    cd = (fm["df"] * fm["chisq_scaling_factor"] - fc["df"] * fc["chisq_scaling_factor"]) / 6
    np.testing.assert_allclose(t["chisq_diff"], (fm["chisq"] - fc["chisq"]) / cd, rtol=1e-12)
