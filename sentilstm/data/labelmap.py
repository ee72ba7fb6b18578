"""Label mappings: raw label values (names, numbers, star ratings) -> label ids.

A mapping is written ``"0:negative,1:neutral,2:positive"``, ``"1-2:negative,3:neutral,4-5:positive"``
(inclusive numeric ranges), ``"pos:positive,meh:skip"`` (``skip`` drops those rows, counted and
reported), or given as a dict.  Values not in the mapping fall back to the usual spellings of
:data:`~sentilstm.labels.LABELS` (``pos``, ``Negative``, ``objective`` ...).  Bare numbers are never
guessed: ``1`` is unknown until a mapping says what it means.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Union

from sentilstm.labels import LABEL_SYNONYMS, LABELS

__all__ = ["LabelMap", "LabelMapSpec"]

LabelMapSpec = Union[str, Mapping[Any, Any], "LabelMap", None]

_SKIP_WORDS = {"skip", "drop", "-"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_RANGE = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(?:-|\.\.)\s*([+-]?\d+(?:\.\d+)?)\s*$")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if not (isinstance(value, float) and math.isnan(value)) else None
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value)
    return None


def label_key(value: Any) -> str | None:
    """The lookup key of a raw label: stripped lower-case text; numbers as ``3`` / ``3.5``."""
    if value is None:
        return None
    num = _number(value)
    if num is not None:
        return str(int(num)) if num.is_integer() else repr(num)
    return str(value).strip().lower()


class LabelMap:
    """Maps raw label values to ids into ``names`` (default :data:`LABELS`).

    :meth:`lookup` returns the id, ``None`` for an unknown value, or a string (the reason)
    for a value mapped to ``skip``.
    """

    def __init__(self, mapping: Mapping[Any, Any] | None = None, names: Sequence[str] = LABELS,
                 synonyms: bool = True) -> None:
        self.names = tuple(names)
        self.exact: dict[str, int | None] = {}
        self.ranges: list[tuple[float, float, int | None]] = []
        self.synonyms = synonyms and self.names == LABELS
        parts: list[str] = []
        for raw, target in (mapping or {}).items():
            tid = self._target(target)
            parts.append(f"{raw}:{self._name(tid)}")
            m = _RANGE.match(raw) if isinstance(raw, str) and _number(raw) is None else None
            if m:
                lo, hi = float(m.group(1)), float(m.group(2))
                if lo > hi:
                    raise ValueError(f"label_map: range {raw!r} is empty (low end above high end)")
                self.ranges.append((lo, hi, tid))
            else:
                key = label_key(raw)
                if not key:
                    raise ValueError(f"label_map: empty label value in {raw!r}")
                self.exact[key] = tid
        self.spec = ",".join(parts)

    def _target(self, target: Any) -> int | None:
        if isinstance(target, int) and not isinstance(target, bool):
            if 0 <= target < len(self.names):
                return target
            raise ValueError(f"label_map: label id {target} is out of range for {', '.join(self.names)}")
        t = str(target).strip().lower()
        if t in _SKIP_WORDS:
            return None
        if t in (n.lower() for n in self.names):
            return [n.lower() for n in self.names].index(t)
        if self.names == LABELS and t in LABEL_SYNONYMS:
            return LABEL_SYNONYMS[t]
        raise ValueError(f"label_map: unknown target label {target!r}; expected one of "
                         f"{', '.join(self.names)} or skip")

    def _name(self, tid: int | None) -> str:
        return "skip" if tid is None else self.names[tid]

    @classmethod
    def parse(cls, spec: LabelMapSpec, names: Sequence[str] = LABELS) -> "LabelMap":
        """A LabelMap from ``"raw:label,..."``, a dict, an existing LabelMap, or ``None``."""
        if isinstance(spec, LabelMap):
            return spec
        if spec is None or spec == "":
            return cls(None, names)
        if isinstance(spec, Mapping):
            return cls(spec, names)
        if not isinstance(spec, str):
            raise ValueError(f"label_map: expected a string like '0:negative,1:neutral' or a dict, got {spec!r}")
        mapping: dict[str, str] = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            sep = ":" if ":" in part else "=" if "=" in part else None
            if sep is None:
                raise ValueError(f"label_map: {part.strip()!r} has no ':' (write value:label, e.g. 4-5:positive)")
            raw, _, target = part.rpartition(sep)
            mapping[raw.strip()] = target.strip()
        if not mapping:
            raise ValueError(f"label_map: nothing in {spec!r}")
        return cls(mapping, names)

    def lookup(self, value: Any) -> int | str | None:
        """The label id of ``value``; ``None`` if unknown; a reason string if mapped to skip."""
        key = label_key(value)
        if key is None:
            return None
        if key in self.exact:
            tid = self.exact[key]
            return f"label {value!r} is mapped to skip" if tid is None else tid
        num = _number(value)
        if num is not None:
            for lo, hi, tid in self.ranges:
                if lo <= num <= hi:
                    return f"label {value!r} is mapped to skip" if tid is None else tid
        if self.synonyms:
            return LABEL_SYNONYMS.get(key)
        names = [n.lower() for n in self.names]
        return names.index(key) if key in names else None

    def describe(self) -> str:
        """How values map, for messages and ``datasets list``."""
        base = "names/synonyms (negative, neg, neutral, neu, objective, positive, pos)" if self.synonyms \
            else ", ".join(self.names)
        return f"{self.spec} (else {base})" if self.spec else base

    def __repr__(self) -> str:
        return f"LabelMap({self.describe()!r})"
