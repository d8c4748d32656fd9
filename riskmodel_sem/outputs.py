"""Writing output files whole or not at all.

A run's outputs in one folder are written as a set (:func:`write_files`):

1. every target is checked first: it must be a new path or an existing regular file (a
   device such as ``/dev/null``, a named pipe, a symbolic link or a folder is refused, never
   replaced);
2. the folder is locked (``flock`` on the folder itself), so that two runs writing into one
   folder never interleave their files: the second waits for the first;
3. the files are written into a hidden staging folder inside the target folder, with the old
   file's permission bits when a target exists and the umask's otherwise;
4. a journal (``.riskmodel-sem-journal`` in the staging folder) records that the set is
   complete, and the files are renamed into place with SIGINT, SIGTERM and SIGHUP held back
   until the last rename, so Ctrl-C cannot split the set;
5. a run killed during step 4 (SIGKILL, power loss) leaves the journal behind: the next write
   into that folder finishes the renames first, so the folder holds either the old set or the
   new one, whole. A staging folder without a journal (a run killed while writing) is removed.

A failed rename undoes the renames before it (the old files are kept as hard links until the
set is in place). Unrelated files in the folder are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
import zipfile
import datetime as _dt
import io
import re
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None


from ._json import json_value
from .errors import OutputError

__all__ = ["reproducible_package", "write_files", "write_bytes", "to_json_bytes", "prepare_dir", "check_output_path",
           "check_target", "finish_interrupted", "InterruptedAfterWriting"]


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
        Naming the path: a folder that exists as a file, a file that exists as anything but a
        regular file (:func:`check_target`), a parent that is a file, or a first existing
        ancestor that is not writable.
    """
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise OutputError(f"Output folder {path} exists and is not a folder; choose another "
                          "output path.")
    if not folder:
        check_target(path)
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


_STAGING_PREFIX = ".riskmodel-sem-staging-"
_JOURNAL = ".riskmodel-sem-journal"
_LOCK_WAIT = 600.0  # seconds a run waits for another run writing into the same folder
_DEFERRED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                          if hasattr(signal, name))


