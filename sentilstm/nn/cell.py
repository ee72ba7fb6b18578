"""The LSTM cell: one time step of the recurrence, in ``keras.ops`` only.

Keras splits recurrent layers into a *cell* (one step) and a *layer* that loops the cell over
time (``keras.layers.RNN``); we keep that split.  ``LSTMCell`` is our own implementation of the
standard LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000)::

    z     = x_t · W + h_{t-1} · U + b            # all four gates in one fused matmul pair
    i_t   = σ(z_i)                               # input gate
    f_t   = σ(z_f)                               # forget gate
    ĉ_t   = tanh(z_c)                            # candidate cell state
    o_t   = σ(z_o)                               # output gate
    c_t   = f_t ⊙ c_{t-1} + i_t ⊙ ĉ_t            # new cell state
    h_t   = o_t ⊙ tanh(c_t)                      # new hidden state (the output)

The gate blocks are laid out ``[i, f, c, o]`` along the last axis, the same layout as
``keras.layers.LSTMCell``, so weights copy across one-to-one (the tests rely on that).

Because the cell uses nothing but ``keras.ops``, it runs on the TensorFlow, JAX and PyTorch
backends.  Dropout on the inputs and on the recurrent state follows Gal & Ghahramani (2016):
one mask per sequence, reused at every step (the masks are cached by Keras's dropout mix-in,
which ``keras.layers.RNN`` resets for each batch).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

try:  # Keras's own mask-caching mix-in; keras.layers.RNN resets its masks for every batch.
    from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell
except ImportError:  # pragma: no cover - only if Keras moves it; then masks are per step.

    class DropoutRNNCell:  # type: ignore[no-redef]
        def get_dropout_mask(self, step_input):
            return keras.random.dropout(ops.ones_like(step_input), self.dropout, seed=self.seed_generator)

        def get_recurrent_dropout_mask(self, step_input):
            return keras.random.dropout(
                ops.ones_like(step_input), self.recurrent_dropout, seed=self.seed_generator
            )


__all__ = ["LSTMCell"]


@keras.saving.register_keras_serializable(package="sentilstm")
class LSTMCell(keras.layers.Layer, DropoutRNNCell):
    """One step of an LSTM; drive it with ``keras.layers.RNN(LSTMCell(units))``.

    Args:
        units: size of the hidden state ``h`` and of the cell state ``c``.
        dropout: fraction of the input units dropped (training only), one mask per sequence.
        recurrent_dropout: fraction of ``h_{t-1}`` dropped (training only), one mask per sequence.
        unit_forget_bias: start the forget-gate bias at 1 so the cell remembers by default
            (Jozefowicz et al. 2015).
        kernel_initializer, recurrent_initializer, bias_initializer: as in Keras.
        seed: seed of the dropout masks.
    """

    def __init__(
        self,
        units: int,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        unit_forget_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if units <= 0:
            raise ValueError(f"units must be a positive integer, got {units}")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {rate}")
        self.units = int(units)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = [self.units, self.units]  # (h, c)
        self.output_size = self.units

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        input_dim = input_shape[-1]
        u = self.units
        # Fused weights: the four gates [i, f, c, o] side by side, so one step costs two matmuls.
        self.kernel = self.add_weight(
            shape=(input_dim, 4 * u), initializer=self.kernel_initializer, name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(u, 4 * u), initializer=self.recurrent_initializer, name="recurrent_kernel"
        )
        if self.unit_forget_bias:
            base = self.bias_initializer

            def bias_initializer(shape: tuple[int, ...], dtype: Any = None) -> Any:
                return ops.concatenate(
                    [base((u,), dtype=dtype), ops.ones((u,), dtype=dtype), base((2 * u,), dtype=dtype)]
                )

        else:
            bias_initializer = self.bias_initializer
        self.bias = self.add_weight(shape=(4 * u,), initializer=bias_initializer, name="bias")
        self.built = True

    def call(self, inputs: Any, states: Any, training: bool | None = None) -> tuple[Any, list[Any]]:
        h_prev, c_prev = states[0], states[1]
        if training and self.dropout > 0.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0.0:
            h_prev = h_prev * self.get_recurrent_dropout_mask(h_prev)

        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel) + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)

        i = ops.sigmoid(z_i)  # input gate: how much of the candidate to write
        f = ops.sigmoid(z_f)  # forget gate: how much of the old cell state to keep
        c_hat = ops.tanh(z_c)  # candidate cell state
        o = ops.sigmoid(z_o)  # output gate: how much of the cell state to expose
        c = f * c_prev + i * c_hat  # new cell state
        h = o * ops.tanh(c)  # new hidden state
        return h, [h, c]

    def get_initial_state(self, batch_size: int | None = None) -> list[Any]:
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype) for _ in range(2)]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "seed": self.seed,
        }
