"""BLAS threads inside fits.

With the small matrices of a structural-equation fit, threaded BLAS only adds overhead (40x
slower on the paper's model on this project's two-core machines), so every fit and every
bootstrap draw runs with one BLAS thread. This module imports nothing heavy, so bootstrap
workers can use it cheaply.
"""

from __future__ import annotations

import sys

from threadpoolctl import ThreadpoolController

__all__ = ["one_blas_thread"]

_CONTROLLER: ThreadpoolController | None = None
_SEES_SCIPY = False


def one_blas_thread():
    """A context limiting BLAS to one thread.

    The controller (building it costs about 2 ms, entering it 0.05 ms) sees the BLAS
    libraries loaded when it is built. numpy and scipy.linalg each ship their own OpenBLAS,
    and a command starts its context before anything has imported scipy (some commands never
    do), so the controller is built with numpy loaded and built once more the first time
    it is asked for after scipy.linalg has been loaded."""
    global _CONTROLLER, _SEES_SCIPY
    with_scipy = "scipy.linalg" in sys.modules
    if _CONTROLLER is None or (with_scipy and not _SEES_SCIPY):
        import numpy  # noqa: F401  (its BLAS library must be loaded before the controller)

        _CONTROLLER = ThreadpoolController()
        _SEES_SCIPY = with_scipy
    return _CONTROLLER.limit(limits=1, user_api="blas")
