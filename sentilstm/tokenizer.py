"""Texts -> padded token-id batches, with a HuggingFace ``tokenizers`` subword model.

:class:`TextEncoder` owns the whole path: :func:`sentilstm.text.normalize`, the subword
tokenizer (trained on the training texts; ``[PAD]`` = 0, ``[UNK]`` = 1, the normaliser's tags
such as ``<url>`` kept whole), truncation, and length-bucketed padding.

Long texts: a text is cut to its first ``max_chars`` characters before normalisation (a cheap
bound on work for pathological inputs), then to its first ``max_length`` tokens.  A text that
normalises to nothing (empty, whitespace only) is encoded as the single token ``[UNK]`` so it
still gets a prediction rather than disappearing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

from sentilstm.config import TokenizerConfig
from sentilstm.text import SPECIAL_TAGS, emoji_name_words, normalize, normalize_uncollapsed_batch

__all__ = ["TextEncoder", "PAD_ID", "UNK_ID"]

PAD_TOKEN, UNK_TOKEN = "[PAD]", "[UNK]"
PAD_ID, UNK_ID = 0, 1


# Batches of at least this many texts take the fast word-level path (building it reads the
# tokenizer's JSON once, ~50 ms: not worth it for `predict "one text"`).
FAST_IDS_MIN_TEXTS = 64


class TextEncoder:
    """Normalise, tokenize, truncate and pad texts for the model."""

    def __init__(self, tokenizer: Tokenizer, max_length: int = 128) -> None:
        if tokenizer.token_to_id(PAD_TOKEN) != PAD_ID or tokenizer.token_to_id(UNK_TOKEN) != UNK_ID:
            raise ValueError("tokenizer must map [PAD] to id 0 and [UNK] to id 1")
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.max_chars = 50 * self.max_length

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Iterable[str], config: TokenizerConfig) -> "TextEncoder":
        """Train a tokenizer of kind ``config.model`` on (normalised) ``texts``.

        ``wordlevel`` keeps whole words (``vocab_size`` most frequent, at least ``min_frequency``
        times), optionally followed by ``config.extra_vocab`` pretrained words (see
        :meth:`_extra_words`); every other word is ``[UNK]``.

        Note: ``tokenizers``' trainers break frequency ties in hash-map order, so two trainings
        on the same texts can differ in a few rare vocabulary entries; everything downstream of
        the tokenizer is seeded and deterministic.
        """
        special = [PAD_TOKEN, UNK_TOKEN, *SPECIAL_TAGS]
        if config.model == "wordpiece":
            tok = Tokenizer(models.WordPiece(unk_token=UNK_TOKEN, max_input_chars_per_word=50))
            trainer = trainers.WordPieceTrainer(
                vocab_size=config.vocab_size, min_frequency=config.min_frequency, special_tokens=special
            )
            tok.decoder = decoders.WordPiece()
        elif config.model == "wordlevel":
            tok = Tokenizer(models.WordLevel(unk_token=UNK_TOKEN))
            trainer = trainers.WordLevelTrainer(
                vocab_size=config.vocab_size, min_frequency=config.min_frequency, special_tokens=special
            )
        else:
            tok = Tokenizer(models.BPE(unk_token=UNK_TOKEN, continuing_subword_prefix="##"))
            trainer = trainers.BpeTrainer(
                vocab_size=config.vocab_size, min_frequency=config.min_frequency, special_tokens=special,
                continuing_subword_prefix="##",
            )
            tok.decoder = decoders.WordPiece()
        # Words and punctuation runs become separate pre-tokens; the tags are special tokens,
        # matched before pre-tokenisation, so "<url>" stays one token.
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.add_special_tokens([AddedToken(t, normalized=False) for t in special])
        tok.train_from_iterator((normalize(t[: 50 * config.max_length]) for t in texts), trainer=trainer)
        if config.model == "wordpiece":
            # tokenizers numbers the learnt pieces in hash-map order, which varies between runs;
            # renumber them alphabetically (special tokens keep ids 0..k) so ids are canonical.
            vocab = tok.get_vocab(with_added_tokens=False)
            pieces = sorted(t for t in vocab if t not in special)
            tok.model = models.WordPiece(
                {**{t: i for i, t in enumerate(special)}, **{t: len(special) + i for i, t in enumerate(pieces)}},
                unk_token=UNK_TOKEN, max_input_chars_per_word=50,
            )
        elif config.model == "wordlevel":
            # Same canonical numbering: special tokens, then the learnt words alphabetically, then
            # any extra pretrained words in the pretrained vocabulary's (frequency) order.
            vocab = tok.get_vocab(with_added_tokens=False)
            words = sorted(t for t in vocab if t not in special)
            extra = cls._extra_words(config, tok.pre_tokenizer, set(special) | set(words))
            ordered = [*special, *words, *extra]
            tok.model = models.WordLevel({t: i for i, t in enumerate(ordered)}, unk_token=UNK_TOKEN)
        return cls(tok, max_length=config.max_length)

    @staticmethod
    def _extra_words(config: TokenizerConfig, pre_tokenizer: pre_tokenizers.PreTokenizer, known: set[str]) -> list[str]:
        """The ``config.extra_vocab`` words: the most frequent pretrained words not in ``known``,
        then the words of emoji names (:func:`sentilstm.text.emoji_name_words`) the pretrained
        vectors know, so that emoji read as their meaning even when no training text held one.

        Only words the pipeline can produce as one token are taken: ``normalize(w) == w`` (so no
        numbers, which become ``<number>``, and no capitals) and the pre-tokenizer keeps ``w`` whole.
        """
        source = config.extra_vocab_source()
        if source is None or config.model != "wordlevel":
            return []
        from sentilstm.pretrained import load_vectors

        name, count = source
        index, _ = load_vectors(name)
        extra: list[str] = []

        def usable(word: str) -> bool:
            if word in known or normalize(word) != word:
                return False
            pieces = pre_tokenizer.pre_tokenize_str(word)
            return len(pieces) == 1 and pieces[0][0] == word

        for word in sorted(index, key=index.__getitem__):  # rows are in corpus-frequency order
            if len(extra) >= count:
                break
            if usable(word):
                extra.append(word)
        taken = set(extra)
        extra += [w for w in emoji_name_words() if w in index and w not in taken and usable(w)]
        return extra

    @classmethod
    def from_str(cls, json_str: str, max_length: int = 128) -> "TextEncoder":
        return cls(Tokenizer.from_str(json_str), max_length=max_length)

    def to_str(self) -> str:
        return self.tokenizer.to_str()

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    # -- encoding -----------------------------------------------------------------------------
    def normalize(self, texts: Sequence[str]) -> list[str]:
        return [normalize(t[: self.max_chars]) for t in texts]

    def tokens(self, text: str) -> list[str]:
        """The subword tokens the model sees for ``text`` (for inspection and explanations)."""
        enc = self.tokenizer.encode(self.normalize([text])[0], add_special_tokens=False)
        return enc.tokens[: self.max_length] or [UNK_TOKEN]

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text: normalised, truncated to ``max_length``, never empty."""
        if len(texts) >= FAST_IDS_MIN_TEXTS:  # the same ids, faster (sentilstm/fast_tokenize.py)
            fast = self.__dict__.get("_fast_ids", False)
            if fast is False:
                from sentilstm.fast_tokenize import WordLevelIds

                fast = self.__dict__["_fast_ids"] = WordLevelIds.of(self.tokenizer)
            if fast is not None:
                chars = self.max_chars
                return [ids[: self.max_length] or [UNK_ID]
                        for ids in fast.uncollapsed(normalize_uncollapsed_batch([t[:chars] for t in texts]))]
        encs = self.tokenizer.encode_batch(self.normalize(texts), add_special_tokens=False)
        return [e.ids[: self.max_length] or [UNK_ID] for e in encs]

    @staticmethod
    def pad(seqs: Sequence[Sequence[int]], multiple: int = 8) -> np.ndarray:
        """Right-pad ``seqs`` with ``PAD_ID`` to the longest length, rounded up to ``multiple``.

        Rounding keeps the number of distinct batch shapes small (fewer graph retraces).
        """
        longest = max((len(s) for s in seqs), default=1)
        width = -(-longest // multiple) * multiple
        out = np.zeros((len(seqs), width), dtype=np.int32)
        for row, s in enumerate(seqs):
            out[row, : len(s)] = s
        return out

    @staticmethod
    def buckets(
        seqs: Sequence[Sequence[int]], batch_size: int, *, multiple: int = 8
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(indices, padded ids)`` batches of texts of similar length.

        Sorting by length means each batch is padded only to its own longest text; callers
        scatter results back with ``indices`` so the output keeps input order.
        """
        order = np.argsort([len(s) for s in seqs], kind="stable")
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            yield idx, TextEncoder.pad([seqs[i] for i in idx], multiple=multiple)
