"""Ordinal estimation (DWLS, ULS, WLSMV, ULSMV) against lavaan 0.6.14, from lavaan's own
sample statistics.

Every ordinal case of the lavaan corpus (``tests/lavaan_cases/ord_*``) carries lavaan's sample
statistics as extras (``lavInspect(fit, "wls.obs")``, ``"gamma"``, ``"sampstat"``, ``"nobs"``).
Fitting :func:`riskmodel_sem.sem.estimation.fit_ordinal` to exactly those statistics checks the
estimator (thresholds, delta/theta parameterization, DWLS/ULS discrepancy, robust SEs,
scaled-shifted test, fit measures, R-squared, standardized columns) on its own, independently
of how the thresholds and polychoric correlations were computed; ``test_lavaan_cases.py``
fits the same cases from the raw answers.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import ROOT
from test_lavaan_cases import compare_fitted
from riskmodel_sem.errors import OptionError
from riskmodel_sem.sem.estimation import fit_ordinal

CASES = ROOT / "tests" / "lavaan_cases"


def _ordinal_cases() -> list[str]:
    out = []
    for p in sorted(CASES.glob("*/case.json")):
        case = json.loads(p.read_text(encoding="utf-8"))
        if (case.get("options") or {}).get("ordered") and (p.parent / "lavaan.json").exists():
            # cases with covariates (conditional.x) carry no unconditional sampstat; their
            # statistics are checked in test_conditional_x.py
            extras = json.loads((p.parent / "lavaan.json").read_text(encoding="utf-8"))
            if "sampstat" in (extras.get("extras") or {}):
                out.append(p.parent.name)
    return out


def _matrix(m) -> np.ndarray:
    return np.array(m["values"], dtype=float)


def lavaan_stats(extras: dict, label: str | None, n: int) -> SimpleNamespace:
    """One group's statistics as lavaan computed them, in the shape of
    :class:`riskmodel_sem.sem.polychoric.OrdinalStats`."""
    pick = (lambda x: x[label]) if label is not None else (lambda x: x)
    samp = pick(extras["sampstat"])
    cov = samp["cov"]
    names = tuple(cov["rownames"])
    C = _matrix(cov)
    th = samp.get("th") or {}
    th_names = list(th.keys())
    ordered = tuple(any(t.startswith(f"{v}|") for t in th_names) for v in names)
    th_index = tuple((names.index(t.split("|")[0]), int(t.split("|t")[1])) for t in th_names)
    sd = np.sqrt(np.diag(C))
    var = np.where(ordered, 1.0, np.diag(C))
    mean = np.array([samp["mean"][v] if not o else 0.0 for v, o in zip(names, ordered)])
    gamma = _matrix(pick(extras["gamma"])) if "gamma" in extras else None
    wls = pick(extras["wls_obs"])
    return SimpleNamespace(n=n, names=names, ordered=ordered,
                           thresholds=np.array(list(th.values()), dtype=float),
                           th_index=th_index, means=mean, variances=var,
                           correlations=C / np.outer(sd, sd),
                           wls_obs=np.array(list(wls.values()), dtype=float), gamma=gamma)


def fit_from_lavaan_stats(name: str):
    folder = CASES / name
    case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    ref = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))
    model = (folder / "model.lav").read_text(encoding="utf-8")
    opts = case["options"]
    labels = list(ref["group_labels"]) if int(ref["ngroups"]) > 1 else [None]
    nobs = ref["nobs"]
    stats = [lavaan_stats(ref["extras"], lab, int(n)) for lab, n in zip(labels, nobs)]
    ge = opts.get("group.equal", ())
    gp = opts.get("group.partial", ())
    res = fit_ordinal(model, stats, estimator=opts.get("estimator", "WLSMV"),
                      parameterization=opts.get("parameterization", "delta"),
                      group_equal=(ge,) if isinstance(ge, str) else tuple(ge),
                      group_partial=(gp,) if isinstance(gp, str) else tuple(gp),
                      std_lv=bool(opts.get("std.lv", False)),
                      labels=tuple(l for l in labels if l is not None))
    return ref, res


@pytest.mark.parametrize("name", _ordinal_cases())
def test_ordinal_case_from_lavaan_statistics(name):
    ref, res = fit_from_lavaan_stats(name)
    problems = compare_fitted(ref, res, name=name)
    assert not problems, f"{name}: {len(problems)} differences\n" + "\n".join(problems[:40])


def test_ordinal_cases_exist():
    names = _ordinal_cases()
    assert len(names) >= 10
    assert {"ord_hs5_wlsmv", "ord_hs5_ulsmv", "ord_hs5_theta", "ord_hs5_school"} <= set(names)


def test_uls_gives_no_pvalue_and_wlsmv_does():
    _, uls = fit_from_lavaan_stats("ord_hs5_uls")
    _, wlsmv = fit_from_lavaan_stats("ord_hs5_wlsmv")
    assert math.isnan(uls.fit["pvalue"])
    assert 0 < wlsmv.fit["pvalue"] < 1
    assert {"|", "~*~"} <= set(wlsmv.estimates["op"])


def test_unknown_estimator_and_parameterization_are_refused():
    _, _res = fit_from_lavaan_stats("ord_hs5_wlsmv")
    stats = [SimpleNamespace(n=10, names=("x1",), ordered=(True,))]
    with pytest.raises(OptionError, match="MLR"):
        fit_ordinal("f =~ x1", stats, estimator="MLR")
    with pytest.raises(OptionError, match="parameterization"):
        fit_ordinal("f =~ x1", stats, parameterization="gamma")


INVARIANCE_STEPS = {"configural": (), "thresholds": ("thresholds",),
                    "metric": ("thresholds", "loadings"),
                    "scalar": ("thresholds", "loadings", "intercepts")}
STEP_MEASURES = ("chisq", "df", "npar", "pvalue", "chisq.scaled", "pvalue.scaled",
                 "chisq.scaling.factor", "cfi", "tli", "cfi.scaled", "tli.scaled", "rmsea",
                 "rmsea.scaled", "srmr", "baseline.chisq.scaled", "cfi.robust", "rmsea.robust")


def _close(ours, theirs, atol=1e-6):
    if theirs is None:
        return math.isnan(ours)
    return math.isclose(ours, theirs, rel_tol=1e-4, abs_tol=atol)


def test_wu_estabrook_invariance_steps_and_satorra_2000_tests():
    """configural -> thresholds -> metric -> scalar as semTools' measEq.syntax(ID.cat =
    "Wu.Estabrook.2016") builds them, and lavTestLRT's satorra.2000 difference tests."""
    from riskmodel_sem.sem.comparison import difference_test

    folder = CASES / "ord_hs5_school_invariance"
    ref = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))
    model = (folder / "model.lav").read_text(encoding="utf-8")
    labels = list(ref["group_labels"])
    stats = [lavaan_stats(ref["extras"], lab, int(n)) for lab, n in zip(labels, ref["nobs"])]
    fits = {lv: fit_ordinal(model, stats, estimator="WLSMV", group_equal=ge,
                            labels=tuple(labels), id_cat="Wu.Estabrook.2016")
            for lv, ge in INVARIANCE_STEPS.items()}
    want = ref["extras"]["invariance"]["fit"]
    for lv, res in fits.items():
        for key in STEP_MEASURES:
            ours, theirs = res.fit[key.replace(".", "_")], want[lv][key]
            assert _close(ours, theirs, 1e-5 if "pvalue" in key else 1e-6), (lv, key, ours,
                                                                               theirs)
    lrt = ref["extras"]["invariance"]["lrt"]
    order = list(INVARIANCE_STEPS)
    for prev, lv, row in zip(order, order[1:], lrt[1:]):
        got = difference_test(fits[lv], fits[prev])
        assert got["method"] == "satorra.2000"
        assert got["df_diff"] == row["Df diff"]
        assert _close(got["chisq_diff"], row["Chisq diff"])
        assert _close(got["pvalue"], row["Pr(>Chisq)"], 1e-5)


