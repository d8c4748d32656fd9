"""The Word document ``report.docx``: the methods text (the estimator and why), the paper
tables as APA three-line tables, the path diagram and a results paragraph, in the report's
language.

Built with python-docx from the same :class:`~riskmodel_sem.report.tables.Table` objects as the
workbook and the page (:func:`riskmodel_sem.report.paper.paper_tables`), with every number
formatted by :mod:`riskmodel_sem.report.numbers`. Each table follows APA 7th ed. (section
7.8-7.21): "Table n" in bold, the title in italics, a rule above and below the header and
below the last row and no vertical rules, then "Note." and the table's note. The results
paragraph only puts given numbers into sentences.
"""

from __future__ import annotations

import datetime
import io
from typing import TYPE_CHECKING

from ..outputs import reproducible_package
from ..workflow.thresholds import CRITERIA
from .labels import spec_title, text
from .numbers import format_cell, format_number
from .paper import ci_text, methods_paragraph, paper_tables
from .tables import Table, power_sentence

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..workflow.analysis import Analysis

__all__ = ["docx_bytes", "results_paragraph"]

_FONT_LATIN = "Times New Roman"
_FONT_EAST_ASIA = "SimSun"


def _border(cell, **edges: str) -> None:
    """Set the borders of a table cell: ``top="single"`` etc. (OOXML ``w:tcBorders``)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for edge in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{edge}")
        val = edges.get(edge, "nil")
        el.set(qn("w:val"), val)
        if val != "nil":
            el.set(qn("w:sz"), "8")
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        borders.append(el)


def _fonts(doc) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style = doc.styles["Normal"]
    style.font.name = _FONT_LATIN
    style.font.size = Pt(10.5)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        from docx.oxml import OxmlElement

        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), _FONT_EAST_ASIA)


def _width(s: str) -> int:
    """Display width of a cell text in half-width characters (CJK count two)."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


#: Width of one half-width character of the 9 pt table text, and a cell's side margins (EMU).
_CHAR_EMU = 6 * 12700
_PAD_EMU = 3 * _CHAR_EMU


def _column_widths(chars: list[int], page_width: int) -> list[int]:
    """Column widths that fit the page: short columns keep their natural width, the long
    text columns share what is left (each at least ten characters wide)."""
    natural = [min(c, 60) * _CHAR_EMU + _PAD_EMU for c in chars]
    if sum(natural) <= page_width:
        spare = (page_width - sum(natural)) / len(natural)
        return [int(n + spare) for n in natural]
    long_cols = [j for j, c in enumerate(chars) if c > 12]
    fixed = sum(n for j, n in enumerate(natural) if j not in long_cols)
    room = max(page_width - fixed, len(long_cols) * (10 * _CHAR_EMU + _PAD_EMU))
    share = sum(natural[j] for j in long_cols) or 1
    return [int(room * natural[j] / share) if j in long_cols else natural[j]
            for j in range(len(chars))]


def _texts(tab: Table) -> list[list[str]]:
    out = [[col.header for col in tab.columns]]
    out += [[format_cell(v, tab.kind(i, j)) for j, v in enumerate(row)]
            for i, row in enumerate(tab.rows)]
    return out


def _natural_width(tab: Table) -> int:
    texts = _texts(tab)
    return sum(min(max(_width(t[j]) for t in texts), 24) * _CHAR_EMU + _PAD_EMU
               for j in range(len(tab.columns)))


def _new_section(doc, landscape: bool):
    """Start a new page in portrait or landscape orientation."""
    from docx.enum.section import WD_ORIENT, WD_SECTION

    old = doc.sections[-1]
    sec = doc.add_section(WD_SECTION.NEW_PAGE)
    w, h = old.page_width, old.page_height
    if (w > h) != landscape:
        w, h = h, w
    sec.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = w, h
    return sec


