"""Model bundles: one directory with everything a classifier needs, and nothing executable.

    my-model/
      config.json      format version, labels, ClassifierConfig, library versions,
                       training-data summary, dev metrics, SHA-256 of the two files below
                       and of its own content (format version 2)
      tokenizer.json   the HuggingFace ``tokenizers`` tokenizer
      weights.npz      the weights as named float32 arrays (loaded with allow_pickle=False)
      README.md        the model card, written from config.json (model_card.py); checksummed too

Saving is atomic (the directory is written aside and swapped in).  Loading checks every file
and fails with a :class:`BundleError` that names the file at fault: missing, truncated,
tampered with (checksum mismatch) or from an incompatible version, or weights that are not
finite.  ``files["config.json"]`` is the SHA-256 of config.json's canonical content (sorted keys,
no whitespace) without that one field, so editing any value (``max_length``, ``units``) is
caught.  Version-1 bundles (no config checksum) still load, with one warning.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import platform
import warnings
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sentilstm.config import ClassifierConfig
from sentilstm.fileio import atomic_directory
from sentilstm.labels import LABELS
from sentilstm.model_card import CARD, render_card
from sentilstm.text import NORMALIZER_VERSION

__all__ = ["Bundle", "BundleError", "BundleWarning", "save_bundle", "load_bundle", "FORMAT_VERSION",
           "DEFAULT_BUNDLE", "config_checksum", "check_finite"]

FORMAT = "sentilstm-bundle"
FORMAT_VERSION = 2  # 2: config.json's own content is checksummed too
SUPPORTED_VERSIONS = (1, 2)
CONFIG, TOKENIZER, WEIGHTS = "config.json", "tokenizer.json", "weights.npz"
DEFAULT_BUNDLE = Path(__file__).parent / "assets" / "default"


class BundleError(ValueError):
    """A bundle could not be loaded or saved; the message names the file."""


class BundleWarning(UserWarning):
    """A bundle loads, but something in it could not be verified."""


@dataclass
class Bundle:
    config: ClassifierConfig
    tokenizer_json: str
    weights: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)  # training summary, dev metrics, versions


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config_checksum(doc: dict[str, Any]) -> str:
    """SHA-256 of config.json's canonical content, without ``files["config.json"]`` itself."""
    files = {k: v for k, v in (doc.get("files") or {}).items() if k != CONFIG}
    body = {**doc, "files": files}
    return _sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def check_finite(weights: dict[str, np.ndarray], where: str) -> None:
    """Raise :class:`BundleError` if any weight is NaN or infinite (a diverged model)."""
    for name, w in weights.items():
        arr = np.asarray(w)
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).sum())
            raise BundleError(f"{where}: weight {name} has {bad} non-finite value(s) (NaN or inf); "
                              f"the model is broken (training diverged?)")


