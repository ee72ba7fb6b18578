"""Fit the Keras model: seeded, length-bucketed batches, class weights, early stopping on dev AvgRec.

The trainer is separate from the model (flair's split): it takes encoded sequences and a
:class:`~sentilstm.config.ClassifierConfig`, and returns the best weights (by dev AvgRec, the
metric we report) with a per-epoch history.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import keras
import numpy as np

from sentilstm.config import ClassifierConfig, scheduled_lr
from sentilstm.labels import LABELS
from sentilstm.metrics import classification_scores, format_headline
from sentilstm.nn.model import build_model, build_models, is_encoder_weight, set_weight_dict
from sentilstm.runtime.layout import member_prefixes, embedding_layer
from sentilstm.tokenizer import TextEncoder
from sentilstm.training.optimizer import TrainingAdam
from sentilstm.training.loop import (
    BucketedBatches, TrainResult, DevMonitor, balanced_class_weights, init_pretrained_embeddings, loss_ceiling,
    pack_members, predict_keras, run_epochs, set_seed,
)

__all__ = ["train_model"]


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

    ``init_weights``: a pretrained encoder's weights (:mod:`sentilstm.training.pretrain`), loaded into the
    embedding and recurrent layers (of every ensemble member) before training; the head starts fresh.

    ``strategy``: a ``tf.distribute`` strategy from :func:`sentilstm.training.distributed.get_strategy`
    (each model is then trained by :func:`sentilstm.training.distributed.train_one`); None: one device.

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
        from sentilstm.training.distributed import train_one as train_distributed

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
        from sentilstm.training.pretrain import load_encoder_weights

        load_encoder_weights(model, init_weights, config.model)
    loss: Any = keras.losses.SparseCategoricalCrossentropy()
    if tc.label_smoothing > 0:
        # Label smoothing needs one-hot targets; the batches carry ids, so smooth them here.
        def loss(y_true: Any, y_pred: Any) -> Any:
            onehot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), len(LABELS))
            return keras.losses.categorical_crossentropy(onehot, y_pred, label_smoothing=tc.label_smoothing)
    def new_optimizer() -> keras.optimizers.Optimizer:
        return TrainingAdam(tc.learning_rate, scales={} if tc.encoder_lr_scale == 1.0 else {
            v.path: tc.encoder_lr_scale for v in model.weights if is_encoder_weight(v.path)},
            lazy_sparse=tc.embedding_updates == "lazy",
            clipnorm=tc.clipnorm, use_ema=tc.ema is not None, ema_momentum=tc.ema or 0.99)

    def set_embedding_trainable(trainable: bool) -> None:
        for prefix in member_prefixes(config.model):
            model.get_layer(embedding_layer(prefix)).trainable = trainable  # shared with ``trainer``

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
    monitor = DevMonitor(model, dev_seqs, dev_labels, tc.patience, tc.epochs, out, optimizer=optimizer,
                          keep_last=tc.keep == "last")

    frozen_steps, steps = tc.freeze_embedding_epochs * len(batches), 0
    anchors = []
    if tc.embedding_anchor > 0:
        for prefix in member_prefixes(config.model):
            var = model.get_layer(embedding_layer(prefix)).embeddings
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

    return run_epochs(batches, step, monitor, tc, out, verbose, loss_ceiling=loss_ceiling(cw))


