"""Bad input, analysis faults and hostile content, tried as a new user would: through the
command line (``main(argv)`` and a real ``python -m riskmodel_sem`` process).

Every user mistake must end with exit status 2, exactly one line on stderr starting with
``riskmodel-sem: error:`` that names the file, sheet, row, column or spec line, no traceback,
the input files unchanged (bytes and modification time) and nothing written to ``--out``: an
existing report keeps its content, an unrelated file is untouched and no temporary file is
left behind.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from riskmodel_sem.survey import readers as survey_module
from riskmodel_sem.cli import main

from conftest import GCRM_SPEC, GCRM_SURVEY, ROOT

SPEC = """\
name: small
title: {zh: 小模型, en: Small model}
language: en
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
  - code: B
    items:
      - {code: B1}
      - {code: B2}
      - {code: B3}
structural:
  - B ~ A
hypotheses:
  - {id: H1, lhs: B, rhs: A, sign: "+"}
"""

LAV = "A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\nB ~ A\n"
OLD_REPORT = "<html><body>the previous report</body></html>\n"
NOTES = "my own notes, not a report\n"


def _answers(n: int = 160, seed: int = 11) -> pd.DataFrame:
    """Five-point answers of two correlated factors, three items each (A2 reverse-keyed)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.6 * a + 0.8 * rng.normal(size=n)

    def item(f):
        return np.clip(np.round(3 + 0.9 * f + 0.7 * rng.normal(size=n)), 1, 5).astype(int)

    return pd.DataFrame({"id": np.arange(1, n + 1), "A1": item(a), "A2": 6 - item(a),
                         "A3": item(a), "B1": item(b), "B2": item(b), "B3": item(b),
                         "district": rng.choice(["north", "south"], size=n)})


def _write_xlsx(path: Path, frame: pd.DataFrame, sheet: str = "Sheet1") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([v.item() if hasattr(v, "item") else v for v in row])
    wb.save(path)
    return path


@pytest.fixture()
def env(tmp_path):
    """Inputs written as a user would have them, and an output folder with a previous report
    and an unrelated file."""
    spec = tmp_path / "model.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    lav = tmp_path / "model.lav"
    lav.write_text(LAV, encoding="utf-8")
    good = tmp_path / "survey.csv"
    _answers().to_csv(good, index=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text(OLD_REPORT, encoding="utf-8")
    (out / "notes.txt").write_text(NOTES, encoding="utf-8")
    return dict(tmp=tmp_path, spec=spec, lav=lav, good=good, out=out)


def _snapshot(paths) -> dict:
    return {Path(p): (Path(p).read_bytes(), Path(p).stat().st_mtime_ns)
            for p in paths if Path(p).is_file()}


def _assert_out_untouched(out: Path) -> None:
    names = sorted(p.name for p in out.iterdir())
    assert names == ["notes.txt", "report.html"], names
    assert (out / "report.html").read_text(encoding="utf-8") == OLD_REPORT
    assert (out / "notes.txt").read_text(encoding="utf-8") == NOTES


def _fails_cleanly(argv, needles, capsys, inputs, out=None) -> str:
    """Run ``main(argv)``; check exit 2, one error line containing ``needles``, inputs
    unchanged and ``out`` untouched. Returns the line."""
    before = _snapshot(inputs)
    assert before, "the case should have at least one input file"
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert code == 2, captured.err
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert line.startswith("riskmodel-sem: error: "), line
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    for needle in needles:
        assert needle in line, (needle, line)
    assert line.endswith("."), line
    assert _snapshot(inputs) == before
    if out is not None:
        _assert_out_untouched(out)
    return line


# ---------------------------------------------------------------------------------------------
# 1. user mistakes: survey files
# ---------------------------------------------------------------------------------------------

def test_missing_survey_file(env, capsys):
    missing = env["tmp"] / "no_such_survey.xlsx"
    _fails_cleanly(["fit", missing, "--spec", env["spec"], "--out", env["out"]],
                   ["no_such_survey.xlsx", "not found"], capsys, [env["spec"]], env["out"])
    assert not missing.exists()


@pytest.mark.parametrize("name", ["locked.xlsx", "locked.csv"])
def test_unreadable_survey(env, capsys, monkeypatch, name):
    """Permission denied (simulated: tests run as root, where chmod does not stop reading)."""
    data = env["tmp"] / name
    if name.endswith(".xlsx"):
        _write_xlsx(data, _answers())
    else:
        _answers().to_csv(data, index=False)

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(survey_module, "open", denied, raising=False)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   [name, "Permission denied"], capsys, [data, env["spec"]], env["out"])


