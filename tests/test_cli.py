"""The command line end to end through ``main(argv)`` and as a real process."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest

from riskmodel_sem.cli import main

from conftest import GCRM_SPEC, GCRM_SURVEY, REFERENCE

HYPOTHESIZED = {("GIV", "PLT"), ("SOL", "PLT"), ("GIV", "ENV"), ("SOL", "ENV"), ("GIV", "SOL")}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo's output folder and what it printed on stderr."""
    out = tmp_path_factory.mktemp("demo")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["demo", "--out", str(out)]) == 0
    return out, err.getvalue()


@pytest.fixture(scope="module")
def demo_dir(demo_run):
    return demo_run[0]


def _printed_warnings(stderr: str) -> list[str]:
    prefix = "riskmodel-sem: warning: "
    return [line[len(prefix):] for line in stderr.splitlines() if line.startswith(prefix)]


def test_demo_writes_three_files(demo_dir):
    for name in ("report.xlsx", "report.html", "results.json"):
        assert (demo_dir / name).stat().st_size > 0
    assert not [p for p in demo_dir.iterdir() if p.name.endswith(".tmp")]


def test_demo_json_has_fit_and_the_five_paths(demo_dir):
    results = json.loads((demo_dir / "results.json").read_text(encoding="utf-8"))
    assert 0.9 < results["fit"]["cfi"] <= 1.0
    assert 0.0 <= results["fit"]["rmsea"] < 0.08
    paths = {(r["lhs"], r["rhs"]) for r in results["estimates"] if r["op"] == "~"}
    assert paths == HYPOTHESIZED
    for r in results["estimates"]:
        assert set(r) >= {"lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower",
                          "ci_upper", "std_lv", "std_all"}
    assert {h["id"] for h in results["hypotheses"]} == {"H1", "H2", "H3", "H4", "H5", "H6"}
    assert set(results["reliability"]) == {"FIN", "SYM", "MGT", "DOV", "PRC", "PRV", "INS",
                                           "EXC", "CHT", "DIV", "RSP"}
    assert {m["name"] for m in results["models"]} >= {f"M{i}" for i in range(8)}


def test_fit_json_matches_library(tmp_path, project_root):
    out = tmp_path / "fit.json"
    code = main(["fit", str(GCRM_SURVEY), "--spec",
                 str(GCRM_SPEC), "--json", str(out)])
    assert code == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    from riskmodel_sem.commands import run_fit

    analysis = run_fit(GCRM_SURVEY, GCRM_SPEC)
    assert results["fit"]["chisq"] == pytest.approx(analysis.fit.fit["chisq"], rel=1e-12)
    assert results["n_obs"] == analysis.fit.n_obs < 600  # listwise: rows with gaps dropped


