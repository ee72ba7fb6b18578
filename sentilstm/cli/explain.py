"""``sentilstm explain``: why the model said what it said (see :mod:`sentilstm.explanations`).

Kept apart from :mod:`sentilstm.cli`; imports nothing heavy until the command runs, and the
default method (integrated gradients on the NumPy runtime) never imports TensorFlow.
"""

from __future__ import annotations

import sys

import click

from sentilstm.cli.options import Command, gather_texts, stdin_piped
from sentilstm.fileio import OVERWRITE_HELP, atomic_output, check_output

__all__ = ["explain"]


@click.command("explain", cls=Command)
@click.argument("texts", nargs=-1)
@click.option("-f", "--file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Read texts from a file: one per line, or the text column of a .jsonl/.csv/.tsv; '-' = stdin.")
@click.option("-m", "--model", type=click.Path(), default=None, help="Model bundle [default: shipped model].")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True,
              help="text: coloured terminal view; json: an array with one object per text; html: a page.")
@click.option("--method", type=click.Choice(["ig", "occlusion"]), default="ig", show_default=True,
              help="ig: integrated gradients (attributions sum to p(text) - p(baseline)); "
                   "occlusion: p(text) - p(text without the token).")
@click.option("--steps", type=click.IntRange(min=2, max=256), default=None,
              help="Integrated-gradients path points [default: 48].")
@click.option("-o", "--out", "out_path", type=click.Path(), default=None,
              help="Write the output to FILE (atomically) instead of stdout; the usual way with --format html. "
                   "An existing FILE is replaced only if it is a sentilstm html/json explanation.")
@click.option("--overwrite", is_flag=True, help="With --out: r" + OVERWRITE_HELP[1:])
@click.option("--color/--no-color", default=None, help="Colour the text output [default: when stdout is a terminal].")
def explain(texts: tuple[str, ...], file: str | None, model: str | None, fmt: str, method: str, steps: int | None,
            out_path: str | None, color: bool | None, overwrite: bool = False) -> None:
    """Explain the prediction for each TEXT: token attributions and the running sentiment.

    For every text: the predicted label, each token's attribution to it (green pushes towards
    it, red against), and the running sentiment -- the class probabilities if the text ended
    after that token (the model run on each prefix, so the backward LSTM never sees later
    tokens). TEXT '-' (or --file -) reads texts from stdin, one a line.

    \b
    Examples:
      sentilstm explain "not bad at all, actually quite good"
      sentilstm explain --method occlusion "the service was slow but the food was great"
      sentilstm explain --format json "meh" "love it"
      sentilstm explain --format html --out why.html "not bad at all, actually quite good"
    """
    from sentilstm.explanations.core import DEFAULT_STEPS
    from sentilstm.classifier import explain as run_explain
    from sentilstm.explanations.render import html_page

    if out_path is not None:
        check_output(out_path, "explanation", overwrite=overwrite)  # before any work
    if steps is not None and method != "ig":
        raise click.UsageError("--steps applies to --method ig only")
    if not texts and file is None and sys.stdin is not None and not stdin_piped():  # closed stdin: gather_texts says so
        raise click.UsageError("nothing to explain: give TEXT arguments, --file PATH, or '-' to read texts from stdin")
    inputs = gather_texts(texts, file, "text")
    results = run_explain(inputs, model, method=method, steps=steps or DEFAULT_STEPS)
    if fmt == "json":
        import json

        text = json.dumps([ex.to_dict() for ex in results], indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    elif fmt == "html":
        text = html_page(results)
    else:
        use_color = color if color is not None else (out_path is None and sys.stdout.isatty())
        text = "\n\n".join(ex.render(color=use_color) for ex in results) + "\n"
    if out_path is not None:
        with atomic_output(out_path, "explanation", overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_path} ({len(results)} explanation{'s' if len(results) != 1 else ''})", err=True)
    else:
        click.echo(text, nl=False, color=color)
