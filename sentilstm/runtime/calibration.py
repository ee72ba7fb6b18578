"""Probabilities that mean what they say: a temperature (one, or one per class) or vector scaling fitted on dev data.

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
* ``class_temperature``: a temperature per *predicted* class, ``softmax(z / T_c)`` with
  ``c = argmax z``.  Every text keeps its label (so AvgRec is unchanged, as with one
  temperature), but each class's confidence is scaled on its own.  A model trained with class
  weights (as ours are, for AvgRec) is over-confident by a different amount for each class it
  predicts, which one temperature cannot undo: on the shipped model's dev data it lowers the ECE
  from 0.037 to 0.022 (0.027 cross-fitted).  ``auto`` takes it where it beats the temperature
  on held-out halves of the data.

The affine map is stored in the bundle (``config.json``, key ``calibration``; the weights stay as
trained) and folded into the head's Dense layer by :func:`apply_calibration`, the one place
every engine (NumPy, onnxruntime, Keras, exports) takes its weights from.  An ensemble's map is
folded into each member's head.  The temperature per predicted class cannot be folded (it
depends on the argmax): :func:`apply_calibration` adds it to the engine weights as
``calibration/top_scale`` (``1/T_c``), and each engine applies it after the softmax (NumPy:
:func:`sentilstm.runtime.numpy.top_temperature`; the ONNX graph; the Keras model's last layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sentilstm.config import CALIBRATIONS, ModelConfig
from sentilstm.labels import LABELS
from sentilstm.runtime.layout import TOP_SCALE_WEIGHTS, member_prefixes

__all__ = ["apply_calibration", "fit_calibration", "member_logits", "calibrated_probabilities", "CALIBRATIONS"]

N_BINS = 15  # ECE bins, as the evaluation report uses
LOG_T_BOUNDS = (np.log(0.05), np.log(20.0))
# "auto" considers the maps of several parameters (a temperature per predicted class, 3 parameters;
# vector scaling, 6, 3 of them class biases that move labels) only on at least this many labelled
# texts; below, a temperature (1 parameter, labels unchanged)
VECTOR_MIN_ROWS = 1000


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
    if calibration.get("top_scale") is not None:
        try:
            top = np.asarray(calibration["top_scale"], dtype=np.float64).reshape(k)
        except (TypeError, ValueError):
            raise ValueError(f"calibration top_scale must hold {k} numbers; got {calibration['top_scale']!r:.200}") from None
        if not (np.all(np.isfinite(top)) and np.all(top > 0)):
            raise ValueError(f"calibration top_scale must be finite and > 0; got {top}")
        out[TOP_SCALE_WEIGHTS] = top.astype(np.float32)
    for p in member_prefixes(config):
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


def calibrated_probabilities(logits: np.ndarray, scale: np.ndarray, bias: np.ndarray,
                             top_scale: np.ndarray | None = None) -> np.ndarray:
    """Members' mean of ``softmax(z * scale + bias)``: ``(n, 3)`` from ``(members, n, 3)``; then,
    given ``top_scale``, the temperature of each predicted class (:func:`~sentilstm.runtime.numpy.top_temperature`)."""
    z = logits * scale + bias
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    p = (e / e.sum(axis=-1, keepdims=True)).mean(axis=0)
    if top_scale is None:
        return p
    from sentilstm.runtime.numpy import top_temperature

    return top_temperature(p, top_scale)


Map = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]  # (scale, bias, top_scale)


def _nll(logits: np.ndarray, y: np.ndarray, scale: np.ndarray, bias: np.ndarray,
         top_scale: np.ndarray | None = None) -> float:
    p = calibrated_probabilities(logits, scale, bias, top_scale)[np.arange(len(y)), y]
    return float(-np.log(np.clip(p, 1e-300, 1.0)).mean())


def _fit(logits: np.ndarray, y: np.ndarray, method: str) -> Map:
    """``(scale, bias, top_scale)`` minimising the NLL of ``y`` (ids) under ``method``
    (``top_scale`` is None except for ``class_temperature``)."""
    from scipy.optimize import minimize, minimize_scalar

    k = len(LABELS)
    zero, ones = np.zeros(k), np.ones(k)
    res = minimize_scalar(lambda lt: _nll(logits, y, np.full(k, np.exp(-lt)), zero),
                          bounds=LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-5})
    scale = np.full(k, float(np.exp(-res.x)))
    if method == "temperature":
        return scale, zero, None
    if method == "class_temperature":  # log T per predicted class, from the single temperature
        res = minimize(lambda v: _nll(logits, y, ones, zero, np.exp(-v)), np.full(k, -np.log(scale[0])),
                       method="L-BFGS-B", bounds=[LOG_T_BOUNDS] * k)
        return ones, zero, np.exp(-res.x)
    x0 = np.concatenate([np.log(scale), zero])
    res = minimize(lambda v: _nll(logits, y, np.exp(v[:k]), v[k:] - v[k:].mean()), x0, method="L-BFGS-B",
                   bounds=[(-LOG_T_BOUNDS[1], -LOG_T_BOUNDS[0])] * k + [(-10.0, 10.0)] * k)
    return np.exp(res.x[:k]), res.x[k:] - res.x[k:].mean(), None  # the bias is defined up to a constant


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
    ``temperature`` where it is one; ``top_scale`` and ``temperatures``, by predicted class, for
    ``class_temperature``), ECE / log loss / Brier / AvgRec ``before`` and ``after`` on
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
    many = method == "auto" and len(y) >= VECTOR_MIN_ROWS
    candidates = ["temperature", "class_temperature", "vector"] if many else \
        ["temperature" if method == "auto" else method]
    cross: dict[str, dict[str, float]] = {}
    if np.min(np.bincount(y, minlength=k)) >= 2:  # each half holds every class present
        for cand in candidates:
            oof = np.zeros_like(raw)
            for fit_idx, measure_idx in _halves(y, seed):
                s, c, top = _fit(logits[:, fit_idx], y[fit_idx], cand)
                oof[measure_idx] = calibrated_probabilities(logits[:, measure_idx], s, c, top)
            cross[cand] = summary(oof, y)
    fits = {cand: _fit(logits, y, cand) for cand in candidates}
    chosen = candidates[0]
    if len(candidates) > 1 and cross:
        # a map with more parameters only where it beats the temperature on held-out halves, and
        # never at the cost of AvgRec (class_temperature keeps every label; vector may move some)
        best = cross["temperature"]["log_loss"] - 0.002
        for cand in candidates[1:]:
            c = cross[cand]
            full = summary(calibrated_probabilities(logits, *fits[cand]), y)
            if (c["log_loss"] < best and c["avg_recall"] >= before["avg_recall"]
                    and full["avg_recall"] >= before["avg_recall"]):
                chosen, best = cand, c["log_loss"]
    scale, bias, top = fits[chosen]
    probs = calibrated_probabilities(logits, scale, bias, top)
    record: dict[str, Any] = {
        "method": chosen,
        **({"temperature": round(float(1.0 / scale[0]), 6)} if chosen == "temperature" else {}),
        **({"temperatures": {label: round(float(1.0 / v), 6) for label, v in zip(LABELS, top)},
            "top_scale": [float(v) for v in top]} if top is not None else {}),
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
