"""The estimation engine: lavaan syntax -> parameter table -> compiled model -> one ML
objective (complete data and FIML) -> optimizer -> fit, fit measures, modification indices,
standardized and defined parameters, robust (MLR) statistics, bootstrap, nested tests and
invariance. It knows nothing of surveys or specs.

Layers inside: syntax -> model -> numdiff, objective -> em, optimize -> data -> fitmeasures ->
robust, fiml -> defined, standardize -> estimation -> comparison, bootstrap."""
