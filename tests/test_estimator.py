"""SentimentClassifier has scikit-learn's estimator shape (checked with scikit-learn itself)."""

from __future__ import annotations

import numpy as np
import pytest

from sentilstm import ClassifierConfig, SentimentClassifier

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.utils import estimator_checks as checks  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402


@pytest.mark.parametrize("check", [
    "check_no_attributes_set_in_init", "check_get_params_invariance", "check_set_params",
    "check_parameters_default_constructible", "check_estimator_repr", "check_do_not_raise_errors_in_init_or_set_params",
])
def test_sklearn_checks_that_apply_to_a_text_classifier(check):
    # the other estimator_checks feed numeric matrices; this estimator takes raw texts
    getattr(checks, check)("SentimentClassifier", SentimentClassifier())
    getattr(checks, check)("SentimentClassifier", SentimentClassifier(ClassifierConfig().override({"train.epochs": 2})))


def test_params_clone_and_set_params_never_mutate_the_config():
    cfg = ClassifierConfig().override({"train.epochs": 2})
    clf = SentimentClassifier(cfg)
    assert clf.get_params(deep=False) == {"config": cfg, "threads": None}
    assert clf.get_params()["train.epochs"] == 2 and clf.get_params()["model.units"] == 128
    twin = clone(clf)
    assert twin.config == cfg and twin.config is not cfg
    assert clf.set_params(**{"train.epochs": 3, "model.units": 16}) is clf
    assert (clf.config.train.epochs, clf.config.model.units) == (3, 16)
    assert cfg.train.epochs == 2 and cfg.model.units == 128  # the object given was not changed
    with pytest.raises(ValueError, match="unknown config key 'train.epoch'"):
        clf.set_params(**{"train.epoch": 1})


def test_not_fitted_until_fit_or_load():
    clf = SentimentClassifier()
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(RuntimeError, match="not fitted"):
        clf.predict("hello")
    import sentilstm

    check_is_fitted(sentilstm.load())


def test_fit_returns_self_learns_underscore_state_and_score_is_avgrec(train_data, dev_data, tiny_config):
    cfg = tiny_config(train={"epochs": 1, "batch_size": 64, "seed": 7, "max_train_examples": 600})
    clf = SentimentClassifier(cfg)
    dev = (dev_data.texts[:200], dev_data.labels[:200])
    assert clf.fit(train_data.texts[:600], train_data.labels[:600], dev=dev, verbose=0, out=None) is clf
    assert clf.config is cfg and cfg.model.vocab_size == 0  # the parameter is untouched ...
    assert clf.config_.model.vocab_size == clf.encoder_.vocab_size > 0  # ... the learned config has the vocabulary
    assert clf.config_.train == cfg.train and clf.weights_ is clf.weights and clf.meta_ is clf.meta
    score = clf.score(*dev)
    assert isinstance(score, float) and score == pytest.approx(clf.scores(*dev)["avg_recall"])
    from sentilstm.metrics import classification_scores

    pred = np.array([["negative", "neutral", "positive"].index(p) for p in clf.predict(dev[0])])
    gold = np.array([["negative", "neutral", "positive"].index(y) if isinstance(y, str) else int(y) for y in dev[1]])
    assert score == pytest.approx(classification_scores(gold, pred)["avg_recall"])
    twin = clone(clf)  # an unfitted copy with the same parameters
    assert twin.config == cfg and not hasattr(twin, "weights_")


def test_fit_without_the_training_extra_says_which_to_install(tmp_path):
    import subprocess
    import sys

    code = ("import sys\nsys.modules['keras'] = None\nsys.modules['tensorflow'] = None\n"
            "from sentilstm import SentimentClassifier\n"
            "try:\n    SentimentClassifier().fit(['good', 'bad'], ['positive', 'negative'])\n"
            "except ImportError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == 'training needs the training extra: pip install "sentilstm[train]"', r.stderr
