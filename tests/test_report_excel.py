"""The Excel workbook: sheets, headers, formats, highlighting, languages and missing stages."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from riskmodel_sem.workflow.analysis import Analysis
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.report import render_reports
from riskmodel_sem.report.excel import NUMBER_FORMAT, P_FORMAT
from riskmodel_sem.report.numbers import excel_format
from riskmodel_sem.survey.spec import load_spec

from _report_fixtures import gcrm_analysis
from conftest import REFERENCE, load_reference_data

ZH_SHEETS = ["摘要", "样本", "统计检验力与样本量", "数据筛查", "题项", "信度", "效度", "测量模型",
             "模型拟合", "因子载荷", "路径与假设", "路径图", "间接效应", "模型比较", "修正指数", "模型设定"]
EN_SHEETS = ["Summary", "Sample", "Power and sample size", "Screening", "Items", "Reliability",
             "Validity", "Measurement model", "Model fit", "Loadings", "Paths and hypotheses",
             "Path diagram", "Indirect effects", "Model comparison", "Modification indices",
             "Specification"]
ZH_HEADERS = {
    "摘要": ["项目", "值"],
    "模型拟合": ["指标", "阈值", "测量模型", "结论 (测量模型)", "结构模型", "结论 (结构模型)", "来源"],
    "测量模型": ["构念", "题项", "λ", "标准误", "z", "p", "α", "CR", "AVE", "ω"],
    "因子载荷": ["因子", "因子名称", "题项", "题项名称", "类型", "估计值", "标准误", "z", "p", "CI 下限",
             "CI 上限", "标准化估计", "R²"],
    "路径与假设": ["假设", "表述", "路径", "β", "b", "标准误", "z", "p", "95% CI", "区间方法", "结论"],
    "修正指数": ["参数", "修正指数", "EPC", "标准化 EPC"],
    "模型设定": ["行", "语法"],
    "信度": ["构念", "题项数", "样本量", "α", "α CI 下限", "α CI 上限", "标准化 α", "ω", "CR", "AVE"],
    "效度": ["构念", "FIN", "SYM", "MGT", "DOV", "PRC", "PRV", "INS", "EXC", "CHT", "DIV", "RSP"],
}


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def gcrm():
    return gcrm_analysis()


@pytest.fixture(scope="module")
def zh_book(gcrm):
    return render_reports(gcrm, "zh", formats=("xlsx",))["report.xlsx"]


def _header(ws) -> list:
    return [c.value for c in ws[4] if c.value is not None]


def test_sheets_and_headers_zh(zh_book):
    wb = _open(zh_book)
    assert wb.sheetnames == ZH_SHEETS
    for name, headers in ZH_HEADERS.items():
        assert _header(wb[name]) == headers, name
    for ws in wb:
        if ws.title == "路径图":  # the path diagram as a picture (diagram.png)
            assert len(ws._images) == 1
            continue
        assert ws.freeze_panes == "A5", ws.title
        assert ws["A1"].value and ws["A2"].value, ws.title  # title and note on method
        assert len(ws.tables) >= 1, ws.title
        assert any(t.ref.startswith("A4:") for t in ws.tables.values()), ws.title


def test_paper_factor_names_in_chinese(zh_book):
    wb = _open(zh_book)
    ws = wb["因子载荷"]
    names = {r[1] for r in ws.iter_rows(min_row=5, values_only=True) if r[0]}
    assert {"财政负担", "象征性参与", "管理混乱", "数据过载", "流程不畅", "隐私安全", "参与不足", "参与过量",
            "作弊欺诈", "数字鸿沟", "权责问题", "发包方风险", "平台方风险", "接包方风险",
            "外部环境风险"} <= names
    rows = list(ws.iter_rows(min_row=5, values_only=True))
    assert len(rows) == 33 + 11  # every first- and second-order loading


def test_number_formats(zh_book):
    wb = _open(zh_book)
    fit = {r[0].value: r for r in wb["模型拟合"].iter_rows(min_row=5, max_row=25) if r[0].value}
    # measurement model (columns C, D), structural model (E, F)
    assert fit["CFI"][4].number_format == excel_format("std")
    assert fit["χ²"][4].number_format == NUMBER_FORMAT
    assert fit["p"][4].number_format == P_FORMAT
    assert fit["df"][4].number_format == "0" and fit["df"][4].value == 478
    ws = wb["因子载荷"]
    col_p = _header(ws).index("p") + 1
    cells = [ws.cell(row=r, column=col_p) for r in range(5, 5 + 44)]
    assert all(c.number_format == P_FORMAT for c in cells if c.value is not None)
    # the p format shows "< .001" for small values and keeps the number in the cell
    assert P_FORMAT.startswith('[<0.001]"< .001"')
    assert any(isinstance(c.value, float) and c.value < 0.001 for c in cells)


def test_failed_thresholds_highlighted(zh_book):
    wb = _open(zh_book)
    ws = wb["信度"]
    head = _header(ws)
    ave = head.index("AVE") + 1
    for r in range(5, 16):
        c = ws.cell(row=r, column=ave)
        red = c.fill.fgColor.rgb == "FFF4C7C3"
        assert red == (c.value < 0.50), (ws.cell(row=r, column=1).value, c.value)
    assert any(ws.cell(row=r, column=ave).value < 0.50 for r in range(5, 16))


def test_poor_fit_highlighted_and_english():
    """Holzinger-Swineford three-factor CFA: RMSEA .092 and CFI .931 miss their thresholds."""
    data = load_reference_data("holzinger1939.csv")
    spec = load_spec(REFERENCE / "models" / "hs_three_factor.lav")
    fit = fit_model(spec.model_syntax(), data)
    book = render_reports(Analysis("fit", spec, None, {}, fit=fit), "en", ("xlsx",))
    wb = _open(book["report.xlsx"])
    assert wb.sheetnames == ["Summary", "Measurement model", "Model fit", "Loadings",
                             "Modification indices", "Specification", "Path diagram"]
    rows = {r[0].value: r for r in wb["Model fit"].iter_rows(min_row=5, max_row=25)
            if r[0].value}
    assert _header(wb["Model fit"]) == ["Index", "Threshold", "Structural model",
                                        "Verdict (Structural model)", "Source"]
    rmsea = rows["RMSEA [90% CI]"]
    lo, hi = fit.fit["rmsea_ci_lower"], fit.fit["rmsea_ci_upper"]
    assert rmsea[2].value == (f"{fit.fit['rmsea']:.3f} [{lo:.3f}, {hi:.3f}]").replace("0.", ".")
    assert rmsea[3].value == "poor" and rmsea[2].fill.fgColor.rgb == "FFF4C7C3"
    # one thresholds table: CFI .931 misses Hu & Bentler's .95, as in the validation verdicts
    assert rows["CFI"][2].value == pytest.approx(fit.fit["cfi"], rel=1e-12)
    assert rows["CFI"][3].value == "poor"
    assert rows["CFI"][2].fill.fgColor.rgb == "FFF4C7C3"
    assert rows["CFI"][1].value == "≥ .95"
    assert rows["SRMR"][3].value == "pass"
    assert rows["χ²/df"][2].value == pytest.approx(fit.fit["chisq"] / fit.fit["df"], rel=1e-12)
    for key in ("GFI", "AGFI", "NFI", "IFI"):
        assert rows[key][2].value == pytest.approx(fit.fit[key.lower()], rel=1e-12)
        assert rows[key][1].value.startswith("≥ .") and rows[key][4].value


def test_english_labels(gcrm):
    wb = _open(render_reports(gcrm, "en", ("xlsx",))["report.xlsx"])
    assert wb.sheetnames == EN_SHEETS
    names = {r[1] for r in wb["Loadings"].iter_rows(min_row=5, values_only=True)}
    assert {"Financial burden", "Rights and responsibilities", "Platform risk"} <= names


def test_default_language_is_the_specs(gcrm):
    wb = _open(render_reports(gcrm, None, ("xlsx",))["report.xlsx"])
    assert gcrm.spec.language == "zh" and wb.sheetnames[0] == "摘要"


def test_specification_sheet_holds_syntax_and_codebook(zh_book, gcrm):
    ws = _open(zh_book)["模型设定"]
    values = [r for r in ws.iter_rows(min_row=5, values_only=True)]
    lines = gcrm.fit.syntax.rstrip("\n").split("\n")
    assert [v[1] for v in values[:len(lines)]] == lines
    flat = {x for r in values for x in r if isinstance(x, str)}
    assert "政府需要为众包任务持续投入大量奖励资金，财政压力较大。" in flat


def test_invariance_sheet_when_run():
    from riskmodel_sem.sem.comparison import invariance

    data = load_reference_data("holzinger1939.csv")
    spec = load_spec(REFERENCE / "models" / "hs_three_factor.lav")
    inv = invariance(data, spec.model_syntax(), "school")
    book = render_reports(Analysis("invariance", spec, None, {"group": "school"}, invariance=inv),
                          "en", ("xlsx",))
    wb = _open(book["report.xlsx"])
    assert "Invariance" in wb.sheetnames
    ws = wb["Invariance"]
    texts = {x for r in ws.iter_rows(values_only=True) for x in r if isinstance(x, str)}
    assert {"configural", "metric", "scalar"} <= texts


def test_no_formula_cells(zh_book):
    with zipfile.ZipFile(io.BytesIO(zh_book)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def test_modification_indices_are_listed_from_the_results(zh_book, gcrm):
    ws = _open(zh_book)["修正指数"]
    got = [r[1] for r in ws.iter_rows(min_row=5, values_only=True) if r[1] is not None]
    mi = gcrm.fit.modindices
    want = mi.loc[mi["mi"] >= 3.84, "mi"].head(100).to_list()
    assert got == pytest.approx(want, rel=1e-12)


def test_same_bytes_twice(gcrm):
    a = render_reports(gcrm, "zh", ("xlsx",))["report.xlsx"]
    b = render_reports(gcrm, "zh", ("xlsx",))["report.xlsx"]
    assert a == b