def test_unreadable_spec(env, capsys, monkeypatch):
    from riskmodel_sem.survey import spec as spec_module

    def denied(path, *args, **kwargs):  # as root, file permissions cannot deny a read
        if Path(path).name == "model.yaml":
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(spec_module, "open", denied, raising=False)
    _fails_cleanly(["fit", env["good"], "--spec", env["spec"], "--out", env["out"]],
                   ["model.yaml", "Permission denied"], capsys, [env["good"]], env["out"])


def test_empty_csv(env, capsys):
    empty = env["tmp"] / "empty.csv"
    empty.write_bytes(b"")
    _fails_cleanly(["fit", empty, "--spec", env["spec"], "--out", env["out"]],
                   ["empty.csv", "empty"], capsys, [empty, env["spec"]], env["out"])


def test_header_only_csv(env, capsys):
    header = env["tmp"] / "header.csv"
    header.write_text("id,A1,A2,A3,B1,B2,B3\n", encoding="utf-8")
    _fails_cleanly(["fit", header, "--spec", env["spec"], "--out", env["out"]],
                   ["header.csv", "no data rows"], capsys, [header, env["spec"]], env["out"])


def test_empty_xlsx_sheet(env, capsys):
    book = env["tmp"] / "blank.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "答卷"
    wb.save(book)
    _fails_cleanly(["fit", book, "--spec", env["spec"], "--out", env["out"]],
                   ["blank.xlsx", "sheet '答卷'", "empty"], capsys, [book, env["spec"]],
                   env["out"])


def test_text_file_named_xlsx(env, capsys):
    fake = env["tmp"] / "answers.xlsx"
    fake.write_text("id,A1,A2\n1,2,3\n", encoding="utf-8")
    _fails_cleanly(["fit", fake, "--spec", env["spec"], "--out", env["out"]],
                   ["answers.xlsx", "not an Excel .xlsx workbook"], capsys,
                   [fake, env["spec"]], env["out"])


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".sav"])
def test_random_bytes(env, capsys, suffix):
    junk = env["tmp"] / f"junk{suffix}"
    junk.write_bytes(bytes([0, 255, 7, 128]) + random.Random(3).randbytes(2000))
    _fails_cleanly(["fit", junk, "--spec", env["spec"], "--out", env["out"]],
                   [f"junk{suffix}"], capsys, [junk, env["spec"]], env["out"])


def test_damaged_workbook_inside_a_valid_zip(env, capsys):
    """A real workbook whose sheet XML is cut in half: openpyxl fails while reading rows."""
    good = _write_xlsx(env["tmp"] / "good.xlsx", _answers())
    broken = env["tmp"] / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]
            dst.writestr(info, data)
    _fails_cleanly(["fit", broken, "--spec", env["spec"], "--out", env["out"]],
                   ["broken.xlsx", "sheet 'Sheet1'", "damaged"], capsys,
                   [broken, env["spec"]], env["out"])


def test_missing_sheet(env, capsys):
    book = _write_xlsx(env["tmp"] / "survey.xlsx", _answers(), sheet="Data")
    _fails_cleanly(["fit", book, "--sheet", "Answers", "--spec", env["spec"], "--out",
                    env["out"]],
                   ["survey.xlsx", "'Answers'", "Data"], capsys, [book, env["spec"]],
                   env["out"])


def test_missing_item_column(env, capsys):
    data = env["tmp"] / "fewcols.csv"
    _answers().drop(columns=["B3"]).to_csv(data, index=False)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["fewcols.csv", "B3", "Missing item column"], capsys,
                   [data, env["spec"]], env["out"])


def test_duplicated_item_column(env, capsys):
    frame = _answers()
    frame.insert(3, "A2 again", frame["A2"])
    frame = frame.rename(columns={"A2 again": "A2"})
    data = _write_xlsx(env["tmp"] / "dup.xlsx", frame)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["dup.xlsx", "A2", "more than one column"], capsys, [data, env["spec"]],
                   env["out"])


def test_non_numeric_answer_names_sheet_row_and_column(env, capsys):
    frame = _answers().astype(object)
    frame.loc[9, "B2"] = "sometimes"  # row 11 of the sheet (header is row 1)
    data = _write_xlsx(env["tmp"] / "text.xlsx", frame)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["text.xlsx", "sheet 'Sheet1'", "row 11", "'B2'", "sometimes"], capsys,
                   [data, env["spec"]], env["out"])


