"""Bootstrap of fits with ordered items (WLSMV / ULSMV / DWLS / ULS).

lavaan 0.6.14 bootstraps these fits with ``se = "bootstrap"`` and ``estimator = "DWLS"``
(it refuses ``estimator = "WLSMV"`` there: "use (D)WLS estimator for bootstrap"; the point
estimates are the same): each draw resamples the rows, recomputes thresholds, polychoric
correlations and the diagonal weights, and refits from the full-sample estimates. Our draws
use numpy's generator, so they agree with lavaan's (``tests/reference/make_ordinal_bootstrap.R``)
within Monte-Carlo error only.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from conftest import load_reference, load_reference_data
from riskmodel_sem.sem.bootstrap import bootstrap, executors, resampling
from riskmodel_sem.sem.estimation import fit_model

CFA = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
SEM = (CFA + "\ntextual ~ a*visual\nspeed ~ b*textual + visual\nind := a*b")
ITEMS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def hs():
    return load_reference_data("holzinger1939_ordinal.csv")


@pytest.fixture(scope="module")
def sem_fit(hs):
    return fit_model(SEM, hs, estimator="WLSMV", ordered=ITEMS)


def test_draws_do_not_depend_on_the_number_of_processes(sem_fit, hs, monkeypatch):
    """Draw b's rows come from SeedSequence(seed).spawn_key (b,): the same draws with one
    process and, every chunk computed in a forked worker, with two."""
    task = resampling._ordinal_task(sem_fit, hs, None, 7, ())
    one = executors.execute(resampling._run_chunk, task, 12, 1, None,
                            executors.Progress(12, False))
    monkeypatch.setattr(executors, "_LOCAL_WORK", False)
    two = executors.execute(resampling._run_chunk, task, 12, 2, None,
                            executors.Progress(12, False))
    for a, b in zip(one[:4], two[:4]):
        np.testing.assert_array_equal(a, b)
    assert not one[1].any()
    assert two[4] == 12


def test_table_holds_every_free_parameter_thresholds_and_defined(sem_fit, hs):
    res = bootstrap(sem_fit, hs, 40, seed=3)
    ci = res.ci
    est = sem_fit.estimates
    free = est[est["op"].isin(["=~", "~", "~~", "|"]) & (est["se"] > 0)]
    assert len(ci) == sem_fit.model.n_free + 1
    assert (ci["op"] == "|").sum() == 36          # 9 items x 4 thresholds
    for r in free.itertuples():
        row = res.row(r.lhs, r.op, r.rhs)
        assert row["est"] == pytest.approx(r.est, rel=1e-10, abs=1e-12)
        assert row["ci_lower_perc"] <= row["ci_upper_perc"]
        assert row["se"] > 0
    # lavaan's SEs: SD of the draws (divisor R) times sqrt(N / (N - G)) for free parameters,
    # its divisor of every non-ML vcov; divisor R - 1 for := parameters
    n = len(hs)
    k = res.names.index("a")
    assert res.row("textual", "~", "visual")["se"] == pytest.approx(
        np.std(res.draws[:, k]) * math.sqrt(n / (n - 1)), rel=1e-12)
    ind = res.row("ind", ":=")
    assert ind["se"] == pytest.approx(np.std(res.draws[:, res.names.index("ind")], ddof=1),
                                      rel=1e-12)
    assert ind["est"] == pytest.approx(float(est.loc[est["op"] == ":=", "est"].iloc[0]),
                                       rel=1e-10)
    # the := column of every draw is a * b of that draw
    a = res.draws[:, res.names.index("a")]
    b = res.draws[:, res.names.index("b")]
    np.testing.assert_allclose(res.draws[:, res.names.index("ind")], a * b, rtol=1e-12)


def test_task_pickles_for_a_cluster(sem_fit, hs):
    """A Dask cluster receives the task pickled: the model (whose := functions do not
    pickle) is compiled again there and gives the same draw."""
    import pickle

    task = resampling._ordinal_task(sem_fit, hs, None, 9, ())
    copy = pickle.loads(pickle.dumps(task))
    a, b = resampling._one_ordinal_draw(task, 2), resampling._one_ordinal_draw(copy, 2)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:3] == b[1:3] == (False, True)


def test_each_draw_refits_the_resampled_statistics(sem_fit, hs):
    """Draw b's parameters are the ordinal fit of the rows that draw picked."""
    task = resampling._ordinal_task(sem_fit, hs, None, 11, ())
    row, failed, _, _ = resampling._one_ordinal_draw(task, 4)
    rng = np.random.default_rng(np.random.SeedSequence(11, spawn_key=(4,)))
    X = task.values[0]
    idx = rng.integers(0, X.shape[0], size=X.shape[0])
    refit = fit_model(SEM, pd.DataFrame(X[idx], columns=list(task.names)), estimator="DWLS",
                      ordered=ITEMS, compute_modindices=False)
    assert not failed
    np.testing.assert_allclose(row[:sem_fit.model.n_free], refit.theta, rtol=1e-6, atol=1e-7)


