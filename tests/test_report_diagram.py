"""The path diagram's geometry as Chromium renders it: no two nodes overlap, every node's text
lies inside its own shape, and no path label covers a node or another label, in zh and en."""

from __future__ import annotations

import itertools

import pytest

from conftest import REFERENCE, load_reference_data
from riskmodel_sem.report.diagram import path_diagram
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.survey.spec import load_spec

from _browser import load_page
from _report_fixtures import ARTIFACTS, gcrm_analysis

pytestmark = pytest.mark.slow

_GEOMETRY = """(() => {
  const box = (e) => { const b = e.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
  const nodes = [...document.querySelectorAll('svg.path-diagram g.node')].map(g => ({
    name: g.dataset.name,
    shape: g.querySelector('ellipse') ? 'ellipse' : 'rect',
    box: box(g.querySelector('ellipse, rect')),
    texts: [...g.querySelectorAll('text')].map(t => ({text: t.textContent, box: box(t)}))}));
  const labels = [...document.querySelectorAll('svg.path-diagram g.label text')].map(
    t => ({text: t.textContent, box: box(t)}));
  const svg = document.querySelector('svg.path-diagram');
  const vb = svg.viewBox.baseVal;
  return {nodes, labels, width: vb.width, height: vb.height};
})()"""


def _overlap(a, b, pad=0.0) -> bool:
    return not (a[2] <= b[0] + pad or b[2] <= a[0] + pad or a[3] <= b[1] + pad
                or b[3] <= a[1] + pad)


def _inside(text, shape, kind) -> bool:
    x0, y0, x1, y1 = shape
    if kind == "rect":
        return (text[0] >= x0 - 0.5 and text[2] <= x1 + 0.5 and text[1] >= y0 - 0.5
                and text[3] <= y1 + 0.5)
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    # the glyph box's corners, trimmed by the font's internal leading (a quarter of its height)
    h = text[3] - text[1]
    corners = [(x, y) for x in (text[0], text[2]) for y in (text[1] + h / 4, text[3] - h / 4)]
    return all(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.02 for x, y in corners)


def _check(svg: str, name: str, tmp_path) -> dict:
    page = tmp_path / f"{name}.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head>"
                    f"<body style='margin:0'>{svg}</body></html>", encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    res = load_page(page, {"g": _GEOMETRY}, {ARTIFACTS / f"diagram_{name}.png": "svg"},
                    width=2200, height=1400)
    g = res["values"]["g"]
    nodes, labels = g["nodes"], g["labels"]
    assert nodes and labels
    for a, b in itertools.combinations(nodes, 2):
        assert not _overlap(a["box"], b["box"]), (a["name"], b["name"])
    for n in nodes:
        for t in n["texts"]:
            assert _inside(t["box"], n["box"], n["shape"]), (n["name"], t["text"])
    for lab in labels:
        for n in nodes:
            assert not _overlap(lab["box"], n["box"]), (lab["text"], n["name"])
    for a, b in itertools.combinations(labels, 2):
        assert not _overlap(a["box"], b["box"]), (a["text"], b["text"])
    for item in nodes + labels:
        box = item["box"]
        assert box[0] >= 0 and box[2] <= g["width"], item
    return g


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_gcrm_diagram_has_no_overlaps(lang, tmp_path):
    a = gcrm_analysis()
    svg = path_diagram(a.spec, a.fit.estimates, a.fit.r2, lang)
    g = _check(svg, f"gcrm_{lang}", tmp_path)
    texts = {t["text"] for t in g["labels"]}
    # hypothesis labels with standardized estimates and stars on the structural arrows
    for h in a.structural.hypotheses.itertuples():
        if h.kind == "path":
            beta = f"{h.std_all:.2f}".replace("0.", ".", 1)
            assert any(t.startswith(f"{h.id}: {beta}") for t in texts), h.id
    # R² inside the endogenous constructs
    inside = {n["name"]: " ".join(t["text"] for t in n["texts"]) for n in g["nodes"]}
    for var, r2 in a.structural.r2.items():
        assert f"R² = {r2:.2f}".replace("0.", ".", 1) in inside[var]
    # layers: exogenous left of the mediator, the mediator left of the outcome
    x = {n["name"]: (n["box"][0] + n["box"][2]) / 2 for n in g["nodes"]}
    assert x["PLT"] < x["SOL"] < x["GIV"] and x["ENV"] < x["SOL"]
    assert x["DOV1"] < x["DOV"] < x["PLT"] and x["GIV"] < x["FIN"] < x["FIN1"]


@pytest.mark.parametrize("model, data", [("hs_three_factor.lav", "holzinger1939.csv"),
                                         ("hs_second_order.lav", "holzinger1939.csv"),
                                         ("poldem.lav", "political_democracy.csv")])
def test_other_models_have_no_overlaps(model, data, tmp_path):
    """A CFA without paths (two facing columns), a second-order CFA and the Political
    Democracy model (latent paths, observed indicators, residual covariances)."""
    spec = load_spec(REFERENCE / "models" / model)
    fit = fit_model(spec.model_syntax(), load_reference_data(data))
    _check(path_diagram(spec, fit.estimates, fit.r2, "en"), model.split(".")[0], tmp_path)
