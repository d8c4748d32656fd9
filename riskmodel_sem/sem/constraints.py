"""Equality and inequality constraints (lavaan's ``==``, ``<``, ``>``) on the free parameters.

A model's constraints are the rows ``lhs == rhs``, ``lhs < rhs`` and ``lhs > rhs`` of its
parameter table; both sides are expressions in parameter labels and ``:=`` names. They are
written, as lavaan does (``lav_partable_constraints_ceq``/``_ciq``), as

    c_eq(theta) = lhs - rhs = 0,        c_in(theta) >= 0 with c_in = lhs - rhs (">"),
                                                            c_in = rhs - lhs ("<").

Estimation keeps one objective (:class:`riskmodel_sem.sem.objective.MLObjective`) and its
optimizers:

- linear equality constraints only: the parameters are reparametrized as theta = k0 + K alpha,
  with K an orthonormal basis of the null space of the constraint Jacobian H and H k0 = -c(0)
  (lavaan's ``ceq.linear.only`` reparametrization), and the existing optimizers minimize over
  alpha (:class:`ReducedObjective`);
- nonlinear equality or any inequality constraints: sequential quadratic programming (scipy's
  SLSQP) on F, polished by scoring-SQP steps on the active constraints (the same optimum as
  lavaan's ``nlminb.constr``, not its algorithm).

Standard errors follow ``lav_model_information_augment_invert``: the information is inverted
on the null space of the Jacobian of the equality and the *active* inequality constraints
(those with c_in <= 1e-5, lavaan's slack), i.e. the top-left block of the inverse of the
bordered matrix [[I + H'H, H'], [H, 0]], which is K (K' I K)^-1 K'. lavaan's ``npar`` and
``df`` count only the rank of the equality constraints' Jacobian
(``lav_utils_get_npar``, ``lav_model_test``): inequality constraints never change them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize as _sp_optimize

from ..errors import ModelError
from .defined import evaluate_definitions
from .numdiff import central_jacobian
from .optimize import OptimizeResult, minimize

__all__ = ["has_constraints", "label_slots", "constraint_values", "constraint_jacobian",
           "linear_equalities", "null_space", "ReducedObjective", "constrained_minimize",
           "linear_reduction", "sqp_minimize",
           "active_basis", "n_equality", "constraint_rows", "ACTIVE_SLACK"]

#: lavaan's slack: an inequality constraint with c_in <= 1e-5 at the estimates is active
#: (``nlminb.constr``).
ACTIVE_SLACK = 1e-5


def has_constraints(model) -> bool:
    """True when the parameter table has ``==``, ``<`` or ``>`` rows."""
    return model.rows is not None and bool(model.rows.constraints)


def label_slots(model) -> tuple:
    """``(label, free index or -1, fixed value)`` of every label of the model's rows."""
    rows = model.rows
    values = model.row_values(np.zeros(model.n_free))
    return tuple((lab, int(rows.free[k]), float(values[k])) for lab, k in rows.labels.items())


def _environment(model, theta, slots=None) -> dict:
    slots = label_slots(model) if slots is None else slots
    env = {lab: (float(theta[k]) if k >= 0 else value) for lab, k, value in slots}
    env.update(evaluate_definitions(model.rows.definitions, env))
    return env


def _value(func, env) -> float:
    try:
        return float(func(env))
    except (ValueError, OverflowError, ZeroDivisionError, TypeError):
        return math.nan


def constraint_values(model, theta, slots=None) -> tuple[np.ndarray, np.ndarray]:
    """``(c_eq, c_in)`` at theta: equality residuals lhs - rhs and inequality slacks (>= 0
    when satisfied), in parameter-table order."""
    env = _environment(model, theta, slots)
    eq, ineq = [], []
    for op, lhs, rhs, _ in model.rows.constraints:
        a, b = _value(lhs, env), _value(rhs, env)
        if op == "==":
            eq.append(a - b)
        elif op == ">":
            ineq.append(a - b)
        else:
            ineq.append(b - a)
    return np.array(eq, float), np.array(ineq, float)


