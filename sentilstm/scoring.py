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
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .data.files import DataError
from .fileio import atomic_output, atomic_write_text, check_output, sweep_temporaries, temporary_name
from .labels import LABELS

__all__ = ["BatchScorer", "OUTPUT_COLUMNS", "ENGINES", "score_ray", "score_spark", "score_file", "read_batches"]

PROB_COLUMNS = tuple(f"p_{lab}" for lab in LABELS)
OUTPUT_COLUMNS = ("label", *PROB_COLUMNS)
ENGINES = ("local", "ray", "spark")
EXTRAS = {"ray": ("ray", "ray"), "spark": ("pyspark", "spark")}

_MODELS: dict[str, Any] = {}  # model path -> SentimentClassifier, one per process


def _model_key(model_path: str | os.PathLike[str] | None) -> str | None:
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
        self.model_path = _model_key(model_path)
        self.text_column = text_column
        self.batch_size = batch_size
        self.marker_dir = str(marker_dir) if marker_dir is not None else None
        self.threads = threads

    @property
    def classifier(self) -> Any:
        """The process's classifier for ``model_path`` (loaded now if this process has none yet)."""
        key = f"{self.model_path or 'default'}|threads={self.threads}"
        if key not in _MODELS:
            from .classifier import load

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
            out = {_input_name(k): v for k, v in batch.items()}
            out.update(_outputs(labels, probs))
            return out
        mod = type(batch).__module__.split(".")[0]
        if mod == "pandas":
            labels, probs = self.score_texts(self._column(batch, list(batch.columns)).tolist())
            renamed = batch.rename(columns={c: _input_name(c) for c in batch.columns if c in OUTPUT_COLUMNS})
            return renamed.assign(**_outputs(labels, probs))
        if mod == "pyarrow":
            import pyarrow as pa

            table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
            labels, probs = self.score_texts(self._column(table, table.column_names).to_pylist())
            table = table.rename_columns([_input_name(c) for c in table.column_names])
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


def _input_name(column: str) -> str:
    return f"{column}_input" if column in OUTPUT_COLUMNS else column


def _outputs(labels: list[str], probs: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"label": np.asarray(labels, dtype=object)}
    for k, name in enumerate(PROB_COLUMNS):
        out[name] = probs[:, k]
    return out


def _require(engine: str) -> Any:
    """Import the engine's package, or say which extra installs it."""
    module, extra = EXTRAS[engine]
    try:
        return __import__(module)
    except ImportError:
        raise RuntimeError(f"the {engine} engine needs {module}, which is not installed: "
                           f"pip install sentilstm[{extra}]") from None


# -- Ray Data -----------------------------------------------------------------------------------
def score_ray(ds: Any, model: str | os.PathLike[str] | None = None, text_column: str = "text",
              batch_size: int = 256, concurrency: int = 2, num_cpus: float = 0.5,
              marker_dir: str | os.PathLike[str] | None = None, threads: int | None = None) -> Any:
    """``ds`` (a ``ray.data.Dataset``) with the output columns, scored by ``concurrency`` actors.

    Each actor holds one model.  ``num_cpus`` per actor is fractional by default: with whole
    CPUs on a small machine the actors can take every CPU and leave none for reading, which
    deadlocks.  ``threads`` per actor: its share, ``num_cpus`` rounded down (at least 1), unless
    given.  Lazy, like every Ray Data transform: nothing runs until the result is consumed.
    """
    import ray.data

    kwargs = {"model_path": _model_key(model), "text_column": text_column, "batch_size": batch_size,
              "marker_dir": str(marker_dir) if marker_dir is not None else None,
              "threads": threads if threads is not None else max(1, int(num_cpus))}
    # compute=ActorPoolStrategy(size=n) is what Ray >= 2.51 wants instead of concurrency=n
    return ds.map_batches(BatchScorer, fn_constructor_kwargs=kwargs, batch_size=batch_size, batch_format="pandas",
                          compute=ray.data.ActorPoolStrategy(size=concurrency), num_cpus=num_cpus)


