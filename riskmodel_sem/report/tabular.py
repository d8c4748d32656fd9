"""The table objects every report format renders: columns, tables, figures and sheets.

A :class:`Table` is data taken from result objects plus a column spec (key, header, kind of
number) and its texts; :mod:`riskmodel_sem.report.tables` and :mod:`riskmodel_sem.report.paper`
build them, the workbook, the page and the Word document render them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Column", "Table", "Figure", "Sheet", "cell_value"]


@dataclass(frozen=True)
class Column:
    """A table column: result key, header text and kind (text, num, p, int, auto)."""

    key: str
    header: str
    kind: str = "text"


@dataclass
class Table:
    """A table of one sheet.

    Attributes
    ----------
    id : str
        Identifier (letters, digits, ``_``): HTML anchor and Excel table name.
    title, note : str
        Title and the note on method and thresholds.
    columns : list of Column
    rows : list of list
        Raw values: float, int, str, bool or None.
    fails : set of (row, column)
        Cells that fail a threshold (highlighted).
    cell_kinds : dict of (row, column) to str
        Kinds of single cells that differ from their column's (:mod:`.numbers`).
    bold : set of (row, column)
        Cells printed in bold (√AVE on the diagonal of the Fornell–Larcker table).
    """

    id: str
    title: str
    note: str
    columns: list[Column]
    rows: list[list[Any]]
    fails: set[tuple[int, int]] = field(default_factory=set)
    cell_kinds: dict[tuple[int, int], str] = field(default_factory=dict)
    bold: set[tuple[int, int]] = field(default_factory=set)

    def kind(self, i: int, j: int) -> str:
        """Kind of cell (i, j): its own if set, else its column's."""
        return self.cell_kinds.get((i, j), self.columns[j].kind)


@dataclass
class Figure:
    """An inline SVG picture of the HTML page (not in the workbook)."""

    id: str
    title: str
    note: str
    svg: str


@dataclass
class Sheet:
    """One worksheet of the workbook and one section of the page."""

    id: str
    name: str
    tables: list[Table]
    figures: list[Figure] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------

def cell_value(v: Any) -> Any:
    """Turn a result value into a plain Python cell value (None for missing)."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, (tuple, list)):
        return ", ".join(str(cell_value(x)) for x in v)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)
