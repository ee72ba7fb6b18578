"""Dataset loading: a registry of loaders, each returning :class:`LabelledData`.

``load_data("path/to/file.jsonl")`` picks a loader by extension; ``load_data(path,
format="csv")`` names one.  Loaders are registered with :func:`register`, so corpora in their
original formats plug into the same CLI options (``--train``, ``--dev``, ``--data``).
"""

from .files import LabelledData, read_texts
from .registry import LOADERS, load_data, register

__all__ = ["LabelledData", "LOADERS", "load_data", "read_texts", "register"]
