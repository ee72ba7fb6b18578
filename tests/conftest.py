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

    # sections given are merged into TINY_CONFIG's (so "init": "scratch" and the tiny sizes stay)
    return lambda **over: ClassifierConfig.from_dict({k: {**TINY_CONFIG.get(k, {}), **over.get(k, {})}
                                                      for k in {*TINY_CONFIG, *over}})


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


# -- the fast inner loop ---------------------------------------------------------------------------
# `python -m pytest -m "not slow"` leaves these out (CI runs everything). Marked here, by test file
# name and node id prefix, so each one's reason sits beside it: each trains a model beyond the session's tiny_model,
# imports TensorFlow for a Keras comparison, starts worker processes or an engine, or sweeps every
# real tweet. A test may also carry @pytest.mark.slow itself.
SLOW = {
    "test_distributed.py": "starts TensorFlow worker processes that train",
    "test_training.py": "trains several models on real data",
    "test_pretrain.py::test_cli_pretrain_then_train_from_it": "pretrains and fine-tunes through the CLI",
    "test_pretrain.py::test_fine_tune_starts_from_the_encoder": "pretrains and fine-tunes",
    "test_classifier.py::test_keras_engine_matches_numpy_engine_on_dev": "Keras on the dev set",
    "test_classifier.py::test_fit_without_dev_holds_out_training_data": "trains",
    "test_classifier.py::test_seeded_training_is_reproducible": "trains three models",
    "test_classifier.py::test_several_dev_checks_per_epoch": "trains",
    "test_cli.py::test_train_evaluate_info_end_to_end": "trains through the CLI",
    "test_estimator.py::test_fit_returns_self_learns_underscore_state_and_score_is_avgrec": "trains",
    "test_default_model.py::test_every_engine_agrees_with_keras_on_dev": "Keras on the dev set",
    "test_explain.py::test_numpy_gradients_match_tf_gradienttape": "TensorFlow gradients",
    "test_export.py::test_savedmodel_export_round_trip": "TensorFlow SavedModel",
    "test_scoring.py::test_ray_two_actors": "starts Ray",
    "test_scoring.py::test_spark_two_workers": "starts Spark",
    "test_text.py::test_fast_paths_equal_the_unguarded_pipeline": "normalises every training tweet twice",
    "test_fast_tokenize.py::test_same_ids_on_every_training_and_dev_tweet": "tokenises every real tweet twice",
    "test_readers_fast.py::test_fast_equals_precise_on_the_real_files": "reads the real files twice",
    "test_data_safety_write.py::test_replaces_its_own_kind_and_refuses_another_kind[train]": "trains",
    "test_data_safety_write.py::test_allow_missing_classes_trains_anyway": "trains",
    "test_data_safety_write.py::test_non_finite_loss_stops_training_and_saves_nothing": "trains",
    "test_data_safety_write.py::test_non_finite_weights_stop_training": "trains",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        nodeid = item.nodeid.rsplit("/", 1)[-1]  # the test file's name on: independent of its folder
        if any(nodeid == key or nodeid.startswith((key + "::", key + "[")) for key in SLOW):
            item.add_marker(pytest.mark.slow)
