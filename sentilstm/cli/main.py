"""The ``sentilstm`` command group: global options, error handling, lazily imported commands.

Heavy libraries are imported inside the commands that need them: ``--help``, ``--version``,
``predict``, ``evaluate`` and ``info`` never import TensorFlow; ``train`` does.
Errors are one line on stderr and exit status 1 (``sentilstm --debug ...`` shows the traceback).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from sentilstm.cli.options import Command, add_global_options, missing_extra, stdin_piped
from sentilstm.version import __version__

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

# Every command: its module is imported only when that command runs (or --help lists them).
LAZY_COMMANDS = {
    "predict": "sentilstm.cli.predict:predict",
    "train": "sentilstm.cli.train:train",
    "evaluate": "sentilstm.cli.evaluate:evaluate",
    "info": "sentilstm.cli.info:info",
    "datasets": "sentilstm.cli.datasets:datasets",
    "explain": "sentilstm.cli.explain:explain",
    "export": "sentilstm.cli.export:export",
    "report": "sentilstm.cli.report:report",
    "calibrate": "sentilstm.cli.calibrate:calibrate",
    "pretrain": "sentilstm.cli.pretrain:pretrain",
}




class _Group(click.Group):
    """A click group that turns exceptions into one clear line and a non-zero exit.

    Its commands: :data:`LAZY_COMMANDS`, each imported when it runs; every one
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


_stdin_piped = stdin_piped


