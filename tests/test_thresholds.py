"""The one thresholds table: complete entries, and verdicts and reports that agree."""

from __future__ import annotations

import pytest

from riskmodel_sem.report.tables import fit_verdict
from riskmodel_sem.workflow.thresholds import (CRITERIA, DIRECTIONS, FIT_INDEX_CRITERIA,
                                               VALIDATION_CRITERIA, criterion, passes)
from riskmodel_sem.workflow.validation import THRESHOLDS


def test_every_criterion_is_complete():
    for name, t in CRITERIA.items():
        assert t.criterion == name
        assert t.direction in DIRECTIONS
        assert t.source.strip()
        for lang in ("zh", "en"):
            assert t.word(True, lang) and t.word(False, lang)
            assert t.word(True, lang) != t.word(False, lang)


def test_validation_reads_the_table():
    assert list(THRESHOLDS) == list(VALIDATION_CRITERIA)
    for name, rule in THRESHOLDS.items():
        assert rule == CRITERIA[name].as_dict()


@pytest.mark.parametrize("measure", sorted(FIT_INDEX_CRITERIA))
@pytest.mark.parametrize("value", [0.0, 0.03, 0.05, 0.06, 0.061, 0.08, 0.081, 0.899, 0.9,
                                   0.93, 0.949, 0.95, 0.97, 2.9, 3.0, 3.2])
def test_fit_sheet_verdict_equals_the_validation_verdict(measure, value):
    crit = CRITERIA[FIT_INDEX_CRITERIA[measure]]
    thr, word, source, failed = fit_verdict(measure, value, "en")
    assert failed is not passes(value, crit.value, crit.direction)
    assert word == crit.word(not failed, "en")
    assert source == crit.source
    assert thr == crit.describe()


def test_directions():
    assert passes(-2.5, 2.0, "abs<") is False
    assert passes(1.9, 2.0, "abs<") is True
    assert passes(float("nan"), 0.5, ">=") is False
    assert passes(None, 0.5, ">=") is False
    with pytest.raises(ValueError, match="direction"):
        passes(1.0, 0.5, "=>")
    with pytest.raises(KeyError, match="nope"):
        criterion("nope")
    assert CRITERIA["skew"].describe() == "|x| < 2"
    assert CRITERIA["fornell_larcker"].describe() == ">"
