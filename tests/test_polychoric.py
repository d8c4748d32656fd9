"""Ordinal sample statistics against lavaan 0.6.14 (tests/reference/make_polychoric.R).

Thresholds match to 1e-12. Correlations are compared at 1e-6 relative with 1e-6 absolute:
lavaan's ``nlminb`` stops at a relative change of the objective of 1e-10, which leaves its
polychoric correlations up to 5e-8 and its polyserial ones up to 5e-7 from the root of the
likelihood equation that ``ordinal_stats`` solves to 1e-12 (``lavCor`` and ``wls.obs`` agree
with each other, not with the exact maximum, in the seventh decimal). Gamma follows the
correlations; with lavaan's own correlations plugged in, the score formulas reproduce its
gamma to 1e-14, and end to end it agrees to 1e-6 of its largest element.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from riskmodel_sem.errors import DataQualityWarning, OptionError, SurveyDataError
from riskmodel_sem.sem.polychoric import (bivariate_normal_cdf, ordinal_stats,
                                          polychoric_matrix)

from conftest import load_reference, reference_path

REF = load_reference("polychoric_lavaan.json")
DATA = pd.read_csv(reference_path("polychoric_data.csv"))
CASES = sorted(REF["cases"])


def _stats(name):
    case = REF["cases"][name]
    names = case["variables"]
    ordered = [v in case["ordered"] for v in names]
    levels = [sorted(DATA[v].dropna().unique()) if o else None for v, o in zip(names, ordered)]
    if case["group"]:
        frames = [DATA[DATA[case["group"]] == g] for g in case["group_labels"]]
    else:
        frames = [DATA]
    return case, [ordinal_stats(f[names].to_numpy(float), names, ordered,
                                missing=case["missing"], levels=levels, group=label)
                  for f, label in zip(frames, case["group_labels"] or [None])]


@pytest.mark.parametrize("name", CASES)
def test_sample_statistics_match_lavaan(name):
    case, stats = _stats(name)
    assert len(stats) == len(case["groups"])
    for got, want in zip(stats, case["groups"]):
        assert got.n == want["n"]
        assert list(got.wls_names) == want["wls_names"]
        np.testing.assert_allclose(got.thresholds, want["th"], rtol=1e-12, atol=1e-12)
        sds = np.sqrt(got.variances)
        np.testing.assert_allclose(got.correlations * np.outer(sds, sds), want["cov"],
                                   rtol=1e-6, atol=1e-6)
        means = np.asarray(want["mean"], dtype=float)
        np.testing.assert_allclose(got.means, means, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got.wls_obs, want["wls_obs"], rtol=1e-6, atol=1e-6)
        gamma = np.asarray(want["gamma"])
        assert got.gamma.shape == gamma.shape
        np.testing.assert_allclose(got.gamma, gamma, rtol=0, atol=1e-6 * np.abs(gamma).max())
        np.testing.assert_allclose(got.gamma, got.gamma.T, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", [c for c in CASES if REF["cases"][c]["lavcor"]])
def test_correlations_match_lavcor(name):
    case = REF["cases"][name]
    names = case["variables"]
    ordered = [v in case["ordered"] for v in names]
    got = polychoric_matrix(DATA[names].to_numpy(float), names, ordered,
                            missing=case["missing"])
    np.testing.assert_allclose(got, case["lavcor"], rtol=1e-6, atol=1e-6)


def test_correlations_solve_the_likelihood_equation():
    """Each polychoric correlation maximizes its pair's likelihood: the log-likelihood at
    rho is above its values at rho +- 1e-5 (no reference needed)."""
    names = [f"o5_x{i}" for i in range(1, 10)]
    x = DATA[names].to_numpy(float)
    rho = polychoric_matrix(x, names)
    for i, j in [(0, 1), (2, 4), (5, 8)]:
        table = pd.crosstab(x[:, i], x[:, j]).to_numpy()
        ti = ordinal_stats(x[:, [i]], ["a"], [True]).thresholds
        tj = ordinal_stats(x[:, [j]], ["b"], [True]).thresholds
        a = np.concatenate([[-np.inf], ti, [np.inf]])
        b = np.concatenate([[-np.inf], tj, [np.inf]])

        def loglik(r):
            grid = bivariate_normal_cdf(a[:, None], b[None, :], r)
            cells = grid[1:, 1:] - grid[:-1, 1:] - grid[1:, :-1] + grid[:-1, :-1]
            return float((table * np.log(cells)).sum())
        best = loglik(rho[i, j])
        assert best > loglik(rho[i, j] + 1e-5)
        assert best > loglik(rho[i, j] - 1e-5)


def test_bivariate_normal_cdf_matches_pbivnorm():
    ref = REF["pbivnorm"]
    got = bivariate_normal_cdf(ref["x"], ref["y"], ref["rho"])
    np.testing.assert_allclose(got, ref["p"], rtol=1e-10, atol=1e-15)


def test_bivariate_normal_cdf_limits():
    assert bivariate_normal_cdf(np.inf, 0.3, 0.5) == pytest.approx(0.617911422188953, abs=1e-14)
    assert bivariate_normal_cdf(-np.inf, 0.3, 0.5) == pytest.approx(0.0, abs=1e-300)
    # independence and perfect correlation
    assert bivariate_normal_cdf(0.4, -0.2, 0.0) == pytest.approx(
        0.655421741610324 * 0.420740290560897, rel=1e-13)
    assert bivariate_normal_cdf(0.4, -0.2, 1.0) == pytest.approx(0.420740290560897, rel=1e-13)
    assert bivariate_normal_cdf(0.4, -0.2, -1.0) == pytest.approx(
        0.655421741610324 + 0.420740290560897 - 1.0, rel=1e-12)
    with pytest.raises(OptionError):
        bivariate_normal_cdf(0.0, 0.0, 1.5)


def test_acov_false_gives_the_same_correlations_without_gamma():
    names = [f"o3_x{i}" for i in range(1, 10)]
    x = DATA[names].to_numpy(float)
    full = ordinal_stats(x, names, [True] * 9)
    light = ordinal_stats(x, names, [True] * 9, acov=False)
    np.testing.assert_array_equal(full.correlations, light.correlations)
    assert light.gamma.shape == (0, 0)


def test_inputs_are_not_modified():
    names = [f"m5_x{i}" for i in range(1, 10)]
    x = DATA[names].to_numpy(float)
    before = x.copy()
    ordinal_stats(x, names, [True] * 9, missing="pairwise")
    np.testing.assert_array_equal(np.isnan(x), np.isnan(before))
    np.testing.assert_array_equal(np.nan_to_num(x), np.nan_to_num(before))


# ---- bad input (issue 13 section 5) ----------------------------------------------------------


def test_one_category_is_refused():
    x = DATA[["o5_x1", "o5_x2"]].to_numpy(float)
    x[:, 0] = 3.0
    with pytest.raises(SurveyDataError, match=r"'o5_x1' has a single category \(3\)"):
        ordinal_stats(x, ["o5_x1", "o5_x2"], [True, True])


def test_category_empty_in_one_group_is_refused_as_lavaan_does():
    """lavaan: 'some categories of variable `o5_x1' are empty in group 1; frequencies are
    [14 37 60 45 0]'."""
    names = ["o5_x1", "o5_x2"]
    data = DATA.copy()
    data.loc[(data["school"] == "Pasteur") & (data["o5_x1"] == 5), "o5_x1"] = 4
    levels = [sorted(data[v].unique()) for v in names]
    pasteur = data[data["school"] == "Pasteur"][names].to_numpy(float)
    with pytest.raises(SurveyDataError, match=r"'o5_x1' are empty in group Pasteur; "
                                              r"frequencies of 1, 2, 3, 4, 5 are \[14 37 60 45 0\]"):
        ordinal_stats(pasteur, names, [True, True], levels=levels, group="Pasteur")
    # the other group still has every category
    grant = data[data["school"] == "Grant-White"][names].to_numpy(float)
    ordinal_stats(grant, names, [True, True], levels=levels, group="Grant-White")


