"""Gradients of the class probabilities with respect to the embedding inputs, in NumPy.

Integrated gradients (:mod:`sentilstm.explanations`) need ``d p_c / d x`` for every class ``c`` at
dozens of points along a path.  Getting them from the Keras model costs a TensorFlow import and
a graph trace (10–20 s before the first answer); this module runs the forward pass of
:class:`~sentilstm.runtime.numpy.NumpyRuntime` on embedding vectors, keeps what the backward pass
needs, and back-propagates by hand through the softmax head, the pooling (max, mean,
attention) and the (bi)LSTM layers (backpropagation through time, with the runtime's masking:
a padded step passes its state and its gradient through unchanged).  All three classes are
back-propagated at once along a leading class axis.  Tests check it against
``tf.GradientTape`` on the Keras model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sentilstm.runtime.numpy import TINY, Member, NumpyRuntime, top_temperature

__all__ = ["member_probabilities_and_gradients", "probabilities_and_gradients"]


def _lstm_forward(x: np.ndarray, mask: np.ndarray, kernel: np.ndarray, rec: np.ndarray, bias: np.ndarray,
                  reverse: bool) -> tuple[np.ndarray, list[Any]]:
    """One direction, as :meth:`NumpyRuntime._lstm`, also returning per-step caches."""
    cache: list[Any] = [None] * x.shape[1]
    return Member._lstm(x, mask, kernel, rec, bias, reverse, cache), cache


def _lstm_backward(dout: np.ndarray, mask: np.ndarray, kernel: np.ndarray, rec: np.ndarray, cache: list[Any],
                   reverse: bool) -> np.ndarray:
    """``d/dx`` of one direction given ``dout`` ``(K, batch, time, units)``; returns ``(K, batch, time, dim)``."""
    k, batch, steps, units = dout.shape
    dx = np.zeros((k, batch, steps, kernel.shape[0]), dtype=np.float32)
    dh = np.zeros((k, batch, units), dtype=np.float32)
    dc = np.zeros((k, batch, units), dtype=np.float32)
    kernel_t, rec_t = kernel.T, rec.T
    for t in (range(steps) if reverse else range(steps - 1, -1, -1)):
        i, f, g, o, tc, c_prev = cache[t]
        m = mask[:, t: t + 1].astype(np.float32)
        dh_t = dh + dout[:, :, t]
        dh_new = m * dh_t
        dc_new = m * dc + dh_new * o * (1.0 - tc * tc)
        dz = np.concatenate([dc_new * g * i * (1.0 - i),  # input gate
                             dc_new * c_prev * f * (1.0 - f),  # forget gate
                             dc_new * i * (1.0 - g * g),  # candidate
                             dh_new * tc * o * (1.0 - o)], axis=-1)  # output gate
        dx[:, :, t] = dz @ kernel_t
        dh = dz @ rec_t + (1.0 - m) * dh_t
        dc = dc_new * f + (1.0 - m) * dc
    return dx


def member_probabilities_and_gradients(member: Member, x: np.ndarray,
                                       mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One member on embeddings ``x`` ``(batch, time, dim)``: probabilities ``(batch, 3)`` and
    ``d p_c / d x`` as ``(3, batch, time, dim)``."""
    x = np.asarray(x, dtype=np.float32)
    caches = []
    h = x
    for directions in member.layers:
        outs = []
        for kernel, rec, bias, rev in directions:
            out, cache = _lstm_forward(h, mask, kernel, rec, bias, rev)
            outs.append(out)
            caches.append((cache, kernel, rec, rev))
        h = np.concatenate(outs, axis=-1) if len(outs) > 1 else outs[0]
    m = mask[..., None].astype(np.float32)
    count = m.sum(axis=1)
    pooled, back = [], []
    for mode in member.config.pooling:
        if mode == "max":
            masked = np.where(m > 0, h, np.float32(-1e9))
            arg = masked.argmax(axis=1)  # (batch, dim)
            pooled.append(np.where(count > 0, np.take_along_axis(masked, arg[:, None], 1)[:, 0], 0.0))
            back.append(("max", arg))
        elif mode == "mean":
            pooled.append((h * m).sum(axis=1) / np.maximum(count, 1.0))
            back.append(("mean", None))
        else:
            ak, ab, av = member.att
            a = np.tanh(h @ ak + ab)
            scores = np.where(mask, a @ av, np.float32(-1e9))
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            w = e / e.sum(axis=1, keepdims=True) * mask
            pooled.append((h * w[..., None]).sum(axis=1))
            back.append(("attention", (a, w)))
    feats = np.concatenate(pooled, axis=-1).astype(np.float32)
    logits = feats @ member.head_kernel + member.head_bias
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    # backward: one slice of the leading axis per class c, seeded with d p_c / d logits
    n_classes = probs.shape[1]
    eye = np.eye(n_classes, dtype=np.float32)
    dlogits = probs.T[:, :, None] * (eye[:, None, :] - probs[None])  # (3, batch, 3)
    dfeats = dlogits @ member.head_kernel.T  # (3, batch, feats)
    dim = h.shape[-1]
    dh = np.zeros((n_classes, *h.shape), dtype=np.float32)
    for j, (mode, saved) in enumerate(back):
        g = dfeats[..., j * dim: (j + 1) * dim]  # (3, batch, dim)
        if mode == "max":
            # the gradient goes to the step holding the maximum (none for an all-padding row)
            onehot = (np.arange(h.shape[1])[None, :, None] == saved[:, None, :]) & (count > 0)[:, :, None]
            dh += g[:, :, None, :] * onehot[None].astype(np.float32)
        elif mode == "mean":
            dh += g[:, :, None, :] * (m / np.maximum(count, 1.0)[:, None, :])[None]
        else:
            a, w = saved
            ak, _, av = member.att
            dh += w[None, :, :, None] * g[:, :, None, :]
            dw = np.einsum("kbd,btd->kbt", g, h)
            ds = w[None] * (dw - (w[None] * dw).sum(axis=-1, keepdims=True))
            dpre = ds[..., None] * av * (1.0 - a * a)[None]  # (3, batch, time, att)
            dh += dpre @ ak.T
    for directions in reversed(member.layers):
        n_dir = len(directions)
        layer_caches = caches[-n_dir:]
        del caches[-n_dir:]
        units = dh.shape[-1] // n_dir
        dx = None
        for d, (cache, kernel, rec, rev) in enumerate(layer_caches):
            part = _lstm_backward(dh[..., d * units: (d + 1) * units], mask, kernel, rec, cache, rev)
            dx = part if dx is None else dx + part
        dh = dx  # type: ignore[assignment]
    return probs, dh


