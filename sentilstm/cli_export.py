"""``sentilstm export``: a model as an ONNX graph or a TensorFlow SavedModel (see :mod:`sentilstm.export`).

Kept apart from :mod:`sentilstm.cli`; imports nothing heavy until the command runs
(``--format savedmodel`` imports TensorFlow, ``onnx`` does not).
"""

from __future__ import annotations

import click

from .fileio import OVERWRITE_HELP

__all__ = ["export"]


@click.command()
@click.option("--format", "fmt", type=click.Choice(["onnx", "savedmodel"]), required=True,
              help="onnx: model.onnx for onnxruntime; savedmodel: a TensorFlow SavedModel (signature 'serve').")
@click.argument("model", type=click.Path())
@click.argument("out", type=click.Path())
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
def export(fmt: str, model: str, out: str, overwrite: bool = False) -> None:
    """Export MODEL (a bundle directory, or 'default') to the directory OUT.

    OUT receives the network (token ids -> probabilities), tokenizer.json, and export.json /
    README.md describing inputs, outputs and how texts become token ids. The export is checked
    against the model before it is written. An existing OUT is replaced only if it is empty or
    a previous export of the same format (or with --overwrite); OUT is checked before the export
    starts.

    \b
    Examples:
      sentilstm export --format onnx default out/sentilstm-onnx
      sentilstm export --format savedmodel my-model out/my-model-savedmodel
    """
    from .export import export_model

    path = export_model(model, out, fmt, overwrite=overwrite)
    click.echo(f"exported {model} ({fmt}) to {path}")
