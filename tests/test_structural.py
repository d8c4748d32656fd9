"""Structural analysis: lavaan's defined and total effects, hypothesis verdicts, JSON shape.

Political Democracy (poldem_sem_ml.json): the ``:=`` rows ind = a*b and total = c + a*b must
match lavaan to 1e-4 relative (estimate and delta-method SE), and the total effect computed
from (I - A)^-1 must equal lavaan's ``total`` row. The paper's model is checked on a synthetic
survey drawn from the spec's population values, where every hypothesis holds.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest

from conftest import GCRM_SPEC, REFERENCE, load_reference, load_reference_data
from riskmodel_sem.sem import bootstrap as bs
from riskmodel_sem.workflow import structural as st
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.survey.spec import load_spec

RTOL = 1e-4


@pytest.fixture(scope="module")
def poldem():
    spec = load_spec(REFERENCE / "models" / "poldem.lav")
    data = load_reference_data("political_democracy.csv")
    return spec, data, fit_model(spec.model_syntax(), data)


@pytest.fixture(scope="module")
def gcrm(project_root):
    from riskmodel_sem.survey.simulate import simulate_survey

    spec = load_spec(GCRM_SPEC)
    data = simulate_survey(spec, 2000, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_model(spec.model_syntax(), data, compute_modindices=False)
    return spec, data, fit


def test_poldem_defined_effects_match_lavaan(poldem):
    spec, _, fit = poldem
    ref = {r["lhs"]: r for r in load_reference("poldem_sem_ml.json")["estimates"]
           if r["op"] == ":="}
    res = st.analyze(fit, spec)
    ind = res.indirect.set_index("id")
    for name in ("ind", "total"):
        assert ind.loc[name, "kind"] == "defined"
        for col, rcol in (("est", "est"), ("se", "se"), ("z", "z"), ("pvalue", "pvalue"),
                          ("ci_lower", "ci.lower"), ("ci_upper", "ci.upper"),
                          ("std_all", "std.all")):
            assert ind.loc[name, col] == pytest.approx(ref[name][rcol], rel=RTOL), (name, col)
    assert set(res.r2) == {"dem60", "dem65"}
    r2 = load_reference("poldem_sem_ml.json")["r2"]
    assert res.r2["dem65"] == pytest.approx(r2["dem65"], rel=RTOL)


def test_total_effect_from_the_matrices_equals_lavaans_total(poldem):
    """(I - A)^-1 [dem65, ind60] with a delta-method SE = lavaan's ``total := c + a*b``."""
    _, _, fit = poldem
    ref = {r["lhs"]: r for r in load_reference("poldem_sem_ml.json")["estimates"]
           if r["op"] == ":="}["total"]
    d = (bs.Derived("t", "c + a*b", ((1.0, "total", "dem65", "~", "ind60"),)),)
    est = bs.derived_values(fit.model, fit.theta, d)[0]
    jac = st._jacobian(fit.model, fit.theta, d)
    se = float(np.sqrt(jac @ fit.vcov @ jac.T)[0, 0])
    assert est == pytest.approx(ref["est"], rel=RTOL)
    assert se == pytest.approx(ref["se"], rel=RTOL)


def test_standardized_loading_and_its_delta_se_match_the_estimates(poldem):
    """A one-term std_all quantity reproduces std_all and se_std_all of the estimates table."""
    _, _, fit = poldem
    d = (bs.Derived("s", "", ((1.0, "std_all", "dem60", "=~", "y3"),)),)
    est = bs.derived_values(fit.model, fit.theta, d)[0]
    jac = st._jacobian(fit.model, fit.theta, d)
    se = float(np.sqrt(jac @ fit.vcov @ jac.T)[0, 0])
    row = fit.estimates[(fit.estimates["lhs"] == "dem60") & (fit.estimates["rhs"] == "y3")].iloc[0]
    assert est == pytest.approx(row["std_all"], rel=1e-10)
    assert se == pytest.approx(row["se_std_all"], rel=RTOL)
    ref = {(r["lhs"], r["op"], r["rhs"]): r
           for r in load_reference("poldem_sem_ml.json")["estimates"]}
    assert est == pytest.approx(ref[("dem60", "=~", "y3")]["std.all"], rel=RTOL)