# -- Spark --------------------------------------------------------------------------------------
def score_spark(df: Any, model: str | os.PathLike[str] | None = None, text_col: str = "text",
                batch_size: int = 256, marker_dir: str | os.PathLike[str] | None = None,
                threads: int | None = None) -> Any:
    """``df`` (a Spark DataFrame) with the output columns, via ``mapInPandas``.

    The Python workers import ``sentilstm`` and load the model once per worker process
    (Spark reuses its Python workers across tasks by default).  ``threads`` per worker: its
    task's share, ``spark.task.cpus`` (default 1), unless given.  Lazy, like every Spark transform.
    """
    from pyspark.sql.types import FloatType, StringType, StructField, StructType

    if text_col not in df.columns:
        raise DataError(f"no column {text_col!r} in the DataFrame (columns: {', '.join(df.columns)})")
    if threads is None:
        threads = max(1, int(df.sparkSession.conf.get("spark.task.cpus", "1")))
    scorer = BatchScorer(model, text_col, batch_size, marker_dir, threads=threads)
    fields = [StructField(_input_name(f.name), f.dataType, f.nullable) for f in df.schema.fields]
    fields += [StructField("label", StringType())] + [StructField(c, FloatType()) for c in PROB_COLUMNS]

    def score_partition(batches: Iterator[Any]) -> Iterator[Any]:
        for pdf in batches:
            yield scorer(pdf)

    return df.mapInPandas(score_partition, StructType(fields))


# -- files --------------------------------------------------------------------------------------
def read_batches(path: str | os.PathLike[str], text_column: str = "text", block_bytes: int = 1 << 20) -> Iterator[Any]:
    """Stream ``path`` as pyarrow Tables of bounded size: memory does not grow with the file.

    Read by :func:`sentilstm.data.readers.iter_tables`, the reader every other path uses too:
    ``.txt`` (and any other suffix) one text per line (column ``text``), ``.jsonl`` / ``.json``
    records, ``.csv`` / ``.tsv`` all columns as strings, ``.parquet`` as stored.
    """
    from .data.readers import iter_tables

    yield from iter_tables(path, text_column, block_bytes)


def _engine_input(path: Path, text_column: str, tmp: Path) -> Path:
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


def score_file(path: str | os.PathLike[str], out_path: str | os.PathLike[str], model: str | None = None,
               text_column: str = "text", batch_size: int = 256, engine: str = "local",
               workers: int | None = None, block_bytes: int = 1 << 20, out_format: str | None = None,
               overwrite: bool = False, threads: int | None = None) -> dict[str, Any]:
    """Score every text of ``path`` into the file ``out_path`` (written atomically); a summary.

    Output: the input's columns (``text`` for a .txt file) in input order, plus ``label`` and
    ``p_negative`` / ``p_neutral`` / ``p_positive`` (float32), as Parquet, CSV, TSV, JSON Lines
    or a JSON array: ``out_format``, else by ``out_path``'s suffix (see :mod:`sentilstm.writers`).
    ``out_path`` is checked before anything is read or scored: it may not be an input of this
    run, and an existing file is replaced only if sentilstm wrote it, or with ``overwrite``.
    ``engine``: ``local`` (this process, streaming blocks of ``block_bytes``), ``ray`` or
    ``spark`` (local mode with ``workers`` workers if no Ray / Spark session is running yet,
    else the running one).  ``threads``: the local engine's threads (see :mod:`sentilstm.threads`);
    Ray and Spark workers get their share of the CPUs instead.
    """
    import pyarrow as pa

    from .writers import TableWriter, output_format

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    path, out_path = Path(path), Path(out_path)
    inputs = [path, model]
    check_output(out_path, "scores", overwrite=overwrite, inputs=inputs)  # before any reading or scoring
    fmt = output_format(out_path, out_format)
    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    rows = 0
    with atomic_output(out_path, "scores", overwrite=overwrite, inputs=inputs) as tmp:
        writer = TableWriter(tmp, fmt)
        try:
            for table in _scored_tables(engine, path, model, text_column, batch_size, workers, block_bytes,
                                        threads):
                if writer.schema is not None and table.schema != writer.schema:
                    try:
                        table = table.cast(writer.schema)
                    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as e:
                        raise DataError(f"{path}: rows after {rows} have other column types than the first rows "
                                        f"({str(e).splitlines()[0]})") from None
                writer.write(table)
                rows += table.num_rows
        finally:
            writer.close()
        if rows == 0:
            raise DataError(f"{path}: empty input, nothing to classify")
    return {"engine": engine, "input": str(path), "output": str(out_path), "format": fmt, "rows": rows,
            "seconds": round(time.perf_counter() - started, 2)}


