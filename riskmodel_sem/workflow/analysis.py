"""The bundle of stage results that reports and JSON output are made from.

Each command runs the stages it needs (survey -> screening/measurement -> structural ->
comparison) and collects their immutable results in one :class:`Analysis`; ``report`` formats
an Analysis, ``Analysis.to_dict()`` is ``results.json``. Stages left out are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Analysis"]


@dataclass(frozen=True)
class Analysis:
    """Results of one command run.

    Attributes
    ----------
    command : str
        ``"demo"``, ``"validate"``, ``"fit"``, ``"compare"`` or ``"invariance"``.
    spec : riskmodel_sem.survey.spec.Spec
        The model specification (its ``model_syntax()`` is shown in reports).
    survey : riskmodel_sem.survey.readers.SurveyData or None
        The data as read (codebook, ids, rows).
    options : dict
        The options the run used (estimator, missing, bootstrap, seed, jobs, group, lang, ...).
    validation : object or None
        Result of ``measurement.validate`` (screening, reliability, validity).
    fit : riskmodel_sem.sem.estimation.FitResult or None
        The hypothesized model's fit.
    structural : object or None
        Result of ``structural.analyze`` (hypotheses, indirect effects, bootstrap).
    comparison : object or None
        Result of ``comparison.compare`` (models, nested tests, equivalent models).
    invariance : object or None
        Result of ``comparison.invariance``.
    warnings : tuple of str
        Warnings collected during the run, shown prominently in reports.
    """

    command: str
    spec: Any
    survey: Any = None
    options: dict = field(default_factory=dict)
    validation: Any = None
    fit: Any = None
    structural: Any = None
    comparison: Any = None
    invariance: Any = None
    warnings: tuple[str, ...] = ()
    crosscheck: Any = None  # riskmodel_sem.sem.crosscheck.CrossCheck, from fit --crosscheck

    def to_dict(self) -> dict:
        """JSON-ready results with the keys of DESIGN.md §3.

        The fit's keys (``fit``, ``estimates``, ``r2``, ``modindices``) are at the top level, as
        are the validation keys (``reliability``, ``items``, ``htmt``, ...), the structural keys
        (``hypotheses``, ``indirect``, ``bootstrap``) and the comparison or invariance keys
        (``models``, ``tests``, ``equivalent``); each stage's ``to_dict()`` supplies them.
        """
        out: dict = {"command": self.command, "spec": getattr(self.spec, "name", None),
                     "options": dict(self.options), "warnings": list(self.warnings)}
        if self.survey is not None:
            out["data"] = {"file": str(self.survey.source), "sheet": self.survey.sheet,
                           "n_rows": int(len(self.survey.data))}
        for stage in (self.validation, self.fit, self.structural, self.comparison):
            if stage is not None:
                out.update(stage.to_dict())
        if self.invariance is not None:
            # the invariance command's models/tests are top-level keys (DESIGN.md §3); next
            # to a comparison they would collide, so they are nested then
            inv = self.invariance.to_dict()
            if self.comparison is None:
                out.update(inv)
            else:
                out["invariance"] = inv
        if self.crosscheck is not None:
            out["crosscheck"] = self.crosscheck.to_dict()
        return out
