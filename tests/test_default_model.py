"""The shipped default model: present, loadable offline, accurate on the real dev set."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sentilstm
from sentilstm.bundle import DEFAULT_BUNDLE
from sentilstm.metrics import classification_scores


@pytest.fixture(scope="module")
def default():
    return sentilstm.load()


def test_shipped_bundle_is_small_and_complete():
    files = {p.name: p.stat().st_size for p in DEFAULT_BUNDLE.iterdir()}
    assert set(files) == {"config.json", "tokenizer.json", "weights.npz", "README.md"}
    assert sum(files.values()) <= 15 * 2**20


def test_readme_examples(default):
    assert default.predict(["I love this product!", "The service was terrible."]) == ["positive", "negative"]


def test_dev_figures_are_reproduced_and_above_floor(default, dev_data):
    """Recompute dev metrics from scratch and compare with the ones recorded at training time."""
    probs = default.predict_proba(dev_data.texts)
    scores = classification_scores(dev_data.labels, probs.argmax(axis=1))
    recorded = json.loads((DEFAULT_BUNDLE / "config.json").read_text())["dev_metrics"]
    for k in ("avg_recall", "f1_pn", "macro_f1", "accuracy"):
        assert scores[k] == pytest.approx(recorded[k], abs=1e-3), k
    # Regression guard: above the plain Keras BiLSTM baseline (0.56) and the TF-IDF+LR one (0.58).
    # The core issue's floor of 0.60 is not reached yet (see benchmarks/RESULTS.md).
    assert scores["avg_recall"] >= 0.575


def test_every_engine_agrees_with_keras_on_dev(default, dev_data):
    """numpy, onnx and the default (auto) engine equal the Keras model within 1e-5 on all 2,000 dev tweets."""
    want = default.predict_proba(dev_data.texts, engine="keras")
    for engine in ("numpy", "onnx", "auto"):
        np.testing.assert_allclose(default.predict_proba(dev_data.texts, engine=engine), want, atol=1e-5,
                                   err_msg=engine)


def test_console_script_predicts_positive():
    # the script installed beside this interpreter (the environment need not be activated)
    script = Path(sys.executable).with_name("sentilstm")
    assert script.exists(), f"console script not installed: {script}"
    r = subprocess.run([str(script), "predict", "I love this product!"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "positive"


def test_shipped_encoder_is_small_and_loadable():
    from sentilstm.training.pretrain import DEFAULT_ENCODER, load_encoder

    files = {p.name: p.stat().st_size for p in DEFAULT_ENCODER.iterdir()}
    assert set(files) == {"config.json", "tokenizer.json", "weights.npz", "README.md"}
    assert sum(files.values()) <= 15 * 2**20
    enc = load_encoder("default")
    assert enc.meta["kind"] == "encoder" and enc.path == "default"
    names = {t["name"] for t in enc.meta["pretraining"]["tasks"]}
    assert names == {"sentiment140", "emoji"}
    # the transfer benchmark's corpus and the dev set never fed it
    sources = [t["source"] for t in enc.meta["pretraining"]["tasks"]] + enc.meta["pretraining"]["texts"]["sources"]
    assert not any("novak" in s or "dev.jsonl" in s for s in sources)


def test_emoji_the_training_data_never_showed(default, train_data):
    """No SemEval training tweet holds 😍 or 😡; their names' words give them meaning."""
    assert not any("😍" in t or "😡" in t for t in train_data.texts)
    p = default.predict_proba(["😍", "😡", "new movie today 😍", "so angry 😡"])
    assert p[0].argmax() == 2 and p[0, 2] > p[1, 2] + 0.3  # 😍 positive, far more than 😡
    assert default.predict(["new movie today 😍", "so angry 😡"]) == ["positive", "negative"]
