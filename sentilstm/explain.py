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
  (:mod:`sentilstm.backprop`, no TensorFlow, fast), or with ``engine="keras"`` from
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

``sentilstm.explain`` is this module's :func:`explain` (the package re-exports the function);
import the other names with ``from sentilstm.explain import Explanation``.
"""

from __future__ import annotations

import contextlib
import html as _html
import json
import math
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .labels import LABELS
from .tokenizer import PAD_ID, UNK_ID

__all__ = ["Explanation", "explain", "running_sentiment", "occlusion", "integrated_gradients", "html_page",
           "METHODS", "DEFAULT_STEPS"]

METHODS = ("ig", "occlusion")
DEFAULT_STEPS = 48
_METHOD_NAMES = {"ig": "integrated gradients", "occlusion": "occlusion (leave one token out)"}
_LINE_COLOURS = {"negative": "#d62728", "neutral": "#7f7f7f", "positive": "#2ca02c"}


# -- the result ------------------------------------------------------------------------------------
@dataclass(eq=False)
class Explanation:
    """One text's prediction, its running sentiment and its token attributions.

    ``trajectory[t]``: class probabilities of the prefix ``tokens[: t + 1]`` (see the module
    docstring for why prefixes).  ``attributions[t, c]``: token ``t``'s contribution to class
    ``c`` by ``method``.  ``completeness_gap`` (IG only): ``max_c |sum_t A[t, c] - (p_c(x) -
    p_c(baseline))|``.
    """

    text: str
    tokens: list[str]
    token_ids: list[int]
    probabilities: np.ndarray  # (3,)
    trajectory: np.ndarray  # (T, 3)
    attributions: np.ndarray  # (T, 3)
    method: str
    steps: int | None = None
    baseline_probabilities: np.ndarray | None = None  # IG: p(baseline)
    completeness_gap: float | None = None
    truncated: bool = False
    model: str | None = None

    # -- access ----------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """The predicted label (of the whole text)."""
        return LABELS[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    def attribution(self, label: str | None = None) -> np.ndarray:
        """Attributions ``(T,)`` towards ``label`` (default: the predicted label)."""
        label = label or self.label
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}; expected one of {', '.join(LABELS)}")
        return self.attributions[:, LABELS.index(label)]

    @property
    def polarity(self) -> np.ndarray:
        """``(T,)``: attribution to positive minus attribution to negative (the shading: green +, red -)."""
        return self.attributions[:, LABELS.index("positive")] - self.attributions[:, LABELS.index("negative")]

    @property
    def running_labels(self) -> list[str]:
        """The label of each prefix (the argmax of each trajectory row)."""
        return [LABELS[int(i)] for i in self.trajectory.argmax(axis=1)]

    def top_tokens(self, k: int = 3, label: str | None = None) -> list[tuple[str, float]]:
        """The ``k`` tokens pushing hardest towards ``label`` (default: predicted), strongest first."""
        a = self.attribution(label)
        return [(self.tokens[i], float(a[i])) for i in np.argsort(-a, kind="stable")[:k]]

    @property
    def completeness(self) -> dict[str, dict[str, float]] | None:
        """IG: per class, the attributions' sum and ``p(x) - p(baseline)`` they should equal."""
        if self.baseline_probabilities is None:
            return None
        delta = self.probabilities - self.baseline_probabilities
        sums = self.attributions.sum(axis=0)
        return {lab: {"sum": float(s), "delta": float(d)} for lab, s, d in zip(LABELS, sums, delta)}

    # -- JSON ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: prediction, method, and one record per token."""

        def probs(p: np.ndarray) -> dict[str, float]:
            return {lab: round(float(v), 6) for lab, v in zip(LABELS, p)}

        return {
            "text": self.text,
            "label": self.label,
            "probabilities": probs(self.probabilities),
            "method": self.method,
            "steps": self.steps,
            "baseline": "all-zero embeddings" if self.method == "ig" else None,
            "baseline_probabilities": None if self.baseline_probabilities is None
            else probs(self.baseline_probabilities),
            "completeness_gap": None if self.completeness_gap is None else round(self.completeness_gap, 6),
            "truncated": self.truncated,
            "model": self.model,
            "running_sentiment": "class probabilities of the text cut after each token",
            "tokens": [
                {"token": tok, "id": int(i), "attribution": probs(a), "running": probs(r)}
                for tok, i, a, r in zip(self.tokens, self.token_ids, self.attributions, self.trajectory)
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Explanation":
        """Rebuild from :meth:`to_dict` output (values rounded to 6 decimals)."""

        def arr(p: dict[str, float]) -> np.ndarray:
            return np.array([p[lab] for lab in LABELS], dtype=np.float32)

        toks = d["tokens"]
        empty = np.zeros((0, len(LABELS)), dtype=np.float32)
        return cls(
            text=d["text"], tokens=[t["token"] for t in toks], token_ids=[int(t["id"]) for t in toks],
            probabilities=arr(d["probabilities"]),
            trajectory=np.stack([arr(t["running"]) for t in toks]) if toks else empty,
            attributions=np.stack([arr(t["attribution"]) for t in toks]) if toks else empty,
            method=d["method"], steps=d.get("steps"),
            baseline_probabilities=None if d.get("baseline_probabilities") is None
            else arr(d["baseline_probabilities"]),
            completeness_gap=d.get("completeness_gap"), truncated=bool(d.get("truncated")), model=d.get("model"),
        )

    # -- text ------------------------------------------------------------------------------------
    def method_note(self) -> str:
        """One line saying how the attributions were computed and, for IG, how complete they are."""
        if self.method == "ig":
            gap = "" if self.completeness_gap is None else f"; completeness gap {self.completeness_gap:.4f}"
            c = (self.completeness or {}).get(self.label)
            detail = f" (sum {c['sum']:+.4f} vs p(x) - p(baseline) {c['delta']:+.4f} for {self.label})" if c else ""
            return (f"integrated gradients, {self.steps} steps from an all-zero embedding baseline"
                    f"{gap}{detail}")
        return "occlusion: p(text) - p(text without the token)"

    def render(self, color: bool = True) -> str:
        """A terminal view: tokens shaded by attribution, then a per-token table with the running sentiment."""
        import click

        lab = self.label
        a, pol = self.attribution(lab), self.polarity
        scale = float(np.max(np.abs(pol))) or 1.0
        others = " · ".join(f"{k} {v:.3f}" for k, v in zip(LABELS, self.probabilities) if k != lab)
        lines = [f"{_short(' '.join(self.text.split()), 100)}",
                 f"→ {click.style(lab, bold=True) if color else lab} {self.confidence:.3f}   ({others})", ""]
        shaded = []
        for tok, v in zip(self.tokens, pol):
            piece = tok[2:] if tok.startswith("##") else tok
            sep = "" if tok.startswith("##") or not shaded else " "
            shaded.append(sep + (_ansi_shade(piece, v / scale) if color else piece))
        lines.append("  " + "".join(shaded))
        if color:
            lines.append("  (shaded by polarity, attribution to positive minus to negative: "
                         "green towards positive, red towards negative)")
        lines.append("")
        width = max([len(t) for t in self.tokens] + [5])
        lines.append(f"  {'':>3}  {'':<{width}}  {'attribution':>11} {'polarity':>8}   running sentiment")
        lines.append(f"  {'#':>3}  {'token':<{width}}  {'to ' + lab[:3]:>11} {'pos-neg':>8}   "
                     f"{'neg':>5} {'neu':>5} {'pos':>5}  label")
        prev = None
        for t, (tok, v, q, row, rl) in enumerate(zip(self.tokens, a, pol, self.trajectory, self.running_labels)):
            mark = rl if prev is None else ("◂ " + rl if rl != prev else "")
            prev = rl
            qs = f"{q:+8.3f}"
            if color and abs(q) >= 0.05 * scale:
                qs = click.style(qs, fg="green" if q > 0 else "red")
            lines.append(f"  {t + 1:>3}  {tok:<{width}}  {v:+11.4f} {qs}   "
                         + " ".join(f"{p:5.2f}" for p in row) + f"  {mark}".rstrip())
        lines.append("")
        lines.append("  running = the prediction if the text ended after that token (the model run on each prefix)")
        lines.append(f"  {self.method_note()}")
        if self.truncated:
            lines.append(f"  (the text was cut to its first {len(self.tokens)} tokens, as the model reads it)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render(color=False)

    def __repr__(self) -> str:
        return (f"<Explanation {self.label} {self.confidence:.3f}: {len(self.tokens)} tokens, "
                f"method {self.method}, text {_short(self.text, 40)!r}>")

    # -- HTML ------------------------------------------------------------------------------------
    def to_html(self) -> str:
        """An HTML fragment: prediction, tokens shaded by attribution, trajectory as inline SVG."""
        e = _html.escape
        lab = self.label
        pol = self.polarity
        scale = float(np.max(np.abs(pol))) or 1.0
        spans = []
        for t, (tok, q) in enumerate(zip(self.tokens, pol)):
            cont = tok.startswith("##")
            piece = tok[2:] if cont else tok
            row = self.trajectory[t]
            tip = (f"{tok}: attribution " + ", ".join(f"{k} {v:+.3f}" for k, v in zip(LABELS, self.attributions[t]))
                   + "; if the text ended here: " + ", ".join(f"{k} {p:.2f}" for k, p in zip(LABELS, row)))
            spans.append(("" if cont or not spans else " ")
                         + f'<span title="{e(tip)}" style="background:{_css_shade(q / scale)};'
                           f'padding:1px 2px;border-radius:3px">{e(piece)}</span>')
        probs = " · ".join(f"{k} {v:.3f}" for k, v in zip(LABELS, self.probabilities) if k != lab)
        note = e(self.method_note())
        trunc = (f"<br>The text was cut to its first {len(self.tokens)} tokens, as the model reads it."
                 if self.truncated else "")
        return (
            '<div class="sentilstm-explain" style="font-family:system-ui,-apple-system,\'Segoe UI\',Roboto,'
            'sans-serif;line-height:1.5;max-width:60rem">'
            f'<div><b>{e(lab)}</b> {self.confidence:.3f} <span style="color:#666">({e(probs)})</span></div>'
            f'<div style="margin:.4rem 0;line-height:2;font-size:1.05rem">{"".join(spans)}</div>'
            '<div style="color:#666;font-size:.8rem">Shading: polarity, the attribution to positive minus the '
            f'attribution to negative (<span style="background:{_css_shade(1.0)};color:#000">'
            f'&nbsp;towards positive&nbsp;</span> <span style="background:{_css_shade(-1.0)};color:#000">'
            '&nbsp;towards negative&nbsp;</span>); '
            "hover a token for its values.</div>"
            f'<div style="overflow-x:auto">{self.trajectory_svg()}</div>'
            f'<div style="color:#666;font-size:.8rem">Running sentiment: the prediction if the text ended '
            f"after each token (the model run on each prefix). Attributions: {note}.{trunc}</div></div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def trajectory_svg(self) -> str:
        """The running sentiment as a small inline SVG line plot (one line per class)."""
        e = _html.escape
        n = len(self.tokens)
        step, left, top, plot_h, label_h = 34, 36, 22, 110, 62
        width = left + max(n, 2) * step + 10
        height = top + plot_h + label_h

        def x(t: int) -> float:
            return left + step / 2 + t * step

        def y(p: float) -> float:
            return top + (1.0 - p) * plot_h

        out = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                f'viewBox="0 0 {width} {height}" role="img" aria-label="running sentiment" '
                'style="font-family:sans-serif;font-size:10px">')]
        for p in (0.0, 0.5, 1.0):
            out.append(f'<line x1="{left}" y1="{y(p):.1f}" x2="{width - 6}" y2="{y(p):.1f}" '
                       f'stroke="#ddd" stroke-dasharray="{"3,3" if p == 0.5 else "none"}"/>')
            out.append(f'<text x="{left - 4}" y="{y(p) + 3:.1f}" text-anchor="end" fill="#666">{p:.1f}</text>')
        for c, lab in enumerate(LABELS):
            pts = " ".join(f"{x(t):.1f},{y(float(self.trajectory[t, c])):.1f}" for t in range(n))
            colour = _LINE_COLOURS[lab]
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
            for t in range(n):
                out.append(f'<circle cx="{x(t):.1f}" cy="{y(float(self.trajectory[t, c])):.1f}" r="2.5" '
                           f'fill="{colour}"><title>{e(self.tokens[t])}: P({lab}) = '
                           f'{self.trajectory[t, c]:.3f}</title></circle>')
        for t, tok in enumerate(self.tokens):
            out.append(f'<text x="{x(t):.1f}" y="{top + plot_h + 12}" text-anchor="end" fill="#333" '
                       f'transform="rotate(-45 {x(t):.1f} {top + plot_h + 12})">{e(_short(tok, 12))}</text>')
        lx = left
        for lab in LABELS:
            out.append(f'<rect x="{lx}" y="4" width="10" height="10" fill="{_LINE_COLOURS[lab]}"/>'
                       f'<text x="{lx + 14}" y="13" fill="#333">{lab}</text>')
            lx += 78
        out.append("</svg>")
        return "".join(out)


def html_page(explanations: Sequence[Explanation], title: str = "sentilstm explanations") -> str:
    """A self-contained HTML page holding each explanation's fragment."""
    body = "\n<hr>\n".join(ex.to_html() for ex in explanations)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_html.escape(title)}</title></head><body>\n{body}\n</body></html>\n")


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _ansi_shade(piece: str, v: float) -> str:
    """``piece`` on a green (v > 0) or red (v < 0) background, 256-colour ANSI, 4 intensity levels."""
    import click

    level = min(4, math.ceil(abs(v) * 4))
    if level == 0 or abs(v) < 0.05:
        return piece
    greens, reds = (194, 151, 114, 34), (224, 217, 210, 160)
    bg = (greens if v > 0 else reds)[level - 1]
    return click.style(piece, bg=bg, fg=15 if level == 4 else 16)


def _css_shade(v: float) -> str:
    """A CSS background for a normalised attribution ``v`` in [-1, 1] (green +, red -)."""
    alpha = min(1.0, abs(v)) * 0.75
    rgb = "44,160,44" if v > 0 else "214,39,40"
    return f"rgba({rgb},{alpha:.2f})"


# -- computations ----------------------------------------------------------------------------------
def _classifier(model: Any) -> Any:
    from .classifier import SentimentClassifier, load

    if isinstance(model, SentimentClassifier):
        model._check_fitted()
        return model
    return load(None if model in (None, "default") else model)


def _probs_ids(clf: Any, rows: Sequence[Sequence[int]], batch_size: int = 512) -> np.ndarray:
    """NumPy-runtime probabilities of token-id sequences (an empty one reads as ``[UNK]``)."""
    seqs = [list(r) or [UNK_ID] for r in rows]
    out = np.zeros((len(seqs), len(LABELS)), dtype=np.float32)
    from .tokenizer import TextEncoder

    for idx, x in TextEncoder.buckets(seqs, batch_size, multiple=1):
        out[idx] = clf._runtime(x)
    return out


def running_sentiment(clf: Any, ids: Sequence[int]) -> np.ndarray:
    """``(T, 3)``: probabilities of every prefix ``ids[: t + 1]``, run as one padded batch."""
    n = len(ids)
    batch = np.full((n, n), PAD_ID, dtype=np.int32)
    for t in range(n):
        batch[t, : t + 1] = ids[: t + 1]
    return np.asarray(clf._runtime(batch), dtype=np.float32)


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

    ``engine="numpy"`` (default): gradients by :mod:`sentilstm.backprop` (no TensorFlow);
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


def _member_prefixes(config: Any) -> list[str]:
    """Weight-name prefix of each ensemble member (as :func:`sentilstm.model.member_prefixes`, without Keras)."""
    return [""] if config.ensemble == 1 else [f"m{k}_" for k in range(config.ensemble)]


def _embed(embeddings: Sequence[np.ndarray], seqs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ids -> each member's embedding vectors ``(members, n, T, dim)`` (0 at padding), mask."""
    ids = np.zeros((len(seqs), max(len(s) for s in seqs)), dtype=np.int64)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = s
    mask = ids != PAD_ID
    x = np.stack([np.where(mask[..., None], emb[ids], 0.0) for emb in embeddings]).astype(np.float32)
    return x, mask


class _NumpyIntegratedGradients:
    """IG with the hand-written backward pass of :mod:`sentilstm.backprop` (NumPy only)."""

    def __init__(self, clf: Any) -> None:
        self.runtime = clf._runtime
        self.embeddings = [np.asarray(clf.weights[f"{p}embedding/embeddings"], dtype=np.float32)
                           for p in _member_prefixes(clf.config_.model)]

    def __call__(self, seqs: Sequence[Sequence[int]], steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from .backprop import probabilities_and_gradients

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

    Runs the Keras model's own layers (recurrent, pooling, head; dropout skipped: inference) on
    embedding vectors instead of token ids, with the padding mask passed explicitly.
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
        for p in _member_prefixes(cfg):
            self.embeddings.append(np.asarray(clf.weights[f"{p}embedding/embeddings"], dtype=np.float32))
            rnns = [model.get_layer(f"{p}bilstm_{k}" if cfg.bidirectional else f"{p}lstm_{k}")
                    for k in range(cfg.layers)]
            self.members.append((rnns, model.get_layer(f"{p}pooling"), model.get_layer(f"{p}head")))

    @staticmethod
    def _forward(x: Any, mask: Any, rnns: list[Any], pool: Any, head: Any) -> Any:
        for rnn in rnns:
            x = rnn(x, mask=mask, training=False)
        return head(pool(x, mask=mask), training=False)

    def _run(self, x: Any, mask: Any, alphas: Any) -> tuple[Any, Any, Any]:
        import tensorflow as tf

        k = len(self.members)
        n, t = tf.shape(mask)[0], tf.shape(mask)[1]
        s = tf.shape(alphas)[0]
        dim = tf.shape(x)[-1]
        masks = tf.reshape(tf.tile(mask[:, None, :], [1, s, 1]), [n * s, t])
        attr, fx, fb = [], [], []
        for m, (rnns, pool, head) in enumerate(self.members):
            xm = x[m]
            path = tf.reshape(alphas[None, :, None, None] * xm[:, None], [n * s, t, dim])
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(path)
                probs = self._forward(path, masks, rnns, pool, head)
                outs = [tf.reduce_sum(probs[:, c]) for c in range(len(LABELS))]
            per_class = []
            for c in range(len(LABELS)):
                g = tf.reduce_mean(tf.reshape(tape.gradient(outs[c], path), [n, s, t, dim]), axis=1)
                per_class.append(tf.reduce_sum(g * xm, axis=-1))  # (n, t)
            del tape
            attr.append(tf.stack(per_class, axis=-1))
            ends = self._forward(tf.concat([xm, tf.zeros_like(xm)], 0), tf.concat([mask, mask], 0), rnns, pool, head)
            fx.append(ends[:n])
            fb.append(ends[n:])
        return tf.add_n(attr) / k, tf.add_n(fx) / k, tf.add_n(fb) / k

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
    from .classifier import _as_texts

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    single = isinstance(texts, str)
    items = _as_texts(texts)
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
