"""Writing output files whole or not at all.

Every output goes to a temporary file in the target folder first; only when all outputs of a
run are complete are they renamed into place (``os.replace`` is atomic on one file system).
A failed run leaves no partial file and does not replace an existing report; unrelated files in
the folder are never touched.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import OutputError

__all__ = ["write_files", "write_bytes", "to_json_bytes", "prepare_dir"]


def prepare_dir(path: str | Path) -> Path:
    """Create an output folder (and parents) or raise OutputError naming it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"Output folder {path} exists and is not a folder.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create output folder {path}: {exc.strerror or exc}.") from exc
    if not os.access(path, os.W_OK):
        raise OutputError(f"Output folder {path} is not writable.")
    return path


def write_files(payloads: dict) -> list[Path]:
    """Write several files atomically as a set: all are renamed into place only when every
    one has been written completely.

    Parameters
    ----------
    payloads : dict of path -> bytes

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    OutputError
        When a folder cannot be created or a file cannot be written; no target file is changed.
    """
    temps: list[tuple[str, Path]] = []
    try:
        for target, payload in payloads.items():
            target = Path(target)
            folder = prepare_dir(target.parent if str(target.parent) else Path("."))
            if target.exists() and target.is_dir():
                raise OutputError(f"Output path {target} is a folder, not a file.")
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
            temps.append((tmp, target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, target in temps:
            os.replace(tmp, target)
        return [t for _, t in temps]
    except OSError as exc:
        raise OutputError(f"Cannot write {exc.filename or 'output'}: "
                          f"{exc.strerror or exc}.") from exc
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def write_bytes(target: str | Path, payload: bytes) -> Path:
    """Write one file atomically."""
    return write_files({Path(target): payload})[0]


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, Path):
        return str(value)
    return value


def to_json_bytes(data: dict) -> bytes:
    """UTF-8 JSON with NaN/inf as null and Chinese text kept readable."""
    return (json.dumps(_clean(data), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
            ).encode("utf-8")
