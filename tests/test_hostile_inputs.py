"""Inputs that would make a reader run forever or allocate without bound: refused at once, with
one line naming the file and exit status 2."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import GCRM_SPEC, ROOT
from riskmodel_sem.cli import main




@pytest.fixture
def files(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("x1,x2,x3\n1,2,3\n2,3,4\n3,3,5\n4,1,2\n", encoding="utf-8")
    model = tmp_path / "m.lav"
    model.write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    fifo = tmp_path / "pipe.lav"
    os.mkfifo(fifo)
    return data, model, fifo


def _one_line_error(argv, capsys, *needles):
    start = time.perf_counter()
    code = main([str(a) for a in argv])
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err
    for needle in needles:
        assert needle in err[0], (needle, err[0])
    assert elapsed < 10, elapsed


@pytest.mark.parametrize("spec", ["/dev/zero", "pipe"])
def test_a_spec_that_never_ends_is_refused(files, capsys, tmp_path, spec):
    data, _, fifo = files
    spec_path = fifo if spec == "pipe" else Path(spec)
    if not spec_path.exists():
        pytest.skip(f"{spec_path} does not exist here")
    _one_line_error(["fit", data, "--spec", spec_path, "--json", tmp_path / "r.json"], capsys,
                    str(spec_path), "not a regular file")
    assert not (tmp_path / "r.json").exists()


def test_a_huge_spec_is_refused_without_reading_it_all(files, capsys, tmp_path):
    data, _, _ = files
    big = tmp_path / "big.lav"
    with open(big, "wb") as handle:
        handle.truncate(64 * 2**20)  # sparse: 64 MB of zero bytes, no disk used
    _one_line_error(["fit", data, "--spec", big, "--json", tmp_path / "r.json"], capsys,
                    "big.lav", "larger than 4 MB")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_given_as_the_survey_is_refused(files, capsys, tmp_path, device):
    _, model, _ = files
    if not Path(device).exists():
        pytest.skip(f"{device} does not exist here")
    _one_line_error(["fit", device, "--spec", model, "--json", tmp_path / "r.json"], capsys,
                    device, "Not a regular file")


def test_a_utf8_csv_with_one_gbk_row_names_the_row_and_column(tmp_path, capsys):
    spec = tmp_path / "m.lav"
    spec.write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    lines = ["编号,x1,x2,x3,街道"] + [f"{i},{i % 5 + 1},{(i * 2) % 5 + 1},{(i * 3) % 5 + 1},城区"
                                    for i in range(1, 30)]
    data = tmp_path / "mixed.csv"
    payload = "\n".join(lines[:12]).encode("utf-8") + b"\n" + lines[12].encode("gbk") + b"\n" \
        + "\n".join(lines[13:]).encode("utf-8") + b"\n"
    data.write_bytes(payload)
    _one_line_error(["fit", data, "--spec", spec, "--json", tmp_path / "r.json"], capsys,
                    "mixed.csv", "row 13", "'街道'", "another encoding")
    assert data.read_bytes() == payload


def test_a_whole_gbk_csv_still_reads(tmp_path, capsys):
    spec = tmp_path / "m.lav"
    spec.write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    lines = ["编号,x1,x2,x3,街道"] + [f"{i},{i % 5 + 1},{(i * 2) % 5 + 1},{(i * 7 + i // 3) % 5 + 1},"
                                    f"{'城区' if i % 2 else '郊区'}" for i in range(1, 40)]
    data = tmp_path / "gbk.csv"
    data.write_bytes("\n".join(lines).encode("gbk") + b"\n")
    assert main(["fit", str(data), "--spec", str(spec), "--json", str(tmp_path / "r.json")]) == 0
    capsys.readouterr()


def test_a_simulated_survey_is_bounded_in_the_command_and_the_library(tmp_path, capsys):
    from riskmodel_sem.errors import OptionError
    from riskmodel_sem.survey.simulate import simulate_survey
    from riskmodel_sem.survey.spec import load_spec

    spec = GCRM_SPEC
    _one_line_error(["simulate", "--spec", spec, "--n", "10000000000", "--out",
                     tmp_path / "s.xlsx"], capsys, "--n", "at most 1000000")
    with pytest.raises(OptionError, match="at most 1000000"):
        simulate_survey(load_spec(spec), 10_000_000_000, 1)
    assert not (tmp_path / "s.xlsx").exists()


def test_a_file_name_with_a_line_break_stays_on_one_error_line(tmp_path, capsys):
    spec = tmp_path / "m.lav"
    spec.write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    odd = tmp_path / "survey\nfinal.csv"
    odd.write_text("x1,x2\n1,2\n", encoding="utf-8")
    _one_line_error(["fit", odd, "--spec", spec, "--json", tmp_path / "r.json"], capsys,
                    "survey\\nfinal.csv")


@pytest.mark.parametrize("address", ["ucx://127.0.0.1:1", "inproc://x", "ws://127.0.0.1:1"])
def test_an_unsupported_scheduler_protocol_is_an_option_error(tmp_path, capsys, address):
    spec = tmp_path / "m.lav"
    spec.write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    data = tmp_path / "d.csv"
    rng = np.random.default_rng(4)
    f = rng.standard_normal(60)
    rows = np.column_stack([f + rng.standard_normal(60) for _ in range(3)])
    data.write_text("x1,x2,x3\n" + "".join(",".join(f"{v:.4f}" for v in r) + "\n"
                                           for r in rows), encoding="utf-8")
    _one_line_error(["fit", data, "--spec", spec, "--bootstrap", "50", "--scheduler", address,
                     "--json", tmp_path / "r.json"], capsys, address, "not supported")


def test_no_ids_keeps_phone_numbers_out_of_every_output(tmp_path, capsys):
    spec = tmp_path / "m.lav"
    spec.write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    rng = np.random.default_rng(9)
    f = rng.standard_normal(80)
    phones = [f"1390000{k:04d}" for k in range(80)]
    rows = ["手机号,x1,x2,x3"] + [f"{ph},{f[i] + rng.standard_normal():.3f},"
                                f"{f[i] + rng.standard_normal():.3f},"
                                f"{f[i] + rng.standard_normal():.3f}" for i, ph in enumerate(phones)]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["validate", str(data), "--spec", str(spec), "--id", "手机号", "--no-ids",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    for name in ("results.json", "report.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert not any(ph in text for ph in phones), name
    import zipfile

    with zipfile.ZipFile(out / "report.xlsx") as book:
        xml = b"".join(book.read(n) for n in book.namelist())
    assert not any(ph.encode() in xml for ph in phones)
    # without the option the ids are there (the test would notice if they never were)
    assert main(["validate", str(data), "--spec", str(spec), "--id", "手机号", "--json",
                 str(tmp_path / "with_ids.json")]) == 0
    capsys.readouterr()
    assert phones[0] in (tmp_path / "with_ids.json").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# numbers the fit meets: scales, overflow, coverage, text in numeric columns, blank groups
# ---------------------------------------------------------------------------------------------

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


def _hs_case(tmp_path, hs, name, frame):
    spec = tmp_path / "hs.lav"
    spec.write_text(HS_MODEL, encoding="utf-8")
    data = tmp_path / name
    frame.to_csv(data, index=False)
    return data, spec


@pytest.mark.parametrize("factor", [1e4, 1e6])
def test_a_column_in_other_units_gives_the_same_standardized_fit(tmp_path, capsys, hs, factor):
    scaled = hs.copy()
    scaled["x1"] = scaled["x1"] * factor
    data, spec = _hs_case(tmp_path, hs, "scaled.csv", scaled)
    assert main(["fit", str(data), "--spec", str(spec), "--json", str(tmp_path / "s.json")]) == 0
    err = capsys.readouterr().err
    assert "factor 1000" in err and "not identified" not in err, err
    plain, _ = _hs_case(tmp_path, hs, "plain.csv", hs)
    assert main(["fit", str(plain), "--spec", str(spec), "--json", str(tmp_path / "p.json")]) == 0
    capsys.readouterr()
    import json

    s = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    p = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    np.testing.assert_allclose(s["fit"]["chisq"], p["fit"]["chisq"], rtol=1e-6)
    np.testing.assert_allclose([r["std_all"] for r in s["estimates"]],
                               [r["std_all"] for r in p["estimates"]], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose([r["z"] for r in s["estimates"] if r["z"] is not None],
                               [r["z"] for r in p["estimates"] if r["z"] is not None],
                               rtol=1e-4)


def test_a_column_too_large_to_compute_with_is_named(tmp_path, capsys, hs):
    huge = hs.copy()
    huge["x5"] = huge["x5"] * 1e160
    data, spec = _hs_case(tmp_path, hs, "huge.csv", huge)
    _one_line_error(["fit", data, "--spec", spec, "--json", tmp_path / "r.json"], capsys,
                    "x5", "too large")


def test_fiml_with_two_items_never_answered_together(tmp_path, capsys, hs):
    holes = hs.copy()
    holes.loc[holes.index % 2 == 0, "x1"] = np.nan
    holes.loc[holes.index % 2 == 1, "x2"] = np.nan
    data, spec = _hs_case(tmp_path, hs, "holes.csv", holes)
    _one_line_error(["fit", data, "--spec", spec, "--missing", "fiml", "--json",
                     tmp_path / "r.json"], capsys, "x1 and x2", "0% coverage")


def test_text_in_a_numeric_column_is_an_error_in_the_library(hs):
    from riskmodel_sem.errors import ModelError
    from riskmodel_sem.sem.estimation import fit_model

    frame = hs.astype({"x4": object})
    frame.loc[7, "x4"] = "agree"
    with pytest.raises(ModelError, match=r"column 'x4', row 7 holds 'agree'"):
        fit_model(HS_MODEL, frame)


def test_blank_group_cells_are_left_out_with_a_count(tmp_path, capsys, hs):
    frame = hs.copy()
    frame["school"] = frame["school"].astype(object)
    frame.loc[[3, 50, 120], "school"] = ""
    data, spec = _hs_case(tmp_path, hs, "groups.csv", frame)
    assert main(["fit", str(data), "--spec", str(spec), "--group", "school", "--json",
                 str(tmp_path / "g.json")]) == 0
    err = capsys.readouterr().err
    import json

    res = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    assert res["n_obs"] == len(hs) - 3
    assert "3 row(s) with no value in the group column 'school'" in " ".join(res["warnings"])
    assert "3 row(s) with no value" in err


def test_aic_weights_only_among_models_of_the_same_data(hs):
    from riskmodel_sem.sem.comparison import compare

    res = compare(hs, {"three": HS_MODEL, "one": "g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9",
                       "visual": "visual =~ x1 + x2 + x3"})
    table = res.models.set_index("name")
    assert np.isnan(table.at["visual", "aic_weight"]) and np.isnan(table.at["visual", "bic_weight"])
    np.testing.assert_allclose(table.loc[["three", "one"], "aic_weight"].sum(), 1.0)
    assert any("visual use other data" in w for w in res.warnings)


def test_drop_flagged_leaving_no_rows_names_the_file_and_the_cause(tmp_path, capsys):
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(60):  # every respondent gives one answer five times: all flagged
        r = [int(rng.integers(1, 6))] * 6
        r[int(rng.integers(0, 6))] = int(rng.integers(1, 6))
        rows.append(",".join(map(str, r)))
    data = tmp_path / "flat.csv"
    data.write_text("x1,x2,x3,x4,x5,x6\n" + "\n".join(rows) + "\n", encoding="utf-8")
    spec = tmp_path / "m.lav"
    spec.write_text("f =~ x1 + x2 + x3\ng =~ x4 + x5 + x6\n", encoding="utf-8")
    _one_line_error(["validate", data, "--spec", spec, "--drop-flagged", "--json",
                     tmp_path / "r.json"], capsys, "flat.csv", "60 of 60 rows were dropped",
                    "--drop-flagged")
