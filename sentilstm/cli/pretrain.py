"""``sentilstm pretrain``: pretrain the encoder on weakly labelled or unlabelled texts (see :mod:`sentilstm.training.pretrain`).

Kept apart from :mod:`sentilstm.cli`; imports Keras only when the command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sentilstm.cli.options import Command

__all__ = ["pretrain"]


def _defaults():  # the help texts quote the dataclass defaults, never retyped
    from sentilstm.training.pretrain import PretrainConfig

    return PretrainConfig()


@click.command("pretrain", cls=Command)
@click.option("--task", "tasks", multiple=True, metavar="FILE:COLUMN",
              help="A weakly labelled corpus (.jsonl/.csv/.tsv): a softmax head learns to predict COLUMN "
                   "(any values, e.g. emoticon labels or emoji) from the text. Repeatable.")
@click.option("--texts", "text_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Unlabelled texts (.jsonl/.csv with a text column, or one text a line): they join the "
                   "vocabulary, and with --mlm the masked-word objective. Repeatable.")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Encoder bundle directory to write.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="JSON of PretrainConfig options ({\"epochs\": 1, \"mlm\": 0.5, \"tokenizer\": {...}, ...}); "
                   "the options below override it.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help=f"[default: {_defaults().epochs}]")
@click.option("--mlm", type=click.FloatRange(min=0), default=None,
              help=f"Weight of the masked-word objective, 0 = off [default: {_defaults().mlm:g}; "
                   "on (1) when only --texts are given].")
@click.option("--max-examples-per-task", type=click.IntRange(min=1), default=None,
              help="Use only the first N rows of each file (quick runs).")
@click.option("--seed", type=int, default=None, help=f"[default: {_defaults().seed}]")
@click.option("--text-column", default="text", show_default=True, help="Column holding the text in .jsonl/.csv files.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def pretrain(tasks: tuple[str, ...], text_files: tuple[str, ...], out_dir: str, config_path: str | None,
             epochs: int | None, mlm: float | None, max_examples_per_task: int | None, seed: int | None,
             text_column: str, quiet: bool) -> None:
    """Pretrain the encoder (embedding + BiLSTM) and write it as an encoder bundle.

    Fine-tune it on labelled data with `sentilstm train --from OUT`. With labelled corpora,
    each gets a head (multi-task distant supervision, as DeepMoji); with unlabelled texts only,
    the encoder learns to predict masked words.

    \b
    Examples:
      sentilstm pretrain --task s140.jsonl:label --task emoji.jsonl:emoji --texts more.jsonl --out enc
      sentilstm pretrain --texts my-tickets.txt --out my-encoder       # unlabelled only: masked words
      sentilstm train --train mine.jsonl --dev dev.jsonl --from my-encoder --out my-model
    """
    import json
    import os

    from sentilstm.training.pretrain import (
        PretrainConfig, PretrainTask, pretrain as run, read_task_file, save_encoder,
    )

    if not tasks and not text_files:
        raise click.UsageError("give at least one --task FILE:COLUMN or --texts FILE")
    data = json.loads(Path(config_path).read_text(encoding="utf-8")) if config_path else {}
    if not isinstance(data, dict):
        raise click.ClickException(f"{config_path}: expected a JSON object")
    for key, value in (("epochs", epochs), ("mlm", mlm), ("max_examples_per_task", max_examples_per_task),
                       ("seed", seed)):
        if value is not None:
            data[key] = value
    if not tasks and "mlm" not in data:
        data["mlm"] = 1.0
    config = PretrainConfig.from_dict(data, where=config_path or "options")
    loaded = []
    for spec in tasks:
        path, sep, column = spec.rpartition(":")
        if not sep or not path or not column:
            raise click.UsageError(f"--task {spec!r}: expected FILE:COLUMN, e.g. emoji.jsonl:emoji")
        texts, labels = read_task_file(path, column, text_column)
        name = Path(path).stem.replace(".", "_").replace(" ", "_") or "task"
        if any(t.name == name for t in loaded):
            name = f"{name}_{len(loaded)}"
        loaded.append(PretrainTask(name, texts, labels or [], source=os.path.normpath(path)))
        click.echo(f"task {name}: {len(texts):,} rows from {path}, {len(set(labels or []))} classes of {column!r}",
                   err=True)
    plain: list[str] = []
    for path in text_files:
        found, _ = read_task_file(path, None, text_column)
        click.echo(f"texts: {len(found):,} rows from {path}", err=True)
        plain.extend(found)
    result = run(loaded, plain, config, verbose=2 if quiet or not sys.stderr.isatty() else 1)
    result["meta"]["pretraining"]["texts"]["sources"] = [os.path.normpath(p) for p in text_files]
    save_encoder(out_dir, result)
    p = result["meta"]["pretraining"]
    click.echo(f"pretrained in {p['train_time_s']:.0f}s ({p['steps']:,} steps); saved encoder {out_dir}")
