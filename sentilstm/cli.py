"""The ``sentilstm`` command line: predict, train, evaluate, info.

Heavy libraries are imported inside the commands that need them: ``--help``, ``--version``,
``predict``, ``evaluate`` and ``info`` never import TensorFlow; ``train`` does.
Errors are one line on stderr and exit status 1 (``sentilstm --debug ...`` shows the traceback).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .classifier import MIN_CLASS_EXAMPLES
from .cli_options import (Command, Option, add_global_options, config_from_options, config_options, gather_texts,
                          missing_extra, pop_config_options, stdin_piped,
                          data_options, with_data_options)
from .fileio import OVERWRITE_HELP

EXAMPLES = """
\b
Examples:
  sentilstm predict "I love this product!" "The service was terrible."
  echo "what a day" | sentilstm predict --format json -
  sentilstm predict --file tweets.txt --format csv > scored.csv
  sentilstm train --data train.jsonl --dev dev.jsonl -o my-model
  sentilstm evaluate -m my-model --data dev.jsonl
  sentilstm info -m my-model

\b
Everywhere: -m/--model is the model, -o/--out what a command writes, TEXT / -f/--file
the texts, --data labelled data; --debug and -V/--version go before or after the command.
"""

# The commands defined in other modules: registered here, imported when one of them runs.
LAZY_COMMANDS = {
    "datasets": "sentilstm.cli_datasets:datasets",
    "explain": "sentilstm.cli_explain:explain",
    "export": "sentilstm.cli_export:export",
    "report": "sentilstm.cli_report:report",
    "calibrate": "sentilstm.cli_calibrate:calibrate",
    "pretrain": "sentilstm.cli_pretrain:pretrain",
}


def _threads_option(fn: Any) -> Any:
    from .threads import ENV

    return click.option("--threads", type=click.IntRange(min=1), default=None,
                        help=f"CPU threads for inference [default: ${ENV}, else the CPUs this process may use; "
                             f"never more than those].")(fn)


class _Group(click.Group):
    """A click group that turns exceptions into one clear line and a non-zero exit.

    Its commands: those defined below with ``@main.command`` and :data:`LAZY_COMMANDS`; every one
    also accepts the global options (``--debug``, ``-V/--version``) after its name.
    """

    command_class = Command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in LAZY_COMMANDS:
            module, _, attr = LAZY_COMMANDS[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        cmd = self.commands.get(name)
        return add_global_options(cmd, __version__) if cmd is not None else None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # e.g. `sentilstm predict ... | head`
            sys.stderr.close()
            ctx.exit(0)
        except Exception as e:  # noqa: BLE001 - the boundary where errors become messages
            if (ctx.obj or {}).get("debug") or os.environ.get("SENTILSTM_DEBUG"):
                raise
            msg = missing_extra(e, ctx.invoked_subcommand) or str(e) or type(e).__name__
            if isinstance(e, (MemoryError, RecursionError)):
                msg = f"{type(e).__name__}: {msg}"
            click.echo(f"Error: {msg}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="sentilstm")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Sentiment analysis of short texts (negative / neutral / positive) with an LSTM.

    The default model, trained on SemEval-2017 tweets, ships inside the package: `predict`
    works offline with no training and no download.
    """
    ctx.obj = {"debug": debug}
    import warnings

    # a warning (e.g. an unverified version-1 bundle) is one line on stderr, like an error
    warnings.formatwarning = lambda message, category, *_a, **_k: f"Warning: {message}\n"


_gather_texts = gather_texts  # the old private names (see cli_options)
_stdin_piped = stdin_piped


@main.command()
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
@_threads_option
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
    from . import load
    from .display import Predictions

    if out_path is not None or engine is not None or workers is not None or out_format or overwrite:
        if out_path is None:
            raise click.UsageError("--engine, --workers, --out-format and --overwrite go with --out FILE "
                                   "(and --file)")
        if texts or file is None or file == "-":
            raise click.UsageError("--out needs --file PATH (a .txt, .jsonl, .json, .csv, .tsv or .parquet file), "
                                   "not TEXT or stdin")
        from .scoring import score_file

        done = score_file(file, out_path, model=model, text_column=text_column, batch_size=batch_size,
                          engine=engine or "local", workers=workers, out_format=out_format, overwrite=overwrite,
                          threads=threads)
        click.echo(f"scored {done['rows']} texts from {file} -> {out_path} ({done['format']}, {done['engine']}, "
                   f"{done['seconds']:.1f}s)", err=True)
        return
    inputs = gather_texts(texts, file, text_column)
    probs = load(model, threads=threads).predict_proba(inputs, batch_size=batch_size)
    sys.stdout.write(Predictions(inputs, probs).render(fmt))


