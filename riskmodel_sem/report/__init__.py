"""Reports: the Excel workbook, the self-contained HTML page, the Word document and the path
diagram (SVG and PNG) of an analysis.

Reports only format: they take the result objects of an :class:`~riskmodel_sem.workflow.analysis.Analysis`
and compute no statistic. All outputs are built from the same tables
(:func:`~riskmodel_sem.report.tables.build_sheets`, :func:`~riskmodel_sem.report.paper.paper_tables`)
and the same number formats (:mod:`~riskmodel_sem.report.numbers`), in Chinese or English.

Files are written atomically: everything is rendered in memory, written to temporary files in
the target folder and only then renamed over the targets; if anything fails, the previous files
are left as they were and no temporary file remains. Other files in the folder are never
touched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OutputError
from ..outputs import prepare_dir, write_files
from .diagram import diagram_png, path_diagram, power_figure
from .excel import workbook_bytes
from .html import html_text
from .labels import resolve_language, text
from .tables import build_sheets

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..workflow.analysis import Analysis

__all__ = ["write_reports", "render_reports", "REPORT_FILES", "DEFAULT_FORMATS"]

#: File names written into the output folder, by format.
REPORT_FILES = {"xlsx": "report.xlsx", "html": "report.html", "docx": "report.docx",
                "svg": "diagram.svg", "png": "diagram.png"}
#: Formats written by default.
DEFAULT_FORMATS = ("xlsx", "html", "docx", "svg", "png")


def _diagram_svg(analysis: Analysis, lang: str) -> str | None:
    """The path diagram of the hypothesized model, or None for a model without factors."""
    fit = analysis.fit
    if fit is None or not len(fit.estimates) or not (fit.estimates["op"] == "=~").any():
        return None
    return path_diagram(analysis.spec, fit.estimates, fit.r2, lang)


def render_reports(analysis: Analysis, lang: str | None = None,
                   formats: tuple[str, ...] = DEFAULT_FORMATS) -> dict[str, bytes]:
    """Render the reports in memory.

    Parameters
    ----------
    analysis : riskmodel_sem.workflow.analysis.Analysis
        The results to report; stages that are None are left out.
    lang : {"zh", "en"}, optional
        Language of labels and fixed text; default the spec's ``language``.
    formats : tuple of {"xlsx", "html", "docx", "svg", "png"}
        Which files to render (the diagram only for a model with latent variables).

    Returns
    -------
    dict
        ``{file name: bytes}`` (``report.xlsx``, ``report.html``, ``report.docx``,
        ``diagram.svg``, ``diagram.png``).

    Raises
    ------
    OptionError
        If ``lang`` or a format is unknown.
    """
    from ..errors import OptionError

    try:
        lang = resolve_language(lang, analysis.spec)
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    unknown = [f for f in formats if f not in REPORT_FILES]
    if unknown:
        raise OptionError(f"Unknown report format {unknown[0]!r} (use "
                          f"{', '.join(REPORT_FILES)}).")
    out: dict[str, bytes] = {}
    svg = _diagram_svg(analysis, lang) if {"svg", "png", "xlsx", "docx"} & set(formats) else None
    png = diagram_png(svg) if svg is not None and {"png", "xlsx", "docx"} & set(formats) else None
    if svg is not None and "svg" in formats:
        out[REPORT_FILES["svg"]] = svg.encode("utf-8")
    if png is not None and "png" in formats:
        out[REPORT_FILES["png"]] = png
    figures = []  # (sheet id, title, note, PNG) of the workbook and the Word file
    if analysis.power is not None and len(analysis.power.curves) and \
            {"xlsx", "docx"} & set(formats):
        figures.append(("power", text("power_curves", lang), text("power_curves_note", lang),
                        diagram_png(power_figure(analysis.power, lang))))
    if "xlsx" in formats:
        out[REPORT_FILES["xlsx"]] = workbook_bytes(build_sheets(analysis, lang), diagram=png,
                                                   diagram_title=text("path_diagram", lang),
                                                   figures=figures)
    if "docx" in formats:
        from .word import docx_bytes

        out[REPORT_FILES["docx"]] = docx_bytes(analysis, lang, png, figures=figures)
    if "html" in formats:
        out[REPORT_FILES["html"]] = html_text(analysis, build_sheets(analysis, lang),
                                              lang).encode("utf-8")
    return out


def write_reports(analysis: Analysis, out_dir: str | os.PathLike, lang: str | None = None, *,
                  formats: tuple[str, ...] = DEFAULT_FORMATS,
                  extra_files: Mapping[str, bytes | str] | None = None) -> dict[str, Path]:
    """Write ``report.xlsx``, ``report.html``, ``report.docx``, ``diagram.svg`` and
    ``diagram.png`` (and any extra files) into ``out_dir``.

    Parameters
    ----------
    analysis : riskmodel_sem.workflow.analysis.Analysis
        The results to report.
    out_dir : path
        Target folder; created if missing.
    lang : {"zh", "en"}, optional
        Report language; default the spec's.
    formats : tuple of {"xlsx", "html", "docx", "svg", "png"}
        Which files to write.
    extra_files : mapping, optional
        Further ``{file name: content}`` to write in the same all-or-nothing step (for
        example ``{"results.json": text}``); str content is written as UTF-8.

    Returns
    -------
    dict
        ``{"xlsx": path, "html": path, "docx": path, "svg": path, "png": path,
        <extra name>: path}`` of the files written.

    Raises
    ------
    OutputError
        If the folder cannot be created or written; nothing is replaced then.
    OptionError
        If ``lang`` or a format is unknown.

    Notes
    -----
    All files are rendered first, then written as one set by
    :func:`riskmodel_sem.outputs.write_files`: either every file is new or none is.
    """
    contents = render_reports(analysis, lang, formats)
    keys = {REPORT_FILES[f]: f for f in formats if REPORT_FILES[f] in contents}
    for name, data in (extra_files or {}).items():
        if os.path.basename(name) != name or name in ("", ".", ".."):
            raise OutputError(f"{name}: Extra report files must be plain file names.")
        contents[name] = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        keys[name] = name
    folder = prepare_dir(out_dir)
    written = write_files({folder / name: data for name, data in contents.items()})
    return {keys[path.name]: path for path in written}
