"""The fast word-level ids (sentilstm/fast_tokenize.py) equal tokenizers' own, on every real tweet."""

import pytest

import sentilstm
from sentilstm.fast_tokenize import WordLevelIds
from sentilstm.text import normalize_uncollapsed
from sentilstm.tokenizer import FAST_IDS_MIN_TEXTS


@pytest.fixture(scope="module")
def default():
    return sentilstm.load()


def _rust(encoder, texts):
    return [e.ids for e in encoder.tokenizer.encode_batch(list(texts), add_special_tokens=False)]


def test_same_ids_on_every_training_and_dev_tweet(default, train_data, dev_data):
    enc = default.encoder
    fast = WordLevelIds.of(enc.tokenizer)
    assert fast is not None  # the shipped model is word-level: the fast path applies
    for data in (train_data, dev_data):
        norm = enc.normalize(data.texts)
        assert fast(norm) == _rust(enc, norm)
        # and what the raw texts give (non-ASCII ones go to encode_batch; tags inside words)
        assert fast(data.texts) == _rust(enc, data.texts)
        # the path the encoder takes: the normaliser's output before its last step
        assert fast.uncollapsed([normalize_uncollapsed(t) for t in data.texts]) == _rust(enc, norm)


@pytest.mark.parametrize("text", [
    "", " ", "<url>", "<<url>>", "a<user>b", "<url<url>", "<hashtag> happy", "[UNK] [PAD] [unk]",
    "x\x1cy\x1dz", "a\x1e<url>\x1fb", "x\u2028y\x85z\u00a0w", "tab\tnew\nline\x0bvt\x0cff\rcr", "a\x00b", "$5+5=10^2 ~ `q` | {x} \\ _y_",
    "don't...stop!!!", "ünïcödé 😀 and—dash", "l'été, «quoi» ?", "'''", "<allcaps> HATE <elong>",
    "<3 <surprise <sad>> <<<smile>", "[[UNK]]x[PAD", "<URL> <Url>", "<", "<<", "[", "a<b", "x>y<z",
])
def test_same_ids_on_edge_cases(default, text):
    fast = WordLevelIds.of(default.encoder.tokenizer)
    assert fast([text]) == _rust(default.encoder, [text])
    collapsed = " ".join(text.split()).lower()  # what normalize() makes of an uncollapsed text
    assert fast.uncollapsed([text]) == _rust(default.encoder, [collapsed])
    assert fast.uncollapsed([text.upper()]) == _rust(default.encoder, [" ".join(text.upper().split()).lower()])


def test_encoder_uses_it_for_batches_only_and_gives_the_same_ids(default, dev_data):
    enc = sentilstm.load().encoder
    few = dev_data.texts[: FAST_IDS_MIN_TEXTS - 1]
    enc.encode(few)
    assert "_fast_ids" not in enc.__dict__  # `predict "one text"` never builds it
    many = dev_data.texts[:500]
    assert enc.encode(many) == [e.ids[: enc.max_length] or [1] for e in
                                enc.tokenizer.encode_batch(enc.normalize(many), add_special_tokens=False)]
    assert isinstance(enc.__dict__["_fast_ids"], WordLevelIds)


def test_other_tokenizers_keep_the_rust_path(train_data):
    from sentilstm.config import TokenizerConfig
    from sentilstm.tokenizer import TextEncoder

    enc = TextEncoder.train(train_data.texts[:300], TokenizerConfig(model="wordpiece", vocab_size=300))
    assert WordLevelIds.of(enc.tokenizer) is None
    texts = train_data.texts[:200]
    assert enc.encode(texts) == [e.ids[: enc.max_length] or [1] for e in
                                 enc.tokenizer.encode_batch(enc.normalize(texts), add_special_tokens=False)]
