"""``report``: from a questionnaire export to one report, with no hand editing.

The exports (``tests/exports``, made by ``make_exports.py``) go ``init`` -> ``report``; the
Wenjuanxing one holds eight respondents who answer "同意" throughout and six who finish in
under a minute, so ``--drop-flagged`` has rows to drop. Also: the sample description and the
sample-size advice, ``--drop-flagged`` on the other commands, progress bars and ``--quiet``.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from riskmodel_sem.cli import main
from riskmodel_sem.errors import DataQualityWarning
from riskmodel_sem.progress import progress_bar, progress_enabled, set_quiet
from riskmodel_sem.survey.readers import read_table
from riskmodel_sem.workflow.sample import (MIN_N, MIN_N_PER_PARAMETER, describe_sample,
                                           sample_size_advice)

from conftest import GCRM_SPEC, ROOT

EXPORTS = ROOT / "tests" / "exports"
WJX = EXPORTS / "wjx_export.xlsx"
QUALTRICS = EXPORTS / "qualtrics_export.csv"


def _run(argv) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, err.getvalue()


# --- sample description and sample-size advice -------------------------------------------------

def test_describe_sample_counts_percentages_and_blanks():
    extra = pd.DataFrame({"性别": ["男", "女", None, "女"], "年级": [3, 1, 1, 2]})
    desc = describe_sample(extra, ["性别", "年级"])
    t = desc.table
    g = t[t["variable"] == "性别"]
    assert list(g["category"][:2]) == ["男", "女"] and pd.isna(g["category"].iloc[2])
    assert list(g["n"]) == [1, 2, 1]
    assert g["percent"].tolist() == [25.0, 50.0, 25.0]
    assert g["valid_percent"].iloc[1] == pytest.approx(200 / 3)
    assert list(t[t["variable"] == "年级"]["category"]) == ["1", "2", "3"]  # codes in order
    assert desc.to_dict()["variables"]["性别"][2] == {"category": None, "n": 1,
                                                    "percent": 25.0, "valid_percent": None}


def test_sample_size_advice_names_both_rules_and_their_sources():
    with pytest.warns(DataQualityWarning, match=r"N = 59 is below 200 \(Kline 2016\); N per "
                                                r"free parameter is 2\.0 \(59 / 30\)"):
        advice = sample_size_advice(59, 30)
    assert advice.small_n and advice.low_ratio and len(advice.warnings) == 1
    assert any("Bentler" in s and "doi:10.1177/0049124187016001004" in s for s in advice.sources)
    with pytest.warns(DataQualityWarning, match="the power analysis asked for N = 420"):
        sample_size_advice(150, 20, planned_n=420)
    with pytest.warns(DataQualityWarning, match="riskmodel-sem power"):
        sample_size_advice(150, 20, power_command=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = sample_size_advice(MIN_N, MIN_N // MIN_N_PER_PARAMETER)
    assert not ok.messages and not ok.small_n and not ok.low_ratio


# --- progress bars -----------------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bars_only_on_a_terminal_and_never_with_quiet(monkeypatch):
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    assert progress_enabled()
    with progress_bar(4, "Models", unit="model") as bar:
        bar.update(4)
    assert "Models" in term.getvalue() and "/4 [" in term.getvalue()
    assert "<" in term.getvalue()  # elapsed<remaining: the ETA
    set_quiet(True)
    try:
        assert not progress_enabled() and not progress_enabled(True)
    finally:
        set_quiet(False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert not progress_enabled()


def test_bootstrap_shows_a_bar_with_eta_on_a_terminal(monkeypatch, tmp_path):
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    assert main(["fit", str(ROOT / "tests" / "reference" / "holzinger1939.csv"), "--spec",
                 str(tmp_path / "hs.lav"), "--json", str(tmp_path / "x.json")]) == 2  # no spec
    (tmp_path / "hs.lav").write_text("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n",
                                     encoding="utf-8")
    term.truncate(0)
    assert main(["fit", str(ROOT / "tests" / "reference" / "holzinger1939.csv"), "--spec",
                 str(tmp_path / "hs.lav"), "--bootstrap", "40", "--json",
                 str(tmp_path / "x.json")]) == 0
    shown = term.getvalue()
    assert "Bootstrap" in shown and "/40 [" in shown and "draw" in shown
    term.truncate(0)
    term.seek(0)
    assert main(["fit", str(ROOT / "tests" / "reference" / "holzinger1939.csv"), "--spec",
                 str(tmp_path / "hs.lav"), "--bootstrap", "40", "--quiet", "--json",
                 str(tmp_path / "x.json")]) == 0
    assert "Bootstrap" not in term.getvalue() and "wrote" not in term.getvalue()


# --- init -> report -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wjx_report(tmp_path_factory):
    """init then report --drop-flagged --group 性别 on the Wenjuanxing export."""
    tmp = tmp_path_factory.mktemp("wjx")
    spec = tmp / "spec.yaml"
    assert _run(["init", WJX, "--out", spec])[0] == 0
    status, err = _run(["report", WJX, "--spec", spec, "--drop-flagged", "--group", "性别",
                        "--out", tmp / "out"])
    assert status == 0, err
    return tmp / "out", err


@pytest.mark.slow
def test_wenjuanxing_init_then_report_drops_the_careless_and_the_speeders(wjx_report):
    out, err = wjx_report
    for name in ("report.xlsx", "report.html", "results.json", "cleaned.xlsx"):
        assert (out / name).stat().st_size > 0
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    table = read_table(WJX)
    header = list(table.header)
    items = [j for j, h in enumerate(header) if h[:1].isdigit() and int(h.split(".")[0]) >= 5]
    straight = {i for i in range(table.n_rows)
                if all(table.columns[j][i] == "同意" for j in items)}
    seconds = np.array([float(v.rstrip("秒")) for v in table.columns[header.index("所用时间")]])
    fast = set(np.flatnonzero(seconds < 0.5 * np.median(seconds)))
    dropped = {r["row"] - 2 for r in res["cleaning"]["flagged"] if r["dropped"]}
    assert len(straight) == 8 and straight <= dropped and fast <= dropped
    assert res["cleaning"]["n_dropped"] == len(dropped) == res["cleaning"]["n_flagged"]
    assert res["n_obs"] == 400 - len(dropped)
    assert f"{len(dropped)} of 400 respondents flagged by screening were dropped" in err
    # cleaned.xlsx: the kept rows as in the file, the dropped ones with their reasons
    wb = load_workbook(out / "cleaned.xlsx", read_only=True)
    kept, gone = (list(ws.iter_rows(values_only=True)) for ws in wb.worksheets)
    assert list(kept[0]) == header and len(kept) - 1 == 400 - len(dropped)
    assert len(gone) - 1 == len(dropped) and all(r[2] for r in gone[1:])
    assert {r[0] - 2 for r in gone[1:]} == dropped
    # the sample table counts the respondents analysed, the blank gender included
    kept_rows = [i for i in range(table.n_rows) if i not in dropped]
    genders = pd.Series([table.columns[header.index("1.您的性别")][i] for i in kept_rows])
    shown = {d["category"]: d["n"] for d in res["sample"]["description"]["variables"]["1.您的性别"]}
    assert shown == {**genders.value_counts().to_dict(), None: int(genders.isna().sum())}
    assert set(res["sample"]["description"]["variables"]) == {
        "1.您的性别", "2.您的年龄", "3.您的学历", "4.您是否使用过城市治理众包平台？"}
    # the whole analysis is there
    assert {"reliability", "htmt", "fit", "estimates", "comparison", "invariance",
            "sample", "cleaning"} <= set(res)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="sample"' in html and "样本描述" in html and "剔除的作答者" in html


@pytest.mark.slow
def test_qualtrics_init_then_report(tmp_path):
    spec = tmp_path / "spec.yaml"
    assert _run(["init", QUALTRICS, "--out", spec])[0] == 0
    status, err = _run(["report", QUALTRICS, "--spec", spec, "--group", "What is your age?",
                        "--out", tmp_path / "out", "--lang", "en"])
    assert status == 0, err
    res = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert res["n_obs"] == 350 and res["cleaning"]["n_dropped"] == 0
    assert not (tmp_path / "out" / "cleaned.xlsx").exists()
    assert res["options"]["duration"] == "Duration (in seconds)"  # from the drafted spec
    assert set(res["sample"]["description"]["variables"]) == {"Q1", "Q2"}
    assert res["invariance"]["models"][0]["name"] == "configural"
    rev = [r for r in res["estimates"] if r["op"] == "=~" and r["rhs"] in ("Q4_5", "Q5_6")]
    assert rev and all(r["std_all"] > 0 for r in rev)  # recoded by the proposed reverse keys


@pytest.mark.slow
def test_bundled_spec_reports_on_a_wenjuanxing_export_by_question_text(tmp_path):
    status, err = _run(["report", WJX, "--spec", GCRM_SPEC, "--duration", "所用时间",
                        "--drop-flagged", "--out", tmp_path, "--quiet"])
    assert status == 0, err
    res = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert [m["name"] for m in res["models"]] == [f"M{i}" for i in range(8)]
    assert {h["id"] for h in res["hypotheses"]} >= {"H1", "H2", "H3", "H4", "H5"}
    assert "riskmodel-sem:" not in err.replace("riskmodel-sem: warning:", "")  # --quiet


@pytest.mark.slow
def test_drop_flagged_on_fit_compare_and_invariance(tmp_path):
    runs = {}
    for cmd, extra in (("fit", []), ("compare", ["--alternatives"]),
                       ("invariance", ["--group", "1.您的性别"])):
        status, err = _run([cmd, WJX, "--spec", GCRM_SPEC, "--drop-flagged", "--duration",
                            "所用时间", "--json", tmp_path / f"{cmd}.json", *extra])
        assert status == 0, err
        runs[cmd] = json.loads((tmp_path / f"{cmd}.json").read_text(encoding="utf-8"))
    dropped = runs["fit"]["cleaning"]["n_dropped"]
    assert dropped >= 14
    assert runs["fit"]["n_obs"] == 400 - dropped
    assert runs["compare"]["n_obs"] == 400 - dropped
    assert runs["invariance"]["cleaning"]["n_dropped"] == dropped


@pytest.mark.slow
def test_report_with_a_group_compares_the_hypothesized_paths(tmp_path):
    """report --group: invariance and, beside it, the paths compared between the groups
    (the same comparison as fit --group: Wald and likelihood-ratio tests per path and pair)."""
    from conftest import GCRM_SURVEY

    status, err = _run(["report", str(GCRM_SURVEY), "--spec", str(GCRM_SPEC), "--group", "性别",
                        "--out", tmp_path / "out"])
    assert status == 0, err
    out = tmp_path / "out"
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    labels = {g["label"] for g in res["groups"]}
    assert labels == {"男", "女"} and all(g["n"] > 0 for g in res["groups"])
    rows = res["path_differences"]
    assert len(rows) == 5 and {"est_a", "est_b", "diff", "se", "z", "pvalue", "chisq_diff",
                               "df_diff", "pvalue_lrt"} <= set(rows[0])
    for r in rows:
        assert {r["label_a"], r["label_b"]} == labels
        assert abs(r["diff"] - (r["est_a"] - r["est_b"])) < 1e-12
    assert res["path_differences_omnibus"]["df_diff"] == len(rows)
    assert "configural" in [m["name"] for m in res["invariance"]["models"]]
    assert 'id="groups"' in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_with_wlsmv_treats_the_items_as_ordered(tmp_path):
    """report --estimator WLSMV: every stage fits the ordered items (lavaan's ordered = TRUE
    with WLSMV), invariance runs the Wu & Estabrook steps; nothing is fitted by ML."""
    from conftest import GCRM_SPEC, GCRM_SURVEY

    status, err = _run(["report", str(GCRM_SURVEY), "--spec", str(GCRM_SPEC), "--estimator",
                        "WLSMV", "--group", "性别", "--out", tmp_path / "out"])
    assert status == 0, err
    res = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert res["estimator"] == "WLSMV" and "chisq_scaled" in res["fit"]
    assert any(r["op"] == "|" for r in res["estimates"])
    assert [m["name"] for m in res["invariance"]["models"]][:2] == ["configural", "thresholds"]
