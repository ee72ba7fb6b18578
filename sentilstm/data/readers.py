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
from collections.abc import Iterator, Sequence
from typing import Any

from sentilstm.data import lines
from sentilstm.data.fastjsonl import jsonl_tables
from sentilstm.data.formats import DataError, format_of
from sentilstm.data.lines import (SURROGATE_ESCAPE, Source, arrow_column, check_strings, iter_lines, json_lines_from, json_type,
                    no_column, open_binary, output_columns, source_name, text_value)

__all__ = ["iter_lines", "iter_delimited", "iter_records", "iter_tables", "read_texts", "text_value",
           "open_binary", "no_column", "Source"]

_WS = re.compile(r"[ \t\n\r]*")












#: Whether the block-at-a-time fast paths are used (tests and benchmarks compare both).










def iter_delimited(source: Source, delimiter: str = ",", encoding: str = "utf-8",
                   name: str | None = None) -> Iterator[tuple[int, int, list[str]]]:
    """``(first line, last line, fields)`` per CSV/TSV record, the header first; blank lines are
    skipped; a quoted field may span lines; a record with another number of fields than the
    header is a DataError naming its line."""
    name = source_name(source, name)
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




def _json_lines(source: Source, name: str, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    return json_lines_from(iter_lines(source, encoding, name=name), name)




def _json_array(text: str, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Elements of a JSON array with the line each starts on."""
    dec = json.JSONDecoder()
    escapes = SURROGATE_ESCAPE.search(text) is not None
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
                                f"got {json_type(obj)}")
            if escapes:
                check_strings(obj, name, n)
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
    name = source_name(source, name)
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
        numbered = iter_lines(source, encoding, keepends=True, name=name)
        head: list[str] = []
        for _, line in numbered:
            head.append(line)
            if line.strip():
                break
        if "".join(head).lstrip().startswith("["):
            text = "".join(head) + "".join(line for _, line in numbered)
            records: Iterator[tuple[int, dict[str, Any]]] = _json_array(text, name)
        else:  # JSON Lines under a .json name
            from itertools import chain

            first = [(i + 1, h.rstrip("\n").removesuffix("\r")) for i, h in enumerate(head)]
            rest = ((n, line.rstrip("\n").removesuffix("\r")) for n, line in numbered)
            records = json_lines_from(chain(first, rest), name)
    else:
        records = _json_lines(source, name, encoding)
    for n, rec in records:
        for c in require:
            if c not in rec:
                raise no_column(name, c, rec, n, what="field")
        yield n, rec






def read_texts(source: Source, text_column: str = "text", fmt: str | None = None,
               name: str | None = None) -> list[str]:
    """The texts of every record of ``source``, in order (see :func:`iter_records`)."""
    name = source_name(source, name)
    fmt = fmt or format_of(name)
    unit = "row" if fmt == "parquet" else "line"
    text_column = "text" if fmt == "text" else text_column  # a line is the text, whatever the column option
    return [text_value(rec, n, name, text_column, unit)
            for n, rec in iter_records(source, fmt, require=(text_column,), name=name)]


# -- Arrow tables, for streamed scoring -----------------------------------------------------------


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
    if fmt == "jsonl" and lines.FAST:
        yield from jsonl_tables(path, name, text_column, block_bytes)
        return
    columns: list[str] | None = None
    chunk: list[dict[str, Any]] = []
    size = 0

    def table() -> Any:
        assert columns is not None
        return pa.table({c: (pa.array([r[c] for r in chunk], pa.string()) if c == text_column
                             else arrow_column([r.get(c) for r in chunk])) for c in columns})

    for n, rec in iter_records(path, fmt, require=(text_column,), name=name):
        text = text_value(rec, n, name, text_column)
        columns = output_columns(columns, rec, n, name)
        chunk.append(rec)
        size += len(text) + 16 * len(rec)
        if size >= block_bytes:
            yield table()
            chunk, size = [], 0
    if chunk:
        yield table()
