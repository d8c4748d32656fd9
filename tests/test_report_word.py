"""report.docx: opened with python-docx and checked against results.json; converted by
LibreOffice to PDF and a PNG of its first page (kept in tests/artifacts)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest

from riskmodel_sem.report import render_reports
from riskmodel_sem.report.numbers import format_number
from riskmodel_sem.report.paper import paper_tables

from _report_fixtures import ARTIFACTS, gcrm_analysis

docx = pytest.importorskip("docx")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gcrm():
    return gcrm_analysis()


@pytest.fixture(scope="module")
def files(gcrm):
    return {lang: render_reports(gcrm, lang, ("docx", "png", "svg")) for lang in ("zh", "en")}


def _cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def _table_after(doc, title: str):
    """The table whose caption paragraph (italic title) reads ``title``."""
    captions = [p for p in doc.paragraphs if p.text == title]
    assert captions, title
    cap = captions[0]._p
    el = cap.getnext()
    while el is not None and not el.tag.endswith("}tbl"):
        el = el.getnext()
    assert el is not None
    for t in doc.tables:
        if t._tbl is el:
            return t
    raise AssertionError(title)  # pragma: no cover


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_docx_tables_match_results_json(gcrm, files, lang):
    doc = docx.Document(io.BytesIO(files[lang]["report.docx"]))
    results = gcrm.to_dict()
    tabs = paper_tables(gcrm, lang)
    assert len(doc.tables) == len(tabs) >= 8
    # paths: β and p of every path hypothesis, as results.json holds them
    paths = next(t for t in tabs if t.id == "paths_paper")
    rows = {r[0]: r for r in _cells(_table_after(doc, paths.title))[1:]}
    for h in results["hypotheses"]:
        if h["kind"] != "path":
            continue
        row = rows[h["id"]]
        assert row[3] == format_number(h["std_all"], "std")
        assert row[4] == format_number(h["est"], "num")
        assert row[7] == format_number(h["pvalue"], "p")
    # fit: CFI and RMSEA of the structural model (results.json "fit")
    fit = next(t for t in tabs if t.id == "fit_indices")
    rows = {r[0]: r for r in _cells(_table_after(doc, fit.title))[1:]}
    assert rows["CFI"][4] == format_number(results["fit"]["cfi"], "std")
    assert rows["df"][4] == str(int(results["fit"]["df"]))
    assert rows["RMSEA [90% CI]"][4].startswith(format_number(results["fit"]["rmsea"], "std"))
    # measurement: the marker loading's SE is a dash, never 0.000
    meas = next(t for t in tabs if t.id == "measurement")
    cells = _cells(_table_after(doc, meas.title))
    assert cells[1][3] == "—" and "0.000" not in {r[3] for r in cells[1:]}
    # R² of the endogenous constructs
    r2 = next(t for t in tabs if t.id == "r2_f2")
    text = "\n".join(" ".join(r) for r in _cells(_table_after(doc, r2.title)))
    for v in results["structural_r2"].values():
        assert format_number(v, "std") in text
    # the results paragraph and the diagram
    body = "\n".join(p.text for p in doc.paragraphs)
    cfa = gcrm.validation.cfa.fit
    assert f"χ²({int(cfa['df'])}) = {cfa['chisq']:.2f}" in body
    assert f"CFI = {format_number(cfa['cfi'], 'std')}" in body
    assert len(doc.inline_shapes) == 2  # the path diagram and the power curves
    assert "0." not in "".join(r[3] for r in _cells(_table_after(doc, paths.title))[1:])


def test_docx_is_reproducible(gcrm, files):
    again = render_reports(gcrm, "en", ("docx", "png"))
    assert again["report.docx"] == files["en"]["report.docx"]


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def test_libreoffice_converts_docx(files, tmp_path):
    office = _soffice()
    if office is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is needed in CI (apt-get install libreoffice-writer-nogui).")
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-writer-nogui).")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for lang in ("zh", "en"):
        src = tmp_path / f"report_{lang}.docx"
        src.write_bytes(files[lang]["report.docx"])
        env = dict(os.environ, HOME=str(tmp_path))
        subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                        str(src)], check=True, capture_output=True, timeout=300, env=env)
        pdf = tmp_path / f"report_{lang}.pdf"
        assert pdf.stat().st_size > 20_000 and pdf.read_bytes().startswith(b"%PDF")
        shutil.copy(pdf, ARTIFACTS / f"report_docx_{lang}.pdf")
        # a picture of the first pages (LibreOffice's Writer has no PNG export; poppler does)
        if shutil.which("pdftoppm") is None:
            if os.environ.get("CI"):
                pytest.fail("pdftoppm is needed in CI (apt-get install poppler-utils).")
            continue
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-l", "3", str(pdf),
                        str(ARTIFACTS / f"report_docx_{lang}")], check=True, timeout=120)
        pages = sorted(ARTIFACTS.glob(f"report_docx_{lang}-*.png"))
        assert pages and all(p.stat().st_size > 5_000 for p in pages)
