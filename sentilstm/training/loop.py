"""The pieces every training run shares: batches, the dev monitor, epochs, class weights."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import keras
import numpy as np
from tqdm.auto import tqdm

from sentilstm.config import ClassifierConfig, ModelConfig
from sentilstm.labels import LABELS
from sentilstm.metrics import classification_scores, format_headline
from sentilstm.nn.model import build_model, set_weight_dict, weight_dict
from sentilstm.runtime.layout import member_prefixes, embedding_layer, member_weight_name
from sentilstm.tokenizer import PAD_ID, UNK_ID, TextEncoder

__all__ = ["TrainResult", "TrainingDiverged", "balanced_class_weights", "loss_ceiling", "set_seed"]


class TrainingDiverged(ArithmeticError):
    """The loss or a weight became NaN or infinite: training stops and nothing is saved."""


def _diverged(what: str, where: str, tc: Any) -> TrainingDiverged:
    lr = f" (learning rate {tc.learning_rate:g})" if tc is not None else ""
    return TrainingDiverged(f"training diverged: {what} {where}{lr}; stopped, nothing saved. "
                            f"Try a lower --learning-rate")


def check_finite_weights(weights: dict[str, np.ndarray], where: str, tc: Any = None) -> None:
    """Raise :class:`TrainingDiverged` if any weight is NaN or infinite."""
    for name, w in weights.items():
        if not np.isfinite(w).all():
            raise _diverged(f"weight {name} is not finite", where, tc)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend (and make TF ops deterministic where it can)."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def loss_ceiling(sample_weights: np.ndarray) -> float:
    """The largest batch loss sound training can report: Keras clips probabilities to
    ``[ε, 1 - ε]``, so a weighted cross-entropy (label smoothing included) averaged over a batch
    never exceeds ``max weight × -log ε`` (16.1 at ε = 1e-7).  A larger one means broken
    arithmetic (a learning rate of 1e30 reports losses of 1e30 with finite weights)."""
    weight = float(np.max(sample_weights)) if len(sample_weights) else 1.0
    return max(weight, 1.0) * -math.log(keras.backend.epsilon()) * 1.01


def balanced_class_weights(labels: np.ndarray) -> np.ndarray:
    """``n / (k * count_c)`` per class (scikit-learn's "balanced"): optimises balanced recall."""
    counts = np.bincount(labels, minlength=len(LABELS)).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (len(LABELS) * np.maximum(counts, 1)), 0.0)
    return weights.astype(np.float32)


class BucketedBatches:
    """Shuffled batches of similar-length sequences, re-drawn every epoch from a seeded RNG.

    Sequences are shuffled, cut into windows of 50 batches, sorted by length inside each window
    and split into batches; batch order is shuffled again.  Padding shrinks to a few tokens per
    batch while batches stay random.
    """

    def __init__(self, seqs: Sequence[Sequence[int]], labels: np.ndarray, sample_weights: np.ndarray,
                 batch_size: int, seed: int, token_dropout: float = 0.0) -> None:
        self.seqs, self.labels, self.sample_weights = seqs, labels, sample_weights
        self.batch_size = batch_size
        self.token_dropout = token_dropout
        self.rng = np.random.default_rng(seed)
        self.drop_rng = np.random.default_rng([seed, 1])  # own stream: batch plans do not depend on it
        self.lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        self._plan()

    def _plan(self) -> None:
        order = self.rng.permutation(len(self.seqs))
        window = self.batch_size * 50
        batches = []
        for start in range(0, len(order), window):
            chunk = order[start : start + window]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
        self.batches = [batches[i] for i in self.rng.permutation(len(batches))]

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = self.batches[i]
        x = TextEncoder.pad([self.seqs[j] for j in idx])
        if self.token_dropout > 0:  # word dropout: real tokens become [UNK], padding stays
            drop = (self.drop_rng.random(x.shape) < self.token_dropout) & (x != PAD_ID)
            x = np.where(drop, UNK_ID, x).astype(x.dtype)
        return x, self.labels[idx], self.sample_weights[idx]

    def on_epoch_end(self) -> None:
        self._plan()


