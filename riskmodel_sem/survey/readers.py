"""Reading survey files into coded, reverse-keyed item data.

Supported files: Excel ``.xlsx`` (read-only, values only), ``.csv`` (UTF-8 with or without
BOM; GB18030/GBK when the bytes are not UTF-8) and SPSS ``.sav``. The first row of a sheet or
CSV is the header. Item columns are found by the spec's item codes (exactly, ignoring case, or
as the start of a longer questionnaire-platform header such as ``"1、FIN1 政府需要..."``).
Answers may be numbers or scale labels ("同意", "Agree", "4 同意"); reverse-keyed items are
recoded as ``min + max - x``.

Files are only ever opened for reading.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SurveyDataError
from .headers import closest_headers, header_variants, normalize_header
from .spec import Spec

__all__ = ["SurveyData", "SurveyTable", "read_survey", "read_table", "ID_CANDIDATES", "MISSING_TOKENS", "MAX_XLSX_BYTES",
           "MAX_XLSX_CELLS", "MAX_SURVEY_BYTES"]

#: Cap on the uncompressed size of an .xlsx workbook (sum over its zip members), checked before
#: the workbook is opened, so that a "zip bomb" is refused instead of filling the memory.
MAX_XLSX_BYTES = 500 * 1024 * 1024
#: The most cells (rows x columns up to the farthest cell with content) read from one sheet.
MAX_XLSX_CELLS = 5_000_000
#: The largest survey file read.
MAX_SURVEY_BYTES = 2 * 2**30

#: Column names recognised as the respondent id (case-insensitive), in order of preference.
ID_CANDIDATES = ("id", "序号", "编号", "respondent", "respondent_id", "ResponseId", "作答ID",
                 "答卷编号")

#: Cell texts read as a missing answer (case-insensitive, after stripping whitespace).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", ".", "-", "(跳过)", "跳过",
                            "(空)", "空", "（跳过）", "（空）"})


@dataclass(frozen=True)
class SurveyData:
    """Item answers read from a survey file, coded as numbers.

    Attributes
    ----------
    data : pandas.DataFrame
        One float column per spec item (named by item code, in spec order); NaN for missing;
        reverse-keyed items already recoded as ``min + max - x``.
    ids : pandas.Series
        The respondent id column as read (1..n when the file has none).
    extra : pandas.DataFrame
        All other columns as read (groups, durations, ...).
    source : Path
        The file read.
    sheet : str or None
        The worksheet read (xlsx only).
    codebook : pandas.DataFrame
        One row per item: item, column (header in the file), construct, zh, en, reverse,
        scale_min, scale_max.
    n_text_mapped : int
        Number of answers that came as scale labels rather than numbers.
    warnings : tuple of str
        Remarks on usable but imperfect data (missing answers, duplicated ids, ...).
    first_row : int
        The row number a spreadsheet shows for ``data``'s first row (2; 4 for a Qualtrics
        export; SPSS cases count from 1).
    questions : dict
        ``{column of extra: question text}`` from a second header row (Qualtrics).
    """

    data: pd.DataFrame
    ids: pd.Series
    extra: pd.DataFrame
    source: Path
    sheet: str | None
    codebook: pd.DataFrame
    n_text_mapped: int = 0
    warnings: tuple[str, ...] = field(default=())
    first_row: int = 2
    questions: dict = field(default_factory=dict)

    @property
    def n_obs(self) -> int:
        """Number of respondents (rows)."""
        return len(self.data)


# ---------------------------------------------------------------------------------------------
# raw tables
# ---------------------------------------------------------------------------------------------

class _Raw:
    """Header and object columns of one table, with how to name its rows in messages."""

    def __init__(self, header: list[str], columns: list[list[Any]], where: str,
                 row_offset: int, row_word: str = "row") -> None:
        self.header = header
        self.columns = columns
        self.where = where            # "file.xlsx, sheet 'Sheet1'" or "file.csv"
        self.row_offset = row_offset  # add to a 0-based data index to get the user's row
        self.row_word = row_word
        self.value_labels: dict[str, dict] = {}  # SPSS value labels by column
        self.whole_floats_as_int = False  # spreadsheets store 3 as 3.0: shown as 3 in labels
        self.texts = [""] * len(header)  # question texts of a second header row (Qualtrics)

    def at(self, i: int, col: str) -> str:
        return f"{self.where}, {self.row_word} {i + self.row_offset}, column {col!r}"


def _check_zip_size(path: Path) -> None:
    """Refuse a workbook whose members would unpack to more than :data:`MAX_XLSX_BYTES`."""
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(max(info.file_size, 0) for info in zf.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise SurveyDataError(f"{path}: The file is not a readable Excel .xlsx workbook "
                              f"({type(exc).__name__}).") from None
    if total > MAX_XLSX_BYTES:
        raise SurveyDataError(f"{path}: The workbook would unpack to {total / 2**20:.0f} MB, more "
                              f"than the limit of {MAX_XLSX_BYTES / 2**20:.0f} MB; save the data "
                              "sheet alone or as .csv.")


# a cell with content: an opening tag not closed at once (``<c .../>`` and ``<c ...></c>``, as
# writers with and without lxml save a blank formatted cell, are empty)
_VALUED_CELL_RE = re.compile(rb'<c r="([A-Z]{1,3})\d+"[^>/]*>(?!\s*</c>)')
_CELL_OPEN_RE = re.compile(rb'<c r="[A-Z]{1,3}(\d+)"[^>]*?(/>|>\s*</c>|>)')
_FORMULA_ONLY_RE = re.compile(
    rb'<c r="([A-Z]{1,3}\d+)"[^>/]*>\s*<f[^>]*?(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part in the package (workbook.xml and its relationships)."""
    import xml.etree.ElementTree as ET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts = {}
    for s in book.iter(f"{main}sheet"):
        target = targets.get(s.get(f"{rel_ns}id"), "")
        parts[s.get("name")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def _check_extent(path: Path, zf: zipfile.ZipFile, part: str | None, where: str) -> None:
    """Refuse a sheet whose cells would span more than :data:`MAX_XLSX_CELLS`, and formulas
    whose values were never saved, from the cells actually present (not the declared range).

    A blank cell that only carries a format (``<c r="XFD1048576" s="1"/>``) does not count; a
    stray value far from the data does, since a reader fills everything up to it.
    """
    if part is None or part not in zf.namelist():
        return
    xml = zf.read(part)
    letters = set(_VALUED_CELL_RE.findall(xml))
    width = max((_column_number(x) for x in letters), default=0)
    height = 0
    pos = len(xml)
    while True:  # the last cell with content, searching backwards past blank formatted cells
        pos = xml.rfind(b'<c r="', 0, pos)
        if pos < 0:
            break
        m = _CELL_OPEN_RE.match(xml, pos)
        if m and m.group(2) == b">":
            height = int(m.group(1))
            break
    if width * height > MAX_XLSX_CELLS:
        raise SurveyDataError(
            f"{where}: The cells in use reach row {height} and column {width} "
            f"({width * height:,} cells, more than the limit of {MAX_XLSX_CELLS:,}); delete "
            "stray cells far from the data, or save the data as .csv.")
    if b"<f" in xml:
        orphans = _FORMULA_ONLY_RE.findall(xml)
        if orphans:
            raise SurveyDataError(
                f"{where}, cell {orphans[0].decode()}: {len(orphans)} cell(s) hold formulas "
                "whose values were never saved (the file was written by a program that does "
                "not calculate); open and save it in Excel or LibreOffice, or export it as "
                ".csv.")


def _read_xlsx(path: Path, sheet: str | None) -> tuple[_Raw, str]:
    """Read one sheet of a workbook with calamine (values as last saved by the spreadsheet).

    Without ``sheet`` the first visible worksheet not named "codebook" is read; hidden sheets
    are read only when named, chart sheets never.
    """
    if not zipfile.is_zipfile(path):
        raise SurveyDataError(f"{path}: The file is not an Excel .xlsx workbook (a renamed .xls "
                              "or text file?); save it from Excel as .xlsx or .csv.")
    _check_zip_size(path)
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        wb = CalamineWorkbook.from_path(str(path))
        meta = list(wb.sheets_metadata)
    except Exception as exc:  # calamine raises its own error types for a damaged workbook
        raise SurveyDataError(f"{path}: The file is not a readable Excel .xlsx workbook "
                              f"({type(exc).__name__}).") from None
    names = [m.name for m in meta]
    kinds = {m.name: m for m in meta}
    if sheet is not None:
        if sheet in names:
            chosen = sheet
        else:
            folded = [n for n in names if n.casefold() == sheet.casefold()]
            if len(folded) != 1:
                raise SurveyDataError(f"{path}: No sheet named {sheet!r} (sheets: "
                                      f"{', '.join(names)}).")
            chosen = folded[0]
        if kinds[chosen].typ != SheetTypeEnum.WorkSheet:
            raise SurveyDataError(f"{path}, sheet {chosen!r}: The sheet is a chart or dialog "
                                  "sheet, not a table of answers; name a worksheet.")
    else:
        worksheets = [m for m in meta if m.typ == SheetTypeEnum.WorkSheet
                      and m.name.strip().casefold() != "codebook"]
        visible = [m for m in worksheets if m.visible == SheetVisibleEnum.Visible]
        if not visible:
            hidden = [m.name for m in worksheets]
            raise SurveyDataError(
                f"{path}: The workbook has no visible data sheet (sheets: {', '.join(names)})"
                + (f"; the hidden sheet {hidden[0]!r} is read only when named with --sheet."
                   if hidden else "."))
        chosen = visible[0].name
    where = f"{path}, sheet {chosen!r}"
    with zipfile.ZipFile(path) as zf:
        _check_extent(path, zf, _sheet_parts(zf).get(chosen), where)
    try:
        rows = wb.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    except Exception as exc:  # damaged sheet XML, bad cell references, ...
        raise SurveyDataError(f"{where}: The sheet cannot be read; the workbook is damaged "
                              f"({type(exc).__name__}). Open and save it again in Excel, or "
                              "export it as .csv.") from None
    while rows and all(v == "" or v is None or (isinstance(v, str) and not v.strip())
                       for v in rows[-1]):
        rows.pop()
    if not rows:
        raise SurveyDataError(f"{where}: The sheet is empty.")
    width = max(len(r) for r in rows)
    header = [_header_text(v) for v in rows[0]] + [""] * (width - len(rows[0]))
    body = rows[1:]
    columns = [[(None if v == "" else v) for v in col]  # calamine's empty cell is ""
               for col in zip(*(r + [""] * (width - len(r)) for r in body))] if body else \
        [[] for _ in range(width)]
    raw = _Raw(header, columns, where, 2)
    raw.whole_floats_as_int = True
    return _qualtrics_rows(raw), chosen


def _header_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _decode_csv(path: Path, raw: bytes) -> str:
    """Decode a CSV file as one encoding: UTF-8 (with or without BOM), else GBK/GB18030.

    A file that is UTF-8 in part and something else elsewhere (rows pasted from another export)
    is refused with the row and column of the first bytes that are not UTF-8, instead of being
    decoded as GB18030 into garbled text.
    """
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
    head = body[:bad].decode("utf-8")
    if bom or any(ord(ch) > 127 for ch in head):
        line_start = body.rfind(b"\n", 0, bad) + 1
        row = body.count(b"\n", 0, bad) + 1
        column = body[line_start:bad].count(b",") + 1
        header = body[:body.find(b"\n")] if b"\n" in body else body
        names = header.decode("utf-8", errors="replace").strip("\r").split(",")
        name = names[column - 1].strip() if column <= len(names) else f"#{column}"
        raise SurveyDataError(
            f"{path}, row {row}, column {name!r}: The file is UTF-8 up to here but these bytes "
            "are in another encoding (rows pasted from another export?); save the whole file "
            "as CSV (UTF-8) again.")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise SurveyDataError(f"{path}: The file is neither UTF-8 nor GBK/GB18030 text; save it "
                              "as CSV (UTF-8).") from None


def _read_csv(path: Path) -> _Raw:
    raw = path.read_bytes()
    if not raw.strip():
        raise SurveyDataError(f"{path}: The file is empty.")
    text = _decode_csv(path, raw)
    if "\x00" in text:
        raise SurveyDataError(f"{path}: The file is not a text CSV file.")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=object, keep_default_na=False,
                         header=None, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise SurveyDataError(f"{path}: The file is empty.") from None
    except pd.errors.ParserError as exc:
        raise SurveyDataError(f"{path}: The CSV cannot be parsed ({str(exc).strip()}).") from None
    header = [_header_text(v) for v in df.iloc[0].tolist()]
    body = df.iloc[1:]
    columns = [body.iloc[:, j].tolist() for j in range(df.shape[1])]
    return _qualtrics_rows(_Raw(header, columns, str(path), 2))


_IMPORT_ID_RE = re.compile(r'^\s*\{\s*"ImportId"\s*:', re.IGNORECASE)


def _qualtrics_rows(raw: _Raw) -> _Raw:
    """A Qualtrics export has three header rows: names ("Q5_1"), question texts ("Please
    rate… - The platform is slow") and import ids (``{"ImportId":"QID5_1"}``). When the third
    row is import ids, the second becomes :attr:`_Raw.texts` and both leave the data; rows keep
    the numbers a spreadsheet shows (the first answer is row 4)."""
    if not raw.columns or len(raw.columns[0]) < 2:
        return raw
    third = [col[1] for col in raw.columns if col[1] not in (None, "")]
    if not third or sum(isinstance(v, str) and bool(_IMPORT_ID_RE.match(v))
                        for v in third) < max(1, len(third) // 2):
        return raw
    raw.texts = [_header_text(col[0]) for col in raw.columns]
    raw.columns = [col[2:] for col in raw.columns]
    raw.row_offset += 2
    return raw


def _read_sav(path: Path) -> _Raw:
    import pyreadstat

    try:
        df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises its own ReadstatError/PyreadstatError
        raise SurveyDataError(f"{path}: The file is not a readable SPSS .sav file "
                              f"({type(exc).__name__}).") from None
    labels = meta.variable_value_labels or {}
    header = [str(c) for c in df.columns]
    columns = []
    for c in df.columns:
        values = df[c].tolist()
        columns.append(values)
    raw = _Raw(header, columns, str(path), 1, "case")
    raw.value_labels = labels
    return raw


# ---------------------------------------------------------------------------------------------
# column matching
# ---------------------------------------------------------------------------------------------

_QNUM_RE = re.compile(r"^\s*(?:Q\s*)?\d+\s*[、.．:：)）]\s*", re.IGNORECASE)


def _starts_with_code(header: str, code: str) -> bool:
    h = _QNUM_RE.sub("", header, count=1)
    if not h.casefold().startswith(code.casefold()):
        return False
    if len(h) == len(code):
        return True
    nxt = h[len(code)]
    return not (nxt.isascii() and (nxt.isalnum() or nxt == "_"))


def _item_hits(raw: _Raw, item, variants: list[tuple[str, ...]]) -> tuple[list[int], str]:
    """Columns that could hold ``item``, by the first rule that finds any, and the rule."""
    header = raw.header
    code = item.code
    if item.column:
        hits = [j for j, h in enumerate(header) if h == item.column]
        if not hits:
            target = normalize_header(item.column)
            hits = [j for j, v in enumerate(variants) if target and target in v]
        return hits, "column"
    tiers = (
        [j for j, h in enumerate(header) if h == code],
        [j for j, h in enumerate(header) if h.casefold() == code.casefold()],
        [j for j, h in enumerate(header) if h and _starts_with_code(h, code)],
    )
    for hits in tiers:
        if hits:
            return hits, "code"
    for text in (item.zh, item.en):
        target = normalize_header(text) if text else ""
        if target:
            hits = [j for j, v in enumerate(variants) if target in v]
            if hits:
                return hits, "text"
    return [], ""


def _match_columns(raw: _Raw, spec: Spec) -> dict[str, int]:
    """Find each item's column: by its ``column`` key when the spec gives one, else by its
    code (exact, any case, or at the start of the header), else by its question text (zh or
    en) in normal form (:func:`riskmodel_sem.survey.headers.normalize_header`), compared with
    the header, with a matrix row's own text, and with the question-text row of a Qualtrics
    export."""
    header = raw.header
    where = raw.where
    variants = [tuple(dict.fromkeys(header_variants(h) + header_variants(t)))
                for h, t in zip(header, raw.texts)]
    found: dict[str, int] = {}
    missing = []
    for item in spec.items:
        hits, rule = _item_hits(raw, item, variants)
        if len(hits) == 1:
            found[item.code] = hits[0]
        elif len(hits) > 1:
            cols = ", ".join(repr(header[j]) for j in hits)
            how = {"column": f"its column {item.column!r}", "code": "its code",
                   "text": "its question text"}[rule]
            raise SurveyDataError(f"{where}: Item {item.code} matches more than one column by "
                                  f"{how} ({cols}); rename or remove the duplicates, or give the "
                                  "whole header as the item's 'column' in the spec.")
        else:
            missing.append(item)
    if missing:
        def shown(item) -> str:
            name = item.column or item.zh or item.en or item.code
            close = ", ".join(repr(h) for h in closest_headers(name, header, 2))
            return f"{item.code} (closest: {close})" if close else item.code
        listed = "; ".join(shown(i) for i in missing[:5])
        more = f"; and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise SurveyDataError(f"{where}: Missing item column(s): {listed}{more} "
                              f"({len(missing)} of {len(spec.items)} items not found); an item "
                              "is found by its code, its 'column' key or its question text.")
    used: dict[int, str] = {}
    for code, j in found.items():
        if j in used:
            raise SurveyDataError(f"{where}: Column {header[j]!r} matches both items "
                                  f"{used[j]} and {code}.")
        used[j] = code
    return found


def _find_id(raw: _Raw, id_column: str | None, taken: set[int]) -> int | None:
    header = raw.header
    if id_column is not None:
        hits = [j for j, h in enumerate(header) if h == id_column]
        if not hits:
            hits = [j for j, h in enumerate(header) if h.casefold() == id_column.casefold()]
        if not hits:
            raise SurveyDataError(f"{raw.where}: No id column named {id_column!r}.")
        if len(hits) > 1:
            raise SurveyDataError(f"{raw.where}: Id column {id_column!r} appears "
                                  f"{len(hits)} times.")
        return hits[0]
    for cand in ID_CANDIDATES:
        hits = [j for j, h in enumerate(header)
                if h.casefold() == cand.casefold() and j not in taken]
        if hits:
            return hits[0]
    return None


# ---------------------------------------------------------------------------------------------
# value conversion
# ---------------------------------------------------------------------------------------------

def _labels(raw: _Raw, values: list[Any]) -> list[Any]:
    """A non-item column as labels: blank cells missing, and a spreadsheet's whole numbers
    (stored as 3.0) as the integers users typed."""
    out = [None if isinstance(v, str) and not v.strip() else v for v in values]
    if raw.whole_floats_as_int:
        out = [int(v) if isinstance(v, float) and v.is_integer() else v for v in out]
    return out


def _convert_column(values: list[Any], spec: Spec, raw: _Raw, header: str
                    ) -> tuple[np.ndarray, int]:
    """Convert one item column to floats; return (values, number of text labels mapped)."""
    if all(v is None or type(v) in (float, int) for v in values):  # numbers only: at once
        return np.array(values, dtype=float), 0
    if all(type(v) is str for v in values):  # text only (CSV): each distinct answer once,
        # in the order of first appearance (the first bad answer is the one reported)
        hits = {v: _convert_cell(v, spec.scale, raw, values.index(v), header)
                for v in dict.fromkeys(values)}
        labels = [v for v, (_, is_label) in hits.items() if is_label]
        return (np.array([hits[v][0] for v in values], dtype=float),
                sum(values.count(v) for v in labels))
    n = len(values)
    out = np.full(n, np.nan)
    scale = spec.scale
    cache: dict[Any, tuple[float, bool]] = {}
    n_text = 0
    for i, v in enumerate(values):
        if v is None:
            continue
        if isinstance(v, float):
            if math.isnan(v):
                continue
            out[i] = v
            continue
        if isinstance(v, int) and not isinstance(v, bool):
            out[i] = v
            continue
        key = v if isinstance(v, str) else ("\x00obj", repr(v))
        hit = cache.get(key)
        if hit is None:
            hit = _convert_cell(v, scale, raw, i, header)
            cache[key] = hit
        x, is_label = hit
        out[i] = x
        n_text += is_label
    return out, n_text


def _convert_cell(v: Any, scale, raw: _Raw, i: int, header: str) -> tuple[float, bool]:
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v), False
    if isinstance(v, str):
        s = v.strip()
        if s.casefold() in MISSING_TOKENS:
            return math.nan, False
        try:
            return float(s), False
        except ValueError:
            pass
        if scale is not None:
            try:
                x = scale.to_number(s)
            except SurveyDataError as exc:
                raise SurveyDataError(f"{raw.at(i, header)}: {exc}") from None
            return (math.nan if x is None else x), True
        raise SurveyDataError(f"{raw.at(i, header)}: Answer {v!r} is not a number.")
    raise SurveyDataError(f"{raw.at(i, header)}: Answer {v!r} ({type(v).__name__}) is not a "
                          "number or a scale label.")


