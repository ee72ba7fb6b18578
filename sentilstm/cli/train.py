"""``sentilstm train``: Train a model and write it as a bundle directory."""

from __future__ import annotations

import sys
from typing import Any

import click

from sentilstm.cli.inputs import load_labelled_data
from sentilstm.cli.options import (
    Command,
    Option, config_from_options, config_options, pop_config_options, with_data_options,
)
from sentilstm.fileio import OVERWRITE_HELP, check_output
from sentilstm.labels import MIN_CLASS_EXAMPLES


@click.command("train", cls=Command)
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
@with_data_options
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
    from sentilstm.metrics import format_headline

    inputs = [train_path, dev_path, config_path, ds_path]
    check_output(out_dir, "bundle", overwrite=overwrite, inputs=inputs)  # before any loading or training
    config = config_from_options(config_path, pop_config_options(options), set_values)
    if config.train.strategy == "multi-worker":
        from sentilstm.training.distributed import cluster_spec

        cluster_spec()  # a clear error now if TF_CONFIG is missing or malformed

    tr = load_labelled_data(train_path, data_format, text_column, label_column, dataset, ds_path,
                    split or (None if train_path else "train"), label_map, what="--data", strict=strict)
    dv = None
    if dev_path or (dataset and dev_split):
        dv = load_labelled_data(dev_path, data_format, text_column, label_column, dataset, ds_path, dev_split, label_map,
                        what="--dev", strict=strict)
    train_path = train_path or tr.source
    dev_path = dev_path or (dv.source if dv else None)
    click.echo(f"train: {len(tr)} rows from {train_path}" + (f"; dev: {len(dv)} rows from {dev_path}" if dv else ""),
               err=True)
    from sentilstm.classifier import SentimentClassifier

    summary = {"train": {"source": train_path}, **({"dev": {"source": dev_path}} if dv else {})}
    clf = SentimentClassifier(config).fit(
        tr.texts, tr.labels, dev=(dv.texts, dv.labels) if dv else None,
        verbose=2 if quiet or not sys.stderr.isatty() else 1, data_summary=summary,
        allow_missing_classes=allow_missing_classes,
    )
    from sentilstm.training.distributed import is_chief

    t = clf.meta["training"]
    click.echo(f"best epoch {t['best_epoch']}/{t['epochs_run']}, {t['train_time_s']:.0f}s; "
               f"dev {format_headline(clf.meta['dev_metrics'])}", err=True)
    if config.train.strategy == "multi-worker" and not is_chief():  # all workers hold the same weights
        click.echo("trained; not the chief, so nothing saved (the chief writes the model)")
        return
    clf.save(out_dir, overwrite=overwrite, inputs=inputs)
    click.echo(f"saved {out_dir}")
