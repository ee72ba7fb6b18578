"""Fit the Keras model: seeded, length-bucketed batches, class weights, early stopping on dev AvgRec.

The trainer is separate from the model (flair's split): it takes encoded sequences and a
:class:`~sentilstm.config.ClassifierConfig`, and returns the best weights (by dev AvgRec, the
metric we report) with a per-epoch history.
"""

from __future__ import annotations

import functools
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import keras
import numpy as np
from tqdm.auto import tqdm

from .config import ClassifierConfig, ModelConfig, scheduled_lr
from .labels import LABELS
from .metrics import classification_scores, format_headline
from .model import build_model, build_models, member_prefixes, set_weight_dict, weight_dict
from .tokenizer import PAD_ID, UNK_ID, TextEncoder

__all__ = ["TrainResult", "TrainingDiverged", "train_model", "balanced_class_weights", "set_seed"]


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


class _DevMonitor:
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


def train_model(
    encoder: TextEncoder,
    config: ClassifierConfig,
    train_seqs: Sequence[Sequence[int]],
    train_labels: np.ndarray,
    dev_seqs: Sequence[Sequence[int]],
    dev_labels: np.ndarray,
    verbose: int = 1,
    out: TextIO | None = sys.stderr,
    strategy: Any = None,
    init_weights: dict[str, np.ndarray] | None = None,
) -> TrainResult:
    """Train a fresh model on encoded sequences; return the weights of the best dev checkpoint.

    ``init_weights``: a pretrained encoder's weights (:mod:`sentilstm.pretrain`), loaded into the
    embedding and recurrent layers (of every ensemble member) before training; the head starts fresh.

    ``strategy``: a ``tf.distribute`` strategy from :func:`sentilstm.distributed.get_strategy`
    (each model is then trained by :func:`sentilstm.distributed.train_one`); None: one device.

    An ensemble (``model.ensemble > 1``) is trained as ``train.ensemble_training`` says:
    ``"independent"`` (default) trains the members one after another, each with its own seed,
    its own batch order and its own early stopping, then packs them into one model whose
    output is their mean; ``"joint"`` trains them side by side on shared batches.
    """
    if config.model.vocab_size != encoder.vocab_size:  # a new config; the caller's is never changed
        config = config.override({"model.vocab_size": encoder.vocab_size})
    members = config.model.ensemble
    train_one: Any = functools.partial(_train_one, init_weights=init_weights)
    if strategy is not None:
        from .distributed import train_one as train_distributed

        if init_weights is not None:
            raise ValueError(f"fine-tuning an encoder is not supported with strategy {config.train.strategy!r}; "
                             "train from scratch (--from scratch, train.init = \"scratch\") or use the default strategy")
        train_one = functools.partial(train_distributed, strategy)
    if members == 1 or config.train.ensemble_training == "joint":
        return train_one(encoder, config, train_seqs, train_labels, dev_seqs, dev_labels, verbose, out)
    started = time.perf_counter()
    results: list[TrainResult] = []
    for k in range(members):
        single = config.override({"model.ensemble": 1, "train.seed": config.train.seed + 1000 * k})
        if out is not None:
            print(f"ensemble member {k + 1}/{members} (seed {single.train.seed})", file=out, flush=True)
        results.append(train_one(encoder, single, train_seqs, train_labels, dev_seqs, dev_labels, verbose, out))
    weights = pack_members(config.model, [r.weights for r in results])
    model = build_model(config.model)
    set_weight_dict(model, weights)
    scores = classification_scores(dev_labels, predict_keras(model, dev_seqs).argmax(axis=1))
    if out is not None:
        print("ensemble of " + ", ".join(f"{r.dev_metrics['avg_recall']:.4f}" for r in results)
              + f" -> dev {format_headline(scores)}", file=out, flush=True)
    history = [{**row, "member": k} for k, r in enumerate(results) for row in r.history]
    return TrainResult(weights=weights, dev_metrics=scores, best_epoch=max(r.best_epoch for r in results),
                       history=history, train_time_s=time.perf_counter() - started,
                       members=[{"seed": config.train.seed + 1000 * k, "best_epoch": r.best_epoch,
                                 **{m: r.dev_metrics[m] for m in ("avg_recall", "f1_pn", "macro_f1", "accuracy")}}
                                for k, r in enumerate(results)])


