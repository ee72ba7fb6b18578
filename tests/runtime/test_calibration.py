"""Calibration: the fit recovers a known temperature, every engine applies the map alike, and
T = 1 / no calibration changes nothing; the temperature per class keeps every label and every
engine (NumPy, onnx, Keras, the exported graph, both gradient engines) applies it alike."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import sentilstm
from sentilstm.bundle import DEFAULT_BUNDLE, config_checksum, load_bundle
from sentilstm.runtime.calibration import (
    _fit, apply_calibration, calibrated_probabilities, fit_calibration, member_logits,
)
from sentilstm.config import ModelConfig
from sentilstm.metrics import calibration, classification_scores
from sentilstm.runtime.numpy import NumpyRuntime


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _random_weights(cfg, rng):
    from sentilstm.nn.model import build_model, weight_dict

    return {k: rng.normal(0, 0.5, v.shape).astype("float32") for k, v in weight_dict(build_model(cfg, seed=1)).items()}


def _ids(rng, vocab, n=12, t=10):
    ids = np.zeros((n, t), dtype=np.int64)
    for row, length in enumerate(rng.integers(1, t + 1, n)):
        ids[row, :length] = rng.integers(1, vocab, length)
    return ids


@pytest.mark.parametrize("ensemble", [1, 3])
def test_folded_temperature_equals_softmax_of_scaled_logits(ensemble, rng):
    cfg = ModelConfig(vocab_size=40, embedding_dim=8, units=6, ensemble=ensemble)
    weights = _random_weights(cfg, rng)
    ids = _ids(rng, 40)
    raw = NumpyRuntime(cfg, weights)
    assert apply_calibration(cfg, weights, None) is weights  # absent: the very same weights
    same = apply_calibration(cfg, weights, {"method": "temperature", "temperature": 1.0, "scale": [1.0] * 3,
                                            "bias": [0.0] * 3})
    np.testing.assert_array_equal(NumpyRuntime(cfg, same)(ids), raw(ids))  # T = 1: identical to today
    t = 2.5
    cal = {"method": "temperature", "temperature": t, "scale": [1 / t] * 3, "bias": [0.0] * 3}
    got = NumpyRuntime(cfg, apply_calibration(cfg, weights, cal))(ids)
    want = np.mean([_softmax(m.logits(ids).astype(np.float64) / t) for m in raw.members], axis=0)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert not np.allclose(got, raw(ids), atol=1e-3)  # it did change the probabilities
    np.testing.assert_array_equal(got.argmax(1), raw(ids).argmax(1))  # but not the labels
    assert weights["head/kernel" if ensemble == 1 else "m0_head/kernel"].dtype == np.float32  # input untouched


def test_bad_calibration_record_is_refused(rng):
    cfg = ModelConfig(vocab_size=40, embedding_dim=8, units=6)
    weights = _random_weights(cfg, rng)
    for bad in ({"method": "temperature"}, {"method": "vector", "scale": [1, -1, 1], "bias": [0, 0, 0]},
                {"method": "vector", "scale": [1, 1], "bias": [0, 0, 0]}):
        with pytest.raises(ValueError, match="calibration"):
            apply_calibration(cfg, weights, bad)


def test_fit_recovers_a_known_temperature():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 3.0, (1, 20000, 3))
    y = np.array([rng.choice(3, p=p) for p in _softmax(logits[0] / 2.5)])
    scale, bias, top = _fit(logits, y, "temperature")
    assert top is None
    assert 1 / scale[0] == pytest.approx(2.5, rel=0.05)
    np.testing.assert_array_equal(bias, 0)
    before = calibration(calibrated_probabilities(logits, np.ones(3), np.zeros(3)), y)["ece"]
    after = calibration(calibrated_probabilities(logits, scale, bias), y)["ece"]
    assert after < 0.02 < before


def test_vector_scaling_recovers_a_class_bias():
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 2.0, (1, 20000, 3))
    true_bias = np.array([-1.0, 0.2, 0.8])
    y = np.array([rng.choice(3, p=p) for p in _softmax(logits[0] + true_bias)])
    scale, bias, _ = _fit(logits, y, "vector")
    np.testing.assert_allclose(scale, 1.0, atol=0.08)
    np.testing.assert_allclose(bias, true_bias - true_bias.mean(), atol=0.08)


def test_tiny_model_is_calibrated_at_training_and_engines_agree(tiny_model, dev_data):
    """fit() stores a calibration; NumPy, onnx and Keras all apply it (to 1e-5)."""
    doc = json.loads((tiny_model / "config.json").read_text())
    cal = doc["calibration"]
    assert cal["method"] == "temperature" and cal["fitted_on"]["rows"] == 400
    assert abs(cal["temperature"] - 1) > 0.02  # a real change, so agreement below means something
    assert cal["after"]["log_loss"] <= cal["before"]["log_loss"] + 1e-9
    assert cal["cross_fit"]["folds"] == 2 and set(cal["cross_fit"]["after"]) >= {"ece", "log_loss", "brier"}
    clf = sentilstm.load(tiny_model)
    texts = dev_data.texts[:150]
    want = clf.predict_proba(texts, engine="keras")
    for engine in ("numpy", "onnx"):
        np.testing.assert_allclose(clf.predict_proba(texts, engine=engine), want, atol=1e-5, err_msg=engine)
    # the engines run the calibrated map: their output differs from the uncalibrated softmax
    logits = member_logits(clf.config.model, clf.weights, clf.encode(texts))
    np.testing.assert_allclose(want, calibrated_probabilities(logits, np.array(cal["scale"]), np.array(cal["bias"])),
                               atol=1e-5)


def test_calibrate_method_none_is_identical_to_uncalibrated(tiny_model, dev_data):
    clf = sentilstm.load(tiny_model)
    texts = dev_data.texts[:80]
    clf.calibrate(dev_data.texts[:400], dev_data.labels[:400], method="none")
    assert "calibration" not in clf.meta
    raw = NumpyRuntime(clf.config.model, load_bundle(tiny_model).weights)
    ids = clf.encode(texts)
    got = clf.predict_proba(texts, engine="numpy", batch_size=len(texts))
    from sentilstm.tokenizer import TextEncoder

    for idx, x in TextEncoder.buckets(ids, len(ids), multiple=1):
        np.testing.assert_array_equal(got[idx], raw(x))


def test_calibrate_cli_writes_a_new_bundle_with_the_same_weights(tiny_model, dev_data, tmp_path):
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": sentilstm.LABELS[y]}) + "\n"
                            for t, y in zip(dev_data.texts[:300], dev_data.labels[:300])), encoding="utf-8")
    out = tmp_path / "calibrated"
    r = subprocess.run([sys.executable, "-m", "sentilstm.cli", "calibrate", "--model", str(tiny_model),
                        "--data", str(data), "--out", str(out), "--method", "temperature"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "temperature T = " in r.stdout and "2-fold cross-fit" in r.stdout and "ECE" in r.stdout
    assert (out / "weights.npz").read_bytes() == (tiny_model / "weights.npz").read_bytes()
    cal = json.loads((out / "config.json").read_text())["calibration"]
    assert cal["method"] == "temperature" and cal["fitted_on"] == {"source": str(data), "rows": 300}
    assert f"{cal['temperature']:.4f}" in r.stdout
    # bad input: one line naming the file, non-zero exit, the output not written
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": "positive"}\n{"text": "b", "label": "great"}\n', encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "sentilstm.cli", "calibrate", "--model", str(tiny_model),
                        "--data", str(bad), "--out", str(tmp_path / "never")], capture_output=True, text=True)
    assert r.returncode != 0 and "bad.jsonl" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "never").exists()


def test_fit_calibration_none_and_auto(tiny_model, dev_data):
    clf = sentilstm.load(tiny_model)
    seqs = clf.encode(dev_data.texts[:300])
    y = np.asarray(dev_data.labels[:300])
    record, probs = fit_calibration(clf.config.model, clf.weights, seqs, y, "none")
    assert record is None and probs.shape == (300, 3)
    record, _ = fit_calibration(clf.config.model, clf.weights, seqs, y, "auto")
    assert record["method"] == "temperature" and "candidates" not in record["cross_fit"]  # too few rows for vector
    seqs, y = clf.encode(dev_data.texts), np.asarray(dev_data.labels)
    record, probs = fit_calibration(clf.config.model, clf.weights, seqs, y, "auto")
    assert set(record["cross_fit"]["candidates"]) == {"temperature", "class_temperature", "vector"}
    # auto takes vector scaling only where it does not lower AvgRec
    if record["method"] == "vector":
        assert record["cross_fit"]["after"]["avg_recall"] >= record["before"]["avg_recall"]
    with pytest.raises(ValueError, match="calibration method"):
        fit_calibration(clf.config.model, clf.weights, seqs, y, "isotonic")


def test_shipped_model_calibration_is_reproduced_on_dev(dev_data):
    """The shipped model's recorded before/after figures are what its engines give on dev."""
    clf = sentilstm.load()
    cal = clf.meta["calibration"]
    assert cal["method"] == "class_temperature" and min(cal["temperatures"].values()) > 1  # it was over-confident
    assert cal["after"]["ece"] <= 0.03 and cal["cross_fit"]["after"]["ece"] <= 0.03  # the goal
    probs = clf.predict_proba(dev_data.texts)
    y = np.asarray(dev_data.labels)
    after = calibration(probs, y)
    assert after["ece"] == pytest.approx(cal["after"]["ece"], abs=1e-3)
    assert after["log_loss"] == pytest.approx(cal["after"]["log_loss"], abs=1e-3)
    assert after["ece"] < cal["before"]["ece"] and after["log_loss"] < cal["before"]["log_loss"]
    # AvgRec unchanged by the temperatures
    assert classification_scores(y, probs.argmax(1))["avg_recall"] == pytest.approx(cal["before"]["avg_recall"],
                                                                                      abs=1e-4)


