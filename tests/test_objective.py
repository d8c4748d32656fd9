"""The ML objective's kernel: the structured path (observed sinks split off, Sigma = F_R S_RR
F_R' + S_KK) against the plain RAM form on the same model, against the compiled model's own
implied moments, and its gradient against central differences."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel_sem.sem.data import sample_moments
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.sem.objective import (MLBatchObjective, MLObjective, ModelKernel, group_data,
                                         moments_group)

DATA = Path(__file__).parent / "lavaan_cases" / "data"

_HS3 = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"

# name: (syntax, fit_model arguments, observed variables that are not sinks)
CASES = {
    "cfa": (_HS3, {}, set()),
    "sem_correlated_residuals": (
        _HS3 + "speed ~ visual + textual\nx1 ~~ x4\nx2 ~~ x5\nx7 ~~ x9\n", {}, set()),
    "observed_covariates": (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual + textual ~ ageyr + sex\n",
        {}, {"ageyr", "sex"}),
    "covariates_free_x": (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + sex\n",
        {"fixed_x": False}, {"ageyr", "sex"}),
    "mean_structure": (_HS3 + "x1 ~ 0.5*1\nvisual ~ 1\n", {}, set()),
    "multigroup_scalar": (_HS3, {"group": "school",
                                 "group_equal": ("loadings", "intercepts")}, set()),
    "indicator_with_outgoing_path": (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nx7 ~ x1 + textual\nx8 ~ x7\n",
        {}, {"x1", "x7"}),
    "indicator_covarying_with_a_mediator": (
        "visual =~ x1 + x2 + x3\nx4 ~ visual\nx5 ~ x4\nx1 ~~ x4\n", {}, {"x1", "x4"}),
    "second_order": (_HS3 + "g =~ visual + textual + speed\n", {}, set()),
    "path_nonrecursive": ("x4 ~ x5 + x1\nx5 ~ x4 + x2\n", {}, {"x1", "x2", "x4", "x5"}),
    "latent_nonrecursive": (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ textual + ageyr\n"
        "textual ~ visual + sex\n", {}, {"ageyr", "sex"}),
    "fiml": (_HS3, {"missing": "fiml"}, set()),
    "fiml_multigroup": (_HS3, {"missing": "fiml", "group": "school",
                               "group_equal": ("loadings",)}, set()),
}


def _fit(name):
    syntax, kwargs, _ = CASES[name]
    file = "holzinger1939_missing.csv" if kwargs.get("missing") == "fiml" else "holzinger1939.csv"
    data = pd.read_csv(DATA / file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_model(syntax, data, compute_modindices=False, **kwargs)
    return fit, data, kwargs


def _groups(fit, data, kwargs):
    """The objective's groups as the fit built them (rows of each group, model order)."""
    cols = list(fit.observed)
    group = kwargs.get("group")
    frames = ([data] if group is None else
              [data[data[group].astype(str) == label] for label in fit.group_labels])
    out = []
    for frame in frames:
        X = frame[cols].to_numpy(float)
        if kwargs.get("missing") == "fiml":
            out.append(group_data(X[~np.isnan(X).all(axis=1)], logl_h1=0.0))
        else:
            mo = sample_moments(X[~np.isnan(X).any(axis=1)])
            out.append(moments_group(mo.n, mo.mean, mo.cov,
                                     meanstructure=fit.model.meanstructure))
    return out


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    fit, data, kwargs = _fit(request.param)
    groups = _groups(fit, data, kwargs)
    structured = MLObjective(fit.model, groups, ModelKernel(fit.model))
    plain = MLObjective(fit.model, groups, ModelKernel(fit.model, sinks=False))
    rng = np.random.default_rng(7)
    # away from the optimum, where the gradient is not zero
    theta = fit.theta * (1.0 + 0.05 * rng.standard_normal(len(fit.theta)))
    return request.param, fit, structured, plain, theta


def test_partition_splits_off_the_observed_sinks(case):
    name, fit, structured, plain, _ = case
    not_sinks = CASES[name][2]
    for grp in structured.kernel.groups:
        sinks = {fit.model.observed[i] for i in grp["kobs"]}
        assert sinks == set(fit.model.observed) - not_sinks
        assert grp["r"] == fit.model.n_vars - len(sinks)
        assert grp["tri"] == ("nonrecursive" not in name)  # I - A_RR inverted by dtrtri or inv
    assert all(grp["k"] == 0 and grp["r"] == fit.model.n_vars for grp in plain.kernel.groups)