def _load_data(path: str | None, data_format: str | None, text_column: str, label_column: str,
               dataset: str | None = None, ds_path: str | None = None, split: str | None = None,
               label_map: str | None = None, what: str = "--data", strict: bool = False) -> Any:
    """Labelled data from a file (``path``) or from a registered corpus (``--dataset/--path/--split``)."""
    from .data import LabelledData, load, load_data

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


_data_options = data_options  # the old private names (see cli_options)
_with_data_options = with_data_options


@main.command()
@click.option("--data", "--train", "train_path", cls=Option, deprecated={"--train": "--data"},
              type=click.Path(), default=None,
              help="Training data (.jsonl or .csv with text and label columns), or use --dataset.")
@click.option("--dev", "dev_path", type=click.Path(), default=None,
              help="Development data for the dev checks [default: 10% of the training data held out].")
@click.option("--dev-split", default=None, help="With --dataset: the split used as development data.")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(),
              help="Bundle directory to write: a new name, an empty directory or a bundle (replaced); checked "
                   "before training starts.")
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
@click.option("--allow-missing-classes", is_flag=True,
              help=f"Train even if a class has fewer than {MIN_CLASS_EXAMPLES} training examples (by default "
                   f"an error: such a model would never predict it).")
@config_options()
@_with_data_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; epoch lines only.")
def train(train_path: str | None, dev_path: str | None, dev_split: str | None, out_dir: str,
          config_path: str | None, set_values: tuple[str, ...], quiet: bool, data_format: str | None,
          text_column: str, label_column: str, dataset: str | None, ds_path: str | None, split: str | None,
          label_map: str | None, strict: bool, overwrite: bool = False, allow_missing_classes: bool = False,
          **options: Any) -> None:
    """Train a model and write it as a bundle directory.

    By default fine-tunes the pretrained encoder shipped in the package (--from default; an
    encoder written by `sentilstm pretrain`: --from PATH; none: --from scratch, which also trains
    the tokenizer) and prints dev metrics as it goes. Which weights are
    kept is train.keep: "best" (the dev checkpoint with the best AvgRec; training stops after
    --patience epochs without a gain) or "last" (the final weights, every epoch run). Config
    values come from --config, then the options below, then --set; every default shown is the
    config dataclass default.
    """
    from .fileio import check_output
    from .metrics import format_headline

    inputs = [train_path, dev_path, config_path, ds_path]
    check_output(out_dir, "bundle", overwrite=overwrite, inputs=inputs)  # before any loading or training
    config = config_from_options(config_path, pop_config_options(options), set_values)
    if config.train.strategy == "multi-worker":
        from .distributed import cluster_spec

        cluster_spec()  # a clear error now if TF_CONFIG is missing or malformed

    tr = _load_data(train_path, data_format, text_column, label_column, dataset, ds_path,
                    split or (None if train_path else "train"), label_map, what="--data", strict=strict)
    dv = None
    if dev_path or (dataset and dev_split):
        dv = _load_data(dev_path, data_format, text_column, label_column, dataset, ds_path, dev_split, label_map,
                        what="--dev", strict=strict)
    train_path = train_path or tr.source
    dev_path = dev_path or (dv.source if dv else None)
    click.echo(f"train: {len(tr)} rows from {train_path}" + (f"; dev: {len(dv)} rows from {dev_path}" if dv else ""),
               err=True)
    from .classifier import SentimentClassifier

    summary = {"train": {"source": train_path}, **({"dev": {"source": dev_path}} if dv else {})}
    clf = SentimentClassifier(config).fit(
        tr.texts, tr.labels, dev=(dv.texts, dv.labels) if dv else None,
        verbose=2 if quiet or not sys.stderr.isatty() else 1, data_summary=summary,
        allow_missing_classes=allow_missing_classes,
    )
    from .distributed import is_chief

    t = clf.meta["training"]
    click.echo(f"best epoch {t['best_epoch']}/{t['epochs_run']}, {t['train_time_s']:.0f}s; "
               f"dev {format_headline(clf.meta['dev_metrics'])}", err=True)
    if config.train.strategy == "multi-worker" and not is_chief():  # all workers hold the same weights
        click.echo("trained; not the chief, so nothing saved (the chief writes the model)")
        return
    clf.save(out_dir, overwrite=overwrite, inputs=inputs)
    click.echo(f"saved {out_dir}")


@main.command()
@click.option("-m", "--model", type=click.Path(), default=None, help="Model bundle [default: shipped model].")
@click.option("--data", "data_path", type=click.Path(), default=None,
              help="Labelled data file (or use --dataset/--path/--split).")
@_with_data_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("-o", "--out", "--report", "report_dir", cls=Option, deprecated={"--report": "-o/--out"},
              type=click.Path(), default=None,
              help="Also write the full report (report.json, report.md, report.html, PNG plots) to this directory: "
                   "a new name, an empty directory or a report (replaced); checked before the evaluation starts.")