def constraint_rows(model, theta, env=None) -> np.ndarray:
    """The value lavaan's ``parameterEstimates(..., remove.eq = FALSE, remove.ineq = FALSE)``
    shows in ``est`` for every constraint row: lhs - rhs for ``==`` and ``>``, rhs - lhs for
    ``<``. ``env`` maps labels and ``:=`` names to values (default: at theta); with
    standardized values it gives lavaan's ``std.lv``/``std.all`` of these rows."""
    env = _environment(model, theta) if env is None else env
    out = []
    for op, lhs, rhs, _ in model.rows.constraints:
        a, b = _value(lhs, env), _value(rhs, env)
        out.append(b - a if op == "<" else a - b)
    return np.array(out, float)


def _used_columns(model) -> list[int]:
    rows = model.rows
    return sorted({int(rows.free[k]) for k in rows.labels.values() if rows.free[k] >= 0})


def constraint_jacobian(model, theta, slots=None) -> tuple[np.ndarray, np.ndarray]:
    """Jacobians ``(H_eq, H_in)`` of :func:`constraint_values` (central differences, as
    lavaan's ``lav_func_jacobian_complex``/``_simple``; exact for linear constraints)."""
    slots = label_slots(model) if slots is None else slots
    n_eq = sum(1 for c in model.rows.constraints if c[0] == "==")

    def both(t):
        e, i = constraint_values(model, t, slots)
        return np.concatenate([e, i])

    jac = central_jacobian(both, np.asarray(theta, float), h=1e-6,
                           columns=_used_columns(model))
    if jac.shape[0] != len(model.rows.constraints):
        jac = np.zeros((len(model.rows.constraints), model.n_free))
    return jac[:n_eq], jac[n_eq:]


def linear_equalities(model, theta) -> tuple[np.ndarray, np.ndarray] | None:
    """``(H, c0)`` with c_eq(t) = H t + c0 when every constraint is a linear equality; None
    when there is an inequality or a nonlinear equality (checked by comparing the Jacobian at
    theta and at a distant point)."""
    cons = model.rows.constraints
    if not cons or any(c[0] != "==" for c in cons):
        return None
    slots = label_slots(model)
    theta = np.asarray(theta, float)
    H, _ = constraint_jacobian(model, theta, slots)
    shifted = theta + 0.37 + 0.5 * np.abs(theta)
    H2, _ = constraint_jacobian(model, shifted, slots)
    if not np.all(np.isfinite(H)) or not np.allclose(H, H2, rtol=1e-7, atol=1e-8):
        return None
    c_theta, _ = constraint_values(model, theta, slots)
    c_shift, _ = constraint_values(model, shifted, slots)
    if not np.allclose(c_shift - c_theta, H @ (shifted - theta), rtol=1e-7, atol=1e-8):
        return None
    H = np.where(np.abs(H) < 1e-10, 0.0, np.round(H, 10))
    return H, c_theta - H @ theta


def null_space(H: np.ndarray, q: int, tol: float = 1e-7) -> tuple[np.ndarray, int]:
    """Orthonormal basis K (q, q - r) of the null space of H and the rank r of H (the QR rank
    lavaan uses, tolerance 1e-7 relative to the largest singular value)."""
    if H.size == 0:
        return np.eye(q), 0
    _, s, vt = np.linalg.svd(H, full_matrices=True)
    r = int(np.sum(s > tol * max(s[0], 1.0))) if len(s) else 0
    return vt[r:].T.copy(), r


