"""Power and sample size: analytic numbers against semTools and lavaan, Monte Carlo against the
analytic power, determinism, the command line.

Reference: tests/reference/power_gcrm.json, written by tests/reference/make_power_reference.R
(semTools::findRMSEApower / findRMSEAsamplesize, and lavaan's SEs of the hypothesized model
fitted to the population covariance matrix built in R from the spec's population values).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import GCRM_SPEC, REFERENCE
from riskmodel_sem.errors import OptionError, SpecError
from riskmodel_sem.sem.power import rmsea_n_required, rmsea_power, wald_n_required, wald_power
from riskmodel_sem.survey.simulate import population_covariance, simulate_survey
from riskmodel_sem.survey.spec import load_spec
from riskmodel_sem.workflow.power import power_analysis, replication_seed

REF = json.loads((REFERENCE / "power_gcrm.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def spec():
    return load_spec(GCRM_SPEC)


@pytest.fixture(scope="module")
def analytic(spec):
    return power_analysis(spec, ns=REF["ns"], alpha=REF["alpha"])


def test_population_covariance_matches_lavaans_implied_matrix(spec):
    sigma = population_covariance(spec)
    assert list(sigma.columns) == REF["items"]
    np.testing.assert_allclose(sigma.to_numpy(), np.array(REF["sigma"]), rtol=0, atol=1e-12)


def test_rmsea_power_matches_semtools(analytic):
    assert analytic.df == REF["df"]
    for row, ref in zip(analytic.rmsea.to_dict("records"), REF["rmsea"]):
        assert row["n"] == ref["n"]
        assert math.isclose(row["power_close"], ref["power_close"], rel_tol=1e-6, abs_tol=1e-9)
        assert math.isclose(row["power_notclose"], ref["power_notclose"], rel_tol=1e-6,
                            abs_tol=1e-9)
    assert analytic.n_required_close == REF["n_required_close"]
    assert analytic.n_required_notclose == REF["n_required_notclose"]


@pytest.mark.parametrize("df,n,r0,r1", [(20, 200, .05, .08), (20, 200, .05, .01),
                                        (5, 80, .05, .08), (100, 1000, .05, .01)])
def test_rmsea_power_formula(df, n, r0, r1):
    """MacCallum, Browne & Sugawara (1996) with scipy.stats' noncentral chi-square."""
    lam0, lam1 = (n - 1) * df * r0 ** 2, (n - 1) * df * r1 ** 2
    if r1 > r0:
        want = stats.ncx2.sf(stats.ncx2.ppf(0.95, df, lam0), df, lam1)
    else:
        want = stats.ncx2.cdf(stats.ncx2.ppf(0.05, df, lam0), df, lam1)
    assert math.isclose(rmsea_power(df, n, rmsea0=r0, rmsea1=r1), want, rel_tol=1e-8)


def test_required_n_is_the_smallest_reaching_the_target():
    n = rmsea_n_required(20, 0.8)
    assert rmsea_power(20, n) >= 0.8 > rmsea_power(20, n - 1)
    m = wald_n_required(0.3, 1.2, 0.8)
    assert wald_power(0.3, 1.2 / math.sqrt(m)) >= 0.8 > wald_power(0.3, 1.2 / math.sqrt(m - 1))
    assert wald_n_required(0.0, 1.0) is None


def test_path_standard_errors_match_lavaan(analytic):
    paths = analytic.paths.set_index(["label", "n"])
    for n, rows in REF["se"].items():
        for ref in rows:
            mine = paths.loc[(ref["label"], int(n))]
            assert math.isclose(mine["est"], ref["est"], rel_tol=1e-5), ref["label"]
            assert math.isclose(mine["se"], ref["se"], rel_tol=1e-4), (ref["label"], n)
            z = abs(ref["est"]) / ref["se"]
            crit = stats.norm.ppf(0.975)
            want = stats.norm.cdf(z - crit) + stats.norm.cdf(-z - crit)
            assert math.isclose(mine["power"], want, rel_tol=1e-3), (ref["label"], n)


def test_paths_cover_every_hypothesis_and_effect(analytic, spec):
    labels = set(analytic.paths["label"])
    assert {"H1", "H2", "H3", "H4", "H5"} <= labels
    assert {"PLT_SOL_GIV", "ENV_SOL_GIV"} <= labels
    std = analytic.paths.drop_duplicates("label").set_index("label")["std"]
    assert math.isclose(std["H2"], 0.35, rel_tol=1e-6)
    assert math.isclose(std["PLT_SOL_GIV"], 0.35 * 0.35, rel_tol=1e-6)


def test_categorized_covariance_matches_bivariate_normal_probabilities(spec):
    sigma = population_covariance(spec)
    cat = population_covariance(spec, categorized=True)
    tau = np.asarray(spec.population.thresholds)
    r = sigma.iloc[0, 1]
    mvn = stats.multivariate_normal([0, 0], [[1, r], [r, 1]])
    want = sum(mvn.cdf([-a, -b]) - stats.norm.cdf(-a) * stats.norm.cdf(-b)
               for a in tau for b in tau)
    assert math.isclose(cat.iloc[0, 1], want, rel_tol=1e-7)
    var = sum(stats.norm.cdf(-max(a, b)) - stats.norm.cdf(-a) * stats.norm.cdf(-b)
              for a in tau for b in tau)
    assert math.isclose(cat.iloc[0, 0], var, rel_tol=1e-10)


