"""Tests of the spec format (riskmodel_sem.survey.spec)."""

from __future__ import annotations

import pytest

from riskmodel_sem.errors import SpecError, SurveyDataError
from riskmodel_sem.survey.spec import Scale, ScaleLabel, load_spec

from conftest import GCRM_QUESTIONNAIRE, GCRM_SPEC as GCRM, REFERENCE

MODELS = REFERENCE / "models"

EXPECTED_SYNTAX = """\
# first-order factors
FIN =~ FIN1 + FIN2 + FIN3
SYM =~ SYM1 + SYM2 + SYM3
MGT =~ MGT1 + MGT2 + MGT3
DOV =~ DOV1 + DOV2 + DOV3
PRC =~ PRC1 + PRC2 + PRC3
PRV =~ PRV1 + PRV2 + PRV3
INS =~ INS1 + INS2 + INS3
EXC =~ EXC1 + EXC2 + EXC3
CHT =~ CHT1 + CHT2 + CHT3
DIV =~ DIV1 + DIV2 + DIV3
RSP =~ RSP1 + RSP2 + RSP3
# second-order dimensions
GIV =~ FIN + SYM + MGT
PLT =~ DOV + PRC + PRV
SOL =~ INS + EXC + CHT
ENV =~ DIV + RSP
# structural paths
SOL ~ H2*PLT + H4*ENV
GIV ~ H1*PLT + H3*ENV + H5*SOL
# indirect effects
PLT_SOL_GIV := H2*H5
ENV_SOL_GIV := H4*H5
"""


@pytest.fixture(scope="module")
def gcrm():
    return load_spec(GCRM)


def test_gcrm_counts(gcrm):
    assert gcrm.name == "gcrm"
    assert gcrm.language == "zh"
    assert len(gcrm.constructs) == 11
    assert len(gcrm.items) == 33
    assert gcrm.item_codes[:3] == ("FIN1", "FIN2", "FIN3")
    assert gcrm.item_codes[-1] == "RSP3"
    assert gcrm.dimension_codes == ("GIV", "PLT", "SOL", "ENV")
    assert len(gcrm.hypotheses) == 6
    assert len(gcrm.effects) == 2
    assert [a.id for a in gcrm.alternatives] == [f"M{i}" for i in range(8)]
    assert not any(i.reverse for i in gcrm.items)
    assert all(i.zh and i.en for i in gcrm.items)


def test_gcrm_model_syntax(gcrm):
    assert gcrm.model_syntax() == EXPECTED_SYNTAX


def test_gcrm_measurement_syntax(gcrm):
    assert gcrm.measurement_syntax() == "\n".join(EXPECTED_SYNTAX.splitlines()[:12]) + "\n"


def test_gcrm_hypotheses_and_effects(gcrm):
    h = {x.id: x for x in gcrm.hypotheses}
    assert (h["H1"].lhs, h["H1"].rhs, h["H1"].sign) == ("GIV", "PLT", "+")
    assert (h["H5"].lhs, h["H5"].rhs) == ("GIV", "SOL")
    assert h["H6"].kind == "loading_order"
    assert (h["H6"].dimension, h["H6"].strongest, h["H6"].others) == ("GIV", "FIN", ("SYM", "MGT"))
    assert [e.path for e in gcrm.effects] == [("PLT", "SOL", "GIV"), ("ENV", "SOL", "GIV")]
    assert gcrm.structural == (("SOL", "PLT"), ("SOL", "ENV"), ("GIV", "PLT"), ("GIV", "ENV"),
                               ("GIV", "SOL"))


def test_gcrm_population_matches_design(gcrm):
    pop = gcrm.population
    assert pop.loadings["FIN"]["FIN1"] == 0.80
    assert pop.loadings["RSP"]["RSP3"] == 0.70
    assert pop.second_order["GIV"]["FIN"] == 0.85
    assert pop.second_order["ENV"]["RSP"] == 0.72
    assert pop.regressions["GIV"]["SOL"] == 0.35
    assert pop.regressions["SOL"]["ENV"] == 0.25
    assert pop.covariances == (("PLT", "ENV", 0.30),)
    assert pop.thresholds == (-1.5, -0.5, 0.5, 1.5)
    # explained variance of SOL as stated in DESIGN.md
    b1, b2, r = 0.35, 0.25, 0.30
    assert b1**2 + b2**2 + 2 * b1 * b2 * r == pytest.approx(0.2375)


