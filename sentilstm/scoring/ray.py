"""Scoring on Ray Data (``pip install sentilstm[ray]``)."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sentilstm.scoring.batch import BatchScorer, engine_input, engine_tmp, model_key, require_extra

__all__ = ["score_ray"]


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

    kwargs = {"model_path": model_key(model), "text_column": text_column, "batch_size": batch_size,
              "marker_dir": str(marker_dir) if marker_dir is not None else None,
              "threads": threads if threads is not None else max(1, int(num_cpus))}
    # compute=ActorPoolStrategy(size=n) is what Ray >= 2.51 wants instead of concurrency=n
    return ds.map_batches(BatchScorer, fn_constructor_kwargs=kwargs, batch_size=batch_size, batch_format="pandas",
                          compute=ray.data.ActorPoolStrategy(size=concurrency), num_cpus=num_cpus)


def ray_tables(path: Path, model: str | None, text_column: str, batch_size: int, workers: int) -> Iterator[Any]:
    require_extra("ray")
    import ray
    import ray.data

    tmp = engine_tmp("ray")
    started_here = False
    try:
        source = engine_input(path, text_column, tmp)  # before Ray starts: bad input fails fast
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
