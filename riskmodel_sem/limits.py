"""Bounds on what an option or a file can make the package allocate or loop over.

Each bound is far above what a survey analysis needs and far below what would exhaust a
machine; the command line and the library refuse a value beyond it with a message that names
the option and the bound.
"""

from __future__ import annotations

import os

__all__ = ["MAX_BOOTSTRAP_DRAWS", "MIN_BOOTSTRAP_DRAWS", "MAX_SIMULATED_RESPONDENTS",
           "DEMO_BOOTSTRAP", "max_jobs"]

#: Bootstrap draws (lavaan users typically ask for 1000 to 10000; SmartPLS's default is 10000).
MAX_BOOTSTRAP_DRAWS = 100_000
#: Fewer draws cannot place the bounds of a 95% percentile interval (2.5% of 40 draws is one).
MIN_BOOTSTRAP_DRAWS = 40
#: Bootstrap draws of the demo: enough for stable percentile intervals of the indirect effects,
#: a few seconds (here, so that the command line's help needs no numerical library).
DEMO_BOOTSTRAP = 1000
#: Respondents in one simulated survey.
MAX_SIMULATED_RESPONDENTS = 1_000_000


def max_jobs() -> int:
    """Worker processes: no more than the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
