"""Validity: HTMT/HTMT2 against semTools::htmt, Fornell-Larcker, KMO, Bartlett, EFA, CMV."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pingouin  # noqa: F401  (registers DataFrame.pcorr)
import pytest
from scipy import stats

from riskmodel_sem.errors import OptionError
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.sem.syntax import parse_syntax
from riskmodel_sem.psychometrics.validity import (bartlett, correlation_matrix, efa, fornell_larcker, harman,
                                    htmt, kmo, latent_correlations, one_factor_cfa,
                                    parallel_analysis)

from conftest import REFERENCE, ROOT
from conftest import load_reference as _ref

RTOL = 1e-4

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
HS_ITEMS = [f"x{i}" for i in range(1, 10)]


def _constructs(model: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in model.splitlines():
        line = line.split("#")[0]
        if "=~" in line:
            lhs, rhs = line.split("=~")
            out.setdefault(lhs.strip(), []).extend(t.strip() for t in rhs.split("+"))
    return out


# (case, missing rule semTools used)
HTMT_CASES = [("hs_cfa_ml.json", "listwise"), ("hs_cfa_mlr.json", "listwise"),
              ("hs_cfa_fiml.json", "fiml"), ("poldem_sem_ml.json", "listwise"),
              ("hs_second_order.json", "listwise")]


@pytest.mark.parametrize("case,missing", HTMT_CASES)
@pytest.mark.parametrize("key,geometric", [("htmt", True), ("htmt_original", False)])
def test_htmt_matches_semtools(case, missing, key, geometric):
    ref = _ref(case)
    model = ref["reliability"].get("htmt_model", HS_MODEL)
    data = pd.read_csv(REFERENCE / ref["data"])
    got = htmt(data, _constructs(model), geometric=geometric, missing=missing)
    want = pd.DataFrame(ref["reliability"][key]).loc[got.index, got.columns]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=RTOL, atol=0)


def test_htmt_and_htmt2_differ_and_are_named_by_mean():
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")
    cons = _constructs(HS_MODEL)
    a = htmt(hs, cons, geometric=False)
    g = htmt(hs, cons, geometric=True)
    assert (np.abs(a - g).to_numpy() > 1e-3).sum() == 6
    # arithmetic >= geometric mean of the same absolute correlations, but ratios need not
    # order; check one entry by hand instead
    r = hs[HS_ITEMS].corr().abs()
    between = r.loc[["x1", "x2", "x3"], ["x4", "x5", "x6"]].to_numpy()
    w1 = r.loc[["x1", "x2", "x3"], ["x1", "x2", "x3"]].to_numpy()[np.triu_indices(3, 1)]
    w2 = r.loc[["x4", "x5", "x6"], ["x4", "x5", "x6"]].to_numpy()[np.triu_indices(3, 1)]
    want = between.mean() / np.sqrt(w1.mean() * w2.mean())
    assert a.loc["visual", "textual"] == pytest.approx(want, rel=1e-12)
    gm = stats.gmean
    want2 = gm(between.ravel()) / np.sqrt(gm(w1) * gm(w2))
    assert g.loc["visual", "textual"] == pytest.approx(want2, rel=1e-12)


def test_htmt_ordinal_matches_semtools():
    ref = _ref("hs_ordinal_wlsmv.json")
    data = pd.read_csv(REFERENCE / ref["data"])
    got = htmt(data, _constructs(HS_MODEL), ordered=HS_ITEMS)
    want = pd.DataFrame(ref["reliability"]["htmt"]).loc[got.index, got.columns]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=RTOL)
    got = htmt(data, _constructs(HS_MODEL), ordered=True, geometric=False)
    want = pd.DataFrame(ref["reliability"]["htmt_original"]).loc[got.index, got.columns]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=RTOL)


def test_correlation_matrix_rules():
    hsm = pd.read_csv(REFERENCE / "holzinger1939_missing.csv")[HS_ITEMS]
    lw = correlation_matrix(hsm, "listwise")
    np.testing.assert_allclose(lw.to_numpy(), hsm.dropna().corr().to_numpy(), rtol=1e-12)
    pw = correlation_matrix(hsm, "pairwise")
    np.testing.assert_allclose(pw.to_numpy(), hsm.corr().to_numpy(), rtol=1e-12)
    fiml = correlation_matrix(hsm, "fiml")
    assert not np.allclose(fiml.to_numpy(), lw.to_numpy(), atol=1e-3)
    with pytest.raises(OptionError):
        correlation_matrix(hsm, "mean")


# ---------------------------------------------------------------------------------------------
# Fornell-Larcker
# ---------------------------------------------------------------------------------------------

def test_fornell_larcker_against_reference():
    ref = _ref("hs_cfa_ml.json")
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")
    fit = fit_model(HS_MODEL, hs)
    fl = fornell_larcker(fit, ref["reliability"]["ave"])
    for f, v in ref["reliability"]["ave"].items():
        assert fl.loc[f, f] == pytest.approx(np.sqrt(v), rel=1e-12)
    for e in ref["estimates"]:
        if e["op"] == "~~" and e["lhs"] != e["rhs"] and e["lhs"] in fl.index:
            assert fl.loc[e["lhs"], e["rhs"]] == pytest.approx(e["std.all"], rel=RTOL)
            assert fl.loc[e["rhs"], e["lhs"]] == pytest.approx(e["std.all"], rel=RTOL)


def test_latent_correlations_of_second_order_model():
    ref = _ref("hs_second_order.json")
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")
    fit = fit_model(ref["model"], hs)
    cor = latent_correlations(fit)
    lam = {e["rhs"]: e["std.all"] for e in ref["estimates"]
           if e["op"] == "=~" and e["lhs"] == "g"}
    # implied correlation of two first-order factors = product of their g loadings
    assert cor.loc["visual", "speed"] == pytest.approx(lam["visual"] * lam["speed"], rel=RTOL)


# ---------------------------------------------------------------------------------------------
# KMO and Bartlett
# ---------------------------------------------------------------------------------------------

def test_kmo_against_partial_correlations():
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")[HS_ITEMS]
    r = hs.corr()
    res = kmo(r)
    overall, per = res.overall, res.items
    pcor = hs.pcorr().to_numpy()  # pingouin's partial correlations, independent of kmo()
    r2 = r.to_numpy() ** 2
    q2 = pcor ** 2
    np.fill_diagonal(r2, 0)
    np.fill_diagonal(q2, 0)
    assert overall == pytest.approx(r2.sum() / (r2.sum() + q2.sum()), rel=1e-10)
    np.testing.assert_allclose(per.to_numpy(), r2.sum(0) / (r2.sum(0) + q2.sum(0)), rtol=1e-10)
    assert 0.7 < overall < 0.8
    assert res.criterion == "kmo" and res.criterion_value == overall
    d = res.to_dict()
    assert d["overall"] == overall and list(d["items"]) == HS_ITEMS


def test_bartlett():
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")[HS_ITEMS]
    r = hs.corr()
    res = bartlett(r, 301)
    p = 9
    want = -(301 - 1 - (2 * p + 5) / 6) * np.log(np.linalg.det(r.to_numpy()))
    assert res.chisq == pytest.approx(want, rel=1e-10)
    assert res.df == 36
    assert res.pvalue == pytest.approx(stats.chi2.sf(want, 36), rel=1e-10)
    assert res.to_dict() == {"chisq": res.chisq, "df": 36, "pvalue": res.pvalue, "n": 301}
    assert res.criterion == "bartlett" and res.criterion_value == res.pvalue
    ident = bartlett(pd.DataFrame(np.eye(4)), 100)
    assert ident.chisq == pytest.approx(0.0, abs=1e-12)
    assert ident.pvalue == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# EFA and parallel analysis
# ---------------------------------------------------------------------------------------------

def test_parallel_analysis_is_seeded():
    ev = np.array([3.0, 1.6, 1.3, 0.7, 0.6, 0.5, 0.5, 0.4, 0.4])
    a = parallel_analysis(301, 9, ev, n_iter=50, seed=5)
    b = parallel_analysis(301, 9, ev, n_iter=50, seed=5)
    c = parallel_analysis(301, 9, ev, n_iter=50, seed=6)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    # random eigenvalues of 9 independent variables, n = 301: largest near 1 + sqrt(9/301)^2
    assert 1.2 < a[1][0] < 1.55


def test_efa_recovers_holzinger_swineford_factors():
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")[HS_ITEMS]
    res = efa(hs.corr(), len(hs), seed=20231)
    assert res.n_factors == 3
    prim = res.loadings["primary_factor"]
    groups = [prim[["x1", "x2", "x3"]], prim[["x4", "x5", "x6"]], prim[["x7", "x8", "x9"]]]
    assert all(g.nunique() == 1 for g in groups)
    assert len({g.iloc[0] for g in groups}) == 3
    d = res.to_dict()
    assert d["n_factors"] == 3 and len(d["parallel_analysis"]["random_eigenvalues"]) == 9
    json.dumps(d, allow_nan=False)


def test_harman_is_first_component_share():
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")[HS_ITEMS]
    z = (hs - hs.mean()) / hs.std(ddof=1)
    s = np.linalg.svd(z.to_numpy(), compute_uv=False)
    share = s[0] ** 2 / (s ** 2).sum()
    res = harman(hs.corr())
    assert res.share == pytest.approx(share, rel=1e-10)
    assert res.to_dict()["share"] == res.criterion_value == res.share
    assert res.criterion == "harman"


# ---------------------------------------------------------------------------------------------
# one-factor CFA (lavTestLRT in hs_compare.json)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("estimator,block", [("ML", "ml"), ("MLR", "mlr")])
def test_one_factor_cfa_matches_lavtestlrt(estimator, block):
    ref = _ref("hs_compare.json")["lrt"][block]["table"][1]
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meas = fit_model(HS_MODEL, hs, estimator=estimator)
        res = one_factor_cfa(hs, HS_ITEMS, meas, estimator=estimator)
    assert res.fit["chisq"] == pytest.approx(ref["Chisq"], rel=RTOL)
    assert res.chisq_diff == pytest.approx(ref["Chisq diff"], rel=RTOL)
    assert res.df_diff == ref["Df diff"]
    assert res.pvalue == pytest.approx(ref["Pr(>Chisq)"], rel=1e-3)
    assert res.method == ("chisq difference" if estimator == "ML" else "satorra.bentler.2001")
    assert res.to_dict()["test"] == {"chisq_diff": res.chisq_diff, "df_diff": res.df_diff,
                                     "pvalue": res.pvalue, "method": res.method}
    assert res.criterion == "one_factor_cfa" and res.criterion_value == res.pvalue
    stmts = parse_syntax(res.syntax, "one-factor")
    assert [(st.lhs, st.op, st.rhs) for st in stmts] == [("common_factor", "=~", x)
                                                         for x in HS_ITEMS]



def test_one_factor_cfa_with_ordered_items_uses_satorra_2000():
    """With WLSMV the one-factor test is lavTestLRT's satorra.2000 difference (corpus case
    ord_hs5_one_factor_test), not the Satorra-Bentler (2001) formula for MLR."""
    folder = ROOT / "tests" / "lavaan_cases" / "ord_hs5_one_factor_test"
    ref = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))
    ref = ref["extras"]["one_factor_test"]
    data = pd.read_csv(folder.parent / "data" / "hs_ordinal5.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        meas = fit_model((folder / "model.lav").read_text(encoding="utf-8"), data,
                         estimator="WLSMV", ordered=HS_ITEMS)
        res = one_factor_cfa(data, HS_ITEMS, meas, estimator="WLSMV")
    assert res.method == "satorra.2000"
    assert res.chisq_diff == pytest.approx(ref["chisq_diff"], rel=RTOL)
    assert res.df_diff == ref["df_diff"]
    assert res.pvalue == pytest.approx(ref["pvalue"], rel=1e-3)


def test_parallel_analysis_draws_the_eigenvalues_of_simulated_data():
    """Wishart draws by Bartlett's decomposition give the eigenvalue quantiles of correlation
    matrices of simulated normal data, within Monte Carlo error."""
    n, p, reps = 120, 6, 4000
    _, drawn = parallel_analysis(n, p, np.zeros(p), n_iter=reps, seed=11)
    rng = np.random.default_rng(12)
    sims = np.array([np.sort(np.linalg.eigvalsh(np.corrcoef(rng.standard_normal((n, p)),
                                                            rowvar=False)))[::-1]
                     for _ in range(reps)])
    direct = np.quantile(sims, 0.95, axis=0)
    # SE of a 95% quantile estimate: sqrt(.95 * .05 / reps) / density, the density near the
    # quantile about phi(1.645) / sd; the difference of two estimates has sqrt(2) times that
    se = np.sqrt(0.95 * 0.05 / reps) / (stats.norm.pdf(1.645) / sims.std(axis=0))
    assert np.all(np.abs(drawn - direct) < 4 * np.sqrt(2) * se), (drawn, direct, se)
