"""The HTML report: self-contained, checked in headless Chromium, with its path diagram."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from riskmodel_sem.report import render_reports, write_reports
from riskmodel_sem.report.diagram import path_diagram
from riskmodel_sem.report.html import format_cell

from _browser import load_page, require_chromium
from _report_fixtures import ARTIFACTS, gcrm_analysis

ZH_FACTORS = ["财政负担", "象征性参与", "管理混乱", "数据过载", "流程不畅", "隐私安全", "参与不足", "参与过量",
              "作弊欺诈", "数字鸿沟", "权责问题"]


@pytest.fixture(scope="module")
def gcrm():
    return gcrm_analysis()


@pytest.fixture(scope="module")
def page(gcrm, tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    return write_reports(gcrm, out, "zh", formats=("html",))["html"]


def test_format_cell():
    assert format_cell(0.0004, "p") == "< .001"
    assert format_cell(0.0123456, "p") == ".012"
    assert format_cell(0.98765, "num") == "0.988"
    assert format_cell(0.98765, "std") == ".988"
    assert format_cell(478, "int") == "478"
    assert format_cell(None, "num") == ""
    assert format_cell("<b>", "text") == "<b>"  # escaping is the template's job


def test_self_contained(page):
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "<link" not in html.lower() and "@import" not in html
    assert not re.search(r"url\(\s*(?!#)", html)  # only url(#marker) references
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html)
    # the only absolute URLs are SVG namespace names, which are never fetched
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert "Content-Security-Policy" in html


def test_same_bytes_twice(gcrm):
    a = render_reports(gcrm, "zh", ("html",))["report.html"]
    b = render_reports(gcrm, "zh", ("html",))["report.html"]
    assert a == b


def test_path_diagram_structure(gcrm):
    svg = path_diagram(gcrm.spec, gcrm.fit.estimates, gcrm.fit.r2, "zh")
    assert svg.count("<ellipse") == 11 + 4
    assert svg.count('<g class="node"') == 33 + 11 + 4  # one box per item
    assert all(name in svg for name in ZH_FACTORS)
    assert svg.count('marker-end="url(#rm-arrow-big)"') == 5  # H1-H5


def test_nonsignificant_paths_dashed(gcrm):
    est = gcrm.fit.estimates.copy()
    mask = (est["op"] == "~") & (est["lhs"] == "GIV") & (est["rhs"] == "ENV")
    est.loc[mask, "pvalue"] = 0.30
    svg = path_diagram(gcrm.spec, est, gcrm.fit.r2, "en")
    arcs = re.findall(r'<path class="path-reg" d="M[^"]*"[^>]*marker-end="url\(#rm-arrow-big\)"/>',
                      svg)
    assert len(arcs) == 5
    assert sum("stroke-dasharray" in a for a in arcs) == 1
    std = est.loc[mask, "std_all"].iloc[0]
    label = f"{std:.2f}".replace("0.", ".", 1)
    assert f">H3: {label}</text>" in svg  # no stars on the non-significant path


def test_cjk_font_installed():
    if shutil.which("fc-list") is None:
        if os.environ.get("CI"):
            pytest.fail("fontconfig is missing in CI.")
        pytest.skip("fontconfig is not installed.")
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if not out.strip():
        if os.environ.get("CI"):
            pytest.fail("No Chinese font installed (apt-get install fonts-noto-cjk).")
        pytest.skip("No Chinese font installed.")


@pytest.mark.slow
def test_page_in_chromium(page):
    require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    res = load_page(page, {
        "tables": "document.querySelectorAll('table.data').length",
        "rows": "[...document.querySelectorAll('table.data')].map(t => t.tBodies[0].rows.length)",
        "sections": "[...document.querySelectorAll('main > section')].map(s => s.id)",
        "nav": "[...document.querySelectorAll('nav.bar a')].map(a => a.getAttribute('href'))",
        "diagram": "(() => { const s = document.querySelector('svg.path-diagram'); "
                   "if (!s) return null; const b = s.getBoundingClientRect(); "
                   "return {w: b.width, h: b.height, text: s.textContent, "
                   "ellipses: s.querySelectorAll('ellipse').length}; })()",
        "figures": "[...document.querySelectorAll('figure')].map(f => f.id)",
        "loadings_table": "document.querySelector('table[data-table=loadings]').innerText",
        "images": "document.images.length",
        "scripts": "document.scripts.length",
    }, {ARTIFACTS / "report_html.png": None,
        ARTIFACTS / "report_path_diagram.png": "#fig_path_diagram"})
    v = res["values"]
    assert res["console_errors"] == [] and res["exceptions"] == [] and res["dialogs"] == []
    assert res["requests"] == [page.resolve().as_uri()]  # nothing but the page itself
    assert v["scripts"] == 0 and v["images"] == 0
    assert v["sections"] == ["summary", "sample", "power", "screening", "items", "reliability",
                             "validity", "measurement", "fit",
                             "loadings", "paths", "indirect", "comparison", "modindices",
                             "specification"]
    assert v["nav"] == ["#" + s for s in v["sections"]]
    assert v["tables"] >= 20 and all(n > 0 for n in v["rows"])
    d = v["diagram"]
    assert d is not None and d["w"] > 800 and d["h"] > 300 and d["ellipses"] == 15
    assert all(name in d["text"] for name in ZH_FACTORS)
    assert {"fig_path_diagram", "fig_loadings", "fig_htmt", "fig_distributions",
            "fig_bootstrap"} <= set(v["figures"])
    assert all(name in v["loadings_table"] for name in ZH_FACTORS)
    assert (ARTIFACTS / "report_html.png").stat().st_size > 10_000
    assert (ARTIFACTS / "report_path_diagram.png").stat().st_size > 10_000
