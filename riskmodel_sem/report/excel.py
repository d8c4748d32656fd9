"""The Excel workbook: one sheet per section, each table titled, annotated and formatted.

Every sheet starts with the table's title (row 1) and its note on method and thresholds
(row 2); the header row is frozen, numbers are shown as :mod:`.numbers` formats them (APA:
three decimals, no leading zero on statistics bounded by 1, p as ".002" or "< .001"), failed
thresholds are filled red, and each table is an Excel table (filter buttons, banded rows).
Text from specs and data files is always stored as text: a string that Excel would read as a
formula (starting with =, +, -, @, tab or carriage return) is stored as a string cell with the
quote prefix, so it is neither evaluated when opened nor when edited.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table as XlTable
from openpyxl.worksheet.table import TableStyleInfo

from ..outputs import reproducible_package
from .numbers import excel_format, excel_value
from .tables import Sheet, Table

__all__ = ["workbook_bytes", "data_workbook_bytes", "safe_text", "NUMBER_FORMAT", "P_FORMAT", "FORMULA_PREFIXES"]

#: Three decimals.
NUMBER_FORMAT = excel_format("num")
#: p-values: "< .001" below 0.001, otherwise ".002" (the cell keeps the number).
P_FORMAT = excel_format("p")
#: First characters that make spreadsheet programs read text as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_FAIL_FILL = PatternFill("solid", start_color="FFF4C7C3", end_color="FFF4C7C3")
_FAIL_FONT = Font(color="FF9C0006")
_TITLE_FONT = Font(bold=True, size=14)
_NOTE_FONT = Font(italic=True, color="FF555555")
_ILLEGAL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"}
_MAX_WIDTH = 60


def safe_text(value: str) -> str:
    """Return ``value`` without the control characters that XML (and so .xlsx) cannot hold."""
    if any(ch in _ILLEGAL for ch in value):
        return "".join("\ufffd" if ch in _ILLEGAL else ch for ch in value)
    return value


def _put(ws, row: int, col: int, value: Any, kind: str):
    """Write one cell: numbers as numbers with a format, everything else as inert text."""
    cell = ws.cell(row=row, column=col)
    value = excel_value(value, kind)
    if value is None:
        return cell
    if isinstance(value, bool):
        value = "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        cell.value = value
        cell.number_format = excel_format(kind if kind != "text" else "auto", value)
        return cell
    s = safe_text(str(value))
    cell.value = s
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if s.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


def _display_len(v: Any) -> int:
    if v is None:
        return 0
    s = f"{v:.3f}" if isinstance(v, float) else str(v)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def _write_table(ws, tab: Table, top: int, widths: dict[int, int]) -> int:
    """Write a table with its title and note starting at row ``top``; return the next free row."""
    _put(ws, top, 1, tab.title, "text").font = _TITLE_FONT
    _put(ws, top + 1, 1, tab.note, "text").font = _NOTE_FONT
    hrow = top + 3
    headers: list[str] = []
    for j, col in enumerate(tab.columns, start=1):
        h = safe_text(col.header) or f"column{j}"
        base, k = h, 2
        while h in headers:  # Excel tables need unique headers
            h, k = f"{base} ({k})", k + 1
        headers.append(h)
        c = _put(ws, hrow, j, h, "text")
        c.font = Font(bold=True)
        widths[j] = max(widths.get(j, 8), _display_len(h) + 2)
    for i, row in enumerate(tab.rows):
        r = hrow + 1 + i
        for j, v in enumerate(row, start=1):
            c = _put(ws, r, j, v, tab.kind(i, j - 1))
            if (i, j - 1) in tab.fails:
                c.fill = _FAIL_FILL
                c.font = Font(color="FF9C0006", bold=(i, j - 1) in tab.bold)
            elif (i, j - 1) in tab.bold:
                c.font = Font(bold=True)
            if isinstance(v, str) and len(v) > _MAX_WIDTH:
                c.alignment = Alignment(wrap_text=True, vertical="top")
            widths[j] = max(widths.get(j, 8), min(_MAX_WIDTH, _display_len(v) + 2))
    last = hrow + len(tab.rows)
    if tab.rows:
        ref = f"A{hrow}:{get_column_letter(len(tab.columns))}{last}"
        xt = XlTable(displayName=tab.id, ref=ref)
        xt.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(xt)
    return last + 3


def workbook_bytes(sheets: list[Sheet], diagram: bytes | None = None,
                   diagram_title: str = "", figures=()) -> bytes:
    """Render the sheets as an .xlsx workbook and return its bytes.

    Parameters
    ----------
    sheets : list of Sheet
        From :func:`riskmodel_sem.report.tables.build_sheets`.
    diagram : bytes, optional
        The path diagram as PNG, placed on a sheet of its own after the paths sheet (or last).
    diagram_title : str
        That sheet's name and title.
    figures : sequence of (sheet id, title, note, PNG)
        Pictures placed on the sheet of that id, to the right of its tables.

    Returns
    -------
    bytes
        The workbook (nothing is written to disk here).
    """
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    pictures = {sid: png for sid, _, _, png in figures}
    for sheet in sheets:
        name = "".join("_" if ch in '[]:*?/\\' else ch for ch in sheet.name)[:31] or "Sheet"
        base, k = name, 2
        while name.lower() in used:
            name, k = f"{base[:28]}_{k}", k + 1
        used.add(name.lower())
        ws = wb.create_sheet(title=name)
        widths: dict[int, int] = {}
        top = 1
        for n, tab in enumerate(sheet.tables):
            if n == 0:
                ws.freeze_panes = ws.cell(row=top + 4, column=1)
            top = _write_table(ws, tab, top, widths)
        for j, w in widths.items():
            ws.column_dimensions[get_column_letter(j)].width = w
        # the title and note may be long: do not let them widen column A
        ws.column_dimensions["A"].width = max(10, min(widths.get(1, 10), _MAX_WIDTH))
        if sheet.id in pictures:
            from openpyxl.drawing.image import Image

            img = Image(io.BytesIO(pictures[sheet.id]))
            img.width, img.height = img.width / 2, img.height / 2
            ws.add_image(img, f"{get_column_letter(max(widths, default=1) + 2)}4")
    if diagram:
        _diagram_sheet(wb, diagram, diagram_title or "diagram", sheets, used)
    buf = io.BytesIO()
    wb.save(buf)
    return reproducible_package(buf.getvalue(), _FIXED_TIME)


def _diagram_sheet(wb, png: bytes, title: str, sheets: list[Sheet], used: set[str]) -> None:
    """A sheet holding the path diagram (shown at half its pixel size, i.e. its SVG size)."""
    from openpyxl.drawing.image import Image

    name = "".join("_" if ch in '[]:*?/\\' else ch for ch in title)[:31] or "diagram"
    while name.lower() in used:
        name = name[:29] + "_2"
    names = [s.id for s in sheets]
    index = names.index("paths") + 1 if "paths" in names else len(wb.sheetnames)
    ws = wb.create_sheet(title=name, index=index)
    _put(ws, 1, 1, title, "text").font = _TITLE_FONT
    img = Image(io.BytesIO(png))
    img.width, img.height = img.width / 2, img.height / 2
    ws.add_image(img, "A3")


_FIXED_TIME = datetime.datetime(2000, 1, 1, 0, 0, 0)


def data_workbook_bytes(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """A workbook of plain data sheets (a header row and rows of cells), e.g. cleaned data.

    Parameters
    ----------
    sheets : list of (name, header, rows)
        Numbers are stored as numbers, everything else as inert text (:func:`_put`); the
        header row is bold and frozen.

    Returns
    -------
    bytes
        The workbook, with fixed timestamps (the same content gives the same bytes).
    """
    wb = Workbook()
    wb.remove(wb.active)
    for name, header, rows in sheets:
        ws = wb.create_sheet(title="".join("_" if ch in '[]:*?/\\' else ch for ch in name)[:31])
        for j, h in enumerate(header, start=1):
            _put(ws, 1, j, h, "text").font = Font(bold=True)
        for i, row in enumerate(rows, start=2):
            for j, v in enumerate(row, start=1):
                _put(ws, i, j, v, "auto")
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return reproducible_package(buf.getvalue(), _FIXED_TIME)
