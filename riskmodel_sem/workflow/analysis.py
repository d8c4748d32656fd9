"""The bundle of stage results that reports and JSON output are made from.

Each command runs the stages it needs (survey -> screening/measurement -> structural ->
comparison) and collects their immutable results in one :class:`Analysis`, one field per
stage; ``report`` formats an Analysis, ``Analysis.to_dict()`` is ``results.json``. Stages left
out are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..sem.comparison import ComparisonResult, InvarianceResult
    from ..sem.crosscheck import CrossCheck
    from ..sem.estimation import FitResult
    from ..sem.multigroup import GroupComparison
    from ..survey.readers import SurveyData
    from ..survey.spec import Spec
    from .estimator import EstimatorChoice
    from .power import PowerResult
    from .sample import Cleaning, SampleReport
    from .structural import StructuralResult
    from .validation import ValidationResult

__all__ = ["Analysis", "STAGES"]

#: The stage fields of :class:`Analysis`, in the order their results enter ``to_dict()``.
STAGES = ("cleaning", "sample", "validation", "fit", "structural", "groups", "comparison",
          "invariance", "power")


@dataclass(frozen=True)
class Analysis:
    """Results of one command run, held by stage.

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
    validation : ValidationResult or None
        Result of :func:`riskmodel_sem.workflow.validation.validate` (screening, reliability,
        validity, the measurement CFA and the verdicts).
    fit : FitResult or None
        The hypothesized model's fit.
    structural : StructuralResult or None
        Result of :func:`riskmodel_sem.workflow.structural.analyze` (hypotheses, indirect
        effects, bootstrap).
    groups : GroupComparison or None
        The differences of the paths between groups of a multi-group fit
        (:func:`riskmodel_sem.sem.multigroup.compare_groups`).
    comparison : ComparisonResult or None
        Result of :func:`riskmodel_sem.sem.comparison.compare` (models, nested tests,
        equivalent models).
    invariance : InvarianceResult or None
        Result of :func:`riskmodel_sem.sem.comparison.invariance`.
    warnings : tuple of str
        Every warning of the run, in the order printed (``riskmodel_sem.commands`` collects
        them); each stage result keeps its own ``warnings`` too.
    crosscheck : CrossCheck or None
        The semopy refit of ``fit --crosscheck semopy`` (JSON key ``crosscheck``).
    cleaning : Cleaning or None
        The respondents screening flagged and, with ``--drop-flagged``, dropped (JSON key
        ``cleaning``; the rows go to ``cleaned.xlsx``).
    sample : SampleReport or None
        Frequencies of the demographic columns and the sample-size advice (JSON key
        ``sample``).
    power : PowerResult or None
        Result of :func:`riskmodel_sem.workflow.power.power_analysis` (JSON keys ``power``,
        ``analytic``, ``monte_carlo``, ``monte_carlo_chisq``).
    estimator_choice : EstimatorChoice or None
        The estimator of the run and why (the screening's advice, the user's choice or the
        default; JSON key ``estimator_choice``), which the reports' methods text states.
    """

    command: str
    spec: Spec
    survey: SurveyData | None = None
    options: dict = field(default_factory=dict)
    validation: ValidationResult | None = None
    fit: FitResult | None = None
    structural: StructuralResult | None = None
    groups: GroupComparison | None = None
    comparison: ComparisonResult | None = None
    invariance: InvarianceResult | None = None
    warnings: tuple[str, ...] = ()
    crosscheck: CrossCheck | None = None
    cleaning: Cleaning | None = None
    sample: SampleReport | None = None
    power: PowerResult | None = None
    estimator_choice: EstimatorChoice | None = None

    def stage_warnings(self) -> dict[str, tuple[str, ...]]:
        """The warnings each part of the run recorded: ``{"survey": ..., "fit": ..., ...}``
        for the survey and every stage present that has a ``warnings`` tuple."""
        out: dict[str, tuple[str, ...]] = {}
        if self.survey is not None:
            out["survey"] = tuple(self.survey.warnings)
        for name in STAGES:
            stage = getattr(self, name)
            if stage is not None and hasattr(stage, "warnings"):
                out[name] = tuple(stage.warnings)
        return out

    def summary(self) -> str:
        """Every stage's ``summary()`` in the order of :data:`STAGES`, then the warnings."""
        parts = [f"riskmodel-sem {self.command}: {getattr(self.spec, 'name', '')}"]
        for name in STAGES:
            stage = getattr(self, name)
            if stage is not None and hasattr(stage, "summary"):
                parts.append(f"== {name} ==\n{stage.summary()}")
        if self.warnings:
            parts.append("Warnings:\n" + "\n".join(f"  {w}" for w in self.warnings))
        return "\n\n".join(parts) + "\n"

    def _repr_html_(self) -> str:
        from ..sem.summary import summary_html

        return summary_html(self.summary())

    def to_dict(self) -> dict:
        """JSON-ready results with the keys of DESIGN.md §3; no key overwrites another.

        ``command``, ``spec``, ``options``, ``warnings`` (every warning of the run) and
        ``data`` come first. Then each stage's ``to_dict()`` adds its keys at the top level,
        in the order of :data:`STAGES`: ``cleaning``, ``sample``, the validation keys (``reliability``, ``items``,
        ``htmt``, ``htmt2``, ``fornell_larcker``, ``kmo``, ``bartlett``, ``efa``,
        ``normality``, ``screening``, ``validation``), the fit's (``estimator``, ``missing``,
        ``n_obs``, ``converged``, ``iterations``, ``heywood``, ``syntax``, ``fit``,
        ``estimates``, ``r2``, ``modindices``, ``groups``), the structural keys
        (``hypotheses``, ``contrasts``, ``indirect``, ``structural_r2``, ``bootstrap``), the
        group comparison's (``group_equal``, ``path_differences``,
        ``path_differences_omnibus``, ``metric_invariance``, ``equal_paths``) and the comparison or
        invariance keys (``reference``, ``models``, ``table``, ``tests``, ``equivalent``, ...).

        Two rules keep every stage's values:

        * A stage's own ``warnings`` list goes to ``stage_warnings[<stage>]`` (with
          ``stage_warnings["survey"]`` for the reader's remarks); the top-level ``warnings``
          is the run's list.
        * A key that an earlier stage already wrote is nested under the later stage's name
          instead of replacing it. In ``demo`` the comparison's ``estimator``, ``missing`` and
          ``n_obs`` thus go to ``comparison`` while the top-level ones are the hypothesized
          model's (the same values today, as both use the same rows). An invariance result
          next to a comparison is nested whole under ``invariance``.
        """
        out: dict = {"command": self.command, "spec": getattr(self.spec, "name", None),
                     "options": dict(self.options), "warnings": list(self.warnings)}
        if self.survey is not None:
            out["data"] = {"file": str(self.survey.source), "sheet": self.survey.sheet,
                           "n_rows": int(len(self.survey.data))}
        own = {name: list(w) for name, w in self.stage_warnings().items()}
        if own:
            out["stage_warnings"] = own
        for name in STAGES:
            stage = getattr(self, name)
            if stage is None:
                continue
            values = stage.to_dict()
            values.pop("warnings", None)
            if name == "invariance" and self.comparison is not None:
                out["invariance"] = values
                continue
            for key, value in values.items():
                if key not in out:
                    out[key] = value
                    continue
                nested = out.setdefault(name, {})
                if not isinstance(nested, dict) or key in nested:
                    raise RuntimeError(f"Results key {key!r} of the {name} stage has no free "
                                       "place in results.json.")
                nested[key] = value
        if self.groups is not None and "groups" not in out:  # a report's one-group fit
            out["groups"] = self.groups.group_sizes()
        if self.crosscheck is not None:
            out["crosscheck"] = self.crosscheck.to_dict()
        if self.estimator_choice is not None:
            out["estimator_choice"] = self.estimator_choice.to_dict()
        return out
