"""``sentilstm datasets``: list the dataset loaders, and summarise a corpus.

    sentilstm datasets list
    sentilstm datasets show semeval2017 path/to/Subtask_A
    sentilstm datasets show path/to/dev.jsonl
    sentilstm datasets show csv reviews.csv --text-column body --label-column stars --label-map 1-2:neg,3:neu,4-5:pos

Heavy libraries (``datasets``, ``pyarrow``) are imported inside the commands.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import click

from sentilstm.cli.options import Command, Option

__all__ = ["datasets"]


@click.group(name="datasets")
def datasets() -> None:
    """Dataset loaders: the registry, and corpus summaries."""


@datasets.command(name="list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_datasets(fmt: str) -> None:
    """The registered loaders: what files they read and how labels map."""
    from sentilstm.data import DATASETS

    rows = [{"name": s.name, "description": s.description, "files": s.files, "labels": s.labels,
             "needs_path": s.needs_path, "column_options": s.columns} for s in DATASETS.values()]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['name']}\n  {r['description']}\n  files:  {r['files']}\n  labels: {r['labels']}")
        if r["column_options"]:
            click.echo("  options: --text-column, --label-column, --label-map")
    click.echo("\nAny other name is passed to datasets.load_dataset (the Hugging Face hub).")


def _parse_option(value: str) -> tuple[str, Any]:
    key, sep, raw = value.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint="--loader-option")
    try:
        parsed: Any = json.loads(raw)
    except json.JSONDecodeError:
        parsed = raw
    return key.strip().replace("-", "_"), parsed


def _fmt_pct(n: int, total: int) -> str:
    return f"{n:>7} {100 * n / total:5.1f}%" if total else f"{n:>7}     -"


@datasets.command(name="show", cls=Command)
@click.argument("name_or_path")
@click.argument("path", required=False)
@click.option("--split", default=None, help="Only this split.")
@click.option("--text-column", default=None, help="Text column (csv/tsv/jsonl/parquet/hub).")
@click.option("--label-column", default=None, help="Label column (csv/tsv/jsonl/parquet/hub).")
@click.option("--label-map", default=None, help="Label mapping, e.g. 0:negative,1:neutral,2:positive "
              "or 1-2:neg,3:neu,4-5:pos.")
@click.option("--encoding", default=None, help="File encoding [default: the loader's, utf-8 or latin-1].")
@click.option("--classes", type=click.Choice(["2", "3", "5"]), default=None, help="SST view [default: 3].")
@click.option("--strict", is_flag=True, help="Rows that would be skipped are errors instead.")
@click.option("--loader-option", "-o", "--option", "extra", cls=Option, multiple=True, metavar="KEY=VALUE",
              deprecated={"-o": "--loader-option", "--option": "--loader-option"},
              help="Any other loader option (repeatable).")
@click.option("--examples", type=click.IntRange(min=0), default=5, show_default=True, help="Examples per label.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(name_or_path: str, path: str | None, split: str | None, text_column: str | None, label_column: str | None,
         label_map: str | None, encoding: str | None, classes: str | None, strict: bool, extra: tuple[str, ...],
         examples: int, fmt: str) -> None:
    """Summarise a corpus: rows per split and label, text lengths, duplicates, examples.

    NAME_OR_PATH is a loader name (then PATH is its files; tweet_eval without PATH loads from
    the Hugging Face hub), a local path whose format is detected, or a hub dataset name.

    Only a name that cannot be a local path goes to the hub: NAME or OWNER/NAME, with no
    data-file suffix (.jsonl, .csv, ...), not starting with '.', '/' or '~', and no such file
    here. Anything else that does not exist fails at once. `datasets show hub NAME` always
    asks the hub.
    """
    from sentilstm.data import DATASETS, load
    from sentilstm.data.sources import detect_format
    from sentilstm.data.stats import describe_dataset

    options: dict[str, Any] = dict(_parse_option(o) for o in extra)
    for key, value in (("text_column", text_column), ("label_column", label_column), ("label_map", label_map),
                       ("encoding", encoding), ("classes", int(classes) if classes else None)):
        if value is not None:
            options[key] = value
    if strict:
        options["strict"] = True
    if path is None and name_or_path not in DATASETS and Path(name_or_path).exists():
        name, path = detect_format(name_or_path), name_or_path
    else:
        name = name_or_path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skips are in the notes printed below
        try:
            obj = load(name, path, split=split, **options)
        except TypeError as e:  # an option the loader does not take
            raise click.UsageError(f"{name}: {e}") from None
    doc = {"name": name, "path": path, "split": split, **describe_dataset(obj, examples=examples)}
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    _print_text(doc)


def _print_text(doc: dict[str, Any]) -> None:
    splits = doc["splits"]
    click.echo(f"{doc['name']}: {doc['path'] or '(hub)'}" + (f" [{doc['split']}]" if doc["split"] else ""))
    for note in doc["notes"]:
        if "source: " not in note:  # the path is in the line above
            click.echo(f"  {note}")
    names = list(next(iter(splits.values()))["labels"])
    width = max(len(s) for s in [*splits, "split", "total"]) + 2
    click.echo("\n" + "split".ljust(width) + f"{'rows':>8}" + "".join(f"{n:>15}" for n in names))
    total = {n: 0 for n in names}
    for s, st in splits.items():
        click.echo(s.ljust(width) + f"{st['rows']:>8}" + "".join(_fmt_pct(st["labels"][n], st["rows"]).rjust(15)
                                                                   for n in names))
        for n in names:
            total[n] += st["labels"][n]
    if len(splits) > 1:
        rows = sum(total.values())
        click.echo("total".ljust(width) + f"{rows:>8}" + "".join(_fmt_pct(total[n], rows).rjust(15) for n in names))

    click.echo("\ntext length (characters)\n" + "split".ljust(width) + "".join(
        f"{k:>7}" for k in ("min", "p5", "p25", "p50", "p75", "p95", "max", "mean")))
    for s, st in splits.items():
        ln = st["text_length"]
        click.echo(s.ljust(width) + "".join(f"{ln[k]:>7g}" for k in ("min", "p5", "p25", "p50", "p75", "p95", "max",
                                                                        "mean")))
    click.echo("\nduplicates")
    for s, st in splits.items():
        d = st["duplicates"]
        if d["texts"]:
            click.echo(f"  {s}: {d['texts']} text(s) occur more than once ({d['extra_rows']} extra row(s)); "
                       f"{d['conflicting_labels']} with conflicting labels")
        else:
            click.echo(f"  {s}: none")
    for pair, n in doc["overlap"].items():
        a, b = pair.split("/")
        click.echo(f"  {n} distinct text(s) in both {a} and {b}")
    shown = next(iter(splits))
    if any(splits[shown]["examples"].values()):
        click.echo(f"\nexamples ({shown})")
        for label, texts in splits[shown]["examples"].items():
            click.echo(f"  {label}")
            for t in texts:
                one = " ".join(t.split())
                click.echo(f"    - {one[:117] + '...' if len(one) > 120 else one}")
