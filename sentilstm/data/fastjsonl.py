"""The fast path of :func:`sentilstm.data.readers.iter_tables` for JSON Lines: pyarrow's JSON parser
on blocks of lines where it provably gives the precise reader's records, the precise reader on
every other block.

A block of lines (from :func:`~sentilstm.data.lines.raw_blocks`) goes to ``pyarrow.json`` only if

* it decodes as UTF-8 (Python's strict codec: the precise reader's check) and holds no ``\\r``,
  no ``null`` and no escape that could be a surrogate (``\\uD800``-``\\uDFFF``);
* every line starts with ``{`` and ends with ``}`` (so no blank lines, no other whitespace): as a
  JSON string cannot hold a raw newline, and ``}`` then ``{`` is valid JSON only between two
  top-level values, no value then spans two lines, each line starts one, and a row count equal to
  the line count proves that each line holds exactly one object;
* pyarrow parses it without error (it rejects duplicate keys, raw control characters, lone
  surrogates...) into columns of strings, int64 or booleans only (a ``double`` could come from
  ``NaN``/``Inf``, which pyarrow reads and Python's ``json`` may not, or from an integer beyond
  int64), with the text column a string in every row and no column the first record lacks.

Without ``null`` in the block, a value is missing exactly where its key is, so each record's key
count (which sizes the output tables) is the count of its non-null values.  Output tables are cut
where the precise reader cuts them, and a table whose columns do not have one type in all its
pieces is built from the records as the precise reader builds it.  Anything else: the block is
read line by line by the precise reader, which raises its own error for a bad line.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from typing import Any

from sentilstm.data import lines

__all__ = ["jsonl_tables"]

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_NULL = re.compile(rb"[:,\[][ \t]*null")  # where a null value could be (also matches some strings: no harm)
_KINDS = {"string": str, "int64": int, "bool": bool, "null": None}


def _arrow_block(block: bytes, n0: int, text_column: str, columns: list[str] | None) -> Any:
    """``(table, first record's keys)`` for a block pyarrow reads as the precise reader would, else None."""
    import pyarrow as pa
    import pyarrow.json as pj

    if n0 == 0 and block.startswith(b"\xef\xbb\xbf"):
        block = block[3:]
    if not block or b"\r" in block or (b"null" in block and _NULL.search(block)) or \
            (b"\\u" in block and _SURROGATE_ESCAPE.search(block)):  # (`in` first: much faster than a search)
        return None
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = block.count(b"\n") + (not block.endswith(b"\n"))  # (on the bytes: the same, ASCII, and faster)
    starts = block.startswith(b"{") + block.count(b"\n{")
    ends = block.count(b"}\n") + (not block.endswith(b"\n") and block.endswith(b"}"))
    if starts != lines or ends != lines:  # a blank line, other whitespace, or not one object a line
        return None
    try:
        # one thread: on a busy machine threads cost more than they save on a block this size
        options = pj.ReadOptions(use_threads=False, block_size=len(block) + 1)
        table = pj.read_json(io.BytesIO(block), read_options=options)
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != lines:
        return None
    for name, col in zip(table.column_names, table.columns):
        if str(col.type) not in _KINDS or str(col.type) == "null" and name == text_column:
            return None
    first = None
    if columns is None:
        try:
            first = list(json.loads(text[:text.index("\n")] if "\n" in text else text))
        except ValueError:
            return None
        if table.column_names != first:  # a later record has a key the first lacks: the precise error
            return None
        columns = first
    elif not set(table.column_names) <= set(columns):
        return None
    if text_column not in table.column_names:
        return None
    col = table.column(text_column)
    if str(col.type) != "string" or col.null_count:
        return None
    return table, first


def jsonl_tables(path: str | os.PathLike[str], name: str, text_column: str, block_bytes: int) -> Iterator[Any]:
    """What :func:`~sentilstm.data.readers.iter_tables` yields for a JSON Lines ``path``, faster."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    columns: list[str] | None = None
    pieces: list[Any] = []  # pyarrow Tables (fast blocks) or lists of records (precise blocks)
    size = 0

    def table() -> Any:
        assert columns is not None
        out = {}
        for c in columns:
            parts: list[Any] = []
            kinds: set[Any] = set()
            for p in pieces:
                if isinstance(p, pa.Table):
                    x = p.column(c) if c in p.column_names else None
                    kinds.add(None if x is None or x.null_count == len(x) else _KINDS[str(x.type)])
                else:
                    x = [r.get(c) for r in p]
                    kinds.update(type(v) for v in x)
                parts.append(x)
            kinds.discard(None)
            typ = pa.string() if kinds <= {str} else pa.bool_() if kinds <= {bool} else \
                pa.int64() if kinds <= {int} else None
            if typ is None:
                break
            try:
                arrays = [(pa.nulls(p.num_rows if isinstance(p, pa.Table) else len(p), typ) if x is None
                           else pa.array(x, typ) if isinstance(x, list) else x.cast(typ)) for p, x in zip(pieces, parts)]
            except (pa.ArrowInvalid, OverflowError):
                break
            out[c] = pa.concat_arrays([a for ch in arrays for a in
                                       (ch.chunks if isinstance(ch, pa.ChunkedArray) else [ch])])
        else:
            return pa.table(out)
        records: list[dict[str, Any]] = []
        for p in pieces:
            records.extend(p.to_pylist() if isinstance(p, pa.Table) else p)
        return pa.table({c: (pa.array([r[c] for r in records], pa.string()) if c == text_column
                             else lines.arrow_column([r.get(c) for r in records])) for c in columns})

    for n0, block in lines.raw_blocks(path, name, 1 << 18):  # small: an odd block costs less
        fast = _arrow_block(block, n0, text_column, columns)
        if fast is None:
            recs: list[dict[str, Any]] = []
            pieces.append(recs)
            for n, rec in lines.json_lines_from(lines.block_lines(block, n0, "utf-8", name), name):
                if text_column not in rec:
                    raise lines.no_column(name, text_column, rec, n, what="field")
                text = lines.text_value(rec, n, name, text_column)
                columns = lines.output_columns(columns, rec, n, name)
                recs.append(rec)
                size += len(text) + 16 * len(rec)
                if size >= block_bytes:
                    yield table()
                    recs = []
                    pieces, size = [recs], 0
            continue
        tbl, first = fast
        if first is not None:
            columns = first
        keys = np.zeros(tbl.num_rows, dtype=np.int64)
        for col in tbl.columns:
            keys += np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=np.int64)
        sizes = np.asarray(pc.utf8_length(tbl.column(text_column)).to_numpy(), dtype=np.int64) + 16 * keys
        cum = np.cumsum(sizes)
        start, base = 0, 0
        while start < tbl.num_rows:
            end = int(np.searchsorted(cum, block_bytes - size + base, side="left"))  # the row that fills a table
            if end >= tbl.num_rows:
                pieces.append(tbl.slice(start))
                size += int(cum[-1]) - base
                break
            pieces.append(tbl.slice(start, end + 1 - start))
            yield table()
            pieces, size = [], 0
            base, start = int(cum[end]), end + 1
    if any(len(p) if isinstance(p, list) else p.num_rows for p in pieces):
        yield table()