def test_gcrm_hypotheses_supported_on_population_data(gcrm):
    spec, _, fit = gcrm
    res = st.analyze(fit, spec)
    hyp = res.hypotheses.set_index("id")
    assert list(hyp.index) == ["H1", "H2", "H3", "H4", "H5", "H6"]
    assert list(res.hypotheses.columns) == st.HYPOTHESIS_COLUMNS
    for h in ["H1", "H2", "H3", "H4", "H5"]:
        assert hyp.loc[h, "verdict"] == "supported", h
        assert hyp.loc[h, "pvalue"] < 0.05
        assert hyp.loc[h, "ci_method"] == "Wald"
    # H6: population std loadings .85 vs .65 and .70 on GIV
    assert hyp.loc["H6", "kind"] == "loading_order"
    assert hyp.loc["H6", "verdict"] == "supported"
    con = res.contrasts.set_index("other")
    assert set(con.index) == {"SYM", "MGT"}
    std = fit.estimates[(fit.estimates["lhs"] == "GIV") & (fit.estimates["op"] == "=~")]
    std = dict(zip(std["rhs"], std["std_all"]))
    for other in ("SYM", "MGT"):
        assert con.loc[other, "est"] == pytest.approx(std["FIN"] - std[other], rel=1e-10)
        assert con.loc[other, "ci_lower"] > 0
    ind = res.indirect.set_index("id")
    assert list(ind["kind"]) == ["indirect", "indirect", "total", "total"]
    assert ind.loc["PLT_SOL_GIV", "path"] == "PLT -> SOL -> GIV"
    h = {r["lhs"] + r["rhs"]: r["est"] for r in fit.estimates.to_dict(orient="records")
         if r["op"] == "~"}
    assert ind.loc["total_PLT_GIV", "est"] == pytest.approx(
        h["GIVPLT"] + h["SOLPLT"] * h["GIVSOL"], rel=1e-10)
    assert ind.loc["total_ENV_GIV", "est"] == pytest.approx(
        h["GIVENV"] + h["SOLENV"] * h["GIVSOL"], rel=1e-10)
    assert set(res.r2) == {"SOL", "GIV"}
    assert res.r2["GIV"] == pytest.approx(fit.r2["GIV"])


def test_verdicts_opposite_and_not_supported(gcrm):
    spec, _, fit = gcrm
    flipped = tuple(dataclasses.replace(h, sign="-") if h.id == "H1" else h
                    for h in spec.hypotheses)
    res = st.analyze(fit, dataclasses.replace(spec, hypotheses=flipped))
    hyp = res.hypotheses.set_index("id")
    assert hyp.loc["H1", "verdict"] == "opposite sign"
    assert not hyp.loc["H1", "supported"]
    # FIN as the weakest indicator: SYM/MGT are significantly weaker, so "opposite sign"
    h6 = [dataclasses.replace(h, strongest="SYM", rhs="SYM", others=("FIN",))
          if h.id == "H6" else h for h in spec.hypotheses]
    res = st.analyze(fit, dataclasses.replace(spec, hypotheses=tuple(h6)))
    assert res.hypotheses.set_index("id").loc["H6", "verdict"] == "opposite sign"
    assert st._verdict(False, 0.3, "+") == (False, "not supported")
    assert st._verdict(True, 0.3, "none") == (True, "supported")


def test_bootstrap_columns_and_json(gcrm):
    spec, data, fit = gcrm
    boot = bs.bootstrap(fit, data, 40, seed=4, spec=spec)
    plain = bs.bootstrap(fit, data, 40, seed=4)
    with_spec = st.analyze(fit, spec, boot)
    without = st.analyze(fit, spec, plain)
    # derived quantities computed from the draws equal those the bootstrap carried
    a = with_spec.boot_ci.set_index("lhs")
    b = without.boot_ci.set_index("lhs")
    for name in ("H6_FIN_SYM", "H6_FIN_MGT", "total_PLT_GIV", "total_ENV_GIV"):
        for col in ("est", "se", "ci_lower_perc", "ci_upper_perc", "ci_lower_bc", "ci_upper_bc"):
            assert a.loc[name, col] == pytest.approx(b.loc[name, col], rel=1e-12, abs=1e-14)
    hyp = with_spec.hypotheses.set_index("id")
    assert hyp.loc["H1", "ci_method"] == "bootstrap percentile"
    assert hyp.loc["H1", "ci_lower"] == boot.row("GIV", "~", "PLT")["ci_lower_perc"]
    assert {"se_boot", "ci_lower_perc", "ci_upper_bc"} <= set(with_spec.indirect.columns)
    d = json.loads(json.dumps(with_spec.to_dict()))
    assert {"hypotheses", "indirect", "bootstrap"} <= set(d)
    need = {"id", "lhs", "op", "rhs", "est", "std_all", "se", "pvalue", "ci_lower", "ci_upper",
            "expected_sign", "supported"}
    assert all(need <= set(r) for r in d["hypotheses"])
    bj = d["bootstrap"]
    assert {"n", "seed", "failed", "nonadmissible", "ci"} <= set(bj)
    assert bj["n"] == 40 and bj["seed"] == 4
    cols = {"lhs", "op", "rhs", "label", "est", "se", "ci_lower_perc", "ci_upper_perc",
            "ci_lower_bc", "ci_upper_bc"}
    assert all(cols <= set(r) for r in bj["ci"])
    assert {r["lhs"] for r in bj["ci"] if r["op"] == ":="} >= {"PLT_SOL_GIV", "ENV_SOL_GIV",
                                                              "H6_FIN_SYM", "total_PLT_GIV"}


