"""The training optimizer: Adam with discriminative learning rates and lazy embedding-row updates.

Keras's Adam turns the embedding's sparse gradient (``tf.IndexedSlices``: the rows of the words
in the batch) into a dense one and updates every row of the moments and of the table each step.
With a 60,000 × 50 embedding that is three million entries rewritten per batch, about a third of
a training step on a CPU.  ``lazy_sparse=True`` updates only the rows the batch used (the
``LazyAdam`` of TensorFlow Addons)::

    rows  = unique(indices);  g = Σ of the gradient rows of each unique index
    m[r]  = β₁ m[r] + (1 − β₁) g           v[r] = β₂ v[r] + (1 − β₂) g²
    θ[r] -= α_t m[r] / (√v[r] + ε)         α_t = lr √(1 − β₂ᵗ) / (1 − β₁ᵗ)

for ``r`` in ``rows`` only: a row's moments do not decay, and the row does not move, in steps
whose batch has no word of it (dense Adam keeps moving it on its momentum).  A word used twice in
a batch contributes the sum of its two gradient rows, squared for ``v`` (Keras's Adam squares the
two entries separately).  Dense gradients (every other weight) follow Keras's Adam exactly.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["TrainingAdam"]


class TrainingAdam(keras.optimizers.Adam):
    """Keras's Adam, plus:

    * ``scales``: the step for a variable is scaled by ``scales[variable.path]`` (1 where absent):
      discriminative learning rates, as ULMFiT fine-tunes its encoder more gently than its head.
      (Scaling the gradient instead would do nothing: Adam's steps do not depend on its scale.)
    * ``lazy_sparse``: sparse gradients (``tf.IndexedSlices``, the embedding's) update only the rows
      they hold (module docstring); False: Keras's dense update of every row.
    """

    def __init__(self, learning_rate: float, scales: dict[str, float] | None = None, lazy_sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.scales = dict(scales or {})
        self.lazy_sparse = bool(lazy_sparse)

    def build(self, var_list: Any) -> None:
        super().build(var_list)
        self.index_scales = [self.scales.get(v.path, 1.0) for v in var_list]

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        # ``variable`` may be the backend's own variable (no ``path``): find it by its index
        index = self._get_variable_index(variable)
        scale = self.index_scales[index]
        lr = learning_rate * scale if scale != 1.0 else learning_rate
        if self.lazy_sparse and not self.amsgrad and _is_indexed_slices(gradient):
            self._lazy_step(gradient, variable, lr, index)
        else:
            super().update_step(gradient, variable, lr)

    def _lazy_step(self, gradient: Any, variable: Any, learning_rate: Any, index: int) -> None:
        import tensorflow as tf

        dtype = variable.dtype
        rows, position = tf.unique(gradient.indices)
        g = tf.cast(tf.math.unsorted_segment_sum(gradient.values, position, tf.shape(rows)[0]), dtype)
        step = ops.cast(self.iterations + 1, dtype)
        alpha = (ops.cast(learning_rate, dtype) * ops.sqrt(1 - ops.power(ops.cast(self.beta_2, dtype), step))
                 / (1 - ops.power(ops.cast(self.beta_1, dtype), step)))
        m, v = self._momentums[index], self._velocities[index]
        m_rows = self.beta_1 * tf.gather(m.value, rows) + (1 - self.beta_1) * g
        v_rows = self.beta_2 * tf.gather(v.value, rows) + (1 - self.beta_2) * tf.square(g)
        self.assign(m, tf.IndexedSlices(m_rows, rows))
        self.assign(v, tf.IndexedSlices(v_rows, rows))
        self.assign_sub(variable, tf.IndexedSlices(alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon), rows))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scales": dict(self.scales), "lazy_sparse": self.lazy_sparse}


def _is_indexed_slices(value: Any) -> bool:
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(value, tf.IndexedSlices)
