"""Tweet-aware text normalisation.

One deterministic function, :func:`normalize`, turns raw social-media text into the form the
tokenizer is trained on and applied to.  What it does, in order, and why:

1. HTML entities are decoded (``&amp;`` -> ``&``): SemEval/Twitter dumps keep them escaped.
2. Unicode is NFKC-normalised and typographic quotes/dashes become ASCII, so ``I’m`` and
   ``I'm`` are one token.
3. URLs become ``<url>``, @mentions ``<user>``, numbers ``<number>``: their identity carries no
   sentiment, and keeping them would waste vocabulary.
4. Emoticons become tags (``:-)`` -> ``<smile>``, ``:(`` -> ``<sad>``, ``<3`` -> ``<heart>``):
   they are strong sentiment cues that a punctuation-splitting tokenizer would shred.
5. Emoji become the tag ``<emoji>`` followed by the words of their Unicode name, minus words
   that describe only the glyph (``😍`` -> ``<emoji> smiling heart shaped eyes``, ``😡`` ->
   ``<emoji> pouting``): the SemEval training tweets hold no emoji at all, so an emoji kept as
   itself would be ``[UNK]``, while its name's words carry pretrained meaning (as VADER uses
   emoji descriptions).  Skin-tone modifiers are dropped; characters without a Unicode name
   (emoji newer than this Python's Unicode database) are kept, spaced apart.
6. Hashtags keep their word (``#happy`` -> ``<hashtag> happy``) so the word shares its
   embedding with the plain word.
7. Elongations are shortened (``soooo`` -> ``soo``, ``!!!!!`` -> ``!!!``) and marked with
   ``<elong>``; words in capitals (``HATE``) are marked ``<allcaps>``; then everything is
   lower-cased.
8. Whitespace is collapsed.

All regular expressions are linear-time, so a 100,000-character input normalises in
milliseconds.
"""

from __future__ import annotations

import functools
import html
import re
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["normalize", "normalize_uncollapsed", "normalize_uncollapsed_batch", "SPECIAL_TAGS", "NORMALIZER_VERSION"]

#: Bump when :func:`normalize` changes output; stored in every bundle's config.
NORMALIZER_VERSION = 2

#: Tags :func:`normalize` may emit; the tokenizer keeps each as one token.
SPECIAL_TAGS = (
    "<url>",
    "<user>",
    "<number>",
    "<hashtag>",
    "<elong>",
    "<allcaps>",
    "<smile>",
    "<laugh>",
    "<wink>",
    "<sad>",
    "<heart>",
    "<tong>",
    "<surprise>",
    "<emoji>",
)

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|org|net|ly|co|io)/\S*", re.I)
_USER = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#(\w+)")
# A number: an optional sign, digits, more digit groups after . , : or /, an optional suffix; not
# after a word character or "<".  Written to start with a character class ([-+\d], the lookbehind
# checked once that character is consumed) so the regex engine scans for it in C; equal to
# (?<![\w<])[-+]?\d+... (tests/test_text.py checks every tweet against that form).
_NUMBER = re.compile(r"[-+\d](?<![\w<].)(?:(?<=[-+])\d+|(?<=\d)\d*)(?:[.,:/]\d+)*(?:st|nd|rd|th|s|am|pm|k|m)?\b",
                     re.I)

