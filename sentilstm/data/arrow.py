"""Building Arrow-backed ``datasets.Dataset`` objects row by row, and normalising existing ones.

:class:`TableBuilder` takes parsed rows (text, raw label, file, line, extra columns), maps labels,
keeps count of unknown labels and skipped rows, and writes Arrow record batches: to memory for
small inputs, to an Arrow file under the cache directory for large ones, so a big CSV never
sits in memory as Python strings.  :func:`normalise` gives any ``Dataset`` (hub, Parquet) the
same ``text`` / ``label`` (ClassLabel) layout.

``datasets`` and ``pyarrow`` are imported inside functions only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentilstm.labels import LABELS
from sentilstm.data.formats import DataError
from sentilstm.data.readers import iter_lines, no_column, open_binary

if TYPE_CHECKING:  # pragma: no cover
    import datasets

__all__ = ["DataWarning", "TableBuilder", "iter_lines", "normalise", "open_binary", "quiet_progress"]

#: Inputs up to this many bytes are built in memory; larger ones go to an Arrow file on disk.
IN_MEMORY_MAX_BYTES = 64 * 2**20
BATCH_ROWS = 10_000
SOURCE_PREFIX = "source: "


class DataWarning(UserWarning):
    """Rows were skipped (each skip is counted and its reason given) or columns were not kept."""


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """Silence ``datasets``' progress bars for the duration (restoring the previous setting)."""
    from datasets.utils import disable_progress_bars, enable_progress_bars, is_progress_bar_enabled

    was = is_progress_bar_enabled()
    disable_progress_bars()
    try:
        yield
    finally:
        if was:
            enable_progress_bars()


def input_key(name: str, paths: Sequence[Path], options: dict[str, Any]) -> str:
    """A cache key for an input: loader, files (path, size, mtime) and options."""
    files = []
    for p in paths:
        try:
            st = p.stat()
            files.append([str(p.resolve()), st.st_size, st.st_mtime_ns])
        except OSError:
            files.append([str(p), None, None])
    doc = json.dumps([name, files, {k: repr(v) for k, v in sorted(options.items())}], sort_keys=True)
    return hashlib.sha1(doc.encode()).hexdigest()[:16]


def _where(file: str, line: int, single: bool, unit: str = "line") -> str:
    return f"{unit} {line}" if single else f"{Path(file).name} {unit} {line}"


class _Tally:
    """Counts per key with the first few positions, for error and skip reports."""

    def __init__(self) -> None:
        self.items: dict[str, list[Any]] = {}

    def add(self, key: str, pos: tuple[str, int]) -> None:
        item = self.items.setdefault(key, [0, []])
        item[0] += 1
        if len(item[1]) < 3:
            item[1].append(pos)

    def set(self, key: str, count: int, positions: Sequence[tuple[str, int]]) -> None:
        """An entry with a known count and its first positions."""
        self.items[key] = [count, list(positions)[:3]]

    def total(self) -> int:
        return sum(v[0] for v in self.items.values())

    def __bool__(self) -> bool:
        return bool(self.items)

    def describe(self, files: set[str], unit: str = "line", limit: int = 10) -> str:
        single = len(files) <= 1
        parts = []
        for key, (count, pos) in sorted(self.items.items(), key=lambda kv: -kv[1][0])[:limit]:
            at = ", ".join(_where(f, n, single, unit) for f, n in pos)
            parts.append(f"{key} ({count}×; first at {at})")
        more = f" and {len(self.items) - limit} more" if len(self.items) > limit else ""
        return ", ".join(parts) + more