def pack_members(config: ModelConfig, members: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The weights of an ensemble model from its members' single-model weights.

    A single model's ``bilstm_0/forward_lstm_0/cell/kernel`` becomes member k's
    ``mk_bilstm_0/forward_mk_lstm_0/cell/kernel`` (see :func:`sentilstm.model.member_prefixes`).
    """
    if len(members) != config.ensemble:
        raise ValueError(f"{len(members)} members given for an ensemble of {config.ensemble}")
    packed = {
        prefix + name.replace("ward_lstm_", f"ward_{prefix}lstm_"): value
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
    from .pretrained import init_embedding_matrix

    for k, prefix in enumerate(member_prefixes(config.model)):
        matrix, coverage = init_embedding_matrix(encoder.tokenizer.get_vocab(), config.model.embedding_dim, name,
                                                 seed=config.train.seed + k)
        model.get_layer(f"{prefix}embedding").embeddings.assign(matrix)
    if out is not None:
        print(f"embedding: {name} vectors for {coverage:.0%} of the vocabulary", file=out, flush=True)


def _train_one(
    encoder: TextEncoder,
    config: ClassifierConfig,
    train_seqs: Sequence[Sequence[int]],
    train_labels: np.ndarray,
    dev_seqs: Sequence[Sequence[int]],
    dev_labels: np.ndarray,
    verbose: int = 1,
    out: TextIO | None = sys.stderr,
    init_weights: dict[str, np.ndarray] | None = None,
) -> TrainResult:
    """Train one model (or a jointly trained ensemble); the kept checkpoint's weights."""
    tc = config.train
    set_seed(tc.seed)
    model, trainer = build_models(config.model, seed=tc.seed)
    init_pretrained_embeddings(model, encoder, config, out)
    if init_weights is not None:
        from .pretrain import load_encoder_weights

        load_encoder_weights(model, init_weights, config.model)
    loss: Any = keras.losses.SparseCategoricalCrossentropy()
    if tc.label_smoothing > 0:
        # Label smoothing needs one-hot targets; the batches carry ids, so smooth them here.
        def loss(y_true: Any, y_pred: Any) -> Any:
            onehot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), len(LABELS))
            return keras.losses.categorical_crossentropy(onehot, y_pred, label_smoothing=tc.label_smoothing)
    def new_optimizer() -> keras.optimizers.Optimizer:
        return keras.optimizers.Adam(tc.learning_rate, clipnorm=tc.clipnorm, use_ema=tc.ema is not None,
                                     ema_momentum=tc.ema or 0.99)

    def set_embedding_trainable(trainable: bool) -> None:
        for prefix in member_prefixes(config.model):
            model.get_layer(f"{prefix}embedding").trainable = trainable  # shared with ``trainer``

    optimizer = new_optimizer()
    members = config.model.ensemble
    losses = loss if members == 1 else [loss] * members
    if tc.freeze_embedding_epochs:
        set_embedding_trainable(False)
    trainer.compile(optimizer=optimizer, loss=losses)
    cw = np.ones(len(LABELS), np.float32)
    if tc.class_weight == "balanced":
        cw = balanced_class_weights(train_labels)
    elif tc.class_weight == "sqrt":  # a softer correction of the class imbalance
        cw = np.sqrt(balanced_class_weights(train_labels))
    batches = BucketedBatches(train_seqs, train_labels.astype(np.int32), cw[train_labels], tc.batch_size, tc.seed,
                              tc.token_dropout)
    monitor = _DevMonitor(model, dev_seqs, dev_labels, tc.patience, tc.epochs, out, optimizer=optimizer,
                          keep_last=tc.keep == "last")

    frozen_steps, steps = tc.freeze_embedding_epochs * len(batches), 0
    anchors = []
    if tc.embedding_anchor > 0:
        for prefix in member_prefixes(config.model):
            var = model.get_layer(f"{prefix}embedding").embeddings
            anchors.append((var, keras.ops.convert_to_tensor(keras.ops.convert_to_numpy(var))))
    total_steps = tc.epochs * len(batches)

    def step(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
        nonlocal steps
        if frozen_steps and steps == frozen_steps:
            # unfreeze: recompile (the train function captured the trainable variables) with a
            # fresh optimizer, built for the full variable list
            set_embedding_trainable(True)
            monitor.optimizer = new_optimizer()
            trainer.compile(optimizer=monitor.optimizer, loss=losses)
            if out is not None:
                print(f"embedding: trainable from step {steps}", file=out, flush=True)
        if tc.lr_schedule != "constant":
            monitor.optimizer.learning_rate = scheduled_lr(tc.learning_rate, tc.lr_schedule, steps / total_steps)
        steps += 1
        if members > 1:
            y, w = [y] * members, [w] * members
        # train_on_batch reports this batch's loss; run_epochs keeps the epoch's running mean
        loss_value = float(trainer.train_on_batch(x, y, sample_weight=w, return_dict=True)["loss"]) / members
        if anchors:  # pull the embedding back towards its initial (pretrained) vectors
            for var, init in anchors:
                var.assign(var - tc.embedding_anchor * (var - init))
        return loss_value

    return run_epochs(batches, step, monitor, tc, out, verbose)


def run_epochs(batches: BucketedBatches, step: Callable[[np.ndarray, np.ndarray, np.ndarray], float],
               monitor: _DevMonitor, tc: Any, out: TextIO | None, verbose: int,
               before_check: Callable[[], None] | None = None,
               decide: Callable[[bool], bool] | None = None) -> TrainResult:
    """The epoch loop: ``step`` each batch, dev checks ``tc.evals_per_epoch`` times per epoch, early stop.

    Our own loop rather than ``fit()``: batches have varying widths (length bucketing), which
    Keras's data adapters would pin to the first batches' shape.  ``before_check`` runs before
    each dev check and ``decide`` may overrule the stop decision (distributed training: the
    chief decides for all workers).
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
            if not math.isfinite(loss):
                bar.close()
                raise _diverged(f"the loss is {loss}", f"in epoch {epoch + 1}, batch {i + 1}/{n}", tc)
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