def _check_values(x: np.ndarray, spec: Spec, raw: _Raw, header: str) -> None:
    finite = np.isfinite(x)
    present = ~np.isnan(x)
    bad = present & ~finite
    if bad.any():
        i = int(np.argmax(bad))
        raise SurveyDataError(f"{raw.at(i, header)}: Value {x[i]} is not finite.")
    if spec.scale is None:
        return
    lo, hi = spec.scale.min, spec.scale.max
    with np.errstate(invalid="ignore"):
        bad = present & ((x < lo) | (x > hi) | (x != np.round(x)))
    if bad.any():
        i = int(np.argmax(bad))
        v = x[i]
        shown = int(v) if float(v).is_integer() else v
        raise SurveyDataError(f"{raw.at(i, header)}: Value {shown} is outside the scale "
                              f"{lo}..{hi} (whole numbers only).")


# ---------------------------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------------------------

def _open_raw(path: str | Path, sheet: str | None) -> tuple[_Raw, str | None, Path]:
    """Read a survey file's header and cells (any of the supported types); see
    :func:`read_survey` for the errors."""
    p = Path(path)
    if not p.exists():
        raise SurveyDataError(f"{p}: Survey file not found.")
    if not p.is_file():
        raise SurveyDataError(f"{p}: Not a regular file (a folder, device or pipe); give a "
                              ".xlsx, .csv or .sav file.")
    if p.stat().st_size > MAX_SURVEY_BYTES:
        raise SurveyDataError(f"{p}: The file is larger than {MAX_SURVEY_BYTES // 2**30} GB; "
                              "split it or keep only the columns the spec uses.")
    try:
        with open(p, "rb"):  # read-only, as every later access
            pass
    except OSError as exc:
        raise SurveyDataError(f"{p}: The file cannot be opened ({exc.strerror or exc}); check "
                              "its permissions or close the program that locks it.") from None
    ext = p.suffix.lower()
    chosen_sheet = None
    try:
        if ext in (".xlsx", ".xlsm"):
            raw, chosen_sheet = _read_xlsx(p, sheet)
        elif ext == ".csv":
            raw = _read_csv(p)
        elif ext == ".sav":
            raw = _read_sav(p)
        elif ext in (".yaml", ".yml", ".lav"):
            raise SurveyDataError(f"{p}: This is a spec, not a survey; give the survey (.xlsx, "
                                  ".csv or .sav) as the data and the spec with --spec.")
        else:
            raise SurveyDataError(f"{p}: Unsupported file type {p.suffix!r} (use .xlsx, .csv or "
                                  ".sav).")
    except PermissionError:
        raise SurveyDataError(f"{p}: Permission denied.") from None
    if ext != ".xlsx" and sheet is not None and ext != ".xlsm":
        raise SurveyDataError(f"{p}: A sheet was given but the file is not an Excel workbook.")
    if not any(raw.header):
        raise SurveyDataError(f"{raw.where}: The header row is empty.")
    n = len(raw.columns[0]) if raw.columns else 0
    if n == 0:
        raise SurveyDataError(f"{raw.where}: The file has a header but no data rows.")
    return raw, chosen_sheet, p



