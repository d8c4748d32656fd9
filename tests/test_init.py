"""Questionnaire exports: header normal form, items found by question text, ``init``.

The exports are ``tests/exports/wjx_export.xlsx`` (Wenjuanxing, question texts as headers,
text answers) and ``tests/exports/qualtrics_export.csv`` (three header rows, 7-point English
labels, two items worded in reverse), made by ``tests/exports/make_exports.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel_sem.cli import main
from riskmodel_sem.errors import SurveyDataError
from riskmodel_sem.survey.headers import (closest_headers, find_column, header_variants,
                                          normalize_header, question_number, strip_numbering)
from riskmodel_sem.survey.readers import read_survey, read_table
from riskmodel_sem.survey.scales import infer_scale, label_position
from riskmodel_sem.survey.spec import load_spec
from riskmodel_sem.workflow.draft import draft_spec

from conftest import GCRM_SPEC, GCRM_SURVEY, ROOT

EXPORTS = ROOT / "tests" / "exports"
WJX = EXPORTS / "wjx_export.xlsx"
QUALTRICS = EXPORTS / "qualtrics_export.csv"


# --- header normal form ----------------------------------------------------------------------

@pytest.mark.parametrize("header", ["3.您的年龄", "Q3.您的年龄", "3、您的年龄", "(3)您的年龄",
                                    "（3）您的年龄", "第3题 您的年龄", "３．您的年龄", "3. 您的年龄 ",
                                    "Q3 您的年龄", "3:您的年龄", "您的年龄", "您的年龄：",
                                    "您的\u3000年龄"])
def test_platform_numbering_and_spacing_are_removed(header):
    assert normalize_header(header).replace(" ", "") == "您的年龄"


def test_numbers_that_belong_to_the_text_are_kept():
    assert normalize_header("2023年收入") == "2023年收入"
    assert normalize_header("Q3_1") == "q3_1"          # a name, not a number
    assert strip_numbering("3、政府，好") == "政府，好"   # as written: full-width comma kept
    assert question_number("12、您的年龄") == 12 and question_number("性别") is None


def test_matrix_rows_are_matched_by_their_own_text():
    assert header_variants("Q5_1. Please rate each statement - The platform is slow")[-1] == \
        "the platform is slow"
    assert header_variants("7.请评价以下说法:—平台反应慢")[-1] == "平台反应慢"
    assert normalize_header("ＦＩＮ１　政府") == "fin1 政府"


def test_find_column_by_header_without_number_and_closest_headers():
    headers = ["序号", "1.您的性别", "2.您的年龄", "3.您的学历"]
    assert find_column("您的性别", headers) == 1
    assert find_column("1.您的性别", headers) == 1
    with pytest.raises(SurveyDataError, match=r"No group column '性别x'.*'1\.您的性别'"):
        find_column("性别x", headers, what="group column")
    with pytest.raises(SurveyDataError, match="more than one column"):
        find_column("您的性别", headers + ["5.您的性别"])
    assert closest_headers("您的学历呢", headers)[0] == "3.您的学历"


# --- answer scales ----------------------------------------------------------------------------

def test_scale_from_labels_in_order_zh_en_5_and_7_points():
    s = infer_scale(["同意", "非常同意", "一般", "非常不同意", "不同意"])
    assert [(lab.value, lab.zh) for lab in s.labels] == [
        (1, "非常不同意"), (2, "不同意"), (3, "一般"), (4, "同意"), (5, "非常同意")]
    en = ["Agree", "Somewhat disagree", "Strongly agree", "Disagree", "Strongly disagree",
          "Somewhat agree", "Neither agree nor disagree"]
    s7 = infer_scale(en)
    assert s7.max == 7 and s7.labels[2].en == "Somewhat disagree" and s7.labels[3].value == 4
    s_missing = infer_scale(["非常同意", "同意", "说不清"])  # nobody disagreed: still 5 points
    assert s_missing.max == 5 and [lab.value for lab in s_missing.labels] == [3, 4, 5]
    assert infer_scale(["同意", "男"]) is None
    assert label_position("5 非常同意") == 3 and label_position("一般/说不清") == 0


# --- items found by question text ---------------------------------------------------------------

def test_bundled_spec_finds_wenjuanxing_columns_by_their_chinese_text():
    spec = load_spec(GCRM_SPEC)
    survey = read_survey(WJX, spec)
    assert survey.data.shape == (400, 33)
    book = survey.codebook.set_index("item")
    assert book.at["FIN1", "column"].startswith("5.政府需要")
    assert survey.data["FIN1"].between(1, 5).all()
    assert "1.您的性别" in survey.extra.columns and "提交答卷时间" in survey.extra.columns


def _small_spec(tmp_path, items_yaml: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ntitle: {zh: s, en: s}\nlanguage: en\n"
                    "scale: {min: 1, max: 5}\nconstructs:\n  - code: A\n    items:\n"
                    + items_yaml, encoding="utf-8")
    return path


def _csv(tmp_path, header, rows, name="d.csv") -> Path:
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header] + rows)
    return path


def test_items_by_english_text_after_a_qualtrics_stem_and_by_column_key(tmp_path):
    spec = load_spec(_small_spec(tmp_path, (
        "      - {code: A1, en: The platform is slow.}\n"
        "      - {code: A2, column: \"Q9 (own wording)\"}\n"
        "      - {code: A3, en: \"Rules   are unclear\"}\n")))
    header = ["Q1 - The platform is slow", "Q9 (own wording)", "Q1 - Rules are unclear?"]
    rows = [[str(1 + (i + j) % 5) for j in range(3)] for i in range(6)]
    survey = read_survey(_csv(tmp_path, header, rows), spec)
    assert list(survey.codebook["column"]) == header


def test_missing_item_lists_the_closest_headers(tmp_path):
    spec = load_spec(_small_spec(tmp_path, "      - {code: A1, zh: 平台反应很慢}\n"
                                           "      - {code: A2, zh: 规则不清楚}\n"))
    path = _csv(tmp_path, ["1.平台反应慢", "2.规则不清楚", "3.您的性别"], [["1", "2", "男"]] * 4)
    with pytest.raises(SurveyDataError, match=r"Missing item column\(s\): A1 \(closest: "
                                              r"'1\.平台反应慢'"):
        read_survey(path, spec)


def test_ambiguous_question_text_is_an_error_naming_both_columns(tmp_path):
    spec = load_spec(_small_spec(tmp_path, "      - {code: A1, zh: 平台反应慢}\n"
                                           "      - {code: A2, zh: 规则不清楚}\n"))
    path = _csv(tmp_path, ["1.平台反应慢", "2.规则不清楚", "9、平台反应慢"], [["1", "2", "3"]] * 4)
    with pytest.raises(SurveyDataError, match=r"A1 matches more than one column by its question "
                                              r"text \('1\.平台反应慢', '9、平台反应慢'\)"):
        read_survey(path, spec)


def test_qualtrics_header_rows_are_not_data(tmp_path):
    table = read_table(QUALTRICS)
    assert table.n_rows == 350 and table.first_row == 4
    assert table.texts[table.header.index("Q1")] == "What is your gender?"
    spec_path = tmp_path / "q.yaml"
    spec_path.write_text(draft_spec(QUALTRICS).text, encoding="utf-8")
    spec = load_spec(spec_path)
    with open(QUALTRICS, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[4][rows[0].index("Q3_1")] = "Maybe"  # the second respondent, row 5 of the sheet
    bad = _csv(tmp_path, rows[0], rows[1:], "bad.csv")
    with pytest.raises(SurveyDataError, match=r"row 5, column 'Q3_1'.*'Maybe'"):
        read_survey(bad, spec)


# --- init ---------------------------------------------------------------------------------

def test_init_on_wenjuanxing_export(tmp_path, capsys):
    out = tmp_path / "spec.yaml"
    assert main(["init", str(WJX), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "PROPOSAL" in text and "column: \"5.政府需要" in text
    spec = load_spec(out)
    assert spec.language == "zh" and (spec.scale.min, spec.scale.max) == (1, 5)
    assert [lab.zh for lab in spec.scale.labels] == ["非常不同意", "不同意", "一般", "同意", "非常同意"]
    assert spec.survey.id == "序号" and spec.survey.duration == "所用时间"
    assert spec.survey.demographics == ("1.您的性别", "2.您的年龄", "3.您的学历",
                                        "4.您是否使用过城市治理众包平台？")
    assert set(spec.survey.metadata) >= {"提交答卷时间", "来源", "来源详情", "来自IP"}
    assert len(spec.items) == 33 and len(spec.constructs) >= 2
    assert not any(i.reverse for i in spec.items)
    # the EFA's factors are the spec's: each construct's items share one simulated factor
    owner = {i.column.split(".", 1)[1]: i.construct for i in spec.items}
    truth = load_spec(GCRM_SPEC)
    for c in truth.constructs:
        assert len({owner[i.zh] for i in c.items}) == 1, c.code
    assert main(["validate", str(WJX), "--spec", str(out), "--json",
                 str(tmp_path / "v.json")]) == 0
    res = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    assert set(res["reliability"]) == {c.code for c in spec.constructs}


def test_init_on_qualtrics_export_finds_reverse_worded_items(tmp_path):
    out = tmp_path / "spec.yaml"
    assert main(["init", str(QUALTRICS), "--out", str(out)]) == 0
    spec = load_spec(out)
    assert spec.language == "en" and spec.scale.max == 7
    assert [lab.en for lab in spec.scale.labels][2:5] == [
        "Somewhat disagree", "Neither agree nor disagree", "Somewhat agree"]
    assert spec.survey.id == "ResponseId" and spec.survey.duration == "Duration (in seconds)"
    assert spec.survey.demographics == ("Q1", "Q2")
    # PRC2 is Q4_5 and EXC3 is Q5_6 (blocks of the export); their wording is reversed
    assert {i.code for i in spec.items if i.reverse} == {"Q4_5", "Q5_6"}
    assert spec.item("Q3_1").en.startswith("The government has to keep spending")
    assert main(["validate", str(QUALTRICS), "--spec", str(out), "--json",
                 str(tmp_path / "v.json")]) == 0


def test_init_uses_item_codes_in_headers(tmp_path):
    spec = load_spec(GCRM_SPEC)
    data = read_survey(GCRM_SURVEY, spec).data.head(300)
    header = ["id", "性别"] + [f"{k + 1}、{i.code} {i.zh}" for k, i in enumerate(spec.items)]
    rng = np.random.default_rng(1)
    rows = [[str(r + 1), rng.choice(["男", "女"])]
            + ["" if np.isnan(data.at[r, i.code]) else str(int(data.at[r, i.code]))
               for i in spec.items] for r in range(300)]
    path = _csv(tmp_path, header, rows)
    draft = draft_spec(path)
    assert draft.method == "codes" and list(draft.constructs) == list(spec.construct_codes)
    assert draft.constructs["FIN"] == ("FIN1", "FIN2", "FIN3")
    assert draft.demographics == ("性别",) and draft.scale.max == 5 and not draft.reverse


def test_init_refuses_a_file_without_likert_columns(tmp_path, capsys):
    path = _csv(tmp_path, ["序号", "性别", "意见"], [["1", "男", "好"], ["2", "女", "不好"]])
    assert main(["init", str(path), "--out", str(tmp_path / "s.yaml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Found 0 Likert item column(s)" in err[0]
    assert not (tmp_path / "s.yaml").exists()


def test_init_never_replaces_its_input(tmp_path, capsys):
    path = tmp_path / "x.yaml"
    path.write_text("keep", encoding="utf-8")
    assert main(["init", str(path), "--out", str(path)]) == 2
    assert path.read_text(encoding="utf-8") == "keep"


def test_numeric_wenjuanxing_export_with_matrix_headers(tmp_path):
    """Wenjuanxing's "export as scores": coded demographics next to the items, and matrix rows
    as "5(题目)"; the coded demographics are not items, the spec reads the rows by text."""
    from openpyxl import Workbook

    table = read_table(WJX)
    header = list(table.header)
    codes = {}
    wb = Workbook()
    ws = wb.active
    new_header = []
    for j, h in enumerate(header):
        number = question_number(h)
        if number is not None and number >= 5:
            new_header.append(f"{number}({strip_numbering(h)})")
        else:
            new_header.append(h)
    ws.append(new_header)
    labels = ["非常不同意", "不同意", "一般", "同意", "非常同意"]
    for i in range(table.n_rows):
        row = []
        for j, h in enumerate(header):
            v = table.columns[j][i]
            number = question_number(h)
            if number is not None and number >= 5:
                v = labels.index(v) + 1
            elif number is not None and v is not None:
                v = codes.setdefault((j, v), 1 + sum(1 for k in codes if k[0] == j))
            row.append(v)
        ws.append(row)
    path = tmp_path / "scores.xlsx"
    wb.save(path)
    draft = draft_spec(path)
    assert len(draft.items) == 33 and draft.items[0].startswith("5(")
    assert draft.demographics == ("1.您的性别", "2.您的年龄", "3.您的学历",
                                  "4.您是否使用过城市治理众包平台？")
    assert draft.scale.min == 1 and draft.scale.max == 5
    survey = read_survey(path, load_spec(GCRM_SPEC))
    assert survey.codebook.set_index("item").at["FIN1", "column"].startswith("5(政府需要")
