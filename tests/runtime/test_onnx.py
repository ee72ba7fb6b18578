"""The ONNX graph and the "onnx" engine compute the Keras model's probabilities (to 1e-5)."""

import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import sentilstm
from sentilstm.classifier import ONNX_MIN_TEXTS
from sentilstm.config import ModelConfig
from sentilstm.nn.model import build_model, weight_dict
from sentilstm.runtime.onnx import build_onnx_model, onnx_bytes
from sentilstm.runtime.onnx import OnnxRuntime
from sentilstm.runtime.numpy import NumpyRuntime


def _session(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize(
    "kw",
    [
        {},  # bidirectional, max + mean
        {"bidirectional": False},
        {"layers": 2, "pooling": ("attention", "max")},
        {"layers": 2, "bidirectional": False, "pooling": ("mean",)},
        {"pooling": ("attention",)},
        {"ensemble": 2},
        {"ensemble": 2, "bidirectional": False, "layers": 2, "pooling": ("mean", "attention", "max")},
    ],
)
def test_onnx_graph_matches_keras(kw, rng):
    cfg = ModelConfig(vocab_size=50, embedding_dim=12, units=10, **kw)
    model = build_model(cfg, seed=1)
    for v in model.weights:  # random non-trivial weights everywhere (biases included)
        v.assign(rng.normal(0, 0.5, v.shape).astype("float32"))
    lengths = [1, 3, 9, 16, 5, 16]
    ids = np.zeros((len(lengths), 16), dtype=np.int64)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(1, 50, n)
    graph = build_onnx_model(cfg, weight_dict(model))
    onnx.checker.check_model(graph, full_check=True)
    # the runtime's bytes, written without the onnx package, are onnx's own serialization
    assert onnx_bytes(cfg, weight_dict(model)) == graph.SerializeToString()
    sess = _session(graph)
    got = sess.run(None, {"token_ids": ids})[0]
    np.testing.assert_allclose(got, np.asarray(model(ids.astype(np.int32), training=False)), atol=1e-5)
    # more padding changes nothing; an all-padding row gets what the NumPy runtime gives it
    wider = np.zeros((len(lengths) + 1, 24), dtype=np.int64)
    wider[:-1, :16] = ids
    np.testing.assert_allclose(sess.run(None, {"token_ids": wider})[0][:-1], got, atol=1e-6)
    np.testing.assert_allclose(sess.run(None, {"token_ids": wider})[0],
                               NumpyRuntime(cfg, weight_dict(model))(wider), atol=1e-5)


def test_graph_names_missing_weights():
    cfg = ModelConfig(vocab_size=20, embedding_dim=4, units=3)
    weights = weight_dict(build_model(cfg))
    del weights["head/kernel"]
    with pytest.raises(ValueError, match="head/kernel"):
        build_onnx_model(cfg, weights)


@pytest.fixture(scope="module")
def default():
    return sentilstm.load()


# Every engine against Keras on the 2,000 dev tweets: tests/test_default_model.py.


def test_onnx_engine_keeps_order_for_any_batch_and_window(default, dev_data):
    texts = dev_data.texts[:300]
    want = default.predict_proba(texts, engine="numpy")
    rt = default.onnx_runtime()
    assert default.onnx_runtime() is rt  # built once per classifier
    for batch_size, first, window in ((1, 300, 300), (64, 10, 100), (256, 1024, 4096), (1000, 33, 33)):
        got = rt.predict_texts(texts, default.encoder.encode, batch_size, first_window=first, window=window)
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert rt.predict_texts([], default.encoder.encode, 64).shape == (0, 3)
    np.testing.assert_allclose(rt.predict_seqs(default.encode(texts[:50]), 8), want[:50], atol=1e-5)


def test_predict_texts_shortens_the_switch_interval_only_while_it_runs(default, dev_data):
    """Python's switch interval is process-wide: put back after the call, after an error, and only
    when the last of several overlapping calls (threads) returns."""
    import threading

    from sentilstm.runtime.onnx import SWITCH_INTERVAL_S

    rt, before, seen = default.onnx_runtime(), sys.getswitchinterval(), []

    def encode(chunk):
        seen.append(sys.getswitchinterval())
        return default.encoder.encode(chunk)

    rt.predict_texts(dev_data.texts[:100], encode, 64, first_window=50)
    assert seen and all(v == min(SWITCH_INTERVAL_S, before) for v in seen)
    assert sys.getswitchinterval() == before

    def fail(chunk):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        rt.predict_texts(dev_data.texts[:10], fail)
    assert sys.getswitchinterval() == before

    inside, release = threading.Event(), threading.Event()

    def slow(chunk):  # holds one call open while another starts and ends
        inside.set()
        release.wait(10)
        return default.encoder.encode(chunk)

    t = threading.Thread(target=rt.predict_texts, args=(dev_data.texts[:10], slow))
    t.start()
    inside.wait(10)
    rt.predict_texts(dev_data.texts[:10], default.encoder.encode)
    assert sys.getswitchinterval() == min(SWITCH_INTERVAL_S, before)  # the first call still runs
    release.set()
    t.join(10)
    assert sys.getswitchinterval() == before


def test_auto_engine_uses_numpy_for_few_texts_and_onnx_for_many(tiny_model, dev_data):
    clf = sentilstm.load(tiny_model)
    clf.predict_proba(dev_data.texts[: ONNX_MIN_TEXTS - 1])
    assert clf._onnx is None  # a few texts never pay onnxruntime's start-up
    many = clf.predict_proba(dev_data.texts[:ONNX_MIN_TEXTS])
    assert isinstance(clf._onnx, OnnxRuntime)
    np.testing.assert_allclose(many, clf.predict_proba(dev_data.texts[:ONNX_MIN_TEXTS], engine="keras"), atol=1e-5)


def test_predicting_a_few_texts_imports_neither_onnx_nor_tensorflow(tiny_model):
    code = (
        "import sys, sentilstm\n"
        f"sentilstm.load({str(tiny_model)!r}).predict_proba(['some text', 'more'])\n"
        "bad = [m for m in ('onnxruntime', 'onnx', 'tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_onnx_bytes_of_the_default_model_equal_onnx_serialization(default):
    assert onnx_bytes(default.config.model, default.weights) == \
        build_onnx_model(default.config.model, default.weights).SerializeToString()


def test_batch_predict_never_imports_the_onnx_package(tiny_model, dev_data):
    """onnxruntime takes the graph as bytes written by our own writer: no ~1 s `import onnx`."""
    code = (
        "import sys, sentilstm\n"
        f"clf = sentilstm.load({str(tiny_model)!r})\n"
        f"clf.predict_proba({dev_data.texts[:200]!r})\n"
        "assert clf._onnx is not None, 'the onnx engine did not run'\n"
        "bad = [m for m in ('onnx', 'tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