def test_structured_and_plain_ram_forms_agree(case):
    _, _, structured, plain, theta = case
    f1, g1 = structured.value_grad(theta)
    f0, g0 = plain.value_grad(theta)
    assert abs(f1 - f0) <= 1e-13 * max(1.0, abs(f0))
    assert np.max(np.abs(g0)) > 1e-3
    np.testing.assert_allclose(g1, g0, rtol=1e-12, atol=1e-12 * np.max(np.abs(g0)))
    i1 = structured.complete_information(theta)
    i0 = plain.complete_information(theta)
    np.testing.assert_allclose(i1, i0, rtol=1e-12, atol=1e-12 * np.max(np.abs(i0)))


def test_implied_moments_match_the_compiled_model(case):
    _, fit, structured, _, theta = case
    k = structured.kernel
    for g in range(fit.model.ngroups):
        st = k.state(theta, g)
        sigma, mu = fit.model.implied(theta, g)
        np.testing.assert_allclose(st[3], sigma, rtol=1e-12, atol=1e-13)
        if k.meanstructure:
            np.testing.assert_allclose(st[5], mu, rtol=1e-12, atol=1e-13)
        A, S, _ = k.matrices(theta, g)
        E = np.linalg.inv(np.eye(k.n) - A)
        np.testing.assert_allclose(k.latent_covariance(theta, g), (E @ S @ E.T)[k.p:, k.p:],
                                   rtol=1e-12, atol=1e-13)


def test_gradient_matches_central_differences(case):
    _, _, structured, _, theta = case
    _, grad = structured.value_grad(theta)
    h = 1e-6 * np.maximum(1.0, np.abs(theta))
    numeric = np.empty_like(theta)
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h[j]
        numeric[j] = (structured.value(theta + e) - structured.value(theta - e)) / (2 * h[j])
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7 * np.max(np.abs(grad)))


def test_fixed_matrices_of_a_draw_take_the_same_path():
    """A bootstrap draw replaces the fixed.x entries of S and m; both forms agree."""
    fit, data, kwargs = _fit("observed_covariates")
    groups = _groups(fit, data, kwargs)
    kernel = ModelKernel(fit.model)
    grp = kernel.groups[0]
    x = [fit.model.observed.index(v) for v in ("ageyr", "sex")]
    S0 = grp["S0"].copy()
    S0[np.ix_(x, x)] *= 1.1
    fixed = [(grp["A0"], S0, grp["m0"])]
    structured = MLObjective(fit.model, groups, kernel, fixed)
    plain = MLObjective(fit.model, groups, ModelKernel(fit.model, sinks=False), fixed)
    f1, g1 = structured.value_grad(fit.theta)
    f0, g0 = plain.value_grad(fit.theta)
    assert abs(f1 - MLObjective(fit.model, groups, kernel).value(fit.theta)) > 1e-6
    assert abs(f1 - f0) <= 1e-13 * max(1.0, abs(f0))
    np.testing.assert_allclose(g1, g0, rtol=1e-12, atol=1e-12 * np.max(np.abs(g0)))


def test_fixed_matrices_outside_the_partition_are_refused():
    fit, data, kwargs = _fit("cfa")
    kernel = ModelKernel(fit.model)
    grp = kernel.groups[0]
    S0 = grp["S0"].copy()
    visual = fit.model.n_vars - len(fit.model.latent) + fit.model.latent.index("visual")
    S0[0, visual] = S0[visual, 0] = 0.1  # x1 ~~ visual: x1 is no longer a sink
    with pytest.raises(ValueError, match="sink"):
        MLObjective(fit.model, _groups(fit, data, kwargs), kernel,
                    [(grp["A0"], S0, grp["m0"])])


# ------------------------------------------------------------------------------------------
# the stacked objective of bootstrap draws
# ------------------------------------------------------------------------------------------

def _draws(fit, data, kwargs, m, seed):
    """m resampled data sets of the fit (rows drawn with replacement within each group) and
    per draw its own fixed matrices: the compiled ones with the entries among the observed
    variables that are not sinks (the fixed.x covariates) scaled by 1 + 0.02 i."""
    rng = np.random.default_rng(seed)
    kernel = ModelKernel(fit.model)
    cols = list(fit.model.observed)
    group = kwargs.get("group")
    frames = ([data] if group is None else
              [data[data[group].astype(str) == label] for label in fit.group_labels])
    draws, fixed = [], []
    for i in range(m):
        groups, fx = [], []
        for g, frame in enumerate(frames):
            X = frame[cols].to_numpy(float)
            X = X[~np.isnan(X).any(axis=1)]
            mo = sample_moments(X[rng.integers(0, len(X), len(X))])
            groups.append(moments_group(mo.n, mo.mean, mo.cov,
                                        meanstructure=fit.model.meanstructure))
            grp = kernel.groups[g]
            S0, m0 = grp["S0"].copy(), grp["m0"].copy()
            S0[np.ix_(grp["robs"], grp["robs"])] *= 1.0 + 0.02 * i
            m0[grp["robs"]] += 0.01 * i
            fx.append((grp["A0"], S0, m0))
        draws.append(groups)
        fixed.append(fx)
    return kernel, draws, fixed


