"""Property-based tests of the loaders: whatever bytes, YAML, CSV or model text a user feeds
them, the spec and survey loaders either load it or raise one of our own errors
(:class:`~riskmodel_sem.errors.RiskModelError`), which the command line turns into one line and
exit status 2, never an internal error.
"""

from __future__ import annotations

import copy
import io
import math
import time
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel_sem.errors import RiskModelError
from riskmodel_sem.survey.spec import Spec, load_spec
from riskmodel_sem.survey.readers import SurveyData, read_survey
from riskmodel_sem.sem.syntax import build_partable, parse_syntax

from conftest import GCRM_SPEC as GCRM

SMALL = """\
name: small
title: {zh: 小, en: Small}
language: zh
scale:
  min: 1
  max: 5
  labels:
    - {value: 1, zh: 非常不同意, en: Strongly disagree}
    - {value: 3, zh: 一般, en: Neutral, aliases: [中立]}
    - {value: 5, zh: 非常同意, en: Strongly agree}
constructs:
  - code: A
    items: [{code: A1}, {code: A2, reverse: true}, {code: A3}]
"""

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def small(folder) -> Spec:
    path = folder / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return load_spec(path)


@pytest.fixture(scope="module")
def lav_spec(folder) -> Spec:
    path = folder / "small.lav"
    path.write_text("A =~ A1 + A2 + A3\n", encoding="utf-8")
    return load_spec(path)


def _survey_or_our_error(path: Path, spec: Spec, **kwargs) -> None:
    try:
        result = read_survey(path, spec, **kwargs)
    except RiskModelError as exc:
        text = str(exc)
        assert text and "\n" not in text and text.endswith("."), text
        return
    assert isinstance(result, SurveyData)
    assert list(result.data.columns) == list(spec.item_codes)
    values = result.data.to_numpy()
    assert not ((values == math.inf) | (values == -math.inf)).any()
    if spec.scale is not None:
        present = values[~(values != values)]
        assert ((present >= spec.scale.min) & (present <= spec.scale.max)).all()


def _spec_or_our_error(path: Path) -> None:
    try:
        result = load_spec(path)
    except RiskModelError as exc:
        text = str(exc)
        assert text and text.endswith("."), text
        assert str(path.name) in text, text
        return
    assert isinstance(result, Spec)
    result.model_syntax()  # a loaded spec can always produce its lavaan syntax


# ---------------------------------------------------------------------------------------------
# random bytes
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".sav"])
def test_random_bytes_as_survey(folder, small, suffix):
    path = folder / f"random{suffix}"

    @FUZZ
    @given(st.binary(max_size=4096))
    def check(blob):
        path.write_bytes(blob)
        _survey_or_our_error(path, small)

    check()


def test_random_bytes_in_a_zip_as_xlsx(folder, small):
    """Bytes that pass the zip check: random members inside a real zip file."""
    import zipfile

    path = folder / "zipped.xlsx"
    names = st.sampled_from(["[Content_Types].xml", "xl/workbook.xml", "_rels/.rels",
                             "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml",
                             "xl/sharedStrings.xml", "xl/styles.xml"])

    @FUZZ
    @given(st.dictionaries(names, st.binary(max_size=512), max_size=7))
    def check(members):
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        _survey_or_our_error(path, small)

    check()


@pytest.mark.parametrize("suffix", [".yaml", ".lav"])
def test_random_bytes_as_spec(folder, suffix):
    path = folder / f"random{suffix}"

    @FUZZ
    @given(st.binary(max_size=4096))
    def check(blob):
        path.write_bytes(blob)
        _spec_or_our_error(path)

    check()


# ---------------------------------------------------------------------------------------------
# random YAML
# ---------------------------------------------------------------------------------------------

_SCALARS = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
            | st.sampled_from(["zh", "en", "A", "A1", "B ~ A", "1", "path", "one_factor"]))
_KEYS = st.sampled_from(["name", "title", "language", "scale", "constructs", "dimensions",
                         "structural", "hypotheses", "effects", "population", "alternatives",
                         "code", "items", "min", "max", "labels", "value", "zh", "en",
                         "factors", "lhs", "rhs", "kind", "id", "paths"]) | st.text(max_size=8)
_DOCS = st.recursive(_SCALARS,
                     lambda children: st.lists(children, max_size=5)
                     | st.dictionaries(_KEYS, children, max_size=6),
                     max_leaves=40)


@pytest.mark.slow  # hundreds of generated specs; the full suite runs it
def test_random_yaml_documents(folder):
    path = folder / "doc.yaml"

    @FUZZ
    @given(_DOCS)
    def check(doc):
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        _spec_or_our_error(path)

    check()


def _paths(node, prefix=()):
    """Every key path into a nested dict/list, the root excluded."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


@pytest.mark.slow  # hundreds of generated specs; the full suite runs it
def test_mutated_gcrm_spec(folder):
    """The paper's spec with one value anywhere replaced by a random one, or deleted."""
    base = yaml.safe_load(GCRM.read_text(encoding="utf-8"))
    every_path = list(_paths(base))
    path = folder / "mutated.yaml"

    @FUZZ
    @given(st.sampled_from(every_path), _DOCS, st.booleans())
    def check(where, value, delete):
        doc = copy.deepcopy(base)
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        if delete:
            del parent[where[-1]]
        else:
            parent[where[-1]] = value
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        _spec_or_our_error(path)

    check()


# ---------------------------------------------------------------------------------------------
# random CSV and workbook contents
# ---------------------------------------------------------------------------------------------

