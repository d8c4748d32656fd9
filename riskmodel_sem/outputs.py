"""Writing output files whole or not at all.

Every output goes to a temporary file in the target folder first; only when all outputs of a
run are complete are they renamed into place (``os.replace`` is atomic on one file system).
A failed run leaves no partial file and does not replace an existing report; unrelated files in
the folder are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path


from ._json import json_value
from .errors import OutputError

__all__ = ["write_files", "write_bytes", "to_json_bytes", "prepare_dir", "check_output_path"]


def prepare_dir(path: str | Path) -> Path:
    """Create an output folder (and parents) or raise OutputError naming it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"Output folder {path} exists and is not a folder; choose another "
                          "output path.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create output folder {path}: {exc.strerror or exc}; choose "
                          "another output path.") from exc
    if not os.access(path, os.W_OK):
        raise OutputError(f"Output folder {path} is not writable; choose another output path.")
    return path


def check_output_path(path: str | Path, *, folder: bool) -> Path:
    """Check, without creating anything, that an output folder or file can be made.

    Used before a long analysis so that a bad ``--out`` or ``--json`` fails at once.

    Parameters
    ----------
    path : str or Path
        The output folder (``folder=True``) or file.
    folder : bool
        Whether ``path`` is to be a folder.

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        Naming the path: a folder that exists as a file, a file that exists as a folder, a
        parent that is a file, or a first existing ancestor that is not writable.
    """
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise OutputError(f"Output folder {path} exists and is not a folder; choose another "
                          "output path.")
    if not folder and path.is_dir():
        raise OutputError(f"Output path {path} is a folder, not a file; give a file name.")
    ancestor = path if folder else path.parent
    ancestor = Path(os.path.abspath(ancestor))
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"Cannot create output folder {path if folder else path.parent}: "
                          f"{ancestor} is a file; choose another output path.")
    if not os.access(ancestor, os.W_OK):
        raise OutputError(f"Cannot write into {ancestor} (permission denied); choose another "
                          "output path.")
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

    Notes
    -----
    Each payload goes to a temporary file next to its target (``.name.XXXX.tmp``, mode 0644).
    Existing targets are hard-linked (or copied) to a backup first; if a rename fails part way,
    the files already replaced get their previous content back (or are removed if they did not
    exist), so the set is replaced whole or not at all. Temporary and backup files are removed
    in every case; no other file is touched.
    """
    temps: list[tuple[str, Path]] = []
    backups: dict[Path, str] = {}
    replaced: list[Path] = []
    try:
        for target, payload in payloads.items():
            target = Path(target)
            folder = prepare_dir(target.parent if str(target.parent) else Path("."))
            if target.exists() and target.is_dir():
                raise OutputError(f"Output path {target} is a folder, not a file; give a file "
                                  "name.")
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
            temps.append((tmp, target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
        for _, target in temps:
            if target.exists():
                fd, bak = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".bak",
                                           dir=target.parent)
                os.close(fd)
                os.unlink(bak)
                try:
                    os.link(target, bak)
                except OSError:
                    shutil.copy2(target, bak)
                backups[target] = bak
        for tmp, target in temps:
            os.replace(tmp, target)
            replaced.append(target)
        return [t for _, t in temps]
    except (OutputError, OSError) as exc:
        for target in replaced:  # undo: the previous content back, new files removed
            try:
                if target in backups:
                    os.replace(backups.pop(target), target)
                else:
                    os.unlink(target)
            except OSError:
                pass
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"Cannot write {exc.filename or 'output'}: "
                          f"{exc.strerror or exc}.") from exc
    finally:
        for path in [tmp for tmp, _ in temps] + list(backups.values()):
            try:
                os.unlink(path)
            except OSError:
                pass


def write_bytes(target: str | Path, payload: bytes) -> Path:
    """Write one file atomically."""
    return write_files({Path(target): payload})[0]


def to_json_bytes(data: dict) -> bytes:
    """UTF-8 JSON with NaN/inf as null and Chinese text kept readable."""
    return (json.dumps(json_value(data), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
            ).encode("utf-8")
