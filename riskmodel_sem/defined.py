"""Defined parameters (lavaan's ``:=``): safe evaluation and delta-method standard errors."""

from __future__ import annotations

import ast
import math

import numpy as np
import pandas as pd

from .errors import SpecError

__all__ = ["evaluate_definitions", "defined_parameters", "defined_jacobian"]

_FUNCS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs,
          "sin": math.sin, "cos": math.cos, "tan": math.tan}
_CONSTS = {"pi": math.pi}


def _eval(node, env):
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        if node.id in _CONSTS:
            return _CONSTS[node.id]
        raise KeyError(node.id)
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, env), _eval(node.right, env)
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
               ast.Div: lambda: a / b if b != 0 else math.nan, ast.Pow: lambda: a ** b}
        if type(node.op) in ops:
            return ops[type(node.op)]()
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _eval(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS:
        return _FUNCS[node.func.id](*(_eval(a, env) for a in node.args))
    raise ValueError("unsupported expression")


def _compile(expr: str, where: str):
    try:
        return ast.parse(expr.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"{where}: cannot read the expression {expr!r}.") from exc


def evaluate_definitions(partable: pd.DataFrame, values_by_label: dict) -> dict:
    """Evaluate every ``:=`` row in order, given values of the labelled parameters.

    Later definitions may use earlier ones, as in lavaan.
    """
    env = dict(values_by_label)
    out = {}
    for r in partable[partable["op"] == ":="].itertuples():
        tree = _compile(r.rhs, f"line {r.line}")
        try:
            value = _eval(tree, env)
        except (KeyError, ValueError, OverflowError, ZeroDivisionError):
            value = math.nan
        env[r.lhs] = value
        out[r.lhs] = value
    return out


def _label_values(model, theta) -> dict:
    pt = model.partable
    labelled = pt[(pt["label"] != "") & (pt["op"] != ":=")]
    values = {}
    for r in labelled.itertuples():
        if r.free > 0:
            values[r.label] = float(theta[r.free - 1])
        else:
            values[r.label] = float(r.ustart)
    return values


def defined_jacobian(model, theta, h: float = 1e-6) -> np.ndarray:
    """Jacobian of the defined parameters with respect to theta (central differences)."""
    names = list(model.partable.loc[model.partable["op"] == ":=", "lhs"])
    jac = np.zeros((len(names), model.n_free))
    for k in range(model.n_free):
        step = h * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += step
        down[k] -= step
        fu = evaluate_definitions(model.partable, _label_values(model, up))
        fd = evaluate_definitions(model.partable, _label_values(model, down))
        jac[:, k] = [(fu[n] - fd[n]) / (2 * step) for n in names]
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
    values = evaluate_definitions(pt, _label_values(model, theta))
    jac = defined_jacobian(model, theta)
    var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    return pd.DataFrame({
        "lhs": rows["lhs"].to_numpy(), "op": ":=", "rhs": rows["rhs"].to_numpy(),
        "label": rows["lhs"].to_numpy(),
        "est": [values[n] for n in rows["lhs"]],
        "se": np.sqrt(np.clip(var, 0, None)),
    })
