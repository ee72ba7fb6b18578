"""Classification metrics for the three sentiment classes, in NumPy.

* **AvgRec** — recall averaged over the three classes; SemEval-2017 Task 4A's official metric
  (TweetEval's "macro recall").  Robust to class imbalance: predicting the majority class
  everywhere scores 1/3.
* **F1PN** — mean of the F1 scores of *positive* and *negative* (SemEval-2016/17's second metric).
* **macro-F1**, **accuracy**, per-class precision / recall / F1 / support, confusion matrix.

Degenerate cases are defined, never warnings: a class never predicted has precision 0, a class
absent from the gold labels has recall 0 (and is still averaged, as in scikit-learn with
``zero_division=0`` and ``labels=[0, 1, 2]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .labels import LABELS

__all__ = ["confusion_matrix", "classification_scores", "HEADLINE"]

#: The metrics printed first, in order.
HEADLINE = ("avg_recall", "f1_pn", "macro_f1", "accuracy")


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int = len(LABELS)) -> np.ndarray:
    """``cm[i, j]`` = number of examples of true class ``i`` predicted as ``j``."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.shape} vs {p.shape}")
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 0)


def scores_from_confusion(cm: np.ndarray) -> dict[str, Any]:
    """All metrics from a confusion matrix (rows = true, columns = predicted)."""
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    neg, pos = LABELS.index("negative"), LABELS.index("positive")
    total = cm.sum()
    return {
        "avg_recall": float(recall.mean()),
        "f1_pn": float((f1[neg] + f1[pos]) / 2),
        "macro_f1": float(f1.mean()),
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "n": int(total),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
                "predicted": int(predicted[i]),
            }
            for i, name in enumerate(LABELS)
        },
        "confusion": cm.astype(int).tolist(),
    }


def classification_scores(y_true: Any, y_pred: Any) -> dict[str, Any]:
    """Metrics of integer predictions ``y_pred`` against gold ``y_true`` (ids into LABELS)."""
    return scores_from_confusion(confusion_matrix(y_true, y_pred))


def format_headline(scores: dict[str, Any]) -> str:
    return "  ".join(f"{k}={scores[k]:.4f}" for k in HEADLINE)
