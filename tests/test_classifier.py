"""The public API contract: LABELS, load(), SentimentClassifier's estimator shape."""

import numpy as np
import pytest

import sentilstm
from sentilstm import LABELS, SentimentClassifier


def test_labels_contract():
    assert LABELS == ("negative", "neutral", "positive")
    assert list(SentimentClassifier.classes_) == list(LABELS)


@pytest.fixture(scope="module")
def clf(tiny_model):
    return sentilstm.load(tiny_model)


def test_predict_proba_shape_order_and_single_string(clf, dev_data):
    texts = dev_data.texts[:300]
    probs = clf.predict_proba(texts)
    assert probs.shape == (300, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # order kept: reversed input gives reversed output; one text alone gives the same row
    np.testing.assert_allclose(clf.predict_proba(texts[::-1]), probs[::-1], atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(texts[17]), probs[17:18], atol=1e-6)
    assert clf.predict(texts[17]) == [LABELS[int(probs[17].argmax())]]
    labels = clf.predict(texts)
    assert labels == [LABELS[i] for i in probs.argmax(axis=1)]
    # batch size does not change results
    np.testing.assert_allclose(clf.predict_proba(texts, batch_size=7), probs, atol=1e-6)


def test_keras_engine_matches_numpy_engine_on_dev(clf, dev_data):
    texts = dev_data.texts
    np.testing.assert_allclose(clf.predict_proba(texts, engine="keras"), clf.predict_proba(texts), atol=1e-5)


def test_bad_inputs(clf):
    with pytest.raises(TypeError, match="None"):
        clf.predict(None)
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        clf.predict(["ok", 3])
    with pytest.raises(TypeError, match=r"texts\[0\] is NoneType"):
        clf.predict_proba([None])
    with pytest.raises(ValueError, match="engine"):
        clf.predict_proba("x", engine="gpu")


def test_empty_whitespace_and_huge_texts_get_predictions(clf):
    huge = "this is so good " * 6250  # 100,000 characters
    assert len(huge) == 100_000
    probs = clf.predict_proba(["", "   \n\t", huge, "🙂"])
    assert probs.shape == (4, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # empty and whitespace-only texts are the same (empty) input
    np.testing.assert_allclose(probs[0], probs[1])
    assert clf.predict_proba([]).shape == (0, 3)


def test_fit_validates_labels(tiny_config):
    clf = SentimentClassifier()
    with pytest.raises(ValueError, match=r"unknown labels: 'happy' \(2×\)"):
        clf.fit(["a", "b", "c"], ["positive", "happy", "happy"], config=tiny_config())
    with pytest.raises(ValueError, match="2 items but there are 3 texts"):
        clf.fit(["a", "b", "c"], ["positive", "negative"], config=tiny_config())
    with pytest.raises(ValueError, match="integer labels must be 0..2"):
        clf.fit(["a", "b"], [0, 3], config=tiny_config())
    with pytest.raises(RuntimeError, match="not fitted"):
        clf.predict("x")


def test_fit_without_dev_holds_out_training_data(train_data, tiny_config):
    clf = SentimentClassifier().fit(train_data.texts[:600], train_data.labels[:600],
                                    config=tiny_config(train={"epochs": 1}), verbose=0, out=None)
    dev = clf.meta["training"]["dev"]
    assert dev["source"].startswith("10%")
    assert clf.meta["training"]["train"]["rows"] + dev["rows"] == 600
    assert clf.predict_proba("fine").shape == (1, 3)


def test_seeded_training_is_reproducible(train_data, dev_data, tiny_config):
    """Same seed + same tokenizer -> same model; another seed -> another model (negative control)."""
    from sentilstm.tokenizer import TextEncoder

    cfg = tiny_config(train={"epochs": 1, "seed": 3})
    encoder = TextEncoder.train(train_data.texts[:500], cfg.tokenizer)

    def fit(seed):
        c = tiny_config(train={"epochs": 1, "seed": seed})
        return SentimentClassifier().fit(train_data.texts[:500], train_data.labels[:500],
                                         dev=(dev_data.texts[:100], dev_data.labels[:100]), config=c,
                                         verbose=0, out=None, tokenizer=encoder).predict_proba(dev_data.texts[:50])

    a, b, other = fit(3), fit(3), fit(4)
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert np.abs(a - other).max() > 1e-4


def test_several_dev_checks_per_epoch(train_data, dev_data, tiny_config):
    clf = SentimentClassifier().fit(train_data.texts[:640], train_data.labels[:640],
                                    dev=(dev_data.texts[:100], dev_data.labels[:100]),
                                    config=tiny_config(train={"epochs": 1, "evals_per_epoch": 4, "patience": 5}),
                                    verbose=0, out=None)
    history = clf.meta["training"]["history"]
    assert [h["epoch"] for h in history] == [0.25, 0.5, 0.75, 1.0]
    assert clf.meta["training"]["best_epoch"] in (0.25, 0.5, 0.75, 1.0)
