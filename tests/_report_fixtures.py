"""Analyses to report on, shared by the report tests.

The GCRM analysis is the demo's: every stage on the bundled synthetic survey, with a short
bootstrap so that the bootstrap pictures are drawn.
"""

from __future__ import annotations

import functools

from riskmodel_sem.workflow.analysis import Analysis

from conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"


@functools.lru_cache(maxsize=1)
def gcrm_analysis() -> Analysis:
    """The demo's analysis (bundled survey, the paper's spec, 100 bootstrap draws)."""
    from riskmodel_sem.commands import run_demo

    return run_demo(bootstrap=100, seed=20231)
