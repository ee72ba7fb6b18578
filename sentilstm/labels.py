"""The three sentiment classes, their order, and the label spellings we accept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

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

