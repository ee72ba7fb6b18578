"""The report's plots (matplotlib, imported on first use): PNG bytes."""

from __future__ import annotations

from typing import Any

import numpy as np

from sentilstm.labels import LABELS


# -- plots -----------------------------------------------------------------------------------------
def new_figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("report plots need matplotlib: pip install matplotlib") from None

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def plot_confusion(data: dict[str, Any]) -> bytes:
    """Confusion matrix heat maps: counts and row-normalised (rows = gold)."""
    cm = np.asarray(data["confusion"]["counts"])
    norm = np.asarray(data["confusion"]["row_normalised"])
    fig = new_figure(8.4, 3.8)
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
    return png_bytes(fig)


def plot_reliability(data: dict[str, Any]) -> bytes:
    """Reliability diagram: accuracy vs mean confidence per bin, with the gap to the diagonal."""
    cal = data["calibration"]
    bins = [b for b in cal["bins"] if b["count"] > 0]
    fig = new_figure(5.2, 4.6)
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
    return png_bytes(fig)


def plot_confidence(data: dict[str, Any]) -> bytes:
    """Histogram of the top-class probability, correct and wrong predictions stacked."""
    h = data["confidence_histogram"]
    edges = np.asarray(h["edges"])
    ok, bad = np.asarray(h["correct"]), np.asarray(h["incorrect"])
    fig = new_figure(5.2, 3.4)
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
    return png_bytes(fig)


PLOTTERS = {"confusion": plot_confusion, "reliability": plot_reliability, "confidence": plot_confidence}
