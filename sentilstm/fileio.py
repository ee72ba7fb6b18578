"""Every output sentilstm writes goes through here: safe destinations, atomic writes, clean temporaries.

Rules (README, "Errors and outputs"):

* An existing destination is replaced only if it is empty, or a sentilstm artefact of the same
  kind (:data:`KINDS`: a bundle over a bundle, a report over a report, an export over an export
  of the same format, a scores file over a scores file), or ``overwrite=True`` (``--overwrite``).
* Never, not even with ``overwrite``: a destination that is an input of the same run, holds one,
  or lies inside an input directory (real paths compared, so symlinks and hard links count);
  the current directory or one of its parents; a file where a directory is expected or back.
* :func:`check_output` says all this, and whether the place can be written, *before* any work
  starts; the writers check again just before they commit.
* Temporaries are named ``.NAME.sentilstm-tmp-HOST-PID-RANDOM`` beside the destination, removed
  on every failure path; those left by a killed process (same host, PID no longer running) are
  swept by the next write to the same place.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = ["OVERWRITE_HELP", "OutputError", "OutputExists", "KINDS", "check_output", "sweep_temporaries", "temporary_name",
           "atomic_write_bytes", "atomic_write_text", "atomic_directory", "atomic_output", "is_artefact"]


OVERWRITE_HELP = ("Replace an existing output that sentilstm did not write (without it, only a new name, an "
                  "empty directory or a sentilstm output of the same kind is replaced). Never replaces an "
                  "input of the same run.")


class OutputError(OSError):
    """A destination cannot or may not be written; the message is one line naming it."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "output error"


class OutputExists(OutputError, FileExistsError):
    """The destination exists and is not ours to replace."""


