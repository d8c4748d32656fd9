"""Tests of reading survey files (riskmodel_sem.survey.readers)."""

from __future__ import annotations


import numpy as np
import time

import openpyxl
import pandas as pd
import pytest

from riskmodel_sem.errors import SurveyDataError
from riskmodel_sem.survey.spec import load_spec
from riskmodel_sem.survey.readers import read_survey

from conftest import GCRM_SPEC as GCRM, GCRM_SURVEY, REFERENCE

SMALL = """\
name: small
title: {zh: 小, en: Small}
language: zh
scale:
  min: 1
  max: 5
  labels:
    - {value: 1, zh: 非常不同意, en: Strongly disagree}
    - {value: 2, zh: 不同意, en: Disagree}
    - {value: 3, zh: 一般, en: Neutral}
    - {value: 4, zh: 同意, en: Agree}
    - {value: 5, zh: 非常同意, en: Strongly agree}
constructs:
  - code: A
    items:
      - {code: A1}
      - {code: A2, reverse: true}
      - {code: A3}
"""

ROWS_TEXT = [
    ["id", "A1", "A2", "A3", "性别"],
    ["r1", "同意", "非常不同意", "5", "男"],
    ["r2", "2", "一般", "非常同意", "女"],
    ["r3", "", "4 同意", "不同意(2)", "女"],
]
EXPECTED = np.array([[4, 5, 5], [2, 3, 5], [np.nan, 2, 2]], dtype=float)  # A2 reversed


@pytest.fixture()
def small(tmp_path):
    f = tmp_path / "small.yaml"
    f.write_text(SMALL, encoding="utf-8")
    return load_spec(f)


def _csv_text(rows):
    return "\n".join(",".join(r) for r in rows) + "\n"


def test_text_answers_and_reverse(small, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text(_csv_text(ROWS_TEXT), encoding="utf-8")
    s = read_survey(f, small)
    np.testing.assert_array_equal(s.data.to_numpy(), EXPECTED)
    assert list(s.data.columns) == ["A1", "A2", "A3"]
    assert s.ids.tolist() == ["r1", "r2", "r3"]
    assert list(s.extra.columns) == ["性别"]
    assert s.n_text_mapped == 6
    assert s.codebook["reverse"].tolist() == [False, True, False]
    assert any("missing" in w for w in s.warnings)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_csv_encodings_give_identical_numbers(small, tmp_path, encoding):
    f = tmp_path / f"s_{encoding}.csv"
    f.write_bytes(_csv_text(ROWS_TEXT).encode(encoding))
    s = read_survey(f, small)
    np.testing.assert_array_equal(s.data.to_numpy(), EXPECTED)
    assert s.extra["性别"].tolist() == ["男", "女", "女"]


def _write_xlsx(path, sheets):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)


def test_xlsx_codebook_first_picks_data_sheet(small, tmp_path):
    f = tmp_path / "s.xlsx"
    rows = [["序号", "1、A1 我觉得...", "A2. 第二题", "a3"], [1, 4, 2, "同意"], [2, 5.0, None, 1]]
    _write_xlsx(f, [("codebook", [["item"], ["A1"]]), ("问卷数据", rows)])
    s = read_survey(f, small)
    assert s.sheet == "问卷数据"
    np.testing.assert_array_equal(s.data.to_numpy(), [[4, 4, 4], [5, np.nan, 1]])
    assert s.ids.name == "序号"
    assert s.codebook["column"].tolist() == ["1、A1 我觉得...", "A2. 第二题", "a3"]
    with pytest.raises(SurveyDataError, match="No sheet named 'nope'"):
        read_survey(f, small, sheet="nope")


def test_out_of_scale_names_row_and_column(small, tmp_path):
    f = tmp_path / "s.xlsx"
    _write_xlsx(f, [("Sheet1", [["A1", "A2", "A3"], [1, 2, 3], [4, 5, 3], [1, 7, 3]])])
    with pytest.raises(SurveyDataError) as info:
        read_survey(f, small)
    msg = str(info.value)
    assert "s.xlsx" in msg and "sheet 'Sheet1'" in msg and "row 4" in msg and "'A2'" in msg
    assert "7" in msg and msg.endswith(".")


