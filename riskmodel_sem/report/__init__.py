"""Reports: the Excel workbook and the self-contained HTML page of an analysis.

Reports only format: they take the result objects of an :class:`~riskmodel_sem.analysis.Analysis`
and compute no statistic. Both outputs are built from the same tables
(:func:`~riskmodel_sem.report.tables.build_sheets`), in Chinese or English.

Files are written atomically: everything is rendered in memory, written to temporary files in
the target folder and only then renamed over the targets; if anything fails, the previous files
are left as they were and no temporary file remains. Other files in the folder are never
touched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import OutputError
from .excel import workbook_bytes
from .html import html_text
from .labels import resolve_language
from .tables import build_sheets

__all__ = ["write_reports", "render_reports", "REPORT_FILES"]

#: File names written into the output folder, by format.
REPORT_FILES = {"xlsx": "report.xlsx", "html": "report.html"}


def render_reports(analysis: Any, lang: str | None = None,
                   formats: tuple[str, ...] = ("xlsx", "html")) -> dict[str, bytes]:
    """Render the reports in memory.

    Parameters
    ----------
    analysis : riskmodel_sem.analysis.Analysis
        The results to report; stages that are None are left out.
    lang : {"zh", "en"}, optional
        Language of labels and fixed text; default the spec's ``language``.
    formats : tuple of {"xlsx", "html"}
        Which reports to render.

    Returns
    -------
    dict
        ``{file name: bytes}`` (``report.xlsx``, ``report.html``).

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
        raise OptionError(f"Unknown report format {unknown[0]!r} (use xlsx or html).")
    out: dict[str, bytes] = {}
    if "xlsx" in formats:
        out[REPORT_FILES["xlsx"]] = workbook_bytes(build_sheets(analysis, lang))
    if "html" in formats:
        out[REPORT_FILES["html"]] = html_text(analysis, build_sheets(analysis, lang),
                                              lang).encode("utf-8")
    return out


def write_reports(analysis: Any, out_dir: str | os.PathLike, lang: str | None = None, *,
                  formats: tuple[str, ...] = ("xlsx", "html"),
                  extra_files: Mapping[str, bytes | str] | None = None) -> dict[str, Path]:
    """Write ``report.xlsx`` and ``report.html`` (and any extra files) into ``out_dir``.

    Parameters
    ----------
    analysis : riskmodel_sem.analysis.Analysis
        The results to report.
    out_dir : path
        Target folder; created if missing.
    lang : {"zh", "en"}, optional
        Report language; default the spec's.
    formats : tuple of {"xlsx", "html"}
        Which reports to write.
    extra_files : mapping, optional
        Further ``{file name: content}`` to write in the same all-or-nothing step (for
        example ``{"results.json": text}``); str content is written as UTF-8.

    Returns
    -------
    dict
        ``{"xlsx": path, "html": path, <extra name>: path}`` of the files written.

    Raises
    ------
    OutputError
        If the folder cannot be created or written; nothing is replaced then.
    OptionError
        If ``lang`` or a format is unknown.

    Notes
    -----
    All files are rendered first, then written to temporary files in ``out_dir`` and renamed
    with :func:`os.replace`. If a rename fails, the files already replaced are restored from
    hard-link (or copy) backups, so either every file is new or none is.
    """
    contents = render_reports(analysis, lang, formats)
    keys = {REPORT_FILES[f]: f for f in formats}
    for name, data in (extra_files or {}).items():
        if os.path.basename(name) != name or name in ("", ".", ".."):
            raise OutputError(f"{name}: Extra report files must be plain file names.")
        contents[name] = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        keys[name] = name
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: Cannot create the output folder ({exc.strerror}).") from None
    _atomic_write_all(out, contents)
    return {keys[name]: out / name for name in contents}


def _atomic_write_all(out: Path, contents: dict[str, bytes]) -> None:
    temps: dict[str, str] = {}
    backups: dict[str, str] = {}
    replaced: list[str] = []
    try:
        for name, data in contents.items():
            fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=".tmp")
            temps[name] = tmp
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
        for name in contents:
            target = out / name
            if target.exists():
                fd, bak = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=".bak")
                os.close(fd)
                os.unlink(bak)
                try:
                    os.link(target, bak)
                except OSError:
                    import shutil

                    shutil.copy2(target, bak)
                backups[name] = bak
        for name, tmp in temps.items():
            os.replace(tmp, out / name)
            replaced.append(name)
    except OSError as exc:
        for name in replaced:  # undo: put the old files back, remove new ones
            try:
                if name in backups:
                    os.replace(backups.pop(name), out / name)
                else:
                    os.unlink(out / name)
            except OSError:
                pass
        raise OutputError(f"{out}: Cannot write the reports ({exc.strerror or exc}).") from None
    finally:
        for path in list(temps.values()) + list(backups.values()):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError:
                pass