@pytest.mark.parametrize("extra, estimator", [("lrt_one_factor", "WLSMV"),
                                              ("lrt_one_factor_ulsmv", "ULSMV")])
def test_nested_single_group_difference_test(extra, estimator):
    from riskmodel_sem.sem.comparison import difference_test

    ref = json.loads((CASES / "ord_hs5_wlsmv" / "lavaan.json").read_text(encoding="utf-8"))
    model = (CASES / "ord_hs5_wlsmv" / "model.lav").read_text(encoding="utf-8")
    stats = [lavaan_stats(ref["extras"], None, int(ref["nobs"][0]))]
    three = fit_ordinal(model, stats, estimator=estimator)
    one = fit_ordinal("g =~ " + " + ".join(f"x{i}" for i in range(1, 10)), stats,
                      estimator=estimator)
    row = ref["extras"][extra][1]
    got = difference_test(one, three)
    assert got["df_diff"] == row["Df diff"] == 3
    assert _close(one.fit["chisq"], row["Chisq"])
    assert _close(got["chisq_diff"], row["Chisq diff"])
    assert _close(got["pvalue"], row["Pr(>Chisq)"], 1e-5)


def _has_ordinal_statistics() -> bool:
    import importlib.util

    return importlib.util.find_spec("riskmodel_sem.sem.polychoric") is not None


