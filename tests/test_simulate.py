"""Tests of synthetic surveys (riskmodel_sem.survey.simulate)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from riskmodel_sem.errors import OptionError, SpecError
from riskmodel_sem.survey.simulate import run_simulate, simulate_survey, write_synthetic_xlsx
from riskmodel_sem.survey.spec import load_spec
from riskmodel_sem.survey.readers import read_survey

from conftest import GCRM_SPEC as GCRM, GCRM_SURVEY


@pytest.fixture(scope="module")
def gcrm():
    return load_spec(GCRM)


def test_same_seed_same_frame(gcrm):
    a = simulate_survey(gcrm, 200, seed=7)
    b = simulate_survey(gcrm, 200, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["id", *gcrm.item_codes]
    assert a["id"].tolist() == list(range(1, 201))
    items = a[list(gcrm.item_codes)]
    assert items.min().min() >= 1 and items.max().max() <= 5
    assert (items.dtypes == np.int64).all()


def test_different_seed_differs(gcrm):
    a = simulate_survey(gcrm, 200, seed=7)
    b = simulate_survey(gcrm, 200, seed=8)
    assert not a.equals(b)


def test_moments_recover_population(gcrm):
    df = simulate_survey(gcrm, 20000, seed=11, continuous=True)
    x = df[list(gcrm.item_codes)]
    r = x.corr()
    assert r.loc["FIN1", "FIN2"] == pytest.approx(0.80 * 0.75, abs=0.02)
    assert x.var().to_numpy() == pytest.approx(np.ones(33), abs=0.05)
    # items of different dimensions: FIN1 (GIV) and INS1 (SOL) correlate through GIV ~ SOL
    # cov(GIV, SOL) = .35 + .30*cov(PLT,SOL) + .20*cov(ENV,SOL), cov(PLT,SOL) = .35 + .25*.3
    c_plt_sol = 0.35 + 0.25 * 0.30
    c_env_sol = 0.25 + 0.35 * 0.30
    c_giv_sol = 0.35 + 0.30 * c_plt_sol + 0.20 * c_env_sol
    expected = 0.80 * 0.85 * c_giv_sol * 0.74 * 0.79
    assert r.loc["FIN1", "INS1"] == pytest.approx(expected, abs=0.02)


def test_cut_points_give_expected_proportions(gcrm):
    df = simulate_survey(gcrm, 20000, seed=3)
    share = df["FIN1"].value_counts(normalize=True).sort_index().to_numpy()
    # standard normal cut at -1.5, -0.5, 0.5, 1.5
    assert share == pytest.approx([0.0668, 0.2417, 0.3829, 0.2417, 0.0668], abs=0.01)


def test_xlsx_bytes_identical_and_readable(gcrm, tmp_path):
    a, b, c = tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "c.xlsx"
    write_synthetic_xlsx(gcrm, 120, 5, a)
    write_synthetic_xlsx(gcrm, 120, 5, b)
    write_synthetic_xlsx(gcrm, 120, 6, c)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    survey = read_survey(a, gcrm)
    assert survey.sheet == "Sheet1"
    assert survey.data.shape == (120, 33)
    assert int(survey.data.isna().sum().sum()) == 20
    assert survey.n_text_mapped > 0
    assert {"性别", "街道", "所用时间", "提交答卷时间"} <= set(survey.extra.columns)
    truth = simulate_survey(gcrm, 120, 5)[list(gcrm.item_codes)].to_numpy(dtype=float)
    got = survey.data.to_numpy()
    mask = ~np.isnan(got)
    np.testing.assert_array_equal(got[mask], truth[mask])


def test_bundled_survey_is_reproducible(tmp_path):
    bundled = GCRM_SURVEY
    out = run_simulate(GCRM, 600, 20230602, tmp_path / "gcrm_synthetic.xlsx")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == \
        hashlib.sha256(bundled.read_bytes()).hexdigest()


def test_run_simulate_csv(tmp_path):
    out = run_simulate(GCRM, 50, 1, tmp_path / "s.csv")
    df = pd.read_csv(out)
    assert df.shape == (50, 34)
    assert not list(tmp_path.glob(".*tmp"))


def test_bad_arguments(gcrm, tmp_path):
    with pytest.raises(OptionError):
        simulate_survey(gcrm, 0, 1)
    with pytest.raises(OptionError):
        simulate_survey(gcrm, 10, -1)
    with pytest.raises(OptionError):
        run_simulate(GCRM, 10, 1, tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


def test_spec_without_population(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(
        "name: s\ntitle: {zh: s, en: s}\nlanguage: en\nscale: {min: 1, max: 5}\n"
        "constructs:\n  - {code: A, items: [{code: A1}, {code: A2}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="population"):
        simulate_survey(load_spec(f), 10, 1)


def test_simple_spec_with_reverse_item(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text(
        "name: r\ntitle: {zh: r, en: r}\nlanguage: en\n"
        "scale: {min: 1, max: 5, labels: [{value: 1, zh: 非常不同意, en: Strongly disagree}]}\n"
        "constructs:\n"
        "  - {code: A, items: [{code: A1}, {code: A2, reverse: true}, {code: A3}]}\n"
        "  - {code: B, items: [{code: B1}, {code: B2}, {code: B3}]}\n"
        "structural: [B ~ A]\n"
        "population:\n"
        "  loadings: {A: {A1: 0.8, A2: 0.8, A3: 0.7}, B: {B1: 0.8, B2: 0.7, B3: 0.7}}\n"
        "  regressions: {B: {A: 0.5}}\n",
        encoding="utf-8",
    )
    spec = load_spec(f)
    raw = simulate_survey(spec, 5000, 2)
    assert np.corrcoef(raw["A1"], raw["A2"])[0, 1] < -0.4  # as answered: reversed
    path = tmp_path / "r.csv"
    raw.to_csv(path, index=False)
    coded = read_survey(path, spec).data
    assert np.corrcoef(coded["A1"], coded["A2"])[0, 1] > 0.4  # recoded on reading
    cont = simulate_survey(spec, 20000, 2, continuous=True)
    assert np.corrcoef(cont["A1"], cont["B1"])[0, 1] == pytest.approx(0.8 * 0.5 * 0.8, abs=0.02)
