"""Multi-group analysis of the paths: differences between groups against lavaan 0.6.14.

The ``mg_*`` cases of the corpus (tests/lavaan_cases/) carry lavaan's per-path Wald tests
(``d := b_a - b_b`` with the model's vcov), the ``lavTestLRT`` of each path made equal in two
groups, the omnibus test and the metric-invariance test, computed by
``tests/lavaan_cases/group_differences.R``. Every row is compared at 1e-4 relative (atol 1e-6,
1e-5 for p-values). The Wald difference ``diff = est_a - est_b`` of two nearly equal paths
cancels digits: lavaan's own optimizer leaves its estimates about 1e-6 from the optimum (ours
reach |gradient| < 1e-9; on a recursive path model they equal the OLS solution to 1e-12), so
``diff``, ``z`` and the Wald ``pvalue`` are held to the tolerance their inputs carry (1e-4 of
|est_a| + |est_b| for diff, propagated through z = diff / se and p = 2 (1 - Phi(|z|))) when
that is the larger one.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from test_lavaan_cases import ATOL, ATOL_P, CASES, RTOL, fit_arguments
from riskmodel_sem.cli import main
from riskmodel_sem.commands import BUNDLED_SPEC, BUNDLED_SURVEY
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.sem.multigroup import compare_groups, equate_parameters

# every case but one refits its model 4 to 10 times: slow
FAST = {"mg_hs_paths_regressions_partial"}


def _cases() -> list:
    names = sorted(p.parent.name for p in CASES.glob("mg_*/lavaan.json"))
    return [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in names]


def _same(ours, theirs, atol=ATOL) -> bool:
    if theirs is None:
        return ours is None or (isinstance(ours, float) and math.isnan(ours))
    if ours is None or (isinstance(ours, float) and math.isnan(ours)):
        return False
    return math.isclose(float(ours), float(theirs), rel_tol=RTOL, abs_tol=atol)


@pytest.mark.parametrize("name", _cases())
def test_path_differences_match_lavaan(name):
    folder = CASES / name
    case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    ref = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))["extras"]["groups"]
    model = (folder / "model.lav").read_text(encoding="utf-8")
    data = pd.read_csv(CASES / "data" / case["data"])
    kwargs = fit_arguments(case)
    fit = fit_model(model, data, **kwargs)
    res = compare_groups(fit, data, kwargs["group"], group_equal=kwargs.get("group_equal", ()),
                         group_partial=kwargs.get("group_partial", ()))
    ours = {(r["lhs"], r["rhs"], r["group_a"], r["group_b"]): r
            for r in res.path_differences.to_dict("records")}
    problems = []
    assert len(ours) == len(ref["path_differences"])
    for row in ref["path_differences"]:
        mine = ours[(row["lhs"], row["rhs"], row["group_a"], row["group_b"])]
        for col in ("est_a", "est_b", "diff", "se", "z", "pvalue", "chisq_diff", "df_diff",
                    "pvalue_lrt"):
            atol = ATOL_P if col.startswith("pvalue") else ATOL
            carried = RTOL * (abs(row["est_a"]) + abs(row["est_b"]))  # tolerance of the inputs
            if col == "diff":
                atol = 1e-12 if row["se"] == 0 else max(atol, carried)
            elif col == "z" and row["se"]:
                atol = max(atol, carried / row["se"])
            elif col == "pvalue" and row["se"] and row["z"] is not None:
                dens = math.exp(-row["z"] ** 2 / 2) / math.sqrt(2 * math.pi)
                atol = max(atol, 2 * dens * carried / row["se"])
            if not _same(mine[col], row[col], atol):
                problems.append(f"{row['lhs']}~{row['rhs']} {row['group_a']}-{row['group_b']} "
                                f"{col}: ours {mine[col]!r}, lavaan {row[col]!r}")
    for block, theirs in (("omnibus", ref["omnibus"]), ("metric", ref["metric"])):
        mine = res.omnibus if block == "omnibus" else res.metric
        if mine is None:  # a model without loadings: no metric test (lavaan: df 0)
            assert not theirs["df_diff"]
            continue
        for col in ("chisq_diff", "df_diff", "pvalue"):
            if not _same(mine[col], theirs[col], ATOL_P if col == "pvalue" else ATOL):
                problems.append(f"{block} {col}: ours {mine[col]!r}, lavaan {theirs[col]!r}")
    assert not problems, "\n".join(problems)


def test_equate_parameters_makes_one_parameter_of_two_groups():
    data = pd.read_csv(CASES / "data" / "holzinger1939.csv")
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual\n"
    fit = fit_model(model, data, group="school", compute_modindices=False)
    pt = fit.model.partable
    table = equate_parameters(pt, [("textual", "~", "visual")])
    reg = table[table["op"] == "~"]
    assert reg["free"].nunique() == 1
    assert int(table["free"].max()) == int(pt["free"].max()) - 1
    assert sorted(set(table.loc[table["free"] > 0, "free"])) == list(
        range(1, int(table["free"].max()) + 1))
    assert pt.loc[pt["op"] == "~", "free"].nunique() == 2  # input untouched


@pytest.fixture(scope="module")
def gender_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("mg")
    code = main(["fit", str(BUNDLED_SURVEY), "--spec", str(BUNDLED_SPEC), "--group", "性别",
                 "--out", str(out)])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def gender_run(gender_out):
    return json.loads((gender_out / "results.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_report_shows_groups(gender_out, gender_run):
    from openpyxl import load_workbook

    book = load_workbook(gender_out / "report.xlsx", read_only=True)
    names = book.sheetnames
    groups = next(n for n in names if n in ("多组比较", "Groups"))
    cells = [c for row in book[groups].iter_rows(values_only=True) for c in row if c]
    n = {g["label"]: g["n"] for g in gender_run["groups"]}
    assert "男" in cells and "女" in cells and n["女"] in cells
    assert any(isinstance(c, str) and "平台方风险 → SOL" in c for c in cells)
    html = (gender_out / "report.html").read_text(encoding="utf-8")
    for tid in ('path_differences"', 'metric_invariance"', 'id="fig_path_diagram_g1"',
                'id="fig_path_diagram_g2"', f"女 (n = {n['女']})"):
        assert tid in html


@pytest.mark.slow
def test_fit_group_frees_the_hypothesis_labels_per_group(gender_run):
    res = gender_run
    assert [g["label"] for g in res["groups"]] == ["男", "女"]
    assert sum(g["n"] for g in res["groups"]) == res["n_obs"]
    paths = [r for r in res["estimates"] if r["op"] == "~"]
    assert {r["group_label"] for r in paths} == {"男", "女"}
    # the spec's labels are per group: the paths are free, df is the configural model's
    by = {(r["lhs"], r["rhs"], r["group"]): r["est"] for r in paths}
    assert all(by[(lhs, rhs, 1)] != by[(lhs, rhs, 2)] for lhs, rhs, g in by if g == 1)
    assert res["equal_paths"] == []
    assert len(res["path_differences"]) == 5
    row = res["path_differences"][0]
    assert row["label_a"] == "男" and row["label_b"] == "女"
    assert math.isclose(row["diff"], row["est_a"] - row["est_b"])
    assert row["df_diff"] == 1 and row["method"] == "lrt"
    assert res["path_differences_omnibus"]["df_diff"] == 5
    assert res["metric_invariance"]["df_diff"] > 0
    kinds = {r["kind"] for r in res["indirect"]}
    assert {"indirect", "difference", "total"} <= kinds
    hyp = {(h["id"], h["group_label"]) for h in res["hypotheses"]}
    assert ("H1", "男") in hyp and ("H1", "女") in hyp


def _survey_with_groups(tmp_path, labels, header="1.您的性别"):
    from riskmodel_sem.survey.readers import read_survey
    from riskmodel_sem.survey.spec import load_spec

    survey = read_survey(BUNDLED_SURVEY, load_spec(BUNDLED_SPEC))
    frame = survey.data.copy()
    frame.insert(0, header, labels[:len(frame)])
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_groups_as_they_come(tmp_path, capsys):
    n = 600
    rng = np.random.default_rng(5)
    labels = np.where(rng.random(n) < 0.5, "城市", "郊区").astype(object)
    labels[:7] = ""            # blank labels are left out, counted
    labels[7:19] = "农村"      # a small group, dropped by --min-group-size
    path = _survey_with_groups(tmp_path, labels)
    out = tmp_path / "r.json"
    code = main(["fit", str(path), "--spec", str(BUNDLED_SPEC), "--group", "您的性别",
                 "--min-group-size", "30", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "'农村' (n = 12)" in err and "--min-group-size 30" in err
    assert "7 row(s) with no value in the group column '1.您的性别'" in err
    res = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(g["label"] for g in res["groups"]) == ["城市", "郊区"]


def test_group_options_are_checked(tmp_path, capsys):
    code = main(["fit", str(BUNDLED_SURVEY), "--spec", str(BUNDLED_SPEC), "--group", "性别",
                 "--group-equal", "loadings,slopes", "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and "'slopes'" in err and "loadings" in err
    code = main(["fit", str(BUNDLED_SURVEY), "--spec", str(BUNDLED_SPEC), "--group", "年级",
                 "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and "No group column '年级'" in err and "性别" in err
    code = main(["fit", str(BUNDLED_SURVEY), "--spec", str(BUNDLED_SPEC),
                 "--group-equal", "loadings", "--json", str(tmp_path / "r.json")])
    assert code == 2 and "need --group" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.slow
def test_fit_group_with_ordered_items_tests_the_paths(tmp_path, capsys):
    """``fit --estimator WLSMV --group``: the groups' sizes and every path's Wald and
    satorra.2000 tests, as the corpus case mg_ord_hs5_paths_wlsmv has them from lavaan."""
    folder = CASES / "mg_ord_hs5_paths_wlsmv"
    ref = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))["extras"]["groups"]
    out = tmp_path / "r.json"
    code = main(["fit", str(CASES / "data" / "hs_ordinal5.csv"), "--spec",
                 str(folder / "model.lav"), "--estimator", "WLSMV",
                 "--ordered", ",".join(f"x{i}" for i in range(1, 10)), "--group", "school",
                 "--json", str(out)])
    assert code == 0, capsys.readouterr().err
    res = json.loads(out.read_text(encoding="utf-8"))
    assert sum(g["n"] for g in res["groups"]) == 301
    rows = {(r["lhs"], r["rhs"]): r for r in res["path_differences"]}
    for row in ref["path_differences"]:
        mine = rows[(row["lhs"], row["rhs"])]
        assert mine["chisq_diff"] == pytest.approx(row["chisq_diff"], rel=RTOL)
        assert mine["z"] == pytest.approx(row["z"], rel=RTOL)
