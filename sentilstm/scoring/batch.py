"""Batch scoring: one callable that scores a batch, and adapters for Ray Data, Spark and big local files.

:class:`BatchScorer` takes a batch as the engines hand it over (a pandas DataFrame, a dict of
NumPy arrays, or a pyarrow Table) and returns it with the columns ``label``, ``p_negative``,
``p_neutral`` and ``p_positive`` added.  It loads the model lazily, once per process (a
process-wide cache), so a pool of workers holds one model each and the driver, which only
builds the plan, never loads it.  Inference runs on the NumPy runtime: no TensorFlow anywhere.

Adapters (the engines are optional extras: ``pip install sentilstm[ray]`` / ``[spark]``):

* :func:`score_ray`: ``ds.map_batches(BatchScorer, ...)`` on a pool of model-holding actors.
* :func:`score_spark`: ``df.mapInPandas(...)`` for a DataFrame already in Spark.
* :func:`score_file`: a ``.txt`` / ``.jsonl`` / ``.json`` / ``.csv`` / ``.tsv`` / ``.parquet`` file
  to one Parquet (or CSV, JSON) file, chosen by the output's name, with the ``local`` engine
  (streamed in blocks: memory does not grow with the file) or with Ray or Spark
  (``sentilstm predict --file F --engine ... --out scored.parquet``). Every engine reads the input
  through :mod:`sentilstm.data.readers` (Ray and Spark read a Parquet copy it writes), so a file
  means the same as on every other path.

An input column named like an output column (e.g. the gold ``label`` of a labelled file) is
kept, renamed ``<name>_input``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentilstm.data.files import DataError
from sentilstm.data.readers import iter_tables
from sentilstm.fileio import atomic_write_text, sweep_temporaries, temporary_name
from sentilstm.labels import LABELS

__all__ = ["BatchScorer", "OUTPUT_COLUMNS", "read_batches"]

PROB_COLUMNS = tuple(f"p_{lab}" for lab in LABELS)
OUTPUT_COLUMNS = ("label", *PROB_COLUMNS)
EXTRAS = {"ray": ("ray", "ray"), "spark": ("pyspark", "spark")}

_MODELS: dict[str, Any] = {}  # model path -> SentimentClassifier, one per process


def model_key(model_path: str | os.PathLike[str] | None) -> str | None:
    """An absolute path (workers may run elsewhere), or None for the shipped default model."""
    if model_path is None or (str(model_path) == "default" and not Path("default").exists()):
        return None
    path = Path(model_path).expanduser().resolve()
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"{model_path}: not a model bundle (no config.json)")
    return str(path)


class BatchScorer:
    """Score a batch of texts; the model is loaded on first use, once per process.

    ``model_path``: a bundle directory (None: the shipped default model).  ``marker_dir``: if
    given, every model load writes a small JSON file there (process id, host, time), so a job
    can check how often and where the model was loaded.  ``threads``: CPU threads this worker's
    model may use (see :mod:`sentilstm.threads`; None: ``$SENTILSTM_THREADS`` or the process's CPUs).

    >>> BatchScorer()(pd.DataFrame({"text": ["I love it", "awful"]}))   # + label, p_negative, ...
    """

    def __init__(self, model_path: str | os.PathLike[str] | None = None, text_column: str = "text",
                 batch_size: int = 256, marker_dir: str | os.PathLike[str] | None = None,
                 threads: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_path = model_key(model_path)
        self.text_column = text_column
        self.batch_size = batch_size
        self.marker_dir = str(marker_dir) if marker_dir is not None else None
        self.threads = threads

    @property
    def classifier(self) -> Any:
        """The process's classifier for ``model_path`` (loaded now if this process has none yet)."""
        key = f"{self.model_path or 'default'}|threads={self.threads}"
        if key not in _MODELS:
            from sentilstm.classifier import load

            started = time.perf_counter()
            _MODELS[key] = load(self.model_path, threads=self.threads)
            if self.marker_dir is not None:
                atomic_write_text(Path(self.marker_dir) / f"load-{os.getpid()}-{uuid.uuid4().hex[:8]}.json",
                                  json.dumps({"pid": os.getpid(), "host": os.uname().nodename, "model": key,
                                              "seconds": round(time.perf_counter() - started, 3)}))
        return _MODELS[key]

    def score_texts(self, texts: Sequence[Any]) -> tuple[list[str], np.ndarray]:
        """``(labels, probabilities (n, 3) float32)`` for ``texts``; a non-string item is an error."""
        items = list(texts)
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise DataError(f"batch row {i}: column {self.text_column!r} holds {t!r:.40} "
                                f"({type(t).__name__}); expected a string")
        if not items:
            return [], np.zeros((0, len(LABELS)), np.float32)
        probs = self.classifier.predict_proba(items, batch_size=self.batch_size)
        return [LABELS[i] for i in probs.argmax(axis=1)], probs.astype(np.float32)

    def __call__(self, batch: Any) -> Any:
        """``batch`` (pandas DataFrame, dict of arrays, pyarrow Table/RecordBatch) plus the output columns."""
        if isinstance(batch, dict):
            texts = self._column(batch, list(batch))
            labels, probs = self.score_texts(texts)
            out = {input_name(k): v for k, v in batch.items()}
            out.update(_outputs(labels, probs))
            return out
        mod = type(batch).__module__.split(".")[0]
        if mod == "pandas":
            labels, probs = self.score_texts(self._column(batch, list(batch.columns)).tolist())
            renamed = batch.rename(columns={c: input_name(c) for c in batch.columns if c in OUTPUT_COLUMNS})
            return renamed.assign(**_outputs(labels, probs))
        if mod == "pyarrow":
            import pyarrow as pa

            table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
            labels, probs = self.score_texts(self._column(table, table.column_names).to_pylist())
            table = table.rename_columns([input_name(c) for c in table.column_names])
            for name, values in _outputs(labels, probs).items():
                table = table.append_column(name, pa.array(values, pa.string() if name == "label" else pa.float32()))
            return table
        raise TypeError(f"BatchScorer takes a pandas DataFrame, a dict of arrays or a pyarrow Table, "
                        f"got {type(batch).__name__}")

    def _column(self, batch: Any, columns: list[str]) -> Any:
        if self.text_column not in columns:
            raise DataError(f"no column {self.text_column!r} in the batch (columns: {', '.join(map(str, columns))})")
        return batch[self.text_column] if not hasattr(batch, "column_names") else batch.column(self.text_column)

    def __repr__(self) -> str:
        return f"BatchScorer(model_path={self.model_path!r}, text_column={self.text_column!r})"


def input_name(column: str) -> str:
    return f"{column}_input" if column in OUTPUT_COLUMNS else column


def _outputs(labels: list[str], probs: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"label": np.asarray(labels, dtype=object)}
    for k, name in enumerate(PROB_COLUMNS):
        out[name] = probs[:, k]
    return out


def require_extra(engine: str) -> Any:
    """Import the engine's package, or say which extra installs it."""
    module, extra = EXTRAS[engine]
    try:
        return __import__(module)
    except ImportError:
        raise RuntimeError(f"the {engine} engine needs {module}, which is not installed: "
                           f"pip install sentilstm[{extra}]") from None


# -- files --------------------------------------------------------------------------------------
def read_batches(path: str | os.PathLike[str], text_column: str = "text", block_bytes: int = 1 << 20) -> Iterator[Any]:
    """Stream ``path`` as pyarrow Tables of bounded size: memory does not grow with the file.

    Read by :func:`sentilstm.data.readers.iter_tables`, the reader every other path uses too:
    ``.txt`` (and any other suffix) one text per line (column ``text``), ``.jsonl`` / ``.json``
    records, ``.csv`` / ``.tsv`` all columns as strings, ``.parquet`` as stored.
    """
    yield from iter_tables(path, text_column, block_bytes)


def engine_input(path: Path, text_column: str, tmp: Path) -> Path:
    """``path`` read by our reader into a Parquet file under ``tmp``, for Ray Data or Spark to read.

    The engines read that file, never the user's: a file means the same on every path.
    """
    import pyarrow.parquet as pq

    if path.suffix.lower() == ".parquet":
        for _ in read_batches(path, text_column):  # checks the text column on every row
            pass
        return path
    out = tmp / "input.parquet"
    writer: Any = None
    try:
        for table in read_batches(path, text_column):
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema)
            elif table.schema != writer.schema:
                table = table.cast(writer.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise DataError(f"{path}: empty input, nothing to classify")
    return out


def engine_tmp(engine: str) -> Path:
    """A recognisable temporary directory for an engine's intermediate files (swept once its process is gone)."""
    base = Path(tempfile.gettempdir()) / f"sentilstm-{engine}"
    sweep_temporaries(base)
    tmp = base.parent / temporary_name(base.name)
    tmp.mkdir()
    return tmp


