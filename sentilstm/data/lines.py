"""The line level beneath :mod:`sentilstm.data.readers`: bytes to numbered lines, and the checks
every reader shares (UTF-8 with the line named, lone surrogates, a record's text column).

A line ends at ``\\n`` only (a ``\\r`` just before it is dropped).  Files opened by path are read a
block at a time when :data:`FAST` is on (decoded once a block; a block that does not decode is
re-read line by line so that the error names the same line); streams are read line by line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any, Union

from sentilstm.data.formats import DataError

Source = Union[str, os.PathLike, IO[bytes]]
_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # only such an escape can make a lone surrogate in JSON


def source_name(source: Source, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return str(getattr(source, "name", "<stream>"))


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """``open(path, "rb")`` with the errors as one-line :class:`DataError`."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file or directory") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a file") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except OSError as e:
        raise DataError(f"{path}: cannot open ({e.strerror or e})") from None


def decode_error(name: str, line: int, raw: bytes, e: UnicodeDecodeError, encoding: str) -> DataError:
    """The one message for undecodable bytes: file, line, column (in bytes) and the byte."""
    what = ("invalid UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")
            else f"cannot decode as {encoding}")
    return DataError(f"{name}: line {line}, column {e.start + 1}: {what} (byte 0x{raw[e.start]:02x}); "
                     "re-encode the file as UTF-8" + ("" if what == "invalid UTF-8" else " or pass its encoding"))


def no_column(name: str, column: str, columns: Iterable[Any], line: int | None = None, what: str = "column") -> DataError:
    """The one message for a missing text/label column (or JSON field)."""
    at = f"line {line}: " if line is not None else ""
    listed = ", ".join(map(str, columns)) or "none"
    if what == "field":
        return DataError(f"{name}: {at}missing field {column!r} (fields: {listed})")
    where = " in the header" if line is not None else ""
    return DataError(f"{name}: {at}no column {column!r}{where} (columns: {listed}); "
                     "choose with --text-column / --label-column (text_column= / label_column=)")


