"""Shared fixtures: the real SemEval data (from ../shared/data) and one tiny trained model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


def _data_dir() -> Path:
    return Path(os.environ.get("SENTILSTM_DATA", REPO.parent / "shared" / "data" / "semeval2017"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real SemEval-2017 splits; missing data fails in CI and skips elsewhere."""
    d = _data_dir()
    if not (d / "train.jsonl").exists() or not (d / "dev.jsonl").exists():
        msg = f"real data not found at {d} (set SENTILSTM_DATA to the folder with train.jsonl and dev.jsonl)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return d


@pytest.fixture(scope="session")
def train_data(data_dir):
    from sentilstm.data import load_data

    return load_data(data_dir / "train.jsonl")


@pytest.fixture(scope="session")
def dev_data(data_dir):
    from sentilstm.data import load_data

    return load_data(data_dir / "dev.jsonl")


TINY_CONFIG = {
    "tokenizer": {"model": "wordpiece", "extra_vocab": None, "vocab_size": 2000, "max_length": 48},
    "model": {"pretrained_embeddings": None, "embedding_dim": 16, "units": 8, "head_dropout": 0.1},
    "train": {"init": "scratch", "lr_schedule": "constant", "keep": "best", "class_weight": "balanced", "evals_per_epoch": 1, "freeze_embedding_epochs": 0, "epochs": 2, "batch_size": 64, "patience": 2, "seed": 7},
}


@pytest.fixture(scope="session")
def tiny_config():
    from sentilstm import ClassifierConfig

    return lambda **over: ClassifierConfig.from_dict({**TINY_CONFIG, **over})


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, train_data, dev_data, tiny_config):
    """A small BiLSTM trained for 2 epochs on 3,000 real tweets, saved as a bundle."""
    from sentilstm import SentimentClassifier

    clf = SentimentClassifier().fit(
        train_data.texts[:3000], train_data.labels[:3000], dev=(dev_data.texts[:400], dev_data.labels[:400]),
        config=tiny_config(), verbose=0, out=None,
    )
    path = tmp_path_factory.mktemp("bundles") / "tiny"
    clf.save(path)
    return path


@pytest.fixture()
def rng():
    return np.random.default_rng(0)
