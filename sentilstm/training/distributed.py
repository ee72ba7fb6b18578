"""Data-parallel training with ``tf.distribute``: several local devices, or several machines.

Strategies (``TrainConfig.strategy``, ``sentilstm train --strategy``):

* ``default``: one device, the ordinary trainer (:mod:`sentilstm.training`).
* ``mirrored``: :class:`tf.distribute.MirroredStrategy` over this machine's devices (GPUs, or
  logical CPU devices).
* ``multi-worker``: :class:`tf.distribute.MultiWorkerMirroredStrategy`, configured by the
  standard ``TF_CONFIG`` environment variable, so Ray Train, Slurm or Kubernetes can start the
  workers.  Every worker runs the same command.

How a step works.  ``train.batch_size`` is the *global* batch.  Every worker reads the same
files and draws the same seeded, length-bucketed global batches (so runs are reproducible and
comparable with a one-process run); replica ``r`` of ``R`` trains on its own shard of each
global batch, rows ``r, r+R, r+2R, ...``.  Each replica's loss is its share of the global
batch's weighted loss (divided by the *global* batch size), so the gradients summed across
replicas are exactly the one-process gradients.  They are summed first and clipped after
(``train.clipnorm``, per variable, as Keras does in one process), then applied by the Keras
optimizer.  Hence a two-worker run ends with the weights of a one-process run over the same
global batches (tested to 1e-4, dropout aside: each replica draws its own dropout masks).

Why not ``model.fit``: with Keras 3.15 + TF 2.21 it fails under MultiWorkerMirroredStrategy
("Attempt to convert a value (PerReplica...) to a Tensor", keras-team/keras#20585), and our
batches change width every step anyway.  The step here uses only public APIs:
``strategy.run``, ``ReplicaContext.all_reduce`` and ``optimizer.apply_gradients``.

Dev monitoring and early stopping run on every worker identically (same weights after the
synchronous update, same dev data), and the chief's decision to stop is broadcast, so all
workers stop at the same step.  Only the chief (``task.index`` 0, or the ``chief`` task) should
save the model: see :func:`is_chief`.  The chief's tokenizer is broadcast to the workers (the
``tokenizers`` trainer breaks frequency ties in hash-map order, so workers training their own
could disagree), and every worker checks that it holds the same training data as the chief.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

from sentilstm.config import ClassifierConfig, TokenizerConfig
from sentilstm.tokenizer import TextEncoder

__all__ = ["STRATEGIES", "cluster_spec", "is_chief", "get_strategy", "shared_encoder", "train_one"]

STRATEGIES = ("default", "mirrored", "multi-worker")

_EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\'')


def cluster_spec() -> tuple[str, int, int]:
    """``(task type, task index, number of workers)`` from ``TF_CONFIG``; clear errors if malformed.

    Reads the environment only (no TensorFlow import), so the CLI can check it before training.
    """
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError(f"TF_CONFIG is not set; --strategy multi-worker needs it on every worker, e.g. {_EXAMPLE}")
    try:
        cfg = json.loads(raw)
        cluster, task = cfg["cluster"], cfg["task"]
        kind, index = str(task["type"]), int(task["index"])
        size = sum(len(cluster.get(job, [])) for job in ("chief", "worker"))
        members = cluster[kind]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"TF_CONFIG is not valid ({type(e).__name__}: {e}); expected e.g. {_EXAMPLE}") from None
    if kind not in ("chief", "worker") or not 0 <= index < len(members):
        raise ValueError(f"TF_CONFIG: task {kind}:{index} is not in the cluster's chief/worker lists")
    return kind, index, size


def is_chief() -> bool:
    """True in the process that should write the model: no ``TF_CONFIG``, the chief, or worker 0."""
    if not os.environ.get("TF_CONFIG"):
        return True
    kind, index, _ = cluster_spec()
    has_chief = "chief" in json.loads(os.environ["TF_CONFIG"])["cluster"]
    return kind == "chief" or (kind == "worker" and index == 0 and not has_chief)


_STRATEGIES: dict[str, Any] = {}


def get_strategy(name: str) -> Any:
    """The ``tf.distribute`` strategy called ``name`` (one per process, created on first use).

    ``multi-worker`` must be created before TensorFlow runs anything else in the process (a
    TensorFlow rule for collective ops); :meth:`SentimentClassifier.fit` does so.
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    if name == "multi-worker":
        cluster_spec()  # a clear error before TensorFlow's own
    if name not in _STRATEGIES:
        import tensorflow as tf

        if name == "default":
            _STRATEGIES[name] = tf.distribute.get_strategy()
        elif name == "mirrored":
            _STRATEGIES[name] = tf.distribute.MirroredStrategy()
        else:
            _STRATEGIES[name] = tf.distribute.MultiWorkerMirroredStrategy()
    return _STRATEGIES[name]