def test_out_of_scale_answer_in_gbk_csv(env, capsys):
    frame = _answers()
    frame.loc[4, "A3"] = 7
    frame = frame.rename(columns={"district": "街道"})
    frame["街道"] = np.where(frame["街道"] == "north", "祖庙街道", "张槎街道")
    data = env["tmp"] / "gbk.csv"
    data.write_bytes(frame.to_csv(index=False).encode("gbk"))
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["gbk.csv", "row 6", "'A3'", "7", "outside the scale 1..5"], capsys,
                   [data, env["spec"]], env["out"])


@pytest.mark.parametrize("value", ["inf", "-Infinity", "1e999"])
def test_infinite_value(env, capsys, value):
    frame = _answers().astype(object)
    frame.loc[0, "B1"] = value
    data = env["tmp"] / "inf.csv"
    frame.to_csv(data, index=False)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["inf.csv", "row 2", "'B1'", "not finite"], capsys, [data, env["spec"]],
                   env["out"])


def test_item_without_variance_names_its_column(env, capsys):
    frame = _answers().rename(columns={"B2": "B2 政府回应"})
    frame["B2 政府回应"] = 4
    data = _write_xlsx(env["tmp"] / "flat.xlsx", frame)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["flat.xlsx", "sheet 'Sheet1'", "'B2 政府回应'", "B2", "(4)",
                    "no variance"], capsys, [data, env["spec"]], env["out"])


def test_first_item_without_variance_in_column_order_is_named(env, capsys):
    """With FIML the check looks at the given answers: B1 holds one answer (3) and blanks,
    B3 one answer; the first of them in the file's order is named, and A3, with blanks and
    several answers, is not taken for an item without variance."""
    frame = _answers().astype({"A3": float, "B1": float})
    frame["B1"] = 3.0
    frame.loc[::4, "B1"] = np.nan
    frame["B3"] = 5
    frame.loc[::5, "A3"] = np.nan
    data = env["tmp"] / "flat_fiml.csv"
    frame.to_csv(data, index=False)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--missing", "fiml", "--out", env["out"]],
                   ["flat_fiml.csv", "'B1'", "(3)", "no variance"], capsys, [data, env["spec"]],
                   env["out"])


def test_reverse_keyed_item_without_variance_shows_the_answer_as_written(env, capsys):
    frame = _answers()
    frame["A2"] = 1  # reverse-keyed: coded 5, but the file says 1
    data = env["tmp"] / "flat.csv"
    frame.to_csv(data, index=False)
    _fails_cleanly(["validate", data, "--spec", env["spec"], "--out", env["out"]],
                   ["flat.csv", "'A2'", "(1)", "no variance"], capsys, [data, env["spec"]],
                   env["out"])


def test_item_without_variance_within_a_group(env, capsys):
    frame = _answers()
    frame.loc[frame["district"] == "south", "A1"] = 2
    data = env["tmp"] / "grouped.csv"
    frame.to_csv(data, index=False)
    _fails_cleanly(["invariance", data, "--spec", env["spec"], "--group", "district", "--out",
                    env["out"]],
                   ["grouped.csv", "'A1'", "group 'south'", "'district'"], capsys,
                   [data, env["spec"]], env["out"])


def test_copied_item_column(env, capsys):
    frame = _answers()
    frame["B3"] = frame["B2"]
    data = env["tmp"] / "copied.csv"
    frame.to_csv(data, index=False)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["copied.csv", "'B2'", "'B3'", "perfectly correlated"], capsys,
                   [data, env["spec"]], env["out"])


def test_sum_column_read_as_item(env, capsys):
    frame = _answers()
    frame["B3"] = frame["B1"] + frame["B2"]  # a total column; the .lav spec has no 1..5 scale
    data = env["tmp"] / "summed.csv"
    frame.to_csv(data, index=False)
    _fails_cleanly(["fit", data, "--spec", env["lav"], "--out", env["out"]],
                   ["summed.csv", "linear combinations"], capsys, [data, env["lav"]],
                   env["out"])


def test_fewer_rows_than_the_model_needs(env, capsys):
    data = env["tmp"] / "tiny.csv"
    _answers().head(5).to_csv(data, index=False)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["tiny.csv", "Only 5 complete rows", "6 items", "at least 7"], capsys,
                   [data, env["spec"]], env["out"])


def test_fewer_complete_rows_than_the_model_needs(env, capsys):
    frame = _answers(n=12).astype(object)
    frame.loc[::2, "A1"] = ""
    data = env["tmp"] / "gappy.csv"
    frame.to_csv(data, index=False)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["gappy.csv", "Only 6 complete rows"], capsys, [data, env["spec"]],
                   env["out"])


