"""``cleaned.xlsx``: the survey without the respondents screening dropped, and those rows
with their reasons.

Written beside the report with ``--drop-flagged``. The cells are the file's as read (text
answers stay text), so the workbook can replace the export in a later run; the sheet of dropped
rows gives, for each, its row in the original file, its id and why it was dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .excel import data_workbook_bytes
from .labels import text

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..survey.readers import SurveyTable
    from ..workflow.sample import Cleaning

__all__ = ["cleaned_workbook"]


def _reasons(codes: str, lang: str) -> str:
    sep = "；" if lang == "zh" else "; "
    return sep.join(text(f"reason_{c.strip()}", lang) for c in codes.split(",") if c.strip())


def cleaned_workbook(table: SurveyTable, cleaning: Cleaning, lang: str = "en") -> bytes:
    """Render the cleaned data and the dropped rows as an .xlsx workbook.

    Parameters
    ----------
    table : riskmodel_sem.survey.readers.SurveyTable
        The survey file's cells (:func:`riskmodel_sem.survey.readers.read_table`).
    cleaning : riskmodel_sem.workflow.sample.Cleaning
        Which rows were dropped and why.
    lang : {"zh", "en"}
        Language of the sheet names, the added headers and the reasons.

    Returns
    -------
    bytes
        Sheet 1: the header and the rows kept; sheet 2: the dropped rows, each with its row
        number in the file, its id and its reasons, then its cells.
    """
    header = list(table.header)
    dropped = cleaning.flagged[cleaning.flagged["dropped"]]
    gone = set(int(p) for p in dropped["position"])
    rows = [[col[i] for col in table.columns] for i in range(table.n_rows) if i not in gone]
    out_rows = []
    for rec in dropped.to_dict(orient="records"):
        i = int(rec["position"])
        ident = rec["id"].item() if hasattr(rec["id"], "item") else rec["id"]
        out_rows.append([int(rec["row"]), ident, _reasons(rec["reasons"], lang)]
                        + [col[i] for col in table.columns])
    extra = [text("cleaned_row", lang), text("cleaned_id", lang), text("cleaned_reasons", lang)]
    return data_workbook_bytes([(text("cleaned_sheet", lang), header, rows),
                                (text("dropped_sheet", lang), extra + header, out_rows)])
