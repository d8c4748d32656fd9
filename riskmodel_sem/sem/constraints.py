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

from ..errors import ModelError
from .defined import compile_definition, evaluate_definitions
from .numdiff import central_jacobian
from .optimize import OptimizeResult, minimize

__all__ = ["ConstraintSet", "constraint_set", "has_constraints", "null_space",
           "ReducedObjective", "constrained_minimize", "linear_reduction", "sqp_minimize",
           "active_basis", "n_equality", "ACTIVE_SLACK"]

#: lavaan's slack: an inequality constraint with c_in <= 1e-5 at the estimates is active
#: (``nlminb.constr``).
ACTIVE_SLACK = 1e-5

_COMPILED: dict = {}


def has_constraints(model) -> bool:
    """True when the parameter table has ``==``, ``<`` or ``>`` rows."""
    return model.rows is not None and bool(model.rows.constraints)


def _value(func, env) -> float:
    try:
        return float(func(env))
    except (KeyError, ValueError, OverflowError, ZeroDivisionError, TypeError):
        return math.nan


@dataclass(frozen=True)
class ConstraintSet:
    """A model's ``==``/``<``/``>`` rows as functions of the free parameters.

    Holds only text and numbers (it pickles, for bootstrap workers); the expressions are
    compiled once per process.

    Attributes
    ----------
    rows : tuple of (op, lhs, rhs)
        The constraint rows in parameter-table order.
    definitions : tuple of (name, expression)
        The ``:=`` rows (constraints may use their names).
    slots : tuple of (label, free index or -1, fixed value)
        Where every label's value comes from.
    q : int
        Number of free parameters.
    """

    rows: tuple
    definitions: tuple
    slots: tuple
    q: int

    def _compiled(self):
        key = (self.rows, self.definitions)
        if key not in _COMPILED:
            _COMPILED[key] = (
                tuple((name, compile_definition(expr)) for name, expr in self.definitions),
                tuple((op, compile_definition(lhs), compile_definition(rhs))
                      for op, lhs, rhs in self.rows))
        return _COMPILED[key]

    @property
    def n_eq(self) -> int:
        return sum(1 for r in self.rows if r[0] == "==")

    def environment(self, theta) -> dict:
        """Values of the labels and ``:=`` names at theta."""
        env = {lab: (float(theta[k]) if k >= 0 else value) for lab, k, value in self.slots}
        env.update(evaluate_definitions(self._compiled()[0], env))
        return env

    def values(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """``(c_eq, c_in)`` at theta: equality residuals lhs - rhs and inequality slacks
        (>= 0 when satisfied), in parameter-table order."""
        env = self.environment(theta)
        eq, ineq = [], []
        for op, lhs, rhs in self._compiled()[1]:
            a, b = _value(lhs, env), _value(rhs, env)
            if op == "==":
                eq.append(a - b)
            else:
                ineq.append(a - b if op == ">" else b - a)
        return np.array(eq, float), np.array(ineq, float)

    def row_values(self, env: dict) -> np.ndarray:
        """The value lavaan's ``parameterEstimates(..., remove.eq = FALSE, remove.ineq =
        FALSE)`` shows in ``est`` for every constraint row: lhs - rhs for ``==`` and ``>``,
        rhs - lhs for ``<``, with labels and ``:=`` names valued by ``env`` (with
        standardized values: lavaan's ``std.lv``/``std.all`` of these rows)."""
        out = []
        for op, lhs, rhs in self._compiled()[1]:
            a, b = _value(lhs, env), _value(rhs, env)
            out.append(b - a if op == "<" else a - b)
        return np.array(out, float)

    def jacobian(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """Jacobians ``(H_eq, H_in)`` of :meth:`values` (central differences, as lavaan's
        ``lav_func_jacobian_simple``; exact for linear constraints)."""
        used = sorted({k for _, k, _ in self.slots if k >= 0})

        def both(t):
            return np.concatenate(self.values(t))

        jac = central_jacobian(both, np.asarray(theta, float), h=1e-6, columns=used)
        if jac.shape[0] != len(self.rows):
            jac = np.zeros((len(self.rows), self.q))
        return jac[:self.n_eq], jac[self.n_eq:]

    def linear_equalities(self, theta) -> tuple[np.ndarray, np.ndarray] | None:
        """``(H, c0)`` with c_eq(t) = H t + c0 when every constraint is a linear equality;
        None when there is an inequality or a nonlinear equality (the Jacobian and the
        values are compared at theta and at a distant point)."""
        if not self.rows or self.n_eq < len(self.rows):
            return None
        theta = np.asarray(theta, float)
        H, _ = self.jacobian(theta)
        shifted = theta + 0.37 + 0.5 * np.abs(theta)
        H2, _ = self.jacobian(shifted)
        if not np.all(np.isfinite(H)) or not np.allclose(H, H2, rtol=1e-7, atol=1e-8):
            return None
        c_theta, c_shift = self.values(theta)[0], self.values(shifted)[0]
        if not np.allclose(c_shift - c_theta, H @ (shifted - theta), rtol=1e-7, atol=1e-8):
            return None
        H = np.where(np.abs(H) < 1e-10, 0.0, np.round(H, 10))
        return H, c_theta - H @ theta

    def text(self) -> str:
        return "; ".join(f"{lhs} {op} {rhs}" for op, lhs, rhs in self.rows)


def constraint_set(model) -> ConstraintSet | None:
    """The model's constraints (None without ``==``/``<``/``>`` rows)."""
    if not has_constraints(model):
        return None
    pt = model.partable
    cons = pt[pt["op"].isin(["==", "<", ">"])]
    defs = pt[pt["op"] == ":="]
    rows = model.rows
    values = model.row_values(np.zeros(model.n_free))
    slots = tuple((lab, int(rows.free[k]), float(values[k])) for lab, k in rows.labels.items())
    return ConstraintSet(
        tuple(zip(cons["op"].tolist(), cons["lhs"].tolist(), cons["rhs"].tolist())),
        tuple(zip(defs["lhs"].tolist(), defs["rhs"].tolist())), slots, model.n_free)


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


def n_equality(cset: ConstraintSet | None, theta) -> int:
    """Rank of the equality constraints' Jacobian at theta (lavaan's ``neq``)."""
    if cset is None or not cset.n_eq:
        return 0
    H, _ = cset.jacobian(theta)
    return null_space(H, cset.q)[1]


def active_basis(cset: ConstraintSet, theta) -> tuple[np.ndarray, np.ndarray, int]:
    """``(K, active, rank)``: orthonormal basis of the null space of the Jacobian of the
    equality and active inequality constraints at theta; the active inequalities (slack
    <= :data:`ACTIVE_SLACK`); the rank of that Jacobian."""
    H_eq, H_in = cset.jacobian(theta)
    _, c_in = cset.values(theta)
    active = c_in <= ACTIVE_SLACK
    K, rank = null_space(np.vstack([H_eq, H_in[active]]), cset.q)
    return K, active, rank


def linear_reduction(objective, theta0, cset: ConstraintSet, source: str = "model"
                     ) -> ReducedObjective | None:
    """The objective over alpha (theta = k0 + K alpha) when every constraint is a linear
    equality; None otherwise.

    Raises
    ------
    ModelError
        When the equality constraints are inconsistent.
    """
    linear = cset.linear_equalities(theta0)
    if linear is None:
        return None
    H, c0 = linear
    k0 = np.linalg.lstsq(H, -c0, rcond=None)[0]
    if np.max(np.abs(H @ k0 + c0), initial=0.0) > 1e-8:
        raise ModelError(f"{source}: The equality constraints ({cset.text()}) cannot all "
                         "hold at once.")
    K, _ = null_space(H, len(theta0))
    return ReducedObjective(objective, K, k0)


def constrained_minimize(objective, theta0, cset: ConstraintSet, *, method: str = "scoring",
                         tol: float = 1e-9, max_iter: int = 500, source: str = "model",
                         **options) -> OptimizeResult:
    """Minimize the objective subject to the model's ``==``, ``<`` and ``>`` constraints.

    Parameters
    ----------
    objective : MLObjective
    theta0 : numpy.ndarray
        Starting values (need not satisfy the constraints).
    cset : ConstraintSet
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
    reduced = linear_reduction(objective, theta0, cset, source)
    if reduced is not None:
        res = minimize(reduced, reduced.alpha(theta0), method, tol=tol, max_iter=max_iter,
                       **options)
        return OptimizeResult(reduced.theta(res.theta), res.fun, reduced.K @ res.grad,
                              res.iterations, res.converged)
    return sqp_minimize(objective, theta0, cset, tol=tol, max_iter=max_iter, source=source)


def sqp_minimize(objective, theta0, cset: ConstraintSet, *, tol: float = 1e-9,
                 max_iter: int = 500, source: str = "model") -> OptimizeResult:
    """SLSQP on F, then scoring-SQP steps on the active set until the projected gradient is
    below ``tol`` and the active constraints hold to 1e-12.

    Each polishing step solves [[2 I, H'], [H, 0]] [d, l] = [-g, -c] with I the (complete-data)
    expected information, g the gradient and H, c the Jacobian and values of the equality and
    active inequality constraints; a step that leaves an inactive inequality stops it.
    """
    def fun(t):
        r = objective.value_grad(t)
        return (1e10, np.zeros_like(t)) if r is None else r

    cons = []
    if cset.n_eq:
        cons.append({"type": "eq", "fun": lambda t: cset.values(t)[0],
                     "jac": lambda t: cset.jacobian(t)[0]})
    if cset.n_eq < len(cset.rows):
        cons.append({"type": "ineq", "fun": lambda t: cset.values(t)[1],
                     "jac": lambda t: cset.jacobian(t)[1]})
    from scipy import optimize as _sp_optimize  # only for inequality / nonlinear constraints

    opt = _sp_optimize.minimize(fun, theta0, jac=True, method="SLSQP", constraints=cons,
                                options={"maxiter": max(max_iter, 1000), "ftol": 1e-14})
    theta = opt.x
    iterations = int(opt.nit)
    if objective.value_grad(theta) is None:
        raise ModelError(f"{source}: The constrained optimizer left the admissible region; "
                         "give start values in the model syntax.")
    # the scoring matrix: the complete-data expected information, or the Hessian when the
    # objective carries no compiled model (bootstrap draws)
    info_fn = (objective.complete_information if objective.model is not None
               else objective.observed_information)
    converged = False
    f, grad = objective.value_grad(theta)
    for _ in range(50):
        H_eq, H_in = cset.jacobian(theta)
        c_eq, c_in = cset.values(theta)
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
        _, c_in_new = cset.values(trial)
        if res is None or np.any(c_in_new[~active] < -1e-12):
            break
        theta, (f, grad) = trial, res
        iterations += 1
    if not converged:
        # accept what SLSQP found when its own test passed and the projection is small
        K, _, _ = active_basis(cset, theta)
        converged = bool(opt.success and np.max(np.abs(K.T @ grad), initial=0.0) < 1e-6)
    K, _, _ = active_basis(cset, theta)
    return OptimizeResult(theta, f, K @ (K.T @ grad), iterations, converged)