class TableBuilder:
    """Collects rows into an Arrow-backed Dataset with ``text``, ``label`` (ClassLabel), extras.

    ``to_id(raw)`` maps a raw label to an id, ``None`` (unknown: reported at the end with counts
    and first lines) or a string (skip the row for that reason).  Use as a context manager so a
    partly written cache file is removed on error.
    """

    def __init__(self, where: str, to_id: Callable[[Any], int | str | None], extra_columns: Sequence[str] = (),
                 *, label_names: Sequence[str] = LABELS, strict: bool = False, in_memory: bool | None = None,
                 size_hint: int = 0, cache_dir: str | Path | None = None, key: str = "",
                 label_help: str = "", unit: str = "line") -> None:
        import pyarrow as pa
        from datasets import ClassLabel, Features, Value

        self.where, self.to_id, self.strict, self.unit = where, to_id, strict, unit
        self.extra_columns = list(extra_columns)
        self.features = Features({"text": Value("string"), "label": ClassLabel(names=list(label_names)),
                                  **{c: Value("string") for c in self.extra_columns}})
        self.schema = self.features.arrow_schema
        self.label_names = list(label_names)
        self.label_help = label_help
        self.in_memory = size_hint <= IN_MEMORY_MAX_BYTES if in_memory is None else in_memory
        self.cache_dir, self.key = cache_dir, key
        self.batches: list[pa.RecordBatch] = []
        self.writer: Any = None
        self.sink: Any = None
        self.tmp_path: Path | None = None
        self.rows = 0
        self.unknown = _Tally()
        self.skipped = _Tally()
        self.notes: list[str] = []
        self.files: set[str] = set()
        self.current = where
        self.source = where
        self._file_rows = 0
        self._cols: dict[str, list[Any]] = self._empty()

    def _empty(self) -> dict[str, list[Any]]:
        return {"text": [], "label": [], **{c: [] for c in self.extra_columns}}

    # -- rows -------------------------------------------------------------------------------
    def start_file(self, path: str | Path) -> None:
        """Begin a new input file (an empty file is an error)."""
        self.current = str(path)
        self.files.add(self.current)
        self._file_rows = 0

    def end_file(self, what: str = "the file is empty") -> None:
        if self._file_rows == 0:
            raise DataError(f"{self.current}: no rows ({what})")

    def add(self, text: str, raw_label: Any, line: int, extras: Sequence[Any] = ()) -> None:
        """One row; ``extras`` in the order of ``extra_columns``."""
        self._file_rows += 1
        label = self.to_id(raw_label)
        if label is None:
            self.unknown.add(repr(raw_label), (self.current, line))
            return
        if isinstance(label, str):
            self.skipped.add(label, (self.current, line))
            return
        cols = self._cols
        cols["text"].append(text)
        cols["label"].append(label)
        for c, v in zip(self.extra_columns, extras):
            cols[c].append(v)
        self.rows += 1
        if len(cols["text"]) >= BATCH_ROWS:
            self._flush()

    def skip(self, reason: str, line: int) -> None:
        """Skip a row for ``reason`` (counted, reported; an error with ``strict``)."""
        self._file_rows += 1
        self.skipped.add(reason, (self.current, line))

    def _flush(self) -> None:
        import pyarrow as pa

        if not self._cols["text"]:
            return
        if self.unknown:  # the load will fail; stop storing rows
            self._cols = self._empty()
            return
        batch = pa.RecordBatch.from_pydict(self._cols, schema=self.schema)
        self._cols = self._empty()
        if self.in_memory:
            self.batches.append(batch)
            return
        if self.writer is None:
            self.tmp_path = self._cache_path().with_suffix(f".{os.getpid()}.tmp")
            self.tmp_path.parent.mkdir(parents=True, exist_ok=True)
            self.sink = pa.OSFile(str(self.tmp_path), "wb")
            self.writer = pa.ipc.new_stream(self.sink, self.schema)
        self.writer.write_batch(batch)

    def _cache_path(self) -> Path:
        if self.cache_dir is None:
            import datasets.config

            base = Path(datasets.config.HF_DATASETS_CACHE) / "sentilstm"
        else:
            base = Path(self.cache_dir)
        return base / f"{self.key or 'table'}.arrow"

    # -- result -----------------------------------------------------------------------------
    def __enter__(self) -> "TableBuilder":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None:
            self._close()
            if self.tmp_path is not None:
                self.tmp_path.unlink(missing_ok=True)

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.sink.close()
            self.writer = None

    def finish(self, description: str = "") -> "datasets.Dataset":
        """The Dataset; raises DataError for unknown labels, no rows, or skips under ``strict``."""
        import pyarrow as pa
        from datasets import Dataset, DatasetInfo

        self._flush()
        if self.unknown:
            hint = self.label_help or f"expected one of {', '.join(self.label_names)} (or pass a label_map)"
            raise DataError(f"{self.where}: {self.unknown.total()} row(s) have unknown labels: "
                            f"{self.unknown.describe(self.files, self.unit)}; {hint}")
        skipped = self.skipped.total()
        if skipped and self.strict:
            raise DataError(f"{self.where}: {skipped} row(s) would be skipped (strict): "
                            f"{self.skipped.describe(self.files, self.unit)}")
        if self.rows == 0:
            what = f"all {skipped} skipped: {self.skipped.describe(self.files, self.unit)}" if skipped \
                else "the file is empty"
            raise DataError(f"{self.where}: no rows ({what})")
        notes = [f"{SOURCE_PREFIX}{self.source}"] + ([description] if description else []) + self.notes
        if skipped:
            msg = f"{self.where}: skipped {skipped} row(s): {self.skipped.describe(self.files, self.unit)}"
            notes.append(msg)
            warnings.warn(msg, DataWarning, stacklevel=3)
        info = DatasetInfo(features=self.features, description="\n".join(notes))
        if self.in_memory:
            return Dataset(pa.Table.from_batches(self.batches, schema=self.schema), info=info)
        self._close()
        final = self._cache_path()
        assert self.tmp_path is not None
        os.replace(self.tmp_path, final)
        return Dataset.from_file(str(final), info=info)