def iter_lines(source: Source, encoding: str = "utf-8", keepends: bool = False,
               name: str | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each line, split on ``\\n`` only (never on U+2028, U+0085, ``\\r``...).

    Read as bytes and decoded a block of lines at a time, so memory does not grow with the file
    and an undecodable byte is reported with its line and column.  A BOM is dropped.  Without
    ``keepends`` the line's ``\\n`` and a ``\\r`` just before it are removed.
    """
    try:
        "".encode(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    name = source_name(source, name)
    own = isinstance(source, (str, os.PathLike))
    if own and FAST and _block_codec(encoding):
        for n0, block in raw_blocks(source, name):
            yield from block_lines(block, n0, encoding, name, keepends)
        return
    f = open_binary(source) if own else source  # a stream: read a line at a time, never past what is used
    try:
        yield from _precise_lines(f, encoding, name, 0, keepends)
    finally:
        if own:
            f.close()
FAST = True
READ_BLOCK = 1 << 20  # bytes read at a time by the fast paths (whole lines: a block ends at a \n)


def _block_codec(encoding: str) -> bool:
    """Whether decoding a block of lines at once gives the very lines (and errors) of decoding each
    line: a stateless codec in which byte 0x0a is always ``\\n`` and never part of another character."""
    import codecs

    return codecs.lookup(encoding).name in ("utf-8", "iso8859-1", "ascii", "cp1252")


def _precise_lines(f: IO[bytes], encoding: str, name: str, n0: int, keepends: bool) -> Iterator[tuple[int, str]]:
    """The reference reader: one ``readline`` and one decode per line, lines numbered from ``n0 + 1``."""
    n = n0
    while True:
        try:
            raw = f.readline()
        except IsADirectoryError:
            raise DataError(f"{name}: is a directory, expected a file") from None
        except OSError as e:
            raise DataError(f"{name}: cannot read ({e.strerror or e})") from None
        if not raw:
            return
        n += 1
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as e:
            raise decode_error(name, n, raw, e, encoding) from None
        if n == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if not keepends:
            line = line[:-1] if line.endswith("\n") else line
            line = line[:-1] if line.endswith("\r") else line
        yield n, line


def raw_blocks(path: str | os.PathLike[str], name: str, size: int | None = None) -> Iterator[tuple[int, bytes]]:
    """``(lines before it, block)``: the file's bytes in blocks of whole lines (each block ends with
    ``\\n``, but the file's last may not), about ``size`` bytes each (more for a longer line)."""
    size = size or READ_BLOCK
    with open_binary(path) as f:
        n0 = 0
        pending: list[bytes] = []
        while True:
            try:
                data = f.read(size)
            except IsADirectoryError:
                raise DataError(f"{name}: is a directory, expected a file") from None
            except OSError as e:
                raise DataError(f"{name}: cannot read ({e.strerror or e})") from None
            if not data:
                if pending:
                    yield n0, b"".join(pending)
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                pending.append(data)
                continue
            block = b"".join([*pending, data[:cut]]) if pending else data[:cut]
            pending = [data[cut:]] if cut < len(data) else []
            yield n0, block
            n0 += block.count(b"\n")


def block_lines(block: bytes, n0: int, encoding: str, name: str, keepends: bool = False,
                text: str | None = None) -> Iterator[tuple[int, str]]:
    """The lines of a block from :func:`raw_blocks`, numbered from ``n0 + 1``: exactly what
    :func:`_precise_lines` gives for those bytes (the same error, after the same lines, on bad bytes)."""
    if text is None:
        try:
            text = block.decode(encoding)
        except UnicodeDecodeError:
            import io

            yield from _precise_lines(io.BytesIO(block), encoding, name, n0, keepends)  # names the line
            return
    lines = text.split("\n")
    if lines[-1]:
        last = lines.pop()  # the file's last line, without a \n
    else:
        lines.pop()
        last = None
    if n0 == 0 and lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    elif n0 == 0 and not lines and last is not None and last.startswith("\ufeff"):
        last = last[1:]
    if keepends:
        lines = [line + "\n" for line in lines]
    elif "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        last = last[:-1] if last is not None and last.endswith("\r") else last
    if last is not None:
        lines.append(last)
    yield from enumerate(lines, n0 + 1)


def check_strings(value: Any, name: str, n: int, unit: str = "line") -> None:
    if isinstance(value, str):
        m = _SURROGATE.search(value)
        if m:
            raise DataError(f"{name}: {unit} {n}: a lone surrogate (\\u{ord(m.group()):04x}) is not valid text")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_strings(k, name, n, unit)
            check_strings(v, name, n, unit)
    elif isinstance(value, list):
        for v in value:
            check_strings(v, name, n, unit)


def json_type(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)


def json_lines_from(lines: Iterable[tuple[int, str]], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for n, line in lines:
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{name}: line {n}: invalid JSON ({e.msg} at column {e.colno})") from None
        except RecursionError:
            raise DataError(f"{name}: line {n}: JSON nested too deeply") from None
        if not isinstance(rec, dict):
            raise DataError(f"{name}: line {n}: expected a JSON object, got {json_type(rec)}")
        if "\\u" in line and SURROGATE_ESCAPE.search(line):
            check_strings(rec, name, n)
        yield n, rec


def text_value(rec: dict[str, Any], n: int, name: str, column: str = "text", unit: str = "line") -> str:
    """``rec[column]`` if it is a string; else a DataError naming the line (or row)."""
    v = rec.get(column)
    if isinstance(v, str):
        return v
    if column not in rec:
        raise no_column(name, column, rec, n, what="field")
    got = "null" if v is None else json_type(v)
    what = "column" if unit == "row" else "field"
    raise DataError(f"{name}: {unit} {n}: {what} {column!r} must be a string, got {got}")


def arrow_column(values: list[Any]) -> Any:
    """A pyarrow array: strings, booleans, integers or floats as such; anything else as JSON text."""
    import pyarrow as pa

    kinds = {type(v) for v in values if v is not None}
    if kinds <= {str}:
        return pa.array(values, pa.string())
    if kinds <= {bool}:
        return pa.array(values, pa.bool_())
    if kinds <= {int}:
        try:
            return pa.array(values, pa.int64())
        except (pa.ArrowInvalid, OverflowError):
            pass
    elif kinds <= {int, float}:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    return pa.array([v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values],
                    pa.string())


def output_columns(columns: list[str] | None, rec: dict[str, Any], n: int, name: str) -> list[str]:
    """The columns of a scored table: the first record's; a later record's field not among them is an
    error naming its line (a field a later record lacks is left empty)."""
    if columns is None:
        return list(rec)
    extra = [k for k in rec if k not in columns]
    if extra:
        raise DataError(f"{name}: line {n}: field(s) {', '.join(map(repr, extra))} not in the first record "
                        f"({', '.join(columns)}); the output's columns are the first record's")
    return columns