_CELLS = (st.sampled_from(["1", "2", "3", "5", "0", "6", "3.5", "", "nan", "NA", "inf", "-inf",
                           "1e999", "同意", "非常同意", "中立", "5 非常同意", "非常同意(1)",
                           "(跳过)", "=1+1", '"', "\"a,b\"", "\n"])
          | st.text(max_size=6))
_HEADERS = st.sampled_from(["A1", "A2", "A3", "a1", "1、A2 第二题", "A10", "id", "序号", "",
                            "性别"]) | st.text(max_size=5)


def test_random_csv_text(folder, small, lav_spec):
    path = folder / "random.csv"

    @FUZZ
    @given(st.lists(_HEADERS, min_size=1, max_size=6),
           st.lists(st.lists(_CELLS, max_size=7), max_size=12),
           st.sampled_from(["utf-8", "utf-8-sig", "gbk"]), st.booleans())
    def check(header, rows, encoding, with_lav):
        text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
        try:
            blob = text.encode(encoding)
        except UnicodeEncodeError:
            blob = text.encode("utf-8")
        path.write_bytes(blob)
        _survey_or_our_error(path, lav_spec if with_lav else small)

    check()


def test_random_csv_free_text(folder, small):
    path = folder / "free.csv"

    @FUZZ
    @given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list(',"\n\r;A123')),
                   max_size=300))
    def check(text):
        path.write_bytes(("A1,A2,A3\n" + text).encode("utf-8", errors="surrogatepass"))
        _survey_or_our_error(path, small)

    check()


def test_random_workbook_cells(folder, small):
    path = folder / "cells.xlsx"
    values = (_CELLS | st.integers(-10, 10) | st.floats(allow_nan=True, allow_infinity=False)
              | st.booleans() | st.none())

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(_HEADERS, min_size=1, max_size=5),
           st.lists(st.lists(values, max_size=6), max_size=8),
           st.sampled_from([None, "Sheet1", "codebook", "data"]))
    def check(header, rows, sheet):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Sheet1"
        for row in [header, *rows]:
            ws.append([v if not isinstance(v, str) else
                       "".join(ch for ch in v if ch.isprintable()) for v in row])
        buf = io.BytesIO()
        wb.save(buf)
        path.write_bytes(buf.getvalue())
        _survey_or_our_error(path, small, sheet=sheet)

    check()


def test_workbooks_with_far_cells(folder, small):
    """A value or a formatted blank anywhere in the sheet: read quickly or refused in one line,
    never a hang or an exhausted memory."""
    from openpyxl.styles import Font

    path = folder / "far.xlsx"

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.integers(1, 1_048_576), st.integers(1, 16_384),
           st.sampled_from(["value", "text", "blank"]))
    def check(row, col, kind):
        wb = openpyxl.Workbook()
        ws = wb.active
        for r in [["A1", "A2", "A3"], [1, 2, 3], [4, 5, 3], [1, 2, 5]]:
            ws.append(r)
        cell = ws.cell(row=row, column=col)
        if kind == "blank":
            cell.font = Font(bold=True)
        else:
            cell.value = 5 if kind == "value" else "备注"
        buf = io.BytesIO()
        wb.save(buf)
        path.write_bytes(buf.getvalue())
        start = time.perf_counter()
        _survey_or_our_error(path, small)
        assert time.perf_counter() - start < 10  # a hang, not a speed claim

    check()


def test_csv_with_rows_in_mixed_encodings(folder, small):
    """UTF-8 with some rows in GBK: refused with a row and column, or read when the GBK bytes
    happen to be valid UTF-8; never silently decoded as garbled text."""
    path = folder / "mixed.csv"
    rows = st.lists(st.tuples(st.sampled_from(["同意", "非常同意", "一般", "3", "4"]),
                              st.sampled_from(["utf-8", "gbk"])), min_size=1, max_size=8)

    @FUZZ
    @given(rows)
    def check(cells):
        lines = ["编号,A1,A2,A3".encode("utf-8")]
        for i, (answer, enc) in enumerate(cells, start=1):
            lines.append(f"{i},{answer},2,3".encode(enc))
        path.write_bytes(b"\n".join(lines) + b"\n")
        try:
            survey = read_survey(path, small)
        except RiskModelError as exc:
            text = str(exc)
            assert "mixed.csv" in text and "\n" not in text and text.endswith("."), text
            if any(enc == "gbk" and answer[0] > "9" for answer, enc in cells):
                assert "row" in text
            return
        assert "编号" in survey.ids.name or survey.ids.name == "id"

    check()


# ---------------------------------------------------------------------------------------------
# random model syntax
# ---------------------------------------------------------------------------------------------

_TOKENS = st.sampled_from(["f", "g", "x1", "x2", "x3", " ", "=~", "~", "~~", ":=", "==", "<", ">",
                           "+", "*", "1", "NA", "0.5", "a", "b", "c(", ")", ",", "\n", "#", ";",
                           "start(", "label(", "->", "|", "<~", "-", "'", "é"])


def test_random_lavaan_text(folder):
    path = folder / "random.lav"

    @FUZZ
    @given(st.lists(_TOKENS, max_size=40).map("".join))
    def check(text):
        path.write_text(text, encoding="utf-8")
        _spec_or_our_error(path)
        try:
            build_partable(parse_syntax(text, "random.lav"), source="random.lav")
        except RiskModelError as exc:
            assert "random.lav" in str(exc)

    check()
