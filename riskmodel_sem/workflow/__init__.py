"""The analysis as a researcher runs it: validation verdicts against one thresholds table,
hypotheses and indirect effects, alternative models, and the Analysis that holds each stage's
typed result."""
