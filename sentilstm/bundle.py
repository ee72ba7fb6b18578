"""Model bundles: one directory with everything a classifier needs, and nothing executable.

    my-model/
      config.json      format version, labels, ClassifierConfig, library versions,
                       training-data summary, dev metrics, SHA-256 of the two files below
      tokenizer.json   the HuggingFace ``tokenizers`` tokenizer
      weights.npz      the weights as named float32 arrays (loaded with allow_pickle=False)
      README.md        the model card, written from config.json (model_card.py); checksummed too

Saving is atomic (the directory is written aside and swapped in).  Loading checks every file
and fails with a :class:`BundleError` that names the file at fault: missing, truncated,
tampered with (checksum mismatch) or from an incompatible version.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import ClassifierConfig
from .fileio import atomic_directory
from .labels import LABELS
from .model_card import CARD, render_card
from .text import NORMALIZER_VERSION

__all__ = ["Bundle", "BundleError", "save_bundle", "load_bundle", "FORMAT_VERSION", "DEFAULT_BUNDLE"]

FORMAT = "sentilstm-bundle"
FORMAT_VERSION = 1
CONFIG, TOKENIZER, WEIGHTS = "config.json", "tokenizer.json", "weights.npz"
DEFAULT_BUNDLE = Path(__file__).parent / "assets" / "default"


class BundleError(ValueError):
    """A bundle could not be loaded or saved; the message names the file."""


@dataclass
class Bundle:
    config: ClassifierConfig
    tokenizer_json: str
    weights: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)  # training summary, dev metrics, versions


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_bundle(path: str | Path, bundle: Bundle) -> Path:
    """Write ``bundle`` to directory ``path`` atomically; return the path."""
    path = Path(path)
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
    with atomic_directory(path, marker=CONFIG) as tmp:
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
    if version != FORMAT_VERSION:
        raise BundleError(
            f"{cfg_path}: bundle format version {version!r} is not supported by this sentilstm "
            f"(supports {FORMAT_VERSION}); retrain or use a matching sentilstm version"
        )
    if tuple(doc.get("labels", ())) != LABELS:
        raise BundleError(f"{cfg_path}: labels {doc.get('labels')} differ from {list(LABELS)}")
    if doc.get("normalizer_version") != NORMALIZER_VERSION:
        raise BundleError(
            f"{cfg_path}: trained with text normaliser v{doc.get('normalizer_version')}, "
            f"this sentilstm has v{NORMALIZER_VERSION}; retrain the model"
        )
    return doc


def load_bundle(path: str | Path | None = None) -> Bundle:
    """Load the bundle at ``path`` (default: the shipped default model), verifying every file."""
    path = Path(path) if path is not None else DEFAULT_BUNDLE
    doc = read_bundle_config(path)
    cfg_path = path / CONFIG
    try:
        config = ClassifierConfig.from_dict(doc.get("config", {}), where=f"{cfg_path}: config")
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
    meta = {k: v for k, v in doc.items() if k not in ("config", "files")}
    return Bundle(config=config, tokenizer_json=blobs[TOKENIZER].decode("utf-8"), weights=weights, meta=meta)
