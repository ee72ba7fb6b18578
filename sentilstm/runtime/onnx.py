"""Fast batch inference: the ONNX graph of :mod:`sentilstm.runtime.onnx` run by onnxruntime.

Where the time goes (default model, 2-core CPU): normalising and tokenising a tweet costs about
as much CPU as the BiLSTM on it, and the normaliser is Python (one core, under the GIL), while
onnxruntime runs without the GIL.  So :meth:`OnnxRuntime.predict_texts` pipelines: the calling
thread normalises and tokenises window k+1 while worker threads run window k's length buckets
through one shared session (one onnxruntime thread per worker: on a small shared machine that
beat onnxruntime's own intra-op threads, which spin and contend).  How many workers: the thread
policy of :mod:`sentilstm.threads` (``threads=`` / ``SENTILSTM_THREADS`` / the process's CPUs).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from sentilstm.config import ModelConfig
from sentilstm.labels import LABELS
from sentilstm.runtime.layout import TOP_SCALE_WEIGHTS, member_prefixes
from sentilstm.runtime.numpy import TINY, Member  # the weights of one (ensemble member) network
from sentilstm.threads import available_cores, limit_tokenizer_threads, resolve_threads
from sentilstm.tokenizer import TextEncoder

__all__ = [
    "OnnxRuntime", "onnxruntime_available", "available_cores", "MAX_BATCH", "build_onnx_model",
    "onnx_bytes", "INPUT_NAME", "OUTPUT_NAME", "OPSET",
]

# Texts per onnxruntime call at most: its LSTM runs as fast per text at 64-256 (measured, CPU
# time), and smaller batches pad less within a window and spread better over the workers.
MAX_BATCH = 128


# While texts are encoded on the calling thread (Python, holding the GIL), a worker whose
# onnxruntime call has returned waits for the GIL until the calling thread is made to drop it,
# after Python's switch interval (5 ms by default): a core idle for up to 5 ms per batch of
# MAX_BATCH texts.  predict_texts shortens the interval to this for its own duration (measured on
# 2 cores, 50,000 tweets: 1.93 instead of 1.88 cores busy; end to end / network alone 0.832
# instead of 0.808, median of 6 interleaved pairs, higher in each).  Python's interval is
# process-wide, so it is put back when the last predict_texts running in this process returns.
SWITCH_INTERVAL_S = 0.0005
_switch_lock = threading.Lock()
_switch_state = {"running": 0, "saved": 0.0}


@contextlib.contextmanager
def _short_switch_interval() -> Iterator[None]:
    with _switch_lock:
        if _switch_state["running"] == 0:
            _switch_state["saved"] = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH_INTERVAL_S, _switch_state["saved"]))
        _switch_state["running"] += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_state["running"] -= 1
            if _switch_state["running"] == 0:
                sys.setswitchinterval(_switch_state["saved"])


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
        with _short_switch_interval():  # see SWITCH_INTERVAL_S
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


INPUT_NAME, OUTPUT_NAME = "token_ids", "probabilities"


OPSET = 17  # ReduceMax takes axes as an attribute up to 17; onnxruntime >= 1.13 runs it


IR_VERSION = 8  # the IR of opset 17, so older runtimes can load the file too


NEG = -1e9  # the "minus infinity" of masked max and attention, as in MaskedPooling


def _onnx_lstm_weights(kernel: np.ndarray, rec: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keras ``(in, 4u)``/``(u, 4u)``/``(4u,)`` in gate order [i, f, c, o] -> ONNX W, R, B rows [i, o, f, c]."""
    units = rec.shape[0]

    def reorder(m: np.ndarray) -> np.ndarray:  # rows grouped per gate: (4u, ...) [i,f,c,o] -> [i,o,f,c]
        g = m.reshape(4, units, *m.shape[1:])
        return np.concatenate([g[0], g[3], g[1], g[2]], axis=0)

    w = reorder(kernel.T)  # (4u, in)
    r = reorder(rec.T)  # (4u, u)
    b = np.concatenate([reorder(bias), np.zeros(4 * units, np.float32)])  # Wb = Keras bias, Rb = 0
    return w, r, b


# ONNX TensorProto.DataType and AttributeProto.AttributeType codes (onnx/onnx.proto)
FLOAT, INT32, INT64, BOOL = 1, 6, 7, 9


_DTYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.int32): INT32, np.dtype(np.int64): INT64,
           np.dtype(np.bool_): BOOL}


_ATTR_FLOAT, _ATTR_INT, _ATTR_STRING, _ATTR_FLOATS, _ATTR_INTS = 1, 2, 3, 6, 7


