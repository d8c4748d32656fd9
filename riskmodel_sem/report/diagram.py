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

from ..errors import OutputError
from .labels import column_header, element_name, text
from .._json import number_or_none as _num

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..survey.spec import Spec

__all__ = ["path_diagram", "diagram_png", "power_figure", "heatmap", "response_distributions",
           "bootstrap_histograms", "power_curves", "FONT_FAMILY"]

#: Font stack with CJK fonts first so Chinese labels render (Noto CJK / WenQuanYi on Linux).
FONT_FAMILY = ("'Noto Sans CJK SC','Noto Sans SC','WenQuanYi Zen Hei','Microsoft YaHei',"
               "'PingFang SC','Hiragino Sans GB',sans-serif")

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


def _wrap(s: str, size: float, limit: float) -> list[str]:
    """Split a name into lines no wider than ``limit`` pixels (at spaces, or between CJK
    characters)."""
    if _text_width(s, size) <= limit:
        return [s]
    lines: list[str] = []
    cur = ""
    tokens = s.split(" ") if " " in s else list(s)
    glue = " " if " " in s else ""
    for tok in tokens:
        cand = f"{cur}{glue}{tok}" if cur else tok
        if cur and _text_width(cand, size) > limit:
            lines.append(cur)
            cur = tok
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines


class _Node:
    """A drawn variable: a rectangle (observed) or an ellipse (latent) with its text lines."""

    def __init__(self, name: str, latent: bool, lines: list[tuple[str, float, bool]]):
        self.name = name
        self.latent = latent
        self.lines = lines
        self.x = 0.0
        self.y = 0.0
        line_h = [fs + 4 for _, fs, _ in lines]
        widths = [_text_width(s, fs * (1.08 if bold else 1.0)) for s, fs, bold in lines]
        if latent:
            self.hh = sum(line_h) / 2 + 12
            # every line inside the ellipse: (w/2 / rx)^2 + (dy / ry)^2 <= 1
            top = -sum(line_h) / 2
            need = 0.0
            for w, h in zip(widths, line_h):
                dy = max(abs(top), abs(top + h))
                top += h
                room = math.sqrt(max(1e-3, 1 - (dy / self.hh) ** 2))
                need = max(need, (w / 2 + 3) / room)
            self.hw = max(need, self.hh + 6)
        else:
            self.hw = max(widths) / 2 + 8
            self.hh = sum(line_h) / 2 + 4

    def boundary(self, tx: float, ty: float) -> tuple[float, float]:
        """The point of the outline in the direction of (tx, ty)."""
        dx, dy = tx - self.x, ty - self.y
        if dx == 0 and dy == 0:
            return self.x, self.y
        if self.latent:
            k = 1.0 / math.sqrt((dx / self.hw) ** 2 + (dy / self.hh) ** 2)
        else:
            k = min(self.hw / abs(dx) if dx else math.inf, self.hh / abs(dy) if dy else math.inf)
        return self.x + dx * k, self.y + dy * k

    def box(self) -> tuple[float, float, float, float]:
        return self.x - self.hw, self.y - self.hh, self.x + self.hw, self.y + self.hh


def _overlap(a: tuple, b: tuple, pad: float = 1.0) -> bool:
    return not (a[2] + pad <= b[0] or b[2] + pad <= a[0] or a[3] + pad <= b[1]
                or b[3] + pad <= a[1])


