"""Bootstrap: lavaan's CIs on lavaan's own draws, the refit, reproducibility and MC agreement.

The interval functions are deterministic, so on the 2000 draws lavaan stored
(``poldem_bootstrap_draws.csv``) they must give lavaan's percentile and bca.simple bounds to
1e-10 and its bootstrap SEs to 1e-12. Our own draws use numpy's generator, so they can only
agree with lavaan's within Monte-Carlo error (see ``test_poldem_2000_draws_within_mc_error``).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import load_reference, load_reference_data
from riskmodel_sem.sem import bootstrap as bs
from riskmodel_sem.sem.bootstrap import executors, intervals, resampling
from riskmodel_sem.errors import OptionError
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.sem.objective import ModelKernel

#: The Bollen model exactly as the reference R script fitted it.
POLDEM = load_reference("poldem_sem_ml.json")["model"]


@pytest.fixture(scope="module")
def reference():
    return load_reference("poldem_sem_ml.json")["bootstrap"]


@pytest.fixture(scope="module")
def lavaan_draws():
    return load_reference_data("poldem_bootstrap_draws.csv").drop(columns="draw")


@pytest.fixture(scope="module")
def poldem():
    data = load_reference_data("political_democracy.csv")
    return fit_model(POLDEM, data), data


def _reference_arrays(reference):
    pars = [r for r in reference["parameters"] if r["free"]]
    dfn = [reference["defined"][k] for k in ("ind", "total")]
    est = np.array([r["est"] for r in pars] + [d["est"] for d in dfn])
    se = np.array([r["se_boot"] for r in pars] + [d["se_boot"] for d in dfn])
    perc = np.array([[r["perc.lower"], r["perc.upper"]] for r in pars]
                    + [[d["perc"]["lower"], d["perc"]["upper"]] for d in dfn])
    bca = np.array([[r["bca.simple.lower"], r["bca.simple.upper"]] for r in pars]
                   + [[d["bca.simple"]["lower"], d["bca.simple"]["upper"]] for d in dfn])
    return est, se, perc, bca


# ---------------------------------------------------------------------------------------------
# interval functions on lavaan's draws
# ---------------------------------------------------------------------------------------------

def test_percentile_and_bca_simple_reproduce_lavaan_on_its_draws(reference, lavaan_draws):
    est, _, perc, bca = _reference_arrays(reference)
    draws = lavaan_draws.to_numpy()
    assert draws.shape == (2000, 33)
    lo, hi = bs.percentile_ci(draws, est, 0.95)
    np.testing.assert_allclose(lo, perc[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(hi, perc[:, 1], rtol=0, atol=1e-10)
    lo, hi = bs.bca_simple_ci(draws, est, 0.95)
    np.testing.assert_allclose(lo, bca[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(hi, bca[:, 1], rtol=0, atol=1e-10)


def test_bootstrap_se_follows_lavaan_divisors(reference, lavaan_draws):
    """Free parameters: SD with divisor R; defined parameters: divisor R - 1 (lavaan 0.6.14)."""
    _, se, _, _ = _reference_arrays(reference)
    draws = lavaan_draws.to_numpy()
    np.testing.assert_allclose(bs.bootstrap_se(draws[:, :31], ddof=0), se[:31], rtol=1e-12)
    np.testing.assert_allclose(bs.bootstrap_se(draws[:, 31:], ddof=1), se[31:], rtol=1e-12)


def test_norm_inter_order_statistics_and_ends():
    # R = 39: (R + 1) * alpha is 1 (up to the rounding of (1 - 0.95) / 2, as in R) and 39
    t = np.arange(1.0, 40.0)
    lo, hi = bs.percentile_ci(t, None, 0.95)
    assert lo == pytest.approx(1.0, abs=1e-12) and hi == 39.0
    lo, _ = bs.percentile_ci(t, None, 0.5)  # 40 * 0.25 = 10 exactly: t_(10), no interpolation
    assert lo == 10.0
    lo, hi = bs.percentile_ci(np.arange(1.0, 11.0), None, 0.95)  # k = 0 and k = R: the ends
    assert (lo, hi) == (1.0, 10.0)
    # interpolation on the normal scale between t_(k) and t_(k+1)
    t = np.arange(1.0, 101.0)
    lo, _ = bs.percentile_ci(t, None, 0.95)
    rk = 101 * 0.025
    z = stats.norm.ppf
    expected = 2 + (z(0.025) - z(2 / 101)) / (z(3 / 101) - z(2 / 101)) * 1.0
    assert math.trunc(rk) == 2
    assert lo == pytest.approx(expected, abs=1e-14)
    # non-finite draws are dropped
    lo2, hi2 = bs.percentile_ci(np.r_[t, np.nan, np.inf], None, 0.95)
    assert (lo2, hi2) == bs.percentile_ci(t, None, 0.95)


def test_bca_simple_counts_draws_strictly_below_the_estimate():
    rng = np.random.default_rng(0)
    t = np.round(rng.normal(size=999), 1)  # many ties
    t0 = 0.0
    lo, hi = bs.bca_simple_ci(t, t0, 0.90)
    w = stats.norm.ppf(np.mean(t < t0))
    adj = stats.norm.cdf(2 * w + stats.norm.ppf([0.05, 0.95]))
    exp_lo, exp_hi = intervals._norm_inter(t, adj)
    assert (lo, hi) == (exp_lo, exp_hi)
    # zero variance keeps the estimate
    assert bs.bca_simple_ci(np.ones(50), 2.0) == (2.0, 2.0)


def test_bad_level_is_an_option_error():
    with pytest.raises(OptionError, match="level"):
        bs.percentile_ci(np.arange(10.0), None, 1.5)


def test_nonadmissible_definition_counts_lavaans_660(poldem, lavaan_draws):
    """lavaan's post.check (negative variances, cov.lv or theta not PSD) on its own draws."""
    fit, _ = poldem
    task = resampling._Task(kernel=ModelKernel(fit.model), values=(), theta0=fit.theta,
                            hinv0=None, seed=0, definitions=(), label_slots=(), derived=None,
                            exo=resampling._exo_positions(fit.model), width=0)
    draws = lavaan_draws.to_numpy()[:, :31]
    count = sum(not resampling._admissible(task, theta, None) for theta in draws)
    assert count == 660


