"""Rich display: compact HTML in Jupyter (``_repr_html_``), plain text elsewhere.

* :func:`classifier_html` — the table a :class:`~sentilstm.SentimentClassifier` shows in a notebook.
* :class:`Predictions` — labels and probabilities together (``clf.classify(texts)``), a table in
  notebooks, ``to_dataframe()`` for pandas.  ``predict`` / ``predict_proba`` keep returning a
  list of labels and an array.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from sentilstm.labels import LABELS

__all__ = ["Predictions", "classifier_html"]

_COLOURS = {"negative": "#d62728", "neutral": "#9a9a9a", "positive": "#2ca02c"}
_TABLE = ('<table style="border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums">'
          "{}</table>")
_TD = 'style="padding:2px 8px;border-bottom:1px solid #e5e5e5;text-align:{};vertical-align:top"'


def _row(cells: Sequence[str], align: Sequence[str]) -> str:
    return "<tr>" + "".join(f"<td {_TD.format(a)}>{c}</td>" for c, a in zip(cells, align)) + "</tr>"


def classifier_html(clf: Any) -> str:
    """Architecture, vocabulary, parameters, training data and dev metrics as a small HTML table."""
    e = html.escape
    if clf.weights is None or clf.encoder is None:
        return f"<div><b>SentimentClassifier</b> (not fitted): {e(repr(clf))}</div>"
    m, tok = clf.config_.model, clf.config_.tokenizer
    kind = "BiLSTM" if m.bidirectional else "LSTM"
    arch = (f"embedding {m.embedding_dim} → {kind} {m.layers} × {m.units} units (our cell) → "
            f"{' + '.join(m.pooling)} pooling → softmax")
    if m.ensemble > 1:
        arch += f"; ensemble of {m.ensemble}, probabilities averaged"
    rows = [("model", arch),
            ("vocabulary", f"{clf.encoder.vocab_size:,} tokens ({tok.model}), max {tok.max_length} tokens a text"),
            ("parameters", f"{clf.n_parameters:,}"),
            ("path", str(clf.meta.get("path", "—")))]
    if clf.meta.get("created"):
        rows.append(("created", str(clf.meta["created"])))
    tr = (clf.meta.get("training") or {}).get("train") or {}
    if tr:
        rows.append(("trained on", f"{tr.get('rows', '?'):,} texts from {tr.get('source', '?')}"
                     if isinstance(tr.get("rows"), int) else str(tr.get("source", "?"))))
    dm = clf.meta.get("dev_metrics") or {}
    if dm:
        names = (("avg_recall", "AvgRec"), ("f1_pn", "F1PN"), ("macro_f1", "macro-F1"), ("accuracy", "accuracy"))
        rows.append(("dev metrics", " · ".join(f"{n} {dm[k]:.4f}" for k, n in names if k in dm)
                     + (f" ({dm['n']:,} texts)" if "n" in dm else "")))
    body = "".join(_row([f'<span style="color:#666">{e(k)}</span>', e(v)], ["left", "left"]) for k, v in rows)
    return f"<div><b>SentimentClassifier</b>{_TABLE.format(body)}</div>"


def _text_line(r: dict[str, Any], width: int | None = None) -> str:
    """``label  p  text``: one prediction as a line (whitespace collapsed, cut to ``width`` characters)."""
    shown = " ".join(r["text"].split())
    if width is not None and len(shown) > width:
        shown = shown[: width - 1] + "…"
    return f"{r['label']:<8}  {r['probabilities'][r['label']]:.2f}  {shown}"


class Predictions(Sequence[dict[str, Any]]):
    """Texts with their predicted labels and probabilities (``clf.classify(texts)``).

    A sequence of ``{"text", "label", "probabilities": {label: p}}`` records; ``labels``,
    ``probabilities`` (array ``(n, 3)``, LABELS order), ``to_dataframe()``; a table in notebooks.
    """

    def __init__(self, texts: Sequence[str], probabilities: np.ndarray) -> None:
        probabilities = np.asarray(probabilities, dtype=np.float32)
        if probabilities.shape != (len(texts), len(LABELS)):
            raise ValueError(f"probabilities must have shape ({len(texts)}, {len(LABELS)}), "
                             f"got {probabilities.shape}")
        self.texts = list(texts)
        self.probabilities = probabilities

    @property
    def labels(self) -> list[str]:
        return [LABELS[i] for i in self.probabilities.argmax(axis=1)] if len(self.texts) else []

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1) if len(self.texts) else np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.texts)

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> "Predictions": ...

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return Predictions(self.texts[i], self.probabilities[i])
        p = self.probabilities[i]
        return {"text": self.texts[i], "label": LABELS[int(p.argmax())],
                "probabilities": {lab: float(v) for lab, v in zip(LABELS, p)}}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self[i] for i in range(len(self)))

    def to_records(self) -> list[dict[str, Any]]:
        return list(self)

    FORMATS = ("text", "json", "jsonl", "csv")

    def render(self, fmt: str = "text") -> str:
        """The predictions as ``sentilstm predict`` prints them, one result per text, in order.

        ``text``: label, its probability, the text (whitespace collapsed) on one line each;
        ``json`` (an array) / ``jsonl`` (a line each): ``{"text", "label", "probabilities"}``
        rounded to 6 decimals; ``csv``: text, label, p_negative, p_neutral, p_positive.
        """
        if fmt == "text":
            return "".join(_text_line(r) + "\n" for r in self)
        records = [{**r, "probabilities": {lab: round(p, 6) for lab, p in r["probabilities"].items()}} for r in self]
        if fmt == "json":
            return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
        if fmt == "jsonl":
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if fmt == "csv":
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["text", "label", *(f"p_{lab}" for lab in LABELS)])
            for r in records:
                w.writerow([r["text"], r["label"], *(r["probabilities"][lab] for lab in LABELS)])
            return buf.getvalue()
        raise ValueError(f"format must be one of {', '.join(self.FORMATS)}, got {fmt!r}")

    def to_dataframe(self) -> Any:
        """A pandas DataFrame: text, label, confidence, p_negative, p_neutral, p_positive."""
        import pandas as pd

        df = pd.DataFrame({"text": self.texts, "label": self.labels, "confidence": self.confidence})
        for c, lab in enumerate(LABELS):
            df[f"p_{lab}"] = self.probabilities[:, c] if len(self.texts) else []
        return df

    def __repr__(self) -> str:
        lines = [f"<Predictions: {len(self)} texts>"]
        for r in list(self)[:20]:
            lines.append("  " + _text_line(r, width=70))
        if len(self) > 20:
            lines.append(f"  … {len(self) - 20} more")
        return "\n".join(lines)

    def _repr_html_(self, limit: int = 50) -> str:
        e = html.escape
        head = _row(["<b>text</b>", "<b>label</b>", "<b>p</b>",
                     "<b>" + " / ".join(lab[:3] for lab in LABELS) + "</b>"], ["left", "left", "right", "left"])
        rows = []
        for r in list(self)[:limit]:
            bar = "".join(f'<span title="{lab} {p:.3f}" style="display:inline-block;height:.7rem;'
                          f'width:{p * 8:.2f}rem;background:{_COLOURS[lab]}"></span>'
                          for lab, p in r["probabilities"].items())
            rows.append(_row([e(r["text"]), f'<b style="color:{_COLOURS[r["label"]]}">{r["label"]}</b>',
                              f"{r['probabilities'][r['label']]:.3f}",
                              f'<span style="white-space:nowrap;display:inline-block;width:8rem">{bar}</span>'],
                             ["left", "left", "right", "left"]))
        more = (f'<div style="color:#666;font-size:.8rem">… {len(self) - limit:,} more '
                "(to_dataframe() has them all)</div>" if len(self) > limit else "")
        return f"<div>{_TABLE.format(head + ''.join(rows))}{more}</div>"