def predict_keras(model: keras.Model, seqs: Sequence[Sequence[int]], batch_size: int = 256) -> np.ndarray:
    """Probabilities from the Keras model, batched by length, in input order."""
    out = np.zeros((len(seqs), len(LABELS)), dtype=np.float32)
    for idx, x in TextEncoder.buckets(seqs, batch_size):
        out[idx] = keras.ops.convert_to_numpy(model.predict_on_batch(x))
    return out


@dataclass
class TrainResult:
    weights: dict[str, np.ndarray]
    dev_metrics: dict[str, Any]
    best_epoch: int
    history: list[dict[str, Any]] = field(default_factory=list)
    train_time_s: float = 0.0
    members: list[dict[str, Any]] = field(default_factory=list)  # per-member dev figures (ensembles)


class DevMonitor:
    """After each dev check: dev metrics, keep the best weights by AvgRec, say when to stop.

    With ``keep_last`` the weights of the latest check are kept instead and training runs all its
    epochs: no checkpoint is chosen on dev, so the dev figures are not inflated by that choice.
    """

    def __init__(self, model: keras.Model, dev_seqs: Sequence[Sequence[int]], dev_labels: np.ndarray,
                 patience: int, epochs: int, out: TextIO | None, optimizer: Any = None,
                 keep_last: bool = False) -> None:
        self.model, self.dev_seqs, self.dev_labels = model, dev_seqs, dev_labels
        self.optimizer = optimizer
        self.patience, self.epochs, self.out = patience, epochs, out
        self.keep_last = keep_last
        self.tc: Any = None  # the TrainConfig, for error messages (set by run_epochs)
        self.best_avg_recall, self.best_epoch = -1.0, 0.0
        self.kept: tuple[float, dict[str, np.ndarray], dict[str, Any]] | None = None  # (epoch, weights, scores)
        self.history: list[dict[str, Any]] = []
        self.started = time.perf_counter()

    def check(self, epoch: float, loss: float) -> bool:
        """Evaluate after ``epoch`` epochs (fractional between epochs); True when training should stop.

        With an EMA optimizer, the dev pass (and the kept weights) use the averaged weights;
        training then continues from the raw ones.
        """
        raw = None
        if self.optimizer is not None and self.optimizer.use_ema:
            raw = weight_dict(self.model)
            self.optimizer.finalize_variable_values(self.model.trainable_variables)
        probs = predict_keras(self.model, self.dev_seqs)
        scores = classification_scores(self.dev_labels, probs.argmax(axis=1))
        improved = scores["avg_recall"] > self.best_avg_recall
        if improved:
            self.best_avg_recall, self.best_epoch = scores["avg_recall"], epoch
        if improved or self.keep_last:
            self.kept = (epoch, weight_dict(self.model), scores)
            check_finite_weights(self.kept[1], f"at the dev check after epoch {epoch:g}", self.tc)
        if raw is not None:
            set_weight_dict(self.model, raw)
        row = {"epoch": epoch, "loss": loss, "elapsed_s": round(time.perf_counter() - self.started, 1),
               **{k: scores[k] for k in ("avg_recall", "f1_pn", "macro_f1", "accuracy")}}
        self.history.append(row)
        if self.out is not None:
            mark = "  *best" if improved else ""
            print(f"epoch {epoch:g}/{self.epochs}  loss={loss:.4f}  dev {format_headline(scores)}"
                  f"  [{row['elapsed_s']:.0f}s]{mark}", file=self.out, flush=True)
        return not self.keep_last and epoch - self.best_epoch >= self.patience - 1e-9


