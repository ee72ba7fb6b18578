"""The ``sentilstm`` command line: one module per command, shared options (options), input
gathering (inputs); ``main`` is the group."""

from sentilstm.cli.main import EXAMPLES, LAZY_COMMANDS, main


__all__ = ["EXAMPLES", "LAZY_COMMANDS", "main"]
