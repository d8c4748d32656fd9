"""measurement.validate end to end: reference numbers, the GCRM survey, JSON, verdicts."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from riskmodel_sem.errors import DataQualityWarning, OptionError
from riskmodel_sem.workflow.validation import THRESHOLDS, VERDICT_COLUMNS, validate
from riskmodel_sem.survey.simulate import simulate_survey
from riskmodel_sem.survey.spec import load_spec
from riskmodel_sem.survey.readers import read_survey

from conftest import GCRM_SPEC, GCRM_SURVEY, REFERENCE
from conftest import load_reference as _ref

RTOL = 1e-4
ITEM5_KEYS = {"reliability", "items", "htmt", "htmt2", "fornell_larcker", "kmo", "bartlett",
              "efa", "normality", "screening"}


def _lav_spec(tmp_path_factory, name: str, text: str):
    d = tmp_path_factory.mktemp("specs")
    (d / f"{name}.lav").write_text(text, encoding="utf-8")
    return load_spec(d / f"{name}.lav")


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return validate(*args, **kwargs)


def _assert_reference(res, ref: dict, *, omega_ave: bool = True) -> None:
    rel = res.reliability.set_index("construct")
    block = ref["reliability"]
    for f, pa in block["psych_alpha"].items():
        np.testing.assert_allclose(
            rel.loc[f, ["alpha", "alpha_std", "alpha_ci_lower", "alpha_ci_upper"]].to_numpy(float),
            [pa["raw_alpha"], pa["std.alpha"], pa["ci95_feldt"]["lower"],
             pa["ci95_feldt"]["upper"]], rtol=RTOL, atol=0)
        items = res.items.set_index("item")
        for drop, st in zip(pa["alpha_drop"], pa["item_stats"]):
            assert items.loc[drop["item"], "alpha_if_deleted"] == pytest.approx(
                drop["raw_alpha"], rel=RTOL)
            assert items.loc[st["item"], "citc"] == pytest.approx(st["r.drop"], rel=RTOL)
    if omega_ave:
        for key in ("omega", "ave"):
            for f, v in block[key].items():
                assert rel.loc[f, key] == pytest.approx(v, rel=RTOL), (key, f)
    for key, mine in (("htmt", res.htmt2), ("htmt_original", res.htmt)):
        want = pd.DataFrame(block[key]).loc[mine.index, mine.columns]
        np.testing.assert_allclose(mine.to_numpy(), want.to_numpy(), rtol=RTOL, atol=0)


# ---------------------------------------------------------------------------------------------
# reference cases through the whole pipeline (spec from a lavaan file)
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hs_result(tmp_path_factory):
    ref = _ref("hs_cfa_ml.json")
    spec = _lav_spec(tmp_path_factory, "hs", ref["model"])
    return _quiet(pd.read_csv(REFERENCE / ref["data"]), spec), ref


def test_validate_reproduces_hs_cfa_ml(hs_result):
    res, ref = hs_result
    _assert_reference(res, ref)
    std = {(e["lhs"], e["rhs"]): e["std.all"] for e in ref["estimates"] if e["op"] == "=~"}
    for rec in res.items.to_dict(orient="records"):
        assert rec["loading_std"] == pytest.approx(std[(rec["construct"], rec["item"])],
                                                   rel=RTOL)
    fl = res.fornell_larcker
    for f, v in ref["reliability"]["ave"].items():
        assert fl.loc[f, f] == pytest.approx(np.sqrt(v), rel=RTOL)
    assert res.rows_used["cfa"] == res.rows_used["alpha"] == res.rows_used["correlations"] == 301
    assert res.cfa.fit["chisq"] == pytest.approx(ref["fit"]["chisq"], rel=RTOL)


def test_validate_reproduces_hs_second_order(tmp_path_factory):
    ref = _ref("hs_second_order.json")
    spec = _lav_spec(tmp_path_factory, "hs2", ref["model"])
    assert spec.dimension_codes == ("g",)
    res = _quiet(pd.read_csv(REFERENCE / ref["data"]), spec)
    _assert_reference(res, ref)
    hom = ref["reliability"]["omega_higher_order"]["value"]
    got = res.higher_order.set_index("dimension")
    assert got.loc["g", "omega"] == pytest.approx(hom["g"], rel=RTOL)
    assert res.to_dict()["validation"]["omega_higher_order"]["g"] == pytest.approx(hom["g"],
                                                                                   rel=RTOL)


def test_validate_reproduces_hs_cfa_fiml(tmp_path_factory):
    ref = _ref("hs_cfa_fiml.json")
    spec = _lav_spec(tmp_path_factory, "hsm", ref["model"])
    res = _quiet(pd.read_csv(REFERENCE / ref["data"]), spec, missing="fiml")
    _assert_reference(res, ref)
    assert res.rows_used["cfa"] == res.rows_used["alpha"] == 301
    assert res.rows_used["complete"] < 301


def test_validate_reproduces_poldem_alpha_and_htmt(tmp_path_factory):
    # The reference omega/AVE come from the full SEM with residual covariances; validate fits
    # the measurement part (the reference's htmt_model), so only alpha and HTMT compare.
    ref = _ref("poldem_sem_ml.json")
    spec = _lav_spec(tmp_path_factory, "pd", ref["reliability"]["htmt_model"])
    res = _quiet(pd.read_csv(REFERENCE / ref["data"]), spec)
    _assert_reference(res, ref, omega_ave=False)


def test_verdicts_carry_threshold_and_source(hs_result):
    res, ref = hs_result
    v = res.verdicts
    assert list(v.columns) == VERDICT_COLUMNS
    assert v["source"].str.len().min() > 10
    crit = set(v["criterion"])
    assert {"alpha", "omega", "cr", "ave", "htmt", "htmt2", "fornell_larcker", "kmo",
            "bartlett", "harman", "one_factor_cfa", "loading_std", "citc"} <= crit
    ave = v[(v["criterion"] == "ave")].set_index("target")
    assert not ave.loc["visual", "passed"]          # AVE .37 < .50
    assert ave.loc["textual", "passed"]             # AVE .72
    assert ave.loc["visual", "threshold"] == THRESHOLDS["ave"]["value"]
    fl = v[v["criterion"] == "fornell_larcker"].set_index("target")
    # sqrt(AVE visual) = .609 > .471 = largest |r| of visual
    assert fl.loc["visual", "threshold"] == pytest.approx(0.47053454446442755, rel=RTOL)
    assert fl.loc["visual", "passed"]
    assert not res.all_passed
    pairs = v[v["criterion"] == "htmt2"]["target"].tolist()
    assert pairs == ["visual~textual", "visual~speed", "textual~speed"]


def test_to_dict_is_json_with_item5_keys(hs_result):
    res, _ = hs_result
    d = res.to_dict()
    assert ITEM5_KEYS <= set(d)
    assert set(d) - ITEM5_KEYS == {"validation"}
    text = json.dumps(d, allow_nan=False, ensure_ascii=False)
    assert "NaN" not in text
    assert set(d["reliability"]["visual"]) == {"alpha", "alpha_ci_lower", "alpha_ci_upper",
                                               "alpha_std", "omega", "cr", "ave"}
    assert set(d["items"][0]) == {"item", "construct", "n", "mean", "sd", "skew", "kurtosis",
                                  "citc", "alpha_if_deleted", "loading_std"}
    assert d["htmt"]["visual"]["visual"] == 1.0
    assert set(d["screening"]["respondents"][0]) >= {"id", "flagged", "reasons"}
    assert isinstance(d["screening"]["respondents"][0]["reasons"], list)
    assert {"overall", "items"} == set(d["kmo"])
    assert d["bartlett"]["df"] == 36


def test_options_are_checked():
    hs = pd.read_csv(REFERENCE / "holzinger1939.csv")
    spec = load_spec(GCRM_SPEC)
    with pytest.raises(OptionError):
        validate(hs, spec, missing="pairwise")
    with pytest.raises(OptionError):
        validate(hs, spec, estimator="GLS")


# ---------------------------------------------------------------------------------------------
# the GCRM survey
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gcrm():
    return load_spec(GCRM_SPEC)


def test_gcrm_synthetic_survey_is_reliable(gcrm):
    path = GCRM_SURVEY
    survey = read_survey(path, gcrm) if path.exists() else simulate_survey(gcrm, 600, 20231)
    res = _quiet(survey, gcrm)
    rel = res.reliability.set_index("construct")
    assert list(rel.index) == list(gcrm.construct_codes)
    assert (rel["alpha"] > 0.70).all(), rel["alpha"]
    assert (rel["cr"] > 0.70).all(), rel["cr"]
    assert (rel["omega"] > 0.70).all(), rel["omega"]
    assert list(res.higher_order["dimension"]) == list(gcrm.dimension_codes)
    assert res.second_order is not None
    # one factor is far worse than eleven
    assert res.one_factor.pvalue < 1e-10
    assert res.harman.share < 0.5
    d = res.to_dict()
    assert ITEM5_KEYS <= set(d)
    json.dumps(d, allow_nan=False, ensure_ascii=False)
    assert len(d["items"]) == 33 and len(d["htmt2"]) == 11


def test_drop_flagged_leaves_out_careless_rows(gcrm):
    genuine = simulate_survey(gcrm, 400, 11)
    codes = list(gcrm.item_codes)
    rng = np.random.default_rng(11)
    bad = pd.DataFrame(rng.integers(1, 6, size=(20, len(codes))), columns=codes)
    bad.insert(0, "id", np.arange(401, 421))
    frame = pd.concat([genuine, bad], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = validate(frame, gcrm, n_iter=20)
        dropped = validate(frame, gcrm, drop_flagged=True, n_iter=20)
    n_flag = kept.screening.n_flagged
    assert n_flag >= 15
    assert kept.rows_used["analysis"] == 420
    assert dropped.rows_used["dropped_flagged"] == n_flag
    assert dropped.rows_used["cfa"] == 420 - n_flag
    a_kept = kept.reliability["alpha"].mean()
    a_drop = dropped.reliability["alpha"].mean()
    assert a_drop > a_kept          # random answers dilute internal consistency


def test_missing_answers_are_reported(gcrm):
    frame = simulate_survey(gcrm, 250, 3)
    frame.loc[:9, "FIN1"] = np.nan
    with pytest.warns(DataQualityWarning, match="listwise"):
        res = validate(frame, gcrm, n_iter=10)
    assert res.rows_used["analysis"] == 240 and res.rows_used["screened"] == 250