def test_many_categories():
    x = DATA[["c_x1", "o5_x2"]].to_numpy(float)
    ranks = pd.Series(x[:, 0]).rank(method="first").to_numpy()
    x15 = x.copy()
    x15[:, 0] = np.ceil(ranks / ranks.max() * 15)
    with pytest.warns(DataQualityWarning, match="15 categories"):
        ordinal_stats(x15, ["a", "b"], [True, True])
    x25 = x.copy()
    x25[:, 0] = np.ceil(ranks / ranks.max() * 25)
    with pytest.raises(OptionError, match="'a' has 25 categories; more than 20"):
        ordinal_stats(x25, ["a", "b"], [True, True])


def test_two_by_two_table_with_an_empty_cell():
    """lavaan's zero.add = c(0.5, 0) with zero.keep.margins = TRUE adds 0.5 to the empty cell
    and its diagonal partner and takes 0.5 from the other two cells before estimating; the
    pair is listed in ``zero_cell_pairs``.

    Deliberate difference: lavaan 0.6.14 reports 0.999 for this table even with the
    correction, because its gradient drops cells whose probability is below sqrt(eps) and
    nlminb stops at the bound after its first step; the maximum of the corrected likelihood
    (0.9588) is returned here."""
    names = ["o2_x1", "o2_x2", "o2_x3"]
    data = DATA[names].copy()
    data.loc[(data["o2_x1"] == 1) & (data["o2_x2"] == 2), "o2_x1"] = 2
    x = data.to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        adjusted = ordinal_stats(x, names, [True] * 3)
    assert adjusted.zero_cell_pairs == (("o2_x1", "o2_x2"),)
    # the adjusted table [[110.5, 0.5], [61.5, 128.5]] gives the tetrachoric correlation
    a = adjusted.thresholds[0]
    b = adjusted.thresholds[1]
    r = adjusted.correlations[0, 1]
    table = np.array([[110.5, 0.5], [61.5, 128.5]])

    def loglik(rho):
        p11 = bivariate_normal_cdf(a, b, rho)
        pa, pb = 111 / 301, 172 / 301
        cells = np.array([[p11, pa - p11], [pb - p11, 1 - pa - pb + p11]])
        return float((table * np.log(cells)).sum())
    assert 0.9 < r < 0.99
    assert loglik(r) > max(loglik(r - 1e-5), loglik(r + 1e-5))
    # without the correction the likelihood grows to the bound, lavaan's 0.999
    with pytest.warns(DataQualityWarning, match="nearly"):
        plain = ordinal_stats(x, names, [True] * 3, zero_add=(0.0, 0.0))
    assert plain.correlations[0, 1] == pytest.approx(0.999, abs=1e-9)


def test_bad_arguments():
    x = DATA[["o5_x1", "o5_x2"]].to_numpy(float)
    with pytest.raises(OptionError, match="missing"):
        ordinal_stats(x, ["a", "b"], [True, True], missing="fiml")
    with pytest.raises(OptionError, match="2 columns but 3 names"):
        ordinal_stats(x, ["a", "b", "c"], [True, True])
    with pytest.raises(SurveyDataError, match="not one of its categories"):
        ordinal_stats(x, ["a", "b"], [True, True], levels=[[1, 2, 3], None])