needs_polychoric = pytest.mark.skipif(
    not _has_ordinal_statistics(),
    reason="ordered data need riskmodel_sem.sem.polychoric (thresholds and polychoric "
           "correlations), which this tree does not have yet")


@needs_polychoric
@pytest.mark.slow
def test_invariance_from_raw_answers_matches_semtools_steps():
    import pandas as pd

    from riskmodel_sem.sem.comparison import invariance

    folder = CASES / "ord_hs5_school_invariance"
    ref = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))
    model = (folder / "model.lav").read_text(encoding="utf-8")
    data = pd.read_csv(CASES / "data" / "hs_ordinal5.csv")
    res = invariance(data, model, "school", estimator="WLSMV")
    assert list(res.models["name"]) == ["configural", "thresholds", "metric", "scalar"]
    want = ref["extras"]["invariance"]
    for row in res.models.to_dict("records"):
        assert _close(row["chisq"], want["fit"][row["name"]]["chisq"])
        assert _close(row["chisq_scaled"], want["fit"][row["name"]]["chisq.scaled"])
    for test, lrt in zip(res.tests.to_dict("records"), want["lrt"][1:]):
        assert test["method"] == "satorra.2000"
        assert _close(test["chisq_diff"], lrt["Chisq diff"])


@needs_polychoric
@pytest.mark.slow
def test_command_line_fit_with_ordered_items(tmp_path):
    from riskmodel_sem.cli import main

    folder = CASES / "ord_hs5_wlsmv"
    ref = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))
    out = tmp_path / "res.json"
    code = main(["fit", str(CASES / "data" / "hs_ordinal5.csv"), "--spec",
                 str(folder / "model.lav"), "--ordered", "all", "--json", str(out)])
    assert code == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    fit = res.get("fit") or res["structural"]["fit"]
    assert _close(fit["chisq_scaled"], ref["fit"]["chisq.scaled"])
    ops = {r["op"] for r in (res.get("estimates") or res["structural"]["estimates"])}
    assert {"|", "~*~"} <= ops


# ------------------------------------------------------------------------------------------
# partial invariance of ordered items: score tests of the equality constraints
# ------------------------------------------------------------------------------------------

def _wu_estabrook_scalar():
    import pandas as pd

    from riskmodel_sem.sem.estimation import fit_model

    folder = CASES / "ord_hs5_school_invariance"
    model = (folder / "model.lav").read_text(encoding="utf-8")
    data = pd.read_csv(CASES / "data" / "hs_ordinal5.csv")
    return fit_model(model, data, ordered=True, estimator="WLSMV", group="school",
                     group_equal=("thresholds", "loadings", "intercepts"),
                     id_cat="Wu.Estabrook.2016")


@needs_polychoric
def test_ordinal_score_tests_match_lavtestscore_of_the_scalar_model():
    """lavTestScore(fit)$uni of semTools' Wu & Estabrook scalar model: one test per equality
    constraint (a loading or a threshold held equal in the two schools)."""
    from riskmodel_sem.sem.comparison import ordinal_release_keys, ordinal_score_tests

    ref = json.loads((CASES / "ord_hs5_school_invariance" / "lavaan.json")
                     .read_text(encoding="utf-8"))["extras"]["score_scalar"]
    fit = _wu_estabrook_scalar()
    keys = ordinal_release_keys(fit, "loadings") + ordinal_release_keys(fit, "thresholds")
    ours = {(r["lhs"], r["op"], r["rhs"]): r for r in ordinal_score_tests(fit, keys)}
    compared = 0
    for row in ref:
        key = (row["lhs"], row["op"], row["rhs"])
        assert (row["group"], row["group_rhs"], row["df"]) == (1, 2, 1)
        if key not in ours:
            # the marker loadings (fixed at 1 here, free and equal under semTools' std.lv)
            assert row["op"] == "=~" and row["rhs"] in ("x1", "x4", "x7"), key
            continue
        got = ours[key]
        assert got["df"] == 1
        assert _close(got["score"], row["X2"], 1e-5), (key, got["score"], row["X2"])
        assert _close(got["pvalue"], row["p.value"], 1e-5), key
        compared += 1
    assert compared == len(ours) == 6 + 36


