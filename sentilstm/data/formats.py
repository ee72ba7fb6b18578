"""Input formats: the one suffix -> format map, and the rule for names that may go to the hub.

Every reading path (``predict`` to stdout or ``--out``, ``evaluate``, ``train``, ``datasets``,
the Python API) detects a file's format here and reads it with :mod:`sentilstm.data.readers`.
No heavy imports.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["DataError", "FORMATS", "SUFFIXES", "format_of", "looks_local", "hub_name"]


class DataError(ValueError):
    """A data file could not be read; the message names the file and, where it applies, the line."""


#: File suffix -> format.  ``text``: one record per line (split on ``\n`` only).
SUFFIXES = {".txt": "text", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
            ".parquet": "parquet"}
FORMATS = ("text", "jsonl", "json", "csv", "tsv", "parquet")


def format_of(path: str | os.PathLike[str], default: str | None = "text") -> str | None:
    """The format of ``path`` by its suffix (case-insensitive); ``default`` for any other suffix."""
    return SUFFIXES.get(Path(path).suffix.lower(), default)


# A hub dataset id: ``name`` or ``owner/name`` (letters, digits, ``-``, ``_``, ``.``).
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")
# Suffixes that mark a data file (a name ending so is never sent to the hub).
_DATA_SUFFIXES = {*SUFFIXES, ".txt", ".gz", ".bz2", ".xz", ".zip", ".arrow"}


def looks_local(name: str) -> bool:
    """Whether ``name`` is written as a local path: it exists, starts with ``.``, ``/`` or ``~``,
    holds a backslash or more than one ``/``, or ends in a data-file suffix (``.jsonl``, ``.csv``, ...)."""
    s = str(name)
    if Path(s).expanduser().exists():
        return True
    if s.startswith((".", "/", "~")) or "\\" in s or s.count("/") > 1 or (os.sep != "/" and os.sep in s):
        return True
    return Path(s).suffix.lower() in _DATA_SUFFIXES


def hub_name(name: str) -> bool:
    """Whether ``name`` may be looked up on the Hugging Face hub: ``name`` or ``owner/name`` that is
    not written as a local path (see :func:`looks_local`)."""
    return bool(_HUB_ID.match(str(name))) and not looks_local(name)
