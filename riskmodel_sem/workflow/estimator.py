"""Which estimator a run used and why: the screening's advice, the user's choice or the default.

Reports state the estimator and its reason in their methods text; the reason comes from here,
never from the report. The advice itself is the screening's
(:func:`riskmodel_sem.psychometrics.screening.screen`, ``normality["recommendation"]``): WLSMV
with ordered items when some items have fewer than five answer categories or strongly
asymmetric answers (Rhemtulla, Brosseau-Liard & Savalei, 2012), MLR otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["EstimatorChoice", "estimator_choice", "CHOSEN_BY"]

#: Who chose the estimator: the screening's advice (``demo``), the user (``--estimator``) or
#: lavaan's default (ML; WLSMV when items are ordered without an estimator).
CHOSEN_BY = ("screening", "user", "default")


@dataclass(frozen=True)
class EstimatorChoice:
    """The estimator of a run and the reason for it (immutable).

    Attributes
    ----------
    estimator : str
        The estimator the fits used (``"ML"``, ``"MLR"``, ``"WLSMV"``, ...).
    chosen_by : {"screening", "user", "default"}
        Who chose it (:data:`CHOSEN_BY`).
    recommended : str or None
        The screening's recommendation (None when the run did not screen the items).
    rule : str
        Why the screening recommends it: ``"few_categories"``, ``"asymmetric"``,
        ``"few_categories_asymmetric"`` (WLSMV) or ``"symmetric_categories"`` (MLR);
        empty without a recommendation.
    n_items, n_few_categories, n_asymmetric, min_categories : int
        Items screened, items with fewer than ``min_categories_rule`` categories, ordinal
        items with strongly asymmetric answers, the fewest categories of an item.
    min_categories_rule : int
        The screening's cut-off (five categories, ``NORMALITY_RULES``).
    n_ordered : int
        Items the fits treated as ordered (0 for ML and MLR).
    reason : str
        The screening's reason in English (``normality["reason"]``).
    source : str
        The reference of the advice (``normality["recommendation_source"]``).
    """

    estimator: str
    chosen_by: str
    recommended: str | None = None
    rule: str = ""
    n_items: int = 0
    n_few_categories: int = 0
    n_asymmetric: int = 0
    min_categories: int = 0
    min_categories_rule: int = 5
    n_ordered: int = 0
    reason: str = ""
    source: str = ""

    @property
    def follows_advice(self) -> bool:
        """True when the estimator is the screening's recommendation."""
        return self.recommended is not None and self.recommended == self.estimator

    def to_dict(self) -> dict:
        """JSON-ready fields (the ``estimator_choice`` key of ``results.json``)."""
        return asdict(self)


def estimator_choice(estimator: str, *, given: bool, normality: dict | None = None,
                     fit=None, by_screening: bool = False) -> EstimatorChoice:
    """The :class:`EstimatorChoice` of a run.

    Parameters
    ----------
    estimator : str
        The estimator the run used.
    given : bool
        Whether the user named it (``--estimator``).
    normality : dict, optional
        ``ScreeningResult.normality`` of the run's items (the recommendation, its reason,
        source and counts); None when the run did not screen.
    fit : FitResult, optional
        The run's fit: the items it treated as ordered are counted.
    by_screening : bool
        The run follows the screening's advice (``demo``).

    Returns
    -------
    EstimatorChoice
    """
    chosen_by = "screening" if by_screening else ("user" if given else "default")
    ordinal = getattr(fit, "ordinal", None)
    n_ordered = sum(bool(o) for o in ordinal.stats[0].ordered) if ordinal is not None else 0
    if not normality or not normality.get("recommendation"):
        return EstimatorChoice(str(estimator), chosen_by, n_ordered=int(n_ordered))
    from ..psychometrics.screening import NORMALITY_RULES  # only with the screening's advice

    recommended = str(normality["recommendation"])
    few = int(normality.get("n_items_few_categories", 0) or 0)
    asym = int(normality.get("n_ordinal_items_asymmetric", 0) or 0)
    if recommended == "WLSMV":
        rule = ("few_categories_asymmetric" if few and asym else
                "few_categories" if few else "asymmetric")
    else:
        rule = "symmetric_categories"
    return EstimatorChoice(
        estimator=str(estimator), chosen_by=chosen_by, recommended=recommended, rule=rule,
        n_items=int(normality.get("p", 0) or 0), n_few_categories=few,
        n_asymmetric=asym, min_categories=int(normality.get("min_categories", 0) or 0),
        min_categories_rule=int(NORMALITY_RULES["min_categories"]["value"]),
        n_ordered=int(n_ordered), reason=str(normality.get("reason", "")),
        source=str(normality.get("recommendation_source", "")))
