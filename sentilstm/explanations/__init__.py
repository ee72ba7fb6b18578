"""Why did the model say that?  Running sentiment and token attributions.

    >>> ex = sentilstm.explain("not bad at all, actually quite good")

The engines (core) and the result with its renderings (render); see core's docstring.
``sentilstm.explain(texts, model)`` (the function) is :func:`sentilstm.classifier.explain`."""

from sentilstm.explanations.core import DEFAULT_STEPS, METHODS, integrated_gradients, occlusion, running_sentiment
from sentilstm.explanations.render import Explanation, html_page

__all__ = [
    "DEFAULT_STEPS", "Explanation", "METHODS", "html_page", "integrated_gradients", "occlusion",
    "running_sentiment",
]