@pytest.mark.parametrize("bad, fragment", [
    ("3.5", "outside the scale"), ("maybe", "maybe"), ("inf", "not finite"),
])
def test_bad_values(small, tmp_path, bad, fragment):
    f = tmp_path / "s.csv"
    f.write_text(f"A1,A2,A3\n1,2,3\n1,{bad},3\n", encoding="utf-8")
    with pytest.raises(SurveyDataError, match=fragment) as info:
        read_survey(f, small)
    assert "row 3" in str(info.value) and "'A2'" in str(info.value)


def test_missing_and_duplicate_columns(small, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("A1,A3\n1,2\n", encoding="utf-8")
    with pytest.raises(SurveyDataError, match="Missing item column.*A2"):
        read_survey(f, small)
    f.write_text("A1,A2,A3,a2\n1,2,3,4\n", encoding="utf-8")
    s = read_survey(f, small)  # the exact name wins over the case-insensitive one
    assert s.data["A2"].tolist() == [4.0] and "a2" in s.extra.columns
    f.write_text("A1,A2. x,A2. y,A3\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(SurveyDataError, match="A2 matches more than one column"):
        read_survey(f, small)


def test_prefix_match_does_not_confuse_codes(tmp_path):
    spec_file = tmp_path / "ten.yaml"
    spec_file.write_text(
        "name: ten\ntitle: {zh: t, en: t}\nlanguage: en\nscale: {min: 1, max: 5}\n"
        "constructs:\n  - {code: F, items: [{code: F1}, {code: F10}]}\n", encoding="utf-8")
    spec = load_spec(spec_file)
    f = tmp_path / "s.csv"
    f.write_text("F10 第十题,F1 第一题\n5,1\n", encoding="utf-8")
    s = read_survey(f, spec)
    assert s.data.to_numpy().tolist() == [[1.0, 5.0]]


@pytest.mark.parametrize("content, fragment", [
    (b"just some text, renamed\n", "not an Excel"),
    (np.random.default_rng(256).bytes(256), "not an Excel"),
    (b"", "not an Excel"),
], ids=["text", "random-bytes", "empty"])
def test_not_a_workbook(small, tmp_path, content, fragment):
    f = tmp_path / "fake.xlsx"
    f.write_bytes(content)
    with pytest.raises(SurveyDataError, match=fragment):
        read_survey(f, small)


def test_missing_empty_and_unsupported(small, tmp_path):
    with pytest.raises(SurveyDataError, match="not found"):
        read_survey(tmp_path / "none.csv", small)
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(SurveyDataError, match="empty"):
        read_survey(tmp_path / "empty.csv", small)
    (tmp_path / "header.csv").write_text("A1,A2,A3\n", encoding="utf-8")
    with pytest.raises(SurveyDataError, match="no data rows"):
        read_survey(tmp_path / "header.csv", small)
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    with pytest.raises(SurveyDataError, match="Unsupported"):
        read_survey(tmp_path / "x.json", small)


def test_inputs_unchanged(small, tmp_path):
    f1 = tmp_path / "s.xlsx"
    _write_xlsx(f1, [("Sheet1", [["A1", "A2", "A3"], [1, 2, 3]])])
    f2 = tmp_path / "s.csv"
    f2.write_text(_csv_text(ROWS_TEXT), encoding="utf-8")
    before = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in (f1, f2)}
    read_survey(f1, small)
    read_survey(f2, small)
    after = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in (f1, f2)}
    assert before == after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.xlsx", "small.yaml"]


