"""Configuration dataclasses, serialised to JSON inside every bundle.

They import nothing heavy, so the light inference path (and ``sentilstm --help``) can read a
bundle's configuration without loading Keras or TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["TokenizerConfig", "ModelConfig", "TrainConfig", "ClassifierConfig", "POOLINGS"]

POOLINGS = ("max", "mean", "attention")

T = TypeVar("T")


def _from_dict(cls: type[T], data: dict[str, Any], where: str) -> T:
    """Build dataclass ``cls`` from ``data``, naming unknown keys instead of a bare TypeError."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    return cls(**data)


@dataclass
class TokenizerConfig:
    """How texts become token ids."""

    # Defaults: the shipped recipe for training from scratch (train.init = "scratch"); fine-tuning
    # an encoder takes the encoder's tokenizer instead (see sentilstm/pretrain.py)
    model: str = "wordlevel"  # "wordpiece", "bpe" or "wordlevel" (whole words, the rest [UNK])
    vocab_size: int = 30000  # entries learnt from the training texts
    min_frequency: int = 2
    max_length: int = 128  # tokens kept per text (the first ones); see tokenizer.py
    # wordlevel only (ignored by wordpiece and bpe): "glove-6b-50d:N" appends the N most frequent pretrained words not learnt from
    # the training texts, so unseen words get their pretrained vector rather than [UNK]
    extra_vocab: str | None = "glove-6b-50d:40000"

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


@dataclass
class ModelConfig:
    """Architecture: embedding -> (bi)LSTM layers over our cell -> pooling -> softmax."""

    embedding_dim: int = 50  # = the shipped encoder's (an encoder fixes the architecture)
    units: int = 128
    layers: int = 1
    bidirectional: bool = True
    pooling: tuple[str, ...] = ("max", "mean")  # concatenated; any of POOLINGS
    embedding_dropout: float = 0.25  # whole embedding dims dropped per text (SpatialDropout1D)
    dropout: float = 0.0  # cell input dropout
    recurrent_dropout: float = 0.0
    head_dropout: float = 0.3
    pretrained_embeddings: str | None = "glove-6b-50d"  # initial vectors (training only; with an encoder: its new words)
    ensemble: int = 1  # members (own seeds, own losses; see TrainConfig.ensemble_training); probabilities averaged
    vocab_size: int = 0  # filled in from the trained tokenizer

    def __post_init__(self) -> None:
        self.pooling = tuple(self.pooling)
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


CALIBRATIONS = ("auto", "temperature", "vector", "none")


@dataclass
class TrainConfig:
    """Optimisation: Adam, class weights, learning-rate schedule, which weights to keep.

    The defaults are the shipped default model's recipe (``benchmarks/RESULTS.md``): fine-tune the
    shipped encoder, embedding frozen for the first epoch, cosine decay over 6 epochs, the final
    weights kept.
    """

    # where the encoder (embedding + BiLSTM) starts: "default" (the pretrained encoder shipped in
    # the package), the path of an encoder bundle (`sentilstm pretrain`), or "scratch" (GloVe only)
    init: str = "default"
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 2e-3
    lr_schedule: str = "cosine"  # "constant", or "cosine"/"linear" decay to 0 over ``epochs`` epochs
    clipnorm: float = 1.0
    class_weight: str | None = "sqrt"  # "balanced", "sqrt" (square root of balanced) or None
    label_smoothing: float = 0.0
    token_dropout: float = 0.0  # word dropout: share of training tokens replaced by [UNK] in each batch
    patience: int = 2  # epochs without dev AvgRec improvement before stopping
    # "best": the checkpoint with the best dev AvgRec (early stopping); "last": the final weights
    # after all epochs (no choice made on dev; pairs with a decaying lr_schedule)
    keep: str = "last"
    evals_per_epoch: int = 4  # dev checks per epoch (the best checkpoint may fall mid-epoch)
    ensemble_training: str = "independent"  # ensembles: "independent" members (own seed, batches, stopping) or "joint"
    ema: float | None = None  # e.g. 0.999: evaluate and keep an exponential moving average of the weights
    # after each step the embedding moves this share of the way back to its initial vectors
    # (decoupled L2 towards the pretrained init, a soft form of freezing); local trainer only
    embedding_anchor: float = 0.0
    freeze_embedding_epochs: int = 1  # embedding kept fixed (e.g. at its GloVe init) for the first epochs; local trainer only
    seed: int = 13
    max_train_examples: int | None = None  # cap, for quick experiments
    strategy: str = "default"  # "default", "mirrored" (local devices) or "multi-worker" (TF_CONFIG); distributed.py
    # after training, fit on dev: "auto" (a temperature; vector scaling where it does better on
    # held-out halves of dev), "temperature", "vector" or "none"; calibration.py
    calibration: str = "auto"

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
        if self.freeze_embedding_epochs < 0:
            raise ValueError(f"train.freeze_embedding_epochs must be >= 0, got {self.freeze_embedding_epochs}")
        if self.epochs < 1 or self.batch_size < 1 or self.evals_per_epoch < 1:
            raise ValueError("train.epochs, train.batch_size and train.evals_per_epoch must be >= 1")


@dataclass
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
            tokenizer=_from_dict(TokenizerConfig, data.get("tokenizer", {}), f"{where}.tokenizer"),
            model=_from_dict(ModelConfig, data.get("model", {}), f"{where}.model"),
            train=_from_dict(TrainConfig, data.get("train", {}), f"{where}.train"),
        )

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
