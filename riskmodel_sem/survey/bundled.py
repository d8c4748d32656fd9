"""The data shipped inside the package: the paper's spec, its synthetic survey, the questionnaire.

The files live in ``riskmodel_sem/survey/data/`` and are found with :mod:`importlib.resources`,
so they are there wherever the package is installed (a checkout, a wheel, a zip). In a checkout
``specs/gcrm.yaml``, ``surveys/gcrm_synthetic.xlsx`` and ``surveys/questionnaire.md`` are links
to these same files.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

__all__ = ["BUNDLED_FILES", "bundled_path", "bundled_spec", "bundled_survey",
           "bundled_questionnaire"]

#: The bundled files, by name.
BUNDLED_FILES = ("gcrm.yaml", "gcrm_synthetic.xlsx", "questionnaire.md")

# files extracted from a zipped install stay until the interpreter exits
_EXTRACTED = contextlib.ExitStack()
atexit.register(_EXTRACTED.close)


def bundled_path(name: str) -> Path:
    """The path of one bundled file on the file system.

    Parameters
    ----------
    name : str
        One of :data:`BUNDLED_FILES`.

    Returns
    -------
    pathlib.Path
        The file inside the installed package (or a temporary copy when the package is imported
        from a zip archive; it is removed when the interpreter exits).

    Raises
    ------
    ValueError
        When ``name`` is not a bundled file.
    FileNotFoundError
        When the installation lacks the file (a broken install).
    """
    if name not in BUNDLED_FILES:
        raise ValueError(f"No bundled file {name!r}; the bundled files are "
                         f"{', '.join(BUNDLED_FILES)}.")
    ref = resources.files(__package__) / "data" / name
    if not ref.is_file():
        raise FileNotFoundError(f"The bundled file {name} is missing from the installed "
                                "package riskmodel_sem (survey/data); reinstall it.")
    if isinstance(ref, Path):
        return ref
    return _EXTRACTED.enter_context(resources.as_file(ref))


def bundled_spec() -> Path:
    """The paper's spec (government crowdsourcing risk model), ``gcrm.yaml``."""
    return bundled_path("gcrm.yaml")


def bundled_survey() -> Path:
    """The synthetic survey drawn from the spec's population values, ``gcrm_synthetic.xlsx``."""
    return bundled_path("gcrm_synthetic.xlsx")


def bundled_questionnaire() -> Path:
    """The bilingual questionnaire generated from the spec, ``questionnaire.md``."""
    return bundled_path("questionnaire.md")
