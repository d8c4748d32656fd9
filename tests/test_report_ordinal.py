"""Reports of fits with ordered items: the thresholds table, the scaled and robust fit indices
next to the naive ones, and the methods text (the estimator and why), in the workbook (read
back with openpyxl), the page (in Chromium) and the Word document (python-docx), zh and en.

The fit is lavaan's ``hs_ordinal_wlsmv`` reference case (the HS CFA with x1..x9 cut into five
ordered categories), whose numbers the reports must print as given.
"""

from __future__ import annotations

import io

import openpyxl
import pytest

from conftest import ROOT, load_reference, load_reference_data
from riskmodel_sem.report import render_reports, write_reports
from riskmodel_sem.report.numbers import format_number
from riskmodel_sem.report.paper import methods_paragraph, paper_tables
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.survey.spec import load_spec
from riskmodel_sem.workflow.analysis import Analysis
from riskmodel_sem.workflow.estimator import estimator_choice

from _browser import load_page

docx = pytest.importorskip("docx")

ITEMS = [f"x{i}" for i in range(1, 10)]

#: A screening result that recommends WLSMV for few categories (the HS items have five).
NORMALITY_WLSMV = {"recommendation": "WLSMV", "p": 9, "n_items_few_categories": 4,
                   "n_ordinal_items_asymmetric": 2, "min_categories": 3,
                   "reason": "4 item(s) have fewer than 5 answer categories ...",
                   "recommendation_source": "Rhemtulla, Brosseau-Liard & Savalei (2012)"}


@pytest.fixture(scope="module")
def analysis():
    spec = load_spec(ROOT / "tests" / "reference" / "models" / "hs_three_factor.lav")
    data = load_reference_data("holzinger1939_ordinal.csv")
    fit = fit_model(spec.model_syntax(), data, estimator="WLSMV", ordered=ITEMS)
    choice = estimator_choice("WLSMV", given=False, normality=NORMALITY_WLSMV, fit=fit,
                              by_screening=True)
    return Analysis("fit", spec, None, {"estimator": "WLSMV"}, fit=fit, estimator_choice=choice)


@pytest.fixture(scope="module")
def reference():
    return load_reference("hs_ordinal_wlsmv.json")


def test_estimator_choice_names_the_rule_and_who_chose():
    c = estimator_choice("WLSMV", given=False, normality=NORMALITY_WLSMV, by_screening=True)
    assert (c.chosen_by, c.recommended, c.rule, c.follows_advice) == \
        ("screening", "WLSMV", "few_categories_asymmetric", True)
    c = estimator_choice("ML", given=True, normality=NORMALITY_WLSMV)
    assert c.chosen_by == "user" and not c.follows_advice
    c = estimator_choice("ML", given=False)
    assert c.chosen_by == "default" and c.recommended is None and c.rule == ""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_methods_text_says_estimator_and_why(analysis, lang):
    text = methods_paragraph(analysis, lang)
    assert "WLSMV" in text and "Rhemtulla, Brosseau-Liard & Savalei, 2012" in text
    assert ("9 items" in text) if lang == "en" else ("9 个题项" in text)
    if lang == "en":
        assert "follows the screening's advice" in text
        assert "4 of 9 items have fewer than 5 answer categories" in text
        assert "2 of 9 ordinal items have strongly asymmetric answers" in text
    else:
        assert "依数据筛查的建议" in text and "4 / 9 个题项的答案类别少于 5 个" in text
    user = Analysis("fit", analysis.spec, None, {}, fit=analysis.fit,
                    estimator_choice=estimator_choice("WLSMV", given=True,
                                                      normality=NORMALITY_WLSMV,
                                                      fit=analysis.fit))
    text = methods_paragraph(user, lang)
    assert ("chosen by the user" in text and "also the screening's advice" in text) \
        if lang == "en" else ("由用户指定" in text)


