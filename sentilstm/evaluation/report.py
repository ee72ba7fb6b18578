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

import datetime as _dt
import hashlib
import json
import platform
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sentilstm import metrics as M
from sentilstm.evaluation.render import Report, SCHEMA, SCHEMA_VERSION
from sentilstm.labels import LABELS

__all__ = ["evaluate", "build_report"]


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
    from sentilstm.classifier import SentimentClassifier, load
    from sentilstm.data import LabelledData, load_data

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


