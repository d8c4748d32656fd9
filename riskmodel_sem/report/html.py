"""The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched).

The page is rendered by Jinja2 with autoescaping on, so every string from a spec, a data file
or a result is escaped; the only markup inserted unescaped are the SVG pictures of
:mod:`riskmodel_sem.report.diagram`, which escape every label themselves. A Content Security
Policy forbids scripts and any network access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .. import __version__
from .diagram import (FONT_FAMILY, bootstrap_histograms, heatmap, path_diagram, power_figure,
                      response_distributions)
from ..workflow.thresholds import CRITERIA
from .labels import element_name, spec_title, text, warning_text
from .numbers import format_cell
from .tables import Figure, Sheet, cell_value, run_warnings

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..workflow.analysis import Analysis
    from ..survey.spec import Spec

__all__ = ["html_text", "format_cell"]


def _env() -> Environment:
    env = Environment(loader=PackageLoader("riskmodel_sem", "report/templates"),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = format_cell
    return env


def _figures(a: Analysis, sheets: list[Sheet], lang: str) -> dict[str, list[Figure]]:
    """Pictures of the page, by the id of the section they belong to."""
    t = lambda k: text(k, lang)  # noqa: E731
    out: dict[str, list[Figure]] = {}
    spec = a.spec
    fit = a.fit
    if fit is not None and len(fit.estimates) and (fit.estimates["op"] == "=~").any():
        est = fit.estimates
        if "group" in est.columns and len(fit.group_labels) > 1:  # one diagram per group
            for g, (label, n) in enumerate(zip(fit.group_labels, fit.group_n), start=1):
                suffix = f".g{g}"
                r2 = {k[:-len(suffix)]: v for k, v in fit.r2.items() if k.endswith(suffix)}
                svg = path_diagram(spec, est[est["group"] == g], r2, lang)
                out.setdefault("paths", []).append(
                    Figure(f"fig_path_diagram_g{g}",
                           t("path_diagram_group").format(group=label, n=n),
                           t("path_diagram_note"), svg))
        else:
            svg = path_diagram(spec, est, fit.r2, lang)
            out.setdefault("paths", []).append(
                Figure("fig_path_diagram", t("path_diagram"), t("path_diagram_note"), svg))
        est = fit.estimates
        if "group" in est.columns:
            est = est[est["group"] == est["group"].iloc[0]]
        latent = set(fit.latent)
        load = est[(est["op"] == "=~") & (~est["rhs"].isin(latent))]
        if len(load):
            items = list(dict.fromkeys(load["rhs"]))
            factors = list(dict.fromkeys(load["lhs"]))
            grid = [[None] * len(factors) for _ in items]
            for _, r in load.iterrows():
                grid[items.index(r["rhs"])][factors.index(r["lhs"])] = cell_value(r["std_all"])
            svg = heatmap(grid, items, factors, vmin=0.0, vmax=1.0,
                          flag=lambda v, i, j: not CRITERIA["loading_std"].passes(v),
                          row_tips=[element_name(spec, i, lang) for i in items],
                          css_class="heatmap loadings-heatmap")
            out.setdefault("loadings", []).append(
                Figure("fig_loadings", t("loadings_heatmap"), t("loadings_note"), svg))
    htmt = a.validation.htmt if a.validation is not None else None
    if htmt is not None and len(htmt):
        vals = [[cell_value(v) for v in row] for row in htmt.to_numpy()]
        rows = [str(x) for x in htmt.index]
        cols = [str(x) for x in htmt.columns]
        svg = heatmap(vals, rows, cols, vmin=0.0, vmax=1.0,
                      flag=lambda v, i, j: rows[i] != cols[j] and not CRITERIA["htmt"].passes(v),
                      row_tips=[element_name(spec, r, lang) for r in rows],
                      css_class="heatmap htmt-heatmap")
        out.setdefault("validity", []).append(
            Figure("fig_htmt", t("htmt_heatmap"), t("htmt_note"), svg))
    if a.survey is not None and len(a.survey.data.columns):
        svg = response_distributions(a.survey.data, spec, lang)
        out.setdefault("items", []).append(
            Figure("fig_distributions", t("distributions"), t("distributions_note"), svg))
    if a.power is not None and len(a.power.curves):
        out.setdefault("power", []).append(
            Figure("fig_power_curves", t("power_curves"), t("power_curves_note"),
                   power_figure(a.power, lang)))
    draws, intervals = _bootstrap(a)
    if draws is not None:
        titles = {c: _effect_title(spec, c, lang) for c in draws.columns}
        svg = bootstrap_histograms(draws, intervals, titles)
        out.setdefault("indirect", []).append(
            Figure("fig_bootstrap", t("bootstrap_plot"), t("bootstrap_note"), svg))
    return out


def _effect_title(spec: Spec, eid: str, lang: str) -> str:
    for e in spec.effects:
        if e.id == eid:
            return f"{eid}: {' → '.join(e.path)}"
    return str(eid)


def _bootstrap(a: Analysis) -> tuple[pd.DataFrame | None, dict]:
    """Bootstrap draws of the indirect effects and their percentile intervals, as given by
    the structural results (``StructuralResult.bootstrap`` and ``.indirect``)."""
    st = a.structural
    boot = None if st is None else st.bootstrap
    if boot is None:
        return None, {}
    frame = boot.draws_frame()
    rows = st.indirect.set_index("id")
    ids = [i for i in rows.index if i in frame.columns]
    if not ids:
        return None, {}
    intervals = {i: (cell_value(rows.at[i, "ci_lower_perc"]),
                     cell_value(rows.at[i, "ci_upper_perc"])) for i in ids}
    return frame[ids], intervals


_ORDER = ("summary", "sample", "power", "screening", "items", "reliability", "validity",
          "measurement", "ordinal_thresholds", "fit",
          "loadings", "paths", "groups",
          "indirect", "comparison", "invariance", "modindices", "specification")


def html_text(analysis: Analysis, sheets: list[Sheet], lang: str) -> str:
    """Render the self-contained HTML page.

    Parameters
    ----------
    analysis : riskmodel_sem.workflow.analysis.Analysis
        For the title, the raw answers (distributions) and the parameter table (diagram).
    sheets : list of Sheet
        The tables, from :func:`riskmodel_sem.report.tables.build_sheets`.
    lang : {"zh", "en"}

    Returns
    -------
    str
        The page, with inline CSS and SVG, no script and no external resource.
    """
    figs = _figures(analysis, sheets, lang)
    sections = list(sheets)
    have = {s.id for s in sections}
    for sid, fl in figs.items():
        if sid not in have:  # a section with pictures only (e.g. items without validation)
            name = text(sid if sid != "paths" else "path_diagram", lang)
            sections.append(Sheet(sid, name, []))
            have.add(sid)
    sections.sort(key=lambda s: _ORDER.index(s.id) if s.id in _ORDER else len(_ORDER))
    for s in sections:
        s.figures = figs.get(s.id, [])
        for f in s.figures:
            f.svg = Markup(f.svg)  # built by diagram.py with every label escaped
    spec = analysis.spec
    title = spec_title(spec, lang)
    warns = [warning_text(w, lang) for w in run_warnings(analysis)]
    tpl = _env().get_template("report.html.j2")
    return tpl.render(lang=lang, t=lambda k: text(k, lang), title=title, sections=sections,
                      warnings=warns, version=__version__, font_family=FONT_FAMILY,
                      html_lang="zh-CN" if lang == "zh" else "en")
