"""Ordinal alpha and polychoric HTMT against psych 2.2.9 / semTools 0.5.6
(tests/reference/make_ordinal_psychometrics.R, data tests/reference/polychoric_data.csv:
Holzinger-Swineford items with 5, 3 and 7 categories, and 5 categories with missing answers
analysed pairwise)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from riskmodel_sem.errors import OptionError, SurveyDataError
from riskmodel_sem.psychometrics.reliability import cronbach_alpha, ordinal_alpha
from riskmodel_sem.psychometrics.validity import correlation_matrix, htmt, ordered_columns

from conftest import load_reference, reference_path

REF = load_reference("ordinal_psychometrics.json")
DATA = pd.read_csv(reference_path("polychoric_data.csv"))
VARIANTS = sorted(REF["cases"])
# lavCor's correlations are lavaan's nlminb optimum, within 5e-7 of the exact root (see
# tests/test_polychoric.py); 1e-6 relative holds for every statistic derived from them
RTOL = 1e-6


@pytest.mark.parametrize("variant", VARIANTS)
def test_ordinal_alpha_matches_psych_on_lavaan_polychorics(variant):
    case = REF["cases"][variant]
    for construct, want in case["alpha"].items():
        got = ordinal_alpha(DATA[want["items"]], missing=case["missing"])
        assert got.n_obs == want["n_obs"]
        total = want["total"]
        assert got.alpha == pytest.approx(total["raw_alpha"], rel=RTOL)
        assert got.alpha == pytest.approx(total["std.alpha"], rel=RTOL)
        assert got.g6 == pytest.approx(total["G6(smc)"], rel=RTOL)
        assert got.average_r == pytest.approx(total["average_r"], rel=RTOL)
        assert got.ase == pytest.approx(total["ase"], rel=RTOL)
        np.testing.assert_allclose(got.items["alpha_if_deleted"], want["alpha_drop"], rtol=RTOL)
        np.testing.assert_allclose(got.items["std_r"], want["item_stats"]["r"], rtol=RTOL)
        np.testing.assert_allclose(got.items["r_cor"], want["item_stats"]["r.cor"], rtol=RTOL)
        np.testing.assert_allclose(got.items["citc"], want["item_stats"]["r.drop"], rtol=RTOL)
        assert "Zumbo" in got.label


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("geometric,key", [(True, "htmt"), (False, "htmt_original")])
def test_polychoric_htmt_matches_semtools(variant, geometric, key):
    case = REF["cases"][variant]
    constructs = {f: a["items"] for f, a in case["alpha"].items()}
    got = htmt(DATA, constructs, ordered=True, geometric=geometric, missing=case["missing"])
    want = pd.DataFrame(case[key]).loc[got.index, got.columns]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=RTOL)


def test_ordinal_alpha_exceeds_alpha_for_coarse_skewed_items():
    """Three categories: the polychoric correlations exceed the Pearson ones, and so does
    alpha (Gadermann, Guhn & Zumbo 2012)."""
    items = [f"o3_x{i}" for i in (4, 5, 6)]
    assert ordinal_alpha(DATA[items]).alpha > cronbach_alpha(DATA[items]).alpha_std


def test_ordered_columns_rules():
    cols = ["a", "b", "c"]
    assert ordered_columns(cols, None) == []
    assert ordered_columns(cols, True) == cols
    assert ordered_columns(cols, "all") == cols
    assert ordered_columns(cols, ["c", "a"]) == ["a", "c"]
    with pytest.raises(OptionError, match="ordered= names d, which is not among the items"):
        ordered_columns(cols, ["d"])


def test_mixed_correlation_matrix_and_bad_options():
    cols = ["c_x1", "o5_x2", "o5_x3"]
    r = correlation_matrix(DATA[cols], ordered=["o5_x2", "o5_x3"])
    pearson = correlation_matrix(DATA[cols])
    assert r.loc["c_x1", "o5_x2"] != pytest.approx(pearson.loc["c_x1", "o5_x2"], rel=1e-3)
    with pytest.raises(OptionError, match="listwise' or 'pairwise'"):
        correlation_matrix(DATA[cols], "fiml", ordered=True)
    with pytest.raises(SurveyDataError, match="at least two items"):
        ordinal_alpha(DATA[["o5_x1"]])


def test_validate_reports_ordinal_alpha_and_polychoric_htmt(tmp_path):
    from riskmodel_sem.survey.spec import load_spec
    from riskmodel_sem.workflow.validation import validate

    case = REF["cases"]["o5"]
    (tmp_path / "hs.lav").write_text(case["model"] + "\n", encoding="utf-8")
    spec = load_spec(tmp_path / "hs.lav")
    items = [i for a in case["alpha"].values() for i in a["items"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = validate(DATA[items], spec, ordered=True, n_iter=5)
    rel = res.reliability.set_index("construct")
    for construct, want in case["alpha"].items():
        assert rel.loc[construct, "alpha_ordinal"] == pytest.approx(
            want["total"]["raw_alpha"], rel=RTOL)
        assert res.ordinal_alpha[construct].alpha == rel.loc[construct, "alpha_ordinal"]
    want = pd.DataFrame(case["htmt"]).loc[res.htmt2.index, res.htmt2.columns]
    np.testing.assert_allclose(res.htmt2.to_numpy(), want.to_numpy(), rtol=RTOL)
    verdicts = res.verdicts
    assert set(verdicts.loc[verdicts["criterion"] == "alpha_ordinal", "target"]) == set(
        case["alpha"])
    out = res.to_dict()
    assert out["reliability"]["visual"]["alpha_ordinal"] == pytest.approx(
        case["alpha"]["visual"]["total"]["raw_alpha"], rel=RTOL)
    assert "Zumbo" in out["validation"]["ordinal_alpha"]["visual"]["label"]
    assert out["validation"]["options"]["ordered"] == items
    # five roughly symmetric categories: MLR (Rhemtulla et al. 2012)
    assert out["validation"]["estimator_recommendation"]["recommendation"] == "MLR"
    assert "Rhemtulla" in out["validation"]["estimator_recommendation"]["recommendation_source"]
    # without ordered= nothing ordinal is added
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = validate(DATA[items], spec, n_iter=5)
    assert "alpha_ordinal" not in plain.reliability.columns
    assert plain.ordinal_alpha == {}


# ---- corpus cases with ordinal reliability extras (tests/lavaan_cases) ------------------------

CORPUS = reference_path("../lavaan_cases")
ORDINAL_CASES = sorted(p.parent.name for p in CORPUS.glob("*ordinal_reliability*/case.json"))


def _extra_matrix(m):
    return pd.DataFrame(m["values"], index=m["rownames"], columns=m["colnames"])


@pytest.mark.parametrize("name", ORDINAL_CASES)
def test_corpus_ordinal_reliability_extras(name):
    import json

    folder = CORPUS / name
    case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    extras = json.loads((folder / "lavaan.json").read_text(encoding="utf-8"))["extras"]
    data = pd.read_csv(CORPUS / "data" / case["data"])
    constructs = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                  "speed": ["x7", "x8", "x9"]}
    items = [f"x{i}" for i in range(1, 10)]
    poly = correlation_matrix(data[items], ordered=True)
    want = _extra_matrix(extras["polychoric"]).loc[items, items]
    np.testing.assert_allclose(poly.to_numpy(), want.to_numpy(), rtol=RTOL, atol=1e-6)
    for key, geometric in (("htmt2_ordered", True), ("htmt_ordered", False)):
        got = htmt(data, constructs, ordered=items, geometric=geometric)
        want = _extra_matrix(extras[key]).loc[got.index, got.columns]
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=RTOL)
    for construct, its in constructs.items():
        assert ordinal_alpha(data[its]).alpha == pytest.approx(
            extras["alpha_ordinal"][construct], rel=RTOL)


def test_corpus_has_ordinal_reliability_cases():
    assert len(ORDINAL_CASES) >= 2
