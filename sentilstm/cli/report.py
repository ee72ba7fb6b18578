"""``sentilstm report``: show and compare evaluation reports (see :mod:`sentilstm.evaluation`).

Kept apart from :mod:`sentilstm.cli`; imports nothing heavy until a command runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

__all__ = ["report"]


@click.group()
def report() -> None:
    """Show and compare evaluation reports.

    Reports are written by `sentilstm evaluate --report DIR`.

    \b
    Examples:
      sentilstm evaluate --model a --data dev.jsonl --report rep-a
      sentilstm report show rep-a
      sentilstm report compare rep-a/report.json rep-b/report.json
      sentilstm report compare model-a model-b --data dev.jsonl
    """


def _resolve(arg: str, data: Any, batch_size: int) -> Any:
    """A report.json, a report directory, or (with --data) a model bundle to evaluate."""
    from sentilstm.evaluation.render import REPORT_JSON, Report
    from sentilstm.evaluation.report import evaluate

    p = Path(arg)
    if p.is_file() or (p.is_dir() and (p / REPORT_JSON).is_file()):
        return Report.load(p)
    if data is None:
        raise click.UsageError(f"{arg}: not a report.json or a report directory "
                               "(to compare two models, give --data with a labelled file)")
    return evaluate(None if arg == "default" else arg, data, batch_size=batch_size)


@report.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="json omits the per-example arrays.")
def show(path: str, fmt: str) -> None:
    """Print a saved report (report.json or its directory)."""
    from sentilstm.evaluation.render import Report

    rep = Report.load(path)
    if fmt == "json":
        click.echo(rep.to_json(examples=False), nl=False)
    elif fmt == "markdown":
        click.echo(rep.to_markdown())
    else:
        click.echo(rep.summary())


@report.command()
@click.argument("a")
@click.argument("b")
@click.option("--data", "data_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Labelled data: A and B are then model bundles ('default' = shipped model) evaluated on it.")
@click.option("--resamples", type=click.IntRange(min=100), default=10000, show_default=True,
              help="Paired bootstrap resamples.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="How many changed examples to list (text format).")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def compare(a: str, b: str, data_path: str | None, resamples: int, seed: int, limit: int, batch_size: int,
            fmt: str) -> None:
    """Compare B against A: metric deltas with a paired bootstrap test, and the changed labels.

    A and B are report.json files or report directories; with --data, model bundles.
    Examples are paired by position when both reports cover the same data, else by text.
    """
    from sentilstm.evaluation.compare import compare as compare_reports
    from sentilstm.evaluation.compare import format_comparison

    data = None
    if data_path is not None:
        from sentilstm.data import load_data

        data = load_data(data_path)
    ra, rb = _resolve(a, data, batch_size), _resolve(b, data, batch_size)
    result = compare_reports(ra, rb, n_resamples=resamples, seed=seed)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(format_comparison(result, limit=limit))
