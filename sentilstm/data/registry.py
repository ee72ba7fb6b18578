"""The loader registries.

``LOADERS``: name -> function(path, **options) -> :class:`LabelledData` (what ``train`` /
``evaluate`` use through :func:`load_data`).  ``DATASETS``: name -> :class:`DatasetSpec`, whose
loader returns an Arrow-backed ``datasets.Dataset`` (or ``DatasetDict`` of splits), used by
:func:`load` / :func:`load_dataset`.  Every corpus registered with :func:`register_dataset` is in
both; ``jsonl``/``csv``/``tsv`` keep their plain readers in ``LOADERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from sentilstm.data.files import LabelledData, read_labelled_csv, read_labelled_jsonl
from sentilstm.data.formats import DataError, format_of, hub_name, looks_local

if TYPE_CHECKING:  # pragma: no cover
    import datasets

__all__ = ["LOADERS", "DATASETS", "DatasetSpec", "register", "register_dataset", "load_data", "load", "load_dataset"]

Loader = Callable[..., LabelledData]
LOADERS: dict[str, Loader] = {}
_LABELLED = {"jsonl": "jsonl", "json": "jsonl", "csv": "csv", "tsv": "tsv", "parquet": "parquet"}  # format -> loader
PathLike = Union[str, Path, Sequence[Union[str, Path]]]


def register(name: str) -> Callable[[Loader], Loader]:
    """Decorator: make a loader available under ``name``."""

    def deco(fn: Loader) -> Loader:
        LOADERS[name] = fn
        return fn

    return deco


register("jsonl")(read_labelled_jsonl)
register("csv")(read_labelled_csv)
register("tsv")(lambda path, **kw: read_labelled_csv(path, delimiter="\t", **kw))


@dataclass(frozen=True)
class DatasetSpec:
    """A registered corpus loader: ``loader(path, split=None, **options)`` -> Dataset or DatasetDict."""

    name: str
    loader: Callable[..., Any]
    files: str
    labels: str
    description: str
    needs_path: bool = True
    columns: bool = False  # takes text_column / label_column


DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(name: str, *, files: str, labels: str, description: str, needs_path: bool = True,
                     columns: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register a Dataset loader under ``name`` (and a LabelledData adapter in LOADERS)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        DATASETS[name] = DatasetSpec(name, fn, files, labels, description, needs_path, columns)
        if name not in LOADERS:
            LOADERS[name] = _labelled_adapter(name)
        return fn

    return deco


def _labelled_adapter(name: str) -> Loader:
    def adapter(path: PathLike, split: str | None = None, **options: Any) -> LabelledData:
        spec = DATASETS[name]
        for key, generic in (("text_column", "text"), ("label_column", "label")):
            if key in options and (options[key] in (None, generic)):
                del options[key]  # the CLI's defaults: let the corpus use its own columns
            elif key in options and not spec.columns:
                raise ValueError(f"{name}: the columns are fixed by the format; {key} does not apply")
        return LabelledData.from_dataset(_single(spec.loader(path, split=split, **options), str(path)))

    adapter.__name__ = f"load_{name}_labelled"
    adapter.__doc__ = f"The {name} corpus as LabelledData (see DATASETS[{name!r}])."
    return adapter


def load_data(path: str | Path, format: str | None = None, **options: Any) -> LabelledData:
    """Load labelled data from ``path`` with the loader ``format`` (default: by extension)."""
    if format is None:
        if Path(path).is_dir():
            raise DataError(f"{path}: is a directory, expected a file")
        format = _LABELLED.get(format_of(path, default=None) or "")
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


def _single(obj: Any, where: str) -> "datasets.Dataset":
    from datasets import DatasetDict

    if isinstance(obj, DatasetDict):
        if len(obj) == 1:
            return next(iter(obj.values()))
        raise DataError(f"{where}: has splits {', '.join(obj)}; choose one with split= (or give one file)")
    return obj


def load(name: str, path: PathLike | None = None, split: str | None = None,
         **options: Any) -> "datasets.Dataset | datasets.DatasetDict":
    """Load corpus ``name`` (see ``DATASETS``) from ``path``; a name not registered goes to the hub.

    Only names that cannot be local paths go to the hub (``name`` or ``owner/name``, with no
    data-file suffix, no leading ``.``/``/``/``~`` and no such file): ``load("my.jsonl")`` for a
    missing file is an error at once.  ``load("hub", "owner/name")`` always asks the hub.

    Returns a Dataset with ``text``, ``label`` (ClassLabel, names in LABELS order) and the corpus'
    id/source columns; a DatasetDict when the input has several splits and ``split`` is None.
    """
    spec = DATASETS.get(name)
    if spec is None:
        if looks_local(name):  # never ask the hub for what is written as a local path
            if Path(name).expanduser().exists():
                raise ValueError(f"{name}: a local path, not a loader name; use load(LOADER, {name!r}) or "
                                 f"load_dataset({name!r})")
            raise DataError(f"{name}: no such file or directory")
        if path is not None or not hub_name(name):
            raise ValueError(f"unknown dataset {name!r} (known: {', '.join(sorted(DATASETS))}); "
                             "hub datasets take no path" if path is not None else
                             f"unknown dataset {name!r}: not a registered loader, a local path, or a hub name "
                             "(owner/name)")
        return DATASETS["hub"].loader(name, split=split, **options)
    if path is None and spec.needs_path:
        raise ValueError(f"{name}: needs a path ({spec.files})")
    return spec.loader(path, split=split, **options) if path is not None else spec.loader(split=split, **options)


def load_dataset(name_or_path: PathLike, format: str | None = None, split: str | None = None,
                 **options: Any) -> "datasets.Dataset":
    """One ``datasets.Dataset`` from a registry name, a local path (format detected), or a hub name.

    ``format`` names the loader for a path.  Several splits and no ``split`` is an error.
    """
    from sentilstm.data.sources import detect_format

    where = str(name_or_path)
    if format is not None:
        obj = load(format, name_or_path, split, **options)
    elif isinstance(name_or_path, (list, tuple)) or Path(name_or_path).exists():
        obj = load(detect_format(name_or_path), name_or_path, split, **options)
    else:  # a registry name used without a path (tweet_eval), or a hub name
        obj = load(str(name_or_path), None, split, **options)
    return _single(obj, where)
