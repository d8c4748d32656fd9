"""Hostile labels stay inert text in both reports; reports are written whole or not at all."""

from __future__ import annotations

import io
import os
import zipfile

import openpyxl
import pytest
import yaml

import riskmodel_sem.report as report
from riskmodel_sem.workflow.analysis import Analysis
from riskmodel_sem.errors import OutputError
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.report import render_reports, write_reports
from riskmodel_sem.survey.simulate import simulate_survey
from riskmodel_sem.survey.spec import load_spec

from _browser import load_page, require_chromium
from _report_fixtures import ARTIFACTS
from conftest import GCRM_SPEC

SCRIPT = "<script>window.__pwned = 1; alert(1)</script>"
FORMULA = '=HYPERLINK("http://example.invalid/x","click")'
ATTR = '" onmouseover="window.__pwned=2" x="'
HOSTILE = {
    "title": SCRIPT,
    "FIN": FORMULA,
    "SYM": "+cmd|' /C calc'!A0",
    "MGT": "@SUM(1+1)*cmd|' /C calc'!A0",
    "DOV": "-2+3+cmd|' /C calc'!A0",
    "PRC": ATTR,
    "GIV": "<img src=x onerror=window.__pwned=3>",
    "FIN1": "=1+1",
    "H1": "</td></tr></table><script>window.__pwned=4</script>",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The GCRM spec with hostile names, fitted to data simulated from it."""
    d = yaml.safe_load(GCRM_SPEC.read_text(encoding="utf-8"))
    d["title"] = {"zh": HOSTILE["title"], "en": HOSTILE["title"]}
    for c in d["constructs"]:
        if c["code"] in HOSTILE:
            c["zh"] = c["en"] = HOSTILE[c["code"]]
        for it in c["items"]:
            if it["code"] in HOSTILE:
                it["zh"] = it["en"] = HOSTILE[it["code"]]
    for dim in d["dimensions"]:
        if dim["code"] in HOSTILE:
            dim["zh"] = dim["en"] = HOSTILE[dim["code"]]
    for h in d["hypotheses"]:
        if h["id"] in HOSTILE:
            h["zh"] = h["en"] = HOSTILE[h["id"]]
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    spec = load_spec(path)
    data = simulate_survey(spec, 400, seed=11).drop(columns="id").astype(float)
    fit = fit_model(spec.model_syntax(), data)
    analysis = Analysis("fit", spec, None, {}, fit=fit, warnings=(SCRIPT, FORMULA))
    return analysis, folder


def test_excel_cells_are_inert_text(hostile):
    analysis, _ = hostile
    data = render_reports(analysis, "zh", ("xlsx",))["report.xlsx"]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = z.read(name)
                assert b"<f>" not in xml and b"<f " not in xml, name
    wb = openpyxl.load_workbook(io.BytesIO(data))
    found = {}
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value in HOSTILE.values():
                    found.setdefault(c.value, []).append(c)
    for text in (SCRIPT, FORMULA, HOSTILE["SYM"], HOSTILE["MGT"], HOSTILE["DOV"],
                 HOSTILE["FIN1"], HOSTILE["GIV"]):
        assert text in found, text  # kept verbatim as text
        for c in found[text]:
            assert c.data_type == "s"
            assert c.quotePrefix == text.startswith(("=", "+", "-", "@"))


def test_html_is_escaped(hostile):
    analysis, _ = hostile
    html = render_reports(analysis, "en", ("html",))["report.html"].decode("utf-8")
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert 'onmouseover="window' not in html
    assert "&lt;script&gt;window.__pwned = 1; alert(1)&lt;/script&gt;" in html


@pytest.mark.slow
def test_html_hostile_in_chromium(hostile):
    require_chromium()
    analysis, folder = hostile
    page = write_reports(analysis, folder / "out", "en", formats=("html",))["html"]
    res = load_page(page, {
        "pwned": "typeof window.__pwned",
        "scripts": "document.scripts.length",
        "images": "document.images.length",
        "handlers": "document.querySelectorAll('[onmouseover],[onerror]').length",
        "text": "document.body.innerText",
        "svg": "document.querySelector('svg.path-diagram').textContent",
        "title": "document.title",
    }, {ARTIFACTS / "report_hostile.png": None})
    v = res["values"]
    assert v["pwned"] == "undefined" and v["scripts"] == 0 and v["images"] == 0
    assert v["handlers"] == 0 and res["dialogs"] == [] and res["console_errors"] == []
    assert res["requests"] == [page.resolve().as_uri()]
    for text in (SCRIPT, FORMULA, HOSTILE["H1"], HOSTILE["GIV"]):
        assert text in v["text"], text
    assert HOSTILE["GIV"] in v["svg"] and HOSTILE["PRC"] in v["svg"]
    assert SCRIPT in v["title"]


# -- writing whole or not at all ----------------------------------------------------------------

def _small(hostile):
    return hostile[0]


def test_write_creates_files_and_leaves_others(hostile, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    paths = write_reports(_small(hostile), tmp_path, "en",
                          extra_files={"results.json": "{}"})
    assert set(paths) == {"xlsx", "html", "docx", "svg", "png", "results.json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "diagram.png", "diagram.svg", "notes.txt", "report.docx", "report.html", "report.xlsx",
        "results.json"]
    assert (tmp_path / "notes.txt").read_text() == "mine"
    openpyxl.load_workbook(paths["xlsx"])


def test_render_failure_replaces_nothing(hostile, tmp_path, monkeypatch):
    for name in ("report.xlsx", "report.html"):
        (tmp_path / name).write_text("old")

    def boom(*args, **kwargs):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(report, "html_text", boom)
    with pytest.raises(RuntimeError):
        write_reports(_small(hostile), tmp_path, "en")
    assert sorted(os.listdir(tmp_path)) == ["report.html", "report.xlsx"]
    assert (tmp_path / "report.xlsx").read_text() == "old"


def test_rename_failure_restores_old_files(hostile, tmp_path, monkeypatch):
    for name in ("report.xlsx", "report.html"):
        (tmp_path / name).write_text("old " + name)
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the second report's rename fails
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(report.os, "replace", flaky)
    with pytest.raises(OutputError):
        write_reports(_small(hostile), tmp_path, "en")
    monkeypatch.setattr(report.os, "replace", real)
    assert sorted(os.listdir(tmp_path)) == ["report.html", "report.xlsx"]
    assert (tmp_path / "report.xlsx").read_text() == "old report.xlsx"
    assert (tmp_path / "report.html").read_text() == "old report.html"


def test_rename_failure_removes_new_files(hostile, tmp_path, monkeypatch):
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(report.os, "replace", flaky)
    with pytest.raises(OutputError):
        write_reports(_small(hostile), tmp_path, "en")
    monkeypatch.setattr(report.os, "replace", real)
    assert os.listdir(tmp_path) == []


def test_unknown_language_is_an_option_error(hostile):
    from riskmodel_sem.errors import OptionError

    with pytest.raises(OptionError, match="Language"):
        render_reports(_small(hostile), "fr")