class _Graph:
    """A small builder: unique names, initializers and nodes of one ONNX graph, as plain data.

    ``nodes``: ``(op_type, inputs, outputs, attributes)``; ``inits``: ``(name, array)``.
    """

    def __init__(self) -> None:
        self.nodes: list[tuple[str, list[str], list[str], dict[str, Any]]] = []
        self.inits: list[tuple[str, np.ndarray]] = []
        self._shared: dict[Any, str] = {}
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint: str, value: Any) -> str:
        """An initializer; small constants (axes, shapes, scalars) are made once and shared."""
        value = np.ascontiguousarray(value)
        key = ("const", value.dtype.str, value.shape, value.tobytes()) if value.size <= 8 else None
        if key in self._shared:
            return self._shared[key]
        name = self.name(hint)
        self.inits.append((name, value))
        if key is not None:
            self._shared[key] = name
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, **attrs: Any) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append((op_type, list(inputs), [out], attrs))
        return out

    def shared(self, key: str, build: Callable[[], str]) -> str:
        """The output of ``build()``, made the first time ``key`` is asked for (masks the members share)."""
        if key not in self._shared:
            self._shared[key] = build()
        return self._shared[key]


class _Masks:
    """Padding masks and counts from the token ids, each built on first use and shared by members.

    ``T`` time, ``B`` batch; the 4-d ones broadcast over the LSTM output ``Y [T, dirs, B, u]``.
    """

    def __init__(self, g: _Graph, ids_tb: str) -> None:
        self.g, self.ids_tb = g, ids_tb

    def mask(self) -> str:  # bool [T, B], true on tokens
        g = self.g
        return g.shared("mask", lambda: g.op("Not", [g.op("Equal", [self.ids_tb, g.const("pad", np.int64(0))])]))

    def maskf(self) -> str:  # the same as float 0/1
        return self.g.shared("maskf", lambda: self.g.op("Cast", [self.mask()], to=FLOAT))

    def count(self) -> str:  # [B] tokens per text
        g = self.g
        return g.shared("count", lambda: g.op("ReduceSum", [self.maskf(), g.const("axes", np.array([0], np.int64))],
                                               keepdims=0))

    def seq_lens(self) -> str:  # the LSTM's sequence_lens
        return self.g.shared("seq_lens", lambda: self.g.op("Cast", [self.count()], to=INT32))

    def _count3(self) -> str:  # [1, B, 1]
        g = self.g
        shape = g.const("shape", np.array([1, -1, 1], np.int64))
        return g.shared("count3", lambda: g.op("Reshape", [self.count(), shape]))

    def nonempty3(self) -> str:  # [1, B, 1]: the text has a token
        g = self.g
        return g.shared("nonempty3", lambda: g.op("Greater", [self._count3(), g.const("zero", np.float32(0))]))

    def count_clip3(self) -> str:  # [1, B, 1]: max(count, 1), the divisor of mean pooling
        g = self.g
        return g.shared("count_clip3", lambda: g.op("Max", [self._count3(), g.const("one", np.float32(1))]))

    def maskf4(self) -> str:  # [T, 1, B, 1]
        g = self.g
        axes = g.const("axes", np.array([1, 3], np.int64))
        return g.shared("maskf4", lambda: g.op("Unsqueeze", [self.maskf(), axes]))

    def neg_bias4(self) -> str:  # [T, 1, B, 1]: 0 on tokens, -1e9 on padding
        g = self.g
        return g.shared("neg_bias4", lambda: g.op("Mul", [g.op("Sub", [g.const("one", np.float32(1)), self.maskf4()]),
                                                          g.const("neg", np.float32(NEG))]))

    def mask3(self) -> str:  # bool [T, B, 1]
        g = self.g
        return g.shared("mask3", lambda: g.op("Unsqueeze", [self.mask(), g.const("axes", np.array([2], np.int64))]))

    def maskf3(self) -> str:  # float [T, B, 1]
        g = self.g
        return g.shared("maskf3", lambda: g.op("Unsqueeze", [self.maskf(), g.const("axes", np.array([2], np.int64))]))


