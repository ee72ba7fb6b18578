"""The ``sentilstm`` command line: predict, train, evaluate, info.

Heavy libraries are imported inside the commands that need them: ``--help``, ``--version``,
``predict``, ``evaluate`` and ``info`` never import TensorFlow; ``train`` does.
Errors are one line on stderr and exit status 1 (``sentilstm --debug ...`` shows the traceback).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .classifier import MIN_CLASS_EXAMPLES
from .fileio import OVERWRITE_HELP
from .config import ModelConfig, TokenizerConfig, TrainConfig

EXAMPLES = """
\b
Examples:
  sentilstm predict "I love this product!" "The service was terrible."
  echo "what a day" | sentilstm predict --format json -
  sentilstm predict --file tweets.txt --format csv > scored.csv
  sentilstm train --train train.jsonl --dev dev.jsonl --out my-model
  sentilstm evaluate --model my-model --data dev.jsonl
  sentilstm info --model my-model
"""


def _threads_option(fn: Any) -> Any:
    from .threads import ENV

    return click.option("--threads", type=click.IntRange(min=1), default=None,
                        help=f"CPU threads for inference [default: ${ENV}, else the CPUs this process may use; "
                             f"never more than those].")(fn)


class _Group(click.Group):
    """A click group that turns exceptions into one clear line and a non-zero exit."""

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
            msg = str(e) or type(e).__name__
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


def _stdin() -> Any:
    """The binary stdin, or a one-line error if it is closed or cannot be read."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise click.ClickException("<stdin>: closed; give TEXT arguments, --file PATH, or pipe text on stdin")
    return stream


def _stdin_piped() -> bool:
    """Whether stdin may hold input to read: open and not a terminal."""
    try:
        return sys.stdin is not None and not sys.stdin.isatty()
    except (OSError, ValueError):  # closed or invalid descriptor: there is nothing to read
        return False


def _gather_texts(texts: tuple[str, ...], file: str | None, text_column: str) -> list[str]:
    from .data.readers import read_texts

    stdin_wanted = texts == ("-",) or file == "-" or (not texts and file is None and _stdin_piped())
    if file is not None and texts:
        raise click.UsageError("give TEXT arguments or --file, not both")
    if stdin_wanted or file is not None:
        if stdin_wanted:  # stdin is plain text: one text per line, split on \n only
            name, found = "<stdin>", read_texts(_stdin(), fmt="text", name="<stdin>")
        else:
            name, found = str(file), read_texts(file, text_column=text_column)
        if not found:
            raise click.ClickException(f"{name}: empty input, nothing to classify")
        return found
    if not texts:
        if sys.stdin is None:
            raise click.ClickException("<stdin>: closed; give TEXT arguments, --file PATH, or pipe text on stdin")
        raise click.UsageError("nothing to classify: give TEXT arguments, --file PATH, or pipe text on stdin")
    return list(texts)


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
@click.option("--out", "out_path", type=click.Path(), default=None,
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
    from . import LABELS, load

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
    inputs = _gather_texts(texts, file, text_column)
    probs = load(model, threads=threads).predict_proba(inputs, batch_size=batch_size) if inputs else []
    out = sys.stdout
    records = [
        {"text": t, "label": LABELS[int(p.argmax())],
         "probabilities": {lab: round(float(v), 6) for lab, v in zip(LABELS, p)}}
        for t, p in zip(inputs, probs)
    ]
    if fmt == "text":
        for r in records:
            shown = " ".join(r["text"].split())
            out.write(f"{r['label']:<8}  {r['probabilities'][r['label']]:.2f}  {shown}\n")
    elif fmt == "json":
        out.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "jsonl":
        for r in records:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    else:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["text", "label", *(f"p_{lab}" for lab in LABELS)])
        for r in records:
            w.writerow([r["text"], r["label"], *(r["probabilities"][lab] for lab in LABELS)])
        out.write(buf.getvalue())


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


_data_options = [
    click.option("--data-format", default=None, help="Loader for FILE (jsonl, csv, tsv, semeval2017, sst, ...) "
                                                      "[default: by extension]; see `sentilstm datasets list`."),
    click.option("--text-column", default="text", show_default=True),
    click.option("--label-column", default="label", show_default=True),
    click.option("--dataset", default=None, help="Instead of a file: a registered corpus (or hub dataset) name."),
    click.option("--path", "ds_path", default=None, help="With --dataset: its file or directory."),
    click.option("--split", default=None, help="With --dataset: the split to use (train/validation/test/...)."),
    click.option("--label-map", default=None, help="Map raw labels, e.g. '0:negative,1:neutral,2:positive'."),
    click.option("--strict", is_flag=True, help="Fail instead of skipping (and reporting) unusable rows."),
]


