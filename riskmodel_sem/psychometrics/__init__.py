"""Screening, reliability and validity of Likert items (alpha, omega, AVE, HTMT, KMO,
Bartlett, EFA, careless responding, normality)."""
