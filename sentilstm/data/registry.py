"""The loader registry: name -> function(path, **options) -> LabelledData."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .files import LabelledData, read_labelled_csv, read_labelled_jsonl

__all__ = ["LOADERS", "register", "load_data"]

Loader = Callable[..., LabelledData]
LOADERS: dict[str, Loader] = {}
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "tsv"}


def register(name: str) -> Callable[[Loader], Loader]:
    """Decorator: make a loader available under ``name``."""

    def deco(fn: Loader) -> Loader:
        LOADERS[name] = fn
        return fn

    return deco


register("jsonl")(read_labelled_jsonl)
register("csv")(read_labelled_csv)
register("tsv")(lambda path, **kw: read_labelled_csv(path, delimiter="\t", **kw))


def load_data(path: str | Path, format: str | None = None, **options: Any) -> LabelledData:
    """Load labelled data from ``path`` with the loader ``format`` (default: by extension)."""
    if format is None:
        format = _EXTENSIONS.get(Path(path).suffix.lower())
        if format is None:
            raise ValueError(
                f"{path}: cannot tell the format from the extension {Path(path).suffix!r}; "
                f"pass one of: {', '.join(sorted(LOADERS))}"
            )
    try:
        loader = LOADERS[format]
    except KeyError:
        raise ValueError(f"unknown data format {format!r}; known: {', '.join(sorted(LOADERS))}") from None
    return loader(path, **options)