def _arrow_positions(column: Any, value: Any, limit: int = 3) -> list[int]:
    import pyarrow.compute as pc

    mask = pc.is_null(column) if value is None else pc.equal(column, value)
    idx = pc.indices_nonzero(pc.fill_null(mask, False))
    return idx.slice(0, limit).to_pylist()


def _arrow_count(column: Any, value: Any) -> int:
    import pyarrow.compute as pc

    mask = pc.is_null(column) if value is None else pc.equal(column, value)
    return int(pc.sum(pc.fill_null(mask, False)).as_py() or 0)


def normalise(ds: "datasets.Dataset", where: str, *, text_column: str = "text", label_column: str = "label",
              label_map: Any = None, strict: bool = False, label_names: Sequence[str] = LABELS,
              description: str = "") -> "datasets.Dataset":
    """``ds`` with ``text`` (string) and ``label`` (ClassLabel of ``label_names``) plus its other columns.

    Labels go through ``label_map`` (ClassLabel ids by their names first, then by number).
    Unknown labels raise DataError with counts and first row indices; rows with a null text or a
    label mapped to ``skip`` are dropped, counted, and reported (errors with ``strict``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from datasets import ClassLabel, Features, Value

    from sentilstm.data.labelmap import LabelMap

    cols = list(ds.column_names)
    for c in (text_column, label_column):
        if c not in cols:
            raise no_column(where, c, cols)
    feat = ds.features[text_column]
    if not (isinstance(feat, Value) and feat.dtype in ("string", "large_string")):
        raise DataError(f"{where}: column {text_column!r} holds {feat}, not text")
    lmap = LabelMap.parse(label_map, label_names)
    lab_feat = ds.features[label_column]
    names = lab_feat.names if isinstance(lab_feat, ClassLabel) else None

    def lookup(v: Any) -> int | str | None:
        if names is not None and v is not None and 0 <= v < len(names):
            got = lmap.lookup(names[v])
            return got if got is not None else lmap.lookup(v)
        return lmap.lookup(v)

    table = ds.with_format("arrow")[:]
    labcol = table.column(label_column)
    mapping = {v: lookup(v) for v in pc.unique(labcol).to_pylist()}
    unknown = _Tally()
    for v, got in mapping.items():
        if got is None:
            shown = repr(v) if names is None or v is None or not 0 <= v < len(names) else f"{names[v]!r} ({v})"
            if v == -1 and names is not None:
                shown = "-1 (no label)"
            unknown.set(shown, _arrow_count(labcol, v), [(where, i) for i in _arrow_positions(labcol, v)])
    if unknown:
        raise DataError(f"{where}: {unknown.total()} row(s) have unknown labels: {unknown.describe(set(), 'index')}; "
                        f"expected {lmap.describe()} (pass a label_map, e.g. '0:negative,1:neutral,2:positive')")
    skipped = _Tally()
    for v, got in mapping.items():
        if isinstance(got, str):
            skipped.set(got, _arrow_count(labcol, v), [(where, i) for i in _arrow_positions(labcol, v)])
    null_text = _arrow_count(table.column(text_column), None)
    if null_text:
        skipped.set("text is null", null_text,
                    [(where, i) for i in _arrow_positions(table.column(text_column), None)])
    del table, labcol
    if skipped and strict:
        raise DataError(f"{where}: {skipped.total()} row(s) would be skipped (strict): "
                        f"{skipped.describe(set(), 'index')}")

    others = [c for c in cols if c not in (text_column, label_column)]
    renamed = {c: (f"original_{c}" if c in ("text", "label") else c) for c in others}
    features = Features({"text": Value("string"), "label": ClassLabel(names=list(label_names)),
                         **{renamed[c]: ds.features[c] for c in others}})
    ids = {v: (got if isinstance(got, int) else -1) for v, got in mapping.items()}

    def convert(batch: pa.Table) -> pa.Table:
        label = pa.array([ids[v] for v in batch.column(label_column).to_pylist()], pa.int64())
        out = pa.table({"text": batch.column(text_column).cast(pa.string()), "label": label,
                        **{renamed[c]: batch.column(c) for c in others}})
        if skipped:
            keep = pc.and_(pc.not_equal(label, -1), pc.is_valid(out.column("text")))
            out = out.filter(keep)
        return out.cast(features.arrow_schema)

    with quiet_progress():
        out = ds.with_format("arrow").map(convert, batched=True, batch_size=BATCH_ROWS,
                                          remove_columns=cols, features=features).with_format(None)
    notes = [f"{SOURCE_PREFIX}{where}"] + ([description] if description else [])
    if skipped:
        msg = f"{where}: skipped {skipped.total()} row(s): {skipped.describe(set(), 'index')}"
        notes.append(msg)
        warnings.warn(msg, DataWarning, stacklevel=3)
    out.info.description = "\n".join(notes)
    return out
