"""Inline SVG pictures of the HTML report: path diagram, heatmaps, distributions.

Everything is drawn from given results (parameter table, matrices, raw answers, bootstrap
draws) as plain SVG text with every label escaped; nothing is fetched and no plotting library
is needed. Layouts are computed deterministically from the model's structure, so the same
results give the same bytes.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd

from .labels import element_name, text

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..survey.spec import Spec

__all__ = ["path_diagram", "heatmap", "response_distributions", "bootstrap_histograms",
           "power_curves", "FONT_FAMILY"]

#: Font stack with CJK fonts first so Chinese labels render (Noto CJK / WenQuanYi on Linux).
FONT_FAMILY = ("'Noto Sans CJK SC','Noto Sans SC','WenQuanYi Zen Hei','Microsoft YaHei',"
               "'PingFang SC','Hiragino Sans GB',sans-serif")

_SLOT = 46          # horizontal space per observed item
_ITEM_H = 26
_ROW_GAP = 110      # vertical distance between layers
_SIG = "#1f3b73"
_NONSIG = "#8a8a8a"


def _e(s: Any) -> str:
    """Escape text for SVG/HTML content and attributes."""
    return escape(str(s), quote=True)


def _text_width(s: str, size: float) -> float:
    """Rough rendered width of ``s`` in pixels: CJK characters one em, others 0.6 em."""
    return sum(size if ord(ch) > 0x2E7F else 0.6 * size for ch in s)


def _fmt2(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    s = f"{v:.2f}"
    return s.replace("0.", ".", 1) if s.startswith(("0.", "-0.")) else s


def _stars(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _is_sig(p: float | None) -> bool:
    """Fixed parameters (no p) count as drawn solid."""
    return p is None or (isinstance(p, float) and math.isnan(p)) or p < 0.05


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _label(x: float, y: float, s: str, size: float = 10, color: str = "#111",
           bold: bool = False) -> str:
    """A text label on a white background box, centred at (x, y)."""
    w = _text_width(s, size) + 6
    h = size + 4
    weight = ' font-weight="bold"' if bold else ""
    return (f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="#fff" fill-opacity="0.9" rx="2"/>'
            f'<text x="{x:.1f}" y="{y + size * 0.35:.1f}" font-size="{size}" fill="{color}" '
            f'text-anchor="middle"{weight}>{_e(s)}</text>')


def _toposort(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Order nodes so that predictors come before outcomes (stable in input order)."""
    preds = {n: {a for a, b in edges if b == n and a in nodes and a != n} for n in nodes}
    out: list[str] = []
    remaining = list(nodes)
    while remaining:
        ready = [n for n in remaining if not (preds[n] - set(out))]
        pick = ready[0] if ready else remaining[0]  # cycles: keep input order
        out.append(pick)
        remaining.remove(pick)
    return out


