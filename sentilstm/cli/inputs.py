"""Input gathering shared by the commands: texts (arguments, --file, stdin) and labelled data."""

from __future__ import annotations

from typing import Any

import click


def load_labelled_data(path: str | None, data_format: str | None, text_column: str, label_column: str,
               dataset: str | None = None, ds_path: str | None = None, split: str | None = None,
               label_map: str | None = None, what: str = "--data", strict: bool = False) -> Any:
    """Labelled data from a file (``path``) or from a registered corpus (``--dataset/--path/--split``)."""
    from sentilstm.data import LabelledData, load, load_data

    extra: dict[str, Any] = {"label_map": label_map} if label_map else {}
    if strict and (dataset or data_format not in (None, "jsonl", "csv", "tsv")):
        extra["strict"] = True  # the plain jsonl/csv/tsv readers never skip rows: they stop with an error
    if path is not None:
        return load_data(path, format=data_format, text_column=text_column, label_column=label_column, **extra)
    if dataset is None:
        raise click.UsageError(f"give {what} FILE, or --dataset NAME [--path PATH] [--split SPLIT]")
    ds = load(dataset, ds_path, split=split, **extra)
    if not hasattr(ds, "column_names") or isinstance(ds.column_names, dict):  # a DatasetDict
        raise click.UsageError(f"{dataset} {ds_path or ''} has splits {', '.join(ds)}; choose one with --split")
    return LabelledData.from_dataset(ds, source=":".join(x for x in (dataset, ds_path, split) if x))
