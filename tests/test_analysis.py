"""Analysis holds the stages' results by field, and its JSON overwrites no stage's key."""

from __future__ import annotations

import dataclasses
import json

import pytest

from riskmodel_sem._json import json_value
from riskmodel_sem.sem.comparison import compare
from riskmodel_sem.sem.estimation import fit_model
from riskmodel_sem.survey.spec import load_spec
from riskmodel_sem.workflow.analysis import STAGES, Analysis

THREE = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
ONE = "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9\n"


@pytest.fixture(scope="module")
def fit_and_comparison(hs):
    fit = fit_model(THREE, hs)
    fit = dataclasses.replace(fit, warnings=("fit remark",))
    cmp = compare(hs, {"one": ONE, "three": THREE})
    cmp = dataclasses.replace(cmp, warnings=("comparison remark",))
    return fit, cmp


def test_no_stage_key_is_overwritten(fit_and_comparison, reference_dir):
    fit, cmp = fit_and_comparison
    spec = load_spec(reference_dir / "models" / "hs_three_factor.lav")
    a = Analysis("demo", spec, None, {}, fit=fit, comparison=cmp, warnings=("run warning",))
    out = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    assert out["warnings"] == ["run warning"]
    assert out["stage_warnings"] == {"fit": ["fit remark"], "comparison": ["comparison remark"]}
    # the fit's keys stay at the top level, the comparison's clashing ones are nested
    fit_d = json_value(fit.to_dict())
    for key, value in fit_d.items():
        if key != "warnings":
            assert out[key] == value, key
    cmp_d = json_value(cmp.to_dict())
    for key, value in cmp_d.items():
        if key == "warnings":
            continue
        where = out["comparison"] if key in fit_d else out
        assert where[key] == value, key
    assert set(out["comparison"]) == {"estimator", "missing", "n_obs"}


def test_invariance_next_to_a_comparison_is_nested_whole(fit_and_comparison, reference_dir):
    fit, cmp = fit_and_comparison
    spec = load_spec(reference_dir / "models" / "hs_three_factor.lav")
    a = Analysis("compare", spec, None, {}, comparison=cmp, invariance=cmp)
    out = a.to_dict()
    assert out["models"] == json_value(cmp.to_dict())["models"]
    assert "warnings" not in out["invariance"]
    assert out["invariance"]["models"] == out["models"]


def test_stages_are_fields():
    names = [f.name for f in dataclasses.fields(Analysis)]
    assert all(s in names for s in STAGES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Analysis("fit", None).fit = None  # type: ignore[misc]
