"""Build the Keras classifier from a :class:`~sentilstm.config.ModelConfig`.

    token ids ─► Embedding(mask_zero) ─► SpatialDropout1D
              ─► [Bidirectional] RNN(LSTMCell) × layers      (our cell, Keras's loop)
              ─► MaskedPooling(max | mean | attention, concatenated)
              ─► Dropout ─► Dense(3, softmax)
              [─► TopTemperature: a calibrated bundle's temperature per class]

Padding (id 0) is masked end to end: the RNN carries its state over padded steps and the
pooling ignores them, so a text's prediction does not depend on how much it was padded.
Layer names are fixed; the weight file and the NumPy runtime (``runtime.py``) rely on them.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from sentilstm.nn.cell import LSTMCell
from sentilstm.config import ModelConfig
from sentilstm.runtime.layout import CALIBRATION_LAYER, embedding_layer, head_layer, lstm_layer, pooling_layer
from sentilstm.runtime.layout import member_prefixes, rnn_layer
from sentilstm.runtime.numpy import TINY

__all__ = ["build_model", "MaskedPooling", "TopTemperature", "NUM_CLASSES"]

NUM_CLASSES = 3


@keras.saving.register_keras_serializable(package="sentilstm")
class TopTemperature(keras.layers.Layer):
    """Probabilities ``p`` -> ``softmax(s(p) * log p)``, ``s(p) = Σ_c p_c² top_scale_c / Σ_c p_c²``: the
    calibration of a temperature per class (:func:`sentilstm.runtime.numpy.top_temperature`; labels
    never change).

    ``top_scale`` (``1/T`` per class) is a non-trainable weight, set from the engine weights.
    """

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.top_scale = self.add_weight(shape=(NUM_CLASSES,), initializer="ones", trainable=False, name="top_scale")

    def call(self, probs: Any) -> Any:
        sq = probs * probs
        s = ops.sum(sq * self.top_scale, axis=-1, keepdims=True) / ops.sum(sq, axis=-1, keepdims=True)
        return ops.softmax(s * ops.log(ops.maximum(probs, TINY)), axis=-1)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape


@keras.saving.register_keras_serializable(package="sentilstm")
class MaskedPooling(keras.layers.Layer):
    """Pool a masked sequence ``(batch, time, dim)`` to ``(batch, dim * len(modes))``.

    ``max`` and ``mean`` skip padded steps; ``attention`` is additive attention
    (score_t = vᵀ tanh(W h_t + b), softmax over unpadded steps, weighted sum of h_t), the pooling
    of the best SemEval-2017 systems.  An all-padding row pools to zeros.
    """

    def __init__(self, modes: tuple[str, ...] = ("max", "mean"), attention_dim: int = 64, **kwargs: Any):
        super().__init__(**kwargs)
        self.modes = tuple(modes)
        self.attention_dim = attention_dim
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if "attention" in self.modes:
            dim = input_shape[-1]
            self.att_kernel = self.add_weight(shape=(dim, self.attention_dim), name="att_kernel")
            self.att_bias = self.add_weight(shape=(self.attention_dim,), initializer="zeros", name="att_bias")
            self.att_vector = self.add_weight(shape=(self.attention_dim,), name="att_vector")
        self.built = True

    def call(self, x: Any, mask: Any = None) -> Any:
        if mask is None:
            mask = ops.ones(ops.shape(x)[:2], dtype="bool")
        m = ops.expand_dims(ops.cast(mask, x.dtype), -1)  # (batch, time, 1)
        count = ops.sum(m, axis=1)  # (batch, 1)
        pooled = []
        for mode in self.modes:
            if mode == "max":
                # padded steps get -inf-like values; all-padding rows become 0
                masked = ops.where(m > 0, x, ops.full_like(x, -1e9))
                pooled.append(ops.where(count > 0, ops.max(masked, axis=1), ops.zeros_like(x[:, 0])))
            elif mode == "mean":
                pooled.append(ops.sum(x * m, axis=1) / ops.maximum(count, 1.0))
            elif mode == "attention":
                scores = ops.squeeze(
                    ops.matmul(ops.tanh(ops.matmul(x, self.att_kernel) + self.att_bias),
                               ops.expand_dims(self.att_vector, -1)), -1)
                scores = ops.where(m[..., 0] > 0, scores, ops.full_like(scores, -1e9))
                weights = ops.softmax(scores, axis=-1) * m[..., 0]
                pooled.append(ops.sum(x * ops.expand_dims(weights, -1), axis=1))
            else:  # pragma: no cover - validated by ModelConfig
                raise ValueError(f"unknown pooling mode {mode!r}")
        return ops.concatenate(pooled, axis=-1) if len(pooled) > 1 else pooled[0]

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], input_shape[-1] * len(self.modes))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "modes": list(self.modes), "attention_dim": self.attention_dim}


def encoder_layers(ids: Any, config: ModelConfig, prefix: str = "", seed: int | None = None,
                   reference_lstm: bool = False) -> tuple[Any, Any]:
    """The encoder (embedding -> (bi)LSTM layers -> pooling) on ``ids``: ``(hidden states, pooled)``.

    The classifier and the pretraining model (``pretrain.py``) share it, so an encoder bundle's
    weights have the classifier's names.
    """
    x = keras.layers.Embedding(config.vocab_size, config.embedding_dim, mask_zero=True, name=embedding_layer(prefix))(ids)
    if config.embedding_dropout > 0:
        x = keras.layers.SpatialDropout1D(config.embedding_dropout, seed=seed, name=f"{prefix}embedding_dropout")(x)
    for layer in range(config.layers):
        if reference_lstm:
            rnn = keras.layers.LSTM(config.units, dropout=config.dropout, recurrent_dropout=config.recurrent_dropout,
                                    seed=seed, return_sequences=True, name=lstm_layer(layer, prefix))
        else:
            rnn = keras.layers.RNN(
                LSTMCell(config.units, dropout=config.dropout, recurrent_dropout=config.recurrent_dropout, seed=seed,
                         name="cell"),
                return_sequences=True,
                name=f"{prefix}lstm_{layer}",
            )
        if config.bidirectional:
            rnn = keras.layers.Bidirectional(rnn, merge_mode="concat", name=rnn_layer(layer, True, prefix))
        x = rnn(x)
    return x, MaskedPooling(config.pooling, name=pooling_layer(prefix))(x)


def is_encoder_weight(path: str) -> bool:
    """Whether weight ``path`` belongs to the encoder (embedding, recurrent layers, pooling), not the head."""
    return not path.split("/")[0].endswith("head")


def _member(ids: Any, config: ModelConfig, prefix: str, seed: int | None, reference_lstm: bool) -> Any:
    """One classifier (embedding -> (bi)LSTM -> pooling -> softmax) on ``ids``; layer names get ``prefix``."""
    _, x = encoder_layers(ids, config, prefix, seed, reference_lstm)
    if config.head_dropout > 0:
        x = keras.layers.Dropout(config.head_dropout, seed=seed, name=f"{prefix}head_dropout")(x)
    return keras.layers.Dense(NUM_CLASSES, activation="softmax", name=head_layer(prefix))(x)


def build_models(config: ModelConfig, seed: int | None = None,
                 reference_lstm: bool = False) -> tuple[keras.Model, keras.Model]:
    """``(model, training_model)`` sharing their layers.

    ``model`` maps token ids to class probabilities (for an ensemble, the members' mean);
    ``training_model`` outputs each member's probabilities, so members are trained on their own
    loss (independent members, as in a seed ensemble) while sharing the batches.
    """
    if config.vocab_size <= 0:
        raise ValueError("ModelConfig.vocab_size is not set (train or load a tokenizer first)")
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    seeds = [None if seed is None else seed + k for k in range(config.ensemble)]
    outs = [_member(ids, config, p, s, reference_lstm) for p, s in zip(member_prefixes(config), seeds)]
    if len(outs) == 1:
        model = keras.Model(ids, outs[0], name="sentilstm")
        return model, model
    mean = keras.layers.Average(name="ensemble_mean")(outs)
    return keras.Model(ids, mean, name="sentilstm"), keras.Model(ids, outs, name="sentilstm_members")


def build_model(config: ModelConfig, seed: int | None = None, reference_lstm: bool = False,
                top_temperature: bool = False) -> keras.Model:
    """Return the (uncompiled) classifier for ``config``; ``config.vocab_size`` must be set.

    ``reference_lstm=True`` builds the same network on ``keras.layers.LSTM`` instead of our cell
    (for benchmarks and equivalence tests; the weight layout is identical).  ``top_temperature=True``
    ends it with :class:`TopTemperature` (an inference model of a bundle calibrated that way).
    """
    model = build_models(config, seed, reference_lstm)[0]
    if not top_temperature:
        return model
    return keras.Model(model.inputs, TopTemperature(name=CALIBRATION_LAYER)(model.outputs[0]), name="sentilstm")


def weight_dict(model: keras.Model) -> dict[str, Any]:
    """The model's weights as ``{variable path: numpy array}`` (the bundle's ``weights.npz``)."""
    return {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}


def set_weight_dict(model: keras.Model, weights: dict[str, Any]) -> None:
    """Load ``weights`` (from :func:`weight_dict`) into ``model``, checking names and shapes."""
    expected = {v.path: v for v in model.weights}
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise ValueError(f"weights do not match the architecture: missing {missing[:5]}, unexpected {extra[:5]}")
    for path, var in expected.items():
        value = weights[path]
        if tuple(value.shape) != tuple(var.shape):
            raise ValueError(f"weight {path}: shape {tuple(value.shape)} does not match the model's {tuple(var.shape)}")
        var.assign(value)
