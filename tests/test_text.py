import re
import time

import pytest

from sentilstm.text import SPECIAL_TAGS, normalize


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Theo Walcott is still shit &amp; slow", "theo walcott is still shit & slow"),
        ("I’m going", "i'm going"),
        ("see http://t.co/c9PmolGw now", "see <url> now"),
        ("@HartHanson :( For what", "<user> <sad> for what"),
        ("Excited to head to #florida", "excited to head to <hashtag> florida"),
        ("sooooo good", "soo <elong> good"),
        ("I HATE it", "i <allcaps> hate it"),
        ("love it <3", "love it <heart>"),
        ("hit $3.39!!!!!", "hit $ <number> !!!"),
        ("😂😂fun", "😂 😂 fun"),
        ("  spaced\t\nout  ", "spaced out"),
    ],
)
def test_normalize_cases(raw, expected):
    assert normalize(raw) == expected


def test_normalize_real_tweets_deterministic_and_clean(train_data):
    texts = train_data.texts[:2000]
    first = [normalize(t) for t in texts]
    assert first == [normalize(t) for t in texts]
    joined = " ".join(first)
    assert not re.search(r"https?://|&amp;|&lt;|&gt;|@\w", joined)
    tags_used = {tag for tag in SPECIAL_TAGS if tag in joined}
    assert {"<url>", "<user>", "<hashtag>", "<smile>"} <= tags_used


def test_normalize_empty_and_type():
    assert normalize("") == ""
    assert normalize("   \n ") == ""
    with pytest.raises(TypeError):
        normalize(None)  # type: ignore[arg-type]


def test_normalize_long_input_is_linear():
    text = ("sooo good :) @x http://a.b/c #tag " * 3000)[:100_000]
    start = time.perf_counter()
    out = normalize(text)
    assert out.startswith("soo <elong> good <smile> <user> <url> <hashtag> tag")
    assert time.perf_counter() - start < 5  # generous: guards against catastrophic backtracking only


def _unguarded_normalize(text: str) -> str:
    """The normaliser's steps run unconditionally: the reference its fast paths must equal."""
    import html
    import unicodedata

    from sentilstm import text as T

    t = html.unescape(html.unescape(text)) if "&" in text else text
    t = unicodedata.normalize("NFKC", t).translate(T._QUOTES)
    t = T._URL.sub(" <url> ", t)
    t = T._USER.sub(" <user> ", t)
    t = T._HASHTAG.sub(r" <hashtag> \1 ", t)
    t = re.sub(T._EMOTICON.pattern.replace("(?=[<:=;8xX(^)tTlhr])", "", 1), T._emoticon_sub, t)
    t = T._NUMBER.sub(" <number> ", t)
    t = T._EMOJI.sub(r" \1 ", T._VARIATION.sub("", t))
    t = T._ALLCAPS.sub(r"<allcaps> \1", t)
    t = T._ELONG_LETTERS.sub(T._elong_sub, t)
    t = T._MARK_WORD.sub(r"\1\2 <elong> ", t)
    t = T._ELONG_PUNCT.sub(r"\1\1\1", t)
    return re.sub(r"\s+", " ", t).strip().lower()


def test_fast_paths_equal_the_unguarded_pipeline(train_data, dev_data):
    """Skipping steps whose trigger is absent (and the emoticon lookahead) must not change output:
    every real tweet, plus random strings over the characters the steps react to."""
    import random

    from sentilstm import text as T

    assert "(?=[<:=;8xX(^)tTlhr])" in T._EMOTICON.pattern  # the reference strips exactly this
    texts = list(train_data.texts) + list(dev_data.texts)
    alphabet = list("aAxXtTlLhHrRoOdDpP8 _-'^<>3:;=()[]{}|/.,!?#@&0123456789wW\x00\t\n\u00a0\u2019😂❤\ufe0f\u200d")
    rnd = random.Random(0)
    texts += ["".join(rnd.choices(alphabet, k=rnd.randint(0, 40))) for _ in range(20000)]
    texts += ["lol", "haha:)", "T_T", "www.x.com", "x.com/a", "&amp;lt;3", "ＷＷＷ.ｘ", "Ⅻ 12th", "a\x00b"]
    mismatches = [t for t in texts if normalize(t) != _unguarded_normalize(t)]
    assert mismatches == []