def _member(g: _Graph, config: ModelConfig, m: Member, ids_tb: str, masks: _Masks, tag: str) -> str:
    """Nodes of one member; returns the name of its probabilities ``[batch, 3]``."""
    seq_lens = masks.seq_lens()
    x = g.op("Gather", [g.const(f"{tag}embeddings", m.embeddings), ids_tb], f"{tag}embedded")  # [T, B, E]
    for layer, directions in enumerate(m.layers):
        parts = [_onnx_lstm_weights(k, r, b) for k, r, b, _ in directions]  # forward first, then backward
        w, r, b = (np.stack([p[i] for p in parts]) for i in range(3))
        dirs, units = len(parts), r.shape[-1]
        y = g.op("LSTM", [x, g.const(f"{tag}W{layer}", w), g.const(f"{tag}R{layer}", r), g.const(f"{tag}B{layer}", b),
                          seq_lens], f"{tag}lstm{layer}", hidden_size=units,
                 direction="bidirectional" if dirs == 2 else "forward")  # Y: [T, dirs, B, u]
        if layer < len(m.layers) - 1 or "attention" in config.pooling:
            # [T, B, dirs * u], forward units then backward ones, as Keras concatenates them
            x = g.op("Reshape", [g.op("Transpose", [y], perm=[0, 2, 1, 3]),
                                 g.const("shape", np.array([0, 0, dirs * units], np.int64))])

    def batch_major(pooled: str) -> str:  # [dirs, B, u] -> [B, dirs * u]
        return g.op("Flatten", [g.op("Transpose", [pooled], perm=[1, 0, 2])], axis=1)

    # max and mean pool Y as the LSTM gives it, [T, dirs, B, u], over axis 0: transposing the
    # whole sequence to batch-major first costs onnxruntime more than the pooling (measured).
    axis0 = g.const("axes", np.array([0], np.int64))
    pooled = []
    for mode in config.pooling:
        if mode == "max":  # padded steps get -1e9 added; an all-padding row pools to 0
            mx = g.op("ReduceMax", [g.op("Add", [y, masks.neg_bias4()])], axes=[0], keepdims=0)  # [dirs, B, u]
            pooled.append(batch_major(g.op("Where", [masks.nonempty3(), mx, g.const("zero", np.float32(0))])))
        elif mode == "mean":
            total = g.op("ReduceSum", [g.op("Mul", [y, masks.maskf4()]), axis0], keepdims=0)  # [dirs, B, u]
            pooled.append(batch_major(g.op("Div", [total, masks.count_clip3()])))
        else:  # additive attention on x [T, B, C]: softmax over unpadded steps of v·tanh(W h + b)
            k, b, v = m.att
            hidden = g.op("Tanh", [g.op("Add", [g.op("MatMul", [x, g.const(f"{tag}att_kernel", k)]),
                                                g.const(f"{tag}att_bias", b)])])  # [T, B, A]
            scores = g.op("MatMul", [hidden, g.const(f"{tag}att_vector", v.reshape(-1, 1))])  # [T, B, 1]
            scores = g.op("Where", [masks.mask3(), scores, g.const("neg", np.float32(NEG))])
            weights = g.op("Mul", [g.op("Softmax", [scores], axis=0), masks.maskf3()])
            pooled.append(g.op("ReduceSum", [g.op("Mul", [x, weights]), axis0], keepdims=0))  # [B, C]
    feats = pooled[0] if len(pooled) == 1 else g.op("Concat", pooled, f"{tag}pooled", axis=1)
    logits = g.op("Gemm", [feats, g.const(f"{tag}head_kernel", m.head_kernel), g.const(f"{tag}head_bias", m.head_bias)],
                  f"{tag}logits")
    return g.op("Softmax", [logits], f"{tag}probabilities", axis=1)


DOC = ("sentilstm sentiment classifier: token_ids int64 [batch, time] (right-padded with 0) "
       "-> probabilities [batch, 3] (negative, neutral, positive)")


PRODUCER = "sentilstm"


def _graph(config: ModelConfig, weights: dict[str, np.ndarray]) -> _Graph:
    """The classifier's nodes and initializers, as plain data."""
    prefixes = member_prefixes(config)
    try:
        members = [Member(config, weights, p) for p in prefixes]
    except KeyError as e:
        raise ValueError(f"weights lack {e}, required by the model config") from None
    g = _Graph()
    ids_tb = g.op("Transpose", [INPUT_NAME], "ids_time_major", perm=[1, 0])  # [T, B]: the LSTM is time-major
    masks = _Masks(g, ids_tb)
    probs = [_member(g, config, m, ids_tb, masks, p) for m, p in zip(members, prefixes)]
    top = weights.get(TOP_SCALE_WEIGHTS)
    if top is None:
        g.nodes.append(("Mean" if len(probs) > 1 else "Identity", probs, [OUTPUT_NAME], {}))
        return g
    # the calibration's temperature per class (runtime.numpy.top_temperature):
    # softmax(s * log max(p, TINY)) with s = (p² @ top_scale) / Σ p²
    p = g.op("Mean", probs) if len(probs) > 1 else probs[0]
    sq = g.op("Mul", [p, p])
    s = g.op("Div", [g.op("MatMul", [sq, g.const("top_scale", np.asarray(top, dtype=np.float32).reshape(len(LABELS), 1))]),
                     g.op("ReduceSum", [sq, g.const("axes", np.array([1], np.int64))], keepdims=1)])  # [B, 1]
    logp = g.op("Log", [g.op("Max", [p, g.const("tiny", np.array(TINY, np.float32))])])
    g.nodes.append(("Softmax", [g.op("Mul", [logp, s])], [OUTPUT_NAME], {"axis": 1}))
    return g


