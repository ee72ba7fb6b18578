"""Issue 14, writing and models: no output ever destroys a user's file, and no broken model is saved.

One table of cases x entry points (CLI ``train --out``, ``predict --out``, ``evaluate --report``,
``export`` and the Python API ``save``).  Each case asserts the exit status, one message line
without a traceback, the user's files byte for byte, and that no temporary is left.  Each run
also counts into :data:`TALLY` (tracebacks, silent row changes, overwritten user files, broken
models saved); ``SENTILSTM_SAFETY_TABLE=FILE`` writes that table as JSON at the end.  Plus kill -9
tests: a bundle save and a ``predict --out`` killed mid-write leave the old file or the new one,
never half, and the next write sweeps the temporary.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import sentilstm
from sentilstm.cli import main
from sentilstm.fileio import OutputError, check_output, sweep_temporaries, temporary_name
import sentilstm.training.local  # noqa: F401
import sentilstm.training.loop  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
TALLY: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"runs": 0, "tracebacks": 0, "row_changes": 0,
                                                                    "overwritten": 0, "broken_models": 0})


@pytest.fixture(scope="module", autouse=True)
def _write_table():
    yield
    target = os.environ.get("SENTILSTM_SAFETY_TABLE")
    if target:
        rows = [{"case": c, "entry": e, **v} for (c, e), v in sorted(TALLY.items())]
        Path(target).write_text(json.dumps(rows, indent=1))


WORDS = {"negative": "awful bad terrible hate worst".split(), "neutral": "table chair report monday bus".split(),
         "positive": "love great good nice best".split()}
TINY = {"tokenizer": {"model": "wordpiece", "vocab_size": 100, "max_length": 16},
        "model": {"embedding_dim": 4, "units": 2, "pretrained_embeddings": None},
        "train": {"init": "scratch", "epochs": 1, "batch_size": 16, "seed": 1, "evals_per_epoch": 1,
                  "freeze_embedding_epochs": 0}}


def _labelled(n_per_class: int, seed: int = 0, classes=tuple(WORDS)) -> str:
    rng = random.Random(seed)
    rows = [{"text": " ".join(rng.choice(WORDS[c]) for _ in range(5)), "label": c}
            for c in classes for _ in range(n_per_class)]
    rng.shuffle(rows)
    return "".join(json.dumps(r) + "\n" for r in rows)


@pytest.fixture()
def ws(tmp_path, monkeypatch):
    """A working directory with a user's project: their config.json, their data, their notes."""
    monkeypatch.chdir(tmp_path)
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "config.json").write_text(json.dumps(TINY))
    (proj / "tr.jsonl").write_text(_labelled(15))
    (proj / "dev.jsonl").write_text(_labelled(5, seed=1))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("\\chapter{mine}\n")
    (tmp_path / "texts.txt").write_text("I love it\nawful\n\nmeh, a table\n")
    (tmp_path / "mine.csv").write_text("a,b\n1,2\n")
    return tmp_path


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (the user's, and any temporary), by path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _temporaries(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if ".sentilstm-tmp-" in p.name
            or ".sentilstm-old-" in p.name]


def _cli(*args: str):
    started = time.perf_counter()
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r, time.perf_counter() - started


def _run(entry: str, dest: str, model: Path, overwrite: bool = False):
    """Run ``entry`` writing to ``dest``; (exit code, stderr, seconds)."""
    flag = ["--overwrite"] if overwrite else []
    if entry == "api-save":
        try:
            clf = sentilstm.load(model)
            clf.meta["note"] = "saved again"
            clf.save(dest, overwrite=overwrite, inputs=["proj/tr.jsonl"])
            return 0, "", 0.0
        except Exception as e:  # noqa: BLE001
            return 1, f"{type(e).__name__}: {e}\n", 0.0
    args = {
        "train": ["train", "--config", "proj/config.json", "--data", "proj/tr.jsonl", "--dev", "proj/dev.jsonl",
                  "--out", dest, "-q"],
        "predict": ["predict", "-m", model, "--file", "texts.txt", "--out", dest],
        "evaluate": ["evaluate", "-m", model, "--data", "proj/dev.jsonl", "-o", dest],
        "export": ["export", "--format", "onnx", "-m", model, "-o", dest],
        "explain": ["explain", "-m", model, "--method", "occlusion", "--format", "html", "good", "--out", dest],
    }[entry]
    r, seconds = _cli(*args, *flag)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        return 99, f"Traceback: {r.exception!r}", seconds
    return r.exit_code, r.stderr, seconds