def pack_members(config: ModelConfig, members: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The weights of an ensemble model from its members' single-model weights.

    A single model's ``bilstm_0/forward_lstm_0/cell/kernel`` becomes member k's
    ``mk_bilstm_0/forward_mk_lstm_0/cell/kernel`` (see :func:`sentilstm.runtime.layout.member_prefixes`).
    """
    if len(members) != config.ensemble:
        raise ValueError(f"{len(members)} members given for an ensemble of {config.ensemble}")
    packed = {
        member_weight_name(name, prefix): value
        for prefix, weights in zip(member_prefixes(config), members)
        for name, value in weights.items()
    }
    expected = {v.path for v in build_model(config).weights}
    if set(packed) != expected:
        raise ValueError(f"members do not pack into the ensemble: {sorted(set(packed) ^ expected)[:4]}")
    return packed


def init_pretrained_embeddings(model: keras.Model, encoder: TextEncoder, config: ClassifierConfig,
                               out: TextIO | None) -> None:
    """Set each member's embedding to ``config.model.pretrained_embeddings`` vectors (if any)."""
    name = config.model.pretrained_embeddings
    if not name:
        return
    from sentilstm.pretrained import init_embedding_matrix

    for k, prefix in enumerate(member_prefixes(config.model)):
        matrix, coverage = init_embedding_matrix(encoder.tokenizer.get_vocab(), config.model.embedding_dim, name,
                                                 seed=config.train.seed + k)
        model.get_layer(embedding_layer(prefix)).embeddings.assign(matrix)
    if out is not None:
        print(f"embedding: {name} vectors for {coverage:.0%} of the vocabulary", file=out, flush=True)


def run_epochs(batches: BucketedBatches, step: Callable[[np.ndarray, np.ndarray, np.ndarray], float],
               monitor: DevMonitor, tc: Any, out: TextIO | None, verbose: int,
               before_check: Callable[[], None] | None = None,
               decide: Callable[[bool], bool] | None = None,
               loss_ceiling: float | None = None) -> TrainResult:
    """The epoch loop: ``step`` each batch, dev checks ``tc.evals_per_epoch`` times per epoch, early stop.

    Our own loop rather than ``fit()``: batches have varying widths (length bucketing), which
    Keras's data adapters would pin to the first batches' shape.  ``before_check`` runs before
    each dev check and ``decide`` may overrule the stop decision (distributed training: the
    chief decides for all workers).  ``loss_ceiling``: the largest loss a sound run can report (see
    :func:`loss_ceiling`); above it, as for a NaN or infinite loss, training stops as diverged.
    """
    started = time.perf_counter()
    monitor.tc = tc
    for epoch in range(tc.epochs):
        bar = tqdm(range(len(batches)), desc=f"epoch {epoch + 1}/{tc.epochs}", unit="batch", leave=False,
                   file=out, disable=out is None or verbose != 1, dynamic_ncols=True)
        total, seen = 0.0, 0
        n = len(batches)
        checks = {round(n * k / tc.evals_per_epoch) - 1: k for k in range(1, tc.evals_per_epoch + 1)}
        stop = False
        for i in bar:
            x, y, w = batches[i]
            loss = step(x, y, w)
            if not math.isfinite(loss) or (loss_ceiling is not None and loss > loss_ceiling):
                bar.close()
                above = "" if not math.isfinite(loss) else f", above the {loss_ceiling:.4g} a cross-entropy can reach"
                raise _diverged(f"the loss is {loss:.4g}{above}", f"in epoch {epoch + 1}, batch {i + 1}/{n}", tc)
            total += loss * len(x)
            seen += len(x)
            if i % 20 == 0:
                bar.set_postfix(loss=f"{total / seen:.4f}", refresh=False)
            if i in checks:  # dev evaluation, several times per epoch if evals_per_epoch > 1
                if before_check is not None:
                    before_check()
                stop = monitor.check(round(epoch + checks[i] / tc.evals_per_epoch, 3), total / max(seen, 1))
                if decide is not None:
                    stop = decide(stop)
                if stop:
                    break
        bar.close()
        batches.on_epoch_end()
        if stop:
            break
    assert monitor.kept is not None, "no dev check ran"
    best_epoch, weights, scores = monitor.kept
    return TrainResult(weights=weights, dev_metrics=scores, best_epoch=best_epoch, history=monitor.history,
                       train_time_s=time.perf_counter() - started)
