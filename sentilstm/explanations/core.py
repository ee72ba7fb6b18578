"""Why did the model say that?  Running sentiment and per-token attributions.

    >>> import sentilstm
    >>> ex = sentilstm.explain("not bad at all, actually quite good")
    >>> ex.label, ex.tokens              # ('positive', ['not', 'bad', 'at', 'all', ',', ...])
    >>> ex.trajectory                    # (T, 3): P(class) if the text ended after each token
    >>> ex.attributions                  # (T, 3): each token's push towards each class
    >>> print(ex.render())               # coloured terminal view; ex in a notebook renders HTML

**Running sentiment** (``Explanation.trajectory``): row ``t`` holds the class probabilities the
classifier gives to the text cut after token ``t`` — the model run on the prefix
``tokens[: t + 1]``.  For a unidirectional LSTM this is the classifier reading left to right
and stopping at ``t``.  For a bidirectional one it is the only honest reading of "the sentiment
so far": the backward direction reads the text from its end, so its state at step ``t`` has
already seen every later token, and applying the head to the states at step ``t`` would leak the
rest of the sentence into early steps.  Running the model on each prefix shows no future token.
All prefixes run as one padded batch through the NumPy runtime (no TensorFlow); the last row is
the prediction for the whole text (``predict_proba``, equal within 1e-5).

**Attributions** (``Explanation.attributions``, ``(T, 3)`` in :data:`~sentilstm.LABELS` order):

* ``"ig"`` (default) — integrated gradients (Sundararajan et al. 2017) over the embedding
  vectors, from a baseline of all-zero embeddings at the same positions (same length, same
  mask, no content), with a ``steps``-point midpoint Riemann sum.  Stated property,
  *completeness*: for each class ``c``, ``sum_t A[t, c] = p_c(text) - p_c(baseline)``; the
  Riemann-sum error is reported as ``completeness_gap`` (typically ~1e-3 with 48 steps).
  Gradients come from a hand-written backward pass through the NumPy runtime
  (:mod:`sentilstm.runtime.backprop`, no TensorFlow, fast), or with ``engine="keras"`` from
  ``tf.GradientTape`` on the Keras model (``clf.keras_model()``); the tests check that both
  agree.  For an ensemble the path scales every member's embeddings together, so the
  attributions are the mean of the members' and completeness holds for the averaged
  probabilities the model outputs.
* ``"occlusion"`` — ``A[t, c] = p_c(text) - p_c(text without token t)``.  Stated property: each
  value is exactly the change in probability from deleting that one token (interactions between
  tokens are not split up, so values need not sum to anything).  NumPy only, fast.

Renderings (:meth:`Explanation.render` for terminals, ``to_json``, ``to_html`` / ``_repr_html_``)
shade each token by its *polarity*, attribution to positive minus attribution to negative (green
towards positive, red towards negative), whatever the predicted label.

``sentilstm.explain(texts, model)`` (:func:`sentilstm.classifier.explain`) calls this module's
:func:`explain`; import the other names with ``from sentilstm.explanations import Explanation``.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from sentilstm.explanations.render import Explanation
from sentilstm.labels import LABELS
from sentilstm.runtime.layout import (
    CALIBRATION_LAYER, embedding_weights, head_layer, member_prefixes, pooling_layer, rnn_layer,
)
from sentilstm.text import as_texts
from sentilstm.tokenizer import PAD_ID, UNK_ID, TextEncoder

__all__ = ["explain", "running_sentiment", "occlusion", "integrated_gradients", "METHODS", "DEFAULT_STEPS"]

METHODS = ("ig", "occlusion")
DEFAULT_STEPS = 48


# -- computations ----------------------------------------------------------------------------------
def _classifier(model: Any) -> Any:
    """The fitted classifier to explain; :func:`sentilstm.classifier.explain` loads bundle paths."""
    if model is None or isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        raise TypeError("sentilstm.explanations.core.explain needs a fitted SentimentClassifier; "
                        "sentilstm.explain(texts, path) loads one")
    model._check_fitted()
    return model


def _probs_ids(clf: Any, rows: Sequence[Sequence[int]], batch_size: int = 512) -> np.ndarray:
    """NumPy-runtime probabilities of token-id sequences (an empty one reads as ``[UNK]``)."""
    seqs = [list(r) or [UNK_ID] for r in rows]
    out = np.zeros((len(seqs), len(LABELS)), dtype=np.float32)

    for idx, x in TextEncoder.buckets(seqs, batch_size, multiple=1):
        out[idx] = clf.runtime_(x)
    return out


def running_sentiment(clf: Any, ids: Sequence[int]) -> np.ndarray:
    """``(T, 3)``: probabilities of every prefix ``ids[: t + 1]``, run as one padded batch."""
    n = len(ids)
    batch = np.full((n, n), PAD_ID, dtype=np.int32)
    for t in range(n):
        batch[t, : t + 1] = ids[: t + 1]
    return np.asarray(clf.runtime_(batch), dtype=np.float32)


def occlusion(clf: Any, ids: Sequence[int]) -> np.ndarray:
    """``(T, 3)``: ``p(ids) - p(ids without token t)`` for each ``t`` (NumPy runtime)."""
    ids = list(ids)
    rows = [ids] + [ids[:t] + ids[t + 1:] for t in range(len(ids))]
    p = _probs_ids(clf, rows)
    return (p[0][None, :] - p[1:]).astype(np.float32)


# One Keras gradient engine per classifier (it holds the layers of the classifier's Keras model).
_IG_ENGINES: "weakref.WeakKeyDictionary[Any, _IntegratedGradients]" = weakref.WeakKeyDictionary()


def integrated_gradients(clf: Any, seqs: Sequence[Sequence[int]], steps: int = DEFAULT_STEPS,
                         engine: str = "numpy",
                         max_rows: int = 8192) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """IG of each sequence: ``(attributions (T, 3), p(x) (3,), p(baseline) (3,))``.

    ``engine="numpy"`` (default): gradients by :mod:`sentilstm.runtime.backprop` (no TensorFlow);
    ``"keras"``: ``tf.GradientTape`` on ``clf.keras_model()`` (same numbers to ~1e-6; tested).
    Sequences of similar length are batched together, ``steps`` path points each, at most about
    ``max_rows`` (path points x tokens) per batch.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if engine == "numpy":
        run = _NumpyIntegratedGradients(clf)
    elif engine == "keras":
        model = clf.keras_model()
        run = _IG_ENGINES.get(clf)  # type: ignore[assignment]
        if run is None or run.model is not model:  # type: ignore[attr-defined]
            run = _IG_ENGINES[clf] = _IntegratedGradients(clf, model)
    else:
        raise ValueError(f"engine must be 'numpy' or 'keras', got {engine!r}")
    results: list[Any] = [None] * len(seqs)
    order = np.argsort([len(s) for s in seqs], kind="stable")
    start = 0
    while start < len(order):
        longest, n = len(seqs[order[start]]), 1
        while start + n < len(order) and (n + 1) * steps * max(longest, len(seqs[order[start + n]])) <= max_rows:
            longest = max(longest, len(seqs[order[start + n]]))
            n += 1
        idx = order[start: start + n]
        attrs, fx, fb = run([seqs[i] for i in idx], steps)
        for j, i in enumerate(idx):
            results[i] = (attrs[j, : len(seqs[i])], fx[j], fb[j])
        start += n
    return results


