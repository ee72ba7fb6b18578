"""Probabilities that mean what they say: temperature (or vector) scaling fitted on dev data.

A network trained to minimise (class-weighted) cross-entropy ends up over- or under-confident:
its top probability is not the share of texts it gets right.  After training we fit, on
labelled held-out data, an affine map of the head's logits ``z -> z * scale + bias`` that
minimises the negative log-likelihood (Guo et al., 2017, "On calibration of modern neural
networks"):

* ``temperature``: ``scale = 1/T`` for every class, ``bias = 0``.  The argmax, hence every
  accuracy figure, is unchanged.
* ``vector``: a scale and a bias per class (it may move a few labels); ``auto`` takes it only
  where it beats the temperature on held-out halves of the data (at least ``VECTOR_MIN_ROWS``
  texts) without lowering AvgRec.

The map is stored in the bundle (``config.json``, key ``calibration``; the weights stay as
trained) and folded into the head's Dense layer by :func:`apply_calibration`, the one place
every engine (NumPy, onnxruntime, Keras, exports) takes its weights from.  An ensemble's map is
folded into each member's head.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sentilstm.config import CALIBRATIONS, ModelConfig
from sentilstm.labels import LABELS

__all__ = ["apply_calibration", "fit_calibration", "member_logits", "calibrated_probabilities", "CALIBRATIONS"]

N_BINS = 15  # ECE bins, as the evaluation report uses
LOG_T_BOUNDS = (np.log(0.05), np.log(20.0))
# "auto" considers vector scaling (6 parameters, 3 of them class biases that move labels) only on
# at least this many labelled texts; below, a temperature (1 parameter, labels unchanged)
VECTOR_MIN_ROWS = 1000


def _prefixes(config: ModelConfig) -> list[str]:
    # = model.member_prefixes, without importing Keras
    return [""] if config.ensemble == 1 else [f"m{k}_" for k in range(config.ensemble)]


def apply_calibration(config: ModelConfig, weights: dict[str, np.ndarray],
                      calibration: dict[str, Any] | None) -> dict[str, np.ndarray]:
    """``weights`` with the calibration map folded into each head (the same dict if there is none).

    Dense head: ``z = f @ K + b``; calibrated ``z * s + c = f @ (K * s) + (b * s + c)``.
    """
    if not calibration or calibration.get("method", "none") == "none":
        return weights
    k = len(LABELS)
    try:
        scale = np.asarray(calibration["scale"], dtype=np.float64).reshape(k)
        bias = np.asarray(calibration["bias"], dtype=np.float64).reshape(k)
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"calibration must hold 'scale' and 'bias', {k} numbers each; got {calibration!r:.200}") from None
    if not (np.all(np.isfinite(scale)) and np.all(scale > 0) and np.all(np.isfinite(bias))):
        raise ValueError(f"calibration scale must be finite and > 0 and bias finite; got {scale}, {bias}")
    out = dict(weights)
    for p in _prefixes(config):
        kernel = np.asarray(weights[f"{p}head/kernel"], dtype=np.float64)
        b = np.asarray(weights[f"{p}head/bias"], dtype=np.float64)
        out[f"{p}head/kernel"] = (kernel * scale).astype(np.float32)
        out[f"{p}head/bias"] = (b * scale + bias).astype(np.float32)
    return out


def member_logits(config: ModelConfig, weights: dict[str, np.ndarray], seqs: Sequence[Sequence[int]],
                  batch_size: int = 256) -> np.ndarray:
    """Each member's head logits ``(members, n, 3)`` of token-id sequences (NumPy runtime)."""
    from sentilstm.runtime.numpy import NumpyRuntime
    from sentilstm.tokenizer import TextEncoder

    rt = NumpyRuntime(config, weights)
    out = np.zeros((len(rt.members), len(seqs), len(LABELS)), dtype=np.float64)
    for idx, x in TextEncoder.buckets(seqs, batch_size, multiple=1):
        for m, member in enumerate(rt.members):
            out[m, idx] = member.logits(x)
    return out


def calibrated_probabilities(logits: np.ndarray, scale: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Members' mean of ``softmax(z * scale + bias)``: ``(n, 3)`` from ``(members, n, 3)``."""
    z = logits * scale + bias
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).mean(axis=0)


def _nll(logits: np.ndarray, y: np.ndarray, scale: np.ndarray, bias: np.ndarray) -> float:
    p = calibrated_probabilities(logits, scale, bias)[np.arange(len(y)), y]
    return float(-np.log(np.clip(p, 1e-300, 1.0)).mean())