def test_gcrm_alternatives(gcrm):
    m4, m5, m6 = (gcrm.alternative(x) for x in ("M4", "M5", "M6"))
    assert (m4.kind, m4.paths, m4.nested_in) == ("drop_paths", (("GIV", "SOL"),), "M3")
    assert m5.paths == (("GIV", "PLT"), ("GIV", "ENV"))
    assert (m6.kind, m6.equivalent_to) == ("reverse_path", "M3")
    # alternative structural parts leave out effects that lose a link
    syntax = gcrm.model_syntax(structural=[p for p in gcrm.structural if p not in m4.paths])
    assert "GIV ~ H1*PLT + H3*ENV\n" in syntax and ":=" not in syntax


def test_spec_is_hashable_and_frozen(gcrm):
    hash(gcrm)
    with pytest.raises(AttributeError):
        gcrm.name = "x"


@pytest.mark.parametrize("text, expected", [
    ("非常同意", 5.0), ("Strongly agree", 5.0), ("  strongly   AGREE ", 5.0), ("5", 5.0),
    ("5.0", 5.0), (" 5 ", 5.0), (5, 5.0), ("5 非常同意", 5.0), ("非常同意(5)", 5.0),
    ("非常同意（5）", 5.0), ("4、同意", 4.0), ("中立", 3.0), ("", None), (None, None),
    (float("nan"), None), ("9", 9.0),
])
def test_scale_to_number(gcrm, text, expected):
    assert gcrm.scale.to_number(text) == expected


@pytest.mark.parametrize("text", ["maybe", "非常同意(4)", "同意同意", True])
def test_scale_to_number_unknown(gcrm, text):
    with pytest.raises(SurveyDataError):
        gcrm.scale.to_number(text)


def test_scale_small():
    s = Scale(1, 3, (ScaleLabel(1, "否", "No"), ScaleLabel(3, "是", "Yes")))
    assert s.to_number("YES") == 3.0
    assert s.label(1, "en") == "No"


# --------------------------------------------------------------------------------------------
# invalid specs: every error names the file, the line and the key path
# --------------------------------------------------------------------------------------------

GOOD = """\
name: small
title: {zh: 小, en: Small}
language: en
scale:
  min: 1
  max: 5
  labels:
    - {value: 1, zh: 非常不同意, en: Strongly disagree}
    - {value: 5, zh: 非常同意, en: Strongly agree}
constructs:
  - code: A
    items:
      - {code: A1, zh: 甲一, en: a one}
      - {code: A2, zh: 甲二, en: a two, reverse: true}
      - {code: A3}
  - code: B
    items:
      - {code: B1}
      - {code: B2}
      - {code: B3}
structural:
  - B ~ A
hypotheses:
  - {id: H1, lhs: B, rhs: A, sign: "+"}
"""


def test_small_spec_loads(tmp_path):
    f = tmp_path / "small.yaml"
    f.write_text(GOOD, encoding="utf-8")
    spec = load_spec(f)
    assert spec.item_codes == ("A1", "A2", "A3", "B1", "B2", "B3")
    assert spec.item("A2").reverse and not spec.item("A1").reverse
    assert spec.model_syntax() == ("# first-order factors\nA =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\n"
                                   "# structural paths\nB ~ H1*A\n")
    assert spec.population is None and spec.dimensions == ()


BAD = [
    # (replace old, with new, expected line, expected key path fragment)
    ("language: en", "language: fr", 3, "language"),
    ("  min: 1\n", "  min: 1\n  mid: 3\n", 6, "scale.mid"),
    ("    - {value: 5, zh: 非常同意", "    - {value: 7, zh: 非常同意", 9, "scale.labels[1].value"),
    ("      - {code: B2}", "      - {code: A1}", 19, "constructs[1].items[1].code"),
    ("      - {code: A3}", "      - {code: A3, reverse: yes please}", 15,
     "constructs[0].items[2].reverse"),
    ("      - {code: A3}", "      - {code: A3, wording: x}", 15, "constructs[0].items[2].wording"),
    ("  - B ~ A", "  - B ~ C", 22, "structural[0]"),
    ("{id: H1, lhs: B, rhs: A, sign: \"+\"}", "{id: H1, lhs: B, rhs: A, sign: \"++\"}", 24,
     "hypotheses[0].sign"),
    ("{id: H1, lhs: B, rhs: A,", "{id: H1, lhs: B, rhs: Z,", 24, "hypotheses[0].rhs"),
    ("  - code: B\n", "  - code: 2B\n", 16, "constructs[1].code"),
    ("language: en\n", "", 1, "Missing required key 'language'"),
    ("name: small\n", "name: small\nname: again\n", 2, "name"),
]


