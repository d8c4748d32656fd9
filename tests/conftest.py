"""Shared fixtures: the lavaan reference folder and its data sets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("RISKMODEL_REFERENCE", ROOT.parent / "shared" / "reference"))


def load_reference(name: str) -> dict:
    """The JSON of one reference case."""
    path = REFERENCE / name
    if not path.exists():
        pytest.fail(f"Reference file {path} is missing; the tests need ../shared/reference.")
    return json.loads(path.read_text(encoding="utf-8"))


def load_reference_data(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name)


@pytest.fixture(scope="session")
def hs() -> pd.DataFrame:
    """lavaan's HolzingerSwineford1939 (the reference copy)."""
    return load_reference_data("holzinger1939.csv")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REFERENCE


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT
