"""Optimizers of the ML objective, interchangeable behind one signature.

``minimize(objective, theta0, method=...)`` takes any object with ``value_grad(theta)``
(returning ``(F, gradient)`` or None outside the admissible region) and, depending on the
method, ``expected_information(theta)`` or ``observed_information(theta)`` (unit information,
half the Hessian of F), like statsmodels' ``fit(method=...)``:

- ``"scoring"``: Fisher scoring with Armijo step halving (the default of every fit);
- ``"bfgs"``: BFGS from a given inverse Hessian (bootstrap refits start from the full-sample
  one, so a draw needs only gradient evaluations); :func:`bfgs_batch` runs it on a stack of
  problems in lockstep (the draws of a bootstrap chunk);
- ``"newton"``: Newton steps on the observed information (to polish a scoring solution);
- ``"lbfgs"``: scipy's L-BFGS-B (fallback when scoring stalls).

Every method stops when the largest absolute gradient element is below ``tol``.
:func:`brentq` finds a root of a scalar function in a bracket (the RMSEA interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve as _cho_solve
from scipy.linalg.blas import dsymv as _dsymv
from scipy.linalg.blas import dsyr2 as _dsyr2

from ..errors import ModelError

__all__ = ["OptimizeResult", "BatchResult", "minimize", "bfgs_batch", "brentq", "METHODS"]

METHODS = ("scoring", "bfgs", "newton", "lbfgs")


@dataclass(frozen=True)
class OptimizeResult:
    """Result of :func:`minimize`: the estimates, F and gradient there, the iterations used
    and whether the convergence criterion was met."""

    theta: np.ndarray
    fun: float
    grad: np.ndarray
    iterations: int
    converged: bool


def minimize(objective, theta0, method: str = "scoring", *, tol: float = 1e-9,
             max_iter: int = 500, **options) -> OptimizeResult:
    """Minimize the ML objective from ``theta0``.

    Parameters
    ----------
    objective : MLObjective
        Or any object with ``value_grad`` and the information the method needs.
    theta0 : numpy.ndarray
    method : {"scoring", "bfgs", "newton", "lbfgs"}
    tol : float
        Convergence criterion on max |dF/dtheta|.
    max_iter : int
    **options
        ``scoring``: ``information`` (callable, default ``objective.expected_information``),
        ``stop_at`` (leave once max |gradient| is below it without counting as converged),
        ``fallback`` (take a small gradient step when halving fails, default True);
        ``bfgs``: ``hinv0`` (initial inverse Hessian of F, required);
        ``newton``: none.

    Returns
    -------
    OptimizeResult

    Raises
    ------
    ModelError
        When the objective is not defined at ``theta0`` (non-positive-definite implied
        covariance matrix).

    Notes
    -----
    Scoring: theta += alpha * (2 I)^-1 (-grad F) with I the unit expected information and alpha
    halved until F decreases by at least 1e-4 alpha |grad' step| (Armijo). lavaan uses nlminb
    with the analytic gradient; the solutions agree to the tolerance used here.
    """
    theta0 = np.asarray(theta0, dtype=float)
    start = objective.value_grad(theta0)
    if start is None:
        raise ModelError("The starting values give a non-positive-definite implied covariance "
                         "matrix; give start values in the model syntax.")
    if method == "scoring":
        return _scoring(objective, theta0, start, tol, max_iter, **options)
    if method == "bfgs":
        return _bfgs(objective, theta0, start, tol, max_iter, **options)
    if method == "newton":
        return _newton(objective, theta0, start, tol, max_iter)
    if method == "lbfgs":
        return _lbfgs(objective, theta0, tol, max_iter)
    raise ValueError(f"Unknown method {method!r}; use one of {', '.join(METHODS)}.")


def _gmax(grad) -> float:
    return float(np.abs(grad).max()) if len(grad) else 0.0


def _scoring(objective, theta, start, tol, max_iter, information=None, stop_at=None,
             fallback=True):
    information = information or objective.expected_information
    f, grad = start
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        if stop_at is not None and _gmax(grad) < stop_at:
            break
        step = _scoring_step(information(theta), grad)
        alpha = 1.0
        accepted = False
        for _ in range(40):
            trial = theta + alpha * step
            res = objective.value_grad(trial)
            if res is not None and res[0] <= f + 1e-4 * alpha * float(grad @ step) + 1e-15:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            if not fallback:
                break
            # fall back to a gradient step when scoring fails (far from the optimum)
            trial = theta - 1e-3 * grad
            res = objective.value_grad(trial)
            if res is None or res[0] > f:
                break
        theta, (f_new, grad) = trial, res
        small_change = abs(f - f_new) < 1e-15 * max(1.0, abs(f))
        f = f_new
        if _gmax(grad) < tol or (small_change and _gmax(grad) < 1e-6):
            converged = True
            break
    return OptimizeResult(theta, f, grad, it, converged)


def _scoring_step(info, grad):
    """-(2 I)^-1 grad by Cholesky of the diagonally scaled information D^-1 I D^-1
    (D = sqrt(diag I)), so that variables on very different scales (an income in yuan beside
    a 1-5 answer) do not make the solve lose precision; the minimum-norm solution when I is
    (numerically) singular, as at starting values where some parameter does not move the
    implied moments."""
    d = np.sqrt(np.diag(info))
    if np.all(d > 0) and np.all(np.isfinite(d)):
        scaled = info / np.outer(d, d)
        g = grad / d
        try:
            chol = np.linalg.cholesky(2.0 * scaled)
            piv = np.diag(chol) ** 2
            if piv.min() > 1e-12 * piv.max():
                return -_cho_solve((chol, True), g) / d
        except np.linalg.LinAlgError:
            pass
        return -np.linalg.lstsq(2.0 * scaled, g, rcond=1e-12)[0] / d
    return -np.linalg.lstsq(2.0 * info, grad, rcond=1e-12)[0]


def _bfgs(objective, theta, start, tol, max_iter, hinv0=None):
    """BFGS with backtracking (Armijo) line search; the inverse Hessian is reset to ``hinv0``
    when a direction is not a descent direction.

    The inverse Hessian is held as the lower triangle of a Fortran-ordered array (that of
    ``hinv0`` is used): products by BLAS ``dsymv`` and the update by one in-place ``dsyr2``.
    """
    f, g = start
    H0 = np.array(hinv0, dtype=float, order="F")
    H = H0.copy(order="F")
    for it in range(1, max_iter + 1):
        d = _dsymv(-1.0, H, g, lower=1)
        slope = float(g @ d)
        if not slope < 0:
            H = H0.copy(order="F")
            d = _dsymv(-1.0, H, g, lower=1)
            slope = float(g @ d)
        alpha = 1.0
        new = None
        for _ in range(40):
            s = d if alpha == 1.0 else alpha * d
            trial = theta + s
            new = objective.value_grad(trial)
            if new is not None and new[0] <= f + 1e-4 * alpha * slope + 1e-15:
                break
            new = None
            alpha *= 0.5
        if new is None:
            return OptimizeResult(theta, f, g, it, False)
        f_new, g_new = new
        y = g_new - g
        sy = float(s @ y)
        if sy > 1e-12 * math.sqrt(float(s @ s) * float(y @ y)):
            # H + a s' + s a' with a = -rho H y + (rho^2 y'Hy + rho) s / 2: the BFGS update
            # H - rho (H y s' + s y' H) + (rho^2 y'Hy + rho) s s' as one symmetric rank-2 step
            rho = 1.0 / sy
            Hy = _dsymv(1.0, H, y, lower=1)
            a = (0.5 * (rho * rho * float(y @ Hy) + rho)) * s - rho * Hy
            H = _dsyr2(1.0, a, s, a=H, lower=1, overwrite_a=1)
        small_change = abs(f - f_new) < 1e-15 * max(1.0, abs(f))
        theta, f, g = trial, f_new, g_new
        gmax = _gmax(g)
        if gmax < tol or (small_change and gmax < 1e-6):
            return OptimizeResult(theta, f, g, it, True)
    return OptimizeResult(theta, f, g, max_iter, False)


@dataclass(frozen=True)
class BatchResult:
    """Result of :func:`bfgs_batch`, one row per problem: the estimates, F and gradient
    there, the iterations used, whether the convergence criterion was met, and whether the
    objective was defined at the start (False: nothing was done, as :func:`minimize` raises
    :class:`ModelError` there)."""

    theta: np.ndarray
    fun: np.ndarray
    grad: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    started: np.ndarray


def _rows_dot(a, b):
    """Row-wise dot products of two (m, q) arrays."""
    return (a * b).sum(axis=1)


def bfgs_batch(objective, theta0, hinv0, *, tol: float = 1e-9, max_iter: int = 500,
               window: int | None = None) -> BatchResult:
    """:func:`minimize` with ``method="bfgs"`` for m problems at once, in lockstep.

    Parameters
    ----------
    objective : MLBatchObjective
        Or any object with ``m`` and ``value_grad(theta, idx)`` returning (F, gradient, ok)
        of the problems ``idx`` at the rows of ``theta``.
    theta0 : numpy.ndarray
        (q,) start shared by every problem.
    hinv0 : numpy.ndarray
        (q, q) initial inverse Hessian of F (its lower triangle is used, as by
        :func:`minimize`).
    tol : float
        Convergence criterion on max |dF/dtheta|.
    max_iter : int
    window : int, optional
        Most problems iterating at once (all when None): a problem starts when another one
        leaves, so that the stacks stay full until the last problems.

    Returns
    -------
    BatchResult

    Notes
    -----
    Each problem follows the steps of :func:`minimize`'s BFGS on its own: direction -H g
    (H reset to ``hinv0`` when it is not a descent direction), Armijo backtracking from the
    full step, halved at most 40 times, the BFGS update of H (``dsyr2``) when
    s'y > 1e-12 |s| |y| (H y and the next direction from the one product H g_new), and
    convergence when max |g| < tol or F changed by less than
    1e-15 |F| with max |g| < 1e-6. The problems still iterating are evaluated together: in
    each round every one of them tries one point, the full step of its next iteration or a
    halved step of its line search, so the rounds are as many as the most evaluations any
    problem needs; a problem leaves the stack when it converges or fails, and the next one
    not yet started (in order) joins it with the evaluation of its start. Each problem keeps
    its own inverse Hessian (lower triangle, Fortran order), so the iterates equal
    :func:`minimize`'s up to rounding, and a problem's numbers do not depend on the other
    problems.
    """
    m = objective.m
    theta0 = np.asarray(theta0, dtype=float)
    q = len(theta0)
    window = m if window is None else max(1, int(window))
    H0 = np.array(hinv0, dtype=float, order="F")
    theta = np.repeat(theta0[None, :], m, axis=0)
    f = np.full(m, np.nan)
    g = np.full((m, q), np.nan)
    started = np.zeros(m, dtype=bool)
    H = [None] * m
    d = np.zeros((m, q))
    slope = np.zeros(m)
    alpha = np.ones(m)
    halvings = np.zeros(m, dtype=np.int64)
    iterations = np.zeros(m, dtype=np.int64)
    converged = np.zeros(m, dtype=bool)

    def descent(idx):
        """Where -H g is not a descent direction: H reset to hinv0, d = -hinv0 g. Then the
        next iteration of the problems idx starts with the full step."""
        slope[idx] = _rows_dot(g[idx], d[idx])
        for i in idx[~(slope[idx] < 0)]:
            H[i] = H0.copy(order="F")
            d[i] = _dsymv(-1.0, H[i], g[i], lower=1)
            slope[i] = _rows_dot(g[i:i + 1], d[i:i + 1])[0]
        alpha[idx] = 1.0
        halvings[idx] = 0
        iterations[idx] += 1

    active = np.zeros(0, dtype=np.intp)
    joining = np.arange(min(window, m))
    nxt = len(joining)  # the next problem to join
    while len(active) or len(joining):
        # one point of every problem in the stack: the full step of a new direction or a
        # halved one of a backtracking line search, and the start of those joining
        s = d[active] * alpha[active][:, None]
        trial = theta[active] + s
        fn, gn, ok = objective.value_grad(np.concatenate([trial, theta[joining]]),
                                          np.concatenate([active, joining]))
        na = len(active)
        # the problems joining: F and gradient at the start, first direction -hinv0 g
        fj, gj, okj = fn[na:], gn[na:], ok[na:]
        f[joining], g[joining], started[joining] = fj, gj, okj
        new = joining[okj] if max_iter >= 1 else joining[:0]
        for i in new:
            H[i] = H0.copy(order="F")
            d[i] = _dsymv(-1.0, H[i], g[i], lower=1)
        descent(new)
        fn, gn, ok = fn[:na], gn[:na], ok[:na]
        fa = f[active]
        good = ok & (fn <= fa + 1e-4 * alpha[active] * slope[active] + 1e-15)  # NaN: False
        # rejected: halve the step, at most 40 trials per iteration (then the problem fails)
        back = active[~good]
        halvings[back] += 1
        back = back[halvings[back] < 40]
        alpha[back] *= 0.5
        # accepted: the new estimate, convergence
        acc = active[good]
        s, fn, fa, gn = s[good], fn[good], fa[good], gn[good]
        y = gn - g[acc]
        small = np.abs(fa - fn) < 1e-15 * np.maximum(1.0, np.abs(fa))
        theta[acc] = trial[good]
        f[acc], g[acc] = fn, gn
        gmax = np.abs(gn).max(axis=1) if q else np.zeros(len(acc))
        conv = (gmax < tol) | (small & (gmax < 1e-6))
        converged[acc[conv]] = True
        more = ~conv & (iterations[acc] < max_iter)
        acc, s, y, gn = acc[more], s[more], y[more], gn[more]
        # the others: BFGS update of H and the next direction, from one product H g_new
        # (H y = H g_new + d, as d = -H g): H' = H + a s' + s a' with
        # a = -rho H y + (rho^2 y'Hy + rho) s / 2, and -H' g_new = -H g_new - a s'g_new -
        # s a'g_new
        Hg = np.empty_like(gn)
        for j, i in enumerate(acc):
            Hg[j] = _dsymv(1.0, H[i], gn[j], lower=1)
        dn = -Hg
        sy = _rows_dot(s, y)
        upd = np.flatnonzero(sy > 1e-12 * np.sqrt(_rows_dot(s, s) * _rows_dot(y, y)))
        if len(upd):
            su, yu = s[upd], y[upd]
            Hy = Hg[upd] + d[acc[upd]]
            rho = 1.0 / sy[upd]
            a = ((0.5 * (rho * rho * _rows_dot(yu, Hy) + rho))[:, None] * su
                 - rho[:, None] * Hy)
            for j, aj in zip(upd, a):
                i = acc[j]
                H[i] = _dsyr2(1.0, aj, s[j], a=H[i], lower=1, overwrite_a=1)
            gu = gn[upd]
            dn[upd] -= a * _rows_dot(su, gu)[:, None] + su * _rows_dot(a, gu)[:, None]
        d[acc] = dn
        descent(acc)
        stay = np.concatenate([back, acc, new])
        for i in np.setdiff1d(np.concatenate([active, joining]), stay):
            H[i] = None  # converged or failed
        active = np.sort(stay)
        joining = np.arange(nxt, min(nxt + window - len(active), m))
        nxt += len(joining)
    return BatchResult(theta, f, g, iterations, converged, started)

def _newton(objective, theta, start, tol, max_iter):
    """Newton steps on the observed information until max |gradient| < tol; a step is taken
    only if it does not increase F."""
    f, grad = start
    steps = 0
    for _ in range(max_iter):
        if _gmax(grad) < tol:
            break
        H = objective.observed_information(theta)
        if not np.all(np.isfinite(H)):
            break
        try:
            step = -np.linalg.solve(2.0 * H, grad)
        except np.linalg.LinAlgError:
            break
        res = objective.value_grad(theta + step)
        if res is None or res[0] > f + 1e-12 * max(1.0, abs(f)):
            break
        theta = theta + step
        f, grad = res
        steps += 1
    return OptimizeResult(theta, f, grad, steps, _gmax(grad) < tol)


def _lbfgs(objective, theta, tol, max_iter):
    from scipy import optimize as _sp_optimize  # a fallback: not imported by every fit

    def fun(t):
        r = objective.value_grad(t)
        return (1e10, np.zeros_like(t)) if r is None else r

    opt = _sp_optimize.minimize(fun, theta, jac=True, method="L-BFGS-B",
                                options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15})
    f, grad = objective.value_grad(opt.x)
    return OptimizeResult(opt.x, f, grad, int(opt.nit), _gmax(grad) < tol)


def brentq(fun, a: float, b: float, *, xtol: float = 2e-12, rtol: float = 4 * 2.220446049250313e-16,
           max_iter: int = 100) -> float:
    """A root of ``fun`` in [a, b] by Brent's (1973) method.

    Parameters
    ----------
    fun : callable
        Scalar function with ``fun(a)`` and ``fun(b)`` of opposite signs.
    a, b : float
        The bracket.
    xtol, rtol : float
        The root is returned once the bracket's half width is below
        ``(xtol + rtol |x|) / 2``.
    max_iter : int

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``fun(a)`` and ``fun(b)`` have the same sign.

    Notes
    -----
    Inverse quadratic interpolation, secant steps and bisection as in Brent's ``zero``
    (the algorithm of ``scipy.optimize.brentq`` and of R's ``uniroot``, which lavaan's RMSEA
    interval uses), written here so that a fit does not import :mod:`scipy.optimize` (half a
    second at every start of the command line). Same steps as scipy's, hence the same root.

    References
    ----------
    Brent, R. P. (1973). *Algorithms for minimization without derivatives*, ch. 4.
    Prentice-Hall.
    """
    xpre, xcur = float(a), float(b)
    fpre, fcur = float(fun(xpre)), float(fun(xcur))
    if fpre == 0.0:
        return xpre
    if fcur == 0.0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError("brentq: f(a) and f(b) must have opposite signs.")
    xblk = fblk = spre = scur = 0.0
    for _ in range(max_iter):
        if fpre != 0.0 and fcur != 0.0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2.0
        sbis = (xblk - xcur) / 2.0
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2.0 * abs(stry) < min(abs(spre), 3.0 * abs(sbis) - delta):
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = float(fun(xcur))
    return xcur
