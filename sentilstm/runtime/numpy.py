"""NumPy inference runtime: the trained Keras model's forward pass, without Keras.

Importing TensorFlow costs seconds and hundreds of MB; predicting with a small LSTM needs
neither.  :class:`NumpyRuntime` reads the same weights (``weights.npz``) and computes the same
function as :func:`sentilstm.nn.model.build_model` in inference mode — embedding, masked
(bi)LSTM with the equations of :mod:`sentilstm.nn.cell`, masked pooling, softmax — so
``sentilstm predict`` starts fast.  The tests check it against the Keras model to 1e-5.
"""

from __future__ import annotations

import numpy as np

from sentilstm.config import ModelConfig
from sentilstm.runtime.layout import (
    HEAD_WEIGHTS, POOLING_WEIGHTS, TOP_SCALE_WEIGHTS, cell_weights, embedding_weights, member_prefixes,
)

__all__ = ["NumpyRuntime", "top_temperature", "TINY"]

TINY = 1e-30  # probabilities are floored here before their log (float32 underflows near 1e-38)


def top_temperature(probs: np.ndarray, top_scale: np.ndarray) -> np.ndarray:
    """The calibration step of a temperature per class: ``q = softmax(s(p) * log p)``.

    ``s(p) = Σ_c w_c / T_c`` with ``w_c = p_c² / Σ_k p_k²``: each text gets one temperature, a mix
    of the classes' temperatures dominated by the class it is labelled (``top_scale`` holds
    ``1/T_c``).  For one model ``p = softmax(z)`` this is ``softmax(z * s(p))``: a positive
    scale of the logits, so the label never changes, while each class's confidence is scaled on
    its own.  Smooth in ``p`` (a hard ``T[argmax p]`` would jump at the decision boundary and
    break the completeness of integrated gradients).  Written on probabilities (via ``log p``),
    it applies after an ensemble's mean as well.
    """
    p = np.asarray(probs)
    sq = p * p
    s = (sq @ np.asarray(top_scale, dtype=p.dtype) / sq.sum(axis=1))[:, None]
    z = s * np.log(np.maximum(p, TINY))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # σ(z) = (1 + tanh(z/2)) / 2: exact, and it cannot overflow the way 1/(1+exp(-z)) can.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class NumpyRuntime:
    """Inference-only forward pass of the classifier on NumPy arrays (ensembles: members' mean)."""

    def __init__(self, config: ModelConfig, weights: dict[str, np.ndarray]) -> None:
        self.config = config
        self.members = [Member(config, weights, p) for p in member_prefixes(config)]
        top = weights.get(TOP_SCALE_WEIGHTS)
        #: 1/T per class (see :func:`top_temperature`), or None
        self.top_scale = None if top is None else np.asarray(top, dtype=np.float32)

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """Class probabilities ``(batch, 3)`` for right-padded token ids ``(batch, time)``."""
        ids = np.asarray(ids)
        probs = [m(ids) for m in self.members]
        p = probs[0] if len(probs) == 1 else np.mean(probs, axis=0, dtype=np.float32)
        return p if self.top_scale is None else top_temperature(p, self.top_scale)


class Member:
    """One classifier of the (possibly ensembled) model; layer names carry ``prefix``."""

    def __init__(self, config: ModelConfig, weights: dict[str, np.ndarray], prefix: str) -> None:
        self.config = config
        w = {k[len(prefix):]: np.asarray(v, dtype=np.float32) for k, v in weights.items() if k.startswith(prefix)}
        self.embeddings = w[embedding_weights()]
        self.layers: list[list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]] = []
        for layer in range(config.layers):
            prefixes = cell_weights(layer, config.bidirectional, prefix)
            self.layers.append(
                [(w[p + "kernel"], w[p + "recurrent_kernel"], w[p + "bias"], rev) for p, rev in prefixes]
            )
        if "attention" in config.pooling:
            self.att = tuple(w[n] for n in POOLING_WEIGHTS)
        self.head_kernel, self.head_bias = (w[n] for n in HEAD_WEIGHTS)

    @staticmethod
    def _lstm(x: np.ndarray, mask: np.ndarray, kernel: np.ndarray, rec: np.ndarray, bias: np.ndarray,
              reverse: bool, cache: list | None = None) -> np.ndarray:
        """Run one LSTM direction over ``x`` (batch, time, dim); masked steps keep the state.

        ``cache``: a list of length ``time`` that receives each step's gates (for backprop.py).
        """
        batch, steps, _ = x.shape
        units = rec.shape[0]
        # Hoisted input projection: one big matmul for all steps instead of one per step.
        xz = x @ kernel + bias
        h = np.zeros((batch, units), dtype=np.float32)
        c = np.zeros((batch, units), dtype=np.float32)
        out = np.zeros((batch, steps, units), dtype=np.float32)
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            z = xz[:, t] + h @ rec
            i = _sigmoid(z[:, :units])
            f = _sigmoid(z[:, units : 2 * units])
            c_hat = np.tanh(z[:, 2 * units : 3 * units])
            o = _sigmoid(z[:, 3 * units :])
            c_new = f * c + i * c_hat
            tanh_c = np.tanh(c_new)
            h_new = o * tanh_c
            if cache is not None:
                cache[t] = (i, f, c_hat, o, tanh_c, c)
            m = mask[:, t : t + 1]
            c = np.where(m, c_new, c)
            h = np.where(m, h_new, h)
            out[:, t] = h
        return out

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        logits = self.logits(ids)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def logits(self, ids: np.ndarray) -> np.ndarray:
        """The head's pre-softmax outputs ``(batch, 3)`` (calibration.py fits on them)."""
        mask = ids != 0
        x = self.embeddings[ids]
        for directions in self.layers:
            outs = [self._lstm(x, mask, k, r, b, rev) for k, r, b, rev in directions]
            x = np.concatenate(outs, axis=-1) if len(outs) > 1 else outs[0]
        m = mask[..., None].astype(np.float32)
        count = m.sum(axis=1)
        pooled = []
        for mode in self.config.pooling:
            if mode == "max":
                mx = np.where(m > 0, x, np.float32(-1e9)).max(axis=1)
                pooled.append(np.where(count > 0, mx, 0.0))
            elif mode == "mean":
                pooled.append((x * m).sum(axis=1) / np.maximum(count, 1.0))
            else:  # attention
                k, b, v = self.att
                scores = np.tanh(x @ k + b) @ v
                scores = np.where(mask, scores, np.float32(-1e9))
                scores = np.exp(scores - scores.max(axis=1, keepdims=True))
                weights = scores / scores.sum(axis=1, keepdims=True) * mask
                pooled.append((x * weights[..., None]).sum(axis=1))
        feats = np.concatenate(pooled, axis=-1).astype(np.float32)
        return feats @ self.head_kernel + self.head_bias
