"""Compare two evaluation reports (``sentilstm report compare``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sentilstm import metrics as M
from sentilstm.evaluation.render import Report, METRIC_NAMES, shorten, text_table
from sentilstm.labels import LABELS

__all__ = ["compare", "format_comparison"]


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
        rows.append([METRIC_NAMES[k], f"{m['a']:.4f}", f"{m['b']:.4f}", f"{m['delta']:+.4f}",
                     f"{m['low']:+.4f} .. {m['high']:+.4f}", f"{m['p_value']:.4f}", sig])
    lines += text_table(rows, [False, True, True, True, False, True, False])
    c = cmp["counts"]
    lines += ["  (* p < 0.05, ** p < 0.01)", "",
              f"changed labels: {len(cmp['changed']):,}  (fixed {c['fixed']:,}, broken {c['broken']:,}, "
              f"wrong both ways {c['changed']:,})"]
    if cmp["changed"] and limit > 0:
        rows = [["kind", "gold", "A", "B", "p(A)", "p(B)", "text"]]
        for ch in cmp["changed"][:limit]:
            rows.append([ch["kind"], ch["gold"], ch["a"], ch["b"], f"{ch['p_a']:.2f}", f"{ch['p_b']:.2f}",
                         shorten(ch["text"], width)])
        lines += text_table(rows, [False, False, False, False, True, True, False])
        if len(cmp["changed"]) > limit:
            lines.append(f"  ... and {len(cmp['changed']) - limit:,} more (--limit N, or --format json)")
    return "\n".join(lines)
