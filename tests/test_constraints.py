"""Constraints (==, <, >) and the model syntax lavaan users write.

The lavaan numbers of constrained models are in the corpus (tests/lavaan_cases/con_*,
poldem_constraints, hs_modifiers, ...); this file checks properties that need no reference:
the constraints hold at the estimates and in every bootstrap draw, SEs of a parameter the
constraints determine, the reparametrization gives the SQP optimum, and the syntax lavaan
accepts but the package does not implement is refused with line and column.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from riskmodel_sem.errors import ModelError, SpecError
from riskmodel_sem.sem.constraints import constraint_set, sqp_minimize
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.sem.objective import MLObjective, moments_group
from riskmodel_sem.sem.syntax import build_partable, parse_syntax

HS = ROOT / "tests" / "lavaan_cases" / "data" / "holzinger1939.csv"
BASE = """visual  =~ x1 + a*x2 + b*x3
textual =~ x4 + c*x5 + d*x6
speed   =~ x7 + x8 + x9
"""


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(HS)


def _row(res, lhs, op, rhs):
    e = res.estimates
    return e[(e["lhs"] == lhs) & (e["op"] == op) & (e["rhs"] == rhs)].iloc[0]


def test_constraints_hold_and_count(hs):
    free = fit_model(BASE, hs)
    res = fit_model(BASE + "d == c^2\na == 0.5*b\n", hs)
    a, b = _row(res, "visual", "=~", "x2")["est"], _row(res, "visual", "=~", "x3")["est"]
    c, d = _row(res, "textual", "=~", "x5")["est"], _row(res, "textual", "=~", "x6")["est"]
    assert a == pytest.approx(0.5 * b, abs=1e-10)
    assert d == pytest.approx(c ** 2, abs=1e-10)
    assert res.fit["npar"] == free.fit["npar"] - 2
    assert res.fit["df"] == free.fit["df"] + 2
    assert res.fit["chisq"] > free.fit["chisq"]
    cons = res.estimates[res.estimates["op"] == "=="]
    assert list(cons["lhs"]) == ["d", "a"] and np.allclose(cons["est"], 0, atol=1e-9)
    assert (cons["se"] == 0).all() and cons["z"].isna().all()


def test_inactive_inequality_changes_nothing(hs):
    free = fit_model(BASE, hs)
    res = fit_model(BASE + "a < 2\nb > 0\n", hs)
    assert res.fit["chisq"] == pytest.approx(free.fit["chisq"], rel=1e-9)
    assert res.fit["npar"] == free.fit["npar"] and res.fit["df"] == free.fit["df"]
    assert _row(res, "visual", "=~", "x2")["se"] == pytest.approx(
        _row(free, "visual", "=~", "x2")["se"], rel=1e-6)


def test_active_inequality_is_an_equality_for_the_ses(hs):
    """An active bound determines its parameter (SE 0, no z); df is not changed by it."""
    ineq = fit_model(BASE + "a < 0.5\n", hs)
    eq = fit_model(BASE + "a == 0.5\n", hs)
    row = _row(ineq, "visual", "=~", "x2")
    assert row["est"] == pytest.approx(0.5, abs=1e-10)
    assert row["se"] == 0 and np.isnan(row["z"])
    assert ineq.fit["chisq"] == pytest.approx(eq.fit["chisq"], rel=1e-9)
    assert ineq.fit["df"] == eq.fit["df"] - 1
    other_ineq = _row(ineq, "visual", "=~", "x3")
    other_eq = _row(eq, "visual", "=~", "x3")
    assert other_ineq["se"] == pytest.approx(other_eq["se"], rel=1e-6)


def test_reparametrization_and_sqp_reach_the_same_optimum(hs):
    res = fit_model(BASE + "a + b == 2*c\n", hs)
    model = res.model
    moments = [moments_group(len(hs), hs[list(model.observed)].mean().to_numpy(),
                             hs[list(model.observed)].cov(ddof=0).to_numpy(),
                             meanstructure=False)]
    objective = MLObjective(model, moments)
    start = np.asarray(res.theta) * 1.05
    out = sqp_minimize(objective, start, constraint_set(model))
    assert out.converged
    np.testing.assert_allclose(out.theta, res.theta, rtol=1e-6, atol=1e-8)


def test_inconsistent_equalities_are_refused(hs):
    with pytest.raises(ModelError, match="cannot all hold"):
        fit_model(BASE + "a == 1\na == 2\n", hs)


@pytest.mark.slow
def test_bootstrap_draws_honour_constraints(hs):
    from riskmodel_sem.sem.bootstrap import bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for extra, check in (("a == 0.5*b\n", lambda d: d[:, 0] - 0.5 * d[:, 1]),
                             ("d == c^2\n", lambda d: d[:, 3] - d[:, 2] ** 2)):
            fit = fit_model(BASE + extra, hs)
            draws = bootstrap(fit, hs, 40, seed=3).draws
            ok = np.all(np.isfinite(draws), axis=1)
            assert ok.sum() >= 35
            assert np.max(np.abs(check(draws[ok]))) < 1e-8
        fit = fit_model(BASE + "a < 0.5\n", hs)
        draws = bootstrap(fit, hs, 40, seed=3).draws
        assert np.nanmax(draws[:, 0]) <= 0.5 + 1e-8


@pytest.mark.parametrize("syntax, groups, expected", [
    ("f =~ x1 + start(c(0.5, 0.6))*x2 + x3", 2, [("start", [0.5, 0.6])]),
    ("f =~ x1 + label(c('a', 'b'))*x2 + x3", 2, [("label", ["a", "b"])]),
    ("f =~ x1 + equal(c('a', 'b'))*x2 + c(a, b)*x3", 2, [("label", ["a", "b"])]),
    ("f =~ x1 + c(NA, 0.5)*x2 + x3", 2, [("ustart", [np.nan, 0.5])]),
    ("f =~ x1 + a*start(0.5)*x2 + x3", 1, [("label", ["a"]), ("start", [0.5])]),
    ("f =~ x1 + 1e-3*x2 + x3", 1, [("ustart", [0.001])]),
    ("f =~ x1 + x2 + x3\nx1 ~~ 0.5?x1", 1, [("start", [0.5])]),
])
def test_modifiers(syntax, groups, expected):
    pt = build_partable(parse_syntax(syntax), ngroups=groups)
    target = pt[(pt["op"].isin(["=~", "~~"])) & (pt["user"] == 1)
                & (pt["lhs"] != pt["rhs"]) & (pt["rhs"] == "x2")]
    if "?" in syntax:
        target = pt[(pt["lhs"] == "x1") & (pt["op"] == "~~")]
    for column, values in expected:
        got = target[column].tolist()
        if column == "ustart":
            np.testing.assert_allclose(np.asarray(got, float), values)
        else:
            assert got == values


def test_several_names_on_each_side_in_lavaans_order():
    st = parse_syntax("a + b ~ d + e\nx1 + x2 ~~ x3 + x4")
    assert [(s.lhs, s.op, s.rhs) for s in st] == [
        ("a", "~", "d"), ("a", "~", "e"), ("b", "~", "d"), ("b", "~", "e"),
        ("x1", "~~", "x3"), ("x1", "~~", "x4"), ("x2", "~~", "x3"), ("x2", "~~", "x4")]


def test_two_labels_on_one_term_are_refused():
    with pytest.raises(SpecError, match="Two labels"):
        parse_syntax("f =~ x1 + a*b*x2")


@pytest.mark.parametrize("syntax, where, name", [
    ("f <~ x1 + x2", "line 1, column 3", "formative"),
    ("f =~ x1 + x2 + x3\nf ~*~ f", "line 2, column 3", "scaling factors"),
    ("f =~ x1 + x2 + x3\nx1 | t1", "line 2, column 4", "thresholds"),
    ("f =~ x1 + x2 + lower(0)*x3", "line 1, column 16", "lower bounds"),
    ("f =~ x1 + x2 + x3\nx1 ~~ upper(2)*x1", "line 2, column 7", "upper bounds"),
    ("f =~ x1 + x2 + x3\nx1 ~~ rv(a)*x1", "line 2, column 7", "random variances"),
    ("f =~ x1 + x2 + prior('normal(0,1)')*x3", "line 1, column 16", "priors"),
    ('efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + x3', "line 1, column 1", "efa()"),
    ("group: 1\nf =~ x1 + x2 + x3", "line 1, column 1", "group: blocks"),
    ("f =~ x1 + x2 + x3\nlevel: 2\nf =~ x1 + x2 + x3", "line 2, column 1", "level: blocks"),
    # lavaan reads these differently from what they seem to say: refused, not reinterpreted
    ("f =~ x1 + 2*a*x2 + x3", "line 1, column 11", "frees the parameter"),
    ("f =~ x1 + c(a, NA)*x2 + x3", "line 1, column 11", "mixes labels and NA"),
])
def test_unsupported_lavaan_features_are_refused_by_name(syntax, where, name):
    with pytest.raises(SpecError) as err:
        parse_syntax(syntax, "model.lav")
    message = str(err.value)
    assert f"model.lav, {where}" in message and name in message
    assert "\n" not in message


def test_command_line_refuses_with_status_2(tmp_path):
    spec = tmp_path / "m.lav"
    spec.write_text("visual =~ x1 + x2 + x3\nvisual ~~ lower(0)*visual\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "riskmodel_sem", "fit", str(HS), "--spec",
                           str(spec)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "m.lav, line 2, column 11" in lines[0]
    assert "lower bounds" in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name, drop, options", [
    ("con_linear_equality", "a == 0.5*b", {}),
    ("con_groups_nonlinear_mlr", "a2 == a1^2", {"estimator": "MLR"}),
])
def test_difference_test_against_the_unconstrained_model(name, drop, options):
    """compare() of a constrained model and the model without one constraint gives
    lavTestLRT's numbers (the case's extra ``lrt_unconstrained``)."""
    import json

    from riskmodel_sem.sem.comparison import compare

    folder = ROOT / "tests" / "lavaan_cases" / name
    case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    ref = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))
    model = (folder / "model.lav").read_text(encoding="utf-8")
    data = pd.read_csv(ROOT / "tests" / "lavaan_cases" / "data" / case["data"])
    if case["options"].get("group"):
        # compare() fits one group; the two-group test goes through difference_test
        from riskmodel_sem.sem.comparison import difference_test

        kw = dict(group=case["options"]["group"], **options)
        restricted = fit_model(model, data, **kw)
        general = fit_model(model.replace(drop, ""), data, **kw)
        test = difference_test(restricted, general)
    else:
        result = compare(data, {"constrained": model, "free": model.replace(drop, "")},
                         **options)
        test = result.tests.iloc[0].to_dict()
    lrt = ref["extras"]["lrt_unconstrained"][1]
    assert test["df_diff"] == lrt["Df diff"]
    assert test["chisq_diff"] == pytest.approx(lrt["Chisq diff"], rel=1e-4)
    assert test["pvalue"] == pytest.approx(lrt["Pr(>Chisq)"], rel=1e-4, abs=1e-5)
