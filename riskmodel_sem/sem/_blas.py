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
    (building it costs about 2 ms, entering it 0.05 ms); build it after numpy and scipy are
    imported so that it sees their BLAS libraries."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
