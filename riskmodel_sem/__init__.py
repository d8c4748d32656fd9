"""riskmodel-sem: structural-equation analysis of Likert surveys for validating risk models.

The package imports its submodules lazily, so that worker processes (bootstrap) and the
command line start quickly.
"""

from importlib import import_module

__all__ = ["fit_model", "FitResult", "RiskModelError", "__version__"]
__version__ = "0.1.0"

_LAZY = {"fit_model": "sem.estimation", "FitResult": "sem.estimation", "RiskModelError": "errors"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
