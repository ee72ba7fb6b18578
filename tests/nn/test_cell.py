"""Our LSTMCell against Keras's built-in LSTM, and its serialisation."""

import keras
import numpy as np
import pytest

from sentilstm.nn.cell import LSTMCell


def _pair(units=6, dim=5, **kw):
    ours = keras.layers.RNN(LSTMCell(units), return_sequences=True, **kw)
    ref = keras.layers.LSTM(units, return_sequences=True, **kw)
    x = keras.Input((None, dim))
    ours(x), ref(x)
    # Perturb the bias so the forget-gate block is not trivially 1 (tests gate order too).
    weights = [w + np.random.default_rng(1).normal(0, 0.3, w.shape).astype("float32") for w in ref.get_weights()]
    ref.set_weights(weights)
    ours.set_weights(weights)
    return ours, ref


@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_keras_lstm_unmasked(rng, go_backwards):
    ours, ref = _pair(go_backwards=go_backwards)
    x = rng.normal(size=(4, 9, 5)).astype("float32")
    np.testing.assert_allclose(ours(x), ref(x), atol=1e-5)


def test_matches_keras_lstm_masked(rng):
    ours, ref = _pair()
    x = rng.normal(size=(3, 7, 5)).astype("float32")
    mask = np.array([[1] * 7, [1] * 4 + [0] * 3, [1] + [0] * 6], dtype=bool)
    a = keras.ops.convert_to_numpy(ours(x, mask=mask))
    b = keras.ops.convert_to_numpy(ref(x, mask=mask))
    np.testing.assert_allclose(a[mask], b[mask], atol=1e-5)
    # and the final states, through a non-sequence RNN
    o2 = keras.layers.RNN(LSTMCell(6))
    r2 = keras.layers.LSTM(6)
    o2(x[:1]), r2(x[:1])
    o2.set_weights(ours.get_weights()), r2.set_weights(ours.get_weights())
    np.testing.assert_allclose(o2(x, mask=mask), r2(x, mask=mask), atol=1e-5)


def test_differs_from_keras_if_gates_swapped(rng):
    """Negative control: the comparison above can fail (gate blocks i and f swapped)."""
    ours, ref = _pair()
    k, r, b = ours.get_weights()
    u = 6
    swap = np.r_[u : 2 * u, 0:u, 2 * u : 4 * u]
    ours.set_weights([k[:, swap], r[:, swap], b[swap]])
    x = rng.normal(size=(2, 5, 5)).astype("float32")
    assert np.abs(keras.ops.convert_to_numpy(ours(x)) - keras.ops.convert_to_numpy(ref(x))).max() > 1e-3


def test_dropout_only_in_training(rng):
    layer = keras.layers.RNN(LSTMCell(8, dropout=0.5, recurrent_dropout=0.5, seed=3), return_sequences=True)
    x = rng.normal(size=(2, 6, 4)).astype("float32")
    a, b = layer(x), layer(x)
    np.testing.assert_array_equal(a, b)
    t1 = keras.ops.convert_to_numpy(layer(x, training=True))
    assert np.abs(t1 - keras.ops.convert_to_numpy(a)).max() > 1e-4


def test_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        LSTMCell(0)
    with pytest.raises(ValueError, match="dropout"):
        LSTMCell(4, dropout=1.5)


def test_config_roundtrip_and_keras_save(tmp_path, rng):
    cell = LSTMCell(5, dropout=0.1, recurrent_dropout=0.2, seed=4, name="c")
    clone = LSTMCell.from_config(cell.get_config())
    assert clone.get_config() == cell.get_config()

    inp = keras.Input((None, 3))
    model = keras.Model(inp, keras.layers.RNN(LSTMCell(5))(inp))
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