def _structural_layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layer of each node (sources 0); a cycle is broken at the node seen last."""
    preds = {n: [a for a, b in edges if b == n and a in nodes and a != n] for n in nodes}
    layer: dict[str, int] = {}

    def visit(n: str, stack: frozenset) -> int:
        if n in layer:
            return layer[n]
        ps = [p for p in preds[n] if p not in stack]
        layer[n] = 1 + max((visit(p, stack | {n}) for p in ps), default=-1)
        return layer[n]

    for n in nodes:
        visit(n, frozenset())
    return layer


def _around(na: _Node, nb: _Node, x_lo: float, x_hi: float, limit: float,
            up: bool) -> tuple[float, float]:
    """Control point of a quadratic curve from ``na`` to ``nb`` that stays above (``up``) or
    below ``limit`` wherever it crosses the x range [x_lo, x_hi]."""
    cx = (na.x + nb.x) / 2
    cy = limit
    for _ in range(60):
        worst = -math.inf
        for k in range(41):
            t = k / 40
            u = 1 - t
            x = u * u * na.x + 2 * u * t * cx + t * t * nb.x
            y = u * u * na.y + 2 * u * t * cy + t * t * nb.y
            if x_lo - 10 <= x <= x_hi + 10:
                worst = max(worst, (y - limit) if up else (limit - y))
        if worst <= 0:
            break
        cy += -max(worst, 4.0) * 1.5 if up else max(worst, 4.0) * 1.5
    return cx, cy


def _item_gap(axis: str) -> float:
    """Gap between neighbouring indicators: stacked (``"v"``) or side by side (``"h"``, where
    the loading labels sit between the arrows)."""
    return _GAP_ITEM if axis == "v" else _GAP_ITEM_H


_GAP_ITEM_H = 22.0
_GAP_ITEM = 6.0      # between items of one factor
_GAP_GROUP = 14.0    # between the item groups of two factors
_GAP_BLOCK = 34.0    # between two top-level blocks
_COL_GAP = 86.0      # between a column of indicators and the column of their factor
_STRUCT_GAP = 150.0  # between structural columns
_MARGIN = 24.0


def path_diagram(spec: Spec, estimates: pd.DataFrame, r2: dict | None, lang: str) -> str:
    """Draw the model as a layered SVG path diagram with standardized estimates.

    Parameters
    ----------
    spec : riskmodel_sem.survey.spec.Spec
        For the names of factors, dimensions and items and the hypothesis labels of paths.
    estimates : pandas.DataFrame
        The parameter table (lhs, op, rhs, label, pvalue, std_all); with several groups the
        first group is drawn.
    r2 : dict or None
        R² of endogenous variables, shown inside them.
    lang : {"zh", "en"}

    Returns
    -------
    str
        An ``<svg>`` element. Top-level variables are placed in layers from left to right by
        their structural paths: exogenous ones on the left with their factors and items
        further left, final outcomes on the right with theirs further right, mediators in
        between with their indicators above them. Paths carry their hypothesis label, the
        standardized estimate and stars; significant (p < .05) paths are solid, others
        dashed. Every node is a ``<g class="node">`` and every label a ``<g class="label">``.

    Notes
    -----
    The layout is deterministic and computed from the model's structure and text widths so
    that no two nodes or labels overlap (tests/test_report_diagram.py checks the rendered
    geometry in Chromium). A path that skips a layer is drawn as a curve around the
    mediators' blocks.
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
    is_indicator = {i for ind in indicators.values() for i in ind}
    top = [n for n in latents if n not in is_indicator]
    top += [n for n in dict.fromkeys(list(reg["rhs"]) + list(reg["lhs"]))
            if n not in top and n not in is_indicator]
    edges = [(r["rhs"], r["lhs"]) for _, r in reg.iterrows()
             if r["rhs"] in top and r["lhs"] in top]
    layer = _structural_layers(top, edges)
    max_layer = max(layer.values(), default=0)
    if max_layer == 0 and len(top) > 1:  # no structural paths: two facing columns
        half = (len(top) + 1) // 2
        side = {n: ("left" if k < half else "right") for k, n in enumerate(top)}
        layer = {n: (0 if side[n] == "left" else 1) for n in top}
        max_layer = 1
    else:
        side = {n: "left" if layer[n] == 0 else "right" if layer[n] == max_layer else "mid"
                for n in top}
        if max_layer == 0:
            side = {n: "left" for n in top}
    r2 = r2 or {}
    endo = set(reg["lhs"])
    labels = {(r["lhs"], r["rhs"]): str(r.get("label") or "") for _, r in reg.iterrows()}
    hyp_ids = {(h.lhs, h.rhs): h.id for h in getattr(spec, "hypotheses", ())
               if getattr(h, "kind", "path") == "path"}

    # ---- nodes ----
    nodes: dict[str, _Node] = {}
    name_limit = 150.0 if lang == "en" else 120.0

    def make(n: str) -> _Node:
        if n in nodes:
            return nodes[n]
        latent = n in lat_set
        lines: list[tuple[str, float, bool]] = [(n, 12.0 if latent else 11.0, latent)]
        if latent:
            name = element_name(spec, n, lang)
            if name and name != n:
                lines += [(s, 11.0, False) for s in _wrap(name, 11.0, name_limit)]
            if n in endo and _num(r2.get(n)) is not None:
                lines.append((f"R² = {_fmt2(_num(r2.get(n)))}", 10.0, False))
        nodes[n] = _Node(n, latent, lines)
        for c in indicators.get(n, []):
            make(c)
        return nodes[n]

    for n in top:
        make(n)

    depth: dict[str, int] = {}

    def dep(n: str, seen: frozenset = frozenset()) -> int:
        if n not in depth:
            kids = [c for c in indicators.get(n, []) if c not in seen]
            depth[n] = 1 + max((dep(c, seen | {n}) for c in kids), default=-1) if kids else 0
        return depth[n]

    for n in top:
        dep(n)

    def subtree(n: str) -> list[str]:
        out = [n]
        for c in indicators.get(n, []):
            out += subtree(c)
        return out

    # ---- one block per top-level variable, laid out along its axis ----
    def extent(n: str, axis: str) -> float:
        node = nodes[n]
        own = 2 * (node.hh if axis == "v" else node.hw)
        kids = indicators.get(n, [])
        if not kids:
            return own
        total = sum(extent(c, axis) for c in kids)
        total += sum(_item_gap(axis) if not indicators.get(c) else _GAP_GROUP for c in kids[1:])
        return max(own, total)

    def place(n: str, start: float, axis: str) -> None:
        node = nodes[n]
        kids = indicators.get(n, [])
        ext = extent(n, axis)
        if kids:
            total = sum(extent(c, axis) for c in kids)
            total += sum(_item_gap(axis) if not indicators.get(c) else _GAP_GROUP
                         for c in kids[1:])
            pos = start + (ext - total) / 2
            centers = []
            for k, c in enumerate(kids):
                if k:
                    pos += _item_gap(axis) if not indicators.get(c) else _GAP_GROUP
                place(c, pos, axis)
                centers.append(nodes[c].y if axis == "v" else nodes[c].x)
                pos += extent(c, axis)
            mid = (centers[0] + centers[-1]) / 2
        else:
            mid = start + ext / 2
        if axis == "v":
            node.y = mid
        else:
            node.x = mid

    # columns (left/right sides: x by depth) and rows (mid blocks: y by depth)
    def col_widths(members: list[str]) -> dict[int, float]:
        w: dict[int, float] = {}
        for t in members:
            for n in subtree(t):
                w[depth[n]] = max(w.get(depth[n], 0.0), 2 * nodes[n].hw)
        return w

    left = [n for n in top if side[n] == "left"]
    right = [n for n in top if side[n] == "right"]
    mids: dict[int, list[str]] = {}
    for n in top:
        if side[n] == "mid":
            mids.setdefault(layer[n], []).append(n)

    x = _MARGIN
    col_x: dict[tuple[str, int], float] = {}
    wl = col_widths(left)
    dmax_l = max(wl, default=0)
    for d in range(dmax_l + 1):
        w = wl.get(d, 0.0)
        col_x[("left", d)] = x + w / 2
        x += w + (_COL_GAP if d < dmax_l else 0.0)
    struct_x: dict[int, float] = {0: col_x.get(("left", dmax_l), x)}
    mid_layout: dict[int, tuple[float, float]] = {}
    for L in range(1, max_layer):
        members = mids.get(L, [])
        width = max((extent(n, "h") for n in members), default=0.0)
        x += _STRUCT_GAP
        mid_layout[L] = (x, width)
        struct_x[L] = x + width / 2
        x += width
    wr = col_widths(right)
    dmax_r = max(wr, default=0)
    if right:
        x += _STRUCT_GAP
        for d in range(dmax_r, -1, -1):
            w = wr.get(d, 0.0)
            col_x[("right", d)] = x + w / 2
            x += w + (_COL_GAP if d > 0 else 0.0)
        struct_x[max_layer] = col_x[("right", dmax_r)]
    width = x + _MARGIN

    # vertical stacks of the left and right sides
    def stack_side(members: list[str], name: str) -> float:
        y = 0.0
        for k, t in enumerate(members):
            if k:
                y += _GAP_BLOCK
            place(t, y, "v")
            for n in subtree(t):
                nodes[n].x = col_x[(name, depth[n])] if n != t else col_x[(name, max(
                    wl if name == "left" else wr, default=0))]
            y += extent(t, "v")
        return y

    h_left = stack_side(left, "left")
    h_right = stack_side(right, "right")
    # mid blocks: indicators above the variable, rows by depth
    row_h: dict[int, float] = {}
    for members in mids.values():
        for t in members:
            for n in subtree(t):
                row_h[depth[n]] = max(row_h.get(depth[n], 0.0), 2 * nodes[n].hh)
    dmax_m = max(row_h, default=0)
    row_y: dict[int, float] = {}
    y = 0.0
    for d in range(dmax_m + 1):
        h = row_h.get(d, 0.0)
        row_y[d] = y + h / 2
        y += h + (_COL_GAP * 0.8 if d < dmax_m else 0.0)
    block_h = y
    h_mid = 0.0
    for L, members in mids.items():
        x0, w = mid_layout[L]
        yy = 0.0
        for k, t in enumerate(members):
            if k:
                yy += _GAP_BLOCK
            place(t, x0 + (w - extent(t, "h")) / 2, "h")
            for n in subtree(t):
                nodes[n].y = yy + row_y[depth[n]] if n != t else yy + row_y[dmax_m]
            nodes[t].x = struct_x[L]
            yy += block_h
        h_mid = max(h_mid, yy)
    y_top = _MARGIN + 14.0
    height_nodes = max(h_left, h_right, h_mid, 60.0)
    for members, h in ((left, h_left), (right, h_right)):
        shift = y_top + (height_nodes - h) / 2
        for t in members:
            for n in subtree(t):
                nodes[n].y += shift
    for members in mids.values():
        hh = len(members) * block_h + (len(members) - 1) * _GAP_BLOCK
        shift = y_top + (height_nodes - hh) / 2
        for t in members:
            for n in subtree(t):
                nodes[n].y += shift
    mid_top = min((nodes[n].y - nodes[n].hh for ms in mids.values() for t in ms
                   for n in subtree(t)), default=None)
    mid_left = min((nodes[n].x - nodes[n].hw for ms in mids.values() for t in ms
                    for n in subtree(t)), default=None)
    mid_right = max((nodes[n].x + nodes[n].hw for ms in mids.values() for t in ms
                     for n in subtree(t)), default=None)
    blocked: list = []
    mid_bottom = max((nodes[n].y + nodes[n].hh for ms in mids.values() for t in ms
                      for n in subtree(t)), default=None)

    # ---- drawing ----
    parts: list[str] = []
    boxes: list[tuple[float, float, float, float]] = [nd.box() for nd in nodes.values()]
    label_parts: list[str] = []

    def put_label(points: list[tuple[float, float]], s: str, size: float, color: str,
                  bold: bool) -> None:
        w = _text_width(s, size * (1.08 if bold else 1.0)) + 8
        h = size + 6
        for px, py in points:
            box = (px - w / 2, py - h / 2, px + w / 2, py + h / 2)
            if not any(_overlap(box, b) for b in boxes):
                break
        else:
            px, py = points[0]
            box = (px - w / 2, py - h / 2, px + w / 2, py + h / 2)
        boxes.append(box)
        weight = ' font-weight="bold"' if bold else ""
        label_parts.append(
            f'<g class="label"><rect x="{box[0]:.1f}" y="{box[1]:.1f}" width="{w:.1f}" '
            f'height="{h:.1f}" fill="#fff" fill-opacity="0.92" rx="2"/>'
            f'<text x="{px:.1f}" y="{py + size * 0.36:.1f}" font-size="{size}" fill="{color}" '
            f'text-anchor="middle"{weight}>{_e(s)}</text></g>')

    def along(p0, p1, ts, ctrl=None):
        out = []
        for t in ts:
            if ctrl is None:
                out.append((p0[0] + (p1[0] - p0[0]) * t, p0[1] + (p1[1] - p0[1]) * t))
            else:
                u = 1 - t
                out.append((u * u * p0[0] + 2 * u * t * ctrl[0] + t * t * p1[0],
                            u * u * p0[1] + 2 * u * t * ctrl[1] + t * t * p1[1]))
        return out

    # loadings: factor -> indicator
    for _, r in load.iterrows():
        a, b = r["lhs"], r["rhs"]
        if a not in nodes or b not in nodes:
            continue
        na, nb = nodes[a], nodes[b]
        p0, p1 = na.boundary(nb.x, nb.y), nb.boundary(na.x, na.y)
        p, std = _num(r.get("pvalue")), _num(r.get("std_all"))
        sig = _is_sig(p)
        color = _SIG if sig else _NONSIG
        dash = "" if sig else ' stroke-dasharray="5,4"'
        parts.append(f'<line x1="{p0[0]:.1f}" y1="{p0[1]:.1f}" x2="{p1[0]:.1f}" y2="{p1[1]:.1f}" '
                     f'stroke="{color}" stroke-width="1.2"{dash} marker-end="url(#rm-arrow)"/>')
        put_label(along(p1, p0, (0.34, 0.5, 0.22, 0.62, 0.14, 0.75)), _fmt2(std) + _stars(p), 9.5,
                  color, False)

    # structural paths
    spread: dict[str, int] = {}
    for _, r in reg.iterrows():
        a, b = r["rhs"], r["lhs"]
        if a not in nodes or b not in nodes:
            continue
        na, nb = nodes[a], nodes[b]
        ctrl = None
        la, lb = layer.get(a, 0), layer.get(b, 0)
        if mid_top is not None and abs(lb - la) > 1:  # skip a layer: go around the mediators
            avg = (na.y + nb.y) / 2
            up = abs(avg - (mid_top - 26)) <= abs(avg - (mid_bottom + 26))
            ctrl = _around(na, nb, mid_left, mid_right, mid_top - 22 if up else mid_bottom + 22,
                           up)
        target = ctrl or (nb.x, nb.y)
        source = ctrl or (na.x, na.y)
        p0, p1 = na.boundary(*target), nb.boundary(*source)
        p, std = _num(r.get("pvalue")), _num(r.get("std_all"))
        sig = _is_sig(p)
        color = _SIG if sig else _NONSIG
        dash = "" if sig else ' stroke-dasharray="6,4"'
        if ctrl is None:
            d = f"M{p0[0]:.1f},{p0[1]:.1f} L{p1[0]:.1f},{p1[1]:.1f}"
        else:
            d = f"M{p0[0]:.1f},{p0[1]:.1f} Q{ctrl[0]:.1f},{ctrl[1]:.1f} {p1[0]:.1f},{p1[1]:.1f}"
            blocked.append((p0, ctrl, p1))
        parts.append(f'<path class="path-reg" d="{d}" fill="none" stroke="{color}" '
                     f'stroke-width="2"{dash} marker-end="url(#rm-arrow-big)"/>')
        hid = hyp_ids.get((b, a)) or labels.get((b, a), "")
        lab = (f"{hid}: " if hid else "") + _fmt2(std) + _stars(p)
        k = spread.get(b, 0)
        spread[b] = k + 1
        ts = (0.5, 0.4, 0.6, 0.32, 0.68, 0.25, 0.75) if k % 2 == 0 else \
             (0.42, 0.55, 0.34, 0.64, 0.26, 0.72)
        put_label(along(p0, p1, ts, ctrl), lab, 11, color, True)

    # covariances among top-level variables (free, non-zero), as curves beside them
    cov_pairs = []
    for _, r in cov.iterrows():
        a, b = r["lhs"], r["rhs"]
        if a in top and b in top and a in nodes and b in nodes:
            std = _num(r.get("std_all"))
            if std is not None and abs(std) > 0 and len(top) <= 6:
                cov_pairs.append((a, b, std, _num(r.get("pvalue"))))
    for a, b, std, p in cov_pairs:
        na, nb = nodes[a], nodes[b]
        outward = -1.0 if side.get(a) == "right" else 1.0
        if side.get(a) == "left" or side.get(a) == "right":
            bulge = max(na.hw, nb.hw) + 46
            ctrl = ((na.x + nb.x) / 2 + outward * bulge * 1.6, (na.y + nb.y) / 2)
        else:
            ctrl = ((na.x + nb.x) / 2, min(na.y, nb.y) - 90)
        p0, p1 = na.boundary(*ctrl), nb.boundary(*ctrl)
        sig = _is_sig(p)
        color = "#6b4c9a" if sig else _NONSIG
        dash = "" if sig else ' stroke-dasharray="6,4"'
        parts.append(f'<path class="path-cov" d="M{p0[0]:.1f},{p0[1]:.1f} Q{ctrl[0]:.1f},'
                     f'{ctrl[1]:.1f} {p1[0]:.1f},{p1[1]:.1f}" fill="none" stroke="{color}" '
                     f'stroke-width="1.4"{dash} marker-start="url(#rm-arrow-start-cov)" '
                     f'marker-end="url(#rm-arrow-cov)"/>')
        put_label(along(p0, p1, (0.5, 0.4, 0.6, 0.3, 0.7), ctrl), _fmt2(std) + _stars(p), 10.5,
                  color, False)

    # nodes on top of the lines
    node_parts = []
    for n, nd in nodes.items():
        name = element_name(spec, n, lang)
        tip = f"<title>{_e(n)}{(': ' + _e(name)) if name and name != n else ''}</title>"
        if nd.latent:
            fill = "#fdf1dc" if n in top else "#e6eefb"
            shape = (f'<ellipse cx="{nd.x:.1f}" cy="{nd.y:.1f}" rx="{nd.hw:.1f}" '
                     f'ry="{nd.hh:.1f}" fill="{fill}" stroke="#2d3748" stroke-width="1.3"/>')
        else:
            shape = (f'<rect x="{nd.x - nd.hw:.1f}" y="{nd.y - nd.hh:.1f}" width="{2 * nd.hw:.1f}" '
                     f'height="{2 * nd.hh:.1f}" fill="#f4f6fa" stroke="#4a5568" rx="2"/>')
        texts = []
        total = sum(fs + 4 for _, fs, _ in nd.lines)
        yy = nd.y - total / 2
        for s, fs, bold in nd.lines:
            fw = ' font-weight="bold"' if bold else ""
            texts.append(f'<text x="{nd.x:.1f}" y="{yy + (fs + 4) / 2 + fs * 0.36:.1f}" '
                         f'font-size="{fs:g}" text-anchor="middle"{fw}>{_e(s)}</text>')
            yy += fs + 4
        node_parts.append(f'<g class="node" data-name="{_e(n)}">{tip}{shape}{"".join(texts)}</g>')

    # legend under everything
    bottom = max(b[3] for b in boxes) if boxes else y_top
    ly = bottom + 26
    legend = (f'<g class="legend"><line x1="{_MARGIN}" y1="{ly:.1f}" x2="{_MARGIN + 40}" '
              f'y2="{ly:.1f}" stroke="{_SIG}" stroke-width="2"/>'
              f'<text x="{_MARGIN + 48}" y="{ly + 4:.1f}" font-size="11">'
              f'{_e(text("legend_solid", lang))}</text>'
              f'<line x1="{_MARGIN + 220}" y1="{ly:.1f}" x2="{_MARGIN + 260}" y2="{ly:.1f}" '
              f'stroke="{_NONSIG}" stroke-width="2" stroke-dasharray="6,4"/>'
              f'<text x="{_MARGIN + 268}" y="{ly + 4:.1f}" font-size="11">'
              f'{_e(text("legend_dashed", lang))}</text></g>')
    top_y = min(b[1] for b in boxes) if boxes else 0.0
    offset = _MARGIN - min(top_y, _MARGIN)
    height = ly + 20 + offset
    width = max(width, _MARGIN + 480, max(b[2] for b in boxes) + _MARGIN if boxes else 0)
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
    body = "".join(parts) + "".join(node_parts) + "".join(label_parts) + legend
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="path-diagram" role="img" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
            f'font-family="{FONT_FAMILY}"><rect width="100%" height="100%" fill="#fff"/>'
            f'{defs}<g transform="translate(0 {offset:.1f})">{body}</g></svg>')


def diagram_png(svg: str, scale: float = 2.0) -> bytes:
    """Rasterize an SVG picture of this module to PNG (cairosvg, ``scale`` × its size).

    Raises
    ------
    OutputError
        When cairosvg or the cairo library it needs is missing.
    """
    try:
        import cairosvg
    except (ImportError, OSError) as exc:  # cairocffi raises OSError without libcairo
        raise OutputError(f"diagram.png: cannot be drawn without cairosvg and the cairo "
                          f"library (pip install cairosvg; apt-get install libcairo2): {exc}"
                          ) from None
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)


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


def power_figure(power, lang: str) -> str:
    """The power curves of a :class:`~riskmodel_sem.workflow.power.PowerResult`, labelled in
    ``lang`` (the required N of every series marked)."""
    titles = {"rmsea_close": text("power_series_close", lang),
              "rmsea_notclose": text("power_series_notclose", lang)}
    marks = dict(zip(power.paths_required["label"], power.paths_required["n_required"]))
    marks.update(rmsea_close=power.n_required_close, rmsea_notclose=power.n_required_notclose)
    return power_curves(power.curves, power.target, titles, marks,
                        y_label=column_header("power", lang))


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
