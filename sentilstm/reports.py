"""Evaluation reports: metrics with confidence intervals, plots, slices, errors, provenance.

    >>> import sentilstm
    >>> report = sentilstm.evaluate("my-model", "dev.jsonl")      # or a classifier / LabelledData
    >>> print(report.summary())                                    # compact terminal summary
    >>> report.save("out/")    # report.json, report.md, report.html, confusion/reliability/confidence PNGs

A :class:`Report` is a JSON-able dict (``report.data``, schema :data:`SCHEMA` version
:data:`SCHEMA_VERSION`) plus renderers.  Plots are drawn from that dict with matplotlib's Agg
canvas (no display, no pyplot state), so a report loaded back from ``report.json`` renders the
same.  ``report.json`` keeps every example's gold label, prediction and probabilities, which
:func:`compare` uses to pair two reports for a paired bootstrap test.

Importing this module does not import matplotlib (only rendering plots does) nor TensorFlow.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import json
import platform
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from . import metrics as M
from .fileio import atomic_directory, atomic_write_bytes, atomic_write_text, check_output
from .labels import LABELS

__all__ = ["Report", "evaluate", "build_report", "compare", "format_comparison", "load_report",
           "SCHEMA", "SCHEMA_VERSION"]

SCHEMA = "sentilstm-report"
SCHEMA_VERSION = 1
REPORT_JSON, REPORT_MD, REPORT_HTML = "report.json", "report.md", "report.html"
PLOTS = {
    "confusion": "confusion.png",
    "reliability": "reliability.png",
    "confidence": "confidence.png",
}
_NAMES = M.HEADLINE_NAMES


# -- helpers ---------------------------------------------------------------------------------------
def _sha256_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _content_hash(texts: Sequence[str], labels: np.ndarray) -> str:
    """SHA-256 of the (text, gold label) pairs: equal for the same data in any file format."""
    h = hashlib.sha256()
    for t, y in zip(texts, labels):
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f" + LABELS[int(y)].encode() + b"\x1e")
    return h.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for pkg in ("sentilstm", "numpy", "tokenizers", "matplotlib", "keras", "tensorflow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _counts(ids: np.ndarray) -> dict[str, int]:
    return dict(zip(LABELS, map(int, np.bincount(ids, minlength=len(LABELS)))))


def _ci(d: dict[str, float], digits: int = 4) -> str:
    return f"{d['value']:.{digits}f} [{d['low']:.{digits}f}, {d['high']:.{digits}f}]"


def _short(text: str, width: int) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= width else one[: width - 1] + "…"


def _table(rows: list[list[str]], right: Sequence[bool], indent: str = "  ") -> list[str]:
    """Aligned plain-text table; ``right[i]`` right-aligns column i."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.rjust(w) if right[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
            .rstrip() for r in rows]


def _md_cell(text: Any) -> str:
    return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")


