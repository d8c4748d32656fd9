"""Plain JSON values from result objects: numpy scalars to Python, NaN and inf to null."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["json_value", "records", "number_or_none"]


def json_value(value):
    """A JSON-ready copy of ``value`` (dicts, lists, tuples and arrays converted deeply)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_value(value.tolist())
    if isinstance(value, Path):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows of a table as JSON-ready dictionaries (``json_value`` of
    ``frame.to_dict(orient="records")``, built column by column)."""
    if not frame.columns.is_unique:  # pandas keeps the last of equally named columns
        return [json_value(rec) for rec in frame.to_dict(orient="records")]
    keys = [str(c) for c in frame.columns]
    columns = [_column_values(frame.iloc[:, k]) for k in range(len(keys))]
    return [dict(zip(keys, row)) for row in zip(*columns)] if keys else [{} for _ in range(len(frame))]


def _column_values(column: pd.Series) -> list:
    """:func:`json_value` of every value of a column: numpy's float, integer and boolean
    columns give Python numbers directly (NaN and infinities as None)."""
    values = column.tolist()
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else "O"
    if kind == "f":
        isfinite = math.isfinite
        return [v if isfinite(v) else None for v in values]
    if kind in "iub":
        return values
    return [json_value(v) for v in values]


def number_or_none(value) -> float | None:
    """``value`` as a float, or None when it is not a number or is NaN (missing)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f
