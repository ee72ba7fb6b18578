"""Configuration dataclasses, serialised to JSON inside every bundle.

They import nothing heavy, so the light inference path (and ``sentilstm --help``) can read a
bundle's configuration without loading Keras or TensorFlow.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import types
from dataclasses import dataclass, field
from pathlib import Path
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["TokenizerConfig", "ModelConfig", "TrainConfig", "ClassifierConfig", "ConfigOption", "POOLINGS"]

POOLINGS = ("max", "mean", "attention")

T = TypeVar("T")


def section_from_dict(cls: type[T], data: dict[str, Any], where: str) -> T:
    """Build dataclass ``cls`` from ``data``, naming unknown keys instead of a bare TypeError."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    return cls(**data)


def _field(default: Any, help: str, choices: tuple[Any, ...] | None = None) -> Any:
    """A dataclass field whose help text (and allowed values) the CLI shows: help comes from code."""
    meta = {"help": help, **({"choices": choices} if choices else {})}
    if isinstance(default, (list, dict, set)):  # pragma: no cover - configs hold immutable values only
        raise TypeError("mutable default")
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class TokenizerConfig:
    """How texts become token ids."""

    # Defaults: the shipped recipe for training from scratch (train.init = "scratch"); fine-tuning
    # an encoder takes the encoder's tokenizer instead (see sentilstm/pretrain.py)
    model: str = _field("wordlevel", "Tokenizer model: wordpiece or bpe (subwords) or wordlevel "
                        "(whole words, the rest [UNK]); with --from scratch.", ("wordpiece", "bpe", "wordlevel"))
    vocab_size: int = _field(30000, "Vocabulary entries learnt from the training texts.")
    min_frequency: int = _field(2, "Fewest occurrences for a token to enter the vocabulary.")
    max_length: int = _field(128, "Tokens kept per text (the first ones).")
    extra_vocab: str | None = _field("glove-6b-50d:40000", "wordlevel only (ignored by subword models): "
                                     "'glove-6b-50d:N' appends the N most frequent pretrained words not learnt "
                                     "from the training texts, and the words of emoji names, so unseen words "
                                     "get their pretrained vector rather than [UNK].")

    def __post_init__(self) -> None:
        if self.model not in ("wordpiece", "bpe", "wordlevel"):
            raise ValueError(f"tokenizer.model must be wordpiece, bpe or wordlevel, got {self.model!r}")
        if self.extra_vocab is not None:  # used by wordlevel only (subword models cover rare words by pieces)
            self.extra_vocab_source()  # validates the format
        if self.vocab_size < 100:
            raise ValueError(f"tokenizer.vocab_size must be >= 100, got {self.vocab_size}")
        if self.max_length < 1:
            raise ValueError(f"tokenizer.max_length must be >= 1, got {self.max_length}")

    def extra_vocab_source(self) -> tuple[str, int] | None:
        """``extra_vocab`` as ``(pretrained name, count)``, or None."""
        if self.extra_vocab is None:
            return None
        name, _, count = str(self.extra_vocab).partition(":")
        if not name or not count.isdigit() or int(count) < 1:
            raise ValueError(f"tokenizer.extra_vocab must look like 'glove-6b-50d:40000', got {self.extra_vocab!r}")
        return name, int(count)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture: embedding -> (bi)LSTM layers over our cell -> pooling -> softmax."""

    embedding_dim: int = _field(50, "Embedding dimensions (50 with glove-6b-50d; an encoder fixes it).")
    units: int = _field(128, "LSTM units per direction.")
    layers: int = _field(1, "Stacked LSTM layers.")
    bidirectional: bool = _field(True, "A backward LSTM beside the forward one.")
    pooling: tuple[str, ...] = _field(("max", "mean"), "Poolings over time, concatenated: any of "
                                      + ", ".join(POOLINGS) + ".")
    embedding_dropout: float = _field(0.25, "Share of embedding dimensions dropped per text (SpatialDropout1D).")
    dropout: float = _field(0.0, "Cell input dropout.")
    recurrent_dropout: float = _field(0.0, "Cell recurrent dropout.")
    head_dropout: float = _field(0.3, "Dropout before the softmax layer.")
    pretrained_embeddings: str | None = _field("glove-6b-50d", "Initial embedding vectors, e.g. glove-6b-50d "
                                               "(training only; with an encoder: for the words appended to it).")
    ensemble: int = _field(1, "Members (own seeds, own losses; see train.ensemble_training); probabilities averaged.")
    vocab_size: int = _field(0, "Set from the trained tokenizer; not an option to choose.")

    def __post_init__(self) -> None:
        object.__setattr__(self, "pooling", tuple(self.pooling))
        bad = [p for p in self.pooling if p not in POOLINGS]
        if bad or not self.pooling:
            raise ValueError(f"model.pooling must be a non-empty subset of {POOLINGS}, got {self.pooling}")
        if self.layers < 1 or self.units < 1 or self.embedding_dim < 1 or self.ensemble < 1:
            raise ValueError("model.layers, model.units, model.embedding_dim and model.ensemble must be >= 1")

    @property
    def pooled_dim(self) -> int:
        return (2 if self.bidirectional else 1) * self.units * len(self.pooling)


LR_SCHEDULES = ("constant", "cosine", "linear")


def scheduled_lr(base: float, schedule: str, progress: float) -> float:
    """Learning rate at ``progress`` (0 = first step, 1 = end of the last epoch) under ``schedule``."""
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * progress))
    if schedule == "linear":
        return base * (1.0 - progress)
    return base


EMBEDDING_UPDATES = ("lazy", "dense")
CALIBRATIONS = ("auto", "temperature", "class_temperature", "vector", "none")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation: Adam, class weights, learning-rate schedule, which weights to keep.

    The defaults are the shipped recipe (``benchmarks/RESULTS.md``): fine-tune the shipped
    encoder, embedding frozen for the first epoch, cosine decay over 6 epochs, final weights kept.
    """

    init: str = _field("default", "Where the encoder (embedding + BiLSTM) starts: default (the pretrained encoder "
                       "shipped in the package), the path of an encoder bundle (sentilstm pretrain), or scratch "
                       "(GloVe only; any architecture).")
    epochs: int = _field(6, "Epochs (the maximum with keep best).")
    batch_size: int = _field(64, "Texts per batch (the global batch with a distribution strategy).")
    learning_rate: float = _field(4e-3, "Adam learning rate (fine-tuning the encoder gains from 4e-3 over 2e-3; "
                                  "benchmarks/RESULTS.md).")
    lr_schedule: str = _field("cosine", "constant, or cosine/linear decay to 0 over the epochs.", LR_SCHEDULES)
    clipnorm: float = _field(1.0, "Gradient norm clipping.")
    embedding_updates: str = _field("lazy", "lazy: Adam updates only the embedding rows of the batch's words (about "
                                    "1.16x faster steps; training/optimizer.py); dense: Keras's Adam rewrites every row "
                                    "each step (bundles trained before this option).", EMBEDDING_UPDATES)
    class_weight: str | None = _field("sqrt", "balanced, sqrt (square root of balanced) or null.",
                                      ("balanced", "sqrt", None))
    label_smoothing: float = _field(0.0, "Label smoothing of the cross-entropy loss.")
    token_dropout: float = _field(0.0, "Word dropout: share of training tokens replaced by [UNK] in each batch.")
    patience: int = _field(2, "Epochs without dev AvgRec improvement before stopping (keep best).")
    keep: str = _field("last", "best: the checkpoint with the best dev AvgRec (early stopping); last: the final "
                       "weights after all epochs (no choice made on dev; pairs with a decaying lr_schedule).",
                       ("best", "last"))
    evals_per_epoch: int = _field(4, "Dev checks per epoch (the best checkpoint may fall mid-epoch).")
    ensemble_training: str = _field("independent", "Ensembles: independent members (own seed, batches, stopping) "
                                    "or joint.", ("independent", "joint"))
    ema: float | None = _field(None, "e.g. 0.999: evaluate and keep an exponential moving average of the weights.")
    embedding_anchor: float = _field(0.0, "After each step the embedding moves this share of the way back to its "
                                     "initial vectors (soft freezing); local trainer only.")
    freeze_embedding_epochs: int = _field(1, "Epochs the embedding is kept fixed (e.g. at its GloVe init); "
                                          "local trainer only.")
    encoder_lr_scale: float = _field(1.0, "Discriminative learning rates (ULMFiT): the encoder (embedding + LSTM) "
                                     "learns at this multiple of the learning rate, the head at the full rate; "
                                     "local trainer only.")
    seed: int = _field(13, "Random seed.")
    max_train_examples: int | None = _field(None, "Use only the first N training rows (quick experiments).")
    strategy: str = _field("default", "tf.distribute: default (one device), mirrored (this machine's devices) or "
                           "multi-worker (the cluster in TF_CONFIG).", ("default", "mirrored", "multi-worker"))
    calibration: str = _field("auto", "After training, fitted on dev: auto (a temperature; a temperature per predicted "
                              "class or vector scaling where it does better on held-out halves of dev without "
                              "lowering AvgRec), temperature, class_temperature, vector or none; calibration.py.",
                              CALIBRATIONS)

    def __post_init__(self) -> None:
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"train.calibration must be one of {', '.join(CALIBRATIONS)}, got {self.calibration!r}")
        if self.strategy not in ("default", "mirrored", "multi-worker"):
            raise ValueError(f"train.strategy must be 'default', 'mirrored' or 'multi-worker', got {self.strategy!r}")
        if self.class_weight not in (None, "balanced", "sqrt"):
            raise ValueError(f"train.class_weight must be 'balanced', 'sqrt' or null, got {self.class_weight!r}")
        if self.ensemble_training not in ("independent", "joint"):
            raise ValueError(f"train.ensemble_training must be 'independent' or 'joint', got {self.ensemble_training!r}")
        if not 0.0 <= self.token_dropout < 1.0:
            raise ValueError(f"train.token_dropout must be in [0, 1), got {self.token_dropout}")
        if self.keep not in ("best", "last"):
            raise ValueError(f"train.keep must be 'best' or 'last', got {self.keep!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"train.lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if not 0.0 <= self.embedding_anchor < 1.0:
            raise ValueError(f"train.embedding_anchor must be in [0, 1), got {self.embedding_anchor}")
        if not isinstance(self.init, str) or not self.init:
            raise ValueError(f"train.init must be 'default', 'scratch' or an encoder bundle path, got {self.init!r}")
        if not 0.0 < self.encoder_lr_scale <= 10.0:
            raise ValueError(f"train.encoder_lr_scale must be in (0, 10], got {self.encoder_lr_scale}")
        if self.freeze_embedding_epochs < 0:
            raise ValueError(f"train.freeze_embedding_epochs must be >= 0, got {self.freeze_embedding_epochs}")
        if self.epochs < 1 or self.batch_size < 1 or self.evals_per_epoch < 1:
            raise ValueError("train.epochs, train.batch_size and train.evals_per_epoch must be >= 1")


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything needed to rebuild a classifier; stored as ``config.json`` in a bundle."""

    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["model"]["pooling"] = list(self.model.pooling)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> "ClassifierConfig":
        data = dict(data or {})
        unknown = sorted(set(data) - {"tokenizer", "model", "train"})
        if unknown:
            raise ValueError(f"{where}: unknown section(s) {', '.join(unknown)}; known: tokenizer, model, train")
        return cls(
            tokenizer=section_from_dict(TokenizerConfig, data.get("tokenizer", {}), f"{where}.tokenizer"),
            model=section_from_dict(ModelConfig, data.get("model", {}), f"{where}.model"),
            train=section_from_dict(TrainConfig, data.get("train", {}), f"{where}.train"),
        )

    # -- dotted keys ("train.epochs"), as spaCy's config overrides ---------------------------------
    @classmethod
    def options(cls) -> list["ConfigOption"]:
        """Every settable field as a :class:`ConfigOption` (dotted key, type, default, help), in order."""
        out = []
        for section in dataclasses.fields(cls):
            sub = section.default_factory  # type: ignore[misc]
            hints = typing.get_type_hints(sub)
            for f in dataclasses.fields(sub):
                out.append(ConfigOption(f"{section.name}.{f.name}", hints[f.name], f.default,
                                        f.metadata.get("help", ""), f.metadata.get("choices")))
        return out

    def get(self, key: str) -> Any:
        """The value of a dotted key, e.g. ``config.get("train.epochs")``."""
        section, name = _split_key(key)
        return getattr(getattr(self, section), name)

    def override(self, values: Mapping[str, Any]) -> "ClassifierConfig":
        """A NEW config with dotted keys replaced: ``cfg.override({"train.epochs": 1, "model.units": 64})``.

        ``self`` is never changed. An unknown key or a value of the wrong type is a ValueError
        naming the key; the new values are validated as in the constructor.
        """
        known = {o.key: o for o in self.options()}
        changes: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            if key not in known:
                near = difflib.get_close_matches(str(key), list(known), n=1)
                hint = f"; did you mean {near[0]}?" if near else "; keys look like train.epochs (see ClassifierConfig.options())"
                raise ValueError(f"unknown config key {key!r}{hint}")
            section, name = _split_key(key)
            changes.setdefault(section, {})[name] = known[key].check(value)
        try:
            return dataclasses.replace(self, **{sec: dataclasses.replace(getattr(self, sec), **kw)
                                                for sec, kw in changes.items()})
        except (ValueError, TypeError) as e:
            raise ValueError(f"{', '.join(values)}: {e}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> "ClassifierConfig":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"config file not found: {path}") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: line {e.lineno}: invalid JSON ({e.msg})") from None
        try:
            return cls.from_dict(data, where=str(path))
        except TypeError as e:
            raise ValueError(f"{path}: {e}") from None


def _split_key(key: str) -> tuple[str, str]:
    section, sep, name = str(key).partition(".")
    if not sep or section not in ("tokenizer", "model", "train") or "." in name:
        raise ValueError(f"config key {key!r} must look like SECTION.NAME with SECTION tokenizer, model or train")
    return section, name


@dataclass(frozen=True)
class ConfigOption:
    """One config field: dotted ``key``, Python ``type``, ``default``, ``help`` and allowed ``choices``."""

    key: str
    type: Any
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None

    @property
    def base(self) -> Any:
        """The type without ``| None``: int, float, bool, str or tuple."""
        args = [a for a in typing.get_args(self.type) if a is not type(None)]
        if typing.get_origin(self.type) in (typing.Union, types.UnionType) and len(args) == 1:
            return args[0]
        return typing.get_origin(self.type) or self.type

    @property
    def optional(self) -> bool:
        return type(None) in typing.get_args(self.type)

    def check(self, value: Any) -> Any:
        """``value`` if it has this field's type (an int is accepted for a float), else a ValueError naming the key."""
        base = self.base
        if value is None and self.optional:
            return None
        ok = (isinstance(value, bool) if base is bool
              else isinstance(value, (int, float)) and not isinstance(value, bool) if base is float
              else isinstance(value, int) and not isinstance(value, bool) if base is int
              else isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value) if base is tuple
              else isinstance(value, base))
        if not ok:
            want = {tuple: "a list of strings"}.get(base, getattr(base, "__name__", str(base)))
            raise ValueError(f"{self.key} must be {want}{' or null' if self.optional else ''}, "
                             f"got {type(value).__name__} {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{self.key} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        return float(value) if base is float else tuple(value) if base is tuple else value

    def parse(self, text: str) -> Any:
        """A value for this field from command-line text: JSON (1, 0.5, true, null, ["max"]) or a bare word;
        a comma-separated list for list fields."""
        if self.base is tuple and not text.lstrip().startswith("["):
            return self.check([p.strip() for p in text.split(",") if p.strip()])
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        if self.base is str and not isinstance(value, str) and not (value is None and self.optional):
            value = text  # e.g. a string field given "1"
        return self.check(value)
