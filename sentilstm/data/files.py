"""Labelled data (:class:`LabelledData`) from JSONL / JSON / CSV / TSV files, and texts to classify.

Files are read by :mod:`sentilstm.data.readers` (the one reader per format every path uses).
Every problem is reported with the file and line: invalid UTF-8, malformed JSON, a missing
``text`` or ``label`` field, a non-string text, unknown labels (listed with counts), an empty
file.  Nothing is skipped silently: blank lines in JSONL/CSV are the only lines ignored, and
those are not records.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentilstm.labels import LABEL_SYNONYMS, LABELS, UnknownLabelsError, labels_to_ids
from sentilstm.data.formats import DataError, format_of
from sentilstm.data.readers import iter_records, read_texts as _read_texts, text_value

__all__ = ["LabelledData", "DataError", "read_labelled", "read_labelled_jsonl", "read_labelled_csv", "read_texts"]


@dataclass
class LabelledData:
    """Texts with gold label ids (indices into LABELS), plus any extra columns."""

    texts: list[str]
    labels: np.ndarray
    source: str = ""
    extra: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def summary(self) -> dict[str, Any]:
        counts = np.bincount(self.labels, minlength=len(LABELS))
        return {"source": self.source, "rows": len(self), "labels": dict(zip(LABELS, map(int, counts)))}

    def head(self, n: int) -> "LabelledData":
        return LabelledData(self.texts[:n], self.labels[:n], self.source, {k: v[:n] for k, v in self.extra.items()})

    @classmethod
    def from_dataset(cls, ds: Any, source: str | None = None) -> "LabelledData":
        """From a ``datasets.Dataset`` with ``text`` and ``label`` (ClassLabel or names); other columns -> extra."""
        from datasets import ClassLabel

        if source is None:
            desc = (ds.info.description or "").split("\n")[0]
            source = desc[len("source: "):] if desc.startswith("source: ") else ""
        where = source or "dataset"
        for col in ("text", "label"):
            if col not in ds.column_names:
                raise DataError(f"{where}: no column {col!r} (columns: {', '.join(ds.column_names)})")
        table = ds.with_format("arrow")[:]
        texts = table.column("text").to_pylist()
        if any(t is None for t in texts):
            raise DataError(f"{where}: row {texts.index(None)}: text is null")
        feat = ds.features["label"]
        raw = table.column("label").to_pylist()
        if isinstance(feat, ClassLabel):
            try:
                name_ids = labels_to_ids(feat.names, where=f"{where}: label names")
            except UnknownLabelsError as e:
                raise DataError(f"{e} (a {len(feat.names)}-class dataset cannot be used as "
                                f"{'/'.join(LABELS)}; load its 3-class view)") from None
            if any(v is None or not 0 <= v < len(feat.names) for v in raw):
                bad = next(i for i, v in enumerate(raw) if v is None or not 0 <= v < len(feat.names))
                raise DataError(f"{where}: row {bad}: no label ({raw[bad]!r})")
            ids = name_ids[np.asarray(raw, dtype=np.int64)] if raw else np.zeros(0, np.int64)
        elif all(isinstance(v, str) for v in raw):
            try:
                ids = labels_to_ids(raw, where=where)
            except UnknownLabelsError as e:
                bad = next(i for i, v in enumerate(raw) if str(v).strip().lower() not in LABEL_SYNONYMS)
                raise DataError(f"{e} (first at row {bad})") from None
        else:
            raise DataError(f"{where}: column 'label' holds {feat}; load it through a loader with a label_map")
        extra = {c: table.column(c).to_pylist() for c in ds.column_names if c not in ("text", "label")}
        return cls(texts, np.asarray(ids, dtype=np.int64), source, extra)

    def to_dataset(self) -> Any:
        """A ``datasets.Dataset``: ``text``, ``label`` (ClassLabel, names in LABELS order), extra columns."""
        import pyarrow as pa
        from datasets import ClassLabel, Dataset, DatasetInfo, Features, Value

        columns: dict[str, Any] = {"text": pa.array(self.texts, pa.string()),
                                   "label": pa.array(np.asarray(self.labels, dtype=np.int64))}
        for k, v in self.extra.items():
            try:
                columns[k] = pa.array(v)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                columns[k] = pa.array([x if x is None or isinstance(x, str) else json.dumps(x) for x in v], pa.string())
        table = pa.table(columns)
        features = Features.from_arrow_schema(table.schema)
        features["text"] = Value("string")
        features["label"] = ClassLabel(names=list(LABELS))
        info = DatasetInfo(features=features, description=f"source: {self.source}" if self.source else "")
        return Dataset(table.cast(features.arrow_schema), info=info)


def _finish(path: Path, texts: list[str], labels: list[Any], label_lines: list[int],
            extra: dict[str, list[Any]], label_map: Any = None) -> LabelledData:
    if not texts:
        raise DataError(f"{path}: no rows (the file is empty)")
    if label_map is not None:
        return _finish_mapped(path, texts, labels, label_lines, extra, label_map)
    try:
        ids = labels_to_ids(labels, where=str(path))
    except UnknownLabelsError as e:
        first = next(i for i, lab in enumerate(labels) if str(lab).strip().lower() not in LABEL_SYNONYMS)
        raise DataError(f"{e} (first at line {label_lines[first]})") from None
    return LabelledData(texts, ids, str(path), extra)


def _finish_mapped(path: Path, texts: list[str], labels: list[Any], label_lines: list[int],
                   extra: dict[str, list[Any]], label_map: Any) -> LabelledData:
    """Labels through a :class:`~sentilstm.data.labelmap.LabelMap`; rows mapped to skip are dropped and reported."""
    from sentilstm.data.labelmap import LabelMap

    lmap = LabelMap.parse(label_map)
    got = [lmap.lookup(v) for v in labels]
    unknown: Counter[str] = Counter(repr(v) for v, g in zip(labels, got) if g is None)
    if unknown:
        first = next(i for i, g in enumerate(got) if g is None)
        listed = ", ".join(f"{k} ({n}×)" for k, n in unknown.most_common(10))
        raise DataError(f"{path}: {sum(unknown.values())} row(s) have unknown labels: {listed}; expected "
                        f"{lmap.describe()} (first at line {label_lines[first]})")
    keep = [i for i, g in enumerate(got) if isinstance(g, int)]
    if len(keep) < len(got):
        reasons = Counter(g for g in got if isinstance(g, str))
        warnings.warn(f"{path}: skipped {len(got) - len(keep)} row(s): "
                      + ", ".join(f"{r} ({n}×)" for r, n in reasons.items()), UserWarning, stacklevel=3)
        if not keep:
            raise DataError(f"{path}: no rows left: all {len(got)} are mapped to skip")
    return LabelledData([texts[i] for i in keep], np.asarray([got[i] for i in keep], dtype=np.int64), str(path),
                        {k: [v[i] for i in keep] for k, v in extra.items()})


def read_labelled(path: str | Path, fmt: str | None = None, text_column: str = "text", label_column: str = "label",
                  label_map: Any = None) -> LabelledData:
    """Labelled records of a JSONL / JSON / CSV / TSV file (read by :mod:`sentilstm.data.readers`);
    other fields are kept as extra columns.  ``label_map`` (e.g. ``"0:negative,1:neutral,2:positive"``)
    maps other label values."""
    path = Path(path)
    name = str(path)
    fmt = fmt or format_of(path)
    texts: list[str] = []
    labels: list[Any] = []
    lines: list[int] = []
    extra: dict[str, list[Any]] = {}
    unit = "row" if fmt == "parquet" else "line"
    for n, rec in iter_records(path, fmt, require=(text_column, label_column), name=name):
        texts.append(text_value(rec, n, name, text_column, unit))
        labels.append(rec[label_column])
        lines.append(n)
        for k, v in rec.items():
            if k not in (text_column, label_column):
                extra.setdefault(k, [None] * (len(texts) - 1)).append(v)
        for v in extra.values():
            if len(v) < len(texts):
                v.append(None)
    return _finish(path, texts, labels, lines, extra, label_map)


def read_labelled_jsonl(path: str | Path, text_column: str = "text", label_column: str = "label",
                        label_map: Any = None) -> LabelledData:
    """JSON Lines (or, for a ``.json`` file, a JSON array of records) with ``text_column`` and ``label_column``."""
    fmt = "json" if Path(path).suffix.lower() == ".json" else "jsonl"
    return read_labelled(path, fmt, text_column, label_column, label_map)


def read_labelled_csv(path: str | Path, text_column: str = "text", label_column: str = "label",
                      delimiter: str = ",", label_map: Any = None) -> LabelledData:
    """A CSV/TSV file with a header row naming ``text_column`` and ``label_column``."""
    return read_labelled(path, "tsv" if delimiter == "\t" else "csv", text_column, label_column, label_map)


def read_texts(path: str | Path, text_column: str = "text") -> list[str]:
    """Texts to classify, one per record (see :mod:`sentilstm.data.readers`): a ``.txt`` (or any
    other suffix) one per line, the ``text_column`` of a .jsonl/.json/.csv/.tsv/.parquet file."""
    return _read_texts(path, text_column)
