"""BLAS threads inside fits.

With the small matrices of a structural-equation fit, threaded BLAS only adds overhead (40x
slower on the paper's model on this project's two-core machines), so every fit and every
bootstrap draw runs with one BLAS thread. This module imports nothing heavy, so bootstrap
workers can use it cheaply.
"""

from __future__ import annotations

from threadpoolctl import ThreadpoolController

__all__ = ["one_blas_thread"]

_CONTROLLER: ThreadpoolController | None = None


def one_blas_thread():
    """A context limiting BLAS to one thread. The controller is built once per process
    (building it costs about 2 ms, entering it 0.05 ms) and sees the BLAS libraries loaded
    at that moment, so numpy and scipy.linalg (each wheel ships its own OpenBLAS) are
    imported first: a command may start its context before anything has imported scipy."""
    global _CONTROLLER
    if _CONTROLLER is None:
        import numpy  # noqa: F401  (their BLAS libraries must be loaded before the controller)
        import scipy.linalg  # noqa: F401

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