def test_workbook_over_the_uncompressed_size_cap(env, capsys, monkeypatch):
    """The cap is checked from the zip directory before openpyxl opens the file."""
    book = _write_xlsx(env["tmp"] / "padded.xlsx", _answers())
    with zipfile.ZipFile(book, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * 3_000_000)
    monkeypatch.setattr(survey_module, "MAX_XLSX_BYTES", 2_000_000)
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(a))
    _fails_cleanly(["fit", book, "--spec", env["spec"], "--out", env["out"]],
                   ["padded.xlsx", "MB", "limit"], capsys, [book, env["spec"]], env["out"])
    assert opened == []


def test_zip_bomb_workbook(env, capsys):
    """A 1 MB workbook that would unpack to 520 MB is refused at the default cap."""
    bomb = env["tmp"] / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(520):
                member.write(chunk)
    assert bomb.stat().st_size < 5_000_000
    _fails_cleanly(["fit", bomb, "--spec", env["spec"], "--out", env["out"]],
                   ["bomb.xlsx", "520 MB", "500 MB"], capsys, [bomb, env["spec"]], env["out"])


# ---------------------------------------------------------------------------------------------
# 1. user mistakes: specs and model syntax
# ---------------------------------------------------------------------------------------------

def test_missing_spec(env, capsys):
    _fails_cleanly(["fit", env["good"], "--spec", env["tmp"] / "nospec.yaml", "--out",
                    env["out"]],
                   ["nospec.yaml", "not found"], capsys, [env["good"]], env["out"])


def test_invalid_yaml_names_the_line(env, capsys):
    bad = env["tmp"] / "bad.yaml"
    bad.write_text(SPEC.replace("language: en", "language: [en"), encoding="utf-8")
    _fails_cleanly(["fit", env["good"], "--spec", bad, "--out", env["out"]],
                   ["bad.yaml, line 4", "Invalid YAML"], capsys, [bad, env["good"]],
                   env["out"])


def test_unknown_latent_in_yaml_names_line_and_key(env, capsys):
    bad = env["tmp"] / "unknown.yaml"
    bad.write_text(SPEC.replace("  - B ~ A", "  - B ~ C"), encoding="utf-8")
    _fails_cleanly(["fit", env["good"], "--spec", bad, "--out", env["out"]],
                   ["unknown.yaml, line 25", "structural[0]", "'C'"], capsys,
                   [bad, env["good"]], env["out"])


