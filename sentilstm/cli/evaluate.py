"""``sentilstm evaluate``: Score a model on labelled data: AvgRec, F1PN, macro-F1 and accuracy with 95 % bootstrap"""

from __future__ import annotations

import click

from sentilstm.cli.inputs import load_labelled_data
from sentilstm.cli.options import Command, threads_option
from sentilstm.cli.options import Option, with_data_options
from sentilstm.fileio import OVERWRITE_HELP


@click.command("evaluate", cls=Command)
@click.option("-m", "--model", type=click.Path(), default=None, help="Model bundle [default: shipped model].")
@click.option("--data", "data_path", type=click.Path(), default=None,
              help="Labelled data file (or use --dataset/--path/--split).")
@with_data_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("-o", "--out", "--report", "report_dir", cls=Option, deprecated={"--report": "-o/--out"},
              type=click.Path(), default=None,
              help="Also write the full report (report.json, report.md, report.html, PNG plots) to this directory: "
                   "a new name, an empty directory or a report (replaced); checked before the evaluation starts.")
@click.option("--overwrite", is_flag=True, help="With -o/--out: r" + OVERWRITE_HELP[1:])
@threads_option
def evaluate(model: str | None, data_path: str | None, data_format: str | None, text_column: str,
             label_column: str, fmt: str, batch_size: int, dataset: str | None = None, ds_path: str | None = None,
             split: str | None = None, label_map: str | None = None, strict: bool = False,
             report_dir: str | None = None, overwrite: bool = False, threads: int | None = None) -> None:
    """Score a model on labelled data: AvgRec, F1PN, macro-F1 and accuracy with 95 % bootstrap
    intervals, per class, confusion, calibration, slices and the most confident errors.

    The same Report as sentilstm.evaluate() in Python: --format text prints Report.summary(),
    json the report without its per-example arrays.
    """
    from sentilstm.classifier import load
    from sentilstm.evaluation.report import evaluate as build_report

    inputs = [data_path, ds_path, model]
    if report_dir is not None:
        from sentilstm.fileio import check_output

        check_output(report_dir, "report", overwrite=overwrite, inputs=inputs)  # before any loading
        from sentilstm.evaluation.plot_worker import PlotRenderer

        renderer = PlotRenderer()  # imports matplotlib in a helper process while data and model load
    elif overwrite:
        raise click.UsageError("--overwrite goes with -o/--out DIR")
    data = load_labelled_data(data_path, data_format, text_column, label_column, dataset, ds_path, split, label_map,
                      strict=strict)
    rep = build_report(load(model, threads=threads), data, batch_size=batch_size)
    click.echo(rep.to_json(examples=False) if fmt == "json" else rep.summary(), nl=fmt != "json")
    if report_dir is not None:
        with renderer:
            rep.save(report_dir, renderer, overwrite=overwrite, inputs=inputs)
        click.echo(f"report written to {report_dir}/ (report.json, report.md, report.html, PNGs)", err=True)
