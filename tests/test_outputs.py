"""Outputs are written whole or not at all: non-regular targets, signals, kills, concurrent runs,
permissions and leftovers, with real processes where a user would meet them."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from conftest import ROOT
from riskmodel_sem import outputs
from riskmodel_sem.cli import main
from riskmodel_sem.errors import OutputError




def _python(code: str, *args, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120, **kwargs)


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


@pytest.fixture
def lav(tmp_path):
    data = tmp_path / "data.csv"
    rows = ["x1,x2,x3,x4"] + [f"{(i * 7) % 5 + 1},{(i * 3) % 5 + 1},{(i * 11 + i // 3) % 5 + 1},"
                              f"{(i * 13 + i // 2) % 5 + 1}" for i in range(60)]
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = tmp_path / "m.lav"
    model.write_text("f =~ x1 + x2 + x3 + x4\n", encoding="utf-8")
    return data, model


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder"])
def test_non_regular_json_targets_are_refused_and_left_alone(tmp_path, lav, capsys, kind):
    data, model = lav
    target = tmp_path / "out.json"
    real = tmp_path / "real.json"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        real.write_text("keep\n", encoding="utf-8")
        target.symlink_to(real)
    else:
        target.mkdir()
    before = os.lstat(target)
    code = main(["fit", str(data), "--spec", str(model), "--json", str(target)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and str(target) in err[0], err
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino
    if kind == "symlink":
        assert real.read_text(encoding="utf-8") == "keep\n"


def test_device_targets_are_refused_before_anything_is_written():
    for device in ("/dev/null", "/dev/stdout"):
        if os.path.exists(device):
            with pytest.raises(OutputError, match="not a regular file|symbolic link"):
                outputs.check_target(device)


def test_a_replaced_file_keeps_its_mode_and_new_files_follow_the_umask(tmp_path):
    old = tmp_path / "report.html"
    old.write_text("old\n", encoding="utf-8")
    os.chmod(old, 0o600)
    mask = os.umask(0o027)
    try:
        outputs.write_files({old: b"new\n", tmp_path / "results.json": b"{}\n"})
    finally:
        os.umask(mask)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "results.json").stat().st_mode) == 0o640
    assert old.read_text(encoding="utf-8") == "new\n"


def test_leftovers_of_interrupted_runs_are_cleaned_and_others_kept(tmp_path):
    (tmp_path / ".report.html.x81k.tmp").write_text("half", encoding="utf-8")
    (tmp_path / ".report.html.x81k.bak").write_text("old", encoding="utf-8")
    (tmp_path / ".my.notes.tmp").write_text("mine", encoding="utf-8")
    half = tmp_path / ".riskmodel-sem-staging-abc"
    half.mkdir()
    (half / "report.html").write_text("half-written", encoding="utf-8")
    outputs.write_files({tmp_path / "report.html": b"new\n"})
    assert _contents(tmp_path) == {".my.notes.tmp": "mine", "report.html": "new\n"}


KILLED = """
import os, signal, sys
from pathlib import Path
from riskmodel_sem import outputs
folder = Path(sys.argv[1])
real = os.replace
def replace(src, dst):
    real(src, dst)
    os.kill(os.getpid(), signal.SIGKILL)   # killed after the first of three renames
outputs.os.replace = replace
outputs.write_files({folder / n: f"new {n}\\n".encode() for n in ("a.txt", "b.txt", "c.txt")})
"""


def test_a_run_killed_between_renames_is_completed_by_the_next_write(tmp_path):
    for n in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / n).write_text(f"old {n}\n", encoding="utf-8")
    res = _python(KILLED, tmp_path)
    assert res.returncode == -signal.SIGKILL, res.stderr
    mixed = {n: (tmp_path / n).read_text(encoding="utf-8") for n in ("a.txt", "b.txt", "c.txt")}
    assert sorted(mixed.values())[0].startswith("new") and "old b.txt\n" in mixed.values()
    outputs.write_files({tmp_path / "other.txt": b"x\n"})  # the next run into the folder
    assert _contents(tmp_path) == {"a.txt": "new a.txt\n", "b.txt": "new b.txt\n",
                                   "c.txt": "new c.txt\n", "other.txt": "x\n"}


INTERRUPTED = """
import os, signal, sys, time
from pathlib import Path
from riskmodel_sem import outputs
folder = Path(sys.argv[1])
real = os.replace
def replace(src, dst):
    real(src, dst)
    os.kill(os.getpid(), signal.SIGINT)   # Ctrl-C after each rename
    time.sleep(0.05)
outputs.os.replace = replace
try:
    outputs.write_files({folder / n: f"new {n}\\n".encode() for n in ("a.txt", "b.txt", "c.txt")})
except outputs.InterruptedAfterWriting as exc:
    print("interrupted after", len(exc.written))