def test_module_entry_point_runs_as_a_process(tmp_path, project_root):
    out = tmp_path / "poldem.json"
    proc = subprocess.run(
        [sys.executable, "-m", "riskmodel_sem", "fit",
         str(REFERENCE / "political_democracy.csv"),
         "--spec", str(REFERENCE / "models" / "poldem.lav"),
         "--json", str(out)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["fit"]["chisq"] == pytest.approx(38.125218, rel=1e-6)


@pytest.mark.parametrize("argv, needle", [
    (["fit", "nope.xlsx", "--spec", "specs/gcrm.yaml"], "nope.xlsx"),
    (["fit", "surveys/gcrm_synthetic.xlsx", "--spec", "specs/none.yaml"], "none.yaml"),
    (["fit", "surveys/gcrm_synthetic.xlsx", "--spec", "specs/gcrm.yaml", "--estimator", "GLS"],
     "estimator"),
    (["fit", "surveys/gcrm_synthetic.xlsx", "--spec", "specs/gcrm.yaml", "--bootstrap", "-5"],
     "bootstrap"),
    (["fit", "surveys/gcrm_synthetic.xlsx", "--spec", "specs/gcrm.yaml", "--jobs", "0"], "jobs"),
    (["fit", "surveys/gcrm_synthetic.xlsx", "--spec", "specs/gcrm.yaml", "--group", "nogroup"],
     "nogroup"),
    (["frobnicate"], "frobnicate"),
])
def test_bad_input_is_one_line_and_status_2(argv, needle, capsys, project_root, monkeypatch):
    monkeypatch.chdir(project_root)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("riskmodel-sem: error: ")
    assert needle in err[0]
    assert "Traceback" not in err[0]


def test_invariance_and_compare_json_keys(tmp_path, project_root):
    ref = REFERENCE
    out = tmp_path / "inv.json"
    assert main(["invariance", str(ref / "holzinger1939.csv"), "--spec",
                 str(ref / "models" / "hs_three_factor.lav"), "--group", "school",
                 "--json", str(out)]) == 0
    inv = json.loads(out.read_text(encoding="utf-8"))
    assert [m["name"] for m in inv["models"]] == ["configural", "metric", "scalar", "strict"]
    metric = next(t for t in inv["tests"] if t["model_a"] == "metric")
    assert metric["chisq_diff"] == pytest.approx(8.192200304433541, rel=1e-4)
    assert metric["df_diff"] == 6
    out = tmp_path / "cmp.json"
    assert main(["compare", str(ref / "holzinger1939.csv"),
                 "--spec", str(ref / "models" / "hs_one_factor.lav"),
                 "--spec", str(ref / "models" / "hs_three_factor.lav"),
                 "--json", str(out)]) == 0
    cmp = json.loads(out.read_text(encoding="utf-8"))
    assert {m["name"] for m in cmp["models"]} == {"hs_one_factor", "hs_three_factor"}
    test = cmp["tests"][0]
    assert (test["model_a"], test["model_b"]) == ("hs_one_factor", "hs_three_factor")
    assert test["chisq_diff"] == pytest.approx(226.95863760657323, rel=1e-4)
    assert set(test) >= {"chisq_diff", "df_diff", "pvalue", "method"}
    assert "equivalent" in cmp


def test_compare_alternatives_lists_each_model_once(tmp_path, project_root):
    out = tmp_path / "alt.json"
    assert main(["compare", str(GCRM_SURVEY), "--spec",
                 str(GCRM_SPEC), "--alternatives",
                 "--json", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert [m["name"] for m in result["models"]] == [f"M{i}" for i in range(8)]
    assert ["M2", "M3", "M6"] in result["equivalent"]


# every warning printed on stderr is in results.json["warnings"], in the same order ----------

def test_demo_results_hold_the_printed_warnings(demo_run):
    out, stderr = demo_run
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    printed = _printed_warnings(stderr)
    assert len(printed) >= 2  # missing answers, listwise rows
    assert results["warnings"] == printed
    # the stages keep their own lists; nothing is overwritten
    assert set(results["stage_warnings"]) == {"survey", "cleaning", "sample", "power", "validation", "fit",
                                              "comparison"}
    assert results["comparison"]["n_obs"] == results["n_obs"]


def _run_and_compare(argv, json_file, capsys, at_least):
    assert main(argv + ["--json", str(json_file)]) == 0
    printed = _printed_warnings(capsys.readouterr().err)
    results = json.loads(json_file.read_text(encoding="utf-8"))
    assert len(printed) >= at_least
    assert results["warnings"] == printed
    return results


def test_validate_results_hold_the_printed_warnings(tmp_path, capsys, project_root):
    results = _run_and_compare(
        ["validate", str(project_root / "surveys" / "gcrm_synthetic.xlsx"), "--spec",
         str(project_root / "specs" / "gcrm.yaml")], tmp_path / "v.json", capsys, 3)
    assert any("listwise" in w for w in results["warnings"])


def test_fit_results_hold_the_printed_warnings(tmp_path, capsys, project_root):
    results = _run_and_compare(
        ["fit", str(project_root / "surveys" / "gcrm_synthetic.xlsx"), "--spec",
         str(project_root / "specs" / "gcrm.yaml")], tmp_path / "f.json", capsys, 1)
    assert results["stage_warnings"]["survey"][0] in results["warnings"]


def test_compare_results_hold_the_printed_warnings(tmp_path, capsys, reference_dir):
    _run_and_compare(
        ["compare", str(reference_dir / "holzinger1939_missing.csv"),
         "--spec", str(reference_dir / "models" / "hs_one_factor.lav"),
         "--spec", str(reference_dir / "models" / "hs_three_factor.lav")],
        tmp_path / "c.json", capsys, 1)


def test_invariance_results_hold_the_printed_warnings(tmp_path, capsys, reference_dir):
    _run_and_compare(
        ["invariance", str(reference_dir / "holzinger1939_missing.csv"),
         "--spec", str(reference_dir / "models" / "hs_three_factor.lav"), "--group", "school"],
        tmp_path / "i.json", capsys, 1)


def test_demo_runs_what_its_screening_recommends(demo_run):
    """The bundled survey has five roughly symmetric categories per item: screening
    recommends MLR (Rhemtulla, Brosseau-Liard & Savalei 2012) and the demo runs MLR."""
    out, stderr = demo_run
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rec = results["validation"]["estimator_recommendation"]
    assert rec["recommendation"] == "MLR"
    assert "Rhemtulla" in rec["recommendation_source"]
    assert results["options"]["estimator"] == "MLR"
    assert results["options"]["estimator_recommended"] == "MLR"
    assert "The demo runs MLR as recommended." in results["options"]["estimator_choice"]
    assert "riskmodel-sem: Screening recommends MLR: " in stderr
    assert "chisq_scaled" in results["fit"]


def test_fit_with_intercepts_in_the_syntax(tmp_path, reference_dir):
    """``x1 ~ 1`` and ``visual ~ 0*1`` switch the mean structure on (lavaan's rule) and reach
    lavaan's chi-square, df and intercept SEs from the command line
    (tests/lavaan_cases/hs_intercept_fixed_latent_mean holds the full comparison)."""
    spec = tmp_path / "means.lav"
    case = json.loads((reference_dir.parent / "lavaan_cases" / "hs_intercept_fixed_latent_mean"
                       / "lavaan.json").read_text(encoding="utf-8"))
    spec.write_text((reference_dir.parent / "lavaan_cases" / "hs_intercept_fixed_latent_mean"
                     / "model.lav").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "means.json"
    assert main(["fit", str(reference_dir / "holzinger1939.csv"), "--spec", str(spec),
                 "--json", str(out)]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["fit"]["df"] == case["fit"]["df"]
    assert results["fit"]["chisq"] == pytest.approx(case["fit"]["chisq"], rel=1e-4)
    ours = {(r["lhs"], r["op"]): r for r in results["estimates"] if r["op"] == "~1"}
    for row in (r for r in case["estimates"] if r["op"] == "~1"):
        assert ours[(row["lhs"], "~1")]["est"] == pytest.approx(row["est"], rel=1e-4, abs=1e-6)
        assert ours[(row["lhs"], "~1")]["se"] == pytest.approx(row["se"], rel=1e-4, abs=1e-6)