@dataclass(frozen=True)
class SurveyTable:
    """A survey file's cells as read, before any spec is applied (for drafting a spec and
    for writing the cleaned data).

    Attributes
    ----------
    header : tuple of str
        The header row.
    texts : tuple of str
        Question texts of a second header row (Qualtrics), else empty strings.
    columns : tuple of tuple
        Each column's cells: numbers, text or None (blank).
    where : str
        File (and sheet) for messages.
    sheet : str or None
        The worksheet read (xlsx).
    first_row : int
        The row number a spreadsheet shows for the first respondent (2, or 4 for Qualtrics).
    row_word : str
        "row" ("case" for SPSS files).
    """

    header: tuple[str, ...]
    texts: tuple[str, ...]
    columns: tuple[tuple[Any, ...], ...]
    where: str
    sheet: str | None
    first_row: int
    row_word: str = "row"

    @property
    def n_rows(self) -> int:
        """Number of respondents."""
        return len(self.columns[0]) if self.columns else 0


def read_table(path: str | Path, sheet: str | None = None) -> SurveyTable:
    """Read a survey file's header and cells without a spec.

    The same readers and checks as :func:`read_survey` (file types, size limits, encodings,
    the Qualtrics header rows); blank cells are None.

    Raises
    ------
    SurveyDataError
        As :func:`read_survey`, for a file that cannot be read.
    """
    raw, chosen, _ = _open_raw(path, sheet)
    columns = tuple(tuple(_labels(raw, col)) for col in raw.columns)
    return SurveyTable(tuple(raw.header), tuple(raw.texts), columns, raw.where, chosen,
                       raw.row_offset, raw.row_word)


