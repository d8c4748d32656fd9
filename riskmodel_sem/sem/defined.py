"""Defined parameters (lavaan's ``:=``): safe evaluation and delta-method standard errors."""

from __future__ import annotations

import ast
import math

import numpy as np
import pandas as pd

from ..errors import SpecError
from .numdiff import central_jacobian

__all__ = ["compile_definition", "evaluate_definitions", "defined_values", "defined_parameters",
           "defined_jacobian"]

_FUNCS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs,
          "sin": math.sin, "cos": math.cos, "tan": math.tan}
_CONSTS = {"pi": math.pi}


_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
           ast.Pow: lambda a, b: a ** b}


def _to_function(node):
    """Turn a checked expression tree into nested closures (no eval of user text)."""
    if isinstance(node, ast.Expression):
        return _to_function(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        value = float(node.value)
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id
        if name in _CONSTS:
            value = _CONSTS[name]
            return lambda env: value
        return lambda env: env[name]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        op, left, right = _BINOPS[type(node.op)], _to_function(node.left), \
            _to_function(node.right)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _to_function(node.operand)
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        return lambda env: sign * inner(env)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in _FUNCS and not node.keywords:
        func, args = _FUNCS[node.func.id], [_to_function(x) for x in node.args]
        return lambda env: func(*(f(env) for f in args))
    raise ValueError(type(node).__name__)


def compile_definition(expr: str, where: str = "model"):
    """Compile the right-hand side of a ``:=`` line into a function of the label values.

    Only numbers, parameter labels, + - * / ^ and exp, log, sqrt, abs, sin, cos, tan are
    accepted; nothing of the text is ever executed as code.

    Raises
    ------
    SpecError
        If the expression is anything else.
    """
    try:
        return _to_function(ast.parse(expr.replace("^", "**"), mode="eval"))
    except (SyntaxError, ValueError) as exc:
        raise SpecError(f"{where}: cannot read the expression {expr!r}.") from exc


def _run(func, env) -> float:
    try:
        return float(func(env))
    except (KeyError, ValueError, OverflowError, ZeroDivisionError, TypeError):
        return math.nan


def evaluate_definitions(definitions, values_by_label: dict) -> dict:
    """Evaluate compiled ``:=`` definitions in order; later ones may use earlier ones."""
    env = dict(values_by_label)
    out = {}
    for name, code in definitions:
        env[name] = out[name] = _run(code, env)
    return out


def _label_values(model, row_values) -> dict:
    return {lab: float(row_values[k]) for lab, k in model.rows.labels.items()}


def defined_values(model, theta) -> np.ndarray:
    """The defined parameters at ``theta``, in parameter-table order."""
    values = evaluate_definitions(model.rows.definitions,
                                  _label_values(model, model.row_values(theta)))
    return np.array([values[name] for name, _ in model.rows.definitions])


def defined_jacobian(model, theta, h: float = 1e-6) -> np.ndarray:
    """Jacobian of the defined parameters with respect to theta (central differences,
    :func:`riskmodel_sem.sem.numdiff.central_jacobian`).

    Only parameters that carry a label can enter a definition; the others have zero columns.
    """
    rows = model.rows
    used = sorted({int(rows.free[k]) for k in rows.labels.values() if rows.free[k] >= 0})
    jac = central_jacobian(lambda t: defined_values(model, t), theta, h=h, columns=used)
    if jac.shape[0] != len(rows.definitions):  # no labelled free parameter
        jac = np.zeros((len(rows.definitions), model.n_free))
    return jac


def defined_parameters(model, theta, vcov) -> pd.DataFrame:
    """Rows ``name := expression`` with estimates and delta-method SEs.

    Notes
    -----
    ``se = sqrt(J V J')`` with J the Jacobian of the definitions at the estimates, as lavaan's
    ``lav_model_vcov_se`` does for ``:=`` parameters.
    """
    pt = model.partable
    rows = pt[pt["op"] == ":="]
    if rows.empty:
        return pd.DataFrame(columns=["lhs", "op", "rhs", "label", "est", "se"])
    jac = defined_jacobian(model, theta)
    var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    return pd.DataFrame({
        "lhs": rows["lhs"].to_numpy(), "op": ":=", "rhs": rows["rhs"].to_numpy(),
        "label": rows["lhs"].to_numpy(),
        "est": defined_values(model, theta),
        "se": np.sqrt(np.clip(var, 0, None)),
    })
