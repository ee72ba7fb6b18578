"""``sentilstm predict``: Classify TEXT arguments, a file, or stdin; one result per input, in input order."""

from __future__ import annotations

import sys

import click

from sentilstm.cli.options import Command, threads_option
from sentilstm.cli.options import gather_texts
from sentilstm.fileio import OVERWRITE_HELP


@click.command("predict", cls=Command)
@click.argument("texts", nargs=-1)
@click.option("-f", "--file", type=click.Path(allow_dash=True),
              help="Read texts from a file: one per line (split on \\n only), or the text column of a "
                   ".jsonl/.json/.csv/.tsv/.parquet; '-' = stdin.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl", "csv"]), default="text",
              show_default=True, help="Output format.")
@click.option("-m", "--model", type=click.Path(), default=None, help="Model bundle directory [default: shipped model].")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--text-column", default="text", show_default=True, help="Column holding the text in .jsonl/.csv files.")
@click.option("-o", "--out", "out_path", type=click.Path(), default=None,
              help="With --file: write the file's columns + label, p_negative, p_neutral, p_positive to OUT, "
                   "streaming big files, in the format its name says (.parquet, .csv, .tsv, .jsonl, .json); "
                   "--format is then not used. OUT may not be the input, and an existing file is replaced "
                   "only if sentilstm wrote it (or with --overwrite).")
@click.option("--out-format", type=click.Choice(["parquet", "csv", "tsv", "jsonl", "json"]), default=None,
              help="With --out: the output format, whatever OUT's name [default: from OUT's suffix].")
@click.option("--overwrite", is_flag=True, help="With --out: r" + OVERWRITE_HELP[1:])
@click.option("--engine", type=click.Choice(["local", "ray", "spark"]), default=None,
              help="With --out: score in this process (local, constant memory), on Ray Data or on Spark "
                   "(pip install sentilstm[ray] / [spark]) [default: local].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="With --engine ray/spark: workers in local mode [default: all CPUs].")
@threads_option
def predict(texts: tuple[str, ...], file: str | None, fmt: str, model: str | None, batch_size: int,
            text_column: str, out_path: str | None = None, engine: str | None = None,
            workers: int | None = None, out_format: str | None = None, overwrite: bool = False,
            threads: int | None = None) -> None:
    """Classify TEXT arguments, a file, or stdin; one result per input, in input order.

    With no TEXT and piped input, reads stdin (one text per line, split on \\n only: U+2028 or
    a lone \\r stays inside its line). An empty line is an (empty) text and gets a prediction
    too, so output lines match input lines.

    \b
    Output columns (--format text): label, its probability, the text.
    json/jsonl records: {"text", "label", "probabilities": {label: p}}.
    """
    from sentilstm.classifier import load
    from sentilstm.display import Predictions

    if out_path is not None or engine is not None or workers is not None or out_format or overwrite:
        if out_path is None:
            raise click.UsageError("--engine, --workers, --out-format and --overwrite go with --out FILE "
                                   "(and --file)")
        if texts or file is None or file == "-":
            raise click.UsageError("--out needs --file PATH (a .txt, .jsonl, .json, .csv, .tsv or .parquet file), "
                                   "not TEXT or stdin")
        from sentilstm.scoring.files import score_file

        done = score_file(file, out_path, model=model, text_column=text_column, batch_size=batch_size,
                          engine=engine or "local", workers=workers, out_format=out_format, overwrite=overwrite,
                          threads=threads)
        click.echo(f"scored {done['rows']} texts from {file} -> {out_path} ({done['format']}, {done['engine']}, "
                   f"{done['seconds']:.1f}s)", err=True)
        return
    inputs = gather_texts(texts, file, text_column)
    probs = load(model, threads=threads).predict_proba(inputs, batch_size=batch_size)
    sys.stdout.write(Predictions(inputs, probs).render(fmt))