@pytest.mark.parametrize("text, needles", [
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 +* B3\n", ["line 2, column 15", "Nothing before '*'"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 B2 B3\n", ["line 2, column 6", "'+' missing"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3)\n", ["line 2, column 16", "'B3)'"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\nB ~ A +\n", ["line 3", "Empty term"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\nthis is not a model\n",
     ["line 3", "No lavaan operator"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\n  A -> B\n", ["line 3, column 5", "'->'"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\nB ~~~ A\n", ["line 3, column 3", "'~~~'"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3; B <~ A\n", ["line 2, column 22", "'<~'"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\nB ~ b*A\nind := b*c\n",
     ["line 4", "unknown parameter label(s) c"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\nB ~ b*A\nind := __import__('os')\n",
     ["line 4, column 8", "Cannot read the expression"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\nB ~ b*A\nind := b(1)\n",
     ["line 4, column 8", "Cannot read the expression 'b(1)'"]),
    ("A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\nB ~ b*A\nind := " + "-" * 20000 + "b\n",
     ["line 4, column 8", "nested too deeply"]),
], ids=["empty-modifier", "missing-plus", "stray-paren", "trailing-plus", "no-operator",
        "arrow", "triple-tilde", "formative", "unknown-label", "python-call", "call",
        "deep-expression"])
def test_malformed_lavaan_syntax_names_line_and_column(env, capsys, text, needles):
    bad = env["tmp"] / "bad.lav"
    bad.write_text(text, encoding="utf-8")
    _fails_cleanly(["fit", env["good"], "--spec", bad, "--out", env["out"]],
                   ["bad.lav", *needles], capsys, [bad, env["good"]], env["out"])


def test_number_with_exponent_in_a_definition(env, capsys):
    """``1e3`` is a number, not a label ``e3``: the model fits."""
    lav = env["tmp"] / "scaled.lav"
    lav.write_text(LAV.replace("B ~ A", "B ~ b*A\nbig := 1e3*b"), encoding="utf-8")
    out = env["tmp"] / "scaled.json"
    assert main(["fit", str(env["good"]), "--spec", str(lav), "--json", str(out)]) == 0
    capsys.readouterr()
    rows = {(r["lhs"], r["op"]): r for r in json.loads(out.read_text())["estimates"]}
    assert rows[("big", ":=")]["est"] == pytest.approx(1e3 * rows[("B", "~")]["est"],
                                                      rel=1e-12)


def test_unknown_variable_in_lavaan_model(env, capsys):
    bad = env["tmp"] / "typo.lav"
    bad.write_text("A =~ A1 + A2 + A3\nB =~ B1 + B2 + BB3\n", encoding="utf-8")
    _fails_cleanly(["fit", env["good"], "--spec", bad, "--out", env["out"]],
                   ["survey.csv", "BB3", "Missing item column"], capsys, [bad, env["good"]],
                   env["out"])


def test_spec_not_utf8(env, capsys):
    bad = env["tmp"] / "gbk.lav"
    bad.write_bytes("# 模型\n".encode("gbk") + LAV.encode())
    _fails_cleanly(["fit", env["good"], "--spec", bad, "--out", env["out"]],
                   ["gbk.lav", "not UTF-8"], capsys, [bad, env["good"]], env["out"])


# ---------------------------------------------------------------------------------------------
# 1. user mistakes: options and output paths
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("extra, needles", [
    (["--estimator", "GLS"], ["--estimator", "GLS"]),
    (["--bootstrap", "-10"], ["--bootstrap", "-10"]),
    (["--bootstrap", "lots"], ["--bootstrap", "lots"]),
    (["--jobs", "0"], ["--jobs", "0"]),
    (["--bootstrap", "1000000000"], ["--bootstrap", "at most 100000"]),
    (["--bootstrap", "1"], ["--bootstrap", "at least 40"]),
    (["--jobs", "10000"], ["--jobs", "cores this machine has"]),
    (["--missing", "pairwise"], ["--missing", "pairwise"]),
    (["--group", "region"], ["survey.csv", "'region'", "district"]),
    (["--seed", "-1"], ["--seed"]),
])
def test_invalid_option_values(env, capsys, extra, needles):
    _fails_cleanly(["fit", env["good"], "--spec", env["spec"], "--out", env["out"], *extra],
                   needles, capsys, [env["good"], env["spec"]], env["out"])


def test_unreachable_dask_scheduler(env, capsys):
    _fails_cleanly(["fit", env["good"], "--spec", env["spec"], "--out", env["out"],
                    "--bootstrap", "50", "--scheduler", "no-port-here"],
                   ["Dask scheduler", "'no-port-here'", "--scheduler"], capsys,
                   [env["good"], env["spec"]], env["out"])


def test_group_equal_without_group_fails_before_fitting(env, capsys, monkeypatch):
    from riskmodel_sem.sem import estimation

    monkeypatch.setattr(estimation, "fit_model", lambda *a, **k: pytest.fail("fitted"))
    _fails_cleanly(["fit", env["good"], "--spec", env["spec"], "--out", env["out"],
                    "--group-equal", "loadings"],
                   ["--group-equal", "--group"], capsys, [env["good"], env["spec"]], env["out"])


def test_unknown_duration_column(env, capsys):
    _fails_cleanly(["validate", env["good"], "--spec", env["spec"], "--out", env["out"],
                    "--duration", "seconds"],
                   ["survey.csv", "'seconds'", "district"], capsys, [env["good"], env["spec"]],
                   env["out"])


def test_survey_and_spec_swapped(env, capsys):
    _fails_cleanly(["fit", env["spec"], "--spec", env["good"], "--out", env["out"]],
                   ["survey.csv", "survey file, not a spec"], capsys,
                   [env["good"], env["spec"]], env["out"])
    book = _write_xlsx(env["tmp"] / "survey.xlsx", _answers())
    _fails_cleanly(["fit", env["lav"], "--spec", env["spec"], "--out", env["out"]],
                   ["model.lav", "spec, not a survey"], capsys, [book, env["spec"], env["lav"]],
                   env["out"])


def test_invariance_needs_two_groups(env, capsys):
    frame = _answers()
    frame["district"] = "north"
    data = env["tmp"] / "onegroup.csv"
    frame.to_csv(data, index=False)
    _fails_cleanly(["invariance", data, "--spec", env["spec"], "--group", "district", "--out",
                    env["out"]],
                   ["onegroup.csv", "'district'", "at least two"], capsys, [data, env["spec"]],
                   env["out"])


def test_out_is_an_existing_file(env, capsys):
    target = env["tmp"] / "results.txt"
    target.write_text("keep me\n", encoding="utf-8")
    _fails_cleanly(["fit", env["good"], "--spec", env["spec"], "--out", target],
                   ["results.txt", "not a folder"], capsys, [env["good"], env["spec"], target])


def test_out_below_a_file_cannot_be_created(env, capsys):
    """An unusable folder (tests run as root, where chmod does not stop writing)."""
    blocker = env["tmp"] / "blocker.txt"
    blocker.write_text("x\n", encoding="utf-8")
    _fails_cleanly(["fit", env["good"], "--spec", env["spec"], "--out", blocker / "sub"],
                   ["blocker.txt/sub", "Cannot create output folder"], capsys,
                   [env["good"], env["spec"], blocker])


def test_bad_out_fails_before_any_work(env, capsys, monkeypatch):
    """The demo takes a while: a bad --out is reported at once, as the only line."""
    from riskmodel_sem import commands

    monkeypatch.setattr(commands, "run_demo", lambda **k: pytest.fail("analysis ran"))
    target = env["tmp"] / "demo.txt"
    target.write_text("x\n", encoding="utf-8")
    _fails_cleanly(["demo", "--out", target], ["demo.txt", "not a folder"], capsys, [target])
    _fails_cleanly(["fit", env["good"], "--spec", env["spec"], "--json",
                    target / "deeper" / "r.json"],
                   ["demo.txt", "is a file"], capsys, [target, env["good"], env["spec"]])


def test_json_path_is_a_folder(env, capsys):
    _fails_cleanly(["fit", env["good"], "--spec", env["spec"], "--json", env["out"]],
                   [str(env["out"]), "is a folder"], capsys, [env["good"], env["spec"]],
                   env["out"])


def test_json_would_overwrite_the_survey(env, capsys):
    _fails_cleanly(["fit", env["good"], "--spec", env["spec"], "--json", env["good"]],
                   ["survey.csv", "replace the input file"], capsys,
                   [env["good"], env["spec"]], env["out"])


def test_out_folder_holding_an_input_named_like_a_report(env, capsys):
    data = env["tmp"] / "report.xlsx"
    _write_xlsx(data, _answers())
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["tmp"]],
                   ["report.xlsx", "replace the input file"], capsys, [data, env["spec"]])
    assert not (env["tmp"] / "results.json").exists()


def test_debug_shows_the_traceback(env, capsys):
    missing = env["tmp"] / "nothing.csv"
    code = main(["fit", str(missing), "--spec", str(env["spec"]), "--debug"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" in err and "SurveyDataError" in err
    assert err.rstrip().splitlines()[-1].startswith("riskmodel-sem: error: ")


# ---------------------------------------------------------------------------------------------
# 1. as a real process: no traceback, status 2, one line
# ---------------------------------------------------------------------------------------------

def _process(argv, cwd):
    return subprocess.run([sys.executable, "-m", "riskmodel_sem", *map(str, argv)],
                          capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("case", ["text_xlsx", "bad_lav", "out_is_file", "flat_item"])
def test_as_a_process(env, case):
    tmp, out = env["tmp"], env["out"]
    if case == "text_xlsx":
        data = tmp / "renamed.xlsx"
        data.write_text("not a workbook\n", encoding="utf-8")
        argv, needle = ["fit", data, "--spec", env["spec"], "--out", out], "renamed.xlsx"
    elif case == "bad_lav":
        lav = tmp / "broken.lav"
        lav.write_text("A =~ A1 + A2 + A3\nB => B1 + B2 + B3\n", encoding="utf-8")
        argv, needle = ["fit", env["good"], "--spec", lav, "--out", out], "line 2, column 3"
    elif case == "out_is_file":
        target = tmp / "taken.txt"
        target.write_text("x\n", encoding="utf-8")
        argv, needle = ["fit", env["good"], "--spec", env["spec"], "--out", target], "taken.txt"
    else:
        frame = _answers()
        frame["B1"] = 3
        data = tmp / "flat.csv"
        frame.to_csv(data, index=False)
        argv, needle = ["fit", data, "--spec", env["spec"], "--out", out], "'B1'"
    inputs = [a for a in argv if isinstance(a, Path) and a.is_file()]
    before = _snapshot(inputs)
    proc = _process(argv, cwd=tmp)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1 and lines[0].startswith("riskmodel-sem: error: "), proc.stderr
    assert needle in lines[0]
    assert _snapshot(inputs) == before
    _assert_out_untouched(out)


# ---------------------------------------------------------------------------------------------
# 2. analysis faults
# ---------------------------------------------------------------------------------------------

def _continuous(n=400, seed=7) -> pd.DataFrame:
    """Data whose sample correlations are exactly R: x1 loads above one (a Heywood case)."""
    R = np.full((6, 6), 0.3)
    R[:3, :3] = [[1, .8, .8], [.8, 1, .5], [.8, .5, 1]]
    R[3:, 3:] = 0.5
    np.fill_diagonal(R, 1.0)
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 6))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True))).T
    x = z @ np.linalg.cholesky(R).T
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 7)])