# Emoticons, western style, with optional nose; the order of the alternatives matters.
_EYES = r"[:=;8xX]"
_NOSE = r"[-o^']?"
_EMOTICONS = [
    ("<heart>", r"<3+"),
    ("<laugh>", rf"(?<!\w){_EYES}{_NOSE}[dD]+(?!\w)|\b(?:lo+l+|lmf?a+o+|ha(?:ha)+h?|he(?:he)+|rofl)\b"),
    ("<wink>", rf";{_NOSE}[)\]dD]+|\(+{_NOSE};"),
    ("<smile>", rf"{_EYES}{_NOSE}[)\]}}]+|\(+{_NOSE}{_EYES}|\^_*\^|\(:"),
    ("<sad>", rf"{_EYES}{_NOSE}[(\[{{|]+|\)+{_NOSE}{_EYES}|:'\(+|[tT]_+[tT]"),
    ("<tong>", rf"(?<!\w){_EYES}{_NOSE}[pPbþ]+(?!\w)"),
    ("<surprise>", rf"(?<!\w){_EYES}{_NOSE}[oO0]+(?!\w)"),
]
# The same alternatives with their first character already consumed, each first character checked
# by a lookbehind instead ("<3+" -> "(?<=<)3+", "\(+" -> "(?<=\()\(*", "\b" before a letter is
# the "(?<!\w.)" below).  Speed only: a pattern that starts with a character class lets the regex
# engine scan for that class in C and try the alternation only where a match can start (``<``, the
# eyes, ``;``, the brackets, ``^``, ``t``/``T``, the first letters of the laugh words).  Equal to
# (?<![\w])(?:alternatives of _EMOTICONS) (tests/test_text.py checks every tweet against that form).
_EMOTICONS_AFTER_FIRST = [
    r"(?<=<)3+",
    rf"(?<={_EYES}){_NOSE}[dD]+(?!\w)|(?<=l)(?:o+l+|mf?a+o+)\b|(?<=h)(?:a(?:ha)+h?|e(?:he)+)\b|(?<=r)ofl\b",
    rf"(?<=;){_NOSE}[)\]dD]+|(?<=\()\(*{_NOSE};",
    rf"(?<={_EYES}){_NOSE}[)\]}}]+|(?<=\()\(*{_NOSE}{_EYES}|(?<=\^)_*\^|(?<=\():",
    rf"(?<={_EYES}){_NOSE}[(\[{{|]+|(?<=\))\)*{_NOSE}{_EYES}|(?<=:)'\(+|(?<=[tT])_+[tT]",
    rf"(?<={_EYES}){_NOSE}[pPbþ]+(?!\w)",
    rf"(?<={_EYES}){_NOSE}[oO0]+(?!\w)",
]
# first character, then "not after a word character" (the consumed character is the "."; at the
# text's start the lookbehind has no room and succeeds, as (?<![\w]) does there)
_EMOTICON = re.compile(r"[<:=;8xX(^)tTlhr](?<!\w.)(?:"
                       + "|".join(f"(?P<g{i}>{pat})" for i, pat in enumerate(_EMOTICONS_AFTER_FIRST)) + ")")
_EMOTICON_TAGS = [tag for tag, _ in _EMOTICONS]

# Emoji and pictographs (incl. skin-tone modifiers and regional indicators).
_EMOJI = re.compile(
    "([\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b50\u2b55\u2764\u203c\u2049])"
)
# Words of emoji names that describe the glyph, not its meaning ("heavy black heart" -> "heart").
_EMOJI_NAME_STOP = frozenset(
    "with of and the a an sign symbol face heavy black white large small medium emoji variant".split()
)


@functools.lru_cache(maxsize=8192)
def emoji_words(char: str) -> str:
    """The replacement of one emoji character: ``" <emoji> word word "`` (see step 5 above)."""
    try:
        name = unicodedata.name(char)
    except ValueError:  # unassigned in this Python's Unicode database: keep it, spaced
        return f" {char} "
    if name.startswith("EMOJI MODIFIER"):  # skin tones: no meaning of their own
        return " "
    if name.startswith("REGIONAL INDICATOR"):  # a flag is two of them; the letters mean nothing
        return " <emoji> flag "
    words = [w for w in re.split(r"[\s-]+", name.lower()) if w and w not in _EMOJI_NAME_STOP]
    return f" <emoji> {' '.join(words)} " if words else " <emoji> "


@functools.lru_cache(maxsize=1)
def emoji_name_words() -> tuple[str, ...]:
    """Every word :func:`emoji_words` can emit (sorted): a tokenizer with pretrained extra words
    adds these, so an emoji no training text showed still maps to known words."""
    ranges = [(0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x1F1E6, 0x1F1FF)]
    chars = [chr(c) for lo, hi in ranges for c in range(lo, hi + 1)] + list("\u2b50\u2b55\u2764\u203c\u2049")
    words = {w for ch in chars if _EMOJI.fullmatch(ch) for w in emoji_words(ch).split()}
    return tuple(sorted(w for w in words if not w.startswith("<")))


