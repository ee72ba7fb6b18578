"""Tokenizer: special ids, tags as single tokens, truncation, bucketing."""

import numpy as np
import pytest

from sentilstm.config import TokenizerConfig
from sentilstm.tokenizer import PAD_ID, UNK_ID, TextEncoder


@pytest.fixture(scope="module", params=["wordpiece", "bpe"])
def encoder(request, train_data):
    return TextEncoder.train(train_data.texts[:3000], TokenizerConfig(model=request.param, vocab_size=3000,
                                                                      max_length=32))


def test_special_ids_and_tags(encoder):
    tok = encoder.tokenizer
    assert tok.token_to_id("[PAD]") == PAD_ID == 0 and tok.token_to_id("[UNK]") == UNK_ID
    toks = encoder.tokens("@bob loved it :) http://x.co/y #win")
    assert toks[0] == "<user>" and "<smile>" in toks and "<url>" in toks and "<hashtag>" in toks
    assert 2000 < encoder.vocab_size <= 3000


def test_truncation_and_empty(encoder):
    ids = encoder.encode(["word " * 1000, "", "   "])
    assert len(ids[0]) == 32
    assert ids[1] == ids[2] == [UNK_ID]
    assert all(i != PAD_ID for seq in ids for i in seq)


def test_roundtrip_json(encoder):
    again = TextEncoder.from_str(encoder.to_str(), max_length=32)
    texts = ["I loooove it!!! 😂", "meh &amp; stuff"]
    assert again.encode(texts) == encoder.encode(texts)


def test_buckets_cover_all_and_pad(encoder, dev_data):
    seqs = encoder.encode(dev_data.texts[:500])
    seen = []
    for idx, x in TextEncoder.buckets(seqs, 64):
        assert x.shape[0] == len(idx) and x.shape[1] % 8 == 0
        for row, i in enumerate(idx):
            n = len(seqs[i])
            assert x[row, :n].tolist() == seqs[i] and not x[row, n:].any()
        seen.extend(idx.tolist())
    assert sorted(seen) == list(range(500))


def test_wordpiece_ids_are_canonical(train_data):
    """Pieces are numbered alphabetically after the special tokens."""
    enc = TextEncoder.train(train_data.texts[:1000], TokenizerConfig(vocab_size=1500))
    vocab = sorted(enc.tokenizer.get_vocab(with_added_tokens=False).items(), key=lambda kv: kv[1])
    pieces = [t for t, i in vocab if not (t.startswith("[") or (t.startswith("<") and t.endswith(">")))]
    assert pieces == sorted(pieces)