def test_a_draw_without_a_category_fails_as_in_lavaan(hs):
    """A category answered once is missing from about 37% of the draws; lavaan's draw then
    fails (creating the sample statistics) and so does ours; the other draws converge."""
    data = hs.copy()
    data.loc[data["x1"] == 1, "x1"] = 2
    data.loc[0, "x1"] = 1
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"
    fit = fit_model(model, data, estimator="WLSMV", ordered=True)
    with pytest.warns(UserWarning, match="bootstrap draws failed"):
        res = bootstrap(fit, data, 40, seed=5)
    rare = int(np.flatnonzero(data["x1"].to_numpy() == 1)[0])
    lacks = []
    for b in range(40):
        rng = np.random.default_rng(np.random.SeedSequence(5, spawn_key=(b,)))
        lacks.append(rare not in rng.integers(0, len(data), size=len(data)))
    failed = np.isnan(res.draws[:, 0])
    np.testing.assert_array_equal(failed, np.array(lacks))
    assert res.failed == sum(lacks) > 0
    assert np.isfinite(res.row("visual", "=~", "x2")["se"])


@pytest.mark.slow
def test_ulsmv_pairwise_and_groups(hs):
    two = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"
    data = hs.copy()
    data.loc[::17, "x2"] = np.nan
    uls = fit_model(two, data, estimator="ULSMV", ordered=True, missing="pairwise")
    res = bootstrap(uls, data, 40, seed=2)
    assert res.failed == 0 and np.all(np.isfinite(res.ci["se"]))
    grp = fit_model(two, hs, estimator="WLSMV", ordered=True, group="school")
    # rows are resampled within each school; a draw in which a school has no answer in a
    # category of x5 (11 answers in the top category at Pasteur) fails, as in lavaan
    with pytest.warns(UserWarning, match="1 of 40 bootstrap draws failed"):
        res = bootstrap(grp, hs, 40, seed=2, group="school")
    assert set(res.ci["group"]) == {1, 2} and len(res.ci) == grp.model.n_free
    assert np.all(np.isfinite(res.ci["se"]))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cfa", "sem"])
def test_ses_and_bounds_within_mc_error_of_lavaan(hs, name):
    """Our 1000 draws against lavaan's 1000 (se = "bootstrap", estimator = "DWLS"): SE and
    percentile bounds of every free and := parameter. Two independent bootstraps of B draws
    differ by sqrt(2) Monte-Carlo SEs of one (SE: sqrt(m4 - s^4) / (2 s sqrt(B)); bound:
    sqrt(a (1 - a) / B) / f with f the draws' density there); 3.5 sqrt(2) MC SEs for about
    50 parameters. The density is the normal one with the draws' SD, sd / phi(z_a): the
    thresholds of a CFA are the sample thresholds, qnorm(k / N), so their draws lie on a
    lattice and the spacing of neighbouring order statistics (``test_bootstrap``'s
    estimate) is zero or one lattice step, which says nothing about the density."""
    from scipy.stats import norm

    ref = load_reference("ordinal_bootstrap.json")[name]
    draws = load_reference_data(ref["draws_file"]).drop(columns="draw")
    B = 1000
    fit = fit_model(ref["model"], hs, estimator="WLSMV", ordered=ITEMS)
    res = bootstrap(fit, hs, B, seed=20231, jobs=2)
    assert res.failed == 0 and ref["draws_used"] == B
    n = len(hs)
    for k, r in enumerate(ref["parameters"]):
        t = draws.iloc[:, k].to_numpy()
        # lavaan: SD with divisor R times sqrt(N / (N - 1)) for free parameters (its vcov of
        # non-ML estimators divides by N - G), divisor R - 1 for := parameters
        scale = 1.0 if r["op"] == ":=" else math.sqrt(n / (n - 1))
        s = t.std(ddof=1 if r["op"] == ":=" else 0)
        assert s * scale == pytest.approx(r["se_boot"], rel=1e-8)  # the draws are lavaan's
        m4 = np.mean((t - t.mean()) ** 4)
        se_mc = scale * math.sqrt(m4 - s ** 4) / (2 * s * math.sqrt(B))
        ours = res.row(r["lhs"], r["op"], r["rhs"] if r["op"] != ":=" else "")
        assert ours["est"] == pytest.approx(r["est"], rel=1e-4, abs=1e-6)
        assert abs(ours["se"] - r["se_boot"]) < 3.5 * math.sqrt(2) * se_mc, r
        for side, alpha in (("lower", 0.025), ("upper", 0.975)):
            mc = math.sqrt(alpha * (1 - alpha) / B) * t.std() / norm.pdf(norm.ppf(alpha))
            assert abs(ours[f"ci_{side}_perc"] - r[f"perc.{side}"]) \
                < 3.5 * math.sqrt(2) * mc, (r, side)


def test_refused_with_observed_covariates(hs):
    """Ordered items regressed on observed covariates (lavaan's conditional.x) are refused
    by name rather than bootstrapped from the wrong statistics."""
    from riskmodel_sem.errors import OptionError

    fit = fit_model("visual =~ x1 + x2 + x3\nvisual ~ ageyr", hs, estimator="WLSMV",
                    ordered=["x1", "x2", "x3"])
    with pytest.raises(OptionError, match="conditional.x"):
        bootstrap(fit, hs, 40, seed=1)