class InterruptedAfterWriting(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM/SIGHUP) arrived while a set of files was being renamed into place;
    it was held back until the set was complete. ``written`` holds the files written."""

    def __init__(self, written: tuple[Path, ...]) -> None:
        super().__init__(written)
        self.written = written


def check_target(path: str | Path) -> Path:
    """Refuse an output path that is neither new nor a regular file.

    Raises
    ------
    OutputError
        For a folder, a symbolic link, a device (``/dev/null``, ``/dev/stdout``), a named pipe or
        a socket: these are never replaced by a regular file.
    """
    path = Path(path)
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return path  # new (a parent that is a file is reported when the folder is made)
    except OSError as exc:
        raise OutputError(f"Cannot use output path {path}: {exc.strerror or exc}.") from exc
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"Output path {path} is a folder, not a file; give a file name.")
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(f"Output path {path} is a symbolic link; give the path of a regular "
                          "file or a new one.")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe" if stat.S_ISFIFO(st.st_mode) else "a socket"
                if stat.S_ISSOCK(st.st_mode) else "a device")
        raise OutputError(f"Output path {path} is {kind}, not a regular file; give the path of "
                          "a regular file or a new one.")
    return path


@contextmanager
def _folder_lock(folder: Path):
    """Hold an exclusive ``flock`` on the folder; wait for another run that holds it."""
    if fcntl is None:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"riskmodel-sem: waiting for another run writing into {folder} ...",
                  file=sys.stderr, flush=True)
            deadline = time.monotonic() + _LOCK_WAIT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OutputError(
                            f"Another run has been writing into {folder} for over "
                            f"{_LOCK_WAIT:.0f} s; try again when it has finished.") from None
                    time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def _signals_deferred():
    """Hold back SIGINT, SIGTERM and SIGHUP until the block ends, then act on them as before.

    Python-level handlers are swapped in (they run in the main thread whichever thread the
    kernel picks, so BLAS worker threads cannot let a signal through); signals that arrived are
    raised again once the previous handlers are back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for signum in _DEFERRED_SIGNALS:
        if signal.getsignal(signum) is None:  # installed outside Python: left alone
            continue
        previous[signum] = signal.signal(signum, lambda s, _frame: received.append(s))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def finish_interrupted(folder: str | Path, names=()) -> list[Path]:
    """Complete or discard what an interrupted run left in ``folder``.

    A staging folder with a journal is a complete set whose renames were cut short: its
    remaining files are renamed into place (the set becomes whole). A staging folder without a
    journal is removed, and so are the temporary files ``.NAME.XXXX.tmp`` / ``.NAME.XXXX.bak``
    that earlier versions left for the file names in ``names``. Call with the folder locked
    (:func:`write_files` does).

    Returns
    -------
    list of Path
        The files renamed into place.
    """
    folder = Path(folder)
    done: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return done
    for entry in entries:
        name = entry.name
        if name.startswith(_STAGING_PREFIX) and entry.is_dir(follow_symlinks=False):
            staging = Path(entry.path)
            journal = staging / _JOURNAL
            if journal.is_file():
                for target in journal.read_text(encoding="utf-8").splitlines():
                    src = staging / target
                    if target and src.is_file():
                        os.replace(src, folder / target)
                        done.append(folder / target)
                _fsync_dir(folder)
            _remove_tree(staging)
        elif (any(name.startswith(f".{n}.") for n in names)
              and name.endswith((".tmp", ".bak")) and entry.is_file(follow_symlinks=False)):
            try:  # ``.report.xlsx.k2j3.tmp``: a temporary file of an earlier version
                os.unlink(entry.path)
            except OSError:
                pass
    return done


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write_set(folder: Path, files: dict[str, bytes], written: list[Path]) -> None:
    """Write ``{name: bytes}`` into ``folder`` as one set (see the module's notes); the paths
    are appended to ``written`` as soon as the set is in place."""
    finish_interrupted(folder, tuple(files))
    staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=folder))
    new_mode = _new_file_mode()
    backups: dict[str, Path] = {}
    replaced: list[str] = []
    try:
        for name, payload in files.items():
            target = folder / name
            check_target(target)
            try:
                mode = stat.S_IMODE(os.stat(target).st_mode)
            except FileNotFoundError:
                mode = new_mode
            try:
                fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(staging / name, mode)
            except OSError as exc:  # a full disk names no file itself
                raise OutputError(f"Cannot write {target}: {exc.strerror or exc}; nothing was "
                                  "replaced.") from exc
        backup_dir = staging / ".riskmodel-sem-previous"
        backup_dir.mkdir()
        for name in files:
            if (folder / name).exists():
                backups[name] = backup_dir / name
                try:
                    os.link(folder / name, backups[name])
                except OSError:
                    shutil.copy2(folder / name, backups[name])
        journal = staging / _JOURNAL
        with open(journal, "w", encoding="utf-8") as handle:
            handle.write("\n".join(files) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(staging)
        with _signals_deferred():
            try:
                for name in files:
                    os.replace(staging / name, folder / name)
                    replaced.append(name)
            except OSError:
                os.unlink(journal)  # the set is not to be completed: undo instead
                for name in replaced:
                    try:
                        if name in backups:
                            os.replace(backups[name], folder / name)
                        else:
                            os.unlink(folder / name)
                    except OSError:
                        pass
                raise
            _fsync_dir(folder)
            os.unlink(journal)
            written.extend(folder / name for name in files)
    finally:
        if not (staging / _JOURNAL).exists():
            _remove_tree(staging)


def write_files(payloads: dict) -> list[Path]:
    """Write several files as a set: every one is in place, or none has changed.

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
        When a target is not a new path or a regular file, or a folder cannot be created or
        written; no target file is changed then.

    Notes
    -----
    Files are grouped by folder; each folder's files are written as one set under the folder's
    lock (see the module's notes: staging folder, journal, deferred signals, recovery of an
    interrupted run by the next one). New files get the permissions the umask allows; a
    replaced file keeps its permission bits.
    """
    by_folder: dict[Path, dict[str, bytes]] = {}
    order: list[Path] = []
    for target, payload in payloads.items():
        target = Path(target)
        check_target(target)
        by_folder.setdefault(target.parent if str(target.parent) else Path("."), {})[
            target.name] = bytes(payload)
        order.append(target)
    written: list[Path] = []
    try:
        folders = {parent: prepare_dir(parent) for parent in by_folder}
        for parent in sorted(by_folder, key=lambda p: str(Path(os.path.abspath(p)))):
            with _folder_lock(folders[parent]):
                _write_set(folders[parent], by_folder[parent], written)
    except KeyboardInterrupt as exc:
        if written:  # a signal held back during the renames arrives after them
            raise InterruptedAfterWriting(tuple(written)) from exc
        raise
    except OSError as exc:
        raise OutputError(f"Cannot write {exc.filename or 'output'}: "
                          f"{exc.strerror or exc}.") from exc
    return order


def write_bytes(target: str | Path, payload: bytes) -> Path:
    """Write one file atomically."""
    return write_files({Path(target): payload})[0]


def to_json_bytes(data: dict) -> bytes:
    """UTF-8 JSON with NaN/inf as null and Chinese text kept readable."""
    return (json.dumps(json_value(data), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
            ).encode("utf-8")


def reproducible_package(data: bytes, when: _dt.datetime) -> bytes:
    """Repack an Office package (xlsx, docx) so that the same content gives the same bytes.

    Parameters
    ----------
    data : bytes
        The zip package as the writer library produced it.
    when : datetime.datetime
        The time stamped on every zip entry and in ``docProps/core.xml`` (created, modified).

    Returns
    -------
    bytes

    Notes
    -----
    Writers stamp the current time into the document properties and every zip entry, and
    serialize XML differently depending on whether lxml is installed (openpyxl writes
    ``<a/>`` or ``<a />`` and places namespace declarations differently). Every XML part is
    therefore rewritten in canonical form with an XML declaration, and every entry gets the
    same time and permissions, in the original order. The canonical form is libxml2's
    Exclusive XML Canonicalization 1.0 without comments (through lxml, which python-docx
    requires); for the parts of an Office package (no relative namespace URIs, no ``xml:``
    attributes to inherit, no prefixes in text content) it is byte for byte W3C Canonical
    XML 2.0 (Python's ``xml.etree.ElementTree.canonicalize``), seven times faster.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    stamp = when.timetuple()[:6]
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename.endswith((".xml", ".rels")):
                text = etree.tostring(etree.fromstring(content, parser), method="c14n",
                                      exclusive=True, with_comments=False).decode("utf-8")
                if info.filename == "docProps/core.xml":
                    text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                                  lambda m: m.group(1) + iso + m.group(3), text)
                content = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                           + text).encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 0
            dst.writestr(entry, content)
    return out.getvalue()