def _scored_tables(engine: str, path: Path, model: str | None, text_column: str, batch_size: int, workers: int,
                   block_bytes: int, threads: int | None = None) -> Iterator[Any]:
    """Scored pyarrow Tables, in input order, from the chosen engine."""
    if engine == "local":
        scorer = BatchScorer(model, text_column, batch_size, threads=threads)
        for table in read_batches(path, text_column, block_bytes):
            yield scorer(table)
        return
    if engine == "ray":
        yield from _ray_tables(path, model, text_column, batch_size, workers)
    else:
        yield from _spark_tables(path, model, text_column, batch_size, workers)


def _ray_tables(path: Path, model: str | None, text_column: str, batch_size: int, workers: int) -> Iterator[Any]:
    _require("ray")
    import ray
    import ray.data

    tmp = _engine_tmp("ray")
    started_here = False
    try:
        source = _engine_input(path, text_column, tmp)  # before Ray starts: bad input fails fast
        started_here = not ray.is_initialized()
        if started_here:
            # At least 2 logical CPUs: Ray Data's read stages (ListFiles, ReadFiles) take a whole CPU each, and
            # one 0.5-CPU actor on a 1-CPU session left none for them (--workers 1 waited for ever).
            ray.init(num_cpus=max(2, workers), include_dashboard=False, log_to_driver=False, configure_logging=False)
            logging.getLogger("ray.data").setLevel(logging.WARNING)  # our session: no per-stage progress logs
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # rows come back in input order
        ds = ray.data.read_parquet(str(source))
        scored = score_ray(ds, model, text_column, batch_size, concurrency=workers, num_cpus=0.5)
        yield from scored.iter_batches(batch_format="pyarrow", batch_size=None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if started_here:
            ray.shutdown()


def _engine_tmp(engine: str) -> Path:
    """A recognisable temporary directory for an engine's intermediate files (swept once its process is gone)."""
    base = Path(tempfile.gettempdir()) / f"sentilstm-{engine}"
    sweep_temporaries(base)
    tmp = base.parent / temporary_name(base.name)
    tmp.mkdir()
    return tmp


def _spark_tables(path: Path, model: str | None, text_column: str, batch_size: int, workers: int) -> Iterator[Any]:
    _require("spark")
    import pyarrow.parquet as pq
    from pyspark.sql import SparkSession

    tmp = _engine_tmp("spark")
    try:
        source = _engine_input(path, text_column, tmp)  # before Spark starts: bad input fails fast
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    started_here = SparkSession.getActiveSession() is None
    # Python workers of a local session run $PYSPARK_PYTHON (else "python3" from PATH, which in a
    # virtual environment that is not activated lacks our dependencies; the builder's
    # spark.pyspark.python is read by spark-submit only): default to this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = None
    try:
        spark = (SparkSession.builder.master(f"local[{workers}]").appName("sentilstm-score")
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false").getOrCreate())
        if started_here:
            spark.sparkContext.setLogLevel("ERROR")
        scored = score_spark(spark.read.parquet(str(source)), model, text_column, batch_size)
        # Spark writes part files in partition order (= file order); stream them back one by one.
        scored.write.mode("overwrite").parquet(str(tmp / "out"))
        for part in sorted((tmp / "out").glob("part-*.parquet")):
            pf = pq.ParquetFile(part)
            for i in range(pf.num_row_groups):
                yield pf.read_row_group(i)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if started_here and spark is not None:
            spark.stop()
