"""Fast batch inference: the ONNX graph of :mod:`sentilstm.onnx_graph` run by onnxruntime.

Where the time goes (default model, 2-core CPU): normalising and tokenising a tweet costs about
as much CPU as the BiLSTM on it, and the normaliser is Python (one core, under the GIL), while
onnxruntime runs without the GIL.  So :meth:`OnnxRuntime.predict_texts` pipelines: the calling
thread normalises and tokenises window k+1 while worker threads run window k's length buckets
through one shared session (one onnxruntime thread per worker: on a small shared machine that
beat onnxruntime's own intra-op threads, which spin and contend).  How many workers: the thread
policy of :mod:`sentilstm.threads` (``threads=`` / ``SENTILSTM_THREADS`` / the process's CPUs).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from .config import ModelConfig
from .labels import LABELS
from .threads import available_cores, limit_tokenizer_threads, resolve_threads
from .tokenizer import TextEncoder

__all__ = ["OnnxRuntime", "onnxruntime_available", "available_cores", "MAX_BATCH"]

# Texts per onnxruntime call at most: its LSTM runs as fast per text at 64-256 (measured, CPU
# time), and smaller batches pad less within a window and spread better over the workers.
MAX_BATCH = 128


def onnxruntime_available() -> bool:
    """Whether onnxruntime is installed (checked without importing it)."""
    return importlib.util.find_spec("onnxruntime") is not None


class OnnxRuntime:
    """An onnxruntime session over the classifier's ONNX graph, with bucketed, pipelined batches."""

    def __init__(self, model: bytes, workers: int | None = None) -> None:
        """``model``: the serialized graph; ``workers``: threads, resolved by :func:`~sentilstm.threads.resolve_threads`."""
        import onnxruntime as ort

        self.workers = resolve_threads(workers)
        limit_tokenizer_threads(self.workers)

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # parallelism comes from our worker threads (see module doc)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3  # errors only: no warnings on stderr of the CLI
        self.session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    @classmethod
    def from_weights(cls, config: ModelConfig, weights: dict[str, np.ndarray],
                     workers: int | None = None) -> "OnnxRuntime":
        from .onnx_graph import onnx_bytes

        return cls(onnx_bytes(config, weights), workers)

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """Class probabilities ``(batch, 3)`` for right-padded token ids ``(batch, time)``."""
        return self.session.run(None, {self.input_name: np.asarray(ids, dtype=np.int64)})[0]

    def predict_seqs(self, seqs: Sequence[Sequence[int]], batch_size: int = MAX_BATCH) -> np.ndarray:
        """Probabilities of token-id sequences, bucketed by length, in input order."""
        return self.predict_texts(seqs, list, batch_size, first_window=len(seqs) or 1)

    def predict_texts(self, texts: Sequence[Any], encode: Callable[[Sequence[Any]], list[list[int]]],
                      batch_size: int = MAX_BATCH, first_window: int = 1024, window: int = 4096) -> np.ndarray:
        """Probabilities of ``texts`` in input order; ``encode`` turns a slice of them into token ids.

        Texts are taken in windows (the first of ``first_window`` texts, so the workers start
        early, then doubling up to ``window``); each window is encoded, sorted by length and cut
        into batches of at most ``batch_size`` (capped at ``MAX_BATCH``) padded to their own
        longest text, so padding wastes little work.  The batches run on the worker threads
        while the next window is encoded.
        """
        batch_size = max(1, min(batch_size, MAX_BATCH))
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)

        def run(idx: np.ndarray, ids: np.ndarray) -> None:
            out[idx] = self(ids)

        previous: list[Future[None]] = []
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sentilstm-onnx")
        try:
            start, size = 0, max(1, first_window)
            while start < len(texts):
                seqs = encode(texts[start : start + size])
                current = [pool.submit(run, idx + start, ids)
                           for idx, ids in TextEncoder.buckets(seqs, batch_size, multiple=1)]
                for f in previous:  # at most two windows in flight: memory stays bounded
                    f.result()  # re-raises a worker's exception here
                previous = current
                start, size = start + size, max(size, min(2 * size, window))
            for f in previous:
                f.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # on an error or Ctrl-C, drop queued batches
        return out
