"""One streaming reader per input format, shared by every path that reads a user's file.

``predict`` (to stdout, from stdin, and ``--out`` with every engine), ``evaluate``, ``train``,
``datasets`` and :func:`sentilstm.data.load_data` all read through :func:`iter_records` (or
:func:`iter_lines` / :func:`iter_delimited` beneath it), so a file means the same on every path:

* ``text`` (``.txt`` and any suffix not below): one record per line.  A record ends at ``\\n``
  (a ``\\r`` just before it is dropped) and nothing else splits it: U+2028, U+0085, form feed or
  a lone ``\\r`` stay inside the text.  A blank line is an (empty) record; a last line without
  ``\\n`` is a record.
* ``jsonl`` (``.jsonl``, ``.ndjson``): one JSON object per line; blank lines are not records.
* ``json``: a JSON array of objects (or of strings: the ``text`` of each record); a ``.json``
  file that does not start with ``[`` is read as JSON Lines.
* ``csv`` / ``tsv``: a header row, then one record per row (a quoted field may hold newlines);
  a row with another number of fields than the header is an error; blank lines are not records.
* ``parquet``: one record per row.

A UTF-8 BOM is dropped.  Every error is a :class:`DataError` naming the file and the 1-based
line (or row, for Parquet): invalid UTF-8, malformed JSON or CSV, wrong field counts, a missing
or non-string text, a lone surrogate (``"\\ud800"``) in a JSON string.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Union

from .formats import DataError, format_of

__all__ = ["iter_lines", "iter_delimited", "iter_records", "iter_tables", "read_texts", "text_value",
           "open_binary", "no_column", "Source"]

Source = Union[str, os.PathLike, IO[bytes]]
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # only such an escape can make a lone surrogate in JSON
_WS = re.compile(r"[ \t\n\r]*")


def _name(source: Source, name: str | None) -> str:
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
    name = _name(source, name)
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


#: Whether the block-at-a-time fast paths are used (tests and benchmarks compare both).
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


def iter_delimited(source: Source, delimiter: str = ",", encoding: str = "utf-8",
                   name: str | None = None) -> Iterator[tuple[int, int, list[str]]]:
    """``(first line, last line, fields)`` per CSV/TSV record, the header first; blank lines are
    skipped; a quoted field may span lines; a record with another number of fields than the
    header is a DataError naming its line."""
    name = _name(source, name)
    kind = "TSV" if delimiter == "\t" else "CSV"
    counter = [0]

    def feed() -> Iterator[str]:
        for n, line in iter_lines(source, encoding, keepends=True, name=name):
            counter[0] = n
            yield line

    reader = csv.reader(feed(), delimiter=delimiter)
    start, width = 1, None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise DataError(f"{name}: line {start}: malformed {kind} record (lines {start}-{counter[0]}): {e}; "
                            "an unclosed quote?") from None
        end = counter[0]
        if row:
            if width is None:
                width = len(row)
                names = [h.strip() for h in row]
                dup = sorted({h for h in names if names.count(h) > 1})
                if dup:
                    raise DataError(f"{name}: line {start}: the header names {', '.join(map(repr, dup))} twice")
            elif len(row) != width:
                span = f" (one record over lines {start}-{end}: an unbalanced quote?)" if end > start else ""
                raise DataError(f"{name}: line {start}: {len(row)} field(s), the header has {width}{span}")
            yield start, end, row
        start = end + 1


def _check_strings(value: Any, name: str, n: int, unit: str = "line") -> None:
    if isinstance(value, str):
        m = _SURROGATE.search(value)
        if m:
            raise DataError(f"{name}: {unit} {n}: a lone surrogate (\\u{ord(m.group()):04x}) is not valid text")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k, name, n, unit)
            _check_strings(v, name, n, unit)
    elif isinstance(value, list):
        for v in value:
            _check_strings(v, name, n, unit)


def _json_lines(source: Source, name: str, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    return _json_lines_from(iter_lines(source, encoding, name=name), name)


def _json_type(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)


def _json_array(text: str, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Elements of a JSON array with the line each starts on."""
    dec = json.JSONDecoder()
    escapes = _SURROGATE_ESCAPE.search(text) is not None
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    line, seen = 1, 0

    def line_at(i: int) -> int:
        nonlocal line, seen
        line += text.count("\n", seen, i)
        seen = i
        return line

    if text[pos:pos + 1] != "[":
        raise DataError(f"{name}: line {line_at(pos)}: expected a JSON array of records")
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text[pos:pos + 1] == "]":
        pos += 1
    else:
        while True:
            try:
                obj, end = dec.raw_decode(text, pos)
            except json.JSONDecodeError as e:
                raise DataError(f"{name}: line {e.lineno}: invalid JSON ({e.msg} at column {e.colno})") from None
            except RecursionError:
                raise DataError(f"{name}: line {line_at(pos)}: JSON nested too deeply") from None
            n = line_at(pos)
            if isinstance(obj, str):
                obj = {"text": obj}
            elif not isinstance(obj, dict):
                raise DataError(f"{name}: line {n}: expected a JSON object (or a string) in the array, "
                                f"got {_json_type(obj)}")
            if escapes:
                _check_strings(obj, name, n)
            yield n, obj
            pos = _WS.match(text, end).end()  # type: ignore[union-attr]
            c = text[pos:pos + 1]
            if c == ",":
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            elif c == "]":
                pos += 1
                break
            else:
                raise DataError(f"{name}: line {line_at(pos)}: invalid JSON (expected ',' or ']' in the array)")
    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
    if pos < len(text):
        raise DataError(f"{name}: line {line_at(pos)}: invalid JSON (text after the end of the array)")