def path_diagram(spec: Spec, estimates: pd.DataFrame, r2: dict | None, lang: str) -> str:
    """Draw the model as an SVG path diagram with standardized estimates.

    Parameters
    ----------
    spec : riskmodel_sem.survey.spec.Spec
        For the names of factors, dimensions and items.
    estimates : pandas.DataFrame
        The parameter table (lhs, op, rhs, pvalue, std_all); with several groups the first
        group is drawn.
    r2 : dict or None
        R² of endogenous variables, shown inside structural outcomes.
    lang : {"zh", "en"}

    Returns
    -------
    str
        An ``<svg>`` element. Items sit on top, first-order factors below them, dimensions
        below those; structural paths are arcs under the lowest row. Significant (p < .05)
        paths are solid, others dashed; estimates carry stars.

    Notes
    -----
    The layout is deterministic: top-level latent variables are ordered so that predictors
    come before outcomes, each latent variable is centred over its indicators, and arcs are
    stacked by their span so that their labels do not overlap.
    """
    est = estimates
    if "group" in est.columns and len(est):
        est = est[est["group"] == est["group"].iloc[0]]
    load = est[est["op"] == "=~"]
    reg = est[est["op"] == "~"]
    cov = est[(est["op"] == "~~") & (est["lhs"] != est["rhs"])]
    latents = list(dict.fromkeys(load["lhs"]))
    lat_set = set(latents)
    indicators: dict[str, list[str]] = {}
    for _, r in load.iterrows():
        indicators.setdefault(r["lhs"], []).append(r["rhs"])
    child_lat = {i for ind in indicators.values() for i in ind if i in lat_set}
    struct_nodes = list(dict.fromkeys(list(reg["rhs"]) + list(reg["lhs"])))
    top = [n for n in latents if n not in child_lat]
    top += [n for n in struct_nodes if n not in lat_set and n not in top
            and n not in {i for ind in indicators.values() for i in ind}]
    edges = [(r["rhs"], r["lhs"]) for _, r in reg.iterrows()]
    top = _toposort(top, edges)

    # layers: observed = 0, latent = 1 + max layer of its indicators
    layer: dict[str, int] = {}

    def depth(n: str, seen: frozenset = frozenset()) -> int:
        if n in layer:
            return layer[n]
        if n not in lat_set or n in seen:
            return 0
        d = 1 + max((depth(i, seen | {n}) for i in indicators.get(n, [])), default=0)
        layer[n] = d
        return d

    for n in latents:
        depth(n)
    for n in top:
        if n not in lat_set:
            layer[n] = 1
    # x slots of observed items, in depth-first order from the top-level latents
    order: list[str] = []

    def visit(n: str) -> None:
        for i in indicators.get(n, []):
            if i in lat_set:
                visit(i)
            elif i not in order:
                order.append(i)

    for n in top:
        visit(n)
    x0 = 40.0
    xs: dict[str, float] = {it: x0 + _SLOT * (k + 0.5) for k, it in enumerate(order)}
    # free-standing nodes (observed variables in regressions) get their own slots
    extra_slot = len(order)
    for n in top:
        if n not in lat_set and n not in xs:
            xs[n] = x0 + _SLOT * (extra_slot + 0.5)
            extra_slot += 1

    def center(n: str) -> float:
        if n in xs:
            return xs[n]
        kids = [center(i) for i in indicators.get(n, [])]
        xs[n] = sum(kids) / len(kids) if kids else x0
        return xs[n]

    for n in latents:
        center(n)
    max_layer = max(layer.values(), default=1)
    y_top = 40.0
    ys = {n: y_top + _ROW_GAP * layer.get(n, 0) for n in list(xs)}
    width = x0 * 2 + _SLOT * max(extra_slot, 1)

    # node geometry
    size_name = 11 if lang == "zh" else 10
    geo: dict[str, tuple[str, float, float]] = {}  # shape, half-width, half-height
    r2 = r2 or {}
    endo = set(reg["lhs"])
    for n in xs:
        if n in lat_set:
            name = element_name(spec, n, lang)
            lines = [n] + ([name] if name else [])
            if n in endo and _num(r2.get(n)) is not None:
                lines.append(f"R² = {_fmt2(_num(r2.get(n)))}")
            w = max(_text_width(s, size_name if k else 12) for k, s in enumerate(lines))
            if layer.get(n, 1) == 1:
                span = _SLOT * max(1, sum(1 for i in indicators.get(n, []) if i not in lat_set))
                rx = max(min(span / 2 - 3, w / 2 + 14), w / 2 + 6)
            else:
                rx = w / 2 + 22
            ry = 10 + 7 * len(lines)
            geo[n] = ("ellipse", rx, ry)
        else:
            geo[n] = ("rect", (_SLOT - 6) / 2, _ITEM_H / 2)

    def bottom(n: str) -> tuple[float, float]:
        return xs[n], ys[n] + geo[n][2]

    def topp(n: str) -> tuple[float, float]:
        return xs[n], ys[n] - geo[n][2]

    parts: list[str] = []
    # loadings: latent -> indicator
    for _, r in load.iterrows():
        a, b = r["lhs"], r["rhs"]
        if a not in xs or b not in xs:
            continue
        (x1, y1), (x2, y2) = topp(a), bottom(b)
        p, std = _num(r.get("pvalue")), _num(r.get("std_all"))
        sig = _is_sig(p)
        dash = "" if sig else ' stroke-dasharray="5,4"'
        color = _SIG if sig else _NONSIG
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                     f'stroke="{color}" stroke-width="1.2"{dash} marker-end="url(#rm-arrow)"/>')
        t = 0.28 if b not in lat_set else 0.5
        lx, ly = x2 + (x1 - x2) * t, y2 + (y1 - y2) * t
        parts.append(_label(lx, ly, _fmt2(std) + _stars(p), 9.5, color))

    # structural arcs and covariances among the bottom nodes, stacked by span
    arcs = []
    for _, r in reg.iterrows():
        if r["lhs"] in xs and r["rhs"] in xs:
            arcs.append(("reg", r["rhs"], r["lhs"], _num(r.get("std_all")), _num(r.get("pvalue"))))
    top_set = set(top)
    for _, r in cov.iterrows():
        if r["lhs"] in top_set and r["rhs"] in top_set and r["lhs"] in lat_set | set(xs):
            if r["lhs"] in lat_set or r["rhs"] in lat_set:
                arcs.append(("cov", r["lhs"], r["rhs"], _num(r.get("std_all")), _num(r.get("pvalue"))))
    arcs.sort(key=lambda a: (abs(xs[a[1]] - xs[a[2]]), a[0], a[1], a[2]))
    y_base = max((bottom(n)[1] for n in xs), default=y_top)
    arc_bottom = y_base
    # spread the arcs' ends along the bottom of each node, ordered by the other end's position
    ends: dict[tuple[int, str], tuple[float, float]] = {}
    for n in xs:
        mine = sorted(((xs[b if a == n else a], k, a == n) for k, (_, a, b, _, _) in enumerate(arcs)
                       if n in (a, b)), key=lambda e: (e[0], e[1]))
        hw, hh = geo[n][1], geo[n][2]
        for m, (_, k, _) in enumerate(mine):
            off = (m - (len(mine) - 1) / 2) * min(18.0, 1.2 * hw / max(len(mine), 1))
            dy = hh * math.sqrt(max(0.0, 1 - (off / hw) ** 2)) if geo[n][0] == "ellipse" else hh
            ends[(k, n)] = (xs[n] + off, ys[n] + dy)
    for rank, (kind, a, b, std, p) in enumerate(arcs):
        (x1, y1), (x2, y2) = ends[(rank, a)], ends[(rank, b)]
        depth_px = 46 + 34 * rank
        cy = max(y1, y2) + depth_px
        sig = _is_sig(p)
        color = (_SIG if sig else _NONSIG) if kind == "reg" else ("#6b4c9a" if sig else _NONSIG)
        dash = "" if sig else ' stroke-dasharray="6,4"'
        if abs(x1 - x2) < 1:  # same column: loop outward
            x2 += 30
        d = (f"M{x1:.1f},{y1:.1f} C{x1:.1f},{cy:.1f} {x2:.1f},{cy:.1f} {x2:.1f},{y2:.1f}")
        start = ' marker-start="url(#rm-arrow-start-cov)"' if kind == "cov" else ""
        end = ' marker-end="url(#rm-arrow-cov)"' if kind == "cov" else ' marker-end="url(#rm-arrow-big)"'
        parts.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="'
                     f'{2.2 if kind == "reg" else 1.4}"{dash}{start}{end}/>')
        mx = (x1 + x2) / 2
        my = 0.125 * y1 + 0.375 * cy * 2 + 0.125 * y2
        lab = _fmt2(std) + _stars(p)
        if kind == "cov":
            lab = f"{lab} ({text('cov', lang)})"
        parts.append(_label(mx, my, lab, 11, color, bold=kind == "reg"))
        arc_bottom = max(arc_bottom, my + 10)

    # nodes on top of lines
    for n in xs:
        shape, hw, hh = geo[n]
        x, y = xs[n], ys[n]
        if shape == "rect":
            name = element_name(spec, n, lang)
            tip = f"<title>{_e(n)}{(': ' + _e(name)) if name else ''}</title>"
            fs = 11 if _text_width(n, 11) < 2 * hw - 4 else max(7, 11 * (2 * hw - 4) / _text_width(n, 11))
            parts.append(f'<g>{tip}<rect x="{x - hw:.1f}" y="{y - hh:.1f}" width="{2 * hw:.1f}" '
                         f'height="{2 * hh:.1f}" fill="#f4f6fa" stroke="#4a5568" rx="2"/>'
                         f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="{fs:.1f}" '
                         f'text-anchor="middle">{_e(n)}</text></g>')
        else:
            name = element_name(spec, n, lang)
            fill = "#fdf1dc" if layer.get(n, 1) >= 2 or (n in top_set and max_layer >= 2) else "#e6eefb"
            lines = [(n, 12, True)] + ([(name, size_name, False)] if name else [])
            if n in endo and _num(r2.get(n)) is not None:
                lines.append((f"R² = {_fmt2(_num(r2.get(n)))}", 10, False))
            parts.append(f'<g><title>{_e(n)}{(": " + _e(name)) if name else ""}</title>'
                         f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{hw:.1f}" ry="{hh:.1f}" '
                         f'fill="{fill}" stroke="#2d3748" stroke-width="1.3"/>')
            y0 = y - (len(lines) - 1) * 7.5
            for k, (s, fs, bold) in enumerate(lines):
                fw = ' font-weight="bold"' if bold else ""
                parts.append(f'<text x="{x:.1f}" y="{y0 + 15 * k + fs * 0.35:.1f}" '
                             f'font-size="{fs}" text-anchor="middle"{fw}>{_e(s)}</text>')
            parts.append("</g>")

    # legend
    ly = arc_bottom + 30
    parts.append(f'<line x1="{x0}" y1="{ly}" x2="{x0 + 40}" y2="{ly}" stroke="{_SIG}" stroke-width="2"/>'
                 f'<text x="{x0 + 48}" y="{ly + 4}" font-size="11">{_e(text("legend_solid", lang))}</text>'
                 f'<line x1="{x0 + 220}" y1="{ly}" x2="{x0 + 260}" y2="{ly}" stroke="{_NONSIG}" '
                 f'stroke-width="2" stroke-dasharray="6,4"/>'
                 f'<text x="{x0 + 268}" y="{ly + 4}" font-size="11">{_e(text("legend_dashed", lang))}</text>')
    height = ly + 24
    width = max(width, x0 + 480)
    defs = ('<defs>'
            '<marker id="rm-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
            'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#1f3b73"/></marker>'
            '<marker id="rm-arrow-big" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="5" '
            'markerHeight="5" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#1f3b73"/></marker>'
            '<marker id="rm-arrow-cov" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
            'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#6b4c9a"/></marker>'
            '<marker id="rm-arrow-start-cov" viewBox="0 0 10 10" refX="0" refY="5" markerWidth="6" '
            'markerHeight="6" orient="auto"><path d="M10,0 L0,5 L10,10 z" fill="#6b4c9a"/></marker>'
            '</defs>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="path-diagram" role="img" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'font-family="{FONT_FAMILY}">{defs}{"".join(parts)}</svg>')


def _blend(v: float, lo: tuple[int, int, int] = (255, 255, 255),
           hi: tuple[int, int, int] = (43, 108, 176)) -> str:
    v = min(1.0, max(0.0, v))
    c = [round(a + (b - a) * v) for a, b in zip(lo, hi)]
    return f"#{c[0]:02x}{c[1]:02x}{c[2]:02x}"


def heatmap(values: Sequence[Sequence[float | None]], row_labels: Sequence[str],
            col_labels: Sequence[str], *, vmin: float = 0.0, vmax: float = 1.0,
            flag: Callable[[float, int, int], bool] | None = None,
            row_tips: Sequence[str] | None = None, css_class: str = "heatmap") -> str:
    """Draw a matrix as an SVG heatmap with the value printed in each cell.

    Parameters
    ----------
    values : 2-D sequence
        Cell values (None or NaN for an empty cell).
    row_labels, col_labels : sequence of str
    vmin, vmax : float
        Values mapped to white and to full blue (absolute values are used).
    flag : callable, optional
        ``flag(value, i, j)`` True draws a red border (a failed threshold).
    row_tips : sequence of str, optional
        Tooltip text of each row label.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    cw, ch = 46, 22
    lw = max((_text_width(str(s), 11) for s in row_labels), default=20) + 12
    th = max((_text_width(str(s), 11) for s in col_labels), default=20)
    rotate = th > cw - 4
    top = (th * 0.75 + 14) if rotate else 22
    parts = []
    for j, c in enumerate(col_labels):
        x = lw + cw * (j + 0.5)
        if rotate:
            parts.append(f'<text x="{x:.1f}" y="{top - 6:.1f}" font-size="11" '
                         f'transform="rotate(-40 {x:.1f} {top - 6:.1f})">{_e(c)}</text>')
        else:
            parts.append(f'<text x="{x:.1f}" y="{top - 7:.1f}" font-size="11" '
                         f'text-anchor="middle">{_e(c)}</text>')
    for i, rlab in enumerate(row_labels):
        y = top + ch * i
        tip = f"<title>{_e(row_tips[i])}</title>" if row_tips and row_tips[i] else ""
        parts.append(f'<text x="{lw - 6:.1f}" y="{y + ch * 0.68:.1f}" font-size="11" '
                     f'text-anchor="end">{tip}{_e(rlab)}</text>')
        for j in range(len(col_labels)):
            v = values[i][j]
            x = lw + cw * j
            if v is None or (isinstance(v, float) and math.isnan(v)):
                parts.append(f'<rect x="{x}" y="{y}" width="{cw}" height="{ch}" fill="#f7f7f7" '
                             f'stroke="#fff"/>')
                continue
            k = (abs(v) - vmin) / (vmax - vmin) if vmax > vmin else 0.0
            fill = _blend(k)
            parts.append(f'<rect x="{x}" y="{y}" width="{cw}" height="{ch}" fill="{fill}" '
                         f'stroke="#fff"/>')
            if flag is not None and flag(v, i, j):
                parts.append(f'<rect x="{x + 1.5}" y="{y + 1.5}" width="{cw - 3}" height="{ch - 3}" '
                             f'fill="none" stroke="#c53030" stroke-width="2.5"/>')
            color = "#fff" if k > 0.6 else "#111"
            parts.append(f'<text x="{x + cw / 2:.1f}" y="{y + ch * 0.68:.1f}" font-size="10.5" '
                         f'text-anchor="middle" fill="{color}">{_e(_fmt2(float(v)))}</text>')
    w = lw + cw * len(col_labels) + 20
    h = top + ch * len(row_labels) + 8
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{_e(css_class)}" role="img" '
            f'viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" font-family="{FONT_FAMILY}">'
            f'{"".join(parts)}</svg>')


def _is_light(color: str) -> bool:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b > 150


def _category_colors(k: int) -> list[str]:
    """Diverging red-grey-blue colours for ``k`` ordered answers."""
    if k <= 1:
        return ["#8a8a8a"]
    lo, mid, hi = (178, 34, 34), (200, 200, 200), (33, 102, 172)
    out = []
    for i in range(k):
        t = i / (k - 1)
        a, b, u = (lo, mid, t * 2) if t <= 0.5 else (mid, hi, (t - 0.5) * 2)
        c = [round(x + (y - x) * u) for x, y in zip(a, b)]
        out.append(f"#{c[0]:02x}{c[1]:02x}{c[2]:02x}")
    return out


def response_distributions(data: pd.DataFrame, spec: Spec, lang: str) -> str:
    """Draw each item's answers as a 100% stacked bar (one row per item).

    Parameters
    ----------
    data : pandas.DataFrame
        The coded item answers (one column per item); answers are tabulated as they are.
    spec : riskmodel_sem.survey.spec.Spec
        For the scale's answer labels and the item wording (tooltips).
    lang : {"zh", "en"}

    Returns
    -------
    str
        An ``<svg>`` element with a legend of the answers.
    """
    scale = spec.scale
    vals = sorted({float(v) for v in pd.unique(data.to_numpy().ravel()) if not pd.isna(v)})
    if scale is not None:
        cats = list(range(int(scale.min), int(scale.max) + 1))
        cats += [v for v in vals if v not in cats]
    else:
        cats = vals
    colors = _category_colors(len(cats))
    bar_w, row_h = 520, 18
    lw = max((_text_width(str(c), 11) for c in data.columns), default=30) + 14
    parts = []
    for i, col in enumerate(data.columns):
        y = 34 + row_h * i
        counts = data[col].value_counts(dropna=True)
        total = float(counts.sum())
        name = element_name(spec, str(col), lang)
        parts.append(f'<text x="{lw - 6:.1f}" y="{y + 13:.1f}" font-size="11" text-anchor="end">'
                     f'<title>{_e(col)}{(": " + _e(name)) if name else ""}</title>{_e(col)}</text>')
        x = lw
        for c, color in zip(cats, colors):
            n = float(counts.get(c, 0)) if total else 0.0
            if not n:
                continue
            w = bar_w * n / total
            share = 100.0 * n / total
            parts.append(f'<rect x="{x:.2f}" y="{y + 2}" width="{w:.2f}" height="{row_h - 4}" '
                         f'fill="{color}"><title>{_e(col)} = {_e(_cat_label(scale, c, lang))}: '
                         f'{share:.1f}%</title></rect>')
            if w > 26:
                ink = "#111" if _is_light(color) else "#fff"
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 13:.1f}" font-size="9" '
                             f'text-anchor="middle" fill="{ink}">{share:.0f}%</text>')
            x += w
    # legend
    lx = lw
    for c, color in zip(cats, colors):
        lab = _cat_label(scale, c, lang)
        parts.append(f'<rect x="{lx:.1f}" y="8" width="12" height="12" fill="{color}"/>'
                     f'<text x="{lx + 16:.1f}" y="18" font-size="11">{_e(lab)}</text>')
        lx += 16 + _text_width(lab, 11) + 14
    w = max(lw + bar_w + 20, lx + 10)
    h = 34 + row_h * len(data.columns) + 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="distributions" role="img" '
            f'viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" font-family="{FONT_FAMILY}">'
            f'{"".join(parts)}</svg>')


def _cat_label(scale: Any, c: float, lang: str) -> str:
    num = int(c) if float(c).is_integer() else c
    if scale is not None:
        try:
            return f"{num} {scale.label(int(c), lang)}"
        except (KeyError, ValueError):
            pass
    return str(num)


def bootstrap_histograms(draws: pd.DataFrame, intervals: dict[str, tuple[float | None, float | None]],
                         titles: dict[str, str], bins: int = 30) -> str:
    """Small-multiple histograms of bootstrap draws, with 0 and the interval limits marked.

    Parameters
    ----------
    draws : pandas.DataFrame
        One column per effect, one row per bootstrap draw (non-finite draws are skipped).
    intervals : dict
        ``{effect: (lower, upper)}`` as given by the results (drawn as red lines).
    titles : dict
        ``{effect: title}``.
    bins : int
        Number of histogram bars.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    pw, ph, pad = 340, 170, 30
    cols = list(draws.columns)
    per_row = 2
    parts = []
    for k, col in enumerate(cols):
        ox = 10 + (pw + 20) * (k % per_row)
        oy = 10 + (ph + 40) * (k // per_row)
        v = pd.to_numeric(draws[col], errors="coerce").to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        parts.append(f'<text x="{ox + pw / 2:.1f}" y="{oy + 12:.1f}" font-size="12" '
                     f'text-anchor="middle" font-weight="bold">{_e(titles.get(col, col))}</text>')
        if not len(v):
            continue
        lo_i, hi_i = intervals.get(col, (None, None))
        marks = [x for x in (0.0, lo_i, hi_i) if x is not None]
        lo = min([float(v.min())] + marks)
        hi = max([float(v.max())] + marks)
        if hi <= lo:
            hi = lo + 1.0
        counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
        top = counts.max() or 1
        sx = lambda x: ox + pad + (x - lo) / (hi - lo) * (pw - 2 * pad)  # noqa: E731
        base = oy + ph
        for c, a, b in zip(counts, edges[:-1], edges[1:]):
            if not c:
                continue
            hgt = (ph - 30) * c / top
            parts.append(f'<rect x="{sx(a):.2f}" y="{base - hgt:.2f}" width="{max(sx(b) - sx(a) - 1, 0.5):.2f}" '
                         f'height="{hgt:.2f}" fill="#7fa7d9"/>')
        parts.append(f'<line x1="{ox + pad}" y1="{base}" x2="{ox + pw - pad}" y2="{base}" stroke="#333"/>')
        for x, color, dash in ((0.0, "#555", "3,3"), (lo_i, "#c53030", ""), (hi_i, "#c53030", "")):
            if x is None:
                continue
            d = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<line x1="{sx(x):.2f}" y1="{oy + 22}" x2="{sx(x):.2f}" y2="{base}" '
                         f'stroke="{color}" stroke-width="1.5"{d}/>')
        for x in (lo, hi):
            parts.append(f'<text x="{sx(x):.1f}" y="{base + 14}" font-size="10" '
                         f'text-anchor="middle">{x:.3f}</text>')
        if lo < 0 < hi:
            parts.append(f'<text x="{sx(0):.1f}" y="{base + 14}" font-size="10" '
                         f'text-anchor="middle">0</text>')
        if lo_i is not None and hi_i is not None:
            parts.append(f'<text x="{ox + pw - pad:.1f}" y="{oy + 28}" font-size="10" '
                         f'text-anchor="end" fill="#c53030">[{lo_i:.3f}, {hi_i:.3f}]</text>')
    n_rows = (len(cols) + per_row - 1) // per_row
    w = 10 + (pw + 20) * min(per_row, max(len(cols), 1))
    h = 10 + (ph + 40) * max(n_rows, 1)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="bootstrap" role="img" '
            f'viewBox="0 0 {w} {h}" width="{w}" font-family="{FONT_FAMILY}">{"".join(parts)}</svg>')


