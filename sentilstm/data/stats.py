"""Summaries of loaded datasets: counts per split and label, text lengths, duplicates, examples."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["describe_dataset"]

PERCENTILES = (5, 25, 50, 75, 95)


def _split_stats(ds: Any, examples: int) -> dict[str, Any]:
    import pyarrow.compute as pc

    names = list(ds.features["label"].names)
    table = ds.with_format("arrow")[:].select(["text", "label"])
    labels = table.column("label").to_numpy(zero_copy_only=False)
    counts = np.bincount(labels, minlength=len(names)) if len(labels) else np.zeros(len(names), int)
    lengths = pc.utf8_length(table.column("text")).to_numpy(zero_copy_only=False)
    length = {"min": int(lengths.min()), **{f"p{q}": float(np.percentile(lengths, q)) for q in PERCENTILES},
              "max": int(lengths.max()), "mean": round(float(lengths.mean()), 1)} if len(lengths) else {}
    groups = table.group_by("text").aggregate([("label", "count"), ("label", "count_distinct")])
    multi = pc.greater(groups.column("label_count"), 1)
    dup_texts = int(pc.sum(multi).as_py() or 0)
    dup_rows = int(pc.sum(pc.filter(groups.column("label_count"), multi)).as_py() or 0)
    conflicting = int(pc.sum(pc.greater(groups.column("label_count_distinct"), 1)).as_py() or 0)
    shown: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        idx = np.flatnonzero(labels == i)[:examples]
        shown[name] = table.column("text").take(idx).to_pylist() if len(idx) else []
    return {
        "rows": len(labels),
        "labels": {n: int(c) for n, c in zip(names, counts)},
        "text_length": length,
        "duplicates": {"texts": dup_texts, "rows": dup_rows, "extra_rows": dup_rows - dup_texts,
                       "conflicting_labels": conflicting},
        "examples": shown,
    }


def describe_dataset(obj: Any, examples: int = 5) -> dict[str, Any]:
    """Statistics of a Dataset or DatasetDict: per split rows, labels, text length percentiles
    (characters), duplicate texts (and those with conflicting labels), texts shared between
    splits, the first ``examples`` texts per label, and the loader's notes (skipped rows)."""
    import pyarrow.compute as pc
    from datasets import DatasetDict

    splits = dict(obj) if isinstance(obj, DatasetDict) else {"all": obj}
    out: dict[str, Any] = {"splits": {s: _split_stats(d, examples) for s, d in splits.items()}}
    notes = []
    for s, d in splits.items():
        for line in (d.info.description or "").splitlines():
            notes.append(line if len(splits) == 1 else f"[{s}] {line}")
    out["notes"] = notes
    overlap = {}
    names = list(splits)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ta = splits[a].with_format("arrow")[:].column("text")
            tb = pc.unique(splits[b].with_format("arrow")[:].column("text"))
            n = int(pc.sum(pc.is_in(pc.unique(ta), value_set=tb)).as_py() or 0)
            if n:
                overlap[f"{a}/{b}"] = n
    out["overlap"] = overlap
    return out
