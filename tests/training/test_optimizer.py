"""TrainingAdam: lazy embedding-row updates checked against a NumPy LazyAdam and Keras's dense Adam."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from sentilstm.bundle import load_bundle
from sentilstm.config import ClassifierConfig
from sentilstm.training.optimizer import TrainingAdam

B1, B2, EPS, LR = 0.9, 0.999, 1e-7, 0.01


def _lazy_reference(table, steps):
    """NumPy LazyAdam (the module docstring's equations) over ``steps`` = [(indices, values), ...]."""
    table = table.copy()
    m, v = np.zeros_like(table), np.zeros_like(table)
    for t, (indices, values) in enumerate(steps, start=1):
        rows = np.unique(indices)
        g = np.stack([values[indices == r].sum(axis=0) for r in rows])
        m[rows] = B1 * m[rows] + (1 - B1) * g
        v[rows] = B2 * v[rows] + (1 - B2) * g * g
        alpha = LR * np.sqrt(1 - B2**t) / (1 - B1**t)
        table[rows] -= alpha * m[rows] / (np.sqrt(v[rows]) + EPS)
    return table


def _run(optimizer, table, steps):
    var = keras.Variable(table.copy(), name="embeddings")
    optimizer.build([var])
    for indices, values in steps:
        grad = tf.IndexedSlices(tf.constant(values), tf.constant(indices), dense_shape=tf.constant(table.shape))
        optimizer.apply_gradients([(grad, var)])
    return keras.ops.convert_to_numpy(var)


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(10, 3)).astype(np.float32)
    # step 1 touches rows 1, 3 (twice: summed) and 7; step 2 only rows 1 and 2
    steps = [(np.array([1, 3, 3, 7]), rng.normal(size=(4, 3)).astype(np.float32)),
             (np.array([1, 2]), rng.normal(size=(2, 3)).astype(np.float32))]
    return table, steps


def test_lazy_updates_follow_the_lazy_adam_equations(problem):
    table, steps = problem
    got = _run(TrainingAdam(LR, lazy_sparse=True, epsilon=EPS), table, steps)
    np.testing.assert_allclose(got, _lazy_reference(table, steps), rtol=1e-5, atol=1e-6)
    # rows 3 and 7 (absent from step 2) did not move in step 2; rows never seen never moved
    after_one = _run(TrainingAdam(LR, lazy_sparse=True, epsilon=EPS), table, steps[:1])
    np.testing.assert_array_equal(got[[3, 7]], after_one[[3, 7]])
    np.testing.assert_array_equal(got[[0, 4, 5, 6, 8, 9]], table[[0, 4, 5, 6, 8, 9]])


def test_lazy_equals_dense_adam_on_the_first_step_and_differs_after(problem):
    """From zero moments the first step is the same; afterwards dense Adam keeps moving rows absent
    from the batch on their momentum (the negative control: the test can tell the two apart)."""
    table, steps = problem
    dense = _run(keras.optimizers.Adam(LR, epsilon=EPS), table, steps[:1])
    lazy = _run(TrainingAdam(LR, lazy_sparse=True, epsilon=EPS), table, steps[:1])
    # row 3 came twice: Keras squares the two entries separately for v (Σ g_i², not (Σ g_i)²), the
    # lazy step squares their sum, as Adam on the summed gradient does (checked in the test above)
    once = [0, 1, 2, 4, 5, 6, 7, 8, 9]
    np.testing.assert_allclose(lazy[once], dense[once], rtol=1e-6, atol=1e-7)
    dense2 = _run(keras.optimizers.Adam(LR, epsilon=EPS), table, steps)
    assert np.abs(dense2[[3, 7]] - dense[[3, 7]]).max() > 1e-3  # dense moved them again
    np.testing.assert_allclose(_run(TrainingAdam(LR, lazy_sparse=False, epsilon=EPS), table, steps), dense2,
                               rtol=1e-6, atol=1e-7)


def test_dense_gradients_and_scales_are_keras_adam():
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(4, 2)).astype(np.float32)
    grads = [rng.normal(size=(4, 2)).astype(np.float32) for _ in range(3)]

    def run(opt, w):
        var = keras.Variable(w.copy(), name="kernel")
        opt.build([var])
        for g in grads:
            opt.apply_gradients([(tf.constant(g), var)])
        return keras.ops.convert_to_numpy(var)

    np.testing.assert_allclose(run(TrainingAdam(LR, lazy_sparse=True), w0), run(keras.optimizers.Adam(LR), w0),
                               rtol=1e-6, atol=1e-7)
    # a step scale of 0.5 on this variable moves it exactly as Adam at half the learning rate
    scaled = run(TrainingAdam(LR, scales={"kernel": 0.5}), w0)
    np.testing.assert_allclose(scaled, run(keras.optimizers.Adam(LR / 2), w0), rtol=1e-6, atol=1e-7)


def test_trainer_uses_the_configured_update(train_data, dev_data, tiny_config, monkeypatch):
    from sentilstm import SentimentClassifier
    from sentilstm.training import local

    seen = []
    real = local.TrainingAdam

    def spy(*args, **kwargs):
        seen.append(kwargs["lazy_sparse"])
        return real(*args, **kwargs)

    monkeypatch.setattr(local, "TrainingAdam", spy)
    dev = (dev_data.texts[:100], dev_data.labels[:100])
    for mode in ("lazy", "dense"):
        cfg = tiny_config(train={"embedding_updates": mode, "epochs": 1, "evals_per_epoch": 1,
                                 "max_train_examples": 300, "calibration": "none"})
        SentimentClassifier().fit(train_data.texts[:300], train_data.labels[:300], dev=dev, config=cfg, verbose=0,
                                  out=None)
    assert seen[0] is True and seen[-1] is False


def test_a_bundle_from_before_the_option_says_it_trained_dense(tmp_path):
    """The shipped model was trained with Keras's dense Adam; a config without the field reads as that."""
    assert load_bundle().config.train.embedding_updates == "dense"
    assert ClassifierConfig().train.embedding_updates == "lazy"
    from sentilstm.bundle import DEFAULT_BUNDLE

    doc = json.loads((DEFAULT_BUNDLE / "config.json").read_text(encoding="utf-8"))
    assert "embedding_updates" not in doc["config"]["train"]