def save_bundle(path: str | Path, bundle: Bundle, overwrite: bool = False,
                inputs: Any = ()) -> Path:
    """Write ``bundle`` to directory ``path`` atomically; return the path.

    ``path`` may be new, empty or a bundle; anything else only with ``overwrite`` (and never a
    directory holding one of ``inputs``).  Weights that are not finite are refused.
    """
    path = Path(path)
    check_finite(bundle.weights, f"{path}: not saved")
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v, dtype=np.float32) for k, v in bundle.weights.items()})
    weights = buf.getvalue()
    tokenizer = bundle.tokenizer_json.encode("utf-8")
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "labels": list(LABELS),
        "normalizer_version": NORMALIZER_VERSION,
        "config": bundle.config.to_dict(),
        **{k: v for k, v in bundle.meta.items() if k not in ("format", "format_version", "labels", "files")},
    }
    card = render_card(doc).encode("utf-8")
    doc["files"] = {TOKENIZER: _sha256(tokenizer), WEIGHTS: _sha256(weights), CARD: _sha256(card)}
    doc["files"][CONFIG] = config_checksum(doc)
    with atomic_directory(path, "bundle", overwrite=overwrite, inputs=inputs) as tmp:
        (tmp / TOKENIZER).write_bytes(tokenizer)
        (tmp / WEIGHTS).write_bytes(weights)
        (tmp / CARD).write_bytes(card)
        (tmp / CONFIG).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_bundle_config(path: str | Path) -> dict[str, Any]:
    """Read and validate ``config.json`` of the bundle at ``path`` (cheap: no weights)."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"no model bundle at {path}")
    if not path.is_dir():
        raise BundleError(f"{path} is not a model bundle directory (expected {CONFIG}, {TOKENIZER}, {WEIGHTS})")
    cfg_path = path / CONFIG
    try:
        doc = json.loads(cfg_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{cfg_path}: missing; {path} is not a sentilstm model bundle") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BundleError(f"{cfg_path}: not valid JSON ({e}); the file is truncated or corrupted") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BundleError(f"{cfg_path}: not a sentilstm bundle config (no \"format\": \"{FORMAT}\")")
    version = doc.get("format_version")
    if version not in SUPPORTED_VERSIONS:
        raise BundleError(
            f"{cfg_path}: bundle format version {version!r} is not supported by this sentilstm "
            f"(supports {', '.join(map(str, SUPPORTED_VERSIONS))}); retrain or use a matching sentilstm version"
        )
    files = doc.get("files")
    if not isinstance(files, dict):
        raise BundleError(f"{cfg_path}: no \"files\" checksums; the file is truncated or was modified")
    if version >= 2:
        if files.get(CONFIG) != config_checksum(doc):
            raise BundleError(f"{cfg_path}: checksum mismatch (its content was modified after saving); "
                              f"retrain, or restore the saved config.json")
    else:
        warnings.warn(f"{cfg_path}: bundle format version 1, so config.json is unverified (no checksum); "
                      f"re-save the model to add one", BundleWarning, stacklevel=3)
    if tuple(doc.get("labels", ())) != LABELS:
        raise BundleError(f"{cfg_path}: labels {doc.get('labels')} differ from {list(LABELS)}")
    if doc.get("normalizer_version") != NORMALIZER_VERSION:
        raise BundleError(
            f"{cfg_path}: trained with text normaliser v{doc.get('normalizer_version')}, "
            f"this sentilstm has v{NORMALIZER_VERSION}; retrain the model"
        )
    return doc


# Fields added after bundles were first written, and the value such a bundle was trained with
# (the field's default today may differ): a bundle's config says how it was trained.
LEGACY_TRAIN_VALUES = {"embedding_updates": "dense"}


def _with_legacy_defaults(config: dict[str, Any]) -> dict[str, Any]:
    train = config.get("train")
    if not isinstance(train, dict):
        return config
    return {**config, "train": {**{k: v for k, v in LEGACY_TRAIN_VALUES.items() if k not in train}, **train}}


def load_bundle(path: str | Path | None = None) -> Bundle:
    """Load the bundle at ``path`` (default: the shipped default model), verifying every file."""
    path = Path(path) if path is not None else DEFAULT_BUNDLE
    doc = read_bundle_config(path)
    cfg_path = path / CONFIG
    try:
        config = ClassifierConfig.from_dict(_with_legacy_defaults(doc.get("config", {})), where=f"{cfg_path}: config")
    except (TypeError, ValueError) as e:
        raise BundleError(str(e) if str(cfg_path) in str(e) else f"{cfg_path}: {e}") from None
    hashes = doc.get("files", {})
    blobs: dict[str, bytes] = {}
    for name in (TOKENIZER, WEIGHTS, *([CARD] if CARD in hashes else [])):  # bundles older than the card lack it
        p = path / name
        try:
            blobs[name] = p.read_bytes()
        except FileNotFoundError:
            raise BundleError(f"{p}: missing from the bundle") from None
        if _sha256(blobs[name]) != hashes.get(name):
            raise BundleError(f"{p}: checksum mismatch with {CONFIG}; the file is truncated or was modified")
    try:
        with np.load(io.BytesIO(blobs[WEIGHTS]), allow_pickle=False) as npz:
            weights = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise BundleError(f"{path / WEIGHTS}: unreadable weights ({e})") from None
    check_finite(weights, str(path / WEIGHTS))
    meta = {k: v for k, v in doc.items() if k not in ("config", "files")}
    return Bundle(config=config, tokenizer_json=blobs[TOKENIZER].decode("utf-8"), weights=weights, meta=meta)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("sentilstm", "keras", "tensorflow", "tokenizers", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def training_meta(result: Any, y: np.ndarray, dy: np.ndarray, dev_source: str, summary: dict[str, Any],
                  seconds: float, provenance: dict[str, Any]) -> dict[str, Any]:
    """What a trained bundle records of its training: data, epochs, time, init, dev metrics, versions.

    ``result``: the trainer's result (``best_epoch``, ``history``, ``members``, ``dev_metrics``);
    ``y`` / ``dy``: the training and dev label ids actually used."""
    def counts(ids: np.ndarray) -> dict[str, int]:
        return dict(zip(LABELS, map(int, np.bincount(ids, minlength=len(LABELS)))))

    return {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "training": {
            "train": {**summary.get("train", {}), "rows": len(y), "labels": counts(y)},
            "dev": {"source": dev_source, **summary.get("dev", {}), "rows": len(dy), "labels": counts(dy)},
            "best_epoch": result.best_epoch,
            "epochs_run": result.history[-1]["epoch"] if result.history else 0,
            "train_time_s": round(seconds, 1),
            "init": provenance or "scratch",
            "history": result.history,
            **({"members": result.members} if result.members else {}),
        },
        "dev_metrics": dict(result.dev_metrics),
    }
