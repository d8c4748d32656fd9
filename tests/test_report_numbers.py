"""APA number style: the one formatter of the page, the workbook and the Word document."""

from __future__ import annotations

import io

import openpyxl
import pytest

from riskmodel_sem.report.numbers import (DASH, excel_format, excel_value, format_cell,
                                          format_number, key_kind)


@pytest.mark.parametrize("value, kind, expected", [
    (0.0004, "p", "< .001"), (0.002, "p", ".002"), (0.0123456, "p", ".012"),
    (0.05, "p", ".050"), (1.0, "p", "1.000"), (0.99996, "p", "1.000"),
    (0.9617, "std", ".962"), (-0.3, "std", "-.300"), (1.02, "std", "1.020"),
    (-0.0004, "std", ".000"), (-0.0004, "num", "0.000"), (-0.0006, "num", "-0.001"),
    (12.3456, "num", "12.346"), (478.0, "int", "478"), (478, "auto", "478"),
    (3.5, "int", "3.500"), (float("nan"), "num", ""),
])
def test_format_number(value, kind, expected):
    assert format_number(value, kind) == expected


def test_format_cell_kinds():
    assert format_cell(None, "num") == ""
    assert format_cell(1.0, "fixed") == DASH and format_cell(None, "fixed") == DASH
    assert format_cell(True, "text") == "TRUE"
    assert format_cell("<b>", "text") == "<b>"  # escaping is the template's job
    assert format_cell(2.0, "text") == "2.000"


def test_key_kinds():
    assert key_kind("pvalue") == "p" and key_kind("rmsea_pvalue") == "p"
    assert key_kind("cfi") == "std" and key_kind("std_all") == "std" and key_kind("r2") == "std"
    assert key_kind("df") == "int" and key_kind("n_items") == "int"
    assert key_kind("chisq") == "num" and key_kind("est") == "num"


@pytest.mark.parametrize("value, kind", [
    (0.0004, "p"), (0.002, "p"), (0.9617, "std"), (-0.3, "std"), (1.02, "std"),
    (12.3456, "num"), (478, "int"), (-0.0004, "num"),
])
def test_excel_shows_what_the_page_shows(value, kind):
    """Excel's own rendering of the stored number and format is what format_number gives."""
    wb = openpyxl.Workbook()
    ws = wb.active
    cell = ws.cell(row=1, column=1, value=excel_value(value, kind))
    cell.number_format = excel_format(kind, value)
    buf = io.BytesIO()
    wb.save(buf)
    back = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active.cell(row=1, column=1)
    fmt = back.number_format
    v = back.value
    shown = _render_excel(v, fmt)
    assert shown == format_number(value, kind)


def _render_excel(v, fmt: str) -> str:
    """Render the small subset of Excel number formats that numbers.py writes."""
    sections = fmt.split(";")
    if sections[0].startswith("[<0.001]"):
        if v < 0.001:
            return sections[0].split("]", 1)[1].strip('"')
        sections = sections[1:]
    if len(sections) >= 3 and v == 0:
        body = sections[2]
    elif len(sections) >= 2 and v < 0:
        body = sections[1]
    else:
        body = sections[0]
    sign = "-" if v < 0 and not body.startswith("-") and len(sections) < 2 else ""
    body_sign = "-" if body.startswith("-") else ""
    pattern = body.lstrip("-")
    decimals = len(pattern.split(".")[1]) if "." in pattern else 0
    s = f"{abs(v):.{decimals}f}"
    if pattern.startswith("#.") and s.startswith("0."):
        s = s[1:]
    return sign + body_sign + s


def test_fixed_cells_hold_a_dash_in_excel():
    assert excel_value(1.0, "fixed") == DASH
    assert excel_value(-0.00001, "num") == 0.0
    assert excel_value(0.00001, "p") == 0.00001  # p-values keep their number
