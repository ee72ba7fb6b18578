"""The three sentiment classes, their order, and the label spellings we accept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["LABELS", "LABEL_SYNONYMS", "UnknownLabelsError", "labels_to_ids"]

#: Column order of every probability output.
LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")

#: Accepted spellings (lower-cased) of each label in data files.
LABEL_SYNONYMS: dict[str, int] = {
    **{name: i for i, name in enumerate(LABELS)},
    "neg": 0,
    "neu": 1, "neut": 1, "objective": 1, "objective-or-neutral": 1,
    "pos": 2,
}


class UnknownLabelsError(ValueError):
    """Raised when data has labels outside :data:`LABELS`; the message lists them with counts."""


def labels_to_ids(labels: Iterable[object], where: str = "labels") -> np.ndarray:
    """Map label names (or synonyms, any case) to ids 0..2; unknown ones raise with counts.

    Numbers are not accepted here (is 1 "neutral" or "positive"?); map them explicitly.
    """
    ids: list[int] = []
    bad: Counter[str] = Counter()
    for lab in labels:
        key = str(lab).strip().lower()
        idx = LABEL_SYNONYMS.get(key)
        if idx is None:
            bad[repr(lab)] += 1
            ids.append(-1)
        else:
            ids.append(idx)
    if bad:
        listed = ", ".join(f"{k} ({n}×)" for k, n in bad.most_common(10))
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise UnknownLabelsError(
            f"{where}: {sum(bad.values())} row(s) have unknown labels: {listed}{more}; "
            f"expected one of {', '.join(LABELS)}"
        )
    return np.asarray(ids, dtype=np.int64)


# fit() refuses a training set with fewer examples than this of any class (the model would never,
# or hardly ever, predict it) unless allow_missing_classes=True (--allow-missing-classes)
MIN_CLASS_EXAMPLES = 10


def as_label_ids(labels: Any, n: int, name: str = "labels") -> np.ndarray:
    """Label names (any case, common synonyms) or integer ids 0..2 in LABELS order."""
    arr = np.asarray(list(labels) if not isinstance(labels, np.ndarray) else labels)
    if arr.shape != (n,):
        raise ValueError(f"{name} has {arr.shape[0] if arr.ndim else 0} items but there are {n} texts")
    if np.issubdtype(arr.dtype, np.integer):
        if n and (arr.min() < 0 or arr.max() >= len(LABELS)):
            raise ValueError(f"{name}: integer labels must be 0..{len(LABELS) - 1} (indices into {LABELS})")
        return arr.astype(np.int64)
    return labels_to_ids(arr.tolist(), where=name)


def check_classes(y: np.ndarray, minimum: int = MIN_CLASS_EXAMPLES, where: str = "the training data") -> None:
    """ValueError unless every class has at least ``minimum`` training examples."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(LABELS))
    if counts.min() >= minimum:
        return
    few = [f"{lab} {int(c)}" for lab, c in zip(LABELS, counts) if c < minimum]
    raise ValueError(f"{where} has too few examples of {', '.join(few)} (each class needs at least "
                     f"{minimum}; counts: {', '.join(f'{lab} {int(c)}' for lab, c in zip(LABELS, counts))}); "
                     f"such a model would never predict it. Add examples, or pass --allow-missing-classes "
                     f"(Python: allow_missing_classes=True) to train anyway")


def stratified_holdout(y: np.ndarray, seed: int, share: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """``(held, keep)`` row indices: a seeded ``share`` of each class (at least one row) held out."""
    rng = np.random.default_rng(seed)
    held = np.concatenate([rng.permutation(np.flatnonzero(y == c))[: max(1, int(share * np.sum(y == c)))]
                           for c in range(len(LABELS)) if np.any(y == c)])
    return held, np.setdiff1d(np.arange(len(y)), held)
