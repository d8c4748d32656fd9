"""Alternative specifications M0-M7 generated from the GCRM spec."""

from __future__ import annotations

import dataclasses

import pytest

from riskmodel_sem.workflow.alternatives import (declared_nesting, default_alternatives,
                                        generate_alternatives)
from riskmodel_sem.sem.comparison import compare
from riskmodel_sem.survey.simulate import simulate_survey
from riskmodel_sem.survey.spec import load_spec
from riskmodel_sem.sem.syntax import parse_syntax, variable_roles

from conftest import GCRM_SPEC, GCRM_SURVEY


@pytest.fixture(scope="module")
def spec():
    return load_spec(GCRM_SPEC)


@pytest.fixture(scope="module")
def alts(spec):
    return generate_alternatives(spec)


@pytest.fixture(scope="module")
def result(spec, alts):
    data = simulate_survey(spec, 600, seed=20240607)
    data = getattr(data, "data", data)
    return compare(data, alts, declared_nesting=declared_nesting(spec), reference="M3")


def _roles(text):
    return variable_roles(parse_syntax(text))


def test_names_and_shapes(alts, spec):
    assert list(alts) == [f"M{i}" for i in range(8)]
    assert len(_roles(alts["M0"]).latent) == 1
    assert len(_roles(alts["M1"]).latent) == 11
    assert len(_roles(alts["M7"]).latent) == 4
    for name in alts:
        assert set(_roles(alts[name]).observed) == set(spec.item_codes), name
    assert "GIV ~~ 0*SOL" in alts["M4"]  # no free residual covariance replaces the path
    assert "SOL ~" in alts["M6"] and "GIV" in alts["M6"].split("SOL ~")[1].splitlines()[0]


def test_default_rules_reproduce_the_papers_alternatives(spec):
    # the general rules give the same kinds, paths and nesting as the spec's explicit list
    strip = [dataclasses.replace(a, zh="", en="", equivalent_to=None)
             for a in spec.alternatives]
    generated = [dataclasses.replace(a, zh="", en="") for a in default_alternatives(spec)]
    key = lambda a: (a.id, a.kind, frozenset(a.paths), a.nested_in)
    assert [key(a) for a in generated] == [key(a) for a in strip]


def test_equivalent_models_are_flagged(result):
    assert ["M2", "M3", "M6"] in result.equivalent
    table = result.models.set_index("name")
    assert table.loc["M2", "df"] == table.loc["M3", "df"] == table.loc["M6", "df"]


def test_nested_tests(result):
    tests = result.tests.set_index(["model_a", "model_b"])
    assert tests.loc[("M4", "M3"), "df_diff"] == 1
    assert tests.loc[("M5", "M3"), "df_diff"] == 2
    assert tests.loc[("M4", "M3"), "basis"] == "parameters"
    assert tests.loc[("M0", "M1"), "basis"] == "factor_merge"
    assert tests.loc[("M7", "M1"), "basis"] == "factor_merge"
    # the data were simulated with both paths present: dropping them must be rejected
    assert tests.loc[("M4", "M3"), "pvalue"] < 0.01
    assert tests.loc[("M5", "M3"), "pvalue"] < 0.01


def test_every_model_on_the_same_rows(result):
    assert {f.n_obs for f in result.fits.values()} == {600}
    assert all(f.converged for f in result.fits.values())


def test_bundled_survey_equivalent_alternatives_fit_identically(spec, alts):
    from riskmodel_sem.survey.readers import read_survey

    survey = read_survey(GCRM_SURVEY, spec)
    res = compare(survey.data, alts, declared_nesting=declared_nesting(spec), reference="M3")
    assert res.equivalent == [["M2", "M3", "M6"]]
    chisq = res.models.set_index("name")["chisq"]
    for name in ("M2", "M6"):
        assert abs(chisq[name] - chisq["M3"]) < 1e-6 * chisq["M3"]