class ReducedObjective:
    """The ML objective as a function of alpha, with theta = k0 + K alpha.

    Value, gradient (K' dF/dtheta), information (K' I K) and scores (scores K) are those of
    the wrapped objective, so every optimizer and the sandwich work unchanged.
    """

    def __init__(self, objective, K: np.ndarray, k0: np.ndarray):
        self.objective = objective
        self.K = np.asarray(K, float)
        self.k0 = np.asarray(k0, float)
        self.n = objective.n
        self.groups = objective.groups
        self.complete = objective.complete
        self.model = objective.model

    @property
    def n_free(self) -> int:
        return self.K.shape[1]

    def theta(self, alpha) -> np.ndarray:
        return self.k0 + self.K @ alpha

    def alpha(self, theta) -> np.ndarray:
        """The alpha whose theta is closest to the given one (K is orthonormal)."""
        return self.K.T @ (np.asarray(theta, float) - self.k0)

    def value_grad(self, alpha, with_grad: bool = True):
        res = self.objective.value_grad(self.theta(alpha), with_grad)
        if res is None or not with_grad:
            return res
        return res[0], self.K.T @ res[1]

    def value(self, alpha):
        return self.objective.value(self.theta(alpha))

    def gradient(self, alpha):
        return self.K.T @ self.objective.gradient(self.theta(alpha))

    def _project(self, info):
        return self.K.T @ info @ self.K

    def expected_information(self, alpha):
        return self._project(self.objective.expected_information(self.theta(alpha)))

    def complete_information(self, alpha):
        return self._project(self.objective.complete_information(self.theta(alpha)))

    def observed_information(self, alpha):
        return self._project(self.objective.observed_information(self.theta(alpha)))

    def scores(self, alpha):
        return self.objective.scores(self.theta(alpha)) @ self.K


def n_equality(model, theta) -> int:
    """Rank of the equality constraints' Jacobian at theta (lavaan's ``neq``)."""
    if not has_constraints(model):
        return 0
    H, _ = constraint_jacobian(model, theta)
    return null_space(H, model.n_free)[1]


def active_basis(model, theta) -> tuple[np.ndarray, np.ndarray, int]:
    """``(K, active, rank)``: orthonormal basis of the null space of the Jacobian of the
    equality and active inequality constraints at theta; the active inequalities (slack
    <= :data:`ACTIVE_SLACK`); the rank of that Jacobian."""
    q = model.n_free
    if not has_constraints(model):
        return np.eye(q), np.zeros(0, bool), 0
    H_eq, H_in = constraint_jacobian(model, theta)
    _, c_in = constraint_values(model, theta)
    active = c_in <= ACTIVE_SLACK
    K, rank = null_space(np.vstack([H_eq, H_in[active]]), q)
    return K, active, rank


def linear_reduction(objective, theta0, source: str = "model") -> ReducedObjective | None:
    """The objective over alpha (theta = k0 + K alpha) when every constraint is a linear
    equality; None otherwise.

    Raises
    ------
    ModelError
        When the equality constraints are inconsistent.
    """
    model = objective.model
    linear = linear_equalities(model, theta0)
    if linear is None:
        return None
    H, c0 = linear
    k0 = np.linalg.lstsq(H, -c0, rcond=None)[0]
    if np.max(np.abs(H @ k0 + c0), initial=0.0) > 1e-8:
        shown = "; ".join(c[3] for c in model.rows.constraints)
        raise ModelError(f"{source}: The equality constraints ({shown}) cannot all hold at "
                         "once.")
    K, _ = null_space(H, len(theta0))
    return ReducedObjective(objective, K, k0)


def constrained_minimize(objective, theta0, *, method: str = "scoring", tol: float = 1e-9,
                         max_iter: int = 500, source: str = "model", **options
                         ) -> OptimizeResult:
    """Minimize the objective subject to the model's ``==``, ``<`` and ``>`` constraints.

    Parameters
    ----------
    objective : MLObjective
    theta0 : numpy.ndarray
        Starting values (need not satisfy the constraints).
    method, tol, max_iter, **options
        Passed to :func:`riskmodel_sem.sem.optimize.minimize` for linear equality constraints
        (minimized over alpha); see the module notes for the other constraints.
    source : str
        Name of the model for messages.

    Returns
    -------
    OptimizeResult
        In theta; ``grad`` is the gradient projected on the null space of the active
        constraints' Jacobian (zero at a constrained optimum).

    Raises
    ------
    ModelError
        When the equality constraints are inconsistent.
    """
    theta0 = np.asarray(theta0, float)
    reduced = linear_reduction(objective, theta0, source)
    if reduced is not None:
        res = minimize(reduced, reduced.alpha(theta0), method, tol=tol, max_iter=max_iter,
                       **options)
        return OptimizeResult(reduced.theta(res.theta), res.fun, reduced.K @ res.grad,
                              res.iterations, res.converged)
    return sqp_minimize(objective, theta0, tol=tol, max_iter=max_iter, source=source)


