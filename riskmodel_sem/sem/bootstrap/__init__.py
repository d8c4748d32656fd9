"""Case-resampling bootstrap of a fitted model, with lavaan's percentile and bca.simple CIs.

- :mod:`.resampling`: the draws (resample rows, refit by the engine's ML objective) and
  :func:`bootstrap`, which returns a :class:`BootstrapResult`;
- :mod:`.intervals`: confidence intervals and SEs from the draws;
- :mod:`.derived`: quantities computed from the parameters in every draw;
- :mod:`.executors`: running chunks of draws here, in worker processes or on Dask.
"""

from .derived import Derived, DerivedEvaluator, derived_values, spec_quantities
from .intervals import bca_simple_ci, bootstrap_se, percentile_ci
from .resampling import CI_COLUMNS, BootstrapResult, bootstrap

__all__ = [
    "BootstrapResult",
    "Derived",
    "bootstrap",
    "percentile_ci",
    "bca_simple_ci",
    "bootstrap_se",
    "spec_quantities",
    "derived_values",
    "DerivedEvaluator",
    "CI_COLUMNS",
]
