"""The :class:`Explanation` result and its terminal, JSON, HTML and SVG renderings."""

from __future__ import annotations

import html as _html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sentilstm.labels import LABELS

__all__ = ["Explanation", "html_page"]


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
