"""Score a whole file into Parquet, locally (constant memory), on Ray or on Spark."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sentilstm.data.files import DataError
from sentilstm.fileio import atomic_output, check_output
from sentilstm.scoring.batch import BatchScorer, read_batches
from sentilstm.scoring.ray import ray_tables
from sentilstm.scoring.spark import spark_tables

__all__ = ["ENGINES", "score_file"]


ENGINES = ("local", "ray", "spark")


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

    from sentilstm.writers import TableWriter, output_format

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
        yield from ray_tables(path, model, text_column, batch_size, workers)
    else:
        yield from spark_tables(path, model, text_column, batch_size, workers)
