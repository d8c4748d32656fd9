"""Plain JSON values from result objects: numpy scalars to Python, NaN and inf to null."""

from __future__ import annotations

import math
from json.encoder import encode_basestring
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["json_value", "json_text", "records", "number_or_none"]


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


def json_text(value, indent: int = 2) -> str:
    """The JSON text of :func:`json_value` of ``value``, written in one walk.

    Parameters
    ----------
    value
        Dicts, lists, tuples, arrays and scalars, as :func:`json_value` takes them.
    indent : int
        Spaces per nesting level.

    Returns
    -------
    str
        Exactly ``json.dumps(json_value(value), ensure_ascii=False, indent=indent,
        allow_nan=False)``: non-ASCII text kept, NaN and infinities as ``null``.

    Raises
    ------
    TypeError
        For a value that JSON cannot hold (as :func:`json.dumps` raises).
    """
    chunks: list[str] = []
    put = chunks.append
    isfinite, float_repr, int_repr = math.isfinite, float.__repr__, int.__repr__
    containers = (dict, list, tuple, np.ndarray)

    def scalar(v) -> str:
        t = type(v)
        if t is str:
            return encode_basestring(v)
        if t is float:
            return float_repr(v) if isfinite(v) else "null"
        if v is None:
            return "null"
        if t is bool:
            return "true" if v else "false"
        if t is int:
            return int_repr(v)
        if isinstance(v, str):
            return encode_basestring(v)
        if isinstance(v, (bool, np.bool_)):
            return "true" if v else "false"
        if isinstance(v, (int, np.integer)):
            return int_repr(int(v))
        if isinstance(v, (float, np.floating)):
            v = float(v)
            return float_repr(v) if isfinite(v) else "null"
        if isinstance(v, Path):
            return encode_basestring(str(v))
        if v is pd.NA or v is pd.NaT:
            return "null"
        raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")

    def walk(v, level: int) -> None:
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, dict):
            if not v:
                put("{}")
                return
            if not all(type(k) is str for k in v):
                v = {str(k): item for k, item in v.items()}
            inner = "\n" + " " * (indent * (level + 1))
            sep = "," + inner
            if not any(isinstance(item, containers) for item in v.values()):  # a record
                put("{" + inner + sep.join([encode_basestring(k) + ": " + scalar(item)
                                            for k, item in v.items()])
                    + "\n" + " " * (indent * level) + "}")
                return
            first = True
            for k, item in v.items():
                put(("{" + inner if first else sep) + encode_basestring(k) + ": ")
                first = False
                if isinstance(item, containers):
                    walk(item, level + 1)
                else:
                    put(scalar(item))
            put("\n" + " " * (indent * level) + "}")
        elif isinstance(v, (list, tuple)):
            if not v:
                put("[]")
                return
            inner = "\n" + " " * (indent * (level + 1))
            sep = "," + inner
            if not any(isinstance(item, containers) for item in v):
                put("[" + inner + sep.join([scalar(item) for item in v])
                    + "\n" + " " * (indent * level) + "]")
                return
            first = True
            for item in v:
                put("[" + inner if first else sep)
                first = False
                if isinstance(item, containers):
                    walk(item, level + 1)
                else:
                    put(scalar(item))
            put("\n" + " " * (indent * level) + "]")
        else:
            put(scalar(v))

    walk(value, 0)
    return "".join(chunks)


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