@pytest.mark.parametrize("old, new, line, keypath", BAD)
def test_invalid_spec_messages(tmp_path, old, new, line, keypath):
    assert old in GOOD
    f = tmp_path / "broken_spec.yaml"
    f.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(f)
    msg = str(info.value)
    assert "broken_spec.yaml" in msg
    assert f"line {line}:" in msg
    assert keypath in msg
    assert "\n" not in msg and msg.endswith(".")


def test_invalid_dimension_and_population(tmp_path):
    text = GOOD + "dimensions:\n  - {code: D, factors: [A, Q]}\n"
    f = tmp_path / "dim.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=r"dim\.yaml, line 26: dimensions\[0\]\.factors\[1\]"):
        load_spec(f)
    text = GOOD + "population:\n  loadings:\n    A: {A1: 0.7, A2: 1.2, A3: 0.5}\n"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=r"line 27: population\.loadings\.A\.A2"):
        load_spec(f)


def test_invalid_yaml_and_missing_file(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"bad\.yaml, line \d+: Invalid YAML"):
        load_spec(f)
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------------------------
# lavaan files
# --------------------------------------------------------------------------------------------

def test_lav_poldem():
    spec = load_spec(MODELS / "poldem.lav")
    assert spec.item_codes == ("x1", "x2", "x3") + tuple(f"y{i}" for i in range(1, 9))
    assert spec.scale is None
    assert spec.construct_codes == ("ind60", "dem60", "dem65")
    assert spec.item("y5").construct == "dem65"
    assert not any(i.reverse for i in spec.items)
    assert spec.model_syntax() == (MODELS / "poldem.lav").read_text()
    assert spec.lavaan_text == spec.model_syntax()


def test_lav_second_order():
    spec = load_spec(MODELS / "hs_second_order.lav")
    assert spec.item_codes == tuple(f"x{i}" for i in range(1, 10))
    assert spec.dimensions[0].factors == ("visual", "textual", "speed")


def test_lav_tokenizer_corners(tmp_path):
    f = tmp_path / "m.lav"
    f.write_text(
        "! a comment\n"
        "f1 =~ 1*a1 + l2*a2 +\n"
        "      NA*a3   # continued\n"
        "f2 =~ b1 + start(0.5)*b2; f2 ~~ 1*f2\n"
        "f2 ~ f1 + c1\n"
        "a1 ~ 1\n"
        "b1 ~~ a1\n"
        "d := l2*2\n"
        "l2 == 1\n"
        "l2 > 0\n",
        encoding="utf-8",
    )
    spec = load_spec(f)
    assert spec.item_codes == ("a1", "a2", "a3", "b1", "b2", "c1")
    assert spec.item("c1").construct == ""
    assert spec.structural == (("f2", "f1"),)


def test_lav_bad_statement(tmp_path):
    f = tmp_path / "bad.lav"
    f.write_text("f1 =~ a + b\nthis is not syntax\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"bad\.lav, line 2:"):
        load_spec(f)


# --------------------------------------------------------------------------------------------
# questionnaire document
# --------------------------------------------------------------------------------------------

def test_questionnaire_matches_spec(gcrm):
    from riskmodel_sem.survey.spec import questionnaire_markdown

    doc = GCRM_QUESTIONNAIRE.read_text(encoding="utf-8")
    for item in gcrm.items:
        assert f"| {item.code} | {item.zh} | {item.en} |" in doc
    for c in gcrm.constructs:
        assert f"{c.zh} / {c.en} ({c.code})" in doc
    for lab in gcrm.scale.labels:
        assert f"| {lab.value} | {lab.zh} | {lab.en} |" in doc
    assert doc == questionnaire_markdown(gcrm, "the command in surveys/README.md")
