"""The data side of a fit: the model's columns, groups, complete rows and sample moments."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import DataQualityWarning, ModelError
from .model import SampleMoments, compile_model, compile_partable
from .syntax import parse_syntax, variable_roles

__all__ = ["group_label", "sample_moments", "check_pd", "model_data", "split_groups", "prepare",
           "model_variables", "compile_source", "code_ordered_text"]


def model_variables(model_source, source="model"):
    """``(observed, ov_x)`` of lavaan syntax or of a parameter table (observed variables in
    order of first appearance; ``ov_x`` the fixed.x covariates)."""
    if isinstance(model_source, pd.DataFrame):
        pt = model_source
        rows = [(lhs, op, rhs, exo) for lhs, op, rhs, exo in
                zip(pt["lhs"].tolist(), pt["op"].tolist(), pt["rhs"].tolist(),
                    pt["exo"].tolist()) if op in ("=~", "~", "~~", "~1")]
        latent = {lhs for lhs, op, _, _ in rows if op == "=~"}
        names = []
        for lhs, op, rhs, _ in rows:
            for v in ((rhs,) if op == "=~" else (lhs, rhs) if op != "~1" else (lhs,)):
                if v not in latent and v not in names:
                    names.append(v)
        ov_x = tuple(dict.fromkeys(lhs for lhs, _, _, exo in rows if exo == 1))
        return tuple(names), ov_x
    roles = variable_roles(parse_syntax(model_source, source))
    return tuple(roles.observed), tuple(roles.ov_x)


def compile_source(model_source, observed, *, meanstructure, ngroups, group_equal, moments,
                   source, fixed_x=True, orthogonal=False, std_lv=False, group_partial=()):
    """Compile lavaan syntax (:func:`compile_model`) or a parameter table
    (:func:`compile_partable`) for the data's observed variables."""
    if isinstance(model_source, pd.DataFrame):
        order = {v: i for i, v in enumerate(observed)}
        ordered = tuple(sorted(model_variables(model_source)[0], key=order.__getitem__))
        return compile_partable(model_source.copy(), ordered, ngroups=ngroups,
                                meanstructure=meanstructure or None, moments=moments,
                                source=source)
    return compile_model(model_source, observed, meanstructure=meanstructure, ngroups=ngroups,
                         group_equal=group_equal, group_partial=group_partial, moments=moments,
                         fixed_x=fixed_x, orthogonal=orthogonal, std_lv=std_lv, source=source)


def sample_moments(values: np.ndarray) -> SampleMoments:
    """Mean and covariance (divisor n) of complete rows; raises ModelError if not positive
    definite."""
    n = values.shape[0]
    mean = values.mean(axis=0)
    centered = values - mean
    cov = centered.T @ centered / n
    return SampleMoments(n=n, mean=mean, cov=cov)


def check_pd(cov: np.ndarray, names, what: str) -> None:
    """Raise ModelError naming constant or collinear items when ``cov`` is not positive
    definite."""
    variances = np.diag(cov)
    huge = [names[i] for i in np.flatnonzero(~np.isfinite(variances))]
    if huge:
        raise ModelError(f"The values of {', '.join(huge)} in {what} are too large to compute "
                         "with (their variance overflows); divide the column by a power of 10 "
                         "before fitting.")
    zero = [names[i] for i in np.flatnonzero(~(variances > 0))]
    if not zero:  # judged on the correlations: a variable's unit (yuan or 10 000 yuan) is no cause
        sd = np.sqrt(variances)
        eig = np.linalg.eigvalsh(cov / np.outer(sd, sd))
    if zero or eig.min() <= 1e-10:
        hint = (f" Item(s) without variance: {', '.join(zero)}." if zero else
                " Some items are linear combinations of others (duplicated or summed columns).")
        raise ModelError(f"The sample covariance matrix of {what} is not positive definite."
                         + hint)


def model_data(syntax, data, group=None, source="model"):
    """The model's observed variables as a float array, in lavaan's order (first appearance in
    the syntax), with the group column's values as strings (rows without a group dropped).

    ``syntax`` may also be a parameter table. Returns ``(ov_x, observed, values, groups)``;
    ``groups`` is None without a group column.
    """
    observed, ov_x = model_variables(syntax, source)
    values, groups = column_values(data, list(observed), group, source)
    if values.shape[0] > 1:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            var = np.nanvar(values, axis=0)
        var = var[np.isfinite(var) & (var > 0)]
        if var.size and var.max() > 1000 * var.min():  # lavaan's check in lav_data
            warnings.warn(f"{source}: some observed variances are (at least) a factor 1000 "
                          "times larger than others; the fit is computed all the same, but "
                          "consider rescaling those variables.", DataQualityWarning,
                          stacklevel=4)
    return ov_x, list(observed), values, groups


