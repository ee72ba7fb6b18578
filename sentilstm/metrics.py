"""Classification metrics for the three sentiment classes, in NumPy.

* **AvgRec** — recall averaged over the three classes; SemEval-2017 Task 4A's official metric
  (TweetEval's "macro recall").  Robust to class imbalance: predicting the majority class
  everywhere scores 1/3.
* **F1PN** — mean of the F1 scores of *positive* and *negative* (SemEval-2016/17's second metric).
* **macro-F1**, **accuracy**, per-class precision / recall / F1 / support, confusion matrix.

Degenerate cases are defined, never warnings: a class never predicted has precision 0, a class
absent from the gold labels has recall 0 (and is still averaged, as in scikit-learn with
``zero_division=0`` and ``labels=[0, 1, 2]``).

Uncertainty and calibration (used by :mod:`sentilstm.evaluation`):

* :func:`bootstrap_scores` — percentile bootstrap confidence intervals of the headline metrics.
* :func:`paired_bootstrap` — significance of the difference between two systems on the same
  examples.
* :func:`calibration` / :func:`expected_calibration_error` — ECE (equal-width bins), reliability
  bins, Brier score and log-loss.

Every metric here is a function of the confusion matrix, so resampling *examples* with
replacement is the same as drawing the matrix's cell counts from a multinomial with the observed
cell frequencies.  The bootstraps draw those counts directly (``rng.multinomial``), which is exact
(the same distribution as resampling indices), vectorised and independent of ``n``: 10,000
resamples of 50,000 examples take milliseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sentilstm.labels import LABELS

__all__ = [
    "confusion_matrix",
    "classification_scores",
    "scores_from_confusion",
    "scores_from_confusions",
    "bootstrap_scores",
    "bootstrap_confusion",
    "paired_bootstrap",
    "expected_calibration_error",
    "calibration",
    "format_headline",
    "HEADLINE",
    "HEADLINE_NAMES",
]

#: The metrics printed first, in order.
HEADLINE = ("avg_recall", "f1_pn", "macro_f1", "accuracy")

#: Display names of the headline metrics.
HEADLINE_NAMES = {"avg_recall": "AvgRec", "f1_pn": "F1PN", "macro_f1": "macro-F1", "accuracy": "accuracy"}


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


# -- vectorised scores, bootstrap ----------------------------------------------------------------
def scores_from_confusions(cms: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of a stack of confusion matrices ``(..., k, k)``, vectorised.

    Returns arrays of shape ``(...)`` for the :data:`HEADLINE` metrics and ``(..., k)`` for
    ``precision``, ``recall`` and ``f1``; same definitions as :func:`scores_from_confusion`.
    """
    cms = np.asarray(cms, dtype=np.float64)
    tp = np.diagonal(cms, axis1=-2, axis2=-1)
    support = cms.sum(axis=-1)
    predicted = cms.sum(axis=-2)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    neg, pos = LABELS.index("negative"), LABELS.index("positive")
    return {
        "avg_recall": recall.mean(axis=-1),
        "f1_pn": (f1[..., neg] + f1[..., pos]) / 2,
        "macro_f1": f1.mean(axis=-1),
        "accuracy": _safe_div(tp.sum(axis=-1), cms.sum(axis=(-2, -1))),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def _resample_cells(counts: np.ndarray, n_resamples: int, seed: int | None) -> np.ndarray:
    """``(n_resamples, cells)`` bootstrap draws of cell counts (multinomial = resampled examples)."""
    counts = np.asarray(counts, dtype=np.int64).ravel()
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    if n == 0:
        return np.zeros((n_resamples, counts.size), dtype=np.int64)
    return rng.multinomial(n, counts / n, size=n_resamples)


def _percentile_interval(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(samples, [alpha, 1 - alpha], axis=0)
    return lo, hi


def bootstrap_scores(
    y_true: Any,
    y_pred: Any,
    n_resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    n_classes: int = len(LABELS),
) -> dict[str, Any]:
    """Point estimates and percentile-bootstrap intervals of the headline and per-class metrics.

    Returns ``{"n_resamples", "seed", "confidence", "headline": {metric: {"value", "low", "high"}},
    "per_class": {label: {"precision"|"recall"|"f1": {"value", "low", "high"}}}}``.  Seeded: the same
    ``seed`` gives the same intervals.  The interval is clamped to contain the point estimate (it
    can only fall outside for degenerate, e.g. constant, statistics).
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    cm = confusion_matrix(y_true, y_pred, n_classes)
    return bootstrap_confusion(cm, n_resamples, seed, confidence)


def bootstrap_confusion(cm: np.ndarray, n_resamples: int = 1000, seed: int | None = 0,
                        confidence: float = 0.95) -> dict[str, Any]:
    """:func:`bootstrap_scores` from a confusion matrix."""
    cm = np.asarray(cm, dtype=np.int64)
    k = cm.shape[0]
    point = scores_from_confusions(cm)
    draws = scores_from_confusions(_resample_cells(cm, n_resamples, seed).reshape(-1, k, k))

    def interval(key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = _percentile_interval(draws[key], confidence)
        v = point[key]
        return v, np.minimum(lo, v), np.maximum(hi, v)

    headline = {}
    for key in HEADLINE:
        v, lo, hi = interval(key)
        headline[key] = {"value": float(v), "low": float(lo), "high": float(hi)}
    per_class: dict[str, dict[str, dict[str, float]]] = {name: {} for name in LABELS[:k]}
    for key in ("precision", "recall", "f1"):
        v, lo, hi = interval(key)
        for i, name in enumerate(LABELS[:k]):
            per_class[name][key] = {"value": float(v[i]), "low": float(lo[i]), "high": float(hi[i])}
    return {"n_resamples": int(n_resamples), "seed": seed, "confidence": confidence,
            "headline": headline, "per_class": per_class}


def paired_bootstrap(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    n_resamples: int = 10000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> dict[str, dict[str, float]]:
    """Paired bootstrap test of ``B - A`` on each headline metric, examples resampled jointly.

    For each metric: ``a``, ``b``, ``delta`` (b - a), a percentile interval of the delta, and a
    two-sided p-value ``p = min(1, 2 * min(P*(delta <= 0), P*(delta >= 0)))`` over the resamples
    (with the usual +1 correction, so it is never exactly 0).  Identical predictions give p = 1.
    """
    t = np.asarray(y_true, dtype=np.int64)
    a = np.asarray(pred_a, dtype=np.int64)
    b = np.asarray(pred_b, dtype=np.int64)
    if not t.shape == a.shape == b.shape:
        raise ValueError(f"y_true, pred_a and pred_b differ in length: {t.shape}, {a.shape}, {b.shape}")
    k = len(LABELS)
    cells = np.bincount((t * k + a) * k + b, minlength=k ** 3)
    draws = _resample_cells(cells, n_resamples, seed).reshape(-1, k, k, k)  # [true, pred_a, pred_b]
    sa, sb = scores_from_confusions(draws.sum(axis=3)), scores_from_confusions(draws.sum(axis=2))
    pa = scores_from_confusions(cells.reshape(k, k, k).sum(axis=2))
    pb = scores_from_confusions(cells.reshape(k, k, k).sum(axis=1))
    out = {}
    for key in HEADLINE:
        d = sb[key] - sa[key]
        lo, hi = _percentile_interval(d, confidence)
        le, ge = np.sum(d <= 0), np.sum(d >= 0)
        p = min(1.0, 2 * (min(le, ge) + 1) / (n_resamples + 1))
        delta = float(pb[key] - pa[key])
        out[key] = {"a": float(pa[key]), "b": float(pb[key]), "delta": delta,
                    "low": float(min(lo, delta)), "high": float(max(hi, delta)), "p_value": float(p)}
    return out


# -- calibration ---------------------------------------------------------------------------------
def _bin_index(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bins ``(i/n, (i+1)/n]`` (the first also takes 0)."""
    return np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)


def expected_calibration_error(confidence: Any, correct: Any, n_bins: int = 15) -> float:
    """ECE: sum over equal-width confidence bins of ``|bin| / n * |accuracy - mean confidence|``."""
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    if conf.shape != ok.shape:
        raise ValueError(f"confidence and correct differ in length: {conf.shape} vs {ok.shape}")
    if conf.size == 0:
        return 0.0
    idx = _bin_index(conf, n_bins)
    gap = np.abs(np.bincount(idx, ok, n_bins) - np.bincount(idx, conf, n_bins))  # = count * |acc - conf|
    return float(gap.sum() / conf.size)


def calibration(probs: Any, y_true: Any, n_bins: int = 15) -> dict[str, Any]:
    """Calibration of the top-label confidence: ECE, MCE, Brier score, log-loss and the bins.

    ``bins`` lists every bin with ``low``, ``high``, ``count``, ``confidence`` (mean) and
    ``accuracy`` (0 where the bin is empty).  ``brier`` is the multi-class Brier score
    (mean squared distance to the one-hot label, 0..2); ``log_loss`` is the mean negative
    log-probability of the gold class (clipped at machine epsilon, as scikit-learn does).
    """
    p = np.asarray(probs, dtype=np.float64)
    t = np.asarray(y_true, dtype=np.int64)
    if p.ndim != 2 or p.shape[0] != t.shape[0]:
        raise ValueError(f"probs must have shape (n, k) with n = len(y_true); got {p.shape} and {t.shape}")
    n = t.shape[0]
    conf = p.max(axis=1) if n else np.zeros(0)
    correct = (p.argmax(axis=1) == t).astype(np.float64) if n else np.zeros(0)
    idx = _bin_index(conf, n_bins)
    count = np.bincount(idx, minlength=n_bins)
    conf_sum = np.bincount(idx, conf, n_bins)
    ok_sum = np.bincount(idx, correct, n_bins)
    mean_conf = _safe_div(conf_sum, count)
    acc = _safe_div(ok_sum, count)
    gap = np.abs(acc - mean_conf)
    onehot = np.eye(p.shape[1])[t] if n else np.zeros_like(p)
    clipped = np.clip(p[np.arange(n), t], np.finfo(np.float64).eps, 1.0) if n else np.ones(0)
    return {
        "n_bins": n_bins,
        "ece": float((count * gap).sum() / n) if n else 0.0,
        "mce": float(gap[count > 0].max()) if n else 0.0,
        "brier": float(((p - onehot) ** 2).sum(axis=1).mean()) if n else 0.0,
        "log_loss": float(-np.log(clipped).mean()) if n else 0.0,
        "mean_confidence": float(conf.mean()) if n else 0.0,
        "accuracy": float(correct.mean()) if n else 0.0,
        "bins": [
            {"low": i / n_bins, "high": (i + 1) / n_bins, "count": int(count[i]),
             "confidence": float(mean_conf[i]), "accuracy": float(acc[i])}
            for i in range(n_bins)
        ],
    }