def _parquet_file(path: Source, name: str) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(path, (str, os.PathLike)):
        open_binary(path).close()  # the usual messages for a missing file or a directory
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise DataError(f"{name}: not a readable Parquet file ({str(e).splitlines()[0] if str(e) else e})") from None


def iter_records(source: Source, fmt: str | None = None, *, require: Sequence[str] = (), encoding: str = "utf-8",
                 name: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` for every record of ``source`` (a path or a binary stream).

    ``fmt``: ``text``, ``jsonl``, ``json``, ``csv``, ``tsv`` or ``parquet`` (default: by suffix,
    ``text`` for any other).  A ``text`` record is ``{"text": line}``; CSV values are strings.
    For Parquet the number is the 1-based row.  ``require``: columns every record must have
    (checked on the header for CSV/TSV and Parquet, on each record for JSON).
    """
    name = _name(source, name)
    fmt = fmt or format_of(name)
    if fmt == "text":
        for n, line in iter_lines(source, encoding, name=name):
            yield n, {"text": line}
        return
    if fmt in ("csv", "tsv"):
        rows = iter_delimited(source, "\t" if fmt == "tsv" else ",", encoding, name)
        header: list[str] | None = None
        for start, _, row in rows:
            if header is None:
                header = [h.strip() for h in row]
                for c in require:
                    if c not in header:
                        raise no_column(name, c, header, start)
                continue
            yield start, dict(zip(header, row))
        return
    if fmt == "parquet":
        pf = _parquet_file(source, name)
        cols = pf.schema_arrow.names
        for c in require:
            if c not in cols:
                raise no_column(name, c, cols)
        n = 0
        for batch in pf.iter_batches(batch_size=8192):
            for rec in batch.to_pylist():
                n += 1
                yield n, rec
        return
    if fmt not in ("json", "jsonl"):
        raise ValueError(f"unknown input format {fmt!r}")
    if fmt == "json":
        lines = iter_lines(source, encoding, keepends=True, name=name)
        head: list[str] = []
        for _, line in lines:
            head.append(line)
            if line.strip():
                break
        if "".join(head).lstrip().startswith("["):
            text = "".join(head) + "".join(line for _, line in lines)
            records: Iterator[tuple[int, dict[str, Any]]] = _json_array(text, name)
        else:  # JSON Lines under a .json name
            from itertools import chain

            first = [(i + 1, h.rstrip("\n").removesuffix("\r")) for i, h in enumerate(head)]
            rest = ((n, line.rstrip("\n").removesuffix("\r")) for n, line in lines)
            records = _json_lines_from(chain(first, rest), name)
    else:
        records = _json_lines(source, name, encoding)
    for n, rec in records:
        for c in require:
            if c not in rec:
                raise no_column(name, c, rec, n, what="field")
        yield n, rec


def _json_lines_from(lines: Iterable[tuple[int, str]], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
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
            raise DataError(f"{name}: line {n}: expected a JSON object, got {_json_type(rec)}")
        if "\\u" in line and _SURROGATE_ESCAPE.search(line):
            _check_strings(rec, name, n)
        yield n, rec


def text_value(rec: dict[str, Any], n: int, name: str, column: str = "text", unit: str = "line") -> str:
    """``rec[column]`` if it is a string; else a DataError naming the line (or row)."""
    v = rec.get(column)
    if isinstance(v, str):
        return v
    if column not in rec:
        raise no_column(name, column, rec, n, what="field")
    got = "null" if v is None else _json_type(v)
    what = "column" if unit == "row" else "field"
    raise DataError(f"{name}: {unit} {n}: {what} {column!r} must be a string, got {got}")


def read_texts(source: Source, text_column: str = "text", fmt: str | None = None,
               name: str | None = None) -> list[str]:
    """The texts of every record of ``source``, in order (see :func:`iter_records`)."""
    name = _name(source, name)
    fmt = fmt or format_of(name)
    unit = "row" if fmt == "parquet" else "line"
    text_column = "text" if fmt == "text" else text_column  # a line is the text, whatever the column option
    return [text_value(rec, n, name, text_column, unit)
            for n, rec in iter_records(source, fmt, require=(text_column,), name=name)]


# -- Arrow tables, for streamed scoring -----------------------------------------------------------
def _arrow_column(values: list[Any]) -> Any:
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


def iter_tables(path: str | os.PathLike[str], text_column: str = "text", block_bytes: int = 1 << 20,
                fmt: str | None = None) -> Iterator[Any]:
    """``path`` as pyarrow Tables of about ``block_bytes`` each, every record once, in order.

    Columns: ``text`` for a text file; the header's (all strings) for CSV/TSV; the first
    record's fields for JSON (strings, booleans, numbers kept; other values as JSON text; a
    field first seen in a later record is an error); Parquet's own.  ``text_column`` must hold a
    string in every record.
    """
    import pyarrow as pa

    name = str(path)
    fmt = fmt or format_of(path)
    text_column = "text" if fmt == "text" else text_column  # a line is the text, whatever the column option
    if fmt == "parquet":
        pf = _parquet_file(path, name)
        if text_column not in pf.schema_arrow.names:
            raise no_column(name, text_column, pf.schema_arrow.names)
        typ = pf.schema_arrow.field(text_column).type
        if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            raise DataError(f"{name}: column {text_column!r} holds {typ}, not text")
        row = 0
        rows = max(1, block_bytes // 256)
        for batch in pf.iter_batches(batch_size=rows):
            col = batch.column(batch.schema.get_field_index(text_column))
            if col.null_count:
                first = next(i for i, v in enumerate(col.is_null().to_pylist()) if v)
                raise DataError(f"{name}: row {row + first + 1}: column {text_column!r} must be a string, got null")
            row += batch.num_rows
            yield pa.Table.from_batches([batch])
        return
    if fmt == "jsonl" and FAST:
        from .fastjsonl import jsonl_tables

        yield from jsonl_tables(path, name, text_column, block_bytes)
        return
    columns: list[str] | None = None
    known: set[str] = set()
    chunk: list[dict[str, Any]] = []
    size = 0

    def table() -> Any:
        assert columns is not None
        return pa.table({c: (pa.array([r[c] for r in chunk], pa.string()) if c == text_column
                             else _arrow_column([r.get(c) for r in chunk])) for c in columns})

    for n, rec in iter_records(path, fmt, require=(text_column,), name=name):
        text = text_value(rec, n, name, text_column)
        if columns is None:
            columns = list(rec)
            known = set(columns)
        elif not known.issuperset(rec):
            extra = [k for k in rec if k not in known]
            if extra:
                raise DataError(f"{name}: line {n}: field(s) {', '.join(map(repr, extra))} not in the first record "
                                f"({', '.join(columns)}); the output's columns are the first record's")
        chunk.append(rec)
        size += len(text) + 16 * len(rec)
        if size >= block_bytes:
            yield table()
            chunk, size = [], 0
    if chunk:
        yield table()