def _table(doc, tab: Table, number: int, lang: str, page_width: int) -> None:
    """Add one three-line table with its number, title and note."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.add_run(f"{text('table', lang)} {number}").bold = True
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.keep_with_next = True
    p = doc.add_paragraph()
    p.add_run(tab.title).italic = True
    p.paragraph_format.keep_with_next = True
    ncol = len(tab.columns)
    table = doc.add_table(rows=1 + len(tab.rows), cols=ncol)
    table.autofit = False
    grid = [r.cells for r in table.rows]  # table.cell(i, j) walks the whole table each time
    texts = _texts(tab)
    widths = _column_widths([max(_width(t[j]) for t in texts) for j in range(ncol)],
                            page_width)
    for j, column in enumerate(table.columns):  # the grid LibreOffice reads
        column.width = widths[j]
    for cells in grid:  # the cell widths Word reads
        for j, cell in enumerate(cells):
            cell.width = widths[j]
    for j, col in enumerate(tab.columns):
        cell = grid[0][j]
        cell.text = col.header
        _border(cell, top="single", bottom="single")
    last = len(tab.rows)
    for i, row in enumerate(tab.rows, start=1):
        for j, v in enumerate(row):
            cell = grid[i][j]
            s = texts[i][j]
            run = cell.paragraphs[0].add_run(s)
            if (i - 1, j) in tab.bold:
                run.bold = True
            if isinstance(v, (int, float)) and not isinstance(v, bool) or tab.kind(i - 1, j) == "fixed":
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _border(cell, bottom="single" if i == last else "nil")
    for cells in grid:
        for cell in cells:
            for par in cell.paragraphs:
                par.paragraph_format.space_after = Pt(0)
                for run in par.runs:
                    run.font.size = Pt(9)
    if tab.note:
        p = doc.add_paragraph()
        p.add_run(f"{text('note', lang)}.").italic = True
        p.add_run(" " + tab.note)
        for run in p.runs:
            run.font.size = Pt(9)


def _fit_sentence(a: Analysis, lang: str) -> str:
    fit = a.validation.cfa if a.validation is not None else a.fit
    if fit is None:
        return ""
    f = fit.fit
    keys = ("chisq", "df", "cfi", "tli", "rmsea", "srmr")
    if any(f.get(k) is None for k in keys):
        return ""
    good = all(CRITERIA[k].passes(f[k]) for k in ("cfi", "tli", "rmsea", "srmr"))
    head = text("results_paragraph_fit_good" if good else "results_paragraph_fit_poor", lang)
    body = text("results_paragraph_fit", lang).format(
        v_df=format_number(f["df"], "int"), v_chisq=format_number(f["chisq"], "num", decimals=2),
        v_cfi=format_number(f["cfi"], "std"), v_tli=format_number(f["tli"], "std"),
        v_rmsea=format_number(f["rmsea"], "std"),
        v_rmsea_ci=ci_text(f.get("rmsea_ci_lower"), f.get("rmsea_ci_upper"), "std"),
        v_srmr=format_number(f["srmr"], "std"))
    return head + body


def results_paragraph(a: Analysis, lang: str) -> str:
    """The results paragraph in ``lang``: the measurement model's fit, the hypotheses
    supported with β and p, the R² of the endogenous constructs and the indirect effects with
    their intervals (e.g. "The measurement model fit the data well, χ²(440) = 449.1,
    CFI = .998, ...")."""
    parts = [_fit_sentence(a, lang)]
    st = a.structural
    if st is not None and len(st.hypotheses):
        hyp = st.hypotheses
        sup = [str(h) for h, ok in zip(hyp["id"], hyp["supported"]) if ok is True or ok == 1]
        items = []
        for h in hyp.itertuples():
            if h.kind == "path" and h.std_all == h.std_all:
                p = format_number(h.pvalue, "p")
                items.append(text("results_paragraph_path", lang).format(
                    id=h.id, beta=format_number(h.std_all, "std"),
                    p=p if p.startswith("<") else f"= {p}"))
        sep = "；" if lang == "zh" else "; "
        parts.append(text("results_paragraph_hyp", lang).format(
            n=len(hyp), k=len(sup), ids=", ".join(sup) or text("none", lang))
            + (" " if lang == "en" else "") + sep.join(items) + ("。" if lang == "zh" else "."))
        if st.r2:
            sep = "，" if lang == "zh" else ", "
            what = sep.join(text("results_paragraph_r2_item", lang).format(
                c=c, r2=f"{100 * float(v):.1f}") for c, v in st.r2.items())
            parts.append(text("results_paragraph_r2", lang).format(what=what))
        ind = st.indirect
        if len(ind):
            boot = "ci_lower_perc" in ind.columns
            for r in ind[ind["kind"] == "indirect"].itertuples():
                lo, hi = (r.ci_lower_perc, r.ci_upper_perc) if boot else (r.ci_lower, r.ci_upper)
                label = text("ci_boot_perc" if boot else "ci_delta", lang)
                parts.append(text("results_paragraph_ind", lang).format(
                    id=r.id, est=format_number(r.est, "num"),
                    ci_label=f"95% CI ({label})", ci=ci_text(lo, hi)))
    joiner = "" if lang == "zh" else " "
    return joiner.join(p for p in parts if p)


def docx_bytes(a: Analysis, lang: str, diagram_png: bytes | None = None,
               tables: list[Table] | None = None, figures=()) -> bytes:
    """Render ``report.docx`` in memory.

    Parameters
    ----------
    a : riskmodel_sem.workflow.analysis.Analysis
    lang : {"zh", "en"}
    diagram_png : bytes, optional
        The path diagram as PNG (``diagram.png``), inserted as Figure 1.
    tables : list of Table, optional
        The tables to print; default :func:`riskmodel_sem.report.paper.paper_tables`.
    figures : sequence of (sheet id, title, note, PNG)
        Further figures after the diagram (the power curves), numbered on.

    Returns
    -------
    bytes
        The document, with fixed timestamps so that the same results give the same bytes.
    """
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    doc = docx.Document()
    _fonts(doc)
    section = doc.sections[0]
    section.left_margin = section.right_margin = Cm(2.0)
    doc.core_properties.title = spec_title(a.spec, lang)
    doc.add_heading(f"{spec_title(a.spec, lang)}: {text('docx_title', lang)}"
                    if lang == "en" else f"{spec_title(a.spec, lang)}：{text('docx_title', lang)}",
                    level=1)
    methods = methods_paragraph(a, lang)
    if methods:
        doc.add_heading(text("methods_title", lang), level=2)
        doc.add_paragraph(methods)
    doc.add_heading(text("results_title", lang), level=2)
    paragraph = results_paragraph(a, lang)
    if paragraph:
        doc.add_paragraph(paragraph)
    if a.power is not None:
        doc.add_paragraph(power_sentence(a.power, lang))
    width = section.page_width - section.left_margin - section.right_margin
    for n, tab in enumerate(tables if tables is not None else paper_tables(a, lang), start=1):
        wide = _natural_width(tab) > width
        if wide != (section.orientation == WD_ORIENT.LANDSCAPE):  # wide tables on landscape pages
            section = _new_section(doc, landscape=wide)
        _table(doc, tab, n, lang,
               section.page_width - section.left_margin - section.right_margin)
    if diagram_png:  # the diagram is wide: a landscape page of its own
        if section.orientation != WD_ORIENT.LANDSCAPE:
            section = _new_section(doc, landscape=True)
        width = section.page_width - section.left_margin - section.right_margin
        p = doc.add_paragraph()
        p.add_run(f"{text('figure', lang)} 1").bold = True
        p.paragraph_format.keep_with_next = True
        p = doc.add_paragraph()
        p.add_run(text("path_diagram", lang)).italic = True
        p.paragraph_format.keep_with_next = True
        doc.add_picture(io.BytesIO(diagram_png), width=width)
        p = doc.add_paragraph()
        p.add_run(f"{text('note', lang)}.").italic = True
        p.add_run(" " + text("path_diagram_note", lang))
    for k, (_, title, note, png) in enumerate(figures, start=2 if diagram_png else 1):
        if section.orientation != WD_ORIENT.LANDSCAPE:
            section = _new_section(doc, landscape=True)
        p = doc.add_paragraph()
        p.add_run(f"{text('figure', lang)} {k}").bold = True
        p.paragraph_format.keep_with_next = True
        p = doc.add_paragraph()
        p.add_run(title).italic = True
        p.paragraph_format.keep_with_next = True
        doc.add_picture(io.BytesIO(png), width=int(0.8 * (section.page_width
                                                          - section.left_margin
                                                          - section.right_margin)))
        p = doc.add_paragraph()
        p.add_run(f"{text('note', lang)}.").italic = True
        p.add_run(" " + note)
    buf = io.BytesIO()
    doc.save(buf)
    return reproducible_package(buf.getvalue(), _FIXED_TIME)


_FIXED_TIME = datetime.datetime(2000, 1, 1, 0, 0, 0)