def test_not_identified_by_counting_is_an_error_before_fitting(env, capsys, monkeypatch):
    from riskmodel_sem.sem import estimation

    data = env["tmp"] / "cont.csv"
    _continuous().to_csv(data, index=False)
    lav = env["tmp"] / "two.lav"
    lav.write_text("f =~ x1 + x2\n", encoding="utf-8")
    monkeypatch.setattr(estimation, "_optimize", lambda *a, **k: pytest.fail("fitted"))
    _fails_cleanly(["fit", data, "--spec", lav, "--out", env["out"]],
                   ["two.lav", "4 free parameters", "3 sample moments", "not identified"],
                   capsys, [data, lav], env["out"])


def test_latent_without_scale_is_an_error_before_fitting(env, capsys, monkeypatch):
    from riskmodel_sem.sem import estimation

    data = env["tmp"] / "cont.csv"
    _continuous().to_csv(data, index=False)
    lav = env["tmp"] / "noscale.lav"
    lav.write_text("f =~ x1 + x2 + x3\ng =~ NA*x4 + x5 + x6\n", encoding="utf-8")
    monkeypatch.setattr(estimation, "_optimize", lambda *a, **k: pytest.fail("fitted"))
    _fails_cleanly(["fit", data, "--spec", lav, "--out", env["out"]],
                   ["noscale.lav, line 2", "latent variable g", "not identified", "g ~~ 1*g"],
                   capsys, [data, lav], env["out"])


