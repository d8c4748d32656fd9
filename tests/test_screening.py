"""Screening: item statistics, careless-response flags, Mahalanobis, Mardia, missingness."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import mahalanobis as scipy_mahalanobis

from riskmodel_sem.errors import DataQualityWarning, OptionError, SurveyDataError
from riskmodel_sem.psychometrics.screening import (FLAG_RULES, em_moments, irv, item_statistics, longstring,
                                     mahalanobis, mardia, missing_patterns, screen)
from riskmodel_sem.survey.simulate import simulate_survey
from riskmodel_sem.survey.spec import load_spec

from conftest import GCRM_SPEC, REFERENCE

HS_ITEMS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def gcrm():
    return load_spec(GCRM_SPEC)


def _planted(spec, seed: int, n: int = 600, n_bad: int = 30) -> tuple[pd.DataFrame, np.ndarray]:
    """Genuine respondents from the spec's population plus straight-liners and random
    responders; returns the frame and labels (0 genuine, 1 straight-liner, 2 random)."""
    genuine = simulate_survey(spec, n, seed).drop(columns="id")
    codes = list(genuine.columns)
    rng = np.random.default_rng(seed + 1)
    lo, hi = spec.scale.min, spec.scale.max
    straight = pd.DataFrame(np.repeat(rng.integers(lo, hi + 1, size=(n_bad, 1)), len(codes),
                                      axis=1), columns=codes)
    random = pd.DataFrame(rng.integers(lo, hi + 1, size=(n_bad, len(codes))), columns=codes)
    frame = pd.concat([genuine, straight, random], ignore_index=True)
    labels = np.r_[np.zeros(n), np.ones(n_bad), np.full(n_bad, 2)].astype(int)
    order = rng.permutation(len(frame))  # careless rows are not all at the end
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame, labels[order]


@pytest.mark.parametrize("seed", [20231, 7])
def test_planted_careless_respondents_are_flagged(gcrm, seed):
    frame, labels = _planted(gcrm, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        res = screen(frame, gcrm)
    flagged = res.respondents["flagged"].to_numpy()
    careless = labels > 0
    assert flagged[careless].mean() >= 0.75
    assert flagged[labels == 1].mean() >= 0.75
    assert flagged[labels == 2].mean() >= 0.75
    assert flagged[~careless].mean() <= 0.05
    # nothing is dropped
    assert len(res.respondents) == len(frame) == res.n_rows
    assert res.n_flagged == int(flagged.sum())
    straight = res.respondents[labels == 1]
    assert all("longstring" in r and "irv" in r for r in straight["reasons"])


def test_speeders_duplicates_and_missing(gcrm):
    frame = simulate_survey(gcrm, 200, 3)
    frame["secs"] = np.linspace(500, 700, 200)
    frame.loc[5, "secs"] = 100.0            # < half the median (about 600)
    frame.loc[6, gcrm.item_codes] = frame.loc[7, gcrm.item_codes].to_numpy()   # duplicate
    frame.loc[8, list(gcrm.item_codes)[:20]] = np.nan                          # 20 of 33 missing
    frame.loc[9, "FIN1"] = 9                                                   # out of scale
    with pytest.warns(DataQualityWarning):
        res = screen(frame, gcrm, duration="secs")
    r = res.respondents.set_index("row")
    assert r.loc[5, "reasons"] == ("speeder",)
    assert "duplicate" in r.loc[6, "reasons"] and "duplicate" in r.loc[7, "reasons"]
    assert "missing" in r.loc[8, "reasons"] and r.loc[8, "n_missing"] == 20
    assert r.loc[8, "mahalanobis_df"] == 13
    assert res.items.set_index("item").loc["FIN1", "out_of_scale"] == 1
    assert res.thresholds["speed_fraction"]["median_duration"] == pytest.approx(
        np.median(frame["secs"]))
    pats = res.missing_patterns
    assert pats["n_rows"].sum() == 200 and pats.loc[0, "n_missing_items"] == 0
    assert pats.loc[1, "n_missing_items"] == 20
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert {"id", "flagged", "reasons"} <= set(d["respondents"][0])


def test_every_rule_has_a_source():
    for name, rule in FLAG_RULES.items():
        assert rule["source"] and rule["rule"], name


def test_screen_rejects_unknown_rules_and_columns(gcrm):
    frame = simulate_survey(gcrm, 50, 1)
    with pytest.raises(OptionError):
        screen(frame, gcrm, rules={"nonsense": 1})
    with pytest.raises(SurveyDataError, match="duration"):
        screen(frame, gcrm, duration="time")
    with pytest.raises(SurveyDataError, match="FIN1"):
        screen(frame.drop(columns="FIN1"), gcrm)


def test_lavaan_spec_skips_irv(tmp_path):
    ref = json.loads((REFERENCE / "hs_cfa_ml.json").read_text(encoding="utf-8"))
    (tmp_path / "hs.lav").write_text(ref["model"], encoding="utf-8")
    spec = load_spec(tmp_path / "hs.lav")
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        res = screen(hs, spec)
    assert res.thresholds["irv_range_share"]["applied"] is False
    assert not any("irv" in r for r in res.respondents["reasons"])
    assert res.respondents["id"].tolist() == hs["id"].tolist()
    assert res.items["out_of_scale"].isna().all()


# ---------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------

def test_longstring_and_irv():
    x = np.array([[1, 1, 2, 2, 2, 3], [4, 4, 4, 4, 4, 4], [1, np.nan, 1, 1, 5, 5],
                  [np.nan] * 6], dtype=float)
    assert longstring(x).tolist() == [3, 6, 2, 0]
    v = irv(x)
    assert v[0] == pytest.approx(np.std([1, 1, 2, 2, 2, 3], ddof=1))
    assert v[1] == 0.0
    assert v[2] == pytest.approx(np.std([1, 1, 1, 5, 5], ddof=1))
    assert math.isnan(v[3])


def test_item_statistics_skew_kurtosis_and_ses():
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")[HS_ITEMS]
    tab = item_statistics(hs).set_index("item")
    n = 301
    x = hs["x1"].to_numpy()
    m2 = np.mean((x - x.mean()) ** 2)
    g1 = np.mean((x - x.mean()) ** 3) / m2 ** 1.5
    g2 = np.mean((x - x.mean()) ** 4) / m2 ** 2 - 3
    assert tab.loc["x1", "skew"] == pytest.approx(g1 * np.sqrt(n * (n - 1)) / (n - 2), rel=1e-10)
    assert tab.loc["x1", "kurtosis"] == pytest.approx(
        ((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)), rel=1e-10)
    ses = np.sqrt(6 * n * (n - 1) / ((n - 2) * (n + 1) * (n + 3)))
    assert tab.loc["x1", "skew_se"] == pytest.approx(ses, rel=1e-12)
    assert tab.loc["x1", "kurtosis_se"] == pytest.approx(
        2 * ses * np.sqrt((n * n - 1) / ((n - 3) * (n + 5))), rel=1e-12)
    assert tab.loc["x1", "sd"] == pytest.approx(x.std(ddof=1), rel=1e-12)


def test_mahalanobis_matches_scipy_and_handles_missing():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((100, 4)) @ np.array([[1, .5, 0, 0], [0, 1, .3, 0], [0, 0, 1, .2],
                                                  [0, 0, 0, 1]])
    mu, cov = x.mean(0), np.cov(x, rowvar=False)
    d2, df, p = mahalanobis(x, mu, cov)
    vi = np.linalg.inv(cov)
    assert d2[3] == pytest.approx(scipy_mahalanobis(x[3], mu, vi) ** 2, rel=1e-10)
    assert p[3] == pytest.approx(stats.chi2.sf(d2[3], 4), rel=1e-10)
    x[0, 1] = np.nan
    d2, df, _ = mahalanobis(x, mu, cov)
    o = [0, 2, 3]
    assert df[0] == 3
    assert d2[0] == pytest.approx(
        scipy_mahalanobis(x[0, o], mu[o], np.linalg.inv(cov[np.ix_(o, o)])) ** 2, rel=1e-10)


def test_mardia_definition_and_invariance():
    rng = np.random.default_rng(11)
    n, p = 3000, 5   # large enough that b1p is accumulated in several blocks
    x = rng.standard_normal((n, p)) ** 2     # skewed, heavy-tailed
    res = mardia(x)
    xc = x - x.mean(0)
    s = xc.T @ xc / n
    d = xc @ np.linalg.solve(s, xc.T)
    assert res["skew_b1p"] == pytest.approx((d ** 3).sum() / n ** 2, rel=1e-9)
    assert res["kurtosis_b2p"] == pytest.approx((np.diag(d) ** 2).sum() / n, rel=1e-9)
    assert res["skew_df"] == p * (p + 1) * (p + 2) / 6
    assert res["skew_p"] < 1e-10 and res["kurtosis_p"] < 1e-10
    # affine invariance
    a = rng.standard_normal((p, p)) + 3 * np.eye(p)
    res2 = mardia(x @ a + 7)
    assert res2["skew_b1p"] == pytest.approx(res["skew_b1p"], rel=1e-8)
    assert res2["kurtosis_b2p"] == pytest.approx(res["kurtosis_b2p"], rel=1e-8)


def test_mardia_calibration_under_normality():
    # Under multivariate normality the kurtosis z is about N(0, 1): over 200 samples its
    # rejection rate at .05 stays well below .15.
    rng = np.random.default_rng(4)
    rej = [mardia(rng.standard_normal((400, 4)))["kurtosis_p"] < 0.05 for _ in range(200)]
    assert np.mean(rej) < 0.15


def test_normality_recommendation(tmp_path):
    (tmp_path / "f.lav").write_text("F =~ a + b + c + d\n", encoding="utf-8")
    spec = load_spec(tmp_path / "f.lav")
    rng = np.random.default_rng(1)  # a normal sample (Mardia's test is calibrated: see above)
    f = rng.standard_normal((500, 1))
    normal = pd.DataFrame(0.7 * f + 0.7 * rng.standard_normal((500, 4)), columns=list("abcd"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        res = screen(normal, spec)
    assert res.normality["kurtosis_p"] > 0.05
    assert res.normality["recommendation"] == "MLR"
    assert res.normality["reason"].startswith("the answers are continuous")
    assert "Rhemtulla" in res.normality["recommendation_source"]
    heavy = normal / np.sqrt(rng.chisquare(3, size=(500, 1)) / 3)  # multivariate t(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        res = screen(heavy, spec)
    assert res.normality["kurtosis_p"] < 0.001
    assert res.normality["recommendation"] == "MLR"
    assert "kurtosis" in res.normality["reason"]


def _cut(x, cuts):
    return pd.DataFrame(np.digitize(x, cuts) + 1.0, columns=x.columns)


def test_recommendation_for_likert_items(tmp_path):
    """Rhemtulla, Brosseau-Liard & Savalei (2012): five or more symmetric categories -> MLR;
    fewer than five, or strongly asymmetric answers (Finney & DiStefano 2013) -> WLSMV."""
    (tmp_path / "f.lav").write_text("F =~ a + b + c + d\n", encoding="utf-8")
    spec = load_spec(tmp_path / "f.lav")
    rng = np.random.default_rng(2)
    f = rng.standard_normal((500, 1))
    x = pd.DataFrame(0.7 * f + 0.7 * rng.standard_normal((500, 4)), columns=list("abcd"))

    def rec(data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            return screen(data, spec).normality
    five = rec(_cut(x, [-1.5, -0.5, 0.5, 1.5]))
    assert (five["recommendation"], five["min_categories"]) == ("MLR", 5)
    three = rec(_cut(x, [-0.5, 0.5]))
    assert three["recommendation"] == "WLSMV"
    assert three["n_items_few_categories"] == 4
    assert "fewer than 5 answer categories (a, b, c, d)" in three["reason"]
    skewed = rec(_cut(x, [1.6, 2.0, 2.4, 2.8]))   # five categories, nearly all answers 1
    assert skewed["min_categories"] == 5
    assert skewed["recommendation"] == "WLSMV"
    assert "strongly asymmetric" in skewed["reason"]


def test_em_moments():
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")[HS_ITEMS].to_numpy()
    mu, cov, it = em_moments(hs)
    assert it == 1
    np.testing.assert_allclose(cov, np.cov(hs, rowvar=False) * 300 / 301, rtol=1e-12)
    hsm = pd.read_csv(REFERENCE / "holzinger1939_missing.csv")[HS_ITEMS].to_numpy()
    mu, cov, it = em_moments(hsm)
    assert it > 1
    # x2 is complete: its mean and variance are the complete-data ones
    x2 = hsm[:, 1]
    assert mu[1] == pytest.approx(x2.mean(), rel=1e-10)
    assert cov[1, 1] == pytest.approx(x2.var(), rel=1e-10)
    with pytest.raises(SurveyDataError):
        em_moments(np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan]]))


def test_missing_patterns_table():
    df = pd.DataFrame({"a": [1, np.nan, 3, np.nan], "b": [1, 2, 3, np.nan]})
    tab = missing_patterns(df)
    assert tab.to_dict(orient="list") == {"pattern": ["11", "01", "00"], "n_rows": [2, 1, 1],
                                          "n_missing_items": [0, 1, 2],
                                          "missing_items": ["", "a", "a, b"]}


def test_platform_duration_texts(gcrm):
    frame = simulate_survey(gcrm, 60, 9)
    frame["time"] = ["4分10秒"] * 59 + ["95秒"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        res = screen(frame, gcrm, duration="time")
    assert res.respondents["duration"].iloc[0] == 250.0
    assert res.respondents["speeder"].tolist() == [False] * 59 + [True]
    frame["time"] = "n/a"
    with pytest.raises(SurveyDataError, match="no numbers"):
        screen(frame, gcrm, duration="time")


@pytest.mark.parametrize("n, p", [(300, 6), (1500, 6), (2000, 33)])
def test_mardia_skewness_equals_the_double_sum_on_both_paths(n, p):
    """n <= p^2 sums the n x n matrix, n > p^2 the third-moment tensor: the same number."""
    x = np.random.default_rng(n + p).standard_normal((n, p)) ** 2
    xc = x - x.mean(axis=0)
    d = xc @ np.linalg.solve(xc.T @ xc / n, xc.T)
    np.testing.assert_allclose(mardia(x)["skew_b1p"], np.sum(d ** 3) / n ** 2, rtol=1e-10)

