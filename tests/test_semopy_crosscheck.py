"""Cross-check against an independent implementation (semopy): the paper's model, and the
user's ``fit --crosscheck semopy`` on a small model.

semopy's SLSQP optimizer stops early (its estimates differ from lavaan's in the third
decimal, DESIGN.md §2), so agreement is asserted to 5e-3 absolute: enough to catch a wrong
model structure (a missing path, a wrong marker) but not a test of precision; precision is
tested against lavaan in test_estimation.py.
"""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest

from riskmodel_sem.cli import main
from riskmodel_sem.errors import OptionError
from riskmodel_sem.sem.crosscheck import CrossCheck, crosscheck_semopy, semopy_estimates
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.survey.simulate import simulate_survey
from riskmodel_sem.survey.spec import load_spec

from conftest import GCRM_SPEC, REFERENCE


@pytest.mark.slow
def test_paper_model_agrees_with_semopy(project_root):
    spec = load_spec(GCRM_SPEC)
    data = simulate_survey(spec, 2000, 11)
    ours = fit_model(spec.model_syntax(), data, compute_modindices=False)
    theirs = semopy_estimates(spec.model_syntax(), data).set_index(["lhs", "op", "rhs"])
    est = ours.estimates[ours.estimates["op"].isin(["=~", "~"])]
    assert len(est) == 33 + 11 + 5
    diffs = []
    for r in est.itertuples():
        diffs.append(abs(r.est - theirs.loc[(r.lhs, r.op, r.rhs), "est"]))
    assert max(diffs) < 5e-3, max(diffs)


HS_DATA = REFERENCE / "holzinger1939.csv"
HS_MODEL = REFERENCE / "models" / "hs_three_factor.lav"


def test_fit_crosscheck_semopy_through_the_command_line(tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["fit", str(HS_DATA), "--spec", str(HS_MODEL), "--crosscheck", "semopy",
                 "--json", str(out)]) == 0
    check = json.loads(out.read_text(encoding="utf-8"))["crosscheck"]
    assert set(check) == {"engine", "version", "max_abs_diff", "parameter", "n_compared", "note"}
    assert check["engine"] == "semopy"
    assert check["version"] == version("semopy")
    # 6 free loadings, 9 residual variances, 3 factor variances, 3 factor covariances
    assert check["n_compared"] == 21
    # semopy's SLSQP stops early (about 1e-3 here); a wrong model would differ by far more
    assert 0 <= check["max_abs_diff"] < 1e-2
    lhs, op, rhs = check["parameter"].split()
    assert op in {"=~", "~~"}
    assert "crosscheck with semopy" in capsys.readouterr().err


def test_crosscheck_result_is_a_frozen_dataclass(hs):
    import dataclasses

    fit = fit_model(HS_MODEL.read_text(encoding="utf-8"), hs)
    check = crosscheck_semopy(fit, hs)
    assert isinstance(check, CrossCheck)
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.max_abs_diff = 0.0
    assert check.to_dict()["max_abs_diff"] == check.max_abs_diff


@pytest.mark.parametrize("extra, needle", [
    (["--missing", "fiml"], "--missing listwise"),
    (["--group", "school"], "--group"),
])
def test_crosscheck_refuses_what_semopy_cannot_compare(extra, needle, tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["fit", str(HS_DATA), "--spec", str(HS_MODEL), "--crosscheck", "semopy",
                 *extra, "--json", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("riskmodel-sem: error: --crosscheck semopy")
    assert needle in err[0]
    assert not out.exists()


def test_crosscheck_engine_is_checked(capsys):
    assert main(["fit", str(HS_DATA), "--spec", str(HS_MODEL), "--crosscheck", "lavaan"]) == 2
    assert "crosscheck" in capsys.readouterr().err


def test_crosscheck_refuses_a_model_semopy_reads_differently(hs):
    # semopy takes NA* as a label and fixes the next loading instead: another model
    fit = fit_model("visual =~ NA*x1 + x2 + x3\nvisual ~~ 1*visual\ntextual =~ x4 + x5 + x6\n",
                    hs, compute_modindices=False)
    with pytest.raises(OptionError, match="12 free parameters.*13"):
        crosscheck_semopy(fit, hs)


def test_crosscheck_compares_equality_constrained_loadings(hs):
    fit = fit_model("visual =~ x1 + a*x2 + a*x3\ntextual =~ x4 + x5 + x6\n", hs)
    check = crosscheck_semopy(fit, hs)
    assert check.n_compared == 13  # both labelled loadings, one parameter
    assert check.max_abs_diff < 1e-2


def test_crosscheck_appears_in_the_report(tmp_path, capsys):
    import openpyxl

    out = tmp_path / "out"
    assert main(["fit", str(HS_DATA), "--spec", str(HS_MODEL), "--crosscheck", "semopy",
                 "--lang", "en", "--out", str(out)]) == 0
    capsys.readouterr()
    check = json.loads((out / "results.json").read_text(encoding="utf-8"))["crosscheck"]
    shown = f"{check['max_abs_diff']:.2g} (semopy {check['version']}: "
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Independent refit" in html and shown in html
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(out / "report.xlsx")["Summary"]
            .iter_rows()]
    assert any(str(r[0]).startswith("Independent refit") and str(r[1]).startswith(shown)
               for r in rows), rows
