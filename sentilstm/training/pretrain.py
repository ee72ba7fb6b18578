"""Pretraining the encoder (embedding + BiLSTM on our cell) on weakly labelled or unlabelled texts.

``sentilstm pretrain`` / :func:`pretrain` trains the classifier's encoder — the same layers, the
same weight names — on other objectives than the user's labels, then writes it as an **encoder
bundle** (``config.json`` + ``tokenizer.json`` + ``weights.npz``, written and checked by
:mod:`sentilstm.bundle`, ``"kind": "encoder"``).  ``sentilstm train`` then fine-tunes it on the
labelled data (``--from default``, the encoder shipped in the package; ``--from PATH``; or
``--from scratch`` for no pretraining).

Objectives, trained together on shuffled mixed batches (multi-task, as DeepMoji did):

* **distant-supervision heads** (``tasks``): one softmax head per weakly labelled corpus on the
  pooled text vector, e.g. Sentiment140's emoticon labels (positive/negative) and TweetEval's
  emoji prediction (20 emoji);
* **masked words** (``PretrainConfig.mlm > 0``), for unlabelled texts: in every text
  ``mlm_positions`` tokens are replaced by ``[UNK]`` and predicted from the BiLSTM's states at
  those steps (each direction reads the masked step only as ``[UNK]``, so nothing leaks) among
  the ``mlm_vocab`` most frequent words.  This is the path for a user's own unlabelled texts.

Texts given without labels (``texts``) always contribute to the vocabulary, and to the
masked-word objective when it is on.

The vocabulary is fixed by the encoder.  When fine-tuning, words of the user's training texts
that the encoder lacks (at least ``tokenizer.min_frequency`` times) are appended to it, up to
:data:`NEW_WORDS_MAX`, with their pretrained vector (GloVe) if it has one, else a random one of the
same spread (:func:`extend_vocabulary`); every other unknown word reads as ``[UNK]``.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from sentilstm.config import ClassifierConfig, ModelConfig, TokenizerConfig, TrainConfig, section_from_dict, scheduled_lr

__all__ = ["PretrainConfig", "PretrainTask", "pretrain", "read_task_file", "load_encoder", "extend_vocabulary",
           "DEFAULT_ENCODER", "ENCODER_KIND", "NEW_WORDS_MAX", "encoder_architecture"]

DEFAULT_ENCODER = Path(__file__).resolve().parents[1] / "assets" / "encoder"
ENCODER_KIND = "encoder"
#: At most this many words of the user's training texts are appended to an encoder's vocabulary.
NEW_WORDS_MAX = 20000
#: The ModelConfig fields an encoder fixes (its weights' shapes); a fine-tuned model takes them over.
ARCHITECTURE = ("embedding_dim", "units", "layers", "bidirectional", "pooling")


def _default_tokenizer() -> TokenizerConfig:
    return TokenizerConfig(model="wordlevel", vocab_size=25000, min_frequency=2, extra_vocab="glove-6b-50d:35000")


def _default_model() -> ModelConfig:
    return ModelConfig(embedding_dim=50, units=128, pretrained_embeddings="glove-6b-50d")


@dataclass
class PretrainConfig:
    """Pretraining options; stored in the encoder bundle (``meta.pretraining.config``)."""

    tokenizer: TokenizerConfig = field(default_factory=_default_tokenizer)
    model: ModelConfig = field(default_factory=_default_model)
    epochs: int = 3  # the shipped encoder's recipe (benchmarks/pretrain_config.json; 1 epoch transfers less)
    batch_size: int = 64
    learning_rate: float = 2e-3
    lr_schedule: str = "cosine"
    clipnorm: float = 1.0
    # as TrainConfig.embedding_updates. Dense here: "lazy" pretrains 1.46x faster (261 s vs 382 s), but
    # its encoder fine-tuned 0.007 lower at the 10,000-tweet transfer point (benchmarks/RESULTS.md)
    embedding_updates: str = "dense"
    # share of the steps (from the start) with the embedding kept at its init (GloVe), so that the
    # BiLSTM learns to read GloVe space before the embedding drifts from it (0.0833: the first
    # quarter of the first of 3 epochs)
    freeze_embedding: float = 0.0833
    mlm: float = 0.0  # weight of the masked-word objective (0: off)
    mlm_vocab: int = 5000  # predicted words: the most frequent ones (rarer masked words are not scored)
    mlm_positions: int = 3  # masked tokens per text
    max_examples_per_task: int | None = None  # cap per corpus, for quick runs
    seed: int = 13

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.mlm_vocab < 1 or self.mlm_positions < 1:
            raise ValueError("pretrain epochs, batch_size, mlm_vocab and mlm_positions must be >= 1")
        if self.mlm < 0 or not 0.0 <= self.freeze_embedding <= 1.0:
            raise ValueError("pretrain mlm must be >= 0 and freeze_embedding in [0, 1]")
        TrainConfig(lr_schedule=self.lr_schedule, embedding_updates=self.embedding_updates)  # validates both names

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["model"]["pooling"] = list(self.model.pooling)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "pretrain config") -> "PretrainConfig":
        data = dict(data or {})
        tok = section_from_dict(TokenizerConfig, {**dataclasses.asdict(_default_tokenizer()), **data.pop("tokenizer", {})},
                         f"{where}.tokenizer")
        model = section_from_dict(ModelConfig, {**dataclasses.asdict(_default_model()), **data.pop("model", {})},
                           f"{where}.model")
        out = section_from_dict(cls, data, where)
        return dataclasses.replace(out, tokenizer=tok, model=model)


@dataclass
class PretrainTask:
    """One weakly labelled corpus: its texts, a label (any string) per text, and a name for its head."""

    name: str
    texts: list[str]
    labels: list[str]
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"task {self.name}: {len(self.texts)} texts but {len(self.labels)} labels")
        if not self.texts:
            raise ValueError(f"task {self.name}: no texts")

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))


# -- reading corpora --------------------------------------------------------------------------------
def read_task_file(path: str | Path, column: str | None, text_column: str = "text") -> tuple[list[str], list[str] | None]:
    """``(texts, labels)`` from a JSONL / CSV / TSV file (``labels`` from ``column``; None without one).

    A ``.txt`` (or any other) file is one text a line, unlabelled.  Every problem names the file
    and line (:class:`sentilstm.data.DataError`); no row is skipped except blank JSONL lines.
    """
    from sentilstm.data.files import read_texts
    from sentilstm.data.formats import DataError, format_of
    from sentilstm.data.readers import iter_records, text_value

    path = Path(path)
    if column is None:
        return read_texts(path, text_column), None
    fmt = format_of(path)
    if fmt not in ("jsonl", "json", "csv", "tsv", "parquet"):
        raise DataError(f"{path}: a labelled task needs a .jsonl, .json, .csv, .tsv or .parquet file")
    texts: list[str] = []
    labels: list[str] = []
    name, unit = str(path), "row" if fmt == "parquet" else "line"
    for n, rec in iter_records(path, fmt, require=(text_column, column), name=name):
        value = rec.get(column)
        if value is None or value == "" or isinstance(value, (dict, list)):
            raise DataError(f"{path}: {unit} {n}: missing, empty or non-scalar field {column!r}")
        texts.append(text_value(rec, n, name, text_column, unit))
        labels.append(str(value))
    if not texts:
        raise DataError(f"{path}: no rows")
    return texts, labels


# -- encoder bundles --------------------------------------------------------------------------------
@dataclass
class Encoder:
    config: ClassifierConfig  # tokenizer + model (architecture) of the encoder
    text_encoder: Any  # TextEncoder
    weights: dict[str, np.ndarray]
    meta: dict[str, Any]
    path: str


def load_encoder(path: str | Path | None = "default") -> Encoder:
    """Load an encoder bundle (``"default"`` or None: the one shipped in the package), checked by
    :func:`sentilstm.bundle.load_bundle` (checksums, versions)."""
    from sentilstm.bundle import BundleError, load_bundle
    from sentilstm.tokenizer import TextEncoder

    where = DEFAULT_ENCODER if path is None or (str(path) == "default" and not Path("default").exists()) else Path(path)
    bundle = load_bundle(where)
    if bundle.meta.get("kind") != ENCODER_KIND:
        raise BundleError(f"{where}: not an encoder bundle (a classifier model?); "
                          "fine-tune from an encoder written by `sentilstm pretrain`")
    enc = TextEncoder.from_str(bundle.tokenizer_json, max_length=bundle.config.tokenizer.max_length)
    expected = bundle.config.model
    if enc.vocab_size != expected.vocab_size or "embedding/embeddings" not in bundle.weights:
        raise BundleError(f"{where}: tokenizer.json and weights.npz do not match config.json")
    return Encoder(bundle.config, enc, bundle.weights, bundle.meta, "default" if where == DEFAULT_ENCODER else str(where))


def encoder_architecture(model: ModelConfig) -> dict[str, Any]:
    return {k: getattr(model, k) for k in ARCHITECTURE}


def extend_vocabulary(text_encoder: Any, texts: Sequence[str], min_frequency: int,
                      max_new: int = NEW_WORDS_MAX) -> tuple[Any, list[str]]:
    """The encoder's word-level tokenizer plus the words of ``texts`` it lacks (seen at least
    ``min_frequency`` times, the most frequent first, at most ``max_new``), appended after its
    ids so every pretrained row keeps its id.  Returns ``(new TextEncoder, new words)``."""
    from tokenizers import models

    from sentilstm.text import normalize
    from sentilstm.tokenizer import TextEncoder

    tok = text_encoder.tokenizer
    vocab = tok.get_vocab(with_added_tokens=True)
    counts: Counter[str] = Counter()
    pre = tok.pre_tokenizer
    for t in texts:
        for word, _ in pre.pre_tokenize_str(normalize(t[: text_encoder.max_chars])):
            if word not in vocab:
                counts[word] += 1
    new = [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_frequency][:max_new]
    if not new:
        return text_encoder, []
    if not isinstance(tok.model, models.WordLevel):
        raise ValueError("only a word-level encoder vocabulary can be extended")
    clone = type(tok).from_str(tok.to_str())
    base = clone.get_vocab(with_added_tokens=False)
    clone.model = models.WordLevel({**base, **{w: len(vocab) + i for i, w in enumerate(new)}}, unk_token="[UNK]")
    return TextEncoder(clone, max_length=text_encoder.max_length), new


def fine_tune_setup(config: ClassifierConfig, texts: Sequence[str], init: str,
                    out: TextIO | None) -> tuple[ClassifierConfig, Any, dict[str, np.ndarray], dict[str, Any]]:
    """For ``train.init`` = an encoder: ``(config with the encoder's tokenizer and architecture,
    the (extended) TextEncoder, the encoder weights, provenance for the bundle)``.

    The model section's architecture fields must equal the encoder's (a clear error otherwise:
    its weights fix them); the tokenizer section is replaced by the encoder's.
    """
    enc = load_encoder(init)
    mine, theirs = encoder_architecture(config.model), encoder_architecture(enc.config.model)
    diff = [k for k in ARCHITECTURE if mine[k] != theirs[k]]
    if diff:
        k = diff[0]
        raise ValueError(f"model.{k} = {mine[k]!r} differs from the encoder's {theirs[k]!r} ({enc.path}); "
                         "an encoder fixes the architecture: drop that option, or train from scratch "
                         "(--from scratch, train.init = \"scratch\")")
    text_encoder, new = extend_vocabulary(enc.text_encoder, texts, config.tokenizer.min_frequency)
    cfg = dataclasses.replace(config, tokenizer=enc.config.tokenizer,
                              model=dataclasses.replace(config.model, vocab_size=text_encoder.vocab_size))
    if out is not None:
        print(f"encoder: {enc.path} ({enc.text_encoder.vocab_size:,} words; {len(new):,} words of the training "
              f"texts appended, pretrained vectors where known)", file=out, flush=True)
    prov = {"encoder": enc.path, "encoder_created": enc.meta.get("created"),
            "encoder_pretraining": {k: v for k, v in enc.meta.get("pretraining", {}).items() if k != "history"},
            "new_words": len(new)}
    return cfg, text_encoder, enc.weights, prov


def load_encoder_weights(model: Any, weights: dict[str, np.ndarray], config: ModelConfig) -> None:
    """Copy encoder ``weights`` into ``model``'s encoder layers (every member of an ensemble); the
    embedding's rows beyond the encoder's vocabulary (appended words) keep their init."""
    from sentilstm.runtime.layout import member_prefixes

    variables = {v.path: v for v in model.weights}
    for prefix in member_prefixes(config):
        for name, value in weights.items():
            path = prefix + name.replace("ward_lstm_", f"ward_{prefix}lstm_") if prefix else name
            var = variables.get(path)
            if var is None:
                raise ValueError(f"encoder weight {name} has no place in the model")
            if name.endswith("embedding/embeddings"):
                current = np.array(var.numpy())
                if value.shape[1] != current.shape[1] or value.shape[0] > current.shape[0]:
                    raise ValueError(f"encoder embedding {value.shape} does not fit the model's {current.shape}")
                current[: value.shape[0]] = value
                var.assign(current)
            else:
                if tuple(value.shape) != tuple(var.shape):
                    raise ValueError(f"encoder weight {name}: shape {value.shape} vs the model's {tuple(var.shape)}")
                var.assign(value)


# -- pretraining --------------------------------------------------------------------------------------
def _build(config: PretrainConfig, heads: list[tuple[str, int]], mlm_classes: int) -> tuple[Any, Any]:
    """``(pretraining model, its encoder layers' names)``: encoder + one softmax head per task
    (+ the masked-word head, fed by a second input of masked positions)."""
    import keras

    from sentilstm.nn.model import encoder_layers

    mc = config.model
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    seq, pooled = encoder_layers(ids, mc, "", config.seed)
    inputs, outs = [ids], []
    for name, k in heads:
        h = keras.layers.Dropout(mc.head_dropout, seed=config.seed, name=f"pretrain_{name}_dropout")(pooled)
        outs.append(keras.layers.Dense(k, activation="softmax", name=f"pretrain_{name}")(h))
    if mlm_classes:
        pos = keras.Input(shape=(config.mlm_positions,), dtype="int32", name="mlm_positions")
        inputs.append(pos)
        states = _gather_steps_class()(name="pretrain_mlm_gather")([seq, pos])
        outs.append(keras.layers.Dense(mlm_classes, activation="softmax", name="pretrain_mlm")(states))
    return keras.Model(inputs, outs, name="sentilstm_pretrain")


@functools.lru_cache(maxsize=1)
def _gather_steps_class() -> Any:
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="sentilstm")
    class GatherSteps(keras.layers.Layer):
        """``[states (B, T, D), positions (B, M)]`` -> the states at those steps ``(B, M, D)``."""

        def call(self, inputs: Any, mask: Any = None) -> Any:
            states, positions = inputs
            onehot = ops.one_hot(ops.cast(positions, "int32"), ops.shape(states)[1], dtype=states.dtype)
            return ops.matmul(onehot, states)

        def compute_mask(self, inputs: Any, mask: Any = None) -> None:
            return None

        def compute_output_shape(self, shapes: Any) -> tuple[Any, ...]:
            return (shapes[0][0], shapes[1][1], shapes[0][2])

    return GatherSteps


def pretrain(tasks: Sequence[PretrainTask], texts: Sequence[str] = (), config: PretrainConfig | None = None,
             dev: tuple[Sequence[str], Any] | None = None, verbose: int = 1,
             out: TextIO | None = sys.stderr) -> dict[str, Any]:
    """Train the encoder on ``tasks`` (distant-supervision heads) and, with ``config.mlm > 0``, on
    masked words of every text (tasks' and ``texts``); ``texts`` also feed the vocabulary.

    Returns ``{"config": ClassifierConfig, "tokenizer_json", "weights" (encoder only), "meta"}``;
    :func:`save_encoder` writes it as a bundle.  ``dev`` is unused for training and only reported.
    """
    import keras

    from sentilstm.tokenizer import PAD_ID, UNK_ID, TextEncoder
    from sentilstm.training.loop import BucketedBatches, init_pretrained_embeddings, set_seed
    from sentilstm.training.optimizer import TrainingAdam

    cfg = config or PretrainConfig()
    if not tasks and cfg.mlm <= 0:
        raise ValueError("nothing to pretrain on: give a labelled task, or turn on the masked-word objective (mlm > 0)")
    if not tasks and not texts:
        raise ValueError("no pretraining texts")
    started = time.perf_counter()
    cap = cfg.max_examples_per_task

    def sample(n: int) -> list[int]:  # a seeded random subset in file order (files may be sorted by label)
        if cap is None or n <= cap:
            return list(range(n))
        return sorted(np.random.default_rng([cfg.seed, n]).choice(n, cap, replace=False).tolist())

    tasks = [PretrainTask(t.name, [t.texts[i] for i in keep], [t.labels[i] for i in keep], t.source)
             for t in tasks for keep in [sample(len(t.texts))]]
    texts = [texts[i] for i in sample(len(texts))]
    all_texts = [x for t in tasks for x in t.texts] + texts
    text_encoder = TextEncoder.train(all_texts, cfg.tokenizer)
    model_cfg = dataclasses.replace(cfg.model, vocab_size=text_encoder.vocab_size)
    cfg = dataclasses.replace(cfg, model=model_cfg)
    # the rows trained: task rows (with their head) and, when the masked-word objective is on, the plain texts
    rows_text = [x for t in tasks for x in t.texts] + (texts if cfg.mlm > 0 else [])
    task_of = np.concatenate([np.full(len(t.texts), k) for k, t in enumerate(tasks)]
                             + [np.full(len(texts) if cfg.mlm > 0 else 0, -1)]).astype(np.int64)
    label_of = np.zeros(len(rows_text), np.int64)
    start = 0
    for t in tasks:
        index = {c: i for i, c in enumerate(t.classes)}
        label_of[start: start + len(t.texts)] = [index[lab] for lab in t.labels]
        start += len(t.texts)
    seqs = text_encoder.encode(rows_text)
    mlm_classes, mlm_class = 0, None
    if cfg.mlm > 0:
        freq = np.bincount(np.fromiter((i for s in seqs for i in s), np.int64), minlength=text_encoder.vocab_size)
        freq[[PAD_ID, UNK_ID]] = 0
        top = np.argsort(-freq, kind="stable")[: cfg.mlm_vocab]
        top = top[freq[top] > 0]
        mlm_class = np.zeros(text_encoder.vocab_size, np.int64)  # 0: not scored
        mlm_class[top] = np.arange(1, len(top) + 1)
        mlm_classes = len(top) + 1
    heads = [(t.name, len(t.classes)) for t in tasks]

    set_seed(cfg.seed)
    model = _build(cfg, heads, mlm_classes)
    holder = ClassifierConfig(tokenizer=cfg.tokenizer, model=model_cfg,
                              train=TrainConfig(seed=cfg.seed))
    init_pretrained_embeddings(model, text_encoder, holder, out)
    loss = keras.losses.SparseCategoricalCrossentropy()
    n_out = len(heads) + (1 if mlm_classes else 0)
    loss_weights = [1.0] * len(heads) + ([cfg.mlm] if mlm_classes else [])
    batches = BucketedBatches(seqs, np.arange(len(seqs)), np.ones(len(seqs), np.float32), cfg.batch_size, cfg.seed)
    total = cfg.epochs * len(batches)
    frozen_steps = int(round(cfg.freeze_embedding * total))
    embedding = model.get_layer("embedding")

    def compile_() -> Any:
        opt = TrainingAdam(cfg.learning_rate, clipnorm=cfg.clipnorm, lazy_sparse=cfg.embedding_updates == "lazy")
        model.compile(optimizer=opt, loss=[loss] * n_out, loss_weights=loss_weights)
        return opt

    embedding.trainable = frozen_steps == 0
    optimizer = compile_()
    rng = np.random.default_rng([cfg.seed, 2])
    if out is not None:
        what = ", ".join(f"{t.name} ({len(t.texts):,} texts, {len(t.classes)} classes)" for t in tasks)
        if mlm_classes:
            what += (", " if what else "") + f"masked words ({len(rows_text):,} texts, {mlm_classes - 1:,} words)"
        print(f"pretraining on {what}; vocabulary {text_encoder.vocab_size:,}; {total:,} steps", file=out, flush=True)
    history: list[dict[str, Any]] = []
    step, run = 0, {name: [0.0, 0] for name in ["loss"]}
    from tqdm.auto import tqdm

    for epoch in range(cfg.epochs):
        bar = tqdm(range(len(batches)), desc=f"pretrain epoch {epoch + 1}/{cfg.epochs}", unit="batch", leave=False,
                   file=out, disable=out is None or verbose != 1, dynamic_ncols=True)
        for i in bar:
            if step == frozen_steps and frozen_steps > 0:
                embedding.trainable = True
                optimizer = compile_()
                if out is not None:
                    print(f"embedding: trainable from step {step}", file=out, flush=True)
            optimizer.learning_rate = scheduled_lr(cfg.learning_rate, cfg.lr_schedule, step / total)
            x, rows, _ = batches[i]
            t_rows = task_of[rows]
            ys = [np.where(t_rows == k, label_of[rows], 0) for k in range(len(heads))]
            ws = [(t_rows == k).astype(np.float32) for k in range(len(heads))]
            inputs: Any = x
            if mlm_classes:
                assert mlm_class is not None
                lengths = (x != PAD_ID).sum(axis=1)
                m = cfg.mlm_positions
                pos = np.floor(rng.random((len(x), m)) * lengths[:, None]).astype(np.int32)
                target = mlm_class[x[np.arange(len(x))[:, None], pos]]
                # a position drawn twice is scored once
                dup = np.zeros_like(pos, dtype=bool)
                for j in range(1, m):
                    dup[:, j] = (pos[:, :j] == pos[:, j: j + 1]).any(axis=1)
                w = ((target > 0) & ~dup).astype(np.float32)
                x = x.copy()
                x[np.arange(len(x))[:, None], pos] = UNK_ID
                inputs = [x, pos]
                ys.append(target)
                ws.append(w)
            res = model.train_on_batch(inputs, ys if n_out > 1 else ys[0], sample_weight=ws if n_out > 1 else ws[0],
                                       return_dict=True)
            run["loss"][0] += float(res["loss"]) * len(x)
            run["loss"][1] += len(x)
            step += 1
            if i % 50 == 0:
                bar.set_postfix(loss=f"{run['loss'][0] / run['loss'][1]:.4f}", refresh=False)
        bar.close()
        batches.on_epoch_end()
        row = {"epoch": epoch + 1, "loss": round(run["loss"][0] / max(1, run["loss"][1]), 4),
               "elapsed_s": round(time.perf_counter() - started, 1)}
        run = {"loss": [0.0, 0]}
        history.append(row)
        if out is not None:
            print(f"pretrain epoch {epoch + 1}/{cfg.epochs}  loss={row['loss']:.4f}  [{row['elapsed_s']:.0f}s]",
                  file=out, flush=True)
    from sentilstm.nn.model import weight_dict

    weights = {k: v for k, v in weight_dict(model).items() if not k.startswith("pretrain_")}
    import datetime as _dt

    from sentilstm.bundle import versions

    meta = {
        "kind": ENCODER_KIND,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "pretraining": {
            "config": cfg.to_dict(),
            "tasks": [{"name": t.name, "source": t.source, "rows": len(t.texts),
                       "classes": dict(sorted(Counter(t.labels).items()))} for t in tasks],
            "texts": {"rows": len(texts), "used_for": "vocabulary and masked words" if cfg.mlm > 0 else "vocabulary"},
            "steps": total,
            "train_time_s": round(time.perf_counter() - started, 1),
            "history": history,
        },
    }
    return {"config": holder, "tokenizer_json": text_encoder.to_str(), "weights": weights, "meta": meta}


def save_encoder(path: str | Path, result: dict[str, Any]) -> Path:
    """Write a :func:`pretrain` result as an encoder bundle (atomically, via :func:`sentilstm.bundle.save_bundle`)."""
    from sentilstm.bundle import Bundle, save_bundle

    return save_bundle(path, Bundle(result["config"], result["tokenizer_json"], result["weights"], result["meta"]))