def sqp_minimize(objective, theta0, *, tol: float = 1e-9, max_iter: int = 500,
                 source: str = "model") -> OptimizeResult:
    """SLSQP on F, then scoring-SQP steps on the active set until the projected gradient is
    below ``tol`` and the active constraints hold to 1e-12.

    Each polishing step solves [[2 I, H'], [H, 0]] [d, l] = [-g, -c] with I the (complete-data)
    expected information, g the gradient and H, c the Jacobian and values of the equality and
    active inequality constraints; a step that leaves an inactive inequality stops it.
    """
    model = objective.model
    slots = label_slots(model)
    n_eq = sum(1 for c in model.rows.constraints if c[0] == "==")
    last = {}

    def fun(t):
        r = objective.value_grad(t)
        if r is None:
            return 1e10, np.zeros_like(t)
        last["ok"] = t
        return r

    cons = []
    if n_eq:
        cons.append({"type": "eq", "fun": lambda t: constraint_values(model, t, slots)[0],
                     "jac": lambda t: constraint_jacobian(model, t, slots)[0]})
    if n_eq < len(model.rows.constraints):
        cons.append({"type": "ineq", "fun": lambda t: constraint_values(model, t, slots)[1],
                     "jac": lambda t: constraint_jacobian(model, t, slots)[1]})
    opt = _sp_optimize.minimize(fun, theta0, jac=True, method="SLSQP", constraints=cons,
                                options={"maxiter": max(max_iter, 1000), "ftol": 1e-14})
    theta = opt.x
    iterations = int(opt.nit)
    if objective.value_grad(theta) is None:
        raise ModelError(f"{source}: The constrained optimizer left the admissible region; "
                         "give start values in the model syntax.")
    info_fn = getattr(objective, "complete_information", objective.expected_information)
    converged = False
    f, grad = objective.value_grad(theta)
    for _ in range(50):
        H_eq, H_in = constraint_jacobian(model, theta, slots)
        c_eq, c_in = constraint_values(model, theta, slots)
        active = c_in <= ACTIVE_SLACK
        H = np.vstack([H_eq, H_in[active]])
        c = np.concatenate([c_eq, c_in[active]])
        K, _ = null_space(H, len(theta))
        pg = K.T @ grad
        if np.max(np.abs(pg), initial=0.0) < tol and np.max(np.abs(c), initial=0.0) < 1e-12:
            converged = True
            break
        I2 = 2.0 * info_fn(theta)
        m = H.shape[0]
        kkt = np.block([[I2, H.T], [H, np.zeros((m, m))]])
        rhs = -np.concatenate([grad, c])
        try:
            step = np.linalg.lstsq(kkt, rhs, rcond=1e-13)[0][:len(theta)]
        except np.linalg.LinAlgError:
            break
        trial = theta + step
        res = objective.value_grad(trial)
        _, c_in_new = constraint_values(model, trial, slots)
        if res is None or np.any(c_in_new[~active] < -1e-12):
            break
        theta, (f, grad) = trial, res
        iterations += 1
    if not converged:
        # accept what SLSQP found when its own test passed and the projection is small
        K, _, _ = active_basis(model, theta)
        converged = bool(opt.success and np.max(np.abs(K.T @ grad), initial=0.0) < 1e-6)
    K, _, _ = active_basis(model, theta)
    return OptimizeResult(theta, f, K @ (K.T @ grad), iterations, converged)