def power_curves(curves: pd.DataFrame, target: float, titles: dict[str, str],
                 marks: dict[str, int | None] | None = None, x_label: str = "N",
                 y_label: str = "power") -> str:
    """Power against sample size, one line per series, with the target power marked.

    Parameters
    ----------
    curves : pandas.DataFrame
        Columns ``series, n, power`` as the results give them.
    target : float
        The power a required N must reach (a dashed horizontal line).
    titles : dict
        ``{series: legend text}``.
    marks : dict, optional
        ``{series: N}``: the required N of a series, marked with a dot on its line.
    x_label, y_label : str
        Axis titles.

    Returns
    -------
    str
        An ``<svg>`` element (logarithmic N axis).
    """
    series = list(dict.fromkeys(curves["series"]))
    w, h, left, right, top, bottom = 640, 320, 52, 190, 16, 44
    ns = curves["n"].to_numpy(dtype=float)
    lo, hi = math.log(ns.min()), math.log(ns.max())
    if hi <= lo:
        hi = lo + 1.0
    sx = lambda n: left + (math.log(n) - lo) / (hi - lo) * (w - left - right)  # noqa: E731
    sy = lambda p: top + (1.0 - p) * (h - top - bottom)  # noqa: E731
    colors = _category_colors(max(len(series), 2))
    parts = [f'<line x1="{left}" y1="{sy(0):.1f}" x2="{w - right}" y2="{sy(0):.1f}" stroke="#333"/>',
             f'<line x1="{left}" y1="{sy(0):.1f}" x2="{left}" y2="{sy(1):.1f}" stroke="#333"/>']
    for p in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.append(f'<text x="{left - 6}" y="{sy(p) + 4:.1f}" font-size="10" '
                     f'text-anchor="end">{p:.1f}</text>')
    ticks = [n for n in (30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000)
             if math.exp(lo) <= n <= math.exp(hi)]
    for n in ticks:
        parts.append(f'<line x1="{sx(n):.1f}" y1="{sy(0):.1f}" x2="{sx(n):.1f}" '
                     f'y2="{sy(0) + 4:.1f}" stroke="#333"/>')
        parts.append(f'<text x="{sx(n):.1f}" y="{sy(0) + 16:.1f}" font-size="10" '
                     f'text-anchor="middle">{n}</text>')
    parts.append(f'<line x1="{left}" y1="{sy(target):.1f}" x2="{w - right}" y2="{sy(target):.1f}" '
                 f'stroke="#888" stroke-dasharray="4,3"/>')
    parts.append(f'<text x="{(left + w - right) / 2:.1f}" y="{h - 8}" font-size="11" '
                 f'text-anchor="middle">{_e(x_label)}</text>')
    parts.append(f'<text x="14" y="{(top + h - bottom) / 2:.1f}" font-size="11" '
                 f'text-anchor="middle" transform="rotate(-90 14 {(top + h - bottom) / 2:.1f})">'
                 f'{_e(y_label)}</text>')
    for k, name in enumerate(series):
        d = curves[curves["series"] == name].sort_values("n")
        pts = " ".join(f"{sx(n):.1f},{sy(p):.1f}" for n, p in zip(d["n"], d["power"]))
        color = colors[k % len(colors)]
        dash = ' stroke-dasharray="6,3"' if str(name).startswith("rmsea") else ""
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" '
                     f'stroke-width="1.8"{dash}/>')
        req = (marks or {}).get(name)
        if req is not None and math.exp(lo) <= req <= math.exp(hi):
            parts.append(f'<circle cx="{sx(req):.1f}" cy="{sy(target):.1f}" r="3.5" '
                         f'fill="{color}"/>')
        ly = top + 8 + 16 * k
        parts.append(f'<line x1="{w - right + 12}" y1="{ly}" x2="{w - right + 34}" y2="{ly}" '
                     f'stroke="{color}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{w - right + 40}" y="{ly + 4}" font-size="10">'
                     f'{_e(titles.get(name, name))}</text>')
    h_total = max(h, top + 16 * len(series) + 16)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="power-curves" role="img" '
            f'viewBox="0 0 {w} {h_total}" width="{w}" font-family="{FONT_FAMILY}">'
            f'{"".join(parts)}</svg>')
