"""A faster path to the token ids of a word-level tokenizer, equal to ``tokenizers``' own.

``Tokenizer.encode_batch`` costs about 40 µs per tweet for a ``WordLevel`` model behind a
``BertPreTokenizer`` (measured on 2 cores: more than the normaliser, and a quarter of what the
BiLSTM itself costs), mostly building its ``Encoding`` objects.  For such a tokenizer (no
normalizer, no post-processor, no truncation or padding, plain added tokens) the ids of an
ASCII text are easy to get exactly in Python:

* added tokens (``[PAD]``, ``[UNK]``, the normaliser's tags) are found first, leftmost-longest,
  as ``tokenizers``' added vocabulary finds them (each starts with punctuation, so where one
  starts is always a piece boundary; otherwise this path is not used);
* ``BertPreTokenizer`` splits the rest on whitespace (Rust's ``char::is_whitespace``: in ASCII
  tab, LF, VT, FF, CR, space — not Python's ``\\s``, which adds ``\\x1c``-``\\x1f``) and isolates
  each punctuation character (``is_ascii_punctuation``, i.e. ``string.punctuation``);
* ``WordLevel`` looks each piece up, ``[UNK]`` when absent.

One regex ``findall`` and one dict lookup per piece: about 14 µs per tweet.
:meth:`WordLevelIds.uncollapsed` takes the normaliser's output before its last step
(:func:`sentilstm.text.normalize_uncollapsed`): it splits on every whitespace character of
Python's ``str.split`` and lower-cases each text itself, which gives the pieces of the collapsed
text without building it.  Texts with any
non-ASCII character go to ``encode_batch`` (Unicode punctuation and whitespace tables are the
tokenizer's business), so the ids are always ``tokenizers``' own; tested equal on every
training and dev tweet.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["WordLevelIds"]

_RUST_ASCII_WHITESPACE = "\t\n\x0b\x0c\r "
_PYTHON_ASCII_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "


class _Vocab(dict):  # type: ignore[type-arg]
    """token -> id, [UNK]'s id for any other string."""

    def __init__(self, vocab: dict[str, int], unk: int) -> None:
        super().__init__(vocab)
        self.unk = unk

    def __missing__(self, key: str) -> int:
        return self.unk


class WordLevelIds:
    """``texts -> ids`` equal to ``tokenizer.encode_batch(texts, add_special_tokens=False)``'s ids."""

    def __init__(self, tokenizer: Any, vocab: dict[str, int], unk: int, added: list[str]) -> None:
        self.tokenizer = tokenizer
        self.vocab = _Vocab(vocab, unk)
        punct = re.escape(string.punctuation)
        tails: dict[str, list[str]] = {}  # the added tokens by first character, longest first
        for tag in sorted(added, key=len, reverse=True):
            tails.setdefault(tag[0], []).append(re.escape(tag[1:]))
        tags = "".join(f"|(?<={re.escape(first)})(?:{'|'.join(rest)})" for first, rest in tails.items())

        def pieces(whitespace: str) -> Any:
            # A piece is an added token, a run between whitespace/punctuation, or one punctuation
            # character.  Written as its first character (anything but whitespace), then what
            # follows given that character (checked by a lookbehind): a run's rest, an added
            # token's rest, or nothing.  Speed only: a pattern that starts with a character class
            # lets the regex engine skip whitespace in C; the same pieces as the plain
            # "<added>|[^punct ws]+|[punct]" (tests/test_fast_tokenize.py compares the ids).
            ws = re.escape(whitespace)
            return re.compile(f"[^{ws}](?:(?<=[^{punct}])[^{punct}{ws}]*{tags}|)").findall

        self._findall = pieces(_RUST_ASCII_WHITESPACE)
        self._findall_uncollapsed = pieces(_PYTHON_ASCII_WHITESPACE)  # str.split's separators in ASCII text

    @classmethod
    def of(cls, tokenizer: Any) -> "WordLevelIds | None":
        """The fast path for ``tokenizer`` (a ``tokenizers.Tokenizer``), or None where it does not apply."""
        spec = json.loads(tokenizer.to_str())
        model = spec.get("model") or {}
        if (model.get("type") != "WordLevel" or spec.get("normalizer") is not None
                or (spec.get("pre_tokenizer") or {}).get("type") != "BertPreTokenizer"
                or any(spec.get(k) is not None for k in ("post_processor", "truncation", "padding"))):
            return None
        vocab = dict(model["vocab"])
        added = []
        for tok in spec.get("added_tokens", []):
            content = tok["content"]
            # an added token that starts with punctuation starts where the regex looks (every
            # punctuation character is a piece of its own); other matching rules are not reproduced
            if (tok.get("single_word") or tok.get("lstrip") or tok.get("rstrip") or not content.isascii()
                    or not content or content[0] not in string.punctuation
                    or any(c in _RUST_ASCII_WHITESPACE for c in content)):
                return None
            vocab[content] = tok["id"]
            added.append(content)
        unk = model.get("unk_token")
        if unk not in vocab:
            return None
        return cls(tokenizer, vocab, vocab[unk], added)

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        lookup, findall = self.vocab.__getitem__, self._findall
        return _ascii_fast([list(map(lookup, findall(t))) if t.isascii() else None for t in texts], texts,
                           lambda rest: [e.ids for e in self.tokenizer.encode_batch(rest, add_special_tokens=False)])

    def uncollapsed(self, texts: Sequence[str]) -> list[list[int]]:
        """The ids of ``[" ".join(t.split()).lower() for t in texts]`` (what :func:`sentilstm.text.normalize`
        makes of :func:`sentilstm.text.normalize_uncollapsed`'s output), without building those strings."""
        lookup, findall = self.vocab.__getitem__, self._findall_uncollapsed
        return _ascii_fast([list(map(lookup, findall(t.lower()))) if t.isascii() else None for t in texts], texts,
                           lambda rest: self([" ".join(t.split()).lower() for t in rest]))


def _ascii_fast(out: list[list[int] | None], texts: Sequence[str],
                slow: Callable[[list[str]], list[list[int]]]) -> list[list[int]]:
    """``out`` (ids of the ASCII texts, None for the others) with the others' ids from ``slow``."""
    rest = [i for i, ids in enumerate(out) if ids is None]
    if rest:
        for i, ids in zip(rest, slow([texts[i] for i in rest])):
            out[i] = ids
    return out  # type: ignore[return-value]