def _emoji_sub(m: re.Match[str]) -> str:
    return emoji_words(m.group(1))


_VARIATION = re.compile("[\ufe0e\ufe0f\u200d]")
_ELONG_LETTERS = re.compile(r"([a-zA-Z])\1\1+")  # three or more of a letter (faster than \1{2,} in re)
_ELONG_PUNCT = re.compile(r"([!?.])\1{3,}")
# A word in capitals not after a word character or "<": the first capital comes first (so the engine
# scans for [A-Z] in C), the lookbehind is checked after it; equal to (?<![\w<])([A-Z][A-Z']{2,})(?![\w>]).
_ALLCAPS = re.compile(r"([A-Z](?<![\w<][A-Z])[A-Z']{2,})(?![\w>])")
_DIGIT = re.compile(r"\d")


def _emoticon_sub(m: re.Match[str]) -> str:
    return f" {_EMOTICON_TAGS[int(m.lastgroup[1:])]} "  # type: ignore[index]


# Replacements as functions, not templates (r"<allcaps> \1"): re.sub hands a template with a
# backslash to Python code (re._subx) on every call, even one that finds nothing; speed only.
def _allcaps_sub(m: re.Match[str]) -> str:
    return "<allcaps> " + m.group(1)


def _hashtag_sub(m: re.Match[str]) -> str:
    return " <hashtag> " + m.group(1) + " "


def _elong_sub(m: re.Match[str]) -> str:
    return m.group(1) * 2 + "\x00"  # marker placed after the word, see below


_MARK_WORD = re.compile(r"(\w*)\x00(\w*)")


def normalize(text: str) -> str:
    """Return the normalised form of one text (see the module docstring for the steps).

    >>> normalize("@bob I LOOOVE it!!!! :) http://t.co/x #happy")
    '<user> i <allcaps> loove <elong> it!!! <smile> <url> <hashtag> happy'
    """
    return " ".join(normalize_uncollapsed(text).split()).lower()  # str.split() splits on exactly \s


def normalize_uncollapsed(text: str) -> str:
    """:func:`normalize` without its last step (whitespace collapsed, lower-cased): for a tokenizer
    that splits on every whitespace character and lower-cases itself, the same tokens, without
    building the collapsed string (``sentilstm.fast_tokenize``)."""
    return _uncollapsed(text)


def normalize_uncollapsed_batch(texts: Sequence[str]) -> list[str]:
    """``[normalize_uncollapsed(t) for t in texts]``, faster on many texts: where one NumPy scan of
    all of them shows that a regex can't match in a text, that text skips it (capitals, elongated
    letters) or runs a cheaper form (emoticons that can't start with a letter or digit)."""
    return [_uncollapsed(t, *steps) for t, steps in zip(texts, _possible_steps(texts))]


# One byte's classes, as bits, for _possible_steps (ASCII: \w is [A-Za-z0-9_] there); _NOT_WORD
# shifted right by 4 is _EMOTICON_FIRST, _CAPITAL_OR_QUOTE by 1 is _CAPITAL.
_EMOTICON_FIRST, _CAPITAL, _CAPITAL_OR_QUOTE, _LETTER, _NOT_WORD = 2, 4, 8, 16, 32
_CLASSES = bytes(
    (0 if chr(b).isalnum() or b == 95 else _NOT_WORD) | (_EMOTICON_FIRST if chr(b) in "xX8tTlhr" else 0)
    | (_CAPITAL | _CAPITAL_OR_QUOTE if chr(b).isupper() else 0) | (_CAPITAL_OR_QUOTE if b == 39 else 0)
    | (_LETTER if chr(b).isalpha() else 0) if b < 128 else _NOT_WORD for b in range(256))


def _byte_set(chars: str) -> np.ndarray:
    return np.isin(np.arange(256), np.frombuffer(chars.encode("ascii"), dtype=np.uint8))