def _embed(embeddings: Sequence[np.ndarray], seqs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ids -> each member's embedding vectors ``(members, n, T, dim)`` (0 at padding), mask."""
    ids = np.zeros((len(seqs), max(len(s) for s in seqs)), dtype=np.int64)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = s
    mask = ids != PAD_ID
    x = np.stack([np.where(mask[..., None], emb[ids], 0.0) for emb in embeddings]).astype(np.float32)
    return x, mask


class _NumpyIntegratedGradients:
    """IG with the hand-written backward pass of :mod:`sentilstm.runtime.backprop` (NumPy only)."""

    def __init__(self, clf: Any) -> None:
        self.runtime = clf.runtime_
        self.embeddings = [np.asarray(clf.weights[embedding_weights(p)], dtype=np.float32)
                           for p in member_prefixes(clf.config_.model)]

    def __call__(self, seqs: Sequence[Sequence[int]], steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from sentilstm.runtime.backprop import probabilities_and_gradients

        x, mask = _embed(self.embeddings, seqs)
        _, n, t, dim = x.shape
        # midpoints of `steps` equal intervals, then alpha = 0 (baseline) and 1 (input) for p(.)
        alphas = np.concatenate([(np.arange(steps) + 0.5) / steps, [0.0, 1.0]]).astype(np.float32)
        s = len(alphas)
        paths = [(alphas[None, :, None, None] * xm[:, None]).reshape(n * s, t, dim) for xm in x]
        probs, grads = probabilities_and_gradients(self.runtime, paths, np.repeat(mask, s, axis=0))
        attr = np.zeros((n, t, len(LABELS)), dtype=np.float32)
        for xm, g in zip(x, grads):
            avg = g.reshape(len(LABELS), n, s, t, dim)[:, :, :steps].mean(axis=2)  # (3, n, t, dim)
            attr += np.einsum("cntd,ntd->ntc", avg, xm)
        probs = probs.reshape(n, s, len(LABELS))
        return attr, probs[:, steps + 1], probs[:, steps]


class _IntegratedGradients:
    """IG over the embedding inputs of every ensemble member, with ``tf.GradientTape`` (eager: a
    reference engine; tracing a graph would cost more than it saves on a few texts).

    Runs the Keras model's own layers (recurrent, pooling, head, the calibration layer if any; dropout
    skipped: inference) on embedding vectors instead of token ids, with the padding mask passed explicitly.
    """

    def __init__(self, clf: Any, model: Any) -> None:
        import keras

        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(f"engine='keras' needs Keras's TensorFlow backend (this one is "
                               f"{keras.backend.backend()!r}); use engine='numpy'")
        cfg = clf.config_.model
        self.model = model
        self.embeddings = []
        self.members = []
        for p in member_prefixes(cfg):
            self.embeddings.append(np.asarray(clf.weights[embedding_weights(p)], dtype=np.float32))
            rnns = [model.get_layer(rnn_layer(k, cfg.bidirectional, p))
                    for k in range(cfg.layers)]
            self.members.append((rnns, model.get_layer(pooling_layer(p)), model.get_layer(head_layer(p))))
        layers = {layer.name: layer for layer in model.layers}
        self.top = layers.get(CALIBRATION_LAYER)  # a temperature per predicted class (nn/model.py), or None

    @staticmethod
    def _forward(x: Any, mask: Any, rnns: list[Any], pool: Any, head: Any) -> Any:
        for rnn in rnns:
            x = rnn(x, mask=mask, training=False)
        return head(pool(x, mask=mask), training=False)

    def _output(self, xs: list[Any], mask: Any) -> Any:
        """The model's output from each member's embedding vectors: the members' mean, then the
        calibration's temperature per predicted class where the model has one."""
        import tensorflow as tf

        probs = [self._forward(x, mask, *member) for x, member in zip(xs, self.members)]
        p = probs[0] if len(probs) == 1 else tf.add_n(probs) / len(probs)
        return p if self.top is None else self.top(p)

    def _run(self, x: Any, mask: Any, alphas: Any) -> tuple[Any, Any, Any]:
        import tensorflow as tf

        n, t = tf.shape(mask)[0], tf.shape(mask)[1]
        s = tf.shape(alphas)[0]
        dim = tf.shape(x)[-1]
        masks = tf.reshape(tf.tile(mask[:, None, :], [1, s, 1]), [n * s, t])
        paths = [tf.reshape(alphas[None, :, None, None] * x[m][:, None], [n * s, t, dim])
                 for m in range(len(self.members))]
        with tf.GradientTape(persistent=True) as tape:
            for path in paths:
                tape.watch(path)
            probs = self._output(paths, masks)
            outs = [tf.reduce_sum(probs[:, c]) for c in range(len(LABELS))]
        per_class = []
        for c in range(len(LABELS)):
            grads = tape.gradient(outs[c], paths)
            per_class.append(tf.add_n([tf.reduce_sum(tf.reduce_mean(tf.reshape(g, [n, s, t, dim]), axis=1) * x[m], axis=-1)
                                       for m, g in enumerate(grads)]))  # (n, t)
        del tape
        ends = self._output([tf.concat([x[m], tf.zeros_like(x[m])], 0) for m in range(len(self.members))],
                            tf.concat([mask, mask], 0))
        return tf.stack(per_class, axis=-1), ends[:n], ends[n:]

    def __call__(self, seqs: Sequence[Sequence[int]], steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import tensorflow as tf

        x, mask = _embed(self.embeddings, seqs)
        alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
        attr, fx, fb = self._run(tf.constant(x), tf.constant(mask), tf.constant(alphas))
        return attr.numpy(), fx.numpy(), fb.numpy()


def explain(texts: str | Iterable[str], model: Any = None, *, method: str = "ig",
            steps: int = DEFAULT_STEPS, engine: str = "numpy") -> Explanation | list[Explanation]:
    """Explain the prediction for ``texts``: running sentiment and token attributions.

    ``texts``: one string (returns one :class:`Explanation`) or a list of strings (returns a
    list).  ``model``: a :class:`~sentilstm.SentimentClassifier`, a bundle path, or ``None`` /
    ``"default"`` for the shipped model.  ``method``: ``"ig"`` (integrated gradients, ``steps``
    path points) or ``"occlusion"`` (leave one token out).  ``engine`` (IG): ``"numpy"``
    (default, no TensorFlow) or ``"keras"`` (``tf.GradientTape`` on the Keras model).
    See the module docstring for what each number means.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    single = isinstance(texts, str)
    items = as_texts(texts)
    clf = _classifier(model)
    with _single_threaded_blas():
        seqs = clf.encode(items)
        if method == "ig":
            ig = integrated_gradients(clf, seqs, steps, engine=engine)
        out = []
        for i, (text, ids) in enumerate(zip(items, seqs)):
            tokens = clf.encoder.tokens(text)
            if len(tokens) != len(ids):  # pragma: no cover - both come from one tokenizer
                raise RuntimeError(f"texts[{i}]: {len(tokens)} tokens but {len(ids)} ids")
            traj = running_sentiment(clf, ids)
            full = clf.encoder.tokenizer.encode(clf.encoder.normalize([text])[0], add_special_tokens=False)
            ex = Explanation(text=text, tokens=tokens, token_ids=[int(v) for v in ids],
                             probabilities=traj[-1].copy(), trajectory=traj,
                             attributions=np.zeros((len(ids), len(LABELS)), dtype=np.float32), method=method,
                             truncated=len(full.ids) > len(ids), model=clf.meta.get("path"))
            if method == "ig":
                attrs, fx, fb = ig[i]
                ex.attributions = np.asarray(attrs, dtype=np.float32)
                ex.steps = steps
                ex.baseline_probabilities = np.asarray(fb, dtype=np.float32)
                ex.completeness_gap = float(np.max(np.abs(attrs.sum(axis=0) - (fx - fb))))
            else:
                ex.attributions = occlusion(clf, ids)
            out.append(ex)
    return out[0] if single else out


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Run BLAS on one thread: explanations do many small matmuls, where BLAS threads only add
    synchronisation (4-10x slower on a busy 2-core machine); restores the setting afterwards."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