@click.option("--overwrite", is_flag=True, help="With -o/--out: r" + OVERWRITE_HELP[1:])
@_threads_option
def evaluate(model: str | None, data_path: str | None, data_format: str | None, text_column: str,
             label_column: str, fmt: str, batch_size: int, dataset: str | None = None, ds_path: str | None = None,
             split: str | None = None, label_map: str | None = None, strict: bool = False,
             report_dir: str | None = None, overwrite: bool = False, threads: int | None = None) -> None:
    """Score a model on labelled data: AvgRec, F1PN, macro-F1 and accuracy with 95 % bootstrap
    intervals, per class, confusion, calibration, slices and the most confident errors.

    The same Report as sentilstm.evaluate() in Python: --format text prints Report.summary(),
    json the report without its per-example arrays.
    """
    from . import load
    from .reports import evaluate as build_report

    inputs = [data_path, ds_path, model]
    if report_dir is not None:
        from .fileio import check_output

        check_output(report_dir, "report", overwrite=overwrite, inputs=inputs)  # before any loading
        from .plot_worker import PlotRenderer

        renderer = PlotRenderer()  # imports matplotlib in a helper process while data and model load
    elif overwrite:
        raise click.UsageError("--overwrite goes with -o/--out DIR")
    data = _load_data(data_path, data_format, text_column, label_column, dataset, ds_path, split, label_map,
                      strict=strict)
    rep = build_report(load(model, threads=threads), data, batch_size=batch_size)
    click.echo(rep.to_json(examples=False) if fmt == "json" else rep.summary(), nl=fmt != "json")
    if report_dir is not None:
        with renderer:
            rep.save(report_dir, renderer, overwrite=overwrite, inputs=inputs)
        click.echo(f"report written to {report_dir}/ (report.json, report.md, report.html, PNGs)", err=True)


@main.command()
@click.option("-m", "--model", type=click.Path(), default=None, help="Model bundle [default: shipped model].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--card", is_flag=True, help="Print the bundle's model card (README.md) instead.")
def info(model: str | None, fmt: str, card: bool = False) -> None:
    """Describe a model bundle: config, vocabulary, parameters, training data, dev metrics, calibration."""
    from . import load
    from .bundle import DEFAULT_BUNDLE

    clf = load(model)
    if card:
        from .bundle import read_bundle_config
        from .model_card import CARD, render_card

        where = Path(model) if model else DEFAULT_BUNDLE
        text = (where / CARD).read_text(encoding="utf-8") if (where / CARD).exists() else \
            render_card(read_bundle_config(where))  # a bundle saved before cards existed
        click.echo(text, nl=False)
        return
    assert clf.encoder is not None
    doc = {
        "path": str(Path(model) if model else DEFAULT_BUNDLE),
        "model": repr(clf),
        "vocab_size": clf.encoder.vocab_size,
        "parameters": clf.n_parameters,
        "config": clf.config_.to_dict(),
        **{k: clf.meta.get(k) for k in ("created", "versions", "training", "dev_metrics", "calibration")},
    }
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{doc['model']}\npath:        {doc['path']}\nvocabulary:  {doc['vocab_size']} tokens "
               f"({clf.config_.tokenizer.model})\nparameters:  {doc['parameters']:,}")
    click.echo(f"created:     {doc.get('created')}")
    c = clf.config_
    click.echo(f"model:       emb {c.model.embedding_dim}, {c.model.layers} layer(s) x {c.model.units} units, "
               f"{'bi' if c.model.bidirectional else 'uni'}directional, pooling {'+'.join(c.model.pooling)}")
    t = doc.get("training") or {}
    for split in ("train", "dev"):
        s = t.get(split)
        if s:
            click.echo(f"{split + ':':<12} {s.get('rows')} rows {s.get('labels')} from {s.get('source', '?')}")
    if t:
        click.echo(f"training:    best epoch {t.get('best_epoch')} of {t.get('epochs_run')}, {t.get('train_time_s')}s")
    m = doc.get("dev_metrics")
    if m:
        click.echo("dev metrics: " + "  ".join(f"{k} {m[k]:.4f}" for k in ("avg_recall", "f1_pn", "macro_f1", "accuracy")))
    cal = doc.get("calibration")
    if cal:
        from .cli_calibrate import describe

        b, a = cal["before"], cal["after"]
        click.echo(f"calibration: {describe(cal)}; {cal['fitted_on'].get('source', 'dev')} ECE {b['ece']:.4f} -> "
                   f"{a['ece']:.4f}, log loss {b['log_loss']:.4f} -> {a['log_loss']:.4f}")
    else:
        click.echo("calibration: none (probabilities as trained; see `sentilstm calibrate`)")
    click.echo("model card:  sentilstm info --card" + (f" --model {model}" if model else ""))


if __name__ == "__main__":  # pragma: no cover
    main()