def test_simulated_answers_have_the_population_covariance(spec):
    cat = population_covariance(spec, categorized=True)
    draws = simulate_survey(spec, 100_000, seed=11, recoded=True)[list(cat.columns)]
    emp = np.cov(draws.to_numpy(dtype=float).T, bias=True)
    # each entry has a Monte Carlo SE of about 1 / sqrt(100000) = 0.003
    assert np.abs(emp - cat.to_numpy()).max() < 0.02


def test_monte_carlo_does_not_depend_on_jobs(spec):
    one = power_analysis(spec, ns=(120,), reps=4, seed=5, jobs=1, progress=False)
    two = power_analysis(spec, ns=(120,), reps=4, seed=5, jobs=2, progress=False)
    pd.testing.assert_frame_equal(one.monte_carlo, two.monte_carlo)
    pd.testing.assert_frame_equal(one.monte_carlo_chisq, two.monte_carlo_chisq)
    # a replication's survey depends only on (seed, n, replication)
    assert replication_seed(5, 120, 3) != replication_seed(5, 120, 2)
    assert replication_seed(5, 120, 3) == replication_seed(5, 120, 3)


@pytest.mark.slow
def test_monte_carlo_power_agrees_with_analytic_power(spec):
    """Continuous answers, ML: the paths' rejection rates within Monte Carlo error of the
    analytic power, no bias and nominal coverage. The indirect effects' Wald (Sobel) tests
    reject less often than their asymptotic power at this N, as known for products of
    coefficients (MacKinnon et al., 2002): the analytic value is an upper bound there."""
    res = power_analysis(spec, ns=(250,), reps=300, seed=1, likert=False, jobs=2,
                         progress=False)
    mc = res.monte_carlo.set_index("label")
    kinds = res.paths.drop_duplicates("label").set_index("label")["kind"]
    analytic = res.paths.set_index("label")["power"]
    assert (mc["converged"] >= 295).all()
    for label, row in mc.iterrows():
        se = math.sqrt(analytic[label] * (1 - analytic[label]) / row["converged"])
        assert abs(row["relative_bias"]) < 0.08, label
        if kinds[label] == "effect":
            assert row["power"] < analytic[label] + 4 * se, label
            continue
        # asymptotic SEs at N = 250: 4 Monte Carlo SEs and a small finite-sample gap
        assert abs(row["power"] - analytic[label]) < 4 * se + 0.03, label
        assert abs(row["coverage"] - 0.95) < 4 * math.sqrt(0.95 * 0.05 / 300) + 0.01, label
    chisq = res.monte_carlo_chisq.iloc[0]
    # the model holds, but with 478 df at N = 250 the likelihood-ratio test rejects more often
    # than alpha (a known small-sample inflation): only its Monte Carlo SE is checked
    rate = chisq["rejection_rate"]
    assert math.isclose(chisq["mcse"], math.sqrt(rate * (1 - rate) / chisq["converged"]))


def test_power_needs_population_values(tmp_path):
    lav = tmp_path / "m.lav"
    lav.write_text("f =~ a + b + c\n", encoding="utf-8")
    with pytest.raises(SpecError, match="population"):
        power_analysis(load_spec(lav))


@pytest.mark.parametrize("kwargs", [dict(ns=()), dict(ns=(5,)), dict(ns=(100, 100)),
                                    dict(reps=-1), dict(alpha=0.7), dict(target=1.0),
                                    dict(estimator="GLS"), dict(jobs=0), dict(seed=-3)])
def test_bad_options_are_refused(spec, kwargs):
    with pytest.raises(OptionError):
        power_analysis(spec, **kwargs)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "riskmodel_sem", *args], capture_output=True,
                          text=True, timeout=600)


def test_command_writes_the_contract_keys(tmp_path):
    out = tmp_path / "power.json"
    proc = _run("power", "--spec", str(GCRM_SPEC), "--n", "150,300", "--reps", "3",
                "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    d = json.loads(out.read_text(encoding="utf-8"))
    rm = d["analytic"]["rmsea"]
    assert [r["n"] for r in rm["rows"]] == [150, 300]
    assert {"n", "power_close", "power_notclose"} <= set(rm["rows"][0])
    assert rm["n_required_close"] == REF["n_required_close"]
    assert "N - 1" in rm["convention"]
    assert {"label", "n", "se", "power"} <= set(d["analytic"]["paths"]["rows"][0])
    assert {"label", "n_required"} <= set(d["analytic"]["paths"]["n_required"][0])
    assert {"label", "n", "power", "mcse", "bias", "coverage", "converged"} <= \
        set(d["monte_carlo"][0])
    assert len(d["monte_carlo"]) == 2 * 7


def test_command_report_has_curves_and_sentence(tmp_path):
    out = tmp_path / "rep"
    proc = _run("power", "--spec", str(GCRM_SPEC), "--out", str(out), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="power-curves"' in html
    assert "An a priori power analysis" in html and "N = 541" in html
    from openpyxl import load_workbook

    wb = load_workbook(out / "report.xlsx")
    power = [ws for ws in wb if "Power" in ws.title]
    assert len(power) == 1 and len(power[0]._images) == 1  # the curves beside the tables
    import docx

    doc = docx.Document(str(out / "report.docx"))
    assert any("An a priori power analysis" in p.text for p in doc.paragraphs)
    assert len(doc.inline_shapes) == 1  # Figure 1: the power curves


@pytest.mark.parametrize("args,needle", [
    (["--n", "5"], "--n"), (["--n", "100,abc"], "--n"), (["--alpha", "2"], "--alpha"),
    (["--reps", "-4"], "--reps"), (["--power", "0"], "--power")])
def test_command_bad_options_exit_2_on_one_line(args, needle):
    proc = _run("power", "--spec", str(GCRM_SPEC), *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("riskmodel-sem: error:") and needle in lines[0]