def _broadcast(strategy: Any, values: np.ndarray) -> np.ndarray:
    """Replica 0's (the chief's) ``values`` on every replica: an all-reduce sum where others add zeros.

    ``values`` must have the same shape and dtype (int32 or float32) on every worker.
    """
    import tensorflow as tf

    zeros = np.zeros_like(values)
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(values if ctx.replica_id_in_sync_group == 0 else zeros))
    return np.asarray(strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None))


def _broadcast_bytes(strategy: Any, data: bytes) -> bytes:
    """The chief's ``data`` on every worker (two collectives: its length, then its bytes)."""
    n = int(_broadcast(strategy, np.array([len(data)], np.int32))[0])
    mine = np.frombuffer(data, np.uint8).astype(np.int32)
    buf = np.zeros(n, np.int32)
    buf[: min(n, len(mine))] = mine[:n]
    return _broadcast(strategy, buf).astype(np.uint8).tobytes()


def _all_agree(strategy: Any, ok: bool) -> bool:
    """True when ``ok`` holds on every replica (an all-reduce of the failures)."""
    import tensorflow as tf

    per_replica = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(0 if ok else 1, tf.int32))
    return int(strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)) == 0


def _fingerprint(*arrays: Any) -> np.ndarray:
    """Four int32 words of a BLAKE2 hash of ``arrays`` (to check workers hold the same data)."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
        h.update(b"|")
    return np.frombuffer(h.digest(), np.int32).copy()


def _multi_worker(strategy: Any) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def _worker_name() -> str:
    if not os.environ.get("TF_CONFIG"):
        return "this worker"
    kind, index, _ = cluster_spec()
    return f"{kind} {index}"


def shared_encoder(strategy: Any, texts: Sequence[str], config: TokenizerConfig,
                   tokenizer: TextEncoder | None = None) -> TextEncoder:
    """One tokenizer for all workers: the given one or one trained by the chief, broadcast to the rest."""
    if _multi_worker(strategy):
        chief = is_chief()
        mine = tokenizer if tokenizer is not None else (TextEncoder.train(texts, config) if chief else None)
        data = mine.to_str().encode("utf-8") if (chief and mine is not None) else b""
        return TextEncoder.from_str(_broadcast_bytes(strategy, data).decode("utf-8"), max_length=config.max_length)
    return tokenizer if tokenizer is not None else TextEncoder.train(texts, config)


def _sample_weights(config: ClassifierConfig, labels: np.ndarray) -> np.ndarray:
    """Per-example weights from ``train.class_weight`` (as :func:`sentilstm.training.local.train_model`)."""
    from sentilstm.labels import LABELS
    from sentilstm.training.loop import balanced_class_weights

    cw = np.ones(len(LABELS), np.float32)
    if config.train.class_weight == "balanced":
        cw = balanced_class_weights(labels)
    elif config.train.class_weight == "sqrt":
        cw = np.sqrt(balanced_class_weights(labels))
    return cw[labels]


class _Step:
    """One synchronous data-parallel training step over a global batch (see the module docstring)."""

    def __init__(self, strategy: Any, trainer: Any, optimizer: Any, config: ClassifierConfig) -> None:
        import keras
        import tensorflow as tf

        self.strategy, self.trainer, self.optimizer = strategy, trainer, optimizer
        self.replicas = strategy.num_replicas_in_sync
        tc = config.train
        n_classes = trainer.outputs[0].shape[-1]
        variables = trainer.trainable_variables

        def example_losses(y: Any, probs: Any) -> Any:
            if tc.label_smoothing > 0:
                onehot = keras.ops.one_hot(y, n_classes)
                return keras.losses.categorical_crossentropy(onehot, probs, label_smoothing=tc.label_smoothing)
            return keras.losses.sparse_categorical_crossentropy(y, probs)

        def replica_step(x: Any, y: Any, w: Any) -> Any:
            # this replica's shard of the global batch: rows r, r+R, r+2R, ...
            r = tf.distribute.get_replica_context().replica_id_in_sync_group
            global_size = tf.cast(tf.shape(x)[0], tf.float32)
            x, y, w = x[r :: self.replicas], y[r :: self.replicas], w[r :: self.replicas]
            with tf.GradientTape() as tape:
                outs = trainer(x, training=True)
                outs = outs if isinstance(outs, (list, tuple)) else [outs]
                # this replica's share of the global batch's mean loss (summed over ensemble members)
                loss = tf.add_n([tf.reduce_sum(example_losses(y, p) * w) for p in outs]) / global_size
            grads = tape.gradient(loss, variables)
            if tc.clipnorm:
                grads = _clip_global(grads, tc.clipnorm, self.replicas)
            optimizer.apply_gradients(zip(grads, variables))  # sums the replicas' gradients
            return loss

        # One trace for every batch shape (batches change width and size from step to step).
        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32),
                                      tf.TensorSpec([None], tf.float32)])
        def step(x: Any, y: Any, w: Any) -> Any:
            per_replica = strategy.run(replica_step, args=(x, y, w))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        self._step = step

    def __call__(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
        """Train on global batch ``(x, y, w)`` (the same on every worker). Returns the batch's loss."""
        return float(self._step(x, y.astype(np.int32), w.astype(np.float32)))