ENTRIES = ["train", "predict", "evaluate", "export", "api-save", "explain"]
DIR_ENTRIES = ["train", "evaluate", "export", "api-save"]

# (case, entries, dest, overwrite, expected exit, message); every one of these is refused before any work
REFUSED = [
    ("user folder with its own config.json", DIR_ENTRIES, "proj", False, 1, "refusing to replace a directory"),
    ("... with --overwrite, holding an input", ["train", "evaluate", "api-save"], "proj", True, 1,
     "an input of this run"),
    ("unrelated non-empty folder", DIR_ENTRIES, "notes", False, 1, "refusing to replace a directory"),
    ("an existing file", DIR_ENTRIES, "mine.csv", False, 1, "exists and is a file"),
    ("the current directory", ENTRIES, ".", False, 1, "current directory"),
    ("a user's file", ["explain"], "mine.csv", False, 1, "refusing to replace a file sentilstm did not write"),
    ("a folder as --out FILE", ["explain"], "notes", False, 1, "is a directory"),
    ("the parent directory", DIR_ENTRIES, "..", False, 1, "current directory"),
    ("unwritable place (/proc)", ENTRIES, "/proc/sentilstm-out.parquet", False, 1, "cannot be written"),
    ("the input file itself", ["predict"], "texts.txt", False, 1, "an input of this run"),
    ("... with --overwrite", ["predict"], "texts.txt", True, 1, "an input of this run"),
    ("a user's .csv", ["predict"], "mine.csv", False, 1, "refusing to replace a file sentilstm did not write"),
    ("unknown suffix", ["predict"], "scored.txt", False, 1, "cannot tell the output format"),
    ("a folder as --out FILE", ["predict"], "notes", False, 1, "is a directory"),
]


