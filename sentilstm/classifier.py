"""``SentimentClassifier``: the estimator users hold (scikit-learn's shape).

``fit`` trains a tokenizer and the Keras model (importing Keras then); ``predict_proba`` runs
onnxruntime on many texts and the NumPy runtime on a few (``engine="auto"``), so loading a
model and classifying never imports TensorFlow.  ``engine="keras"`` runs the Keras model
instead (same numbers to 1e-5; tested).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from collections.abc import Iterable
from typing import Any, TextIO

import numpy as np

from sentilstm.bundle import DEFAULT_BUNDLE, Bundle, load_bundle, save_bundle, training_meta
from sentilstm.config import ClassifierConfig
from sentilstm.labels import LABELS, as_label_ids, check_classes, stratified_holdout
from sentilstm.runtime.layout import TOP_SCALE_WEIGHTS
from sentilstm.runtime.numpy import NumpyRuntime
from sentilstm.text import Texts, as_texts
from sentilstm.threads import limit_tokenizer_threads, resolve_threads, single_blas_thread
from sentilstm.tokenizer import TextEncoder

__all__ = ["SentimentClassifier", "load", "explain"]


ENGINES = ("auto", "onnx", "numpy", "keras")
# engine="auto" runs numpy below this many texts: importing onnx + onnxruntime and building the
# session cost about 0.2-0.4 s once (and ~50 MB), more than numpy spends on a few dozen texts,
# and `sentilstm predict "one text"` must start in well under 1 s (benchmarks/speed.py).
ONNX_MIN_TEXTS = 64


class SentimentClassifier:
    """Three-way sentiment classifier: tweet-aware tokenizer + (bi)LSTM over our own cell.

    >>> clf = sentilstm.load()                       # the shipped default model
    >>> clf.predict(["I love it", "meh"])            # -> ['positive', 'neutral']
    >>> clf.predict_proba("I love it")               # -> array of shape (1, 3), LABELS order

    ``threads``: CPU threads inference may keep busy (default: ``$SENTILSTM_THREADS``, else the
    CPUs this process may use; never more than those): see :mod:`sentilstm.threads`.
    """

    classes_ = np.array(LABELS)

    def __init__(self, config: ClassifierConfig | None = None, threads: int | None = None) -> None:
        # scikit-learn's contract: __init__ stores its parameters as given and nothing else; what
        # fit() or load() learn ends with "_" (config_, encoder_, weights_, meta_, runtime_).
        self.config = config
        self.threads = threads  # validated when used (scikit-learn: __init__ never raises)

    def _n_threads(self) -> int:
        """``threads`` resolved (``$SENTILSTM_THREADS``, else this process's CPUs; see :mod:`sentilstm.threads`)."""
        return resolve_threads(self.threads)

    # -- scikit-learn parameters --------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """``{"config": ..., "threads": ...}``; with ``deep``, also every config field as a dotted key
        (``"train.epochs"``)."""
        params: dict[str, Any] = {"config": self.config, "threads": self.threads}
        if deep:
            cfg = self.config if self.config is not None else ClassifierConfig()
            params.update({o.key: cfg.get(o.key) for o in cfg.options()})
        return params

    def set_params(self, **params: Any) -> "SentimentClassifier":
        """Set ``config`` and/or dotted config keys (``set_params(**{"train.epochs": 2})``); returns self.

        The config object is replaced by a new one (``ClassifierConfig.override``), never changed.
        """
        if "config" in params:
            self.config = params.pop("config")
        if "threads" in params:
            self.threads = params.pop("threads")
        if params:
            base = self.config if self.config is not None else ClassifierConfig()
            self.config = base.override(params)
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "weights_", None) is not None

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags (only called where scikit-learn is installed): a classifier of raw texts."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(multi_class=True, multi_label=False),
                    input_tags=InputTags(one_d_array=True, two_d_array=False, string=True))

    # -- learned state (the old names stay as aliases: the rest of the package uses them) ---------
    @property
    def encoder(self) -> TextEncoder | None:
        return getattr(self, "encoder_", None)

    @encoder.setter
    def encoder(self, value: TextEncoder | None) -> None:
        self.encoder_ = value

    @property
    def weights(self) -> dict[str, np.ndarray] | None:
        return getattr(self, "weights_", None)

    @weights.setter
    def weights(self, value: dict[str, np.ndarray] | None) -> None:
        self.weights_ = value

    @property
    def meta(self) -> dict[str, Any]:
        if not hasattr(self, "meta_"):
            self.meta_: dict[str, Any] = {}
        return self.meta_

    @meta.setter
    def meta(self, value: dict[str, Any]) -> None:
        self.meta_ = value

    @property
    def _runtime(self) -> NumpyRuntime | None:
        return getattr(self, "runtime_", None)

    @_runtime.setter
    def _runtime(self, value: NumpyRuntime | None) -> None:
        self.runtime_ = value

    @property
    def _onnx(self) -> Any:
        return self.__dict__.get("_onnx_cache")

    @_onnx.setter
    def _onnx(self, value: Any) -> None:
        self.__dict__["_onnx_cache"] = value

    @property
    def _engine_weights(self) -> dict[str, np.ndarray] | None:
        return self.__dict__.get("_engine_weights_cache")

    @_engine_weights.setter
    def _engine_weights(self, value: dict[str, np.ndarray] | None) -> None:
        self.__dict__["_engine_weights_cache"] = value

    @property
    def _effective_config(self) -> ClassifierConfig:
        """``config_`` once fitted or loaded, else the parameter (or the defaults)."""
        fitted = getattr(self, "config_", None)
        return fitted if fitted is not None else (self.config if self.config is not None else ClassifierConfig())

    def _set_learned(self, config: ClassifierConfig, encoder: TextEncoder, weights: dict[str, np.ndarray],
                     meta: dict[str, Any], where: Any = None) -> None:
        """Set the learned state together (fit, load); the engines are rebuilt from it."""
        learned = ("config_", "encoder_", "weights_", "meta_", "runtime_")
        self.config_, self.encoder_, self.weights_, self.meta_ = config, encoder, weights, meta
        try:
            self._reset_engines()
        except KeyError as e:
            for name in learned:
                self.__dict__.pop(name, None)
            raise ValueError(f"{where}: weights.npz lacks weight {e} required by config.json's model") from None
        except ValueError as e:  # a malformed calibration record
            for name in learned:
                self.__dict__.pop(name, None)
            raise ValueError(f"{Path(where) if where is not None else DEFAULT_BUNDLE}/config.json: {e}") from None

    # -- persistence --------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None, threads: int | None = None) -> "SentimentClassifier":
        """Load a bundle directory (``None`` or ``"default"``: the model shipped with sentilstm).

        ``threads``: see the class doc (:mod:`sentilstm.threads`)."""
        if path is not None and str(path) == "default" and not Path("default").exists():
            path = None
        threads = resolve_threads(threads)  # a bad value fails before the bundle is read
        bundle = load_bundle(path)
        if bundle.meta.get("kind") == "encoder":
            from sentilstm.bundle import BundleError

            raise BundleError(f"{path}: an encoder bundle (from `sentilstm pretrain`), not a classifier; "
                              f"fine-tune it first: sentilstm train --from {path} ...")
        clf = cls(bundle.config, threads=threads)
        limit_tokenizer_threads(threads)
        encoder = TextEncoder.from_str(bundle.tokenizer_json, max_length=bundle.config.tokenizer.max_length)
        meta = {**bundle.meta, "path": str(Path(path) if path is not None else "default")}
        clf._set_learned(bundle.config, encoder, bundle.weights, meta, where=path)
        return clf

    @property
    def engine_weights(self) -> dict[str, np.ndarray]:
        """The weights every engine runs: the trained ones with the calibration map folded into the head.

        ``self.weights`` stay as trained (they are what a bundle stores); see :mod:`sentilstm.runtime.calibration`.
        """
        self._check_fitted()
        if self._engine_weights is None:
            from sentilstm.runtime.calibration import apply_calibration

            self._engine_weights = apply_calibration(self.config_.model, self.weights,  # type: ignore[arg-type]
                                                     self.meta.get("calibration"))
        return self._engine_weights

    def _reset_engines(self) -> None:
        """Drop every engine built so far (weights or calibration changed); rebuild the NumPy one."""
        self._engine_weights = None
        self.__dict__.pop("_keras_model", None)
        self._onnx = None
        self.runtime_ = NumpyRuntime(self.config_.model, self.engine_weights)

    def calibrate(self, texts: Texts, labels: Any, method: str = "auto",
                  source: str | None = None) -> "SentimentClassifier":
        """Fit the probability calibration on labelled (dev) data, replacing any earlier one.

        ``method``: ``"auto"``, ``"temperature"``, ``"class_temperature"``, ``"vector"`` or ``"none"`` (removes it); see
        :func:`sentilstm.runtime.calibration.fit_calibration`.  The record, with ECE / log loss / Brier
        before and after, is in ``self.meta["calibration"]``; the weights are not changed.
        """
        from sentilstm.runtime.calibration import fit_calibration
        from sentilstm.metrics import bootstrap_scores

        self._check_fitted()
        assert self.encoder is not None
        x = as_texts(texts)
        y = as_label_ids(labels, len(x))
        record, probs = fit_calibration(self.config_.model, self.weights, self.encoder.encode(x),  # type: ignore[arg-type]
                                        y, method, source=source)
        self.meta = {k: v for k, v in self.meta.items() if k != "calibration"}
        if record is not None:
            if len(y):
                ci = bootstrap_scores(y, probs.argmax(axis=1))
                record["scores"] = {"confidence": ci["confidence"], "n_resamples": ci["n_resamples"],
                                    **ci["headline"]}
            self.meta["calibration"] = record
        self._reset_engines()
        return self

    def save(self, path: str | Path, overwrite: bool = False, *, inputs: Iterable[Any] = ()) -> Path:
        """Write the model as a bundle directory (atomically).

        ``path`` may be new, empty, or a sentilstm bundle (replaced); any other existing file or
        directory is refused unless ``overwrite=True``, and never one holding any of ``inputs``
        (the files this run read).  Weights that are not finite are refused.
        """
        self._check_fitted()
        assert self.encoder is not None and self.weights is not None
        meta = {k: v for k, v in self.meta.items() if k != "path"}
        return save_bundle(path, Bundle(self._effective_config, self.encoder.to_str(), self.weights, meta),
                           overwrite=overwrite, inputs=inputs)

    # -- training -----------------------------------------------------------------------------
    def fit(
        self,
        texts: Texts,
        labels: Any,
        dev: tuple[Texts, Any] | None = None,
        config: ClassifierConfig | None = None,
        verbose: int = 1,
        out: TextIO | None = sys.stderr,
        data_summary: dict[str, Any] | None = None,
        tokenizer: TextEncoder | None = None,
        strategy: str | None = None,
        allow_missing_classes: bool = False,
    ) -> "SentimentClassifier":
        """Train tokenizer and model on ``texts``/``labels`` (``fit(X, y)``); returns self.

        ``config`` (optional) replaces the ``config`` parameter, as ``set_params(config=...)``.
        The learned state is ``config_`` (the config with ``model.vocab_size`` set), ``encoder_``,
        ``weights_``, ``meta_``; no config object is changed. Without ``dev``, a seeded, stratified 10 % of the training data is held out for it.
        ``train.init``: ``"default"`` fine-tunes the encoder shipped in the package, a path fine-tunes
        that encoder bundle (``sentilstm pretrain``), ``"scratch"`` trains a tokenizer and the whole
        network from GloVe only.  An encoder brings its tokenizer (plus the training texts' words it
        lacks, see :func:`sentilstm.training.pretrain.extend_vocabulary`) and fixes the architecture.
        ``tokenizer``: reuse this trained :class:`TextEncoder` instead of training one (an
        encoder's weights are still used unless ``train.init`` is ``"scratch"``).
        ``strategy``: ``"default"``, ``"mirrored"`` or ``"multi-worker"`` (overrides
        ``config.train.strategy``; see :mod:`sentilstm.training.distributed`).
        ``allow_missing_classes``: train even if a class has fewer than ``MIN_CLASS_EXAMPLES``
        training examples (otherwise a ``ValueError``: such a model never predicts it).
        Training that diverges (a NaN or infinite loss or weight) raises
        :class:`~sentilstm.training.loop.TrainingDiverged` and leaves the classifier unfitted.
        """
        try:
            from sentilstm.training.local import train_model  # imports Keras
        except ImportError as e:
            if (e.name or "").split(".")[0] not in ("keras", "tensorflow"):
                raise
            raise ImportError('training needs the training extra: pip install "sentilstm[train]"', name=e.name) from e

        if config is not None:
            self.config = config
        limit_tokenizer_threads(self._n_threads())
        cfg = self.config if self.config is not None else ClassifierConfig()
        if strategy is not None:
            cfg = cfg.override({"train.strategy": strategy})
        tc = cfg.train
        x = as_texts(texts)
        y = as_label_ids(labels, len(x))
        if not x:
            raise ValueError("no training texts")
        if not allow_missing_classes:
            check_classes(y)
        if dev is None:
            held, keep = stratified_holdout(y, tc.seed)
            dx, dy = [x[i] for i in held], y[held]
            x, y = [x[i] for i in keep], y[keep]
            dev_source = "10% of the training data, held out"
        else:
            dx = as_texts(dev[0], "dev texts")
            dy = as_label_ids(dev[1], len(dx), "dev labels")
            dev_source = "given"
        if tc.max_train_examples is not None:
            x, y = x[: tc.max_train_examples], y[: tc.max_train_examples]
        if not allow_missing_classes and tc.max_train_examples is not None:
            check_classes(y, where=f"the first {tc.max_train_examples} training rows")

        started = time.perf_counter()
        dist = None
        init_weights, provenance = None, {}
        if tc.init != "scratch":
            from sentilstm.training.pretrain import fine_tune_setup

            cfg, encoder_from, init_weights, provenance = fine_tune_setup(cfg, x, tc.init, out)
            if tokenizer is None:
                tokenizer = encoder_from
            elif tokenizer.vocab_size < encoder_from.vocab_size:
                raise ValueError("the tokenizer given does not extend the encoder's vocabulary")
        if tc.strategy != "default":  # tf.distribute; the chief's tokenizer is shared with all workers
            from sentilstm.training.distributed import get_strategy, shared_encoder

            dist = get_strategy(tc.strategy)
            encoder = shared_encoder(dist, x, cfg.tokenizer, tokenizer)
        else:
            encoder = tokenizer if tokenizer is not None else TextEncoder.train(x, cfg.tokenizer)
        cfg = cfg.override({"model.vocab_size": encoder.vocab_size})
        result = train_model(encoder, cfg, encoder.encode(x), y, encoder.encode(dx), dy,
                             verbose=verbose, out=out, strategy=dist, init_weights=init_weights)
        from sentilstm.training.loop import check_finite_weights

        check_finite_weights(result.weights, "in the final weights")

        summary = data_summary or {}
        meta = training_meta(result, y, dy, dev_source, summary, time.perf_counter() - started, provenance)
        self._set_learned(cfg, encoder, result.weights, meta)
        # Fit the calibration on the same dev data (every worker alike: identical weights), with
        # dev metrics and bootstrap intervals for the model card.
        self.calibrate(dx, dy, method=tc.calibration, source=dev_source if dev is None else
                       summary.get("dev", {}).get("source", dev_source))
        if "calibration" in self.meta:  # vector scaling, or an ensemble's members, may move a few labels
            from sentilstm.metrics import classification_scores

            self.meta["dev_metrics"] = classification_scores(dy, self.predict_proba(dx, engine="numpy").argmax(axis=1))
        return self

    # -- inference ----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if getattr(self, "encoder_", None) is None or getattr(self, "weights_", None) is None:
            raise RuntimeError("this SentimentClassifier is not fitted: call fit() or sentilstm.load()")

    def keras_model(self) -> Any:
        """The Keras model with this classifier's weights (built on first use; imports Keras)."""
        self._check_fitted()
        if self.__dict__.get("_keras_model") is None:
            from sentilstm.nn.model import build_model, set_weight_dict

            model = build_model(self.config_.model, top_temperature=TOP_SCALE_WEIGHTS in self.engine_weights)
            set_weight_dict(model, self.engine_weights)
            self.__dict__["_keras_model"] = model
        return self.__dict__["_keras_model"]

    def encode(self, texts: Texts) -> list[list[int]]:
        self._check_fitted()
        assert self.encoder is not None
        return self.encoder.encode(as_texts(texts))

    def onnx_runtime(self) -> Any:
        """The :class:`~sentilstm.runtime.onnx.OnnxRuntime` of this classifier (built once, on first use)."""
        self._check_fitted()
        if self._onnx is None:
            from sentilstm.runtime.onnx import OnnxRuntime, onnxruntime_available

            if not onnxruntime_available():
                raise ImportError("engine 'onnx' needs onnxruntime and onnx: pip install onnxruntime onnx")
            self._onnx = OnnxRuntime.from_weights(self.config_.model, self.engine_weights,  # type: ignore[arg-type]
                                                  workers=self._n_threads())
        return self._onnx

    def predict_proba(self, texts: Texts, batch_size: int = 256, engine: str = "auto") -> np.ndarray:
        """Probabilities ``(n, 3)`` in LABELS order, rows summing to 1, in input order.

        ``engine``: ``"onnx"`` (onnxruntime; the fastest on many texts), ``"numpy"`` (starts
        instantly), ``"keras"`` (the Keras model; imports TensorFlow), or ``"auto"`` (default):
        numpy below ``ONNX_MIN_TEXTS`` texts or without onnxruntime, else onnx.  All agree
        within 1e-5 (tested).
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
        self._check_fitted()
        assert self.encoder is not None
        limit_tokenizer_threads(self._n_threads())  # before this process's first batch (threads.py)
        items = as_texts(texts)
        if engine == "auto":
            from sentilstm.runtime.onnx import onnxruntime_available

            engine = "onnx" if len(items) >= ONNX_MIN_TEXTS and onnxruntime_available() else "numpy"
        if engine == "onnx":
            return self.onnx_runtime().predict_texts(items, self.encoder.encode, batch_size)
        seqs = self.encoder.encode(items)
        if engine == "numpy":
            assert self.runtime_ is not None
            out = np.zeros((len(seqs), len(LABELS)), dtype=np.float32)
            runtime = self.runtime_

            def run(idx: np.ndarray, x: np.ndarray) -> None:
                out[idx] = runtime(x)

            batches = list(TextEncoder.buckets(seqs, batch_size, multiple=1))
            threads = self._n_threads()
            with single_blas_thread():  # small matmuls: extra BLAS threads only slow it (threads.py)
                if threads == 1 or len(batches) <= 1:
                    for idx, x in batches:
                        run(idx, x)
                else:  # batches side by side on `threads` threads (NumPy releases the GIL); same numbers
                    from concurrent.futures import ThreadPoolExecutor

                    with ThreadPoolExecutor(min(threads, len(batches))) as pool:
                        for f in [pool.submit(run, idx, x) for idx, x in batches]:
                            f.result()
            return out
        if engine == "keras":
            from sentilstm.training.loop import predict_keras

            return predict_keras(self.keras_model(), seqs, batch_size)
        raise AssertionError(engine)  # pragma: no cover - checked above

    def predict(self, texts: Texts, batch_size: int = 256) -> list[str]:
        """The most probable label of each text."""
        return [LABELS[i] for i in self.predict_proba(texts, batch_size).argmax(axis=1)]

    def score(self, texts: Texts, labels: Any) -> float:
        """AvgRec (macro-averaged recall, SemEval-2017's main measure) on labelled data, as a float.

        scikit-learn's ``score`` (higher is better); :meth:`scores` gives every metric.
        """
        return float(self.scores(texts, labels)["avg_recall"])

    def scores(self, texts: Texts, labels: Any) -> dict[str, Any]:
        """Metrics (AvgRec, F1PN, macro-F1, accuracy, per class, confusion) on labelled data."""
        from sentilstm.metrics import classification_scores

        x = as_texts(texts)
        return classification_scores(as_label_ids(labels, len(x)), self.predict_proba(x).argmax(axis=1))

    def classify(self, texts: Texts, batch_size: int = 256) -> Any:
        """Labels and probabilities together: a :class:`~sentilstm.display.Predictions` (a table in notebooks)."""
        from sentilstm.display import Predictions

        x = as_texts(texts)
        return Predictions(x, self.predict_proba(x, batch_size))

    def explain(self, texts: Texts, **options: Any) -> Any:
        """Running sentiment and token attributions; see :func:`sentilstm.classifier.explain`."""
        from sentilstm.explanations.core import explain as explain_texts

        return explain_texts(texts, self, **options)

    def _repr_html_(self) -> str:
        from sentilstm.display import classifier_html

        return classifier_html(self)

    @property
    def n_parameters(self) -> int:
        self._check_fitted()
        return int(sum(np.prod(w.shape) for w in self.weights.values()))  # type: ignore[union-attr]

    def __repr__(self) -> str:
        m = self._effective_config.model
        state = "fitted" if self.weights is not None else "not fitted"
        kind = "BiLSTM" if m.bidirectional else "LSTM"
        return f"SentimentClassifier({kind} {m.layers}x{m.units}, emb {m.embedding_dim}, {state})"


def load(path: str | Path | None = None, threads: int | None = None) -> SentimentClassifier:
    """Load a model bundle; ``None`` loads the default model shipped inside the package.

    ``threads``: CPU threads inference may use (default ``$SENTILSTM_THREADS``, else this
    process's CPUs; clamped to them): see :mod:`sentilstm.threads`."""
    return SentimentClassifier.load(path, threads=threads)


def explain(texts: Texts, model: Any = None, **options: Any) -> Any:
    """:func:`sentilstm.explanations.core.explain` with ``model``: a classifier, a bundle path, or None (the shipped one)."""
    clf = model if isinstance(model, SentimentClassifier) else load(None if model in (None, "default") else model)
    return clf.explain(texts, **options)