# -- temporary names ------------------------------------------------------------------------------
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.sentilstm-(?:tmp|old)-(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-[0-9a-f]+$")


def temporary_name(name: str, what: str = "tmp") -> str:
    """``.NAME.sentilstm-tmp-HOST-PID-RANDOM``: recognisable, and sweepable once PID has died."""
    return f".{name}.sentilstm-{what}-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def sweep_temporaries(path: str | Path) -> list[Path]:
    """Remove temporaries for ``path`` left by dead processes of this host; return what was removed."""
    path = Path(os.path.abspath(path))
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_RE.match(entry.name)
        if not m or m["name"] != path.name or m["host"] != _HOST or _pid_alive(int(m["pid"])):
            continue
        p = Path(entry.path)
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
    return removed


# -- what counts as a sentilstm artefact ---------------------------------------------------------------
def _json_file(path: Path, limit: int = 1 << 24) -> object:
    try:
        if path.stat().st_size > limit:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_bundle(p: Path) -> bool:
    doc = _json_file(p / "config.json")
    return isinstance(doc, dict) and doc.get("format") == "sentilstm-bundle"


def _is_report(p: Path) -> bool:
    doc = _json_file(p / "report.json", limit=1 << 30)
    return isinstance(doc, dict) and doc.get("schema") == "sentilstm-report"


def _is_export(fmt: str) -> Callable[[Path], bool]:
    def check(p: Path) -> bool:
        doc = _json_file(p / "export.json")
        return isinstance(doc, dict) and doc.get("format") == fmt and "sentilstm_version" in doc
    return check


SCORE_COLUMNS = ("label", "p_negative", "p_neutral", "p_positive")
PARQUET_KEY = b"sentilstm"  # Parquet schema metadata key of every scores file sentilstm writes


def _is_scores(p: Path) -> bool:
    """A scores file of ``predict --out`` (any format, told by its content, not its name)."""
    try:
        with open(p, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    if head[:4] == b"PAR1":
        try:
            import pyarrow.parquet as pq

            meta = pq.read_schema(p).metadata or {}
        except Exception:  # noqa: BLE001 - unreadable Parquet is not ours
            return False
        return PARQUET_KEY in meta
    lines = head.decode("utf-8", "replace").lstrip("\ufeff").split("\n")
    first = lines[0].rstrip("\r")
    if first.strip() == "[" and len(lines) > 1:  # a .json array, one record a line
        first = lines[1].rstrip("\r").rstrip(",")
    if first.startswith("{"):
        try:
            rec = json.loads(first)
        except ValueError:
            return False
        return isinstance(rec, dict) and tuple(rec)[-len(SCORE_COLUMNS):] == SCORE_COLUMNS
    import csv

    for delim in (",", "\t"):
        row = next(csv.reader([first], delimiter=delim), [])
        if tuple(row[-len(SCORE_COLUMNS):]) == SCORE_COLUMNS:
            return True
    return False


def _is_explanation(p: Path) -> bool:
    """An ``explain --out`` file: its HTML page or its JSON array (the text view is not recognisable)."""
    try:
        with open(p, "rb") as f:
            head = f.read(1 << 12).decode("utf-8", "replace")
    except OSError:
        return False
    if head.startswith("<!DOCTYPE html>"):
        return "<title>sentilstm explanations</title>" in head
    if head.startswith("[") and p.stat().st_size < (1 << 26):
        doc = _json_file(p, limit=1 << 26)
        return (isinstance(doc, list) and bool(doc) and isinstance(doc[0], dict)
                and {"text", "label", "probabilities", "method"} <= set(doc[0]))
    return False


# kind -> (is a directory, what it is called, recogniser)
KINDS: dict[str, tuple[bool, str, Callable[[Path], bool]]] = {
    "bundle": (True, "a sentilstm model bundle", _is_bundle),
    "report": (True, "a sentilstm report", _is_report),
    "export-onnx": (True, "a sentilstm ONNX export", _is_export("onnx")),
    "export-savedmodel": (True, "a sentilstm SavedModel export", _is_export("savedmodel")),
    "scores": (False, "a sentilstm scores file", _is_scores),
    "explanation": (False, "a sentilstm explanation (html or json)", _is_explanation),
}


def is_artefact(path: str | Path, kind: str) -> bool:
    """Whether ``path`` is a sentilstm artefact of ``kind`` (see :data:`KINDS`)."""
    is_dir, _, check = KINDS[kind]
    p = Path(path)
    return (p.is_dir() if is_dir else p.is_file()) and check(p)


# -- the checks -----------------------------------------------------------------------------------------
def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def _same_file(a: str, b: str) -> bool:
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False


def _check_inputs(path: Path, real: str, is_dir: bool, inputs: Iterable[str | os.PathLike[str] | None]) -> None:
    ins = [(str(i), os.path.realpath(i)) for i in inputs if i is not None and str(i) not in ("", "-")]
    ins = [(shown, r) for shown, r in ins if os.path.exists(r)]
    if not ins:
        return
    for shown, r in ins:
        if real == r or _same_file(real, r):
            raise OutputExists(f"{path}: refusing to write over {shown}, an input of this run")
        if os.path.isdir(r) and _inside(real, r):
            raise OutputExists(f"{path}: refusing to write inside {shown}, an input of this run")
        if is_dir and _inside(r, real):
            raise OutputExists(f"{path}: refusing to replace a directory that holds {shown}, an input of this run")
    if is_dir and os.path.isdir(real):  # hard links to an input inside the directory
        keys = {(s.st_dev, s.st_ino) for _, r in ins if os.path.isfile(r) for s in [os.stat(r)]}
        for root, _, files in os.walk(real):
            for name in files:
                with contextlib.suppress(OSError):
                    s = os.stat(os.path.join(root, name))
                    if (s.st_dev, s.st_ino) in keys:
                        raise OutputExists(f"{path}: refusing to replace a directory that holds "
                                           f"{os.path.join(root, name)}, a link to an input of this run")


def _probe(path: Path) -> None:
    """Create and remove a temporary beside ``path`` (or in its nearest existing parent)."""
    d = path.parent
    while not d.exists() and d.parent != d:
        d = d.parent
    if not d.is_dir():
        raise OutputError(f"{path}: cannot be written ({d} is not a directory)")
    probe = d / temporary_name(path.name)
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"{path}: cannot be written (creating a file in {d} failed: {e.strerror or e})") from None


def check_output(path: str | Path, kind: str, *, overwrite: bool = False,
                 inputs: Iterable[str | os.PathLike[str] | None] = (), probe: bool = True) -> Path:
    """Raise :class:`OutputError` (one line) unless ``path`` may be written as a ``kind`` artefact.

    Call it before any work starts.  See the module docstring for the rules.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    is_dir, called, recognise = KINDS[kind]
    path = Path(path)
    if str(path) == "" or path.name in ("", ".", ".."):
        shown = str(path) or "''"
        raise OutputError(f"{shown}: refusing to write over the current directory or its parent; "
                          f"give a new {'directory' if is_dir else 'file'} name")
    real = os.path.realpath(path)
    _check_inputs(path, real, is_dir, inputs)
    if is_dir and _inside(os.path.realpath(os.getcwd()), real):
        raise OutputError(f"{path}: refusing to replace the current directory or one that contains it; "
                          f"give a new directory name")
    if os.path.lexists(path):
        if is_dir and not path.is_dir():
            what = "a file" if path.is_file() else "not a directory"
            raise OutputExists(f"{path} exists and is {what}; give a new or empty directory")
        if not is_dir and path.is_dir():
            raise OutputExists(f"{path} exists and is a directory; give a file name")
        if not is_dir and not path.is_file():
            raise OutputExists(f"{path} exists and is not a regular file; refusing to replace it")
        if path.is_symlink():
            raise OutputExists(f"{path} is a symbolic link; refusing to replace it (give its target, or a new name)")
        empty = is_dir and not any(path.iterdir())
        if not (empty or recognise(path) or overwrite):
            for other, (other_dir, other_called, other_check) in KINDS.items():
                if other != kind and other_dir == is_dir and other_check(path):
                    raise OutputExists(f"{path}: refusing to replace {other_called} with {called[2:]}; "
                                       f"choose another name, or give --overwrite")
            what = "a directory" if is_dir else "a file"
            held = ""
            if is_dir:
                names = sorted(p.name for p in path.iterdir())
                held = f" (holds {', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"
            raise OutputExists(f"{path}: refusing to replace {what} sentilstm did not write{held}; "
                               f"it is not {called}. Choose another name, or give --overwrite")
    if probe:
        _probe(Path(os.path.abspath(path)))
    return path


# -- writers -----------------------------------------------------------------------------------------
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary beside it and ``os.replace`` (no destination checks:
    for files inside a temporary directory, or files that only sentilstm owns)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / temporary_name(path.name)
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux's renameat2(RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


@contextlib.contextmanager
def atomic_directory(path: str | Path, kind: str, *, overwrite: bool = False,
                     inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Iterator[Path]:
    """Yield a fresh temporary directory; on success it replaces ``path`` in one step.

    ``path`` is checked (:func:`check_output`) before and again just before the swap.  On Linux
    the swap is a single atomic ``renameat2`` exchange; elsewhere two renames in quick succession.
    """
    inputs = list(inputs)
    path = check_output(path, kind, overwrite=overwrite, inputs=inputs)
    sweep_temporaries(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / temporary_name(path.name)
    os.mkdir(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        for f in tmp.rglob("*"):  # files in sub-directories too (a SavedModel has variables/)
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        check_output(path, kind, overwrite=overwrite, inputs=inputs, probe=False)
        if not path.exists():
            os.rename(tmp, path)
        elif _exchange(tmp, path):
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old directory
        else:
            old = path.parent / temporary_name(path.name, "old")
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_output(path: str | Path, kind: str = "scores", *, overwrite: bool = False,
                  inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write (streaming) into; on success it replaces ``path``.

    For files too big to hold in memory (e.g. a Parquet file written batch by batch); on an
    error the temporary file is removed and ``path`` is left as it was.
    """
    inputs = list(inputs)
    path = check_output(path, kind, overwrite=overwrite, inputs=inputs)
    sweep_temporaries(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / temporary_name(path.name)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~_umask()))
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        check_output(path, kind, overwrite=overwrite, inputs=inputs, probe=False)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
