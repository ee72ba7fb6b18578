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
