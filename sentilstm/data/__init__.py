"""Dataset loading: registries of loaders for plain files and for sentiment corpora in their original formats.

``load_data("path/to/file.jsonl")`` picks a loader by extension; ``load_data(path,
format="semeval2017")`` names one; both return :class:`LabelledData` (what ``train`` /
``evaluate`` use).  ``load(name, path=None, split=None, **options)`` and
``load_dataset(name_or_path, **options)`` return Arrow-backed ``datasets.Dataset`` objects
(``text``, ``label`` as a ClassLabel in LABELS order, plus id/source columns); names not in the
registry go to the Hugging Face hub.  ``datasets`` itself is imported only when a Dataset is built.
"""

from sentilstm.data import corpora as _corpora  # noqa: F401  (registers the corpus loaders)
from sentilstm.data.arrow import DataWarning
from sentilstm.data.files import DataError, LabelledData, read_texts
from sentilstm.data.labelmap import LabelMap
from sentilstm.data.registry import DATASETS, LOADERS, DatasetSpec, load, load_data, load_dataset, register, register_dataset

__all__ = [
    "DATASETS", "DataError", "DataWarning", "DatasetSpec", "LabelMap", "LabelledData", "LOADERS", "load", "load_data",
    "load_dataset", "read_texts", "register", "register_dataset",
]