@pytest.mark.parametrize("case, entry, dest, overwrite, code, message",
                         [(c, e, d, o, code, m) for c, es, d, o, code, m in REFUSED for e in es],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_refused_outputs_leave_everything_untouched(ws, tiny_model, case, entry, dest, overwrite, code, message):
    before = _snapshot(ws)
    got, err, seconds = _run(entry, dest, tiny_model, overwrite)
    tally = TALLY[(case, entry)]
    tally["runs"] += 1
    tally["tracebacks"] += "Traceback" in err
    tally["overwritten"] += _snapshot(ws) != before
    tally["broken_models"] += 0
    assert got == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err
    assert _snapshot(ws) == before  # nothing written, nothing removed, not even a temporary
    assert seconds < 2.0, f"{entry} took {seconds:.1f}s to refuse: the check must come before any work"


def _artefact(kind: str, path: Path, tiny_model: Path) -> None:
    """A previous sentilstm output of ``kind`` at ``path``."""
    if kind == "bundle":
        shutil.copytree(tiny_model, path)
    elif kind == "report":
        path.mkdir()
        (path / "report.json").write_text(json.dumps({"schema": "sentilstm-report", "schema_version": 1}))
    elif kind == "export":
        path.mkdir()
        (path / "export.json").write_text(json.dumps({"format": "onnx", "sentilstm_version": "0"}))
    elif kind == "explanation":
        path.write_text('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                        '<title>sentilstm explanations</title></head><body></body></html>\n')
    else:
        path.write_text("text,label,p_negative,p_neutral,p_positive\nx,neutral,0.1,0.8,0.1\n")


SAME_KIND = {"train": "bundle", "api-save": "bundle", "evaluate": "report", "export": "export", "predict": "scores",
             "explain": "explanation"}


@pytest.mark.parametrize("entry", ENTRIES)
def test_replaces_its_own_kind_and_refuses_another_kind(ws, tiny_model, entry):
    ext = {"predict": ".csv", "explain": ".html"}.get(entry, "")
    own, other = ws / f"own{ext}", ws / f"other{ext}"
    _artefact(SAME_KIND[entry], own, tiny_model)
    other_kind = {"bundle": "report", "report": "bundle", "export": "bundle", "scores": None,
                  "explanation": "scores"}[SAME_KIND[entry]]
    if other_kind:
        _artefact(other_kind, other, tiny_model)
    else:  # a Parquet file (from pandas, not sentilstm) under a scores name
        import pyarrow as pa
        import pyarrow.parquet as pq

        other = ws / "other.parquet"
        pq.write_table(pa.table({"text": ["x"], "label": ["neutral"]}), other)
    before = _snapshot(ws)
    got, err, _ = _run(entry, other.name, tiny_model)
    tally = TALLY[("an artefact of another kind", entry)]
    tally["runs"] += 1
    tally["tracebacks"] += "Traceback" in err
    tally["overwritten"] += _snapshot(ws) != before
    assert got == 1 and "refusing to replace" in err and len(err.strip().splitlines()) == 1, err
    assert _snapshot(ws) == before

    got, err, _ = _run(entry, own.name, tiny_model)
    tally = TALLY[("an artefact of the same kind (replaced)", entry)]
    tally["runs"] += 1
    tally["tracebacks"] += "Traceback" in err
    assert got == 0, err
    assert _temporaries(ws) == []
    after = _snapshot(ws)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed and all(k.startswith(own.name) for k in changed), changed  # only the destination changed
    if entry in ("train", "api-save"):
        tally["broken_models"] += not all(np.isfinite(w).all() for w in sentilstm.load(own).weights.values())


def test_overwrite_replaces_a_foreign_folder_but_only_when_asked(ws, tiny_model):
    before = _snapshot(ws / "notes")
    got, err, _ = _run("evaluate", "notes", tiny_model)
    assert got == 1 and _snapshot(ws / "notes") == before
    got, err, _ = _run("evaluate", "notes", tiny_model, overwrite=True)
    assert got == 0, err
    assert (ws / "notes" / "report.json").is_file() and not (ws / "notes" / "thesis.tex").exists()
    assert _temporaries(ws) == []


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_a_link_to_the_input_counts_as_the_input(ws, tiny_model, link):
    (os.symlink if link == "symlink" else os.link)("texts.txt", "alias.csv")
    before = _snapshot(ws)
    r, _ = _cli("predict", "-m", tiny_model, "--file", "alias.csv" if link == "symlink" else "texts.txt",
                "--out", "texts.txt" if link == "symlink" else "alias.csv", "--out-format", "csv", "--overwrite")
    TALLY[(f"a {link} to the input", "predict")]["runs"] += 1
    TALLY[(f"a {link} to the input", "predict")]["overwritten"] += _snapshot(ws) != before
    assert r.exit_code == 1 and "an input of this run" in r.stderr, r.stderr
    assert _snapshot(ws) == before


@pytest.mark.parametrize("fmt", ["parquet", "csv", "tsv", "jsonl", "json"])
def test_predict_out_format_follows_the_name_and_keeps_every_row(ws, tiny_model, fmt):
    import pandas as pd

    out = ws / f"scored.{fmt}"
    r, _ = _cli("predict", "-m", tiny_model, "--file", "texts.txt", "--out", out)
    assert r.exit_code == 0, r.stderr
    rows = ["I love it", "awful", "", "meh, a table"]
    if fmt == "parquet":
        df = pd.read_parquet(out)
        assert out.read_bytes()[:4] == b"PAR1"
    elif fmt in ("csv", "tsv"):
        df = pd.read_csv(out, sep="\t" if fmt == "tsv" else ",", keep_default_na=False, dtype={"text": str})
    elif fmt == "jsonl":
        df = pd.DataFrame([json.loads(line) for line in out.read_text().splitlines()])
    else:
        df = pd.DataFrame(json.loads(out.read_text()))
    TALLY[(f"--out x.{fmt}", "predict")]["runs"] += 1
    TALLY[(f"--out x.{fmt}", "predict")]["row_changes"] += df["text"].tolist() != rows
    assert df["text"].tolist() == rows  # every row, in order, none blank or split
    assert list(df.columns) == ["text", "label", "p_negative", "p_neutral", "p_positive"]
    want = sentilstm.load(tiny_model).predict_proba(rows)
    np.testing.assert_allclose(df[["p_negative", "p_neutral", "p_positive"]].to_numpy(float), want, atol=1e-6)
    again, _ = _cli("predict", "-m", tiny_model, "--file", "texts.txt", "--out", out)  # its own file: replaced
    assert again.exit_code == 0, again.stderr
    # an explicit --out-format wins over the name
    r, _ = _cli("predict", "-m", tiny_model, "--file", "texts.txt", "--out", "x.data", "--out-format", fmt)
    assert r.exit_code == 0, r.stderr
    assert (ws / "x.data").read_bytes() == out.read_bytes() or fmt == "parquet"
    assert _temporaries(ws) == []


def test_predict_over_the_input_with_an_explicit_format(ws, tiny_model):
    before = _snapshot(ws)
    r, _ = _cli("predict", "-m", tiny_model, "--file", "texts.txt", "--out", "texts.txt", "--out-format", "csv")
    assert r.exit_code == 1 and "an input of this run" in r.stderr
    assert _snapshot(ws) == before


def test_model_directory_is_an_input(ws, tiny_model):
    shutil.copytree(tiny_model, ws / "m")
    before = _snapshot(ws)
    for args in (["predict", "-m", "m", "--file", "texts.txt", "--out", "m/config.json", "--overwrite"],
                 ["export", "--format", "onnx", "-m", "m", "-o", "m", "--overwrite"],
                 ["evaluate", "-m", "m", "--data", "proj/dev.jsonl", "-o", "m", "--overwrite"]):
        r, _ = _cli(*args)
        TALLY[("inside the model bundle read", args[0])]["runs"] += 1
        TALLY[("inside the model bundle read", args[0])]["overwritten"] += _snapshot(ws) != before
        assert r.exit_code == 1 and "input of this run" in r.stderr, (args, r.stderr)
        assert _snapshot(ws) == before


# -- models -------------------------------------------------------------------------------------
def test_train_refuses_a_missing_or_rare_class(ws):
    (ws / "two.jsonl").write_text(_labelled(15, classes=("negative", "positive")))
    (ws / "rare.jsonl").write_text(_labelled(15, classes=("negative", "positive")) + _labelled(3, classes=("neutral",)))
    for data in ("two.jsonl", "rare.jsonl"):
        r, _ = _cli("train", "--config", "proj/config.json", "--data", data, "--out", "m-" + data, "-q")
        TALLY[("a class missing or rare", "train")]["runs"] += 1
        TALLY[("a class missing or rare", "train")]["broken_models"] += (ws / ("m-" + data)).exists()
        assert r.exit_code == 1 and "too few examples of neutral" in r.stderr, r.stderr
        assert "--allow-missing-classes" in r.stderr and "Traceback" not in r.stderr
        assert not (ws / ("m-" + data)).exists()


def test_allow_missing_classes_trains_anyway(ws):
    (ws / "two.jsonl").write_text(_labelled(15, classes=("negative", "positive")))
    r, _ = _cli("train", "--config", "proj/config.json", "--data", "two.jsonl", "--dev", "proj/dev.jsonl",
                "--out", "m", "-q", "--allow-missing-classes")
    assert r.exit_code == 0, r.stderr
    assert sentilstm.load(ws / "m").meta["training"]["train"]["labels"]["neutral"] == 0
    from sentilstm import SentimentClassifier
    from sentilstm.labels import MIN_CLASS_EXAMPLES

    texts = ["good"] * MIN_CLASS_EXAMPLES + ["bad"] * MIN_CLASS_EXAMPLES + ["table"] * (MIN_CLASS_EXAMPLES - 1)
    labels = ["positive"] * MIN_CLASS_EXAMPLES + ["negative"] * MIN_CLASS_EXAMPLES + ["neutral"] * (MIN_CLASS_EXAMPLES - 1)
    with pytest.raises(ValueError, match=f"neutral {MIN_CLASS_EXAMPLES - 1}"):
        SentimentClassifier().fit(texts, labels, config=sentilstm.ClassifierConfig.from_dict(TINY))


def test_non_finite_loss_stops_training_and_saves_nothing(ws, tiny_model, monkeypatch):
    """A NaN in the loss (here from a NaN class weight) stops training with one line; no bundle is written."""
    import sentilstm.training as T

    monkeypatch.setattr(T.local, "balanced_class_weights", lambda y: np.array([np.nan, 1, 1], np.float32))
    shutil.copytree(tiny_model, ws / "old")  # an older bundle at --out stays as it was
    before = _snapshot(ws)
    r, _ = _cli("train", "--config", "proj/config.json", "--data", "proj/tr.jsonl", "--dev", "proj/dev.jsonl",
                "--out", "old", "-q")
    TALLY[("non-finite loss", "train")]["runs"] += 1
    TALLY[("non-finite loss", "train")]["broken_models"] += _snapshot(ws) != before
    assert r.exit_code == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: training diverged: the loss is nan") and "nothing saved" in last, r.stderr
    assert "*best" not in r.stderr
    assert _snapshot(ws) == before


def test_huge_finite_loss_stops_training_and_saves_nothing(ws):
    """A learning rate of 1e30 keeps weights finite but reports losses of ~1e30, which no clipped
    cross-entropy can reach: the same one-line stop as a NaN loss, nothing written."""
    before = _snapshot(ws)
    r, _ = _cli("train", "--config", "proj/config.json", "--data", "proj/tr.jsonl", "--dev", "proj/dev.jsonl",
                "--out", "huge", "--set", "train.learning_rate=1e30", "-q")
    TALLY[("huge finite loss", "train")]["runs"] += 1
    TALLY[("huge finite loss", "train")]["broken_models"] += _snapshot(ws) != before
    assert r.exit_code == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: training diverged: the loss is ") and "a cross-entropy can reach" in last, r.stderr
    assert _snapshot(ws) == before


def test_loss_ceiling_is_the_clipped_cross_entropy_bound():
    import keras

    from sentilstm.training.loop import loss_ceiling

    worst = -np.log(keras.backend.epsilon())  # the loss of a probability clipped to epsilon
    assert worst < loss_ceiling(np.array([1.0, 0.5])) < 1.02 * worst
    assert 2 * worst < loss_ceiling(np.array([2.0, 1.0])) < 2.04 * worst
    y = keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(
        np.array([0]), np.array([[0.0, 0.5, 0.5]], np.float32)))
    assert float(y[0]) <= loss_ceiling(np.array([1.0]))  # a certain miss stays below the ceiling


def test_non_finite_weights_stop_training(monkeypatch):
    import sentilstm.training as T

    real = T.loop.weight_dict

    def poisoned(model):
        w = real(model)
        name = sorted(w)[0]
        w[name] = np.full_like(w[name], np.inf)
        return w

    monkeypatch.setattr(T.loop, "weight_dict", poisoned)
    clf = sentilstm.SentimentClassifier()
    texts = [json.loads(line)["text"] for line in _labelled(15).splitlines()]
    labels = [json.loads(line)["label"] for line in _labelled(15).splitlines()]
    with pytest.raises(T.loop.TrainingDiverged, match="is not finite.*nothing saved"):
        clf.fit(texts, labels, config=sentilstm.ClassifierConfig.from_dict(TINY), verbose=0, out=None)
    assert clf.weights is None  # still unfitted: nothing to save
    with pytest.raises(RuntimeError, match="not fitted"):
        clf.save("never")


def test_shipped_model_is_format_2_and_loads_without_warning(recwarn):
    doc = json.loads((REPO / "sentilstm" / "assets" / "default" / "config.json").read_text())
    assert doc["format_version"] == 2 and "config.json" in doc["files"]
    probs = sentilstm.load().predict_proba(["I love it", "awful", ""])
    assert np.isfinite(probs).all()
    assert not [w for w in recwarn.list if "unverified" in str(w.message)]


def test_cli_warns_in_one_line_for_a_version_1_bundle(ws, tiny_model):
    shutil.copytree(tiny_model, ws / "v1")
    doc = json.loads((ws / "v1" / "config.json").read_text())
    doc["format_version"] = 1
    del doc["files"]["config.json"]
    (ws / "v1" / "config.json").write_text(json.dumps(doc))
    r = subprocess.run([sys.executable, "-m", "sentilstm.cli", "predict", "-m", "v1", "I love it"], cwd=ws,
                       capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == [f"Warning: v1/config.json: bundle format version 1, so config.json "
                                             f"is unverified (no checksum); re-save the model to add one"]
    assert len(r.stdout.splitlines()) == 1


# -- temporaries and kill -9 ---------------------------------------------------------------------------
def test_stale_temporaries_are_swept_only_when_their_process_is_dead(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "scored.parquet"
    ours_dead = tmp_path / temporary_name("scored.parquet").replace(f"-{os.getpid()}-", f"-{dead.pid}-")
    ours_dead.write_bytes(b"half")
    alive = tmp_path / temporary_name("scored.parquet")  # this process: still writing
    alive.write_bytes(b"busy")
    other_name = tmp_path / temporary_name("other.parquet").replace(f"-{os.getpid()}-", f"-{dead.pid}-")
    other_name.write_bytes(b"not for this destination")
    lookalike = tmp_path / ".scored.parquet.sentilstm-tmp-mine"
    lookalike.write_bytes(b"user file")
    assert sweep_temporaries(out) == [ours_dead]
    assert alive.exists() and other_name.exists() and lookalike.exists() and not ours_dead.exists()


def test_check_output_is_one_line_and_names_the_path(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError) as e:
        check_output(tmp_path / "f" / "x", "bundle")  # below a file: cannot be created
    assert str(e.value).startswith(str(tmp_path / "f" / "x")) and "\n" not in str(e.value)
    assert (tmp_path / "f").read_text() == "x"


def _wait_for(pattern_dir: Path, needle: str, proc: subprocess.Popen, timeout: float = 240,
              min_size: int = 0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in pattern_dir.iterdir():
            if needle in p.name and ".sentilstm-tmp-" in p.name:
                size = sum(f.stat().st_size for f in p.rglob("*")) if p.is_dir() else p.stat().st_size
                if size > min_size:
                    return p
        if proc.poll() is not None:
            raise AssertionError(f"finished before it could be killed: {proc.communicate()}")
        time.sleep(0.01)
    raise AssertionError("no temporary appeared")


def test_kill_9_during_a_bundle_save(tmp_path, tiny_model):
    dest = tmp_path / "model"
    shutil.copytree(tiny_model, dest)
    old = _snapshot(dest)
    # a slow disk: writing config.json (the last file) stalls, so the kill lands mid-save
    script = (f"import pathlib, time, sentilstm\n"
              f"real = pathlib.Path.write_text\n"
              f"def slow(self, *a, **k):\n"
              f"    if self.name == 'config.json': time.sleep(600)\n"
              f"    return real(self, *a, **k)\n"
              f"pathlib.Path.write_text = slow\n"
              f"clf = sentilstm.load({str(tiny_model)!r}); clf.meta['note'] = 'new'\n"
              f"clf.save({str(dest)!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        tmp = _wait_for(tmp_path, "model", proc, min_size=1000)
        time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
    assert tmp.exists()  # the killed run's temporary, beside the destination
    assert _snapshot(dest) == old  # the old bundle, whole
    sentilstm.load(dest)
    clf = sentilstm.load(tiny_model)
    clf.meta["note"] = "newer"
    clf.save(dest)  # the next save to the same place sweeps the temporary
    assert not tmp.exists() and _temporaries(tmp_path) == []
    assert sentilstm.load(dest).meta["note"] == "newer"


def test_kill_9_during_predict_out(tmp_path, tiny_model):
    import pyarrow.parquet as pq

    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    small.write_text("I love it\nawful\n")
    rng = random.Random(0)
    words = [w for ws in WORDS.values() for w in ws]
    big.write_text("".join(" ".join(rng.choice(words) for _ in range(6)) + "\n" for _ in range(120_000)))
    out = tmp_path / "x.parquet"
    cmd = [sys.executable, "-m", "sentilstm.cli", "predict", "-m", str(tiny_model), "--out", str(out), "--file"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(cmd + [str(small)], check=True, env=env, capture_output=True, timeout=120)
    old = out.read_bytes()
    proc = subprocess.Popen(cmd + [str(big)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        tmp = _wait_for(tmp_path, "x.parquet", proc, min_size=0)  # a first row group written
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
    assert tmp.exists() and tmp.stat().st_size > 0
    assert out.read_bytes() == old  # the old file, whole
    assert pq.read_table(out).num_rows == 2
    r = subprocess.run(cmd + [str(small)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not tmp.exists() and _temporaries(tmp_path) == []  # swept by the next run
    assert pq.read_table(out).column("text").to_pylist() == ["I love it", "awful"]
    TALLY[("kill -9 mid-write", "predict")]["runs"] += 1


# -- README --------------------------------------------------------------------------------------
def test_readme_output_examples_are_true(ws):
    """Every command of the README's outputs paragraph runs here and prints exactly what the README shows."""
    import shlex

    from sentilstm.labels import MIN_CLASS_EXAMPLES

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("**Outputs never replace"):]
    block = section[section.index("```text\n") + 8:]
    block = block[:block.index("```")]
    (ws / "tweets.txt").write_text("I love it\nawful\n")
    (ws / "proj" / "tr.jsonl").rename(ws / "proj" / "train.jsonl")
    pairs, lines = [], block.strip().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("$ "):
            pairs.append((line[2:], lines[i + 1]))
    assert len(pairs) == 3
    before = _snapshot(ws)
    for cmd, expected in pairs:
        args = shlex.split(cmd)
        assert args[0] == "sentilstm"
        r, seconds = _cli(*args[1:])
        assert r.exit_code == 1 and r.stderr.strip() == expected, (cmd, r.stderr)
    assert _snapshot(ws) == before
    assert f"fewer than {MIN_CLASS_EXAMPLES} examples of a class" in readme.replace("\n", " ")
    for option in ("--overwrite", "--out-format", "--allow-missing-classes"):
        assert option in section