def _md_table(header: list[str], rows: list[list[Any]], align: str) -> list[str]:
    sep = ["---:" if a == "r" else ":---" for a in align]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |",
            *("| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows)]


# -- building --------------------------------------------------------------------------------------
def _length_buckets(texts: Sequence[str], n_buckets: int = 4) -> tuple[np.ndarray, list[str]]:
    """Bucket texts by word count at the quartiles; labels give each bucket's actual range."""
    words = np.fromiter((len(t.split()) for t in texts), dtype=np.int64, count=len(texts))
    edges = np.unique(np.floor(np.quantile(words, np.linspace(0, 1, n_buckets + 1)[1:-1])).astype(np.int64))
    bucket = np.searchsorted(edges, words, side="left")
    names = []
    for b in range(len(edges) + 1):
        w = words[bucket == b]
        names.append(f"{w.min()}-{w.max()} words" if w.size and w.min() != w.max()
                     else f"{w.min() if w.size else 0} words")
    return bucket, names


def _group_scores(t: np.ndarray, p: np.ndarray, probs: np.ndarray, n_resamples: int, seed: int | None,
                  n_bins: int) -> dict[str, Any]:
    boot = M.bootstrap_confusion(M.confusion_matrix(t, p), n_resamples, seed)
    return {"n": int(t.size), "headline": boot["headline"], "gold": _counts(t), "predicted": _counts(p),
            "ece": M.calibration(probs, t, n_bins)["ece"]}


def _slice_columns(extra: dict[str, list[Any]], n: int, columns: Sequence[str] | None,
                   max_groups: int) -> list[str]:
    """Extra columns to slice by: ``columns`` if given, else those that look categorical."""
    if columns is not None:
        missing = [c for c in columns if c not in extra]
        if missing:
            raise ValueError(f"no column(s) {', '.join(map(repr, missing))} in the data "
                             f"(extra columns: {', '.join(extra) or 'none'})")
        return list(columns)
    chosen = []
    for name, values in extra.items():
        if len(values) != n or not all(v is None or isinstance(v, (str, int, float, bool)) for v in values):
            continue
        distinct = len(set(values))
        if distinct <= max_groups and distinct <= max(1, n // 2):
            chosen.append(name)
    return chosen


def build_report(
    texts: Sequence[str],
    y_true: Any,
    probs: Any,
    *,
    extra: dict[str, list[Any]] | None = None,
    model: dict[str, Any] | None = None,
    dataset: dict[str, Any] | None = None,
    timing: dict[str, Any] | None = None,
    n_resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    n_bins: int = 15,
    n_errors: int = 5,
    slice_by: Sequence[str] | None = None,
    max_groups: int = 20,
    include_examples: bool = True,
) -> "Report":
    """Build a :class:`Report` from texts, gold label ids and predicted probabilities ``(n, 3)``.

    ``model``, ``dataset`` and ``timing`` are provenance dicts stored as given.  ``slice_by``
    names extra columns to slice by (default: every categorical-looking one, i.e. at most
    ``max_groups`` distinct values and not an id).  ``include_examples=False`` leaves the
    per-example arrays out of the report (then it cannot be used by :func:`compare`).
    """
    started = time.perf_counter()
    texts = list(texts)
    t = np.asarray(y_true, dtype=np.int64)
    pr = np.asarray(probs, dtype=np.float64)
    n = len(texts)
    if n == 0:
        raise ValueError("cannot build a report on zero examples")
    if t.shape != (n,) or pr.shape != (n, len(LABELS)):
        raise ValueError(f"expected {n} labels and probabilities of shape ({n}, {len(LABELS)}); "
                         f"got {t.shape} and {pr.shape}")
    if t.min() < 0 or t.max() >= len(LABELS):
        raise ValueError(f"gold labels must be ids 0..{len(LABELS) - 1}")
    p = pr.argmax(axis=1)
    extra = extra or {}

    cm = M.confusion_matrix(t, p)
    point = M.scores_from_confusion(cm)
    boot = M.bootstrap_confusion(cm, n_resamples, seed, confidence)
    per_class = {}
    for name in LABELS:
        pc = point["per_class"][name]
        per_class[name] = {**pc, "ci": {k: [boot["per_class"][name][k]["low"], boot["per_class"][name][k]["high"]]
                                         for k in ("precision", "recall", "f1")}}
    row = cm.sum(axis=1, keepdims=True)
    row_norm = np.divide(cm, row, out=np.zeros(cm.shape), where=row > 0)

    cal = M.calibration(pr, t, n_bins)
    conf = pr.max(axis=1)
    correct = p == t
    edges = np.linspace(1 / len(LABELS), 1, 21)
    hist_ok = np.histogram(np.clip(conf[correct], edges[0], 1), edges)[0]
    hist_bad = np.histogram(np.clip(conf[~correct], edges[0], 1), edges)[0]

    slices = []
    bucket, names = _length_buckets(texts)
    slices.append({"name": "length", "description": "words per text, bucketed at the quartiles",
                   "groups": [{"value": names[b], **_group_scores(t[bucket == b], p[bucket == b], pr[bucket == b],
                                                                   n_resamples, seed, n_bins)}
                              for b in range(len(names)) if np.any(bucket == b)]})
    for col in _slice_columns(extra, n, slice_by, max_groups):
        values = ["(missing)" if v is None else str(v) for v in extra[col]]
        uniq, inv, sizes = np.unique(np.array(values, dtype=object), return_inverse=True, return_counts=True)
        order = np.argsort(-sizes, kind="stable")
        groups = []
        for rank, g in enumerate(order):
            if rank == max_groups - 1 and len(order) > max_groups:
                mask = np.isin(inv, order[rank:])
                label = f"(other {len(order) - rank} values)"
            elif rank >= max_groups:
                break
            else:
                mask = inv == g
                label = str(uniq[g])
            groups.append({"value": label, **_group_scores(t[mask], p[mask], pr[mask], n_resamples, seed, n_bins)})
        slices.append({"name": col, "description": f"the data's {col!r} column", "groups": groups})

    ids = extra.get("id") if isinstance(extra.get("id"), list) and len(extra["id"]) == n else None
    errors = []
    for i, gold in enumerate(LABELS):
        for j, pred in enumerate(LABELS):
            if i == j:
                continue
            idx = np.flatnonzero((t == i) & (p == j))
            top = idx[np.argsort(-pr[idx, j], kind="stable")][:n_errors]
            errors.append({"true": gold, "predicted": pred, "count": int(idx.size), "examples": [
                {"index": int(k), **({"id": ids[k]} if ids is not None else {}), "text": texts[k],
                 "confidence": float(pr[k, j]), "probabilities": {lab: float(v) for lab, v in zip(LABELS, pr[k])}}
                for k in top]})

    data: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "labels": list(LABELS),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model or {},
        "dataset": {**(dataset or {}), "rows": n},
        "environment": _versions(),
        "timing": dict(timing or {}),
        "n": n,
        "headline": boot["headline"],
        "bootstrap": {"n_resamples": int(n_resamples), "seed": seed, "confidence": confidence,
                      "method": "percentile; examples resampled with replacement (drawn as multinomial "
                                "counts of the confusion-matrix cells)"},
        "per_class": per_class,
        "distribution": {"gold": _counts(t), "predicted": _counts(p)},
        "confusion": {"counts": cm.astype(int).tolist(), "row_normalised": row_norm.tolist()},
        "calibration": cal,
        "confidence_histogram": {"edges": edges.tolist(), "correct": hist_ok.astype(int).tolist(),
                                 "incorrect": hist_bad.astype(int).tolist()},
        "slices": slices,
        "errors": errors,
    }
    if include_examples:
        data["examples"] = {"text": texts, "gold": t.tolist(), "pred": p.tolist(),
                            "proba": np.round(pr, 5).tolist(), **({"id": ids} if ids is not None else {})}
    data["timing"]["report_s"] = round(time.perf_counter() - started, 3)
    return Report(data)


def _model_info(clf: Any) -> dict[str, Any]:
    meta = clf.meta or {}
    training = dict(meta.get("training") or {})
    history = training.pop("history", None)
    if history is not None:
        training["epochs_in_history"] = len(history)
    h = hashlib.sha256()
    for name in sorted(clf.weights or {}):
        w = np.ascontiguousarray(clf.weights[name])
        h.update(f"{name}:{w.dtype.str}:{w.shape};".encode())
        h.update(w.tobytes())
    return {
        "path": str(meta.get("path", "(in memory)")),
        "description": repr(clf),
        "parameters": clf.n_parameters,
        "config_sha256": _sha256_json(clf.config_.to_dict()),
        "weights_sha256": h.hexdigest(),
        "config": clf.config_.to_dict(),
        "created": meta.get("created"),
        "training": training,
        "dev_metrics": {k: meta["dev_metrics"][k] for k in M.HEADLINE if k in (meta.get("dev_metrics") or {})},
        "trained_with": meta.get("versions", {}),
    }


def _dataset_info(data: Any, path: Path | None) -> dict[str, Any]:
    src = Path(path) if path is not None else (Path(data.source) if data.source else None)
    info: dict[str, Any] = {"name": None, "path": None, "split": None}
    if src is not None:
        info["path"] = str(src)
        info["name"] = f"{src.parent.name}/{src.stem}" if src.parent.name else src.stem
        stem = src.stem.lower()
        info["split"] = next((s for s in ("train", "dev", "validation", "valid", "val", "test") if s in stem), None)
        if src.is_file():
            h = hashlib.sha256()
            with open(src, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            info["file_sha256"] = h.hexdigest()
    info["content_sha256"] = _content_hash(data.texts, data.labels)
    info["labels"] = _counts(np.asarray(data.labels, dtype=np.int64))
    info["extra_columns"] = list(data.extra)
    return info


def evaluate(
    model: Any = None,
    dataset: Any = None,
    *,
    batch_size: int = 256,
    engine: str = "numpy",
    n_resamples: int = 1000,
    seed: int | None = 0,
    n_bins: int = 15,
    n_errors: int = 5,
    slice_by: Sequence[str] | None = None,
    include_examples: bool = True,
) -> "Report":
    """Evaluate ``model`` on ``dataset`` and return a :class:`Report`.

    ``model``: a :class:`~sentilstm.SentimentClassifier`, a bundle path, or ``None``/``"default"``
    for the shipped model.  ``dataset``: a :class:`~sentilstm.data.LabelledData` or a path that
    :func:`sentilstm.data.load_data` reads.  Prediction is timed (wall time and throughput).
    """
    from .classifier import SentimentClassifier, load
    from .data import LabelledData, load_data

    if dataset is None:
        raise TypeError("evaluate() needs a dataset: a LabelledData or a path to a labelled file")
    clf = model if isinstance(model, SentimentClassifier) else load(None if model in (None, "default") else model)
    path = None
    if not isinstance(dataset, LabelledData):
        path = Path(dataset)
        dataset = load_data(path)
    started = time.perf_counter()
    probs = clf.predict_proba(dataset.texts, batch_size=batch_size, engine=engine)
    predict_s = time.perf_counter() - started
    timing = {"predict_s": round(predict_s, 3),
              "texts_per_s": round(len(dataset) / predict_s, 1) if predict_s else None,
              "batch_size": batch_size, "engine": engine}
    return build_report(dataset.texts, dataset.labels, probs, extra=dataset.extra, model=_model_info(clf),
                        dataset=_dataset_info(dataset, path), timing=timing, n_resamples=n_resamples, seed=seed,
                        n_bins=n_bins, n_errors=n_errors, slice_by=slice_by, include_examples=include_examples)


# -- plots -----------------------------------------------------------------------------------------
def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("report plots need matplotlib: pip install matplotlib") from None

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def plot_confusion(data: dict[str, Any]) -> bytes:
    """Confusion matrix heat maps: counts and row-normalised (rows = gold)."""
    cm = np.asarray(data["confusion"]["counts"])
    norm = np.asarray(data["confusion"]["row_normalised"])
    fig = _figure(8.4, 3.8)
    for ax, mat, title, fmt in zip(fig.subplots(1, 2), (cm, norm), ("counts", "row-normalised (recall)"),
                                   ("{:d}", "{:.0%}")):
        vmax = mat.max() if mat.max() > 0 else 1
        ax.imshow(mat, cmap="Blues", vmin=0, vmax=vmax)
        for i in range(mat.shape[0]):
            for j in range(mat.shape[1]):
                v = int(mat[i, j]) if fmt == "{:d}" else float(mat[i, j])
                ax.text(j, i, fmt.format(v), ha="center", va="center",
                        color="white" if mat[i, j] > 0.6 * vmax else "black", fontsize=11)
        ax.set_xticks(range(len(LABELS)), LABELS)
        ax.set_yticks(range(len(LABELS)), LABELS)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(title)
    return _png(fig)


def plot_reliability(data: dict[str, Any]) -> bytes:
    """Reliability diagram: accuracy vs mean confidence per bin, with the gap to the diagonal."""
    cal = data["calibration"]
    bins = [b for b in cal["bins"] if b["count"] > 0]
    fig = _figure(5.2, 4.6)
    ax = fig.subplots()
    width = 1 / cal["n_bins"]
    centers = [(b["low"] + b["high"]) / 2 for b in bins]
    ax.bar(centers, [b["accuracy"] for b in bins], width=width, color="#4c72b0", edgecolor="white", label="accuracy")
    ax.bar(centers, [b["confidence"] - b["accuracy"] for b in bins], bottom=[b["accuracy"] for b in bins],
           width=width, color="#dd8452", alpha=0.55, edgecolor="#dd8452", hatch="//", label="gap to confidence")
    ax.plot([0, 1], [0, 1], "--", color="#333333", lw=1, zorder=3, label="perfect calibration")
    lo = max(0.0, 1 / len(LABELS) - width)
    ax.set_xlim(lo, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"reliability: ECE {cal['ece']:.3f} ({cal['n_bins']} bins)")
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def plot_confidence(data: dict[str, Any]) -> bytes:
    """Histogram of the top-class probability, correct and wrong predictions stacked."""
    h = data["confidence_histogram"]
    edges = np.asarray(h["edges"])
    ok, bad = np.asarray(h["correct"]), np.asarray(h["incorrect"])
    fig = _figure(5.2, 3.4)
    ax = fig.subplots()
    w = np.diff(edges)
    ax.bar(edges[:-1], ok, width=w, align="edge", color="#55a868", edgecolor="white", label="correct")
    ax.bar(edges[:-1], bad, width=w, bottom=ok, align="edge", color="#c44e52", edgecolor="white", label="wrong")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("texts")
    ax.set_title(f"confidence: mean {data['calibration']['mean_confidence']:.3f}, "
                 f"accuracy {data['calibration']['accuracy']:.3f}")
    ax.legend(fontsize=8)
    return _png(fig)


_PLOTTERS = {"confusion": plot_confusion, "reliability": plot_reliability, "confidence": plot_confidence}


# -- the report ------------------------------------------------------------------------------------
class Report:
    """An evaluation report: ``data`` (JSON-able dict) and its renderings.

    ``summary()`` (terminal), ``to_json()``, ``to_markdown()``, ``to_html()`` (self-contained),
    ``plots()`` (PNG bytes), ``save(dir)`` (all of them, atomically), ``_repr_html_`` (notebooks).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a sentilstm report (schema {data.get('schema')!r}, expected {SCHEMA!r})")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"report schema version {data.get('schema_version')!r} is not supported "
                             f"(this sentilstm reads version {SCHEMA_VERSION})")
        self.data = data
        self._plots: dict[str, bytes] | None = None

    # -- access ----------------------------------------------------------------------------------
    @property
    def headline(self) -> dict[str, dict[str, float]]:
        """``{metric: {"value", "low", "high"}}`` for AvgRec, F1PN, macro-F1, accuracy."""
        return self.data["headline"]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __repr__(self) -> str:
        h = self.headline["avg_recall"]
        return (f"<Report: {self.data['n']} texts, AvgRec {h['value']:.4f} "
                f"[{h['low']:.4f}, {h['high']:.4f}], model {self.data['model'].get('path', '?')}>")

    def __str__(self) -> str:
        return self.summary()

    @classmethod
    def from_json(cls, text: str) -> "Report":
        return cls(json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> "Report":
        """Load ``report.json`` (or a report directory containing it)."""
        path = Path(path)
        if path.is_dir():
            path = path / REPORT_JSON
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no such report file") from None
        try:
            return cls.from_json(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from None
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None

    # -- JSON ------------------------------------------------------------------------------------
    def to_dict(self, examples: bool = True) -> dict[str, Any]:
        return self.data if examples else {k: v for k, v in self.data.items() if k != "examples"}

    def to_json(self, examples: bool = True) -> str:
        """The report as JSON: indented, except the per-example columns (one line each)."""
        text = json.dumps(self.to_dict(examples=False), indent=2, ensure_ascii=False, allow_nan=False)
        if examples and "examples" in self.data:
            cols = ",\n".join(f"    {json.dumps(k)}: "
                              + json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                              for k, v in self.data["examples"].items())
            text = text[:-2] + ',\n  "examples": {\n' + cols + "\n  }\n}"
        return text + "\n"

    # -- text ------------------------------------------------------------------------------------
    def _provenance_lines(self) -> list[tuple[str, str]]:
        d = self.data
        m, ds, tm = d["model"], d["dataset"], d["timing"]
        out = []
        if m:
            desc = str(m.get("description", ""))
            if desc.startswith("SentimentClassifier("):
                desc = desc[desc.find("(") + 1: -1].replace(", fitted", "")
            out.append(("model", f"{m.get('path')}  ({desc}; config {str(m.get('config_sha256', ''))[:12]})"))
            tr = m.get("training") or {}
            train = tr.get("train") or {}
            if m.get("created") or train:
                rows = f" on {train['rows']:,} rows" if train.get("rows") else ""
                src = f" of {train['source']}" if train.get("source") else ""
                out.append(("trained", f"{m.get('created') or '?'}{rows}{src}"))
        sha = ds.get("file_sha256") or ds.get("content_sha256") or ""
        out.append(("data", f"{ds.get('path') or ds.get('name') or '(in memory)'}  {d['n']:,} rows  sha256 {sha[:12]}"))
        parts = []
        if tm.get("predict_s") is not None:
            parts.append(f"predict {tm['predict_s']:.2f} s ({tm.get('texts_per_s') or 0:,.0f} texts/s)")
        if tm.get("report_s") is not None:
            parts.append(f"report {tm['report_s']:.2f} s")
        if parts:
            out.append(("time", "   ".join(parts)))
        env = d.get("environment", {})
        out.append(("env", f"sentilstm {env.get('sentilstm', '?')}, numpy {env.get('numpy', '?')}, "
                           f"python {env.get('python', '?')}; {d.get('created', '')}"))
        return out

    def summary(self, width: int = 60) -> str:
        """A compact, aligned plain-text summary for the terminal."""
        d = self.data
        b = d["bootstrap"]
        lines = [f"Evaluation report: {d['n']:,} texts"]
        lines += _table([[k, v] for k, v in self._provenance_lines()], [False, False])
        lines.append("")
        rows = [["metric", "value", f"{b['confidence']:.0%} CI ({b['n_resamples']} bootstrap resamples)"]]
        for k in M.HEADLINE:
            h = d["headline"][k]
            rows.append([_NAMES[k], f"{h['value']:.4f}", f"{h['low']:.4f} - {h['high']:.4f}"])
        lines += _table(rows, [False, True, False])
        lines.append("")
        rows = [["class", "precision", "recall", "f1", "support", "predicted"]]
        for lab in LABELS:
            pc = d["per_class"][lab]
            rows.append([lab, f"{pc['precision']:.4f}", f"{pc['recall']:.4f}", f"{pc['f1']:.4f}",
                         f"{pc['support']:,}", f"{pc['predicted']:,}"])
        lines += _table(rows, [False] + [True] * 5)
        lines.append("")
        cm = d["confusion"]["counts"]
        rows = [["gold \\ predicted", *LABELS]] + [[lab, *(f"{v:,}" for v in r)] for lab, r in zip(LABELS, cm)]
        lines += _table(rows, [False, True, True, True])
        c = d["calibration"]
        lines += ["", f"  calibration  ECE {c['ece']:.4f} ({c['n_bins']} bins)  MCE {c['mce']:.4f}  "
                      f"Brier {c['brier']:.4f}  log-loss {c['log_loss']:.4f}",
                  f"               mean confidence {c['mean_confidence']:.4f} vs accuracy {c['accuracy']:.4f}", ""]
        rows = [["slice", "group", "n", "AvgRec", "95% CI", "accuracy", "ECE"]]
        for s in d["slices"]:
            for i, g in enumerate(s["groups"]):
                h = g["headline"]["avg_recall"]
                rows.append([s["name"] if i == 0 else "", _short(g["value"], 28), f"{g['n']:,}", f"{h['value']:.4f}",
                             f"{h['low']:.3f} - {h['high']:.3f}", f"{g['headline']['accuracy']['value']:.4f}",
                             f"{g['ece']:.3f}"])
        lines += _table(rows, [False, False, True, True, False, True, True])
        lines.append("")
        rows = [["gold -> predicted", "count", "top conf.", "most confident error"]]
        for e in d["errors"]:
            top = e["examples"][0] if e["examples"] else None
            rows.append([f"{e['true']} -> {e['predicted']}", f"{e['count']:,}",
                         f"{top['confidence']:.3f}" if top else "", _short(top["text"], width) if top else ""])
        lines += _table(rows, [False, True, True, False])
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The report as Markdown; plots are linked as the PNG files written next to it."""
        d = self.data
        b = d["bootstrap"]
        out = [f"# Evaluation report: {d['n']:,} texts", ""]
        out += [f"- **{k}**: {_md_cell(v)}" for k, v in self._provenance_lines()]
        out += ["", "## Headline", "",
                *_md_table(["metric", "value", f"{b['confidence']:.0%} CI"],
                           [[_NAMES[k], f"{d['headline'][k]['value']:.4f}",
                             f"{d['headline'][k]['low']:.4f} – {d['headline'][k]['high']:.4f}"] for k in M.HEADLINE],
                           "lrr"),
                "", f"Percentile bootstrap, {b['n_resamples']} resamples, seed {b['seed']}.", "",
                "## Per class", "",
                *_md_table(["class", "precision", "recall", "F1", "support", "predicted", "gold %", "predicted %"],
                           [[lab, f"{pc['precision']:.4f}", f"{pc['recall']:.4f}", f"{pc['f1']:.4f}", pc["support"],
                             pc["predicted"], f"{pc['support'] / d['n']:.1%}", f"{pc['predicted'] / d['n']:.1%}"]
                            for lab, pc in d["per_class"].items()], "lrrrrrrr"),
                "", "## Confusion matrix", "", "Rows are gold labels, columns predictions (count, row %).", "",
                *_md_table(["gold \\ predicted", *LABELS],
                           [[lab, *(f"{c} ({r:.0%})" for c, r in zip(cr, rr))] for lab, cr, rr in
                            zip(LABELS, d["confusion"]["counts"], d["confusion"]["row_normalised"])], "lrrr"),
                "", f"![confusion matrix]({PLOTS['confusion']})", ""]
        c = d["calibration"]
        out += ["## Calibration", "",
                f"ECE **{c['ece']:.4f}** ({c['n_bins']} equal-width bins), MCE {c['mce']:.4f}, Brier {c['brier']:.4f}, "
                f"log-loss {c['log_loss']:.4f}; mean confidence {c['mean_confidence']:.4f} vs accuracy "
                f"{c['accuracy']:.4f}.", "",
                f"![reliability diagram]({PLOTS['reliability']})", "",
                f"![confidence histogram]({PLOTS['confidence']})", "", "## Slices", ""]
        for s in d["slices"]:
            out += [f"### {s['name']}", "", f"By {s['description']}.", "",
                    *_md_table(["group", "n", "AvgRec (95% CI)", "F1PN", "macro-F1", "accuracy", "ECE"],
                               [[g["value"], g["n"], _ci(g["headline"]["avg_recall"]),
                                 f"{g['headline']['f1_pn']['value']:.4f}", f"{g['headline']['macro_f1']['value']:.4f}",
                                 f"{g['headline']['accuracy']['value']:.4f}", f"{g['ece']:.4f}"]
                                for g in s["groups"]], "lrrrrrr"), ""]
        out += ["## Most confident errors", ""]
        for e in d["errors"]:
            out += [f"### gold {e['true']}, predicted {e['predicted']} ({e['count']:,})", ""]
            if e["examples"]:
                out += [*_md_table(["#", "conf.", *(f"p({lab[:3]})" for lab in LABELS), "text"],
                                   [[x.get("id", x["index"]), f"{x['confidence']:.3f}",
                                     *(f"{x['probabilities'][lab]:.3f}" for lab in LABELS), x["text"]]
                                    for x in e["examples"]], "lrrrrl"), ""]
        out += ["## Provenance", "", "```json",
                json.dumps({k: d[k] for k in ("model", "dataset", "environment", "timing", "bootstrap")},
                           indent=2, ensure_ascii=False), "```", ""]
        return "\n".join(out)

    # -- HTML ------------------------------------------------------------------------------------
    def plots(self, renderer: Any = None) -> dict[str, bytes]:
        """PNG bytes of each plot, by file name (rendered once, then cached).

        ``renderer``: a :class:`~sentilstm.plot_worker.PlotRenderer` to draw them in (same bytes)."""
        if self._plots is None:
            if renderer is not None:
                self._plots = renderer.render(self.data)
            else:
                self._plots = {PLOTS[k]: fn(self.data) for k, fn in _PLOTTERS.items()}
        return self._plots

    def _html_fragment(self) -> str:
        d = self.data
        e = html.escape
        pngs = self.plots()

        def img(key: str, alt: str) -> str:
            return (f'<img alt="{e(alt)}" src="data:image/png;base64,'
                    f'{base64.b64encode(pngs[PLOTS[key]]).decode("ascii")}">')

        def table(header: list[str], rows: list[list[Any]], left: int = 1, cls: str = "") -> str:
            th = "".join(f'<th{" class=l" if i < left else ""}>{e(str(h))}</th>' for i, h in enumerate(header))
            body = "".join("<tr>" + "".join(f'<td{" class=l" if i < left else ""}>{e(str(c))}</td>'
                                             for i, c in enumerate(r)) + "</tr>" for r in rows)
            attr = f" class={cls}" if cls else ""
            return f"<div class=tw><table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>"

        b = d["bootstrap"]
        parts = [f"<h1>Evaluation report <small>{d['n']:,} texts</small></h1>", "<dl>"]
        parts += [f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in self._provenance_lines()]
        parts.append("</dl><div class=cards>")
        for k in M.HEADLINE:
            h = d["headline"][k]
            parts.append(f"<div class=card><div class=m>{e(_NAMES[k])}</div><div class=v>{h['value']:.4f}</div>"
                         f"<div class=ci>{b['confidence']:.0%} CI {h['low']:.4f} – {h['high']:.4f}</div></div>")
        parts.append(f"</div><p class=note>Percentile bootstrap, {b['n_resamples']} resamples, seed {b['seed']}.</p>")
        parts.append("<h2>Per class</h2>")
        parts.append(table(["class", "precision", "recall", "F1", "support", "predicted", "gold %", "pred. %"],
                           [[lab, f"{pc['precision']:.4f}", f"{pc['recall']:.4f}", f"{pc['f1']:.4f}",
                             f"{pc['support']:,}", f"{pc['predicted']:,}", f"{pc['support'] / d['n']:.1%}",
                             f"{pc['predicted'] / d['n']:.1%}"] for lab, pc in d["per_class"].items()]))
        parts.append("<h2>Confusion matrix</h2><p class=note>Rows are gold labels, columns predictions.</p>")
        parts.append(table(["gold \\ predicted", *LABELS],
                           [[lab, *(f"{c:,} ({r:.0%})" for c, r in zip(cr, rr))] for lab, cr, rr in
                            zip(LABELS, d["confusion"]["counts"], d["confusion"]["row_normalised"])]))
        parts.append(img("confusion", "confusion matrix heat maps"))
        c = d["calibration"]
        parts.append(f"<h2>Calibration</h2><p>ECE <b>{c['ece']:.4f}</b> ({c['n_bins']} equal-width bins), "
                     f"MCE {c['mce']:.4f}, Brier {c['brier']:.4f}, log-loss {c['log_loss']:.4f}; mean confidence "
                     f"{c['mean_confidence']:.4f} vs accuracy {c['accuracy']:.4f}.</p>")
        parts.append(f'<div class=plots>{img("reliability", "reliability diagram")}'
                     f'{img("confidence", "confidence histogram")}</div>')
        parts.append("<h2>Slices</h2>")
        for s in d["slices"]:
            parts.append(f"<h3>{e(s['name'])}</h3><p class=note>By {e(s['description'])}.</p>")
            parts.append(table(["group", "n", "AvgRec (95% CI)", "F1PN", "macro-F1", "accuracy", "ECE"],
                               [[g["value"], f"{g['n']:,}", _ci(g["headline"]["avg_recall"]),
                                 f"{g['headline']['f1_pn']['value']:.4f}",
                                 f"{g['headline']['macro_f1']['value']:.4f}",
                                 f"{g['headline']['accuracy']['value']:.4f}", f"{g['ece']:.4f}"]
                                for g in s["groups"]]))
        parts.append("<h2>Most confident errors</h2>")
        biggest = max(x["count"] for x in d["errors"])
        for er in d["errors"]:
            parts.append(f"<details{' open' if er['examples'] and er['count'] == biggest else ''}>"
                         f"<summary>gold <b>{e(er['true'])}</b>, predicted <b>{e(er['predicted'])}</b>: "
                         f"{er['count']:,}</summary>")
            if er["examples"]:
                parts.append(table(["text", "conf.", *(f"p({lab[:3]})" for lab in LABELS), "#"],
                                   [[x["text"], f"{x['confidence']:.3f}",
                                     *(f"{x['probabilities'][lab]:.3f}" for lab in LABELS), x.get("id", x["index"])]
                                    for x in er["examples"]], cls="err"))
            parts.append("</details>")
        prov = json.dumps({k: d[k] for k in ("model", "dataset", "environment", "timing", "bootstrap")},
                          indent=2, ensure_ascii=False)
        parts.append(f"<h2>Provenance</h2><details><summary>model, data, environment, timing</summary>"
                     f"<pre>{e(prov)}</pre></details>")
        return f"<style>{_CSS}</style><div class=sentilstm-report>" + "\n".join(parts) + "</div>"

    def to_html(self) -> str:
        """A self-contained HTML page: inline CSS, plots embedded as base64 PNG, no external assets."""
        return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>sentilstm evaluation report</title></head><body>\n{self._html_fragment()}\n</body></html>\n")

    def _repr_html_(self) -> str:
        return self._html_fragment()

    # -- saving ----------------------------------------------------------------------------------
    def save(self, path: str | Path, renderer: Any = None, overwrite: bool = False, inputs: Any = ()) -> Path:
        """Write report.json, report.md, report.html and the PNGs to directory ``path``, atomically.

        The files are written to a temporary sibling directory that then replaces ``path`` in one
        step, so a crash leaves the previous report intact.  An existing ``path`` must be empty or
        a sentilstm report (so a typo cannot replace an unrelated directory), unless ``overwrite``;
        never a directory holding one of ``inputs``.  ``renderer``: see :meth:`plots`.
        """
        path = Path(path)
        check_output(path, "report", overwrite=overwrite, inputs=inputs)
        pngs = self.plots(renderer)
        md, page, doc = self.to_markdown(), self.to_html(), self.to_json()
        with atomic_directory(path, "report", overwrite=overwrite, inputs=inputs) as tmp:
            for name, data in pngs.items():
                atomic_write_bytes(tmp / name, data)
            atomic_write_text(tmp / REPORT_MD, md)
            atomic_write_text(tmp / REPORT_HTML, page)
            atomic_write_text(tmp / REPORT_JSON, doc)
        return path


_CSS = """
.sentilstm-report{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;color:#1d1d1f;
max-width:62rem;margin:0 auto;padding:.75rem;box-sizing:border-box}
.sentilstm-report h1{font-size:1.5rem;margin:.2rem 0 .6rem}.sentilstm-report h1 small{font-weight:400;color:#666}
.sentilstm-report h2{font-size:1.2rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ddd}
.sentilstm-report h3{font-size:1rem;margin:1rem 0 .3rem}
.sentilstm-report dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;font-size:.85rem;margin:0}
.sentilstm-report dt{color:#666}.sentilstm-report dd{margin:0;overflow-wrap:anywhere}
.sentilstm-report .cards{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.8rem}
.sentilstm-report .card{flex:1 1 9rem;border:1px solid #ddd;border-radius:.5rem;padding:.5rem .7rem}
.sentilstm-report .m{color:#666;font-size:.85rem}.sentilstm-report .v{font-size:1.5rem;font-weight:600}
.sentilstm-report .ci,.sentilstm-report .note{color:#666;font-size:.8rem}
.sentilstm-report .tw{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.3rem 0}
.sentilstm-report table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
.sentilstm-report th,.sentilstm-report td{padding:.25rem .5rem;border-bottom:1px solid #e5e5e5;text-align:right;
white-space:nowrap;vertical-align:top}
.sentilstm-report .l{text-align:left}
.sentilstm-report table.err td.l{white-space:normal;overflow-wrap:anywhere;min-width:14rem;max-width:40rem}
.sentilstm-report img{max-width:100%;height:auto;display:block;margin:.5rem 0}
.sentilstm-report .plots{display:flex;flex-wrap:wrap;gap:.5rem}.sentilstm-report .plots img{flex:1 1 18rem;min-width:0}
.sentilstm-report details{margin:.3rem 0}.sentilstm-report summary{cursor:pointer}
.sentilstm-report pre{font-size:.75rem;overflow-x:auto;background:#f6f6f6;padding:.5rem}
""".strip()


def load_report(path: str | Path) -> Report:
    """Load a report from ``report.json`` or a report directory."""
    return Report.load(path)


# -- comparison ------------------------------------------------------------------------------------
def _pair(a: dict[str, Any], b: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, str]:
    """Indices pairing the examples of reports ``a`` and ``b``: by position if the data are the
    same, else by text (duplicates matched in order)."""
    ea, eb = a.get("examples"), b.get("examples")
    for name, ex in (("A", ea), ("B", eb)):
        if not ex:
            raise ValueError(f"report {name} has no per-example data (saved with include_examples=False)")
    same = (len(ea["text"]) == len(eb["text"]) and ea["gold"] == eb["gold"] and ea["text"] == eb["text"])
    if same:
        idx = np.arange(len(ea["text"]))
        return idx, idx, "by position (same texts and labels)"
    where: dict[tuple[str, int], list[int]] = {}
    for j, (t, g) in enumerate(zip(eb["text"], eb["gold"])):
        where.setdefault((t, g), []).append(j)
    ia, ib = [], []
    for i, (t, g) in enumerate(zip(ea["text"], ea["gold"])):
        js = where.get((t, g))
        if js:
            ia.append(i)
            ib.append(js.pop(0))
    if not ia:
        raise ValueError("the two reports share no examples (no text with the same gold label in both)")
    return np.asarray(ia), np.asarray(ib), "by text and gold label"


def compare(a: Report | dict[str, Any], b: Report | dict[str, Any], *, n_resamples: int = 10000,
            seed: int | None = 0, confidence: float = 0.95) -> dict[str, Any]:
    """Compare report ``b`` against report ``a`` on their shared examples.

    Returns metric deltas (B - A) with paired-bootstrap intervals and p-values, counts of
    examples fixed / broken / changed, and every example whose predicted label changed.
    """
    da = a.data if isinstance(a, Report) else a
    db = b.data if isinstance(b, Report) else b
    ia, ib, how = _pair(da, db)
    ea, eb = da["examples"], db["examples"]
    gold = np.asarray(ea["gold"])[ia]
    pa, pb = np.asarray(ea["pred"])[ia], np.asarray(eb["pred"])[ib]
    tests = M.paired_bootstrap(gold, pa, pb, n_resamples=n_resamples, seed=seed, confidence=confidence)
    proba_a, proba_b = np.asarray(ea["proba"])[ia], np.asarray(eb["proba"])[ib]
    changed = []
    for k in np.flatnonzero(pa != pb):
        ok_a, ok_b = pa[k] == gold[k], pb[k] == gold[k]
        kind = "fixed" if ok_b and not ok_a else "broken" if ok_a and not ok_b else "changed"
        changed.append({"index_a": int(ia[k]), "index_b": int(ib[k]), "text": ea["text"][ia[k]],
                        "gold": LABELS[gold[k]], "a": LABELS[pa[k]], "b": LABELS[pb[k]], "kind": kind,
                        "p_a": float(proba_a[k, pa[k]]), "p_b": float(proba_b[k, pb[k]])})
    order = {"broken": 0, "fixed": 1, "changed": 2}
    changed.sort(key=lambda c: (order[c["kind"]], -max(c["p_a"], c["p_b"])))
    return {
        "a": {"model": da["model"].get("path"), "dataset": da["dataset"].get("path"), "n": da["n"]},
        "b": {"model": db["model"].get("path"), "dataset": db["dataset"].get("path"), "n": db["n"]},
        "paired": int(gold.size),
        "pairing": how,
        "bootstrap": {"n_resamples": n_resamples, "seed": seed, "confidence": confidence,
                      "method": "paired percentile bootstrap; two-sided p from the resampled deltas"},
        "metrics": tests,
        "counts": {k: sum(c["kind"] == k for c in changed) for k in ("fixed", "broken", "changed")},
        "changed": changed,
    }


def format_comparison(cmp: dict[str, Any], limit: int = 20, width: int = 70) -> str:
    """Aligned terminal text for :func:`compare`'s result; ``limit`` changed examples listed."""
    lines = [f"A: {cmp['a']['model']} on {cmp['a']['dataset']} ({cmp['a']['n']:,} texts)",
             f"B: {cmp['b']['model']} on {cmp['b']['dataset']} ({cmp['b']['n']:,} texts)",
             f"paired {cmp['paired']:,} examples {cmp['pairing']}; {cmp['bootstrap']['n_resamples']:,} "
             f"paired bootstrap resamples", ""]
    rows = [["metric", "A", "B", "B - A", f"{cmp['bootstrap']['confidence']:.0%} CI", "p", ""]]
    for k in M.HEADLINE:
        m = cmp["metrics"][k]
        sig = "**" if m["p_value"] < 0.01 else "*" if m["p_value"] < 0.05 else ""
        rows.append([_NAMES[k], f"{m['a']:.4f}", f"{m['b']:.4f}", f"{m['delta']:+.4f}",
                     f"{m['low']:+.4f} .. {m['high']:+.4f}", f"{m['p_value']:.4f}", sig])
    lines += _table(rows, [False, True, True, True, False, True, False])
    c = cmp["counts"]
    lines += ["  (* p < 0.05, ** p < 0.01)", "",
              f"changed labels: {len(cmp['changed']):,}  (fixed {c['fixed']:,}, broken {c['broken']:,}, "
              f"wrong both ways {c['changed']:,})"]
    if cmp["changed"] and limit > 0:
        rows = [["kind", "gold", "A", "B", "p(A)", "p(B)", "text"]]
        for ch in cmp["changed"][:limit]:
            rows.append([ch["kind"], ch["gold"], ch["a"], ch["b"], f"{ch['p_a']:.2f}", f"{ch['p_b']:.2f}",
                         _short(ch["text"], width)])
        lines += _table(rows, [False, False, False, False, True, True, False])
        if len(cmp["changed"]) > limit:
            lines.append(f"  ... and {len(cmp['changed']) - limit:,} more (--limit N, or --format json)")
    return "\n".join(lines)
