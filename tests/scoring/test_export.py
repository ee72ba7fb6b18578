"""`sentilstm export`: ONNX and SavedModel round trips equal the Keras model; clear errors."""

import json

import numpy as np
import onnxruntime as ort
import pytest
from click.testing import CliRunner

import sentilstm
from sentilstm import ClassifierConfig, SentimentClassifier
from sentilstm.cli import main
from sentilstm.nn.model import build_model, weight_dict
from sentilstm.tokenizer import TextEncoder


def _export(*args):
    return CliRunner().invoke(main, ["export", *map(str, args)])


@pytest.fixture(scope="module")
def uni_model(tiny_model, tmp_path_factory):
    """A unidirectional 2-layer model with attention + max pooling (random weights, tiny's tokenizer)."""
    base = sentilstm.load(tiny_model)
    data = base.config.to_dict()
    data["model"].update(bidirectional=False, layers=2, pooling=["attention", "max"])
    clf = SentimentClassifier(ClassifierConfig.from_dict(data))
    model = build_model(clf.config.model, seed=3)
    rng = np.random.default_rng(3)
    for v in model.weights:
        v.assign(rng.normal(0, 0.4, v.shape).astype("float32"))
    clf.encoder, clf.weights = base.encoder, weight_dict(model)
    path = tmp_path_factory.mktemp("bundles") / "uni"
    clf.save(path)
    return path


@pytest.fixture(scope="module", params=["tiny", "uni"])
def bundle(request, tiny_model, uni_model):
    return tiny_model if request.param == "tiny" else uni_model


def _sample(bundle, dev_data):
    """Keras probabilities and padded token ids of 300 dev tweets."""
    clf = sentilstm.load(bundle)
    texts = dev_data.texts[:300]
    return clf.predict_proba(texts, engine="keras"), TextEncoder.pad(clf.encode(texts), multiple=1)


def test_onnx_export_round_trip(bundle, dev_data, tmp_path):
    out = tmp_path / "onnx"
    r = _export("--format", "onnx", "-m", bundle, "-o", out)
    assert r.exit_code == 0, r.output
    assert {p.name for p in out.iterdir()} == {"model.onnx", "tokenizer.json", "export.json", "README.md"}
    doc = json.loads((out / "export.json").read_text())
    assert doc["inputs"]["token_ids"]["dtype"] == "int64" and doc["outputs"]["probabilities"]["labels"] == list(
        sentilstm.LABELS)
    want, ids = _sample(bundle, dev_data)
    sess = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"token_ids": ids.astype(np.int64)})[0], want, atol=1e-5)
    # the shipped tokenizer.json reproduces the ids (after sentilstm's normaliser)
    enc = TextEncoder.from_str((out / "tokenizer.json").read_text(), max_length=doc["preprocessing"]["max_length"])
    assert TextEncoder.pad(enc.encode(dev_data.texts[:300]), multiple=1).tolist() == ids.tolist()


def test_savedmodel_export_round_trip(bundle, dev_data, tmp_path):
    import tensorflow as tf

    out = tmp_path / "sm"
    r = _export("--format", "savedmodel", "-m", bundle, "-o", out)
    assert r.exit_code == 0, r.output
    assert (out / "saved_model.pb").is_file() and (out / "tokenizer.json").is_file()
    want, ids = _sample(bundle, dev_data)
    serve = tf.saved_model.load(str(out)).signatures["serve"]
    (got,) = serve(tf.constant(ids.astype(np.int32))).values()
    np.testing.assert_allclose(got.numpy(), want, atol=1e-5)


def test_export_replaces_a_previous_export_only(tiny_model, tmp_path):
    out = tmp_path / "o"
    assert _export("--format", "onnx", "-m", tiny_model, "-o", out).exit_code == 0
    assert _export("--format", "onnx", "-m", tiny_model, "-o", out).exit_code == 0  # a previous onnx export: replaced
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    r = _export("--format", "onnx", "-m", tiny_model, "-o", tmp_path / "notes")
    assert r.exit_code == 1 and "refusing to replace" in r.stderr
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--format", "tflite", "-m", "TINY", "-o", "OUT"], 2, "'tflite' is not one of 'onnx', 'savedmodel'"),
        (["--format", "onnx", "-m", "MISSING", "-o", "OUT"], 1, "no model bundle at"),
        (["--format", "onnx", "-m", "TINY", "-o", "FILE"], 1, "exists and is a file"),
        (["--format", "onnx", "-m", "TINY"], 2, "missing -o/--out DIR"),
    ],
)
def test_export_errors_are_one_clear_line(args, code, message, tiny_model, tmp_path):
    (tmp_path / "file").write_text("x")
    subst = {"TINY": tiny_model, "MISSING": tmp_path / "missing", "OUT": tmp_path / "out", "FILE": tmp_path / "file"}
    r = _export(*[subst.get(a, a) for a in args])
    assert r.exit_code == code
    errors = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], r.stderr
    assert "Traceback" not in r.output
    assert not (tmp_path / "out").exists()


def test_positional_model_and_out_still_work_with_a_deprecation_warning(tiny_model, tmp_path):
    r = _export("--format", "onnx", tiny_model, tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "model.onnx").is_file()
    assert r.stderr.splitlines()[0] == ("Warning: positional MODEL OUT is deprecated and will be removed in the next "
                                        "release; use -m/--model MODEL -o/--out OUT.")