_EYE_CHARS, _NOSE_CHARS, _AFTER_EYES = _byte_set("xX8"), _byte_set("-o^'"), _byte_set("dD)]}([{|pPboO0")
# _EMOTICON where no match starts with a letter or digit (its first-character class without them)
_EMOTICON_NOT_WORD = re.compile(_EMOTICON.pattern.replace("[<:=;8xX(^)tTlhr]", "[<:=;(^)]", 1))


def _possible_steps(texts: Sequence[str]) -> list[tuple[Any, bool, bool]]:
    """Per text: the emoticon regex to run, and whether :data:`_ALLCAPS` (a capital then two
    capitals or apostrophes) and :data:`_ELONG_LETTERS` (a letter three times) can match.

    An ASCII text without ``&`` reaches these steps changed only by replacements of whole spans
    with strings of spaces, ``<``, ``>`` and lower-case tag names without a tripled letter (a
    hashtag keeps its word, the text's own characters), and a replaced span is never followed by a
    word character (URLs run to whitespace, @user and #tag take every word character).  So a run
    of capitals and apostrophes, or of one letter, is then a piece of such a run in the text
    itself; and an emoticon that starts with a letter or digit starts, in the text itself, at a
    word's start with the characters its pattern begins with: "x"/"X"/"8" then an optional nose
    and a mouth, "t_"/"T_", "lo", "lm", "hah", "heh", "rofl".  Texts without these skip the step
    (or, for emoticons, try only the other first characters).  Other texts (entities decoded,
    NFKC, emoji names) run every step.
    """
    n = len(texts)
    emoticon, capitals, triples = np.ones(n, dtype=bool), np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    plain = np.array([i for i, t in enumerate(texts) if isinstance(t, str) and t.isascii() and "&" not in t],
                     dtype=np.int64)
    if len(plain):
        chosen = [texts[i] for i in plain]
        # all of them in one byte array, "\n" between texts (in no run, never a word character,
        # so nothing found crosses it), and after the last so that a[i + 3] exists
        raw = ("\n".join(chosen) + "\n\n\n").encode("ascii")
        a = np.frombuffer(raw, dtype=np.uint8)
        c = np.frombuffer(raw.translate(_CLASSES), dtype=np.uint8)
        ends = np.cumsum(np.fromiter(map(len, chosen), dtype=np.int64, count=len(chosen)) + 1)
        starts = np.concatenate(([0], ends[:-1]))

        def texts_at(positions: np.ndarray) -> np.ndarray:  # the indices (into texts) of these positions
            return plain[np.searchsorted(starts, positions, side="right") - 1]

        # a capital, then two capitals or apostrophes (bit _CAPITAL_OR_QUOTE shifted onto _CAPITAL)
        caps_at = np.flatnonzero(c[:-2] & (c[1:-1] >> 1) & (c[2:] >> 1) & _CAPITAL)
        same = a[1:] == a[:-1]
        tri_at = np.flatnonzero(same[1:] & same[:-1])  # a[i] == a[i+1] == a[i+2] ...
        tri_at = tri_at[(c[tri_at] & _LETTER) != 0]  # ... a letter
        # a possible first character at a word's start (the previous byte not a word character)
        at = np.flatnonzero(c[1:] & (c[:-1] >> 4) & _EMOTICON_FIRST) + 1
        at = np.concatenate(([0], at)) if c[0] & _EMOTICON_FIRST else at
        at = at[at < len(a) - 3]
        a0, a1, a2, a3 = a[at], a[at + 1], a[at + 2], a[at + 3]
        emo_at = at[(_EYE_CHARS[a0] & (_AFTER_EYES[a1] | (_NOSE_CHARS[a1] & _AFTER_EYES[a2])))
                    | (((a0 == ord("t")) | (a0 == ord("T"))) & (a1 == ord("_")))
                    | ((a0 == ord("l")) & ((a1 == ord("o")) | (a1 == ord("m"))))
                    | ((a0 == ord("h")) & ((a1 == ord("a")) | (a1 == ord("e"))) & (a2 == ord("h")))
                    | ((a0 == ord("r")) & (a1 == ord("o")) & (a2 == ord("f")) & (a3 == ord("l")))]
        emoticon[plain] = capitals[plain] = triples[plain] = False
        emoticon[texts_at(emo_at)] = True
        capitals[texts_at(caps_at)] = True
        triples[texts_at(tri_at)] = True
    patterns = (_EMOTICON_NOT_WORD, _EMOTICON)
    return [(patterns[e], cap, tri) for e, cap, tri in zip(emoticon.tolist(), capitals.tolist(), triples.tolist())]