def _sheet_rows(wb, title):
    for ws in wb.worksheets:
        rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
        for i, r in enumerate(rows):
            if r and r[0] == title:
                return ws, rows[i:]
    raise AssertionError(title)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_thresholds_and_scaled_indices(analysis, reference, lang):
    files = render_reports(analysis, lang, ("xlsx",))
    wb = openpyxl.load_workbook(io.BytesIO(files["report.xlsx"]))
    est = analysis.fit.estimates
    th = est[est["op"] == "|"]
    tab = next(t for t in paper_tables(analysis, lang) if t.id == "ordinal_thresholds")
    _, rows = _sheet_rows(wb, tab.title)
    header = next(i for i, r in enumerate(rows) if tuple(r[:3]) == tuple(c.header for c in
                                                                   tab.columns[:3]))
    body = [r for r in rows[header + 1:] if r[0] in ITEMS]
    assert len(body) == len(th) == 36
    for r, e in zip(body, th.itertuples()):
        assert (r[0], r[2]) == (e.lhs, e.rhs)
        assert r[3] == pytest.approx(e.est, abs=1e-12) and r[4] == pytest.approx(e.se, abs=1e-12)
    # lavaan's thresholds, printed as given
    ref = {(r["lhs"], r["rhs"]): r["est"] for r in reference["estimates"] if r["op"] == "|"}
    assert body[0][3] == pytest.approx(ref[("x1", "t1")], rel=1e-4)
    fit_tab = next(t for t in paper_tables(analysis, lang) if t.id == "fit_indices")
    _, rows = _sheet_rows(wb, fit_tab.title)
    labels = {r[0]: r for r in rows if r and r[0]}
    scaled = "χ² (scaled-shifted)" if lang == "en" else "χ²（均值方差校正，scaled-shifted）"
    f = reference["fit"]
    assert labels[scaled][2] == pytest.approx(f["chisq.scaled"], rel=1e-4)
    cfi_s = "CFI (scaled)" if lang == "en" else "CFI（校正，scaled）"
    cfi_r = "CFI (robust)" if lang == "en" else "CFI（稳健，robust）"
    assert labels["CFI"][2] == pytest.approx(f["cfi"], rel=1e-4)
    assert labels[cfi_s][2] == pytest.approx(f["cfi.scaled"], rel=1e-4)
    assert labels[cfi_r][2] == pytest.approx(f["cfi.robust"], rel=1e-4)
    rm_s = "RMSEA (scaled) [90% CI]" if lang == "en" else "RMSEA（校正，scaled）[90% CI]"
    assert labels[rm_s][2].startswith(format_number(f["rmsea.scaled"], "std"))
    assert format_number(f["rmsea.ci.upper.scaled"], "std") in labels[rm_s][2]
    _, rows = _sheet_rows(wb, "分析方法" if lang == "zh" else "Method")
    assert any(r and r[0] == methods_paragraph(analysis, lang) for r in rows)


@pytest.mark.slow
def test_word_has_methods_and_thresholds(analysis, reference):
    for lang in ("zh", "en"):
        doc = docx.Document(io.BytesIO(render_reports(analysis, lang, ("docx",))["report.docx"]))
        paras = [p.text for p in doc.paragraphs]
        title = "分析方法" if lang == "zh" else "Method"
        i = paras.index(title)
        assert paras[i + 1] == methods_paragraph(analysis, lang)
        caption = "有序题项的阈值" if lang == "zh" else "Thresholds of the ordered items"
        assert caption in paras
        tabs = paper_tables(analysis, lang)
        k = [t.id for t in tabs].index("ordinal_thresholds")
        cells = [[c.text for c in row.cells] for row in doc.tables[k].rows]
        assert len(cells) == 1 + 36
        x1t1 = next(r for r in reference["estimates"]
                    if (r["lhs"], r["op"], r["rhs"]) == ("x1", "|", "t1"))
        assert cells[1][0] == "x1" and cells[1][2] == "t1"
        assert cells[1][3] == format_number(x1t1["est"], "num")
        scaled = "χ² (scaled-shifted)" if lang == "en" else "χ²（均值方差校正，scaled-shifted）"
        fit_cells = [[c.text for c in row.cells] for row in doc.tables[k + 1].rows]
        assert any(r[0] == scaled for r in fit_cells)


@pytest.mark.slow
def test_page_in_chromium_shows_thresholds_and_methods(analysis, tmp_path):
    page = write_reports(analysis, tmp_path, "en", formats=("html",))["html"]
    res = load_page(page, {
        "sections": "[...document.querySelectorAll('main > section')].map(s => s.id)",
        "thresholds": "document.querySelector('table[data-table=ordinal_thresholds]')"
                      ".tBodies[0].rows.length",
        "methods": "document.querySelector('table[data-table=methods]').innerText",
        "fit": "document.querySelector('table[data-table=fit_indices]').innerText",
    }, {})
    v = res["values"]
    assert res["console_errors"] == [] and res["exceptions"] == []
    assert v["sections"].index("ordinal_thresholds") == v["sections"].index("fit") - 1
    assert v["thresholds"] == 36
    assert "WLSMV" in v["methods"] and "Rhemtulla" in v["methods"]
    for label in ("χ² (scaled-shifted)", "p (scaled-shifted)", "CFI (scaled)", "CFI (robust)",
                  "TLI (scaled)", "RMSEA (robust) [90% CI]"):
        assert label in v["fit"]