def test_sav_roundtrip(small, tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    df = pd.DataFrame({"id": [1.0, 2.0], "A1": [1.0, 5.0], "A2": [2.0, np.nan], "A3": [3.0, 4.0],
                       "sex": [1.0, 2.0]})
    f = tmp_path / "s.sav"
    pyreadstat.write_sav(df, str(f), variable_value_labels={"sex": {1.0: "男", 2.0: "女"}})
    s = read_survey(f, small)
    np.testing.assert_array_equal(s.data.to_numpy(), [[1, 4, 3], [5, np.nan, 4]])
    assert s.extra["sex"].tolist() == ["男", "女"]


def test_lav_spec_reads_any_real_values():
    spec = load_spec(REFERENCE / "models" / "poldem.lav")
    s = read_survey(REFERENCE / "political_democracy.csv", spec)
    assert list(s.data.columns) == list(spec.item_codes)
    assert s.data.shape[1] == 11 and s.data.shape[0] == 75
    assert (s.data % 1 != 0).any().any()  # real values kept as they are


def test_bundled_synthetic_survey():
    spec = load_spec(GCRM)
    s = read_survey(GCRM_SURVEY, spec)
    assert s.data.shape == (600, 33)
    assert s.sheet == "Sheet1"
    assert int(s.data.isna().sum().sum()) == 20
    assert s.n_text_mapped == pytest.approx(0.15 * 600 * 33, rel=0.01)
    assert set(s.extra["街道"]) == {"祖庙街道", "石湾镇街道", "张槎街道"}


# ---------------------------------------------------------------------------------------------
# workbooks as spreadsheets leave them: far cells, hidden and chart sheets, formulas
# ---------------------------------------------------------------------------------------------

ROWS = [["A1", "A2", "A3"], [1, 2, 3], [4, 5, 3], [1, 2, 5]]


def _book(rows=ROWS):
    """A workbook whose active sheet holds ``rows``, and that sheet."""
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    return wb, wb.active


def test_a_formatted_blank_cell_at_the_sheets_end_costs_nothing(small, tmp_path):
    from openpyxl.styles import Font

    f = tmp_path / "far_blank.xlsx"
    wb, ws = _book()
    ws.cell(row=1048576, column=16384).font = Font(bold=True)  # XFD1048576, no value
    wb.save(f)
    start = time.perf_counter()
    s = read_survey(f, small)
    assert time.perf_counter() - start < 5
    plain = tmp_path / "plain.xlsx"
    _write_xlsx(plain, [("Sheet", ROWS)])
    np.testing.assert_array_equal(s.data.to_numpy(), read_survey(plain, small).data.to_numpy())
    assert s.data.shape == (3, 3)


def test_a_stray_value_far_from_the_data_is_refused_quickly(small, tmp_path):
    f = tmp_path / "far_value.xlsx"
    wb, ws = _book()
    ws.cell(row=200000, column=2000, value=5)
    wb.save(f)
    start = time.perf_counter()
    with pytest.raises(SurveyDataError) as err:
        read_survey(f, small)
    assert time.perf_counter() - start < 5
    msg = str(err.value)
    assert "far_value.xlsx" in msg and "row 200000" in msg and "column 2000" in msg


def test_hidden_sheets_are_read_only_when_named(small, tmp_path):
    f = tmp_path / "hidden.xlsx"
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    old = wb.create_sheet("old answers")
    for r in [["A1", "A2", "A3"], [5, 5, 5]]:
        old.append(r)
    old.sheet_state = "hidden"
    new = wb.create_sheet("answers")
    for r in ROWS:
        new.append(r)
    wb.save(f)
    assert read_survey(f, small).sheet == "answers"
    assert read_survey(f, small, sheet="old answers").data.to_numpy().tolist() == [[5, 1, 5]]
    wb.create_sheet("codebook").append(["item"])
    new.sheet_state = "hidden"
    wb.save(f)
    with pytest.raises(SurveyDataError, match="no visible data sheet.*'old answers'.*--sheet"):
        read_survey(f, small)


def test_a_chart_sheet_is_not_data(small, tmp_path):
    f = tmp_path / "chart.xlsx"
    wb, _ = _book()
    wb.create_chartsheet("图表")
    wb.save(f)
    assert read_survey(f, small).sheet == "Sheet"
    with pytest.raises(SurveyDataError, match="'图表'.*chart"):
        read_survey(f, small, sheet="图表")


def test_formulas_whose_values_were_never_saved_are_named(small, tmp_path):
    f = tmp_path / "formulas.xlsx"
    wb, ws = _book()
    ws["C3"] = "=A3+B3"  # written without a cached value, as scripts write workbooks
    wb.save(f)
    with pytest.raises(SurveyDataError, match=r"formulas\.xlsx, sheet 'Sheet', cell C3: 1 cell"):
        read_survey(f, small)
