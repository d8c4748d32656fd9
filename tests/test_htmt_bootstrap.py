"""Bootstrap percentile intervals of HTMT (SmartPLS's HTMT table): reproducible from the seed,
around the sample value, and the percentile interval of HTMT recomputed on resampled rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import load_reference_data
from riskmodel_sem.psychometrics.validity import htmt, htmt_bootstrap
from riskmodel_sem.sem.bootstrap import percentile_ci

_HS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


def test_htmt_bootstrap_intervals():
    data = load_reference_data("holzinger1939.csv")
    ci = htmt_bootstrap(data, _HS, n_boot=60, seed=7)
    again = htmt_bootstrap(data, _HS, n_boot=60, seed=7)
    pd.testing.assert_frame_equal(ci, again)
    assert list(zip(ci["row"], ci["column"])) == [("textual", "visual"), ("speed", "visual"),
                                                   ("speed", "textual")]
    point = htmt(data, _HS, geometric=False)
    for r in ci.itertuples():
        assert r.htmt == point.loc[r.row, r.column]
        assert r.ci_lower < r.htmt < r.ci_upper and r.n_boot == 60
    # the same draws through htmt() itself (its pandas path, not the vectorized one)
    rng = np.random.default_rng(7)
    x = data[[i for v in _HS.values() for i in v]].dropna()
    draws = []
    for _ in range(60):
        s = x.iloc[rng.integers(0, len(x), len(x))]
        h = htmt(s, _HS, geometric=False)
        draws.append([h.loc[r.row, r.column] for r in ci.itertuples()])
    lo, hi = percentile_ci(np.array(draws), None, 0.95)
    np.testing.assert_allclose(ci["ci_lower"], lo, rtol=1e-10)
    np.testing.assert_allclose(ci["ci_upper"], hi, rtol=1e-10)