def _with_data_options(fn: Any) -> Any:
    for opt in reversed(_data_options):
        fn = opt(fn)
    return fn


_TRAIN, _MODEL, _TOKENIZER = TrainConfig(), ModelConfig(), TokenizerConfig()  # help texts quote the defaults


@main.command()
@click.option("--train", "train_path", type=click.Path(), default=None,
              help="Training data (.jsonl or .csv with text and label columns), or use --dataset.")
@click.option("--dev", "dev_path", type=click.Path(), default=None,
              help="Development data for early stopping [default: 10% of the training data held out].")
@click.option("--dev-split", default=None, help="With --dataset: the split used as development data.")
@click.option("--out", "out_dir", required=True, type=click.Path(),
              help="Bundle directory to write: a new name, an empty directory or a bundle (replaced); checked "
                   "before training starts.")
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
@click.option("--allow-missing-classes", is_flag=True,
              help=f"Train even if a class has fewer than {MIN_CLASS_EXAMPLES} training examples (by default "
                   f"an error: such a model would never predict it).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="JSON config ({\"tokenizer\": {...}, \"model\": {...}, \"train\": {...}}); options below override it.")
@click.option("--from", "init", default=None, metavar="default|scratch|PATH",
              help="Start from this pretrained encoder: 'default' (shipped in the package), an encoder bundle "
                   "written by `sentilstm pretrain`, or 'scratch' (no pretraining; GloVe vectors only) "
                   f"[default: {_TRAIN.init}].")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help=f"Epochs [default: {_TRAIN.epochs}].")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help=f"[default: {_TRAIN.batch_size}]")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help=f"Adam [default: {_TRAIN.learning_rate:g}].")
@click.option("--patience", type=click.IntRange(min=1), default=None, help="Epochs without dev AvgRec gain before stopping [default: 2].")
@click.option("--units", type=click.IntRange(min=1), default=None, help="LSTM units per direction [default: 128].")
@click.option("--embedding-dim", type=click.IntRange(min=1), default=None, help=f"[default: {_MODEL.embedding_dim}]")
@click.option("--layers", type=click.IntRange(min=1), default=None, help="Stacked LSTM layers [default: 1].")
@click.option("--bidirectional/--unidirectional", default=None, help="[default: bidirectional]")
@click.option("--pooling", default=None, help="Comma-separated: max, mean, attention [default: max,mean].")
@click.option("--tokenizer", "tokenizer_model", type=click.Choice(["wordlevel", "wordpiece", "bpe"]), default=None,
              help=f"Tokenizer model, with --from scratch [default: {_TOKENIZER.model}].")
@click.option("--vocab-size", type=click.IntRange(min=100), default=None,
              help=f"With --from scratch [default: {_TOKENIZER.vocab_size}]")
@click.option("--seed", type=int, default=None, help="Random seed [default: 13].")
@click.option("--max-train-examples", type=click.IntRange(min=1), default=None, help="Use only the first N training rows.")
@click.option("--strategy", type=click.Choice(["default", "mirrored", "multi-worker"]), default=None,
              help="tf.distribute: mirrored = this machine's devices; multi-worker = the cluster in TF_CONFIG "
                   "(run the same command on every worker; the chief saves) [default: default].")
@_with_data_options
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; epoch lines only.")
def train(train_path: str | None, dev_path: str | None, dev_split: str | None, out_dir: str,
          config_path: str | None, quiet: bool, data_format: str | None, text_column: str, label_column: str,
          dataset: str | None, ds_path: str | None, split: str | None, label_map: str | None,
          strict: bool, overwrite: bool = False, allow_missing_classes: bool = False, **overrides: Any) -> None:
    """Train a model and write it as a bundle directory.

    By default fine-tunes the pretrained encoder shipped in the package (`--from`), prints dev
    metrics during training, and saves the final weights (train.keep; "best" keeps the best dev
    checkpoint and stops early). `--from scratch` trains a tokenizer and the whole network.
    """
    from .config import ClassifierConfig
    from .fileio import check_output
    from .metrics import format_headline

    inputs = [train_path, dev_path, config_path, ds_path]
    check_output(out_dir, "bundle", overwrite=overwrite, inputs=inputs)  # before any loading or training
    config = ClassifierConfig.from_file(config_path) if config_path else ClassifierConfig()
    sections = {"epochs": "train", "batch_size": "train", "learning_rate": "train", "patience": "train",
                "seed": "train", "max_train_examples": "train", "units": "model", "embedding_dim": "model",
                "layers": "model", "bidirectional": "model", "pooling": "model", "vocab_size": "tokenizer",
                "tokenizer_model": "tokenizer", "strategy": "train", "init": "train"}
    data = config.to_dict()
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "pooling":
            value = [p.strip() for p in value.split(",") if p.strip()]
        data[sections[key]]["model" if key == "tokenizer_model" else key] = value
    config = ClassifierConfig.from_dict(data, where="options")
    if config.train.strategy == "multi-worker":
        from .distributed import cluster_spec

        cluster_spec()  # a clear error now if TF_CONFIG is missing or malformed

    tr = _load_data(train_path, data_format, text_column, label_column, dataset, ds_path,
                    split or (None if train_path else "train"), label_map, what="--train", strict=strict)
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
@click.option("--report", "report_dir", type=click.Path(), default=None,
              help="Also write a full report (JSON, Markdown, HTML, PNG plots) to this directory: a new name, an "
                   "empty directory or a report (replaced); checked before the evaluation starts.")