@pytest.mark.parametrize("name", sorted(n for n in CASES if "fiml" not in n))
def test_stacked_objective_matches_the_single_one(name):
    """MLBatchObjective, the draws' F and gradient evaluated together, against MLObjective
    on each draw alone (to 1e-12), and each draw's numbers bit for bit the same whatever
    draws share the stack."""
    fit, data, kwargs = _fit(name)
    kernel, draws, fixed = _draws(fit, data, kwargs, 5, seed=3)
    batch = MLBatchObjective(kernel, draws, fixed)
    rng = np.random.default_rng(11)
    theta = fit.theta * (1.0 + 0.05 * rng.standard_normal((5, len(fit.theta))))
    f, grad, ok = batch.value_grad(theta)
    assert ok.all()
    for i in range(5):
        single = MLObjective(None, draws[i], kernel, fixed[i])
        fs, gs = single.value_grad(theta[i])
        assert abs(f[i] - fs) <= 1e-12 * max(1.0, abs(fs))
        assert np.max(np.abs(gs)) > 1e-4
        np.testing.assert_allclose(grad[i], gs, rtol=1e-12, atol=1e-12 * np.max(np.abs(gs)))
    for idx in ([3], [4, 1], [0, 2, 3]):
        f2, g2, _ = batch.value_grad(theta[idx], idx)
        assert np.array_equal(f2, f[idx]) and np.array_equal(g2, grad[idx])


def test_stacked_objective_flags_a_draw_outside_the_region_alone():
    """A draw whose implied covariance matrix is not positive definite is flagged (NaN F and
    gradient), as MLObjective returns None for it; the others keep their numbers."""
    fit, data, kwargs = _fit("sem_correlated_residuals")
    kernel, draws, _ = _draws(fit, data, kwargs, 3, seed=5)
    batch = MLBatchObjective(kernel, draws)
    theta = np.repeat(fit.theta[None, :], 3, axis=0)
    par = fit.model.partable
    k = int(par.loc[(par["lhs"] == "x1") & (par["op"] == "~~") & (par["rhs"] == "x1"),
                    "free"].iloc[0]) - 1
    theta[1, k] = -5.0  # a residual variance far below zero
    assert MLObjective(None, draws[1], kernel).value_grad(theta[1]) is None
    f, grad, ok = batch.value_grad(theta)
    assert ok.tolist() == [True, False, True]
    assert np.isnan(f[1]) and np.isnan(grad[1]).all()
    f0, g0, _ = batch.value_grad(theta[[0, 2]], [0, 2])
    assert np.array_equal(f0, f[[0, 2]]) and np.array_equal(g0, grad[[0, 2]])


def test_stacked_objective_refuses_missing_data_and_unequal_groups():
    fit, data, kwargs = _fit("fiml")
    kernel = ModelKernel(fit.model)
    with pytest.raises(ValueError, match="complete data"):
        MLBatchObjective(kernel, [_groups(fit, data, kwargs)])
    fit, data, kwargs = _fit("cfa")
    kernel = ModelKernel(fit.model)
    mo = sample_moments(data[list(fit.model.observed)].to_numpy(float))
    small = sample_moments(data[list(fit.model.observed)].to_numpy(float)[:100])
    with pytest.raises(ValueError, match="group sizes"):
        MLBatchObjective(kernel, [[moments_group(mo.n, mo.mean, mo.cov, meanstructure=False)],
                                  [moments_group(small.n, small.mean, small.cov,
                                                 meanstructure=False)]])


def test_stacked_objective_refuses_fixed_paths_that_differ():
    """E_RR of the stack is the series up to the compiled model's longest path, so draws
    may replace the fixed S and m, not A_RR."""
    fit, data, kwargs = _fit("second_order")
    kernel, draws, _ = _draws(fit, data, kwargs, 2, seed=1)
    grp = kernel.groups[0]
    A0 = grp["A0"].copy()
    lat = {v: fit.model.n_vars - len(fit.model.latent) + i
           for i, v in enumerate(fit.model.latent)}
    A0[lat["speed"], lat["visual"]] = 0.3  # a fixed path speed <- visual
    fixed = [[(grp["A0"], grp["S0"], grp["m0"])], [(A0, grp["S0"], grp["m0"])]]
    with pytest.raises(ValueError, match="change A"):
        MLBatchObjective(kernel, draws, fixed)
