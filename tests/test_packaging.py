"""The package outside its checkout: bundled data found through importlib.resources, one copy
of each file, no test reading outside the repository."""

from __future__ import annotations

import configparser
import re

import pytest

from riskmodel_sem.commands import BUNDLED_SPEC, BUNDLED_SURVEY
from riskmodel_sem.survey.bundled import BUNDLED_FILES, bundled_path
from riskmodel_sem.survey.readers import read_survey
from riskmodel_sem.survey.spec import load_spec

from conftest import REFERENCE, ROOT

LINKS = {"gcrm.yaml": "specs/gcrm.yaml", "gcrm_synthetic.xlsx": "surveys/gcrm_synthetic.xlsx",
         "questionnaire.md": "surveys/questionnaire.md"}


@pytest.mark.parametrize("name", BUNDLED_FILES)
def test_bundled_file_is_package_data(name):
    path = bundled_path(name)
    assert path.is_file() and path.stat().st_size > 0
    assert path.parent.parts[-3:] == ("riskmodel_sem", "survey", "data")


@pytest.mark.parametrize("name", BUNDLED_FILES)
def test_repository_paths_link_to_the_one_copy(name):
    link = ROOT / LINKS[name]
    assert link.is_symlink(), f"{link} should link to the package data"
    assert link.resolve() == bundled_path(name).resolve()


def test_bundled_spec_and_survey_load():
    spec = load_spec(BUNDLED_SPEC)
    survey = read_survey(BUNDLED_SURVEY, spec)
    assert spec.name == "gcrm"
    assert survey.data.shape == (600, 33)


def test_unknown_bundled_name_is_refused():
    with pytest.raises(ValueError, match="gcrm.yaml"):
        bundled_path("nope.yaml")


def test_package_data_is_declared():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    declared = cfg.get("options.package_data", "riskmodel_sem").split()
    assert "survey/data/*" in declared
    assert "report/templates/*.j2" in declared


def test_test_only_libraries_are_not_run_time_requirements():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    names = {re.split(r"[<>=!\[; ]", r.strip())[0].lower()
             for r in cfg.get("options", "install_requires").splitlines() if r.strip()}
    assert not names & {"pydantic", "pingouin", "pytest", "hypothesis", "build"}
    test_extra = cfg.get("options.extras_require", "test")
    for lib in ("pytest", "hypothesis", "pingouin", "build", "websocket-client", "dask"):
        assert lib in test_extra


def test_tests_read_nothing_outside_the_repository():
    assert REFERENCE == ROOT / "tests" / "reference" and REFERENCE.is_dir()
    sibling = "shared"  # the folder beside a checkout that a fresh clone does not have
    for path in sorted((ROOT / "tests").glob("*.py")):
        if path.name == "test_packaging.py":  # this file names what it looks for
            continue
        text = path.read_text(encoding="utf-8")
        assert f'"{sibling}"' not in text and f"../{sibling}" not in text, path.name
        if path.name != "conftest.py":
            assert "parents[" not in text and "parent.parent" not in text, path.name