_HS_PATHS = """
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
speed ~ visual + textual
"""


def test_f2_refits_the_model_without_the_path(hs):
    """f² = (R²_in - R²_out) / (1 - R²_in), R²_out from the model without the path, which
    lavaan's sem() fits from the syntax with that predictor left out."""
    fit = fit_model(_HS_PATHS, hs)
    f2 = st.effect_sizes(fit, hs).set_index("rhs")
    assert list(f2.index) == ["visual", "textual"] and set(f2["lhs"]) == {"speed"}
    for dropped, kept in (("visual", "textual"), ("textual", "visual")):
        syntax = _HS_PATHS.replace("speed ~ visual + textual", f"speed ~ {kept}")
        without = fit_model(syntax, hs)
        r2_in, r2_out = fit.r2["speed"], without.r2["speed"]
        row = f2.loc[dropped]
        assert row["r2_included"] == pytest.approx(r2_in, rel=1e-10)
        assert row["r2_excluded"] == pytest.approx(r2_out, rel=1e-4)
        assert row["f2"] == pytest.approx((r2_in - r2_out) / (1 - r2_in), rel=1e-3)
    result = st.analyze(fit, None, data=hs)
    assert result.to_dict()["f2"][0]["f2"] == pytest.approx(f2["f2"].iloc[0])


def _with_holes(data, columns, seed):
    """A copy of ``data`` with about 10 % of the answers in ``columns`` missing."""
    data = data.copy()
    rng = np.random.default_rng(seed)
    for col in columns:
        data.loc[rng.random(len(data)) < 0.1, col] = np.nan
    return data


@pytest.mark.parametrize("estimator,missing", [("ML", "listwise"), ("MLR", "listwise"),
                                               ("ML", "fiml")])
def test_f2_estimates_only_refits_give_the_full_refits_numbers(hs, estimator, missing):
    """The reduced models are refitted for their estimates only, from the full model's
    estimates: R²_excluded is that of a complete fit of the model without the path (with
    every statistic, from lavaan-like starts) to the optimizer's tolerance."""
    from riskmodel_sem.sem.estimation import fit_estimates

    data = _with_holes(hs, ("x1", "x5", "x9"), 17) if missing == "fiml" else hs
    fit = fit_model(_HS_PATHS, data, estimator=estimator, missing=missing)
    f2 = st.effect_sizes(fit, data).set_index("rhs")
    for dropped, kept in (("visual", "textual"), ("textual", "visual")):
        syntax = _HS_PATHS.replace("speed ~ visual + textual", f"speed ~ {kept}")
        full = fit_model(syntax, data, estimator=estimator, missing=missing)
        assert f2.loc[dropped, "r2_excluded"] == pytest.approx(full.r2["speed"], rel=1e-6)
        only = fit_estimates(syntax, data, missing=missing)
        assert only.converged
        np.testing.assert_allclose(only.theta, full.theta, rtol=1e-6, atol=1e-8)
        assert only.f_ml == pytest.approx(full.fit["chisq"] / full.n_obs, rel=1e-8)
    with pytest.raises(ValueError, match="starting values"):
        fit_estimates(_HS_PATHS, data, missing=missing, start=np.zeros(3))


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_refit_without_gives_fit_estimates_of_each_reduced_table(hs, missing):
    """The reduced models share their data, which refit_without prepares once: each result is
    bit for bit fit_estimates of its own table from the full model's estimates, and the
    reduced table holds the dropped row at 0 with the other parameters renumbered."""
    from riskmodel_sem.sem.estimation import fit_estimates, fix_parameter, refit_without

    data = _with_holes(hs, ("x2", "x6", "x7"), 3) if missing == "fiml" else hs
    fit = fit_model(_HS_PATHS, data, missing=missing)
    pt = fit.model.partable
    rows = list(pt.index[(pt["op"] == "~") & (pt["free"] > 0)])
    assert len(rows) == 2
    refits = refit_without(fit, data, rows, source="test")
    assert len(refits) == 2
    for row, refit in zip(rows, refits):
        table, kept = fix_parameter(pt, row)
        assert table.loc[row, "free"] == 0 and table.loc[row, "ustart"] == 0.0
        assert sorted(table.loc[table["free"] > 0, "free"]) == list(range(1, fit.model.n_free))
        assert int(pt.loc[row, "free"]) not in kept and len(kept) == fit.model.n_free - 1
        alone = fit_estimates(table, data, missing=missing, start=fit.theta[kept - 1])
        assert refit.converged and alone.converged
        assert refit.iterations == alone.iterations
        np.testing.assert_array_equal(refit.theta, alone.theta)
        assert refit.f_ml == alone.f_ml
        assert refit.r2 == alone.r2
        assert refit.model.observed == alone.model.observed
    assert refit_without(fit, data, []) == []