def test_heywood_case_is_reported_not_hidden(env, capsys):
    data = env["tmp"] / "cont.csv"
    _continuous().to_csv(data, index=False)
    lav = env["tmp"] / "heywood.lav"
    lav.write_text("f =~ x1 + x2 + x3\ng =~ x4 + x5 + x6\n", encoding="utf-8")
    out = env["out"]
    code = main(["fit", str(data), "--spec", str(lav), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    warned = [ln for ln in err.splitlines() if ln.startswith("riskmodel-sem: warning:")]
    assert any("Heywood" in ln and "x1 ~~ x1" in ln for ln in warned), err
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert any("Heywood" in w for w in results["warnings"])
    assert any("x1 ~~ x1" in h for h in results["heywood"])
    # the estimate itself is what lavaan reports (a negative variance), not clipped to zero
    row = next(r for r in results["estimates"]
               if (r["lhs"], r["op"], r["rhs"]) == ("x1", "~~", "x1"))
    assert row["est"] < -0.1
    # the report shows the warning before the first table
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Heywood" in page and page.index("Heywood") < page.index("<table")
    assert (out / "notes.txt").read_text(encoding="utf-8") == NOTES


def test_non_convergence_is_reported(env, capsys, monkeypatch):
    from riskmodel_sem.sem import estimation

    real = estimation._optimize

    def stop_early(*args, **kwargs):
        theta, iterations, _, fmin2 = real(*args, **kwargs)
        return theta, iterations, False, fmin2

    monkeypatch.setattr(estimation, "_optimize", stop_early)
    code = main(["fit", str(env["good"]), "--spec", str(env["spec"]), "--json",
                 str(env["tmp"] / "r.json")])
    err = capsys.readouterr().err
    assert code == 0
    assert any(ln.startswith("riskmodel-sem: warning:") and "did not converge" in ln
               for ln in err.splitlines()), err
    results = json.loads((env["tmp"] / "r.json").read_text(encoding="utf-8"))
    assert results["converged"] is False
    assert any("did not converge" in w for w in results["warnings"])


# ---------------------------------------------------------------------------------------------
# 3. nothing lost
# ---------------------------------------------------------------------------------------------

def test_bundled_inputs_unchanged_by_a_run(tmp_path, capsys):
    inputs = [GCRM_SPEC, GCRM_SURVEY]
    before = _snapshot(inputs)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text(NOTES, encoding="utf-8")
    assert main(["fit", str(GCRM_SURVEY), "--spec", str(GCRM_SPEC), "--json",
                 str(out / "fit.json")]) == 0
    capsys.readouterr()
    assert _snapshot(inputs) == before
    assert sorted(p.name for p in out.iterdir()) == ["fit.json", "notes.txt"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == NOTES


def test_failure_while_rendering_leaves_the_old_report(env, capsys, monkeypatch):
    import riskmodel_sem.report as report

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(report, "render_reports", broken)
    code = main(["fit", str(env["good"]), "--spec", str(env["spec"]), "--out",
                 str(env["out"])])
    err = capsys.readouterr().err
    assert code == 1 and "internal error" in err and "Traceback" not in err
    _assert_out_untouched(env["out"])


def test_failed_rename_restores_the_whole_set(env, monkeypatch):
    """If renaming the second output fails, the first one gets its old content back."""
    from riskmodel_sem import outputs
    from riskmodel_sem.errors import OutputError

    out = env["out"]
    (out / "a.txt").write_text("old a\n", encoding="utf-8")
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied", str(dst))
        return real(src, dst)

    monkeypatch.setattr(outputs.os, "replace", flaky)
    with pytest.raises(OutputError, match="b.txt"):
        outputs.write_files({out / "a.txt": b"new a\n", out / "b.txt": b"new b\n"})
    monkeypatch.setattr(outputs.os, "replace", real)
    assert (out / "a.txt").read_text(encoding="utf-8") == "old a\n"
    assert not (out / "b.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "notes.txt", "report.html"]


def test_outputs_are_readable_files(env, capsys):
    target = env["tmp"] / "res" / "fit.json"
    assert main(["fit", str(env["good"]), "--spec", str(env["spec"]), "--json",
                 str(target)]) == 0
    capsys.readouterr()
    assert target.stat().st_mode & 0o777 == 0o644
    assert json.loads(target.read_text(encoding="utf-8"))["n_obs"] == 160


# ---------------------------------------------------------------------------------------------
# 4. nothing executed
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, needle", [
    ("name: !!python/object/apply:os.system ['touch pwned']\n", "line 1"),
    ("name: !!python/name:os.system\n", "line 1"),
    ("a: &a [*a]\n", "refers to a value that contains it"),
    ("".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" if i else "l0: &l0 [x]\n"
             for i in range(9)), "more than 100000 values"),
    ("a: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
], ids=["python-object", "python-name", "recursive-alias", "billion-laughs", "deep-nesting"])
def test_hostile_yaml_is_refused(env, capsys, text, needle):
    bad = env["tmp"] / "hostile.yaml"
    bad.write_text(text, encoding="utf-8")
    _fails_cleanly(["fit", env["good"], "--spec", bad, "--out", env["out"]],
                   ["hostile.yaml", needle], capsys, [bad, env["good"]], env["out"])
    assert not (env["tmp"] / "pwned").exists() and not Path("pwned").exists()


def test_formula_text_in_answers_is_rejected_not_evaluated(env, capsys):
    frame = _answers().astype(object)
    frame.loc[2, "A1"] = '=HYPERLINK("http://example.com","4")'
    data = env["tmp"] / "formula.csv"
    frame.to_csv(data, index=False)
    _fails_cleanly(["fit", data, "--spec", env["spec"], "--out", env["out"]],
                   ["formula.csv", "row 4", "'A1'", "HYPERLINK"], capsys, [data, env["spec"]],
                   env["out"])


def test_hostile_extra_columns_stay_inert(env, capsys):
    """Formula and HTML text in the non-item columns and the item headers: written as text,
    never as formulas or markup."""
    frame = _answers()
    frame["district"] = np.where(frame["district"] == "north", "=1+1",
                                 "<script>alert(1)</script>")
    frame = frame.rename(columns={"A1": 'A1 =HYPERLINK("http://example.com","x")',
                                  "B1": "B1 <img src=x onerror=alert(2)>"})
    data = env["tmp"] / "hostile.csv"
    frame.to_csv(data, index=False)
    out = env["out"]
    assert main(["fit", str(data), "--spec", str(env["spec"]), "--group", "district", "--out",
                 str(out)]) == 0
    capsys.readouterr()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    wb = openpyxl.load_workbook(out / "report.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    assert (out / "notes.txt").read_text(encoding="utf-8") == NOTES


def test_hostile_spec_name_never_becomes_a_path(env, capsys):
    """Output file names are fixed; a spec name with path parts changes nothing on disk."""
    spec = env["tmp"] / "evil.yaml"
    spec.write_text(SPEC.replace("name: small", "name: ../../evil/<b>x</b>"), encoding="utf-8")
    out = env["out"]
    before = sorted(p.name for p in env["tmp"].parent.iterdir())
    assert main(["fit", str(env["good"]), "--spec", str(spec), "--out", str(out)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == [
        "diagram.png", "diagram.svg", "notes.txt", "report.docx", "report.html", "report.xlsx",
        "results.json"]
    assert sorted(p.name for p in env["tmp"].parent.iterdir()) == before
    assert not (env["tmp"].parent / "evil").exists()
    assert "<b>x</b>" not in (out / "report.html").read_text(encoding="utf-8")
