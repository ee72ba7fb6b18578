"""sentilstm: tweet-aware sentiment analysis (negative / neutral / positive) with an LSTM.

    >>> import sentilstm
    >>> clf = sentilstm.load()                 # the default model shipped in the package
    >>> clf.predict(["I love this product!"])
    ['positive']

Importing sentilstm (and predicting) does not import TensorFlow; training does.
"""

from .classifier import SentimentClassifier, load
from .config import ClassifierConfig, ModelConfig, TokenizerConfig, TrainConfig
from .labels import LABELS

__version__ = "0.1.0"

__all__ = [
    "LABELS",
    "SentimentClassifier",
    "load",
    "ClassifierConfig",
    "ModelConfig",
    "TokenizerConfig",
    "TrainConfig",
    "__version__",
]
