"""Progress bars on stderr: shown on a terminal, never in a pipe, a file or with ``--quiet``.

Long steps (bootstrap draws, the alternative models, the invariance levels, simulations) report
their progress through :func:`progress_bar`, a ``tqdm`` bar with the elapsed time and the ETA.
Whether bars are shown is decided in one place, :func:`progress_enabled`: only when stderr is
a terminal and the command line was not given ``--quiet`` (:func:`set_quiet`). Results never
depend on it.
"""

from __future__ import annotations

import sys

__all__ = ["progress_bar", "progress_enabled", "set_quiet"]

_STATE = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    """Switch every progress bar (and the step messages of the command line) off or on."""
    _STATE["quiet"] = bool(quiet)


def progress_enabled(requested: bool | None = None) -> bool:
    """Whether to draw a bar: ``requested`` when given (False always wins over a terminal),
    otherwise when stderr is a terminal; never after ``set_quiet(True)``."""
    if _STATE["quiet"]:
        return False
    if requested is not None:
        return bool(requested)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class _Silent:
    """The bar when nothing is shown: counts, draws nothing."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.n = 0

    def update(self, k: int = 1) -> None:
        self.n += k

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_bar(total: int, desc: str, *, unit: str = "it", enabled: bool | None = None):
    """A progress bar with ETA on stderr, or a silent counter.

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        What is counted ("Bootstrap", "Alternative models").
    unit : str
        Name of one step ("draw", "model").
    enabled : bool, optional
        Force the bar on or off; default :func:`progress_enabled`.

    Returns
    -------
    object
        With ``update(k)``, ``set_postfix_str(text)`` and ``close()``; usable as a context
        manager.
    """
    if not progress_enabled(enabled):
        return _Silent(total)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
                leave=False, mininterval=0.2)
