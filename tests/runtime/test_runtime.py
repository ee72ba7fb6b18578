"""The NumPy runtime computes the same function as the Keras model."""

import numpy as np
import pytest

from sentilstm.config import ModelConfig
from sentilstm.nn.model import build_model, weight_dict
from sentilstm.runtime.numpy import NumpyRuntime


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"bidirectional": False},
        {"layers": 2, "pooling": ("attention", "max")},
        {"pooling": ("mean",), "bidirectional": False, "layers": 2},
        {"ensemble": 3},
        {"ensemble": 2, "bidirectional": False, "pooling": ("attention",)},
    ],
)
def test_numpy_runtime_matches_keras(kw, rng):
    cfg = ModelConfig(vocab_size=50, embedding_dim=12, units=10, **kw)
    model = build_model(cfg, seed=1)
    # random non-trivial weights everywhere
    for v in model.weights:
        v.assign(rng.normal(0, 0.5, v.shape).astype("float32"))
    lengths = [1, 3, 9, 16, 5]
    ids = np.zeros((len(lengths), 16), dtype=np.int32)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(1, 50, n)
    keras_probs = np.asarray(model(ids, training=False))
    np_probs = NumpyRuntime(cfg, weight_dict(model))(ids)
    np.testing.assert_allclose(np_probs, keras_probs, atol=1e-5)
    # padding does not change a text's prediction
    wider = np.zeros((len(lengths), 24), dtype=np.int32)
    wider[:, :16] = ids
    np.testing.assert_allclose(NumpyRuntime(cfg, weight_dict(model))(wider), np_probs, atol=1e-6)


def test_ensemble_is_the_mean_of_its_members(rng):
    cfg = ModelConfig(vocab_size=30, embedding_dim=6, units=5, ensemble=2)
    model = build_model(cfg, seed=1)
    weights = {k: rng.normal(0, 0.5, v.shape).astype("float32") for k, v in weight_dict(model).items()}
    ids = rng.integers(1, 30, (4, 7)).astype(np.int32)
    single = ModelConfig(vocab_size=30, embedding_dim=6, units=5)
    members = [NumpyRuntime(single, {k.replace(f"m{i}_", ""): v for k, v in weights.items() if k.startswith(f"m{i}_")})(ids)
               for i in range(2)]
    np.testing.assert_allclose(NumpyRuntime(cfg, weights)(ids), (members[0] + members[1]) / 2, atol=1e-6)