# ---------------------------------------------------------------------------------------------
# the refit
# ---------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::riskmodel_sem.errors.HeywoodWarning")
def test_each_draw_is_the_ml_fit_of_its_resampled_rows(poldem):
    fit, data = poldem
    res = bs.bootstrap(fit, data, 40, seed=11)
    for b in (0, 39):
        rng = np.random.default_rng(np.random.SeedSequence(11).spawn(40)[b])
        idx = rng.integers(0, len(data), size=len(data))
        refit = fit_model(POLDEM, data.iloc[idx].reset_index(drop=True),
                          compute_modindices=False)
        np.testing.assert_allclose(res.draws[b, :31], refit.theta, rtol=1e-5, atol=1e-6)
        ind = refit.estimates.set_index("lhs").loc["ind", "est"]
        assert res.draws[b, 31] == pytest.approx(ind, rel=1e-5)


def test_seed_scheme_is_spawned_seed_sequences():
    kids = np.random.SeedSequence(42).spawn(5)
    for b, kid in enumerate(kids):
        direct = np.random.SeedSequence(42, spawn_key=(b,))
        assert np.array_equal(kid.generate_state(4), direct.generate_state(4))


def test_jobs_one_and_two_give_identical_arrays(poldem, monkeypatch):
    fit, data = poldem
    one = bs.bootstrap(fit, data, 40, seed=7, jobs=1)
    assert one.remote_draws == 0
    # every chunk in a worker process (this process only collects)
    monkeypatch.setattr(executors, "_LOCAL_WORK", False)
    two = bs.bootstrap(fit, data, 40, seed=7, jobs=2)
    assert two.remote_draws == 40
    assert np.array_equal(one.draws, two.draws, equal_nan=True)
    monkeypatch.setattr(executors, "_LOCAL_WORK", True)
    mixed = bs.bootstrap(fit, data, 40, seed=7, jobs=3)
    assert np.array_equal(one.draws, mixed.draws, equal_nan=True)
    assert one.ci.equals(two.ci)
    assert (one.failed, one.nonadmissible) == (two.failed, two.nonadmissible)
    other = bs.bootstrap(fit, data, 40, seed=8, jobs=1)
    assert not np.array_equal(one.draws, other.draws)



def _chunks_of(size):
    """executors._chunks replaced by chunks of ``size`` draws (the last one shorter)."""
    return lambda B, jobs, *limits: [(s, min(s + size, B)) for s in range(0, B, size)]


_HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


@pytest.fixture(scope="module")
def holzinger():
    return pd.read_csv(Path(__file__).parent / "lavaan_cases" / "data" / "holzinger1939.csv")


