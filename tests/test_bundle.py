"""Bundles: exact round trip, clear errors for broken bundles, atomic saves."""

import json
import shutil

import numpy as np
import pytest

import sentilstm
from sentilstm.bundle import FORMAT_VERSION, BundleError, BundleWarning, config_checksum, load_bundle, save_bundle


def _write_signed(b, doc):
    """Write config.json as a (hypothetical) sentilstm would: with a valid checksum of its content."""
    doc["files"]["config.json"] = config_checksum(doc)
    (b / "config.json").write_text(json.dumps(doc))


def test_roundtrip_reproduces_predictions_exactly(tiny_model, tmp_path, dev_data):
    clf = sentilstm.load(tiny_model)
    texts = dev_data.texts[:200]
    clf.save(tmp_path / "copy")
    again = sentilstm.load(tmp_path / "copy")
    np.testing.assert_array_equal(clf.predict_proba(texts), again.predict_proba(texts))
    cfg = json.loads((tmp_path / "copy" / "config.json").read_text())
    assert cfg["labels"] == list(sentilstm.LABELS)
    assert cfg["format_version"] == FORMAT_VERSION == 2
    assert cfg["files"]["config.json"] == config_checksum(cfg)
    assert {"keras", "tokenizers", "numpy"} <= set(cfg["versions"])
    assert cfg["training"]["train"]["rows"] == 3000
    assert 0 < cfg["dev_metrics"]["avg_recall"] <= 1


def _copy(src, tmp_path):
    dst = tmp_path / "b"
    shutil.copytree(src, dst)
    return dst


def test_missing_bundle(tmp_path):
    with pytest.raises(BundleError, match="no model bundle at"):
        load_bundle(tmp_path / "nope")


@pytest.mark.parametrize("name", ["config.json", "tokenizer.json", "weights.npz"])
def test_missing_file_is_named(tiny_model, tmp_path, name):
    b = _copy(tiny_model, tmp_path)
    (b / name).unlink()
    with pytest.raises(BundleError, match=name.replace(".", r"\.")):
        load_bundle(b)


def test_truncated_weights(tiny_model, tmp_path):
    b = _copy(tiny_model, tmp_path)
    data = (b / "weights.npz").read_bytes()
    (b / "weights.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match=r"weights\.npz: checksum mismatch"):
        load_bundle(b)


def test_tampered_tokenizer(tiny_model, tmp_path):
    b = _copy(tiny_model, tmp_path)
    tok = (b / "tokenizer.json").read_text()
    (b / "tokenizer.json").write_text(tok.replace('"[UNK]"', '"[UNK2]"', 1))
    with pytest.raises(BundleError, match=r"tokenizer\.json: checksum mismatch"):
        load_bundle(b)


def test_truncated_config(tiny_model, tmp_path):
    b = _copy(tiny_model, tmp_path)
    text = (b / "config.json").read_text()
    (b / "config.json").write_text(text[: len(text) // 2])
    with pytest.raises(BundleError, match=r"config\.json: not valid JSON"):
        load_bundle(b)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(format_version=99), "format version 99 is not supported"),
        (lambda d: d.update(labels=["a", "b", "c"]), "labels"),
        (lambda d: d["config"]["model"].update(wings=2), "unknown option"),
        (lambda d: d.update(normalizer_version=0), "normaliser"),
    ],
)
def test_incompatible_config(tiny_model, tmp_path, edit, message):
    b = _copy(tiny_model, tmp_path)
    doc = json.loads((b / "config.json").read_text())
    edit(doc)
    _write_signed(b, doc)
    with pytest.raises(BundleError, match=message):
        load_bundle(b)


@pytest.mark.parametrize("edit", [
    lambda d: d["config"]["tokenizer"].update(max_length=2),   # loaded silently before bundle format 2
    lambda d: d["config"]["model"].update(units=d["config"]["model"]["units"] * 2),  # made `info` lie
    lambda d: d["dev_metrics"].update(avg_recall=0.99),
])
def test_edited_config_fails_its_checksum(tiny_model, tmp_path, edit):
    b = _copy(tiny_model, tmp_path)
    doc = json.loads((b / "config.json").read_text())
    edit(doc)
    (b / "config.json").write_text(json.dumps(doc, indent=4))
    with pytest.raises(BundleError, match=r"config\.json: checksum mismatch"):
        load_bundle(b)
    # whitespace and key order are not content: a re-indented, unedited config still loads
    doc = json.loads((tiny_model / "config.json").read_text())
    (b / "config.json").write_text(json.dumps(dict(reversed(list(doc.items()))), indent=1))
    load_bundle(b)


