"""Readers for labelled JSONL / CSV / TSV files and for unlabelled text files.

Every problem is reported with the file and line: invalid UTF-8, malformed JSON, a missing
``text`` or ``label`` field, a non-string text, unknown labels (listed with counts), an empty
file.  Nothing is skipped silently: blank lines in JSONL are the only rows ignored, and those
are not records.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..labels import LABEL_SYNONYMS, LABELS, UnknownLabelsError, labels_to_ids

__all__ = ["LabelledData", "DataError", "read_text_file", "read_labelled_jsonl", "read_labelled_csv", "read_texts"]


class DataError(ValueError):
    """A data file could not be read; the message names the file and, where it applies, the line."""


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


def decode_utf8(raw: bytes, name: str) -> str:
    """``raw`` decoded as UTF-8 (a BOM is ignored); invalid bytes raise DataError with line and column."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise DataError(
            f"{name}: line {line}, column {col}: invalid UTF-8 (byte 0x{raw[e.start]:02x}); "
            "re-encode the file as UTF-8"
        ) from None


def read_text_file(path: str | Path) -> str:
    """The file decoded as UTF-8 (a BOM is ignored); invalid bytes are reported by line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a file") from None
    return decode_utf8(raw, str(path))


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
    from .labelmap import LabelMap

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


def iter_json_objects(where: Any, numbered_lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank JSON Lines line; malformed lines raise DataError."""
    for lineno, line in numbered_lines:
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}: line {lineno}: invalid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(rec, dict):
            raise DataError(f"{where}: line {lineno}: expected a JSON object, got {type(rec).__name__}")
        yield lineno, rec


def read_labelled_jsonl(path: str | Path, text_column: str = "text", label_column: str = "label",
                        label_map: Any = None) -> LabelledData:
    """One JSON object per line with ``text_column`` and ``label_column``; other keys kept as extra.

    ``label_map`` (e.g. ``"0:negative,1:neutral,2:positive"``) maps other label values.
    """
    path = Path(path)
    texts: list[str] = []
    labels: list[Any] = []
    lines: list[int] = []
    extra: dict[str, list[Any]] = {}
    for lineno, rec in iter_json_objects(path, enumerate(read_text_file(path).splitlines(), 1)):
        for col in (text_column, label_column):
            if col not in rec:
                raise DataError(f"{path}: line {lineno}: missing field {col!r} (fields: {', '.join(rec)})")
        if not isinstance(rec[text_column], str):
            raise DataError(
                f"{path}: line {lineno}: field {text_column!r} must be a string, got {type(rec[text_column]).__name__}"
            )
        texts.append(rec[text_column])
        labels.append(rec[label_column])
        lines.append(lineno)
        for k, v in rec.items():
            if k not in (text_column, label_column):
                extra.setdefault(k, [None] * (len(texts) - 1)).append(v)
        for v in extra.values():
            if len(v) < len(texts):
                v.append(None)
    return _finish(path, texts, labels, lines, extra, label_map)


def read_labelled_csv(path: str | Path, text_column: str = "text", label_column: str = "label",
                      delimiter: str = ",", label_map: Any = None) -> LabelledData:
    """A CSV/TSV file with a header row naming ``text_column`` and ``label_column``."""
    path = Path(path)
    reader = csv.DictReader(io.StringIO(read_text_file(path), newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    for col in (text_column, label_column):
        if col not in header:
            raise DataError(f"{path}: line 1: no column {col!r} in the header (columns: {', '.join(header) or 'none'})")
    texts: list[str] = []
    labels: list[Any] = []
    lines: list[int] = []
    extra: dict[str, list[Any]] = {c: [] for c in header if c not in (text_column, label_column)}
    try:
        for row in reader:
            if row.get(text_column) is None:
                raise DataError(f"{path}: line {reader.line_num}: too few fields (no {text_column!r} value)")
            texts.append(row[text_column])
            labels.append(row[label_column])
            lines.append(reader.line_num)
            for c in extra:
                extra[c].append(row.get(c))
    except csv.Error as e:
        raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({e})") from None
    return _finish(path, texts, labels, lines, extra, label_map)


def read_texts(path: str | Path, text_column: str = "text") -> list[str]:
    """Texts to classify: JSONL/CSV/TSV by ``text_column``, anything else one text per line."""
    path = Path(path)
    suffix = path.suffix.lower()
    content = read_text_file(path)
    if suffix in (".jsonl", ".ndjson"):
        texts = []
        for lineno, rec in iter_json_objects(path, enumerate(content.splitlines(), 1)):
            if not isinstance(rec.get(text_column), str):
                raise DataError(f"{path}: line {lineno}: expected an object with a string field {text_column!r}")
            texts.append(rec[text_column])
        return texts
    if suffix in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(content, newline=""), delimiter="\t" if suffix == ".tsv" else ",")
        if text_column not in (reader.fieldnames or []):
            raise DataError(f"{path}: line 1: no column {text_column!r} in the header")
        try:
            return [row[text_column] or "" for row in reader]
        except csv.Error as e:
            raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({e})") from None
    return content.splitlines()
