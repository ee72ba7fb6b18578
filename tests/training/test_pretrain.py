"""Pretraining an encoder and fine-tuning from it: a tiny chain on small slices (seconds)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sentilstm import ClassifierConfig, SentimentClassifier
from sentilstm.bundle import BundleError
from sentilstm.training.pretrain import (
    PretrainConfig, PretrainTask, extend_vocabulary, load_encoder, pretrain, read_task_file, save_encoder,
)

TINY_PRE = {"tokenizer": {"vocab_size": 400, "extra_vocab": None, "max_length": 40},
            "model": {"embedding_dim": 8, "units": 4, "pretrained_embeddings": None},
            "batch_size": 32, "seed": 3}
TINY_FT = {"model": {"embedding_dim": 8, "units": 4, "pretrained_embeddings": None},
           "train": {"epochs": 1, "evals_per_epoch": 1, "seed": 3, "freeze_embedding_epochs": 0}}


@pytest.fixture(scope="module")
def tasks(train_data):
    """Two weak tasks from real tweets: a binary 'sentiment' label and a 3-way 'emoji' label."""
    texts = train_data.texts[:320]
    pos_neg = ["positive" if y == 2 else "negative" for y in train_data.labels[:320]]
    emoji = [["😂", "❤", "🔥"][i % 3] for i in range(320)]
    return [PretrainTask("s140", texts, pos_neg), PretrainTask("emoji", train_data.texts[320:640], emoji)]


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory, tasks, train_data):
    cfg = PretrainConfig.from_dict({**TINY_PRE, "mlm": 0.5})
    result = pretrain(tasks, train_data.texts[640:800], cfg, verbose=0, out=None)
    return save_encoder(tmp_path_factory.mktemp("enc") / "encoder", result)


def test_encoder_bundle_holds_the_encoder_only(encoder_dir, tasks):
    enc = load_encoder(encoder_dir)
    assert enc.meta["kind"] == "encoder"
    assert [t["name"] for t in enc.meta["pretraining"]["tasks"]] == ["s140", "emoji"]
    assert enc.meta["pretraining"]["texts"]["used_for"] == "vocabulary and masked words"
    assert set(enc.weights) == {"embedding/embeddings", *(f"bilstm_0/{d}_lstm_0/cell/{w}" for d in ("forward", "backward")
                                                          for w in ("kernel", "recurrent_kernel", "bias"))}
    assert enc.weights["embedding/embeddings"].shape == (enc.text_encoder.vocab_size, 8)
    assert all(np.isfinite(w).all() for w in enc.weights.values())


def test_encoder_bundle_is_checked(encoder_dir, tmp_path, tiny_model):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(encoder_dir, bad)
    (bad / "weights.npz").write_bytes((bad / "weights.npz").read_bytes()[:-10])
    with pytest.raises(BundleError, match="weights.npz"):
        load_encoder(bad)
    with pytest.raises(BundleError, match="not an encoder bundle"):
        load_encoder(tiny_model)
    with pytest.raises(BundleError, match="an encoder bundle"):
        SentimentClassifier.load(encoder_dir)


def test_extend_vocabulary_appends_unseen_words(encoder_dir):
    enc = load_encoder(encoder_dir).text_encoder
    old = enc.tokenizer.get_vocab()
    new_enc, new = extend_vocabulary(enc, ["zyzzyva qwop", "zyzzyva qwop", "zyzzyva once"], min_frequency=2)
    assert new == ["zyzzyva", "qwop"]  # most frequent first; "once" (seen once) is not added
    vocab = new_enc.tokenizer.get_vocab()
    assert all(vocab[w] == i for w, i in old.items())
    assert sorted(vocab[w] for w in new) == [len(old), len(old) + 1]
    assert new_enc.encode(["zyzzyva"])[0] == [vocab["zyzzyva"]]


def test_fine_tune_starts_from_the_encoder(encoder_dir, train_data, dev_data):
    """With a learning rate of ~0 the fine-tuned encoder weights are the pretrained ones."""
    enc = load_encoder(encoder_dir)
    cfg = ClassifierConfig.from_dict({**TINY_FT, "train": {**TINY_FT["train"], "init": str(encoder_dir),
                                                            "learning_rate": 1e-12}})
    x, y = train_data.texts[800:1120], train_data.labels[800:1120]
    clf = SentimentClassifier().fit(x, y, dev=(dev_data.texts[:100], dev_data.labels[:100]), config=cfg,
                                    verbose=0, out=None)
    assert clf.meta["training"]["init"]["encoder"] == str(encoder_dir)
    n = enc.text_encoder.vocab_size
    assert clf.encoder.vocab_size == n + clf.meta["training"]["init"]["new_words"] > n
    emb = clf.weights["embedding/embeddings"]
    np.testing.assert_allclose(emb[:n], enc.weights["embedding/embeddings"], atol=1e-6)
    for k, w in enc.weights.items():
        if k != "embedding/embeddings":
            np.testing.assert_allclose(clf.weights[k], w, atol=1e-6)
    # a real fine-tune moves them, and the bundle says where it started
    cfg2 = ClassifierConfig.from_dict({**TINY_FT, "train": {**TINY_FT["train"], "init": str(encoder_dir)}})
    clf2 = SentimentClassifier().fit(x, y, dev=(dev_data.texts[:100], dev_data.labels[:100]), config=cfg2,
                                     verbose=0, out=None)
    assert not np.allclose(clf2.weights["bilstm_0/forward_lstm_0/cell/kernel"],
                           enc.weights["bilstm_0/forward_lstm_0/cell/kernel"])


def test_encoder_lr_scale_moves_the_encoder_less_and_the_head_as_before(encoder_dir, train_data, dev_data):
    """Discriminative learning rates: ``train.encoder_lr_scale`` scales the encoder's Adam steps only."""
    enc = load_encoder(encoder_dir)
    x, y = train_data.texts[800:1120], train_data.labels[800:1120]

    def fit(scale: float, lr: float = 2e-3) -> dict:
        cfg = ClassifierConfig.from_dict({**TINY_FT, "train": {**TINY_FT["train"], "init": str(encoder_dir),
                                                                "encoder_lr_scale": scale, "learning_rate": lr}})
        return SentimentClassifier().fit(x, y, dev=(dev_data.texts[:100], dev_data.labels[:100]), config=cfg,
                                         verbose=0, out=None).weights

    def moved(weights: dict) -> float:
        return max(float(np.abs(weights[k] - w).max()) for k, w in enc.weights.items() if k != "embedding/embeddings")

    full, gentle = fit(1.0), fit(0.01)
    assert moved(full) > 0.005  # 10 steps of Adam at 2e-3 move the recurrent weights ...
    assert moved(gentle) < moved(full) / 20  # ... a hundredth of that rate barely does
    head_init = fit(1.0, lr=1e-12)["head/kernel"]  # the same seeded start, not trained
    head_moved = [float(np.abs(w["head/kernel"] - head_init).max()) for w in (full, gentle)]
    assert head_moved[1] > 0.5 * head_moved[0] > 0.001  # the head learns at the full rate
    with pytest.raises(ValueError, match="encoder_lr_scale must be in"):
        ClassifierConfig.from_dict({"train": {"encoder_lr_scale": 0}})