def test_version_1_bundle_loads_with_one_warning(tiny_model, tmp_path, recwarn):
    b = _copy(tiny_model, tmp_path)
    doc = json.loads((b / "config.json").read_text())
    doc["format_version"] = 1
    del doc["files"]["config.json"]
    (b / "config.json").write_text(json.dumps(doc))
    clf = sentilstm.load(b)
    warned = [w for w in recwarn.list if issubclass(w.category, BundleWarning)]
    assert len(warned) == 1 and "config.json is unverified" in str(warned[0].message)
    assert clf.predict(["I love it"]) == sentilstm.load(tiny_model).predict(["I love it"])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_refused_on_load_and_save(tiny_model, tmp_path, bad):
    import hashlib
    import io

    b = _copy(tiny_model, tmp_path)
    bundle = load_bundle(b)
    name = sorted(bundle.weights)[0]
    bundle.weights[name] = bundle.weights[name].copy()
    bundle.weights[name].flat[0] = bad
    with pytest.raises(BundleError, match="non-finite"):
        save_bundle(tmp_path / "broken", bundle)
    assert not (tmp_path / "broken").exists()
    buf = io.BytesIO()  # a bundle written by something else, checksums valid, weights broken
    np.savez(buf, **bundle.weights)
    (b / "weights.npz").write_bytes(buf.getvalue())
    doc = json.loads((b / "config.json").read_text())
    doc["files"]["weights.npz"] = hashlib.sha256(buf.getvalue()).hexdigest()
    _write_signed(b, doc)
    with pytest.raises(BundleError, match=rf"weights\.npz: weight {name} has 1 non-finite"):
        load_bundle(b)


def test_pickled_weights_are_refused(tiny_model, tmp_path):
    """A bundle whose weights need pickle (object arrays) is refused, never unpickled."""
    import hashlib
    import io

    b = _copy(tiny_model, tmp_path)
    buf = io.BytesIO()
    np.savez(buf, evil=np.array([{"x": 1}], dtype=object))
    (b / "weights.npz").write_bytes(buf.getvalue())
    doc = json.loads((b / "config.json").read_text())
    doc["files"]["weights.npz"] = hashlib.sha256(buf.getvalue()).hexdigest()
    _write_signed(b, doc)
    with pytest.raises(BundleError, match="unreadable weights"):
        load_bundle(b)


def test_crash_during_save_leaves_old_bundle_intact(tiny_model, tmp_path, monkeypatch):
    b = _copy(tiny_model, tmp_path)
    before = {p.name: p.read_bytes() for p in b.iterdir()}
    bundle = load_bundle(b)

    def boom(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr("pathlib.Path.write_text", boom)
    with pytest.raises(OSError, match="simulated"):
        save_bundle(b, bundle)
    assert {p.name: p.read_bytes() for p in b.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["b"]  # no temporary directory left behind


def test_refuses_to_replace_unrelated_directory(tiny_model, tmp_path):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(FileExistsError, match="refusing"):
        save_bundle(other, load_bundle(tiny_model))
    assert (other / "cat.jpg").exists()


def test_refuses_a_folder_with_a_users_config_json(tiny_model, tmp_path):
    """Issue 14: a training config.json is not a bundle's; the folder (and the data in it) stays."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "config.json").write_text('{"train": {"epochs": 1}}')
    (proj / "tr.jsonl").write_text('{"text": "a", "label": "positive"}\n')
    before = {p.name: p.read_bytes() for p in proj.iterdir()}
    with pytest.raises(FileExistsError, match="refusing to replace a directory sentilstm did not write"):
        sentilstm.load(tiny_model).save(proj)
    assert {p.name: p.read_bytes() for p in proj.iterdir()} == before
    # --overwrite replaces it, except when it holds an input of the run
    with pytest.raises(FileExistsError, match="an input of this run"):
        sentilstm.load(tiny_model).save(proj, overwrite=True, inputs=[proj / "tr.jsonl"])
    assert {p.name: p.read_bytes() for p in proj.iterdir()} == before
    sentilstm.load(tiny_model).save(proj, overwrite=True)
    assert sorted(p.name for p in proj.iterdir()) == ["README.md", "config.json", "tokenizer.json", "weights.npz"]


def test_overwrite_existing_bundle(tiny_model, tmp_path):
    b = _copy(tiny_model, tmp_path)
    bundle = load_bundle(b)
    bundle.meta["note"] = "second save"
    save_bundle(b, bundle)
    assert json.loads((b / "config.json").read_text())["note"] == "second save"
