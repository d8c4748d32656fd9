"""riskmodel-sem: structural-equation analysis of Likert surveys for validating risk models."""

from .errors import RiskModelError
from .estimation import FitResult, fit_model

__all__ = ["fit_model", "FitResult", "RiskModelError", "__version__"]
__version__ = "0.1.0"
