"""Thread policy: how many threads sentilstm's inference uses, decided in one place.

``threads`` (the CPU threads one process may keep busy) comes from, first to last:

1. the ``threads=`` argument (``sentilstm.load(..., threads=N)``, ``--threads N`` on the CLI);
2. the ``SENTILSTM_THREADS`` environment variable;
3. the CPUs this process may run on (``os.sched_getaffinity``: a container's or ``taskset``'s
   share, not the machine's count),

and is never more than those CPUs (an argument or variable above them is clamped to them).  It is spent so:

* **onnxruntime** (batches of 64+ texts): ``threads`` worker threads, each running whole batches
  through one shared session with ``intra_op_num_threads = inter_op_num_threads = 1``.  Thread
  pools inside onnxruntime spin while they wait; on a shared machine that spinning steals the
  cores the other threads need, and one-thread sessions on our own workers measured faster.
* **BLAS** (the NumPy engine, a few texts at a time): one thread, always.  Its matrices are
  small (batch x units); OpenBLAS's extra threads only synchronise, and with a busy neighbour
  process they collapse it (measured on 2 cores: 2,652 texts/s with one BLAS thread against 393
  with two, on the 2,000 dev tweets).  Set per call with ``threadpoolctl`` and restored after.
* **tokenizers** (its Rust thread pool for ``encode_batch``): ``RAYON_NUM_THREADS`` is set to
  ``threads`` when the first classifier resolves its threads, unless the variable is already
  set (the pool is made once per process, on first use).

Workers of the Ray and Spark scorers each get their share: an actor its ``num_cpus`` (at least
one thread), a Spark task ``spark.task.cpus``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

__all__ = ["ENV", "available_cores", "resolve_threads", "single_blas_thread", "limit_tokenizer_threads"]

ENV = "SENTILSTM_THREADS"


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The thread count to use: ``threads``, else ``$SENTILSTM_THREADS``, else the available
    cores; clamped to ``1 .. available_cores()``.  A malformed or non-positive value is a
    ``ValueError`` naming where it came from."""
    cores = available_cores()
    if threads is not None:
        source, value = "threads", threads
    else:
        raw = (os.environ if environ is None else environ).get(ENV, "").strip()
        if not raw:
            return cores
        source = f"${ENV}"
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{source}={raw!r}: expected a whole number of threads >= 1") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{source} must be a whole number >= 1, got {value!r}")
    return min(value, cores)


def limit_tokenizer_threads(threads: int) -> None:
    """Cap the ``tokenizers`` Rust thread pool at ``threads`` unless ``RAYON_NUM_THREADS`` is set
    already (effective if no batch was encoded yet in this process)."""
    os.environ.setdefault("RAYON_NUM_THREADS", str(max(1, threads)))


_CONTROLLER: list = []  # one threadpoolctl controller per process: finding the libraries costs ~15 ms


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """BLAS on one thread inside the block (restored after): NumPy inference does small matmuls."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=1, user_api="blas"):
        yield