def test_encoder_fixes_the_architecture(encoder_dir, train_data):
    cfg = ClassifierConfig.from_dict({"model": {"embedding_dim": 8, "units": 16},
                                      "train": {"init": str(encoder_dir)}})
    with pytest.raises(ValueError, match=r"model.units = 16 differs from the encoder's 4"):
        SentimentClassifier().fit(train_data.texts[:50], train_data.labels[:50], config=cfg, verbose=0, out=None)


def test_masked_words_only_for_unlabelled_texts(train_data):
    """A user's unlabelled texts alone: the masked-word objective trains the encoder."""
    cfg = PretrainConfig.from_dict({**TINY_PRE, "mlm": 1.0, "epochs": 2})
    res = pretrain([], train_data.texts[:256], cfg, verbose=0, out=None)
    hist = res["meta"]["pretraining"]["history"]
    assert len(hist) == 2 and np.isfinite(hist[-1]["loss"]) and hist[-1]["loss"] < hist[0]["loss"]
    with pytest.raises(ValueError, match="nothing to pretrain on"):
        pretrain([], train_data.texts[:10], PretrainConfig.from_dict(TINY_PRE), verbose=0, out=None)


def test_read_task_file_errors_name_file_and_line(tmp_path):
    from sentilstm.data.files import DataError

    f = tmp_path / "e.jsonl"
    f.write_text('{"text": "a", "emoji": "x"}\n{"text": "b"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"e.jsonl: line 2: missing field 'emoji'"):
        read_task_file(f, "emoji")
    texts, labels = read_task_file(f, None)
    assert texts == ["a", "b"] and labels is None


def test_cli_pretrain_then_train_from_it(tmp_path, train_data):
    from click.testing import CliRunner

    from sentilstm.cli import main

    rows = [{"text": t, "label": ["negative", "neutral", "positive"][y]}
            for t, y in zip(train_data.texts[:300], train_data.labels[:300])]
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    (tmp_path / "u.txt").write_text("\n".join(train_data.texts[300:600]) + "\n", encoding="utf-8")
    (tmp_path / "pre.json").write_text(json.dumps(TINY_PRE), encoding="utf-8")
    run = CliRunner().invoke
    r = run(main, ["pretrain", "--texts", str(tmp_path / "u.txt"), "--config", str(tmp_path / "pre.json"),
                   "--out", str(tmp_path / "enc"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "enc" / "config.json").read_text())["pretraining"]["config"]["mlm"] == 1.0
    r = run(main, ["train", "--train", str(tmp_path / "t.jsonl"), "--from", str(tmp_path / "enc"), "--epochs", "1",
                   "--embedding-dim", "8", "--units", "4", "--out", str(tmp_path / "m"), "--quiet"])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "m" / "config.json").read_text())
    assert doc["training"]["init"]["encoder"] == str(tmp_path / "enc")
    r = run(main, ["pretrain", "--task", f"{tmp_path / 't.jsonl'}:emoji", "--out", str(tmp_path / "e2")])
    assert r.exit_code == 1 and "t.jsonl: line 1: missing field 'emoji'" in r.output
    r = run(main, ["train", "--train", str(tmp_path / "t.jsonl"), "--from", str(tmp_path / "m"),
                   "--out", str(tmp_path / "m2")])
    assert r.exit_code == 1 and "not an encoder bundle" in r.output
    assert not (tmp_path / "e2").exists() and not (tmp_path / "m2").exists()