def _clip_global(grads: list[Any], clipnorm: float, replicas: int) -> list[Any]:
    """Clip each variable's *global* gradient to ``clipnorm`` (in replica context), as Keras does in one process.

    Keras's own ``clipnorm`` would clip each replica's part before the optimizer sums them.
    Dense gradients: sum across replicas, clip, and hand the optimizer 1/R of the result (its
    all-reduce adds the R copies back up).  Sparse ones (``IndexedSlices``, the embedding):
    Keras's Adam treats their rows entry by entry, so the entries must reach the optimizer as
    in one process (each replica's own rows, concatenated by its all-reduce); only the norm,
    over all replicas' rows, is all-reduced, and each replica scales its rows by the same factor.
    """
    import tensorflow as tf

    ctx = tf.distribute.get_replica_context()
    sum_ = tf.distribute.ReduceOp.SUM
    dense = [i for i, g in enumerate(grads) if g is not None and not isinstance(g, tf.IndexedSlices)]
    sparse = [i for i, g in enumerate(grads) if isinstance(g, tf.IndexedSlices)]
    out = list(grads)
    if dense:
        for i, g in zip(dense, ctx.all_reduce(sum_, [grads[i] for i in dense])):
            out[i] = tf.clip_by_norm(g, clipnorm) / replicas
    if sparse:
        squares = ctx.all_reduce(sum_, [tf.reduce_sum(tf.square(grads[i].values)) for i in sparse])
        for i, sq in zip(sparse, squares):
            g = grads[i]
            factor = clipnorm / tf.maximum(tf.sqrt(sq), clipnorm)  # tf.clip_by_norm's formula
            out[i] = tf.IndexedSlices(g.values * tf.cast(factor, g.values.dtype), g.indices, g.dense_shape)
    return out