def probabilities_and_gradients(runtime: NumpyRuntime, xs: list[np.ndarray],
                                mask: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The (ensemble-averaged) probabilities and, per member, ``d p_c / d x_member`` ``(3, batch, time, dim)``.

    ``xs[k]``: member ``k``'s embedding vectors ``(batch, time, dim)``.  The ensemble output is
    the members' mean, so member ``k``'s gradient is its own divided by the number of members.
    """
    k = len(runtime.members)
    probs, grads = [], []
    for member, x in zip(runtime.members, xs):
        p, g = member_probabilities_and_gradients(member, x, mask)
        probs.append(p)
        grads.append(g / k)
    mean = np.mean(probs, axis=0, dtype=np.float32)
    if runtime.top_scale is None:
        return mean, grads
    # the calibration's temperature per class (numpy.top_temperature): q = softmax(s * L), L = log p,
    # s = Σ_c p_c² r_c / Σ_c p_c² (r = top_scale); chained into every gradient through
    # dq_i/dp_j = q_i * (s (δ_ij - q_j) / p_j + ds/dp_j (L_i - Σ_k q_k L_k)), ds/dp_j = 2 p_j (r_j - s) / Σ p²
    p = np.maximum(mean.astype(np.float64), TINY)
    r = runtime.top_scale.astype(np.float64)
    q = top_temperature(p, r)
    sq = (p * p).sum(axis=1, keepdims=True)
    s = (p * p) @ r[:, None] / sq  # (batch, 1)
    logp = np.log(p)
    ds = 2 * p * (r[None] - s) / sq  # (batch, j)
    centred = logp - (q * logp).sum(axis=1, keepdims=True)  # (batch, i)
    eye = np.eye(q.shape[1])[None]
    jac = q[:, :, None] * (s[:, :, None] * (eye - q[:, None, :]) / p[:, None, :]
                           + ds[:, None, :] * centred[:, :, None])  # (batch, i, j)
    return q.astype(np.float32), [np.einsum("bij,jbtd->ibtd", jac, g).astype(np.float32) for g in grads]
