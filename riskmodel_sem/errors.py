"""Errors and warnings of riskmodel-sem, in one place.

Every mistake a user can make (a bad file, a bad spec, a bad option) raises a subclass of
:class:`RiskModelError`; the command line turns these into one line on stderr and exit status 2.
Analysis problems that still give numbers (non-convergence, Heywood cases) are warnings with a
category from this module and are also recorded in the result objects.
"""

from __future__ import annotations

__all__ = [
    "RiskModelError",
    "SpecError",
    "SurveyDataError",
    "ModelError",
    "OutputError",
    "OptionError",
    "RiskModelWarning",
    "ConvergenceWarning",
    "HeywoodWarning",
    "IdentificationWarning",
    "DataQualityWarning",
]


class RiskModelError(Exception):
    """Base class of all errors caused by user input; the message is one complete sentence."""


class SpecError(RiskModelError, ValueError):
    """A YAML spec or lavaan model syntax is invalid (the message names file, key path or line)."""


class SurveyDataError(RiskModelError, ValueError):
    """A survey file cannot be read or its content does not fit the spec."""


class ModelError(RiskModelError, ValueError):
    """A model cannot be estimated on these data (not identified, non-positive-definite input)."""


class OutputError(RiskModelError, OSError):
    """An output path cannot be written."""


class OptionError(RiskModelError, ValueError):
    """An option value is invalid (estimator, bootstrap count, jobs, group column, ...)."""


class RiskModelWarning(UserWarning):
    """Base class of the warnings riskmodel-sem emits."""


class ConvergenceWarning(RiskModelWarning):
    """The optimizer stopped before reaching lavaan's convergence criterion."""


class HeywoodWarning(RiskModelWarning):
    """A variance estimate is negative or a correlation exceeds one in absolute value."""


class IdentificationWarning(RiskModelWarning):
    """The information matrix is singular: the model is probably not identified."""


class DataQualityWarning(RiskModelWarning):
    """The data are usable but something deserves attention (missing answers, flagged rows)."""