"""


def test_ctrl_c_during_the_renames_is_held_back_until_the_set_is_whole(tmp_path):
    for n in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / n).write_text(f"old {n}\n", encoding="utf-8")
    res = _python(INTERRUPTED, tmp_path)
    assert res.returncode == 0 and "interrupted after 3" in res.stdout, res.stderr
    assert _contents(tmp_path) == {"a.txt": "new a.txt\n", "b.txt": "new b.txt\n",
                                   "c.txt": "new c.txt\n"}


CONCURRENT = """
import os, sys, time
from pathlib import Path
from riskmodel_sem import outputs
folder, tag = Path(sys.argv[1]), sys.argv[2]
real = os.replace
def replace(src, dst):
    real(src, dst)
    time.sleep(0.2)   # slow renames: without the lock the two sets would interleave
outputs.os.replace = replace
outputs.write_files({folder / n: f"{tag}\\n".encode() for n in ("a.txt", "b.txt", "c.txt")})
"""


def test_two_runs_into_one_folder_never_interleave(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(CONCURRENT), str(tmp_path),
                               tag], env=env, stderr=subprocess.PIPE, text=True)
             for tag in ("first", "second")]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    values = set(_contents(tmp_path).values())
    assert len(values) == 1 and set(_contents(tmp_path)) == {"a.txt", "b.txt", "c.txt"}
    assert any("waiting for another run" in e for e in errs), errs


def test_a_report_through_the_command_line_keeps_the_old_files_mode(tmp_path, lav, capsys):
    data, model = lav
    out = tmp_path / "out"
    assert main(["fit", str(data), "--spec", str(model), "--json", str(out / "r.json")]) == 0
    os.chmod(out / "r.json", 0o600)
    assert main(["fit", str(data), "--spec", str(model), "--json", str(out / "r.json")]) == 0
    capsys.readouterr()
    assert stat.S_IMODE((out / "r.json").stat().st_mode) == 0o600
    assert json.loads((out / "r.json").read_text(encoding="utf-8"))["fit"]["df"] == 2
    assert sorted(p.name for p in out.iterdir()) == ["r.json"]


def test_a_full_disk_names_the_file_and_the_cause(tmp_path, lav, capsys, monkeypatch):
    import errno

    data, model = lav
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("old\n", encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(outputs.os, "fsync", full)  # where a full disk shows itself
    code = main(["fit", str(data), "--spec", str(model), "--json", str(out / "results.json")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert str(out / "results.json") in err[0] and "No space left on device" in err[0]
    assert _contents(out) == {"results.json": "old\n"}




def test_office_parts_are_canonical_xml_2():
    """Every XML part of a repacked workbook and Word document (Chinese text, namespaces
    declared at the root and used below it) is the Canonical XML 2.0 form of the writer's
    part (Python's ``canonicalize``) byte for byte; the bundled survey's parts are canonical."""
    import datetime as dt
    import io
    import re
    import zipfile
    from xml.etree import ElementTree as ET

    import docx
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["题项", "政府作为任务发包方", 3.5, None])
    book.create_sheet("结果").append(["a & b < c", "\"引号\"", "x\ty"])
    raw_xlsx = io.BytesIO()
    book.save(raw_xlsx)
    document = docx.Document()
    document.add_heading("众包风险", level=1)
    document.add_paragraph("H1：平台风险 → 解决者风险 (β = .31, p < .001)")
    raw_docx = io.BytesIO()
    document.save(raw_docx)
    when = dt.datetime(2023, 1, 1)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    bundled = (ROOT / "riskmodel_sem" / "survey" / "data" / "gcrm_synthetic.xlsx").read_bytes()
    parts = 0
    for raw in (raw_xlsx.getvalue(), raw_docx.getvalue(), bundled):
        with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(
                io.BytesIO(outputs.reproducible_package(raw, when))) as out:
            for name in src.namelist():
                if not name.endswith((".xml", ".rels")):
                    continue
                expected = ET.canonicalize(src.read(name).decode("utf-8"))
                if name == "docProps/core.xml":
                    expected = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                                      lambda m: m.group(1) + stamp + m.group(3), expected)
                head, body = out.read(name).decode("utf-8").split("?>\n", 1)
                assert head.startswith("<?xml")
                assert body == expected, name
                parts += 1
    assert parts > 20


def test_records_are_the_pandas_records():
    """records() builds the rows column by column as json_value of to_dict("records")."""
    import numpy as np
    import pandas as pd
    from riskmodel_sem._json import json_value, records

    frames = [pd.DataFrame({"a": [1, 2], "b": [1.5, np.nan], "c": ["x", None], "d": [True, False],
                            "e": pd.array([1, None], dtype="Int64"), 5: [np.float64(1), "z"],
                            "t": pd.Categorical(["u", "v"]),
                            "f": np.array([1.5, np.inf], dtype=np.float32),
                            "u": np.array([1, 2], dtype=np.uint8),
                            "when": pd.to_datetime(["2020-01-01", None])}),
              pd.DataFrame(), pd.DataFrame(index=[0, 1]), pd.DataFrame({"a": []}),
              pd.DataFrame([[1, 2]], columns=["a", "a"])]
    for frame in frames:
        with warnings.catch_warnings():  # pandas names the columns it omits
            warnings.simplefilter("ignore", UserWarning)
            assert records(frame) == [json_value(r) for r in frame.to_dict(orient="records")]
