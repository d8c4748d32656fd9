"""The estimation engine: lavaan syntax -> parameter table -> model -> objective ->
optimizer -> fit, fit measures, modification indices, standardized and defined parameters,
bootstrap, nested tests and invariance. It knows nothing of surveys or specs."""