def group_label(value) -> str:
    """A group's value as text, as written in the data: ``2.0`` read from a workbook is
    ``"2"``; text is kept as it is."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def code_ordered_text(data: pd.DataFrame, columns, source="model") -> pd.DataFrame:
    """Ordered items given as text, coded 1..K as lavaan codes them.

    Parameters
    ----------
    data : pandas.DataFrame
        Not modified.
    columns : sequence of str
        The ordered items (columns that are absent are left to the caller's checks).
    source : str
        Name used in warnings.

    Returns
    -------
    pandas.DataFrame
        ``data`` itself when no ordered column holds text, else a copy in which an ordered
        ``pandas.Categorical`` column is coded by its categories' order and a text column by
        its distinct answers in sorted order (a DataQualityWarning names the order used).

    Notes
    -----
    lavaan turns an ordered character column into a factor whose levels are the sorted
    distinct values (``factor()``, ``lav_data_full``); the categories are the answers'
    alphabetical order, which is the answer order only when the labels are written so
    (e.g. "1 never", "2 rarely", ...). Numbers stored as text are numbers.
    """
    out = None
    for col in columns:
        if col not in data.columns:
            continue
        x = data[col]
        if isinstance(x.dtype, pd.CategoricalDtype) and x.cat.ordered:
            codes = np.where(x.cat.codes.to_numpy() >= 0, x.cat.codes.to_numpy() + 1.0, np.nan)
        elif pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype):
            continue
        else:
            text = x.astype(object)
            blank = text.isna() | text.map(lambda v: isinstance(v, str) and not v.strip())
            if pd.to_numeric(text[~blank], errors="coerce").notna().all():
                continue
            levels = sorted({str(v).strip() for v in text[~blank]})
            where = {lev: k + 1.0 for k, lev in enumerate(levels)}
            codes = np.array([np.nan if b else where[str(v).strip()]
                              for v, b in zip(text, blank)])
            warnings.warn(f"{source}: the text answers of the ordered item {col!r} are ordered "
                          f"as lavaan orders them, alphabetically: {' < '.join(levels)}; code "
                          "them as numbers (or read the survey with a spec whose scale maps the "
                          "labels) to set another order.", DataQualityWarning, stacklevel=3)
        out = data.copy() if out is None else out
        out[col] = codes
    return data if out is None else out


def column_values(data, observed, group=None, source="model"):
    """The columns ``observed`` of ``data`` as floats (NaN missing) and the group labels as
    strings, rows with a blank group label left out (with a DataQualityWarning that counts
    them); ``groups`` is None without a group column.

    Raises
    ------
    ModelError
        For a missing column, text that is not a number (naming column, row and value) or an
        infinite value.
    """
    missing_cols = [v for v in observed if v not in data.columns]
    if missing_cols:
        raise ModelError(f"{source}: the data have no column(s) {', '.join(missing_cols)}.")
    frame = data[observed + ([group] if group else [])]
    if group:
        label = frame[group]
        blank = label.isna() | label.map(lambda v: isinstance(v, str) and not v.strip())
        if blank.any():
            warnings.warn(f"{source}: {int(blank.sum())} row(s) with no value in the group "
                          f"column {group!r} were left out.", DataQualityWarning, stacklevel=5)
            frame = frame[~blank]
    sub = frame[observed]
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
           for t in sub.dtypes):
        values = sub.to_numpy(dtype=float, na_value=np.nan)
    else:
        coerced = sub.apply(pd.to_numeric, errors="coerce")
        text = coerced.isna() & sub.notna() & ~sub.map(
            lambda v: isinstance(v, str) and not v.strip())
        if text.to_numpy().any():
            col = text.any(axis=0).idxmax()
            row = text[col].idxmax()
            raise ModelError(f"{source}: column {col!r}, row {row!r} holds {sub.at[row, col]!r}, "
                             "which is not a number; recode the answers as numbers (or read "
                             "the survey with a spec whose scale maps the labels).")
        values = coerced.to_numpy(dtype=float)
    if np.isinf(values).any():
        raise ModelError(f"{source}: the data contain infinite values.")
    groups = (np.array([group_label(v) for v in frame[group]], dtype=object).astype(str)
              if group else None)
    return values, groups


def split_groups(keep, groups) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """Group labels in order of first appearance among the kept rows, and each group's row
    indices (one group of all kept rows without a group column)."""
    if groups is None:
        return (), [np.flatnonzero(keep)]
    labels = tuple(dict.fromkeys(groups[keep]))
    return labels, [np.flatnonzero(keep & (groups == lab)) for lab in labels]


def prepare(syntax, data, *, group=None, group_equal=(), meanstructure=False, fixed_x=True,
            orthogonal=False, std_lv=False, source="model", group_partial=()):
    """Select and clean the data for a model; return (model, moments, values, labels).

    The mean structure is on with ``meanstructure``, with groups, or when the model has an
    intercept (``~ 1``), lavaan's rule."""
    _, observed, values, groups = model_data(syntax, data, group, source)
    labels, groups_idx = split_groups(~np.isnan(values).any(axis=1), groups)
    moments = []
    for idx in groups_idx:
        if len(idx) < len(observed) + 1:
            raise ModelError(
                f"{source}: only {len(idx)} complete rows{' in a group' if group else ''} for "
                f"{len(observed)} observed variables; the model needs more rows."
            )
        mom = sample_moments(values[idx])
        check_pd(mom.cov, observed, "the data")
        moments.append(mom)
    model = compile_source(syntax, observed, meanstructure=meanstructure or bool(group),
                           ngroups=len(moments), group_equal=group_equal,
                           group_partial=group_partial, moments=moments,
                           source=source, fixed_x=fixed_x, orthogonal=orthogonal,
                           std_lv=std_lv)
    return model, moments, [values[idx] for idx in groups_idx], labels