def build_onnx_model(config: ModelConfig, weights: dict[str, np.ndarray], name: str = "sentilstm") -> Any:
    """The classifier of ``config`` with ``weights`` (a bundle's ``weights.npz``) as an ``onnx.ModelProto``.

    Input ``token_ids``: int64 ``[batch, time]``, right-padded with 0 ([PAD]).
    Output ``probabilities``: float32 ``[batch, 3]`` in LABELS order.
    Built with ``onnx.helper`` (imports ``onnx``); :func:`onnx_bytes` writes the same bytes without it.
    """
    from onnx import TensorProto, helper, numpy_helper

    g = _graph(config, weights)
    graph = helper.make_graph(
        [helper.make_node(op, inputs, outputs, **attrs) for op, inputs, outputs, attrs in g.nodes], name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.INT64, ["batch", "time"])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", 3])],
        initializer=[numpy_helper.from_array(value, n) for n, value in g.inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER,
                              doc_string=DOC)
    model.ir_version = IR_VERSION
    return model


# -- a minimal protobuf writer for the few ONNX messages the graph needs -------------------------
# Wire format: https://protobuf.dev/programming-guides/encoding/ ; fields written in field-number
# order and repeated scalars unpacked (onnx.proto is proto2), as protobuf's own serializer does.
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64: two's complement, 10 bytes
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _int(field: int, n: int) -> bytes:
    return _varint(field << 3) + _varint(int(n))


def _len(field: int, payload: bytes | str) -> bytes:
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    return _varint((field << 3) | 2) + _varint(len(data)) + data


def _attribute(name: str, value: Any) -> bytes:  # AttributeProto, as onnx.helper.make_attribute makes it
    if isinstance(value, str):
        return _len(1, name) + _len(4, value) + _int(20, _ATTR_STRING)
    if isinstance(value, (bool, int, np.integer)):
        return _len(1, name) + _int(3, value) + _int(20, _ATTR_INT)
    if isinstance(value, (float, np.floating)):
        return _len(1, name) + _varint((2 << 3) | 5) + np.float32(value).tobytes() + _int(20, _ATTR_FLOAT)
    values = list(value)
    if values and all(isinstance(v, (int, np.integer)) for v in values):
        return _len(1, name) + b"".join(_int(8, v) for v in values) + _int(20, _ATTR_INTS)
    if values and all(isinstance(v, (float, np.floating)) for v in values):
        return (_len(1, name) + b"".join(_varint((7 << 3) | 5) + np.float32(v).tobytes() for v in values)
                + _int(20, _ATTR_FLOATS))
    raise TypeError(f"attribute {name}: unsupported value {value!r}")


def _node(op_type: str, inputs: list[str], outputs: list[str], attrs: dict[str, Any]) -> bytes:  # NodeProto
    return (b"".join(_len(1, i) for i in inputs) + b"".join(_len(2, o) for o in outputs) + _len(4, op_type)
            + b"".join(_len(5, _attribute(k, v)) for k, v in sorted(attrs.items()) if v is not None))


def _tensor(name: str, value: np.ndarray) -> bytes:  # TensorProto with raw_data (little-endian)
    arr = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
    return (b"".join(_int(1, d) for d in arr.shape) + _int(2, _DTYPES[value.dtype]) + _len(8, name)
            + _len(9, arr.tobytes()))


def _value_info(name: str, elem_type: int, shape: list[int | str]) -> bytes:  # ValueInfoProto of a tensor
    dims = b"".join(_len(1, _int(1, d) if isinstance(d, int) else _len(2, d)) for d in shape)
    tensor_type = _int(1, elem_type) + _len(2, dims)
    return _len(1, name) + _len(2, _len(1, tensor_type))


def onnx_bytes(config: ModelConfig, weights: dict[str, np.ndarray], name: str = "sentilstm") -> bytes:
    """The serialized ONNX model (what ``onnxruntime.InferenceSession`` and ``model.onnx`` hold).

    Written without importing ``onnx``; equal byte for byte to
    ``build_onnx_model(config, weights).SerializeToString()`` (tested).
    """
    g = _graph(config, weights)
    graph = b"".join([
        *(_len(1, _node(*n)) for n in g.nodes),
        _len(2, name),
        *(_len(5, _tensor(n, v)) for n, v in g.inits),
        _len(11, _value_info(INPUT_NAME, INT64, ["batch", "time"])),
        _len(12, _value_info(OUTPUT_NAME, FLOAT, ["batch", 3])),
    ])
    opset = _len(1, "") + _int(2, OPSET)
    return _int(1, IR_VERSION) + _len(2, PRODUCER) + _len(6, DOC) + _len(7, graph) + _len(8, opset)