@needs_polychoric
def test_released_intercept_score_is_its_modification_index():
    """Freeing a latent-response intercept of group 2 (Wu & Estabrook's scalar level) is the
    modification index of that intercept."""
    from riskmodel_sem.sem.comparison import ordinal_release_keys, ordinal_score_tests

    fit = _wu_estabrook_scalar()
    keys = ordinal_release_keys(fit, "intercepts")
    assert [k[0] for k in keys] == [f"x{i}" for i in range(1, 10)]
    mi = fit.modindices
    for row in ordinal_score_tests(fit, keys):
        want = mi[(mi["lhs"] == row["lhs"]) & (mi["op"] == "~1") & (mi["group"] == 2)]
        assert len(want) == 1
        assert row["df"] == 1
        assert _close(row["score"], float(want["mi"].iloc[0]), 1e-8)


@needs_polychoric
@pytest.mark.slow
def test_partial_invariance_search_for_ordered_items():
    """bfi items in 5 categories by gender: scalar invariance fails; the intercepts are ranked
    by their score tests and the best ones refitted with the intercept released."""
    import pandas as pd

    from riskmodel_sem.sem.comparison import invariance
    from riskmodel_sem.sem.estimation import fit_model

    data = pd.read_csv(CASES / "data" / "bfi5.csv")
    model = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5\n"
    res = invariance(data, model, "gender", estimator="WLSMV", ordered=True, partial_refits=2)
    assert res.failed_level == "scalar"
    part = res.partial
    assert list(part["op"].unique()) == ["~1"]
    assert sorted(part["lhs"]) == sorted(f"{f}{i}" for f in "AC" for i in range(1, 6))
    assert list(part["score"]) == sorted(part["score"], reverse=True)
    refitted = part.dropna(subset=["chisq"])
    assert len(refitted) == 2
    scalar = res.fits["scalar"]
    best = refitted.iloc[0]
    again = fit_model(model, data, ordered=True, estimator="WLSMV", group="gender",
                      group_equal=("thresholds", "loadings", "intercepts"),
                      group_partial=(f"{best['lhs']}~1",), id_cat="Wu.Estabrook.2016",
                      compute_modindices=False)
    assert _close(best["chisq"], again.fit["chisq"])
    assert best["df_model"] == scalar.fit["df"] - 1
    assert best["chisq"] < scalar.fit["chisq"]
    assert best["df_diff"] == res.fits["scalar"].fit["df"] - 1 - res.fits["metric"].fit["df"]
    assert not any("not available" in w for w in res.warnings)


# ------------------------------------------------------------------------------------------
# answers given as text
# ------------------------------------------------------------------------------------------

def test_text_answers_are_coded_in_lavaans_order_with_a_warning():
    import pandas as pd

    from riskmodel_sem.errors import DataQualityWarning
    from riskmodel_sem.sem.data import code_ordered_text

    data = pd.DataFrame({"a": ["b_mid", "a_low", None, "c_high", " "],
                         "b": [1, 2, 3, 2, 1],
                         "c": pd.Categorical(["high", "low", "mid", None, "low"],
                                             categories=["low", "mid", "high"], ordered=True)})
    before = data.copy()
    with pytest.warns(DataQualityWarning, match="a_low < b_mid < c_high"):
        out = code_ordered_text(data, ["a", "b", "c"], "survey.csv")
    pd.testing.assert_frame_equal(data, before)
    np.testing.assert_array_equal(out["a"], [2, 1, np.nan, 3, np.nan])
    np.testing.assert_array_equal(out["b"], [1, 2, 3, 2, 1])
    np.testing.assert_array_equal(out["c"], [3, 1, 2, np.nan, 1])
    numbers = before[["b"]]
    assert code_ordered_text(numbers, ["b"]) is numbers  # nothing to code: no copy
