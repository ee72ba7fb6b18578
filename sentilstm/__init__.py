"""sentilstm: tweet-aware sentiment analysis (negative / neutral / positive) with an LSTM.

    >>> import sentilstm
    >>> clf = sentilstm.load()                 # the default model shipped in the package
    >>> clf.predict(["I love this product!"])
    ['positive']

Importing sentilstm (and predicting) does not import TensorFlow; training does.
"""

from typing import TYPE_CHECKING, Any

from .classifier import SentimentClassifier, load
from .config import ClassifierConfig, ModelConfig, TokenizerConfig, TrainConfig
from .explain import explain  # the function; the module's other names: from sentilstm.explain import ...
from .labels import LABELS

if TYPE_CHECKING:
    from .reports import Report

__version__ = "0.1.0"


def evaluate(model: Any, dataset: Any, **options: Any) -> "Report":
    """Evaluate ``model`` (classifier or bundle path) on ``dataset`` (LabelledData or path) -> Report.

    See :func:`sentilstm.reports.evaluate`; imported on first call so ``import sentilstm`` stays light.
    """
    from .reports import evaluate as _evaluate

    return _evaluate(model, dataset, **options)


__all__ = [
    "LABELS",
    "SentimentClassifier",
    "load",
    "evaluate",
    "explain",
    "ClassifierConfig",
    "ModelConfig",
    "TokenizerConfig",
    "TrainConfig",
    "__version__",
]