@pytest.mark.filterwarnings("ignore::riskmodel_sem.errors.RiskModelWarning")
@pytest.mark.parametrize("case", ["poldem", "poldem_max_iter", "multigroup", "fixed_x"])
def test_draws_do_not_depend_on_the_chunk_that_refits_them(case, poldem, holzinger,
                                                           monkeypatch):
    """The draws of a chunk are refitted together (one stacked evaluation per round of
    BFGS); each draw's row, failed flag, admissibility and iterations are bit for bit those
    it gets in a chunk of 1, 3 or 10 draws, or of 40 draws of which 4 iterate at once (a draw
    joining when another is done). ``poldem_max_iter`` stops BFGS after 19 iterations, so
    that about half the draws fail on the way."""
    fit, data = poldem
    kwargs = {}
    if case == "poldem_max_iter":
        monkeypatch.setattr(resampling, "_MAX_ITER", 19)
    elif case == "multigroup":
        data = holzinger
        fit = fit_model(_HS, data, group="school", group_equal=("loadings",),
                        compute_modindices=False)
        kwargs = {"group": "school"}
    elif case == "fixed_x":
        data = holzinger
        fit = fit_model("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                        "visual + textual ~ ageyr + sex\n", data, compute_modindices=False)
        assert any(len(e[0]) for e in resampling._exo_positions(fit.model))
    runs = []
    for size, window in ((1, 32), (3, 32), (10, 32), (40, 4)):
        monkeypatch.setattr(executors, "_chunks", _chunks_of(size))
        monkeypatch.setattr(resampling, "_BATCH_WINDOW", window)
        runs.append(bs.bootstrap(fit, data, 40, seed=5, **kwargs))
    first = runs[0]
    if case == "poldem_max_iter":
        assert 5 <= first.failed <= 35
    else:
        assert first.failed == 0
    for other in runs[1:]:
        assert np.array_equal(first.draws, other.draws, equal_nan=True)
        assert np.array_equal(first.derived_draws, other.derived_draws, equal_nan=True)
        assert np.array_equal(first.admissible, other.admissible)
        assert np.array_equal(first.iterations, other.iterations)
        assert (first.failed, first.nonadmissible) == (other.failed, other.nonadmissible)


@pytest.mark.filterwarnings("ignore::riskmodel_sem.errors.RiskModelWarning")
def test_refit_together_equals_the_draw_by_draw_refit(poldem, monkeypatch):
    """The draws refitted together reach the optimum the draw-by-draw BFGS reaches, to its
    tolerance, with the same failures and admissibility and about as many iterations."""
    fit, data = poldem
    together = bs.bootstrap(fit, data, 80, seed=2)
    monkeypatch.setattr(resampling, "_batched", lambda task: False)
    alone = bs.bootstrap(fit, data, 80, seed=2)
    assert together.failed == alone.failed == 0
    np.testing.assert_allclose(together.draws, alone.draws, rtol=0, atol=1e-6)
    assert np.array_equal(together.admissible, alone.admissible)
    assert 0 < together.nonadmissible < 80
    assert np.max(np.abs(together.iterations - alone.iterations)) <= 4

def test_result_table_and_json(poldem):
    fit, data = poldem
    res = bs.bootstrap(fit, data, 40, seed=3)
    assert list(res.ci.columns) == bs.CI_COLUMNS
    assert len(res.ci) == 31 + 2
    d = res.to_dict()
    assert {"n", "seed", "failed", "nonadmissible", "ci"} <= set(d)
    ind = [r for r in d["ci"] if r["op"] == ":=" and r["lhs"] == "ind"]
    assert ind and ind[0]["est"] == pytest.approx(1.241782807368926, rel=1e-4)
    assert res.draws.shape == (40, 33)
    assert res.names[-2:] == ("ind", "total")
    row = res.row("ind", ":=")
    assert row["ci_lower_perc"] < row["est"] < row["ci_upper_perc"]


def test_bad_arguments(poldem):
    fit, data = poldem
    with pytest.raises(OptionError):
        bs.bootstrap(fit, data, 0, seed=1)
    with pytest.raises(OptionError, match="from 40"):
        bs.bootstrap(fit, data, 10, seed=1)  # as the command line: too few for a 95% interval
    with pytest.raises(OptionError, match="to 100000"):
        bs.bootstrap(fit, data, 10**9, seed=1)
    with pytest.raises(OptionError, match="seed"):
        bs.bootstrap(fit, data, 40, seed=-1)
    with pytest.raises(OptionError, match="jobs"):
        bs.bootstrap(fit, data, 40, seed=1, jobs=0)


@pytest.mark.slow
def test_dask_local_cluster_matches_local_run(poldem):
    distributed = pytest.importorskip("distributed")
    fit, data = poldem
    local = bs.bootstrap(fit, data, 40, seed=5, jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = bs.bootstrap(fit, data, 40, seed=5, scheduler=client)
            by_address = bs.bootstrap(fit, data, 40, seed=5, scheduler=cluster.scheduler_address)
    assert remote.remote_draws == 40
    assert np.array_equal(local.draws, remote.draws, equal_nan=True)
    assert np.array_equal(local.draws, by_address.draws, equal_nan=True)


# ---------------------------------------------------------------------------------------------
# Monte-Carlo agreement with lavaan
# ---------------------------------------------------------------------------------------------

def _quantile_mc_se(t, alpha, B):
    """MC SE of a bootstrap alpha-quantile: sqrt(alpha (1 - alpha) / B) / f(xi_alpha), with
    1 / f estimated by the spacing of lavaan's order statistics around alpha (+-0.01)."""
    lo, hi = np.quantile(t, [max(alpha - 0.01, 0.001), min(alpha + 0.01, 0.999)])
    inv_density = (hi - lo) / (min(alpha + 0.01, 0.999) - max(alpha - 0.01, 0.001))
    return math.sqrt(alpha * (1 - alpha) / B) * inv_density


@pytest.mark.slow
def test_poldem_2000_draws_within_mc_error(poldem, reference, lavaan_draws):
    """Our 2000 seeded draws against lavaan's 2000: SEs and CI bounds of ind and total.

    Tolerance: two independent bootstraps of B draws differ by sqrt(2) times the MC SE of
    one. For a bootstrap SE s, MC SE = sqrt(m4 - s^4) / (2 s sqrt(B)) (delta method on the
    variance; m4 the fourth central moment, from lavaan's draws). For a percentile bound at
    level alpha, MC SE = sqrt(alpha (1 - alpha) / B) / f(xi_alpha) (asymptotic variance of a
    sample quantile; 1 / f from the spacing of lavaan's order statistics). A bca.simple bound
    is the quantile at alpha' = Phi(2 w + z) with w = qnorm(p), p = #{t < est} / B, so it
    adds (2 phi(2 w + z) / phi(w))^2 p (1 - p) / B to the variance of alpha' (delta method).
    Every difference must be below 3 sqrt(2) MC SEs (about 0.3 % two-sided per comparison for
    normal errors; ten comparisons). Nonadmissible counts are binomial: within 3 sqrt(2) SDs.
    """
    fit, data = poldem
    B = 2000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bs.bootstrap(fit, data, B, seed=20231, jobs=2)
    assert res.failed == 0
    p_na = 660 / 2000
    assert abs(res.nonadmissible - 660) < 3 * math.sqrt(2) * math.sqrt(B * p_na * (1 - p_na))
    for name in ("ind", "total"):
        t = lavaan_draws[name].to_numpy()
        ref = reference["defined"][name]
        ours = res.row(name, ":=")
        s = t.std(ddof=1)
        m4 = np.mean((t - t.mean()) ** 4)
        se_mc = math.sqrt(m4 - s ** 4) / (2 * s * math.sqrt(B))
        assert abs(ours["se"] - ref["se_boot"]) < 3 * math.sqrt(2) * se_mc, name
        for side, alpha in (("lower", 0.025), ("upper", 0.975)):
            mc = _quantile_mc_se(t, alpha, B)
            assert abs(ours[f"ci_{side}_perc"] - ref["perc"][side]) < 3 * math.sqrt(2) * mc, \
                (name, side)
            p = np.mean(t < ref["est"])
            w = stats.norm.ppf(p)
            a_adj = stats.norm.cdf(2 * w + stats.norm.ppf(alpha))
            dadj = 2 * stats.norm.pdf(2 * w + stats.norm.ppf(alpha)) / stats.norm.pdf(w)
            q = _quantile_mc_se(t, a_adj, B)
            inv_f = q / math.sqrt(a_adj * (1 - a_adj) / B)
            mc_bc = inv_f * math.sqrt((a_adj * (1 - a_adj) + dadj ** 2 * p * (1 - p)) / B)
            assert abs(ours[f"ci_{side}_bc"] - ref["bca.simple"][side]) \
                < 3 * math.sqrt(2) * mc_bc, (name, side)


# ---------------------------------------------------------------------------------------------
# FIML: rows resampled with their missing answers, refitted by FIML
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hs_fiml():
    ref = load_reference("hs_cfa_fiml.json")
    data = load_reference_data(ref["data"])
    return fit_model(ref["model"], data, missing="fiml"), data, ref["model"]


def test_each_fiml_draw_is_the_fiml_fit_of_its_resampled_rows(hs_fiml):
    fit, data, model = hs_fiml
    res = bs.bootstrap(fit, data, 40, seed=11)
    assert res.failed == 0
    q = fit.model.n_free
    for b in (0, 39):
        rng = np.random.default_rng(np.random.SeedSequence(11).spawn(40)[b])
        idx = rng.integers(0, len(data), size=len(data))  # every row has an answer
        rows = data.iloc[idx].reset_index(drop=True)
        assert rows[list(fit.model.observed)].isna().any(axis=None)
        refit = fit_model(model, rows, missing="fiml", compute_modindices=False)
        np.testing.assert_allclose(res.draws[b, :q], refit.theta, rtol=1e-5, atol=1e-6)


def test_fiml_draws_do_not_depend_on_jobs(hs_fiml, monkeypatch):
    fit, data, _ = hs_fiml
    one = bs.bootstrap(fit, data, 40, seed=4, jobs=1)
    monkeypatch.setattr(executors, "_LOCAL_WORK", False)
    two = bs.bootstrap(fit, data, 40, seed=4, jobs=2)
    assert two.remote_draws == 40
    assert np.array_equal(one.draws, two.draws, equal_nan=True)
    assert one.ci.equals(two.ci)


def test_fiml_draw_without_a_pair_answered_together_fails():
    values = np.array([[1.0, np.nan], [2.0, np.nan], [np.nan, 1.0], [np.nan, 3.0]])
    assert resampling._fiml_group(values) is None
    values[0, 1] = 2.0
    assert resampling._fiml_group(values) is not None


@pytest.mark.slow
def test_fiml_bootstrap_ses_within_mc_error_of_lavaan(hs_fiml):
    """Our 1000 FIML draws against lavaan's 1000 (se = "bootstrap", missing = "ml"): the SE
    and percentile bounds of every free parameter. Different random numbers, so the tolerance
    is Monte-Carlo error: two independent bootstraps of B draws differ by sqrt(2) MC SEs of
    one (SE: sqrt(m4 - s^4) / (2 s sqrt(B)); bound: sqrt(a (1 - a) / B) / f, as in the poldem
    test); 3.5 sqrt(2) MC SEs for 30 parameters (about 0.05 % two-sided each)."""
    fit, data, _ = hs_fiml
    ref = load_reference("hs_cfa_fiml_bootstrap.json")
    draws = load_reference_data(ref["draws_file"]).drop(columns="draw")
    B = 1000
    res = bs.bootstrap(fit, data, B, seed=20231, jobs=2)
    assert res.failed == 0 and ref["draws_used"] == B
    table = fit.model.partable
    for r in ref["parameters"]:
        row = table[(table["lhs"] == r["lhs"]) & (table["op"] == r["op"])
                    & (table["rhs"] == r["rhs"])].iloc[0]
        k = int(row["free"]) - 1
        t = draws.iloc[:, r["free"] - 1].to_numpy()
        s = t.std(ddof=0)
        assert s == pytest.approx(r["se_boot"], rel=1e-8)  # the file's draws are lavaan's
        m4 = np.mean((t - t.mean()) ** 4)
        se_mc = math.sqrt(m4 - s ** 4) / (2 * s * math.sqrt(B))
        ours = res.ci.iloc[k]
        assert (ours["lhs"], ours["op"], ours["rhs"]) == (r["lhs"], r["op"], r["rhs"])
        assert ours["est"] == pytest.approx(r["est"], rel=1e-4, abs=1e-6)
        assert abs(ours["se"] - r["se_boot"]) < 3.5 * math.sqrt(2) * se_mc, r
        for side, alpha in (("lower", 0.025), ("upper", 0.975)):
            mc = _quantile_mc_se(t, alpha, B)
            assert abs(ours[f"ci_{side}_perc"] - r[f"perc.{side}"]) \
                < 3.5 * math.sqrt(2) * mc, (r, side)
