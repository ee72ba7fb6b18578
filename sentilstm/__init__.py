"""sentilstm: tweet-aware sentiment analysis (negative / neutral / positive) with an LSTM.

    >>> import sentilstm
    >>> clf = sentilstm.load()                 # the default model shipped in the package
    >>> clf.predict(["I love this product!"])
    ['positive']

Importing sentilstm (and predicting) does not import TensorFlow; training does.
"""

from typing import TYPE_CHECKING, Any

from sentilstm.classifier import SentimentClassifier, explain, load  # explain: the function (see sentilstm.explanations)
from sentilstm.config import ClassifierConfig, ModelConfig, TokenizerConfig, TrainConfig
from sentilstm.labels import LABELS
from sentilstm.version import __version__

if TYPE_CHECKING:
    from sentilstm.evaluation.render import Report


def evaluate(model: Any, dataset: Any, **options: Any) -> "Report":
    """Evaluate ``model`` (classifier or bundle path) on ``dataset`` (LabelledData or path) -> Report.

    See :func:`sentilstm.evaluation.report.evaluate`; imported on first call so ``import sentilstm`` stays light.
    """
    from sentilstm.evaluation.report import evaluate as _evaluate

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