def read_survey(path: str | Path, spec: Spec, sheet: str | None = None,
                id_column: str | None = None, *, anonymous: bool = False) -> SurveyData:
    """Read a survey file and code its item answers as numbers.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx``, ``.csv`` or ``.sav`` file. The first row (xlsx, csv) is the header.
    spec : Spec
        The model spec; its items name the columns to read and its scale the valid answers.
        With a spec from a lavaan file (no scale), any real number is accepted.
    sheet : str, optional
        Worksheet to read (xlsx). By default the first sheet not named "codebook", so a
        workbook whose first sheet is a codebook still yields its data sheet.
    id_column : str, optional
        Name of the respondent-id column. By default the first of ``id``, ``序号``, ``编号``,
        ``respondent``, ``respondent_id`` (any case) present; otherwise ids are 1..n.
    anonymous : bool
        Leave the respondent ids out (they are often phone numbers or account names): the id
        column is read neither as ids nor as an extra column, and each respondent is named by
        the row of the file it stands in (``row``, as in error messages).

    Returns
    -------
    SurveyData
        Items as floats (NaN missing, reverse-keyed items recoded), ids, the other columns,
        a codebook and warnings.

    Raises
    ------
    SurveyDataError
        One line naming the file (and sheet, row and column where it applies) if the file is
        missing, empty or not of its type, a sheet is missing, item columns are missing or
        duplicated, or an answer is unknown text, not finite, not a whole number or outside the
        scale. Rows are numbered as a spreadsheet user sees them (header = row 1); SPSS cases
        from 1.

    Notes
    -----
    Column matching tries, per item code, an exact header, then a case-insensitive one, then a
    header starting with the code followed by a character that is not an ASCII letter, digit or
    "_" (after an optional question number such as ``"1、"``): ``"FIN1. 政府..."`` matches
    FIN1 but ``"FIN10"`` does not. Texts in :data:`MISSING_TOKENS` (e.g. Wenjuanxing's
    "(跳过)") are missing answers. For ``.sav`` files item columns are read as numbers and the
    value labels are applied to the other columns.

    Examples
    --------
    >>> spec = load_spec("specs/gcrm.yaml")                               # doctest: +SKIP
    >>> survey = read_survey("surveys/gcrm_synthetic.xlsx", spec)          # doctest: +SKIP
    >>> survey.data.shape                                                  # doctest: +SKIP
    (600, 33)
    """
    raw, chosen_sheet, p = _open_raw(path, sheet)
    n = len(raw.columns[0])
    if id_column is None and spec.survey.id is not None:
        id_column = spec.survey.id
    codes = spec.item_codes
    found = _match_columns(raw, spec)
    taken = set(found.values())
    id_j = _find_id(raw, id_column, taken)
    if id_j is not None and id_j in taken:
        raise SurveyDataError(f"{raw.where}: The id column {raw.header[id_j]!r} is also an item "
                              "column.")

    data = {}
    n_text = 0
    for code in codes:
        j = found[code]
        x, k = _convert_column(raw.columns[j], spec, raw, raw.header[j])
        _check_values(x, spec, raw, raw.header[j])
        n_text += k
        item = spec.item(code)
        if item.reverse and spec.scale is not None:
            x = spec.scale.min + spec.scale.max - x
        data[code] = x
    frame = pd.DataFrame(data, columns=list(codes), dtype=float)

    warnings: list[str] = []
    if anonymous:
        ids = pd.Series(np.arange(n) + raw.row_offset, name=raw.row_word)
    elif id_j is not None:
        ids = pd.Series(_labels(raw, raw.columns[id_j]), name=raw.header[id_j] or "id")
        dup = ids[ids.duplicated(keep=False) & ids.notna()]
        if len(dup):
            warnings.append(f"{raw.where}: {dup.nunique()} respondent id(s) appear more than "
                            f"once (e.g. {dup.iloc[0]!r}).")
    else:
        ids = pd.Series(np.arange(1, n + 1), name="id")

    value_labels = raw.value_labels
    extra_cols = {}
    extra_index: dict[str, int] = {}
    seen: dict[str, int] = {}
    for j, h in enumerate(raw.header):
        if j in taken or j == id_j:
            continue
        name = h or f"column{j + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        col = _labels(raw, raw.columns[j])
        if h in value_labels:
            mapping = value_labels[h]
            col = [mapping.get(v, v) for v in col]
        extra_cols[name] = col
        extra_index[name] = j
    extra = pd.DataFrame(extra_cols, index=pd.RangeIndex(n))

    blank = np.isnan(frame.to_numpy())
    n_missing = int(np.count_nonzero(blank))
    if n_missing:
        warnings.append(f"{raw.where}: {n_missing} item answer(s) are missing "
                        f"({100 * n_missing / frame.size:.2f}% of cells).")
    empty_rows = blank.all(axis=1)
    if empty_rows.any():
        first = int(np.argmax(empty_rows))
        warnings.append(f"{raw.where}: {int(empty_rows.sum())} respondent(s) answered no item "
                        f"(first at {raw.row_word} {first + raw.row_offset}).")

    smin = spec.scale.min if spec.scale is not None else None
    smax = spec.scale.max if spec.scale is not None else None
    codebook = pd.DataFrame({
        "item": list(codes),
        "column": [raw.header[found[c]] for c in codes],
        "construct": [spec.item(c).construct for c in codes],
        "zh": [spec.item(c).zh for c in codes],
        "en": [spec.item(c).en for c in codes],
        "reverse": [spec.item(c).reverse for c in codes],
        "scale_min": [smin] * len(codes),
        "scale_max": [smax] * len(codes),
    })
    return SurveyData(data=frame, ids=ids, extra=extra, source=p, sheet=chosen_sheet,
                      codebook=codebook, n_text_mapped=n_text, warnings=tuple(warnings),
                      first_row=raw.row_offset,
                      questions={name: raw.texts[j] for name, j in extra_index.items()
                                 if raw.texts[j]})