def test_copy_of_the_shipped_bundle_recalibrates_to_the_same_temperatures(dev_data, tmp_path):
    shutil.copytree(DEFAULT_BUNDLE, tmp_path / "m")
    clf = sentilstm.load(tmp_path / "m")
    clf.calibrate(dev_data.texts, dev_data.labels, method="class_temperature")
    want = sentilstm.load().meta["calibration"]["temperatures"]
    for label, t in clf.meta["calibration"]["temperatures"].items():
        assert t == pytest.approx(want[label], rel=1e-3)


def test_a_single_temperature_cannot_reach_the_ece_the_class_temperatures_reach(dev_data):
    """Negative control for the goal above: the shipped model with one temperature, fitted on the
    same dev data, stays above ECE 0.03 (the class weights make each class over-confident by its
    own amount)."""
    clf = sentilstm.load()
    one, _ = fit_calibration(clf.config.model, clf.weights, clf.encode(dev_data.texts), np.asarray(dev_data.labels),
                             "temperature")
    assert one["after"]["ece"] > 0.03 and one["after"]["ece"] > clf.meta["calibration"]["after"]["ece"] + 0.005


def test_malformed_calibration_in_a_bundle_is_one_clear_line(tiny_model, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    doc = json.loads((bad / "config.json").read_text())
    doc["calibration"]["scale"] = [1.0, -2.0, 1.0]
    doc["files"]["config.json"] = config_checksum(doc)  # as if a sentilstm had written it so
    (bad / "config.json").write_text(json.dumps(doc), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "sentilstm.cli", "predict", "--model", str(bad), "hi"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "config.json" in r.stderr and "calibration" in r.stderr


def _class_temperature_record(top):
    return {"method": "class_temperature", "scale": [1.0] * 3, "bias": [0.0] * 3, "top_scale": list(top)}


@pytest.mark.parametrize("ensemble", [1, 3])
def test_class_temperature_keeps_labels_and_scales_each_class_on_its_own(ensemble, rng):
    from sentilstm.runtime.numpy import top_temperature

    cfg = ModelConfig(vocab_size=40, embedding_dim=8, units=6, ensemble=ensemble)
    weights = _random_weights(cfg, rng)
    ids = _ids(rng, 40, n=40)
    raw = NumpyRuntime(cfg, weights)(ids).astype(np.float64)
    top = np.array([0.4, 0.7, 1.6])
    got = NumpyRuntime(cfg, apply_calibration(cfg, weights, _class_temperature_record(top)))(ids)
    # by hand: one temperature per text, the classes' temperatures mixed by p^2
    w = raw ** 2 / (raw ** 2).sum(axis=1, keepdims=True)
    want = _softmax(np.log(raw) * (w @ top)[:, None])
    np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_array_equal(got.argmax(1), raw.argmax(1))  # labels never change
    assert not np.allclose(got, raw, atol=1e-3)
    from sentilstm.runtime.onnx import OnnxRuntime  # the ONNX graph's version of the step (members' mean first)

    onnx = OnnxRuntime.from_weights(cfg, apply_calibration(cfg, weights, _class_temperature_record(top)), workers=1)
    np.testing.assert_allclose(onnx(ids), got, atol=1e-5)
    if ensemble == 1:  # one model: the logits divided by that text's temperature
        z = NumpyRuntime(cfg, weights).members[0].logits(ids).astype(np.float64)
        np.testing.assert_allclose(got, _softmax(z * (w @ top)[:, None]), atol=1e-5)
    # equal temperatures are the single temperature
    np.testing.assert_allclose(top_temperature(raw, np.full(3, 0.5)), _softmax(np.log(raw) * 0.5), atol=1e-12)
    with pytest.raises(ValueError, match="top_scale"):
        apply_calibration(cfg, weights, _class_temperature_record([1.0, 0.0, 1.0]))


def test_class_temperature_fit_recovers_known_temperatures():
    """Labels drawn from softmax(z * s(p)) with known per-class temperatures: the fit finds them."""
    from sentilstm.runtime.numpy import top_temperature

    rng = np.random.default_rng(5)
    logits = rng.normal(0, 3.0, (1, 30000, 3))
    true_t = np.array([2.5, 1.5, 1.0])
    probs = top_temperature(_softmax(logits[0]), 1 / true_t)
    y = (rng.random(len(probs))[:, None] > probs.cumsum(axis=1)).sum(axis=1)
    scale, bias, top = _fit(logits, y, "class_temperature")
    np.testing.assert_array_equal(scale, 1)
    np.testing.assert_array_equal(bias, 0)
    np.testing.assert_allclose(1 / top, true_t, rtol=0.1)
    one = calibrated_probabilities(logits, *_fit(logits, y, "temperature"))
    per_class = calibrated_probabilities(logits, scale, bias, top)
    assert calibration(per_class, y)["ece"] < 0.015 < calibration(one, y)["ece"]


@pytest.mark.slow
def test_class_temperature_in_every_engine_and_export(dev_data, tmp_path):
    """On the shipped model (calibrated so): NumPy, onnx, Keras and the exported graphs agree
    (1e-5); IG by hand-written backprop equals IG by tf.GradientTape, and completeness still
    holds (the map is smooth)."""
    import onnxruntime as ort

    from sentilstm.explanations.core import integrated_gradients
    from sentilstm.scoring.export import ONNX_FILE, export_model

    clf = sentilstm.load()
    cal = clf.meta["calibration"]
    assert cal["method"] == "class_temperature" and set(cal["temperatures"]) == set(sentilstm.LABELS)
    assert len(set(cal["top_scale"])) == 3  # different temperatures, so agreement means something
    texts = dev_data.texts[:150]
    want = clf.predict_proba(texts, engine="keras")
    for engine in ("numpy", "onnx"):
        np.testing.assert_allclose(clf.predict_proba(texts, engine=engine), want, atol=1e-5, err_msg=engine)
    logits = member_logits(clf.config.model, clf.weights, clf.encode(texts))
    np.testing.assert_allclose(want, calibrated_probabilities(logits, np.ones(3), np.zeros(3),
                                                              np.array(cal["top_scale"])), atol=1e-5)
    assert not np.allclose(want, calibrated_probabilities(logits, np.ones(3), np.zeros(3)), atol=1e-3)
    # the exports (each also checks itself against the NumPy engine), the ONNX one run by plain onnxruntime
    for fmt in ("onnx", "savedmodel"):
        export_model(None, tmp_path / fmt, fmt)
    sess = ort.InferenceSession(str(tmp_path / "onnx" / ONNX_FILE), providers=["CPUExecutionProvider"])
    ids = clf.encoder.pad(clf.encode(texts[:20]), multiple=1)
    np.testing.assert_allclose(sess.run(None, {"token_ids": ids.astype(np.int64)})[0],
                               clf.predict_proba(texts[:20], engine="numpy"), atol=1e-5)
    # explanations: both gradient engines, through the map
    seqs = clf.encode(texts[:5])
    for (a, fx, fb), (b, gx, gb), p in zip(integrated_gradients(clf, seqs, 16, "numpy"),
                                           integrated_gradients(clf, seqs, 16, "keras"), want[:5]):
        np.testing.assert_allclose(a, b, atol=1e-5)
        np.testing.assert_allclose(fx, p, atol=1e-5)
        assert np.max(np.abs(a.sum(axis=0) - (fx - fb))) < 0.05
