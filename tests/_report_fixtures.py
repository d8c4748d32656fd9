"""Analyses to report on, shared by the report tests.

The GCRM analysis uses the real stages (survey, validation, fit, comparison) on the bundled
synthetic survey; the structural stage is a small stand-in whose tables are taken from the
fit's parameter table, with seeded normal draws standing in for the bootstrap.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel_sem.analysis import Analysis
from riskmodel_sem.estimation import fit_model
from riskmodel_sem.spec import load_spec
from riskmodel_sem.survey import read_survey

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"


@dataclass(frozen=True)
class StandInStructural:
    """Minimal stand-in for structural.StructuralResult (tests only)."""

    hypotheses: pd.DataFrame
    indirect: pd.DataFrame
    bootstrap: pd.DataFrame


def stand_in_structural(spec, fit, seed: int = 7) -> StandInStructural:
    est = fit.estimates
    rows = []
    for h in spec.hypotheses:
        if h.kind != "path":
            continue
        r = est[(est["op"] == "~") & (est["lhs"] == h.lhs) & (est["rhs"] == h.rhs)].iloc[0]
        rows.append({"id": h.id, "path": f"{h.rhs} -> {h.lhs}", "sign": h.sign,
                     "est": r["est"], "std_all": r["std_all"], "pvalue": r["pvalue"],
                     "supported": bool(r["pvalue"] < 0.05 and r["est"] > 0)})
    defined = est[est["op"] == ":="]
    rng = np.random.default_rng(seed)
    draws = pd.DataFrame({r["lhs"]: rng.normal(r["est"], r["se"], 500)
                          for _, r in defined.iterrows()})
    indirect = pd.DataFrame({"effect": defined["lhs"].to_list(), "est": defined["est"].to_numpy(),
                             "ci_lower": draws.quantile(0.025).to_numpy(),
                             "ci_upper": draws.quantile(0.975).to_numpy(),
                             "pvalue": defined["pvalue"].to_numpy()})
    return StandInStructural(pd.DataFrame(rows), indirect, draws)


@functools.lru_cache(maxsize=1)
def gcrm_analysis() -> Analysis:
    """The demo's analysis: bundled survey, the paper's spec, every stage that exists."""
    from riskmodel_sem.alternatives import generate_alternatives
    from riskmodel_sem.comparison import compare
    from riskmodel_sem.measurement import validate

    spec = load_spec(ROOT / "specs" / "gcrm.yaml")
    survey = read_survey(ROOT / "surveys" / "gcrm_synthetic.xlsx", spec)
    fit = fit_model(spec.model_syntax(), survey.data)
    validation = validate(survey, spec, seed=20231)
    declared = tuple((a.id, a.nested_in) for a in spec.alternatives if a.nested_in)
    comparison = compare(survey.data, generate_alternatives(spec), declared_nesting=declared)
    return Analysis("demo", spec, survey, {"seed": 20231}, validation=validation, fit=fit,
                    structural=stand_in_structural(spec, fit), comparison=comparison,
                    warnings=tuple(validation.warnings))