@click.option("--overwrite", is_flag=True, help="With --report: r" + OVERWRITE_HELP[1:])
@_threads_option
def evaluate(model: str | None, data_path: str | None, data_format: str | None, text_column: str,
             label_column: str, fmt: str, batch_size: int, dataset: str | None = None, ds_path: str | None = None,
             split: str | None = None, label_map: str | None = None, strict: bool = False,
             report_dir: str | None = None, overwrite: bool = False, threads: int | None = None) -> None:
    """Score a model on labelled data: AvgRec, F1PN, macro-F1, accuracy, per class, confusion."""
    from . import LABELS, load
    from .metrics import classification_scores

    inputs = [data_path, ds_path, model]
    if report_dir is not None:
        from .fileio import check_output

        check_output(report_dir, "report", overwrite=overwrite, inputs=inputs)  # before any loading
        from .plot_worker import PlotRenderer

        renderer = PlotRenderer()  # imports matplotlib in a helper process while data and model load
    elif overwrite:
        raise click.UsageError("--overwrite goes with --report DIR")
    data = _load_data(data_path, data_format, text_column, label_column, dataset, ds_path, split, label_map,
                      strict=strict)
    data_path = data_path or data.source
    clf = load(model, threads=threads)
    if report_dir is not None:
        from .reports import evaluate as build_report

        rep = build_report(clf, data, batch_size=batch_size)
        with renderer:
            rep.save(report_dir, renderer, overwrite=overwrite, inputs=inputs)
        click.echo(rep.to_json(examples=False) if fmt == "json" else rep.summary(), nl=fmt != "json")
        click.echo(f"report written to {report_dir}/ (report.json, report.md, report.html, PNGs)", err=True)
        return
    scores = classification_scores(data.labels, clf.predict_proba(data.texts, batch_size=batch_size).argmax(axis=1))
    if fmt == "json":
        click.echo(json.dumps({"model": model or "default", "data": data_path, **scores}, indent=2))
        return
    click.echo(f"model: {model or 'default (shipped)'}\ndata:  {data_path} ({scores['n']} rows)\n")
    for key, name in (("avg_recall", "AvgRec"), ("f1_pn", "F1PN"), ("macro_f1", "macro-F1"), ("accuracy", "accuracy")):
        click.echo(f"  {name:<9} {scores[key]:.4f}")
    click.echo(f"\n  {'class':<9} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for lab in LABELS:
        pc = scores["per_class"][lab]
        click.echo(f"  {lab:<9} {pc['precision']:>9.4f} {pc['recall']:>7.4f} {pc['f1']:>7.4f} {pc['support']:>8}")
    click.echo("\n  confusion (rows = gold, columns = predicted)")
    click.echo("  " + " " * 9 + "".join(f"{lab:>9}" for lab in LABELS))
    for lab, row in zip(LABELS, scores["confusion"]):
        click.echo(f"  {lab:<9}" + "".join(f"{v:>9}" for v in row))


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
        "config": clf.config.to_dict(),
        **{k: clf.meta.get(k) for k in ("created", "versions", "training", "dev_metrics", "calibration")},
    }
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{doc['model']}\npath:        {doc['path']}\nvocabulary:  {doc['vocab_size']} tokens "
               f"({clf.config.tokenizer.model})\nparameters:  {doc['parameters']:,}")
    click.echo(f"created:     {doc.get('created')}")
    c = clf.config
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


from .cli_report import report as _report; main.add_command(_report)  # noqa: E402
from .cli_datasets import datasets as _datasets; main.add_command(_datasets)  # noqa: E402, E702
from .cli_explain import explain as _explain; main.add_command(_explain)  # noqa: E402, E702
from .cli_export import export as _export; main.add_command(_export)  # noqa: E402, E702
from .cli_calibrate import calibrate as _calibrate  # noqa: E402
for _option in _data_options:  # the shared data options (cli_calibrate cannot import this module)
    _option(_calibrate)
main.add_command(_calibrate)
from .cli_pretrain import pretrain as _pretrain; main.add_command(_pretrain)  # noqa: E402, E702

if __name__ == "__main__":  # pragma: no cover
    main()
