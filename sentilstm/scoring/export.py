"""Export a model for serving without sentilstm: an ONNX graph or a TensorFlow SavedModel.

Both take token ids and return probabilities; the directory also holds the tokenizer and a
description (``export.json``, ``README.md``) of how texts become ids.  Each export is checked
against the NumPy runtime on random token ids before it replaces ``out`` (atomically).

    out/  model.onnx | saved_model.pb + variables/     the network
          tokenizer.json                                HuggingFace tokenizers
          export.json, README.md                        inputs, outputs, preprocessing
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from sentilstm.version import __version__
from sentilstm.fileio import atomic_directory, check_output
from sentilstm.labels import LABELS
from sentilstm.text import NORMALIZER_VERSION

__all__ = ["export_model", "FORMATS", "ONNX_FILE"]

FORMATS = ("onnx", "savedmodel")
ONNX_FILE, SAVEDMODEL_FILE, DESCRIPTION = "model.onnx", "saved_model.pb", "export.json"
TOLERANCE = 1e-5  # largest probability difference to the NumPy runtime an export may show


def _random_ids(vocab_size: int, seed: int = 0) -> np.ndarray:
    """Right-padded token ids of assorted lengths (1 to 40) for the export's self-check."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 41, 64)
    ids = np.zeros((len(lengths), 40), dtype=np.int64)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.integers(1, vocab_size, n)
    return ids


def _check(name: str, got: np.ndarray, want: np.ndarray) -> None:
    diff = float(np.max(np.abs(got - want)))
    if not diff <= TOLERANCE:
        raise RuntimeError(f"{name} export differs from the model by {diff:.2g} (> {TOLERANCE}); not written")


def _description(clf: Any, fmt: str, source: str) -> dict[str, Any]:
    tc = clf.config_.tokenizer
    dtype = "int64" if fmt == "onnx" else "int32"
    return {
        "format": fmt,
        "file": ONNX_FILE if fmt == "onnx" else "(SavedModel directory, signature 'serve')",
        "sentilstm_version": __version__,
        "source_model": source,
        "model": repr(clf),
        "inputs": {"token_ids": {"dtype": dtype, "shape": ["batch", "time"],
                                 "padding": "right-padded with 0 ([PAD]); any time length"}},
        "outputs": {"probabilities": {"dtype": "float32", "shape": ["batch", len(LABELS)], "labels": list(LABELS)}},
        "preprocessing": {
            "steps": [f"cut the text to its first {50 * tc.max_length} characters",
                      f"sentilstm.text.normalize (normaliser version {NORMALIZER_VERSION})",
                      "tokenizer.json: tokenizer.encode(text, add_special_tokens=False).ids",
                      f"keep the first {tc.max_length} ids; an empty result becomes [1] ([UNK])"],
            "tokenizer": "tokenizer.json",
            "max_length": tc.max_length,
        },
    }


_README = """# sentilstm export ({fmt})

{model}, exported by sentilstm {version} from `{source}`.

Input `token_ids`: {dtype} `[batch, time]`, right-padded with 0. Output `probabilities`:
float32 `[batch, 3]`, columns {labels}. How texts become ids is in `export.json`; with
sentilstm installed, `sentilstm.load(MODEL).encode(texts)` does it.

```python
{example}
```
"""

_EXAMPLES = {
    "onnx": """import numpy as np, onnxruntime as ort
sess = ort.InferenceSession("model.onnx")
ids = np.array([[2031, 87, 15, 0]], dtype=np.int64)        # right-padded with 0
probs = sess.run(None, {"token_ids": ids})[0]""",
    "savedmodel": """import numpy as np, tensorflow as tf
serve = tf.saved_model.load("OUT").signatures["serve"]
ids = np.array([[2031, 87, 15, 0]], dtype=np.int32)        # right-padded with 0
probs = list(serve(tf.constant(ids)).values())[0].numpy()""",
}


def _write_docs(tmp: Path, clf: Any, fmt: str, source: str) -> None:
    doc = _description(clf, fmt, source)
    (tmp / "tokenizer.json").write_text(clf.encoder.to_str(), encoding="utf-8")
    (tmp / DESCRIPTION).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    readme = _README.format(fmt=fmt, model=doc["model"], version=__version__, source=source,
                            dtype=doc["inputs"]["token_ids"]["dtype"], labels=", ".join(LABELS),
                            example=_EXAMPLES[fmt])
    (tmp / "README.md").write_text(readme, encoding="utf-8")


def _export_onnx(clf: Any, tmp: Path) -> None:
    import onnx

    from sentilstm.runtime.onnx import build_onnx_model
    from sentilstm.runtime.onnx import OnnxRuntime

    model = build_onnx_model(clf.config_.model, clf.engine_weights)
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString()
    ids = _random_ids(clf.config_.model.vocab_size)
    _check("onnx", OnnxRuntime(data, workers=1)(ids), clf.runtime_(ids))
    (tmp / ONNX_FILE).write_bytes(data)


def _export_savedmodel(clf: Any, tmp: Path) -> None:
    import tensorflow as tf

    model = clf.keras_model()
    ids = _random_ids(clf.config_.model.vocab_size).astype(np.int32)
    model(ids[:2])  # Keras refuses to export a model that has never been called
    target = tmp / "savedmodel"  # Keras writes a fresh directory; its content moves up below
    model.export(str(target), format="tf_saved_model", verbose=False)
    for item in target.iterdir():
        shutil.move(str(item), tmp / item.name)
    target.rmdir()
    serve = tf.saved_model.load(str(tmp)).signatures["serve"]
    got = list(serve(tf.constant(ids)).values())[0].numpy()
    _check("savedmodel", got, clf.runtime_(ids))


def export_model(model: str | Path | None, out: str | Path, fmt: str, overwrite: bool = False) -> Path:
    """Export the bundle ``model`` (``None``/``"default"``: the shipped one) to directory ``out``.

    ``out`` may be a previous export of the same format (it is replaced) or a new or empty
    directory; anything else is refused unless ``overwrite`` (and never the model itself).
    """
    from sentilstm.classifier import load

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    inputs = [model] if model is not None and str(model) != "default" else []
    kind = f"export-{fmt}"
    check_output(out, kind, overwrite=overwrite, inputs=inputs)  # before the (slow) export
    clf = load(model)
    source = str(model) if model is not None else "default"
    with atomic_directory(out, kind, overwrite=overwrite, inputs=inputs) as tmp:
        (_export_onnx if fmt == "onnx" else _export_savedmodel)(clf, tmp)
        _write_docs(tmp, clf, fmt, source)
    return out
