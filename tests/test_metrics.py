import numpy as np
import pytest
from sklearn import metrics as skm

from sentilstm.metrics import classification_scores, confusion_matrix


def _reference(t, p):
    labels = [0, 1, 2]
    f1 = skm.f1_score(t, p, labels=labels, average=None, zero_division=0)
    return {
        "avg_recall": skm.recall_score(t, p, labels=labels, average="macro", zero_division=0),
        "macro_f1": skm.f1_score(t, p, labels=labels, average="macro", zero_division=0),
        "f1_pn": (f1[0] + f1[2]) / 2,
        "accuracy": skm.accuracy_score(t, p),
    }


@pytest.mark.parametrize("seed", range(20))
def test_metrics_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    t = rng.integers(0, 3, n)
    p = np.where(rng.random(n) < 0.6, t, rng.integers(0, 3, n))
    ours = classification_scores(t, p)
    for k, v in _reference(t, p).items():
        assert ours[k] == pytest.approx(v, abs=1e-12), k
    np.testing.assert_array_equal(confusion_matrix(t, p), skm.confusion_matrix(t, p, labels=[0, 1, 2]))


@pytest.mark.parametrize(
    "t, p",
    [
        ([0, 0, 1, 1], [0, 0, 0, 0]),  # classes never predicted
        ([0, 0, 0], [0, 1, 2]),  # classes absent from gold
        ([2, 2], [2, 2]),
    ],
)
def test_degenerate_cases_are_defined_without_warnings(t, p, recwarn):
    ours = classification_scores(t, p)
    for k, v in _reference(np.array(t), np.array(p)).items():
        assert ours[k] == pytest.approx(v, abs=1e-12), k
    assert not [w for w in recwarn if "sentilstm" in str(w.filename)]


def test_majority_baseline_avgrec_is_one_third():
    t = np.array([0] * 10 + [1] * 50 + [2] * 40)
    assert classification_scores(t, np.ones_like(t))["avg_recall"] == pytest.approx(1 / 3)


def test_length_mismatch():
    with pytest.raises(ValueError, match="differ in length"):
        classification_scores([0, 1], [0])
