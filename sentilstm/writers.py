"""Scored tables to a file: Parquet, CSV, TSV, JSON Lines or a JSON array, streamed table by table.

The format follows the file name (``.parquet``, ``.csv``, ``.tsv``, ``.jsonl`` / ``.ndjson``,
``.json``) or an explicit ``--out-format``; any other name is an error (before any work starts).
Where the file goes, and how it replaces an older one, is :mod:`sentilstm.fileio`'s business.

Every format is recognisable as a sentilstm scores file (so a later run may replace it): the
Parquet schema carries the metadata key ``sentilstm``; the text formats end each header / record
with the columns ``label, p_negative, p_neutral, p_positive``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from sentilstm.fileio import PARQUET_KEY, OutputError

__all__ = ["OUT_FORMATS", "SUFFIXES", "output_format", "TableWriter"]

OUT_FORMATS = ("parquet", "csv", "tsv", "jsonl", "json")
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl",
            ".ndjson": "jsonl", ".json": "json"}


def output_format(path: str | Path, explicit: str | None = None) -> str:
    """The output format for ``path``: ``explicit`` if given, else from its suffix (else OutputError)."""
    if explicit is not None:
        if explicit not in OUT_FORMATS:
            raise OutputError(f"unknown output format {explicit!r}; choose one of {', '.join(OUT_FORMATS)}")
        return explicit
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise OutputError(f"{path}: cannot tell the output format from the name "
                          f"({'suffix ' + repr(suffix) if suffix else 'no suffix'}); name it .parquet, .csv, "
                          f".tsv, .jsonl or .json, or give --out-format")
    return SUFFIXES[suffix]


def _float_strings(values: Any) -> list[str | None]:
    """float32 values as their shortest round-trip decimal (0.1, not 0.10000000149011612)."""
    arr = values.to_numpy(zero_copy_only=False)
    return [None if v != v else str(np.float32(v)) for v in arr]  # NaN stays empty / null


class TableWriter:
    """Write pyarrow Tables of one schema to ``path`` in ``fmt``; ``close()`` when done."""

    def __init__(self, path: str | Path, fmt: str) -> None:
        if fmt not in OUT_FORMATS:
            raise OutputError(f"unknown output format {fmt!r}; choose one of {', '.join(OUT_FORMATS)}")
        self.path, self.fmt = Path(path), fmt
        self.schema: Any = None
        self.rows = 0
        self._parquet: Any = None
        self._file: Any = None
        self._csv: Any = None

    def write(self, table: Any) -> None:
        """Append ``table`` (its schema must match the first table's; cast it before if needed)."""
        if self.schema is None:
            self._open(table.schema)
        if self.fmt == "parquet":
            self._parquet.write_table(table.replace_schema_metadata(self.schema.metadata))
        else:
            self._write_text(table)
        self.rows += table.num_rows

    def _open(self, schema: Any) -> None:
        from sentilstm.version import __version__

        self.schema = schema.with_metadata({**(schema.metadata or {}), PARQUET_KEY: __version__.encode()})
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            self._parquet = pq.ParquetWriter(self.path, self.schema)
            return
        self._file = open(self.path, "w", encoding="utf-8", newline="")
        if self.fmt in ("csv", "tsv"):
            self._csv = csv.writer(self._file, delimiter="\t" if self.fmt == "tsv" else ",", lineterminator="\n")
            self._csv.writerow(schema.names)
        elif self.fmt == "json":
            self._file.write("[")

    def _columns(self, table: Any) -> list[list[Any]]:
        import pyarrow as pa

        cols = []
        for field, col in zip(table.schema, table.columns):
            if pa.types.is_floating(field.type):
                strs = _float_strings(col)
                cols.append(strs if self._csv is not None else [None if s is None else float(s) for s in strs])
            else:
                cols.append(col.to_pylist())
        return cols

    def _write_text(self, table: Any) -> None:
        cols = self._columns(table)
        names = table.schema.names
        if self._csv is not None:
            self._csv.writerows(zip(*cols))
            return
        parts = []
        for row in zip(*cols):
            rec = json.dumps(dict(zip(names, row)), ensure_ascii=False, allow_nan=False, default=str)
            if self.fmt == "json":
                rec = ("\n" if self.rows == 0 and not parts else ",\n") + rec
            else:
                rec += "\n"
            parts.append(rec)
        self._file.write("".join(parts))

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._file is not None:
            if self.fmt == "json":
                self._file.write("\n]\n" if self.rows else "]\n")
            self._file.close()
            self._file = None