def _uncollapsed(text: str, emoticon: Any = _EMOTICON, capitals: bool = True, triples: bool = True) -> str:
    """:func:`normalize_uncollapsed`, with the emoticon regex to use and ``capitals``/``triples``
    False to skip a step that can't match (:func:`_possible_steps`)."""
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    # Each step runs only when its trigger can be present (speed only; the output is the same,
    # checked against the unguarded pipeline in tests/test_text.py).
    t = html.unescape(html.unescape(text)) if "&" in text else text
    ascii_only = t.isascii()
    if not ascii_only:  # NFKC and the quote table change nothing in ASCII text
        t = unicodedata.normalize("NFKC", t).translate(_QUOTES)
    if "/" in t or (("w." in t or "W." in t) and "www." in t.lower()):  # every URL form has "/" or "www."
        t = _URL.sub(" <url> ", t)
    if "@" in t:
        t = _USER.sub(" <user> ", t)
    if "#" in t:
        t = _HASHTAG.sub(_hashtag_sub, t)
    t = emoticon.sub(_emoticon_sub, t)
    if _DIGIT.search(t):
        t = _NUMBER.sub(" <number> ", t)
    if not ascii_only:  # emoji and variation selectors are all non-ASCII
        t = _EMOJI.sub(_emoji_sub, _VARIATION.sub("", t))
    if capitals:
        t = _ALLCAPS.sub(_allcaps_sub, t)
    if triples:
        t = _ELONG_LETTERS.sub(_elong_sub, t)
    if "\x00" in t:
        t = _MARK_WORD.sub(r"\1\2 <elong> ", t)
    if "!!!!" in t or "????" in t or "...." in t:
        t = _ELONG_PUNCT.sub(r"\1\1\1", t)
    return t


Texts = str | Sequence[str] | Any  # see _as_texts


_EXPECTED = "a string, a list or tuple of strings, a NumPy array or pandas Series of strings, or a DataFrame " \
            "with a 'text' column"


def _surrogate_check(items: list[str], name: str) -> None:
    import re

    bad = re.compile("[\ud800-\udfff]")
    for i, t in enumerate(items):
        m = bad.search(t)
        if m:
            raise ValueError(f"{name}[{i}] holds a lone surrogate (\\u{ord(m.group()):04x}), which is not valid text")


def as_texts(texts: Texts, name: str = "texts") -> list[str]:
    """The texts of ``texts``: one string, a list or tuple of strings, a 1-d NumPy array or a pandas
    Series of strings, or a pandas DataFrame's ``text`` column; anything else is a TypeError."""
    if isinstance(texts, str):
        items = [texts]
    elif texts is None:
        raise TypeError(f"{name} is None; expected {_EXPECTED}")
    elif isinstance(texts, (list, tuple)):
        items = list(texts)
    elif isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise ValueError(f"{name} is a {texts.ndim}-d array of shape {texts.shape}; expected a 1-d array of strings")
        items = texts.tolist()
    elif "pandas" in sys.modules and isinstance(texts, sys.modules["pandas"].DataFrame):
        if "text" not in texts.columns:
            raise ValueError(f"{name} is a DataFrame without a 'text' column (columns: "
                             f"{', '.join(map(str, texts.columns)) or 'none'}); pass df[COLUMN] for another column")
        items = texts["text"].tolist()
    elif "pandas" in sys.modules and isinstance(texts, sys.modules["pandas"].Series):
        items = texts.tolist()
    else:
        kind = type(texts).__name__
        if isinstance(texts, (bytes, bytearray, memoryview)):
            raise TypeError(f"{name} is {kind}; expected {_EXPECTED} (decode bytes first: data.decode('utf-8'))")
        raise TypeError(f"{name} is {kind}; expected {_EXPECTED}")
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] is {type(t).__name__} ({t!r:.40}); expected a string")
    _surrogate_check(items, name)
    return items
