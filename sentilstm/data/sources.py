"""Where a corpus's files are: paths, splits, the table builder, and which corpus a path holds."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from sentilstm.data.arrow import TableBuilder, input_key
from sentilstm.data.formats import DataError, format_of
from sentilstm.data.readers import iter_lines
from sentilstm.labels import LABEL_SYNONYMS

if TYPE_CHECKING:  # pragma: no cover
    import datasets


PathArg = Union[str, Path, Sequence[Union[str, Path]]]


Result = Union["datasets.Dataset", "datasets.DatasetDict"]


_SPLIT_ALIASES = [{"validation", "val", "dev", "valid"}, {"test"}, {"train"}]


# -- helpers ---------------------------------------------------------------------------------------
def as_paths(path: PathArg) -> list[Path]:
    if isinstance(path, (str, Path)):
        return [Path(path)]
    return [Path(p) for p in path]


def one_file(path: PathArg, name: str) -> Path:
    ps = as_paths(path)
    if len(ps) != 1:
        raise DataError(f"{name}: give one file or directory, got {len(ps)} paths")
    return need_path(ps[0])


def dir_files(d: Path, patterns: Iterable[str]) -> list[Path]:
    files = sorted({p for pat in patterns for p in d.glob(pat) if p.is_file()})
    return [p for p in files if not p.name.lower().startswith("readme")]


def need_path(p: Path) -> Path:
    if not p.exists():
        raise DataError(f"{p}: no such file or directory")
    return p


def _size(paths: Sequence[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


def pick_split(available: Sequence[str], split: str, where: str) -> str:
    if split in available:
        return split
    for group in _SPLIT_ALIASES:
        if split.lower() in group:
            for a in available:
                if a.lower() in group:
                    return a
    for a in available:
        if a.lower() == split.lower():
            return a
    raise DataError(f"{where}: no split {split!r}; available: {', '.join(available)}")


def split_results(parts: dict[str, Callable[[], "datasets.Dataset"]], split: str | None, where: str) -> Result:
    """One split's Dataset if ``split`` (or only one exists), else a DatasetDict of all."""
    from datasets import DatasetDict

    if not parts:
        raise DataError(f"{where}: no data files found")
    if split is not None:
        return parts[pick_split(list(parts), split, where)]()
    if len(parts) == 1:
        return next(iter(parts.values()))()
    return DatasetDict({name: make() for name, make in parts.items()})


def table_builder(where: str, name: str, paths: Sequence[Path], options: dict[str, Any], to_id: Any,
             extra: Sequence[str] = (), **kw: Any) -> TableBuilder:
    return TableBuilder(where, to_id, extra, strict=options.get("strict", False),
                        in_memory=options.get("in_memory"), size_hint=_size(paths),
                        cache_dir=options.get("cache_dir"), key=f"{name}-{input_key(name, paths, options)}", **kw)


# -- format detection ------------------------------------------------------------------------------
_SEMEVAL_LINE = re.compile(r"^[^\t]+\t(\d+\t)?(" + "|".join(map(re.escape, LABEL_SYNONYMS)) + r")\t", re.I)


def _first_line(f: Path, encoding: str = "utf-8") -> str:
    try:
        for _, line in iter_lines(f, encoding):
            if line.strip():
                return line
    except DataError:
        for _, line in iter_lines(f, "latin-1"):
            if line.strip():
                return line
    return ""


def detect_format(path: PathArg) -> str:
    """The loader for ``path``, from its extension, name, or first line; DataError if unclear."""
    p = as_paths(path)[0]
    need_path(p)
    if p.is_dir():
        names = {f.name for f in p.iterdir() if f.is_file()}
        if any(n.endswith("_text.txt") for n in names):
            return "tweet_eval"
        if "Tweets.csv" in names:
            return "airline"
        if any(n.startswith("Sentences") and n.endswith(".txt") for n in names):
            return "financial_phrasebank"
        if {"train.txt", "dev.txt", "test.txt"} & names and _first_line(p / sorted(
                {"train.txt", "dev.txt", "test.txt"} & names)[0]).lstrip().startswith("("):
            return "sst"
        for ext, fmt in ((".jsonl", "jsonl"), (".parquet", "parquet"), (".csv", "csv")):
            if any(n.endswith(ext) for n in names):
                return fmt
        txt = sorted(f for f in p.iterdir() if f.suffix in (".txt", ".tsv") and not f.name.lower().startswith("readme"))
        if txt and _SEMEVAL_LINE.match(_first_line(txt[0])):
            return "semeval2017"
        if any(n.endswith(".tsv") for n in names):
            return "tsv"
        raise DataError(f"{p}: cannot tell which corpus this directory holds; pass the loader name")
    suffix = p.suffix.lower()
    if format_of(p) in ("jsonl", "json"):
        return "jsonl"
    if format_of(p) == "parquet":
        return "parquet"
    first = _first_line(p)
    if suffix == ".csv":
        return "airline" if "airline_sentiment" in first.split(",") else "csv"
    if p.name.endswith("_text.txt"):
        return "tweet_eval"
    if _SEMEVAL_LINE.match(first):
        return "semeval2017"
    if suffix == ".tsv":
        return "tsv"
    if first.lstrip().startswith("(") and re.match(r"^\s*\(\s*[0-4]\s", first):
        return "sst"
    if re.search(r"@\s*(negative|neutral|positive)\s*$", first):
        return "financial_phrasebank"
    raise DataError(f"{p}: cannot tell the format from the name or the first line; pass the loader name")