def train_one(
    strategy: Any,
    encoder: TextEncoder,
    config: ClassifierConfig,
    train_seqs: Sequence[Sequence[int]],
    train_labels: np.ndarray,
    dev_seqs: Sequence[Sequence[int]],
    dev_labels: np.ndarray,
    verbose: int = 1,
    out: TextIO | None = sys.stderr,
) -> Any:
    """Train one model (or a jointly trained ensemble) under ``strategy``; a :class:`TrainResult`.

    The same contract as the one-device trainer: seeded length-bucketed batches, class weights,
    dev AvgRec checks ``train.evals_per_epoch`` times per epoch, early stopping, best weights.
    """
    from sentilstm.nn.model import build_models, set_weight_dict, weight_dict
    from sentilstm.training.optimizer import TrainingAdam
    from sentilstm.training.loop import (
        BucketedBatches, DevMonitor, init_pretrained_embeddings, loss_ceiling, run_epochs, set_seed,
    )

    tc = config.train
    unsupported = [name for name, used in (("ema", tc.ema is not None),
                                           ("freeze_embedding_epochs", tc.freeze_embedding_epochs > 0),
                                           ("embedding_anchor", tc.embedding_anchor > 0),
                                           ("lr_schedule", tc.lr_schedule != "constant")) if used]
    if unsupported:
        raise ValueError(f"train.{unsupported[0]} is not supported with strategy {tc.strategy!r}; "
                         "use the default strategy")
    multi = _multi_worker(strategy)
    chief = is_chief() if multi else True
    if not chief:
        out = None  # the chief reports; the other workers train silently
    train_labels = np.asarray(train_labels, dtype=np.int32)
    if multi:
        lengths = np.fromiter((len(s) for s in train_seqs), np.int64, len(train_seqs))
        ours = _fingerprint(lengths, train_labels, np.asarray(dev_labels), [tc.seed, tc.batch_size])
        if not _all_agree(strategy, bool(np.array_equal(ours, _broadcast(strategy, ours)))):
            raise ValueError(f"{_worker_name()}: the workers do not all hold the chief's training data "
                             f"({len(train_seqs)} rows here); every worker must read the same files and config")
    set_seed(tc.seed)
    if config.model.vocab_size != encoder.vocab_size:  # a new config; the caller's is never changed
        config = config.override({"model.vocab_size": encoder.vocab_size})
    with strategy.scope():
        model, trainer = build_models(config.model, seed=tc.seed)
        # clipping is done in the step (see _Step)
        optimizer = TrainingAdam(tc.learning_rate, lazy_sparse=tc.embedding_updates == "lazy")
        optimizer.build(trainer.trainable_variables)
    init_pretrained_embeddings(model, encoder, config, out)
    # Dev checks run on a plain copy of the model outside the strategy (Keras's predict under
    # a multi-worker strategy hits the same bug as fit); weights are copied in before each check.
    eval_model, _ = build_models(config.model)
    step = _Step(strategy, trainer, optimizer, config)
    batches = BucketedBatches(train_seqs, train_labels, _sample_weights(config, train_labels), tc.batch_size,
                              tc.seed, tc.token_dropout)
    monitor = DevMonitor(eval_model, dev_seqs, dev_labels, tc.patience, tc.epochs, out, keep_last=tc.keep == "last")
    if out is not None:
        print(f"strategy {tc.strategy}: {strategy.num_replicas_in_sync} replicas, global batch {tc.batch_size}",
              file=out, flush=True)
    members = config.model.ensemble
    return run_epochs(
        batches, lambda x, y, w: step(x, y, w) / members, monitor, tc, out, verbose,
        before_check=lambda: set_weight_dict(eval_model, weight_dict(model)),
        decide=lambda stop: bool(_broadcast(strategy, np.array([int(stop)], np.int32))[0]),  # the chief decides
        loss_ceiling=loss_ceiling(batches.sample_weights),
    )
