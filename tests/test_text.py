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
        ("😂😂fun", "<emoji> tears joy <emoji> tears joy fun"),
        ("new movie today 😍", "new movie today <emoji> smiling heart shaped eyes"),
        ("so 😡", "so <emoji> pouting"),
        ("I ❤️ it 👍🏽", "i <emoji> heart it <emoji> thumbs up"),
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


def test_emoji_become_tag_and_name_words():
    """Every emoji of the emoji-prediction task (none occurs in SemEval training) reads as words."""
    from sentilstm.text import emoji_words

    for ch in "❤😍😂💕🔥😊😎✨💙😘📷🇺🇸☀💜😉💯😁🎄📸😜😭😡😒🙏":
        out = normalize(f"a {ch} b")
        assert out.startswith("a <emoji> ") and out.endswith(" b"), out
        assert ch not in out and len(out.split()) >= 4
    assert emoji_words("\U0001f3fd") == " "  # skin-tone modifier dropped
    assert normalize("\U0001faf8 x") == "\U0001faf8 x" or normalize("\U0001faf8 x").startswith("<emoji>")
    assert "black" not in normalize("❤") and "face" not in normalize("😡")


def test_emoji_unseen_in_training_tokenize_to_known_words(train_data):
    """A word-level tokenizer trained on SemEval train (no emoji there) plus GloVe's frequent words
    (the default recipe) knows every name word of 😍 and 😡, so they get pretrained vectors."""
    from sentilstm.config import TokenizerConfig
    from sentilstm.tokenizer import TextEncoder

    assert not any("😍" in t or "😡" in t for t in train_data.texts)
    enc = TextEncoder.train(train_data.texts[:20000], TokenizerConfig(model="wordlevel", vocab_size=20000,
                                                                       extra_vocab="glove-6b-50d:40000"))
    for text, words in (("😍", ["<emoji>", "smiling", "heart", "shaped", "eyes"]), ("😡", ["<emoji>", "pouting"])):
        assert enc.tokens(text) == words


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


# The plain forms of patterns that text.py writes differently for speed (and _reference_emoticon).
_REFERENCE_NUMBER = r"(?<![\w<])[-+]?\d+(?:[.,:/]\d+)*(?:st|nd|rd|th|s|am|pm|k|m)?\b"
_REFERENCE_ALLCAPS = r"(?<![\w<])([A-Z][A-Z']{2,})(?![\w>])"
_REFERENCE_ELONG = r"([a-zA-Z])\1{2,}"


def _reference_emoticon() -> str:
    from sentilstm import text as T

    return r"(?<![\w])(?:" + "|".join(f"(?P<g{i}>{pat})" for i, (_, pat) in enumerate(T._EMOTICONS)) + ")"


def _unguarded_normalize(text: str) -> str:
    """The normaliser's steps run unconditionally: the reference its fast paths must equal."""
    import html
    import unicodedata

    from sentilstm import text as T

    t = html.unescape(html.unescape(text)) if "&" in text else text
    t = unicodedata.normalize("NFKC", t).translate(T._QUOTES)
    t = T._URL.sub(" <url> ", t)
    t = T._USER.sub(" <user> ", t)
    t = T._HASHTAG.sub(r" <hashtag> \1 ", t)  # a template: text.py's function must give the same
    t = re.sub(_reference_emoticon(), T._emoticon_sub, t)
    t = re.sub(_REFERENCE_NUMBER, " <number> ", t, flags=re.I)
    t = T._EMOJI.sub(T._emoji_sub, T._VARIATION.sub("", t))
    t = re.sub(_REFERENCE_ALLCAPS, r"<allcaps> \1", t)
    t = re.sub(_REFERENCE_ELONG, T._elong_sub, t)
    t = T._MARK_WORD.sub(r"\1\2 <elong> ", t)
    t = T._ELONG_PUNCT.sub(r"\1\1\1", t)
    return re.sub(r"\s+", " ", t).strip().lower()


def test_fast_paths_equal_the_unguarded_pipeline(train_data, dev_data):
    """Skipping steps whose trigger is absent, and the patterns written for speed (emoticons, numbers,
    capitals, elongations, replacement functions), must not change output: every real tweet, plus
    random strings over the characters the steps react to."""
    import random

    from sentilstm import text as T

    texts = list(train_data.texts) + list(dev_data.texts)
    alphabet = list("aAxXtTlLhHrRoOdDpPbBQ8 _-+'^<>3:;=()[]{}|/.,!?#@&0123456789wWeEmMfFþ"
                    "\x00\t\n\u00a0\u2019😂❤\ufe0f\u200d")
    rnd = random.Random(0)
    texts += ["".join(rnd.choices(alphabet, k=rnd.randint(0, 40))) for _ in range(40000)]
    texts += ["lol", "haha:)", "T_T", "www.x.com", "x.com/a", "&amp;lt;3", "ＷＷＷ.ｘ", "Ⅻ 12th", "a\x00b",
              "Www.x.org", "WWW.X.COM", "-5 +3 a-5 <-7 5-7", "I LOVE IT", "<ALLCAPS", "AAAH!", "SOOOO",
              ":):)lol", "((;", "(((:", "xD xd 8D", "lmfaooo roflmao", "hahah hehe", "T__T t_t", ":'((", "^__^",
              ")):", "(:", "<333", "#LOVE #loooove", "xoxo XO 800 x0"]
    mismatches = [t for t in texts if normalize(t) != _unguarded_normalize(t)]
    assert mismatches == []


def test_batch_equals_one_by_one(train_data, dev_data):
    """normalize_uncollapsed_batch skips the capitals/elongation regexes, and tries emoticons only at
    punctuation, where a NumPy scan of the raw texts says nothing else can match: the same output as
    one text at a time, on every real tweet and on random strings rich in what those steps react to
    and in what the steps before them replace (entities, URLs, users, hashtags: a replaced span
    changes what precedes or follows a character: "@bob:)", "xDhttp://x", "(8ABC", "T_TABC")."""
    import random

    from sentilstm.text import normalize_uncollapsed, normalize_uncollapsed_batch

    texts = list(train_data.texts) + list(dev_data.texts)
    rnd = random.Random(1)
    alphabet = list("aAbBxXtTlLoOdDhHeErRfFmMpP8_'^()[]{}|<>:;=/.#@&!?- \n0123") + [
        "&amp;", "&#65;", "http://t.co/", "www.", "x.com/", "@bob", "#tag", "lol", "haha", "hehe", "rofl", "lmao",
        "é", "😂", "ＡＢ"]
    texts += ["".join(rnd.choices(alphabet, k=rnd.randint(0, 30))) for _ in range(60000)]
    texts += ["", "A", "AB", "ABC", "A''", "x'AB", "<ABC", "aaa", "aAa", "(8ABC", "T_TABC", "#ABC", "@ABC ABC",
              "&#65;&#65;&#65;", "&amp;AAA", "ÉAAA", "AA\nA", "aa\na", "xxx\nXXX", "@bob:)", "@bobxD", "xDhttp://x",
              "#lol", "#xD", "a#lol", "http://x.co/a lol", "xD", "x", "8", "8-)", "x'p", "X^O", "T_T", "hah", "ro"]
    assert normalize_uncollapsed_batch(texts) == [normalize_uncollapsed(t) for t in texts]
    assert normalize_uncollapsed_batch([]) == []
    with pytest.raises(TypeError):
        normalize_uncollapsed_batch(["a", None])  # type: ignore[list-item]
