"""Numerical derivatives: the one central-difference Jacobian of the engine.

Used for the Hessian of the ML objective (from its analytic gradient), the delta-method
Jacobians of defined (``:=``) parameters and of derived structural quantities.
"""

from __future__ import annotations

import numpy as np

__all__ = ["central_jacobian"]


def central_jacobian(fun, x, h: float = 1e-6, columns=None, vectorized: bool = False
                     ) -> np.ndarray:
    """Jacobian of a vector function by central differences.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> array_like`` of shape (m,) (a scalar counts as m = 1).
    x : numpy.ndarray
        Point of evaluation, shape (n,).
    h : float
        Relative step: coordinate k moves by ``h * max(1, |x_k|)``.
    columns : sequence of int, optional
        Only these columns are computed; the others are zero (for functions known not to
        depend on some coordinates).
    vectorized : bool
        ``fun`` takes a (k, n) array of points and returns a (k, m) array; all 2n shifted
        points are then evaluated in one call (``columns`` is ignored).

    Returns
    -------
    numpy.ndarray
        (m, n) matrix J with J[:, k] = (fun(x + h_k e_k) - fun(x - h_k e_k)) / (2 h_k).

    Notes
    -----
    The error is O(h_k^2) from truncation plus O(eps / h_k) from rounding; lavaan uses the same
    central differences (``lav_func_jacobian_simple`` / ``lav_model_hessian``) for the
    delta method and the observed information.
    """
    x = np.asarray(x, dtype=float)
    if vectorized:
        n = len(x)
        steps = h * np.maximum(1.0, np.abs(x))
        shifts = np.diag(steps)
        values = np.asarray(fun(np.concatenate([x + shifts, x - shifts])), dtype=float)
        return ((values[:n] - values[n:]) / (2 * steps[:, None])).T
    cols = range(len(x)) if columns is None else columns
    jac = None
    for k in cols:
        step = h * max(1.0, abs(x[k]))
        up, down = x.copy(), x.copy()
        up[k] += step
        down[k] -= step
        col = (np.atleast_1d(np.asarray(fun(up), dtype=float))
               - np.atleast_1d(np.asarray(fun(down), dtype=float))) / (2 * step)
        if jac is None:
            jac = np.zeros((len(col), len(x)))
        jac[:, k] = col
    if jac is None:
        m = np.atleast_1d(np.asarray(fun(x), dtype=float)).shape[0]
        jac = np.zeros((m, len(x)))
    return jac
