"""fit --summary and summary(): lavaan's summary(fit, fit.measures = TRUE, standardized = TRUE)
layout filled with lavaan 0.6.14's numbers (tests/reference/hs_cfa_ml.json)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REFERENCE, ROOT, load_reference, load_reference_data
from riskmodel_sem.sem.estimation import fit_model


@pytest.fixture(scope="module")
def ref():
    return load_reference("hs_cfa_ml.json")


@pytest.fixture(scope="module")
def text(ref):
    fit = fit_model(ref["model"], load_reference_data("holzinger1939.csv"))
    return fit.summary()


def _line(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(label))


def test_test_statistics_and_fit_indices_are_lavaans(ref, text):
    f = ref["fit"]
    assert _line(text, "Test Statistic").split()[-1] == f"{f['chisq']:.3f}"
    assert _line(text, "Degrees of freedom").split()[-1] == str(int(f["df"]))
    assert _line(text, "Estimator").split()[-1] == "ML"
    assert _line(text, "Number of observations").split()[-1] == "301"
    for label, key in (("Comparative Fit Index", "cfi"), ("Tucker-Lewis Index", "tli"),
                       ("RMSEA", "rmsea"), ("SRMR", "srmr"), ("Akaike (AIC)", "aic"),
                       ("Bayesian (BIC)", "bic"), ("Loglikelihood user model", "logl"),
                       ("90 Percent confidence interval - lower", "rmsea.ci.lower")):
        assert _line(text, label).split()[-1] == f"{f[key]:.3f}", label


def test_parameter_sections_hold_every_estimate(ref, text):
    for title in ("Latent Variables:", "Covariances:", "Variances:", "R-Square:"):
        assert title in text
    lines = text.splitlines()
    start = lines.index("Latent Variables:")
    for row in ref["estimates"]:
        if row["op"] != "=~":
            continue
        line = next(x for x in lines[start:] if x.split() and x.split()[0] == row["rhs"])
        cells = line.split()[1:]
        want = [row["est"]] + ([row["se"], row["z"], row["pvalue"]] if row["se"] else []) + [
            row["std.lv"], row["std.all"]]
        assert cells == [f"{v:.3f}" for v in want], line


def test_fit_summary_on_the_command_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "riskmodel_sem", "fit",
                          str(REFERENCE / "holzinger1939.csv"), "--spec",
                          str(REFERENCE / "models" / "hs_three_factor.lav"), "--summary"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "Latent Variables:" in out.stdout and "Model Test User Model:" in out.stdout
    assert "printing the fit summary only" not in out.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written without --out or --json


def test_result_objects_render_in_notebooks(text):
    from riskmodel_sem.sem.summary import summary_html

    html = summary_html(text + "<x>")
    assert html.startswith("<pre") and "&lt;x&gt;" in html
