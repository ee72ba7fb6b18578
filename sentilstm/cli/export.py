"""``sentilstm export``: a model as an ONNX graph or a TensorFlow SavedModel (see :mod:`sentilstm.scoring.export`).

Kept apart from :mod:`sentilstm.cli`; imports nothing heavy until the command runs
(``--format savedmodel`` imports TensorFlow, ``onnx`` does not).
"""

from __future__ import annotations

import click

from sentilstm.cli.options import Command, warn_deprecated
from sentilstm.fileio import OVERWRITE_HELP

__all__ = ["export"]


@click.command(cls=Command)
@click.option("--format", "fmt", type=click.Choice(["onnx", "savedmodel"]), required=True,
              help="onnx: model.onnx for onnxruntime; savedmodel: a TensorFlow SavedModel (signature 'serve').")
@click.option("-m", "--model", "model_opt", type=click.Path(), default=None,
              help="Model bundle directory [default: shipped model].")
@click.option("-o", "--out", "out_opt", type=click.Path(), default=None, help="Directory to write.")
@click.argument("old_model", metavar="", required=False, type=click.Path())
@click.argument("old_out", metavar="", required=False, type=click.Path())
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
def export(fmt: str, model_opt: str | None, out_opt: str | None, old_model: str | None, old_out: str | None,
           overwrite: bool = False) -> None:
    """Export a model (-m BUNDLE, or the shipped one) to the directory -o OUT.

    OUT receives the network (token ids -> probabilities), tokenizer.json, and export.json /
    README.md describing inputs, outputs and how texts become token ids. The export is checked
    against the model before it is written. An existing OUT is replaced only if it is empty or
    a previous export of the same format (or with --overwrite); OUT is checked before the export
    starts.

    \b
    Examples:
      sentilstm export --format onnx -o out/sentilstm-onnx
      sentilstm export --format savedmodel -m my-model -o out/my-model-savedmodel

    (The positional form `export --format F MODEL OUT` still works in this release, with a warning.)
    """
    from sentilstm.scoring.export import export_model

    if old_model is not None:  # the 0.1 spelling: export --format F MODEL OUT
        if old_out is None and out_opt is None:
            raise click.UsageError("give the model as -m/--model and the output directory as -o/--out")
        if model_opt is not None or (old_out is not None and out_opt is not None):
            raise click.UsageError("give -m/--model and -o/--out, not positional MODEL OUT as well")
        warn_deprecated("positional MODEL OUT", "-m/--model MODEL -o/--out OUT")
        model_opt, out_opt = old_model, old_out if old_out is not None else out_opt
    if out_opt is None:
        raise click.UsageError("missing -o/--out DIR: the directory to write")
    model = model_opt or "default"
    out = out_opt

    path = export_model(model, out, fmt, overwrite=overwrite)
    click.echo(f"exported {model} ({fmt}) to {path}")
