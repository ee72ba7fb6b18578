"""Scoring on Spark (``pip install sentilstm[spark]``; Java 17+)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sentilstm.data.files import DataError
from sentilstm.scoring.batch import (
    BatchScorer, PROB_COLUMNS, engine_input, engine_tmp, input_name, require_extra,
)

__all__ = ["score_spark"]


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
    fields = [StructField(input_name(f.name), f.dataType, f.nullable) for f in df.schema.fields]
    fields += [StructField("label", StringType())] + [StructField(c, FloatType()) for c in PROB_COLUMNS]

    def score_partition(batches: Iterator[Any]) -> Iterator[Any]:
        for pdf in batches:
            yield scorer(pdf)

    return df.mapInPandas(score_partition, StructType(fields))


def spark_tables(path: Path, model: str | None, text_column: str, batch_size: int, workers: int) -> Iterator[Any]:
    require_extra("spark")
    import pyarrow.parquet as pq
    from pyspark.sql import SparkSession

    tmp = engine_tmp("spark")
    try:
        source = engine_input(path, text_column, tmp)  # before Spark starts: bad input fails fast
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