def _fit(logits: np.ndarray, y: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, bias)`` minimising the NLL of ``y`` (ids) under ``method``."""
    from scipy.optimize import minimize, minimize_scalar

    k = len(LABELS)
    zero = np.zeros(k)
    res = minimize_scalar(lambda lt: _nll(logits, y, np.full(k, np.exp(-lt)), zero),
                          bounds=LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-5})
    scale = np.full(k, float(np.exp(-res.x)))
    if method == "temperature":
        return scale, zero
    x0 = np.concatenate([np.log(scale), zero])
    res = minimize(lambda v: _nll(logits, y, np.exp(v[:k]), v[k:] - v[k:].mean()), x0, method="L-BFGS-B",
                   bounds=[(-LOG_T_BOUNDS[1], -LOG_T_BOUNDS[0])] * k + [(-10.0, 10.0)] * k)
    return np.exp(res.x[:k]), res.x[k:] - res.x[k:].mean()  # the bias is defined up to a constant


def summary(probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """ECE (15 bins), log loss, Brier score, AvgRec and accuracy of probabilities ``(n, 3)``."""
    from sentilstm.metrics import calibration, classification_scores

    cal = calibration(probs, y, N_BINS)
    scores = classification_scores(y, probs.argmax(axis=1))
    return {"ece": round(cal["ece"], 5), "log_loss": round(cal["log_loss"], 5), "brier": round(cal["brier"], 5),
            "mean_confidence": round(cal["mean_confidence"], 5), "avg_recall": round(scores["avg_recall"], 5),
            "accuracy": round(scores["accuracy"], 5)}


def _halves(y: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two stratified halves of ``y``'s indices, as (fit, measure) pairs."""
    rng = np.random.default_rng(seed)
    a, b = [], []
    for c in range(len(LABELS)):
        idx = rng.permutation(np.flatnonzero(y == c))
        a.append(idx[: len(idx) // 2])
        b.append(idx[len(idx) // 2:])
    first, second = np.sort(np.concatenate(a)), np.sort(np.concatenate(b))
    return [(first, second), (second, first)]


def fit_calibration(config: ModelConfig, weights: dict[str, np.ndarray], seqs: Sequence[Sequence[int]],
                    labels: np.ndarray, method: str = "auto", source: str | None = None,
                    seed: int = 0) -> tuple[dict[str, Any] | None, np.ndarray]:
    """Fit the calibration map of the (uncalibrated) ``weights`` on labelled token ids.

    Returns ``(record, probs)``: the record stored in the bundle (``None`` for ``method="none"``)
    and the calibrated probabilities of ``seqs``.  The record holds the map (``scale``, ``bias``;
    ``temperature`` where it is one), ECE / log loss / Brier / AvgRec ``before`` and ``after`` on
    the fitting data (optimistic) and a ``cross_fit``: fitted on one stratified half, measured on
    the other, both ways (honest).
    """
    if method not in CALIBRATIONS:
        raise ValueError(f"calibration method must be one of {', '.join(CALIBRATIONS)}, got {method!r}")
    y = np.asarray(labels, dtype=np.int64)
    logits = member_logits(config, weights, seqs)
    k = len(LABELS)
    ones, zero = np.ones(k), np.zeros(k)
    raw = calibrated_probabilities(logits, ones, zero)
    if method == "none" or len(y) == 0:
        return None, raw
    before = summary(raw, y)
    candidates = ["temperature", "vector"] if method == "auto" and len(y) >= VECTOR_MIN_ROWS else \
        ["temperature" if method == "auto" else method]
    cross: dict[str, dict[str, float]] = {}
    if np.min(np.bincount(y, minlength=k)) >= 2:  # each half holds every class present
        for cand in candidates:
            oof = np.zeros_like(raw)
            for fit_idx, measure_idx in _halves(y, seed):
                s, c = _fit(logits[:, fit_idx], y[fit_idx], cand)
                oof[measure_idx] = calibrated_probabilities(logits[:, measure_idx], s, c)
            cross[cand] = summary(oof, y)
    fits = {cand: _fit(logits, y, cand) for cand in candidates}
    chosen = candidates[0]
    if len(candidates) > 1 and cross:
        t, v = cross["temperature"], cross["vector"]
        v_full = summary(calibrated_probabilities(logits, *fits["vector"]), y)
        if (v["log_loss"] < t["log_loss"] - 0.002 and v["avg_recall"] >= before["avg_recall"]
                and v_full["avg_recall"] >= before["avg_recall"]):
            chosen = "vector"
    scale, bias = fits[chosen]
    probs = calibrated_probabilities(logits, scale, bias)
    record: dict[str, Any] = {
        "method": chosen,
        **({"temperature": round(float(1.0 / scale[0]), 6)} if chosen == "temperature" else {}),
        "scale": [float(v) for v in scale],
        "bias": [float(v) for v in bias],
        "fitted_on": {**({"source": source} if source else {}), "rows": int(len(y))},
        "n_bins": N_BINS,
        "before": before,
        "after": summary(probs, y),
    }
    if cross:
        record["cross_fit"] = {"folds": 2, "seed": seed, "before": before, "after": cross[chosen],
                               **({"candidates": cross} if len(cross) > 1 else {})}
    return record, probs
