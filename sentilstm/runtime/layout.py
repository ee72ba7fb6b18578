"""The weight-name layout of a bundle: the ONE place member prefixes and weight names live.

An ensemble's members carry the prefixes ``m0_``, ``m1_``, ... (a single model: none);
the Keras model (:mod:`sentilstm.nn.model`), the NumPy and ONNX runtimes, the explain
engines and training all read them from here.  No TensorFlow, no Keras."""

from __future__ import annotations

from sentilstm.config import ModelConfig


def member_prefixes(config: ModelConfig) -> list[str]:
    """Layer-name prefix of each ensemble member ("" for a single model)."""
    return [""] if config.ensemble == 1 else [f"m{k}_" for k in range(config.ensemble)]


# -- Keras layer names (nn/model.py builds them; explain's Keras engine and training look them up) --
def embedding_layer(prefix: str = "") -> str:
    return f"{prefix}embedding"


def lstm_layer(layer: int, prefix: str = "") -> str:
    """The recurrent layer ``layer`` (inside the Bidirectional wrapper when bidirectional)."""
    return f"{prefix}lstm_{layer}"


def rnn_layer(layer: int, bidirectional: bool, prefix: str = "") -> str:
    """The layer holding recurrent layer ``layer``: the Bidirectional wrapper, or the RNN itself."""
    return f"{prefix}bilstm_{layer}" if bidirectional else lstm_layer(layer, prefix)


def pooling_layer(prefix: str = "") -> str:
    return f"{prefix}pooling"


def head_layer(prefix: str = "") -> str:
    return f"{prefix}head"


# -- weight names (the keys of a bundle's weights.npz: Keras variable paths) ------------------------
def embedding_weights(prefix: str = "") -> str:
    return f"{embedding_layer(prefix)}/embeddings"


def cell_weights(layer: int, bidirectional: bool, prefix: str = "") -> list[tuple[str, bool]]:
    """``(name prefix, runs backwards)`` of each direction's LSTM cell (``kernel``, ``recurrent_kernel``,
    ``bias``) in recurrent layer ``layer`` of the member ``prefix``, relative to the member: its own
    prefix stripped from the front of the names (it recurs inside the Bidirectional wrapper)."""
    if bidirectional:
        return [(f"bilstm_{layer}/forward_{lstm_layer(layer, prefix)}/cell/", False),
                (f"bilstm_{layer}/backward_{lstm_layer(layer, prefix)}/cell/", True)]
    return [(f"{lstm_layer(layer)}/cell/", False)]


POOLING_WEIGHTS = ("pooling/att_kernel", "pooling/att_bias", "pooling/att_vector")  # attention pooling, unprefixed
HEAD_WEIGHTS = ("head/kernel", "head/bias")  # unprefixed

# -- the calibration's step after the (ensemble-averaged) softmax: a temperature per predicted class --
CALIBRATION_LAYER = "calibration"
#: ``(3,)`` float32, ``1/T`` for each predicted class; an *engine* weight only (folded in from the bundle's
#: calibration record by runtime/calibration.py, never in weights.npz).  Present only for that method.
TOP_SCALE_WEIGHTS = f"{CALIBRATION_LAYER}/top_scale"


def member_weight_name(name: str, prefix: str) -> str:
    """A single model's weight ``name`` as member ``prefix`` of an ensemble names it:
    ``bilstm_0/forward_lstm_0/cell/kernel`` -> ``m1_bilstm_0/forward_m1_lstm_0/cell/kernel``."""
    return prefix + name.replace("ward_lstm_", f"ward_{prefix}lstm_")
