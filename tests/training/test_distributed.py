"""Data-parallel training with real processes: two MultiWorkerMirroredStrategy workers on
127.0.0.1, MirroredStrategy over two logical CPU devices, compared with a one-process run.

No mocks: every run is a separate Python process (tests/training/dist_worker.py) training through
``SentimentClassifier.fit(..., strategy=...)``; the processes talk over gRPC on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent

# Dropout off: each replica draws its own dropout masks, so only a dropout-free model can be
# compared weight for weight with a one-process run.  Clipping stays on (it is global).
CONFIG = {
    "tokenizer": {"model": "wordpiece", "extra_vocab": None, "vocab_size": 800, "max_length": 40},
    "model": {"pretrained_embeddings": None, "embedding_dim": 12, "units": 8, "embedding_dropout": 0.0, "head_dropout": 0.0},
    "train": {"init": "scratch", "lr_schedule": "constant", "keep": "best", "freeze_embedding_epochs": 0, "epochs": 1, "batch_size": 64, "evals_per_epoch": 1, "seed": 5, "class_weight": "sqrt"},
}
TIMEOUT = 300  # per process; about 15 s each on an idle 2-core machine


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _env(tf_config: dict | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return env


def _worker(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HERE / "dist_worker.py"), *args], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def _wait(procs: dict[str, tuple[subprocess.Popen, Path]]) -> None:
    try:
        for name, (p, log) in procs.items():
            rc = p.wait(timeout=TIMEOUT)
            assert rc == 0, f"{name} exited {rc}:\n{log.read_text()[-3000:]}"
    finally:
        for p, _ in procs.values():
            if p.poll() is None:
                p.kill()


def _weights(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _max_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, train_data, dev_data):
    """Two multi-worker processes and one reference process, run side by side; their outputs."""
    from sentilstm import LABELS, ClassifierConfig
    from sentilstm.tokenizer import TextEncoder

    tmp = tmp_path_factory.mktemp("dist")
    data = tmp / "data"
    data.mkdir()
    for name, d, n in (("train", train_data, 600), ("dev", dev_data, 200)):
        rows = [json.dumps({"text": t, "label": LABELS[y]}) for t, y in zip(d.texts[:n], d.labels[:n])]
        (data / f"{name}.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    # one tokenizer for every run (a retrained one may differ in rare vocabulary ties)
    enc = TextEncoder.train(train_data.texts[:600], ClassifierConfig.from_dict(CONFIG).tokenizer)
    (tmp / "tokenizer.json").write_text(enc.to_str(), encoding="utf-8")
    common = ["--data", str(data), "--config", json.dumps(CONFIG)]
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = {}
    for k in range(2):
        # only the chief is handed the tokenizer: worker 1 must receive it over the wire
        tok = ["--tokenizer", str(tmp / "tokenizer.json")] if k == 0 else []
        procs[f"worker{k}"] = (_worker([*common, *tok, "--out", str(tmp / f"w{k}"), "--run", "mw:multi-worker",
                                        "--save-bundle", "mw"],
                                       _env({"cluster": cluster, "task": {"type": "worker", "index": k}}),
                                       tmp / f"w{k}.log"), tmp / f"w{k}.log")
    procs["reference"] = (_worker([*common, "--tokenizer", str(tmp / "tokenizer.json"), "--out", str(tmp / "ref"),
                                   "--logical-cpus", "2", "--run", "one:default", "--run", "mirrored:mirrored",
                                   "--run", "other_batches:default:batch_size=48"],
                                  _env(), tmp / "ref.log"), tmp / "ref.log")
    _wait(procs)
    return tmp


def test_two_workers_match_one_process(runs):
    w0, w1 = _weights(runs / "w0" / "mw.npz"), _weights(runs / "w1" / "mw.npz")
    one = _weights(runs / "ref" / "one.npz")
    assert _max_diff(w0, w1) == 0.0  # synchronous updates: bit-identical on both workers
    assert _max_diff(w0, one) < 1e-4  # same global batches in one process: same weights
    # Negative control: the same comparison fails for a one-process run over other global batches.
    assert _max_diff(_weights(runs / "ref" / "other_batches.npz"), one) > 1e-3


def test_mirrored_two_logical_cpus_matches_one_process(runs):
    assert _max_diff(_weights(runs / "ref" / "mirrored.npz"), _weights(runs / "ref" / "one.npz")) < 1e-4


def test_chief_bundle_reloads_and_predicts(runs):
    import sentilstm

    assert not (runs / "w1" / "bundle").exists()  # workers other than the chief write no model
    clf = sentilstm.load(runs / "w0" / "bundle")
    assert clf.config_.train.strategy == "multi-worker"
    assert _max_diff(clf.weights, _weights(runs / "w0" / "mw.npz")) == 0.0
    assert clf.meta["calibration"]["method"] in ("temperature", "vector")  # fitted on dev after distributed training
    probs = clf.predict_proba(["I love it", "this is awful", "meh"])
    assert probs.shape == (3, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert clf.predict(["what a great day"])[0] in sentilstm.LABELS


def test_multi_worker_without_tf_config_is_a_clear_error(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from sentilstm.cli import main

    monkeypatch.delenv("TF_CONFIG", raising=False)
    (tmp_path / "t.jsonl").write_text('{"text": "good", "label": "positive"}\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "t.jsonl"), "-o", str(tmp_path / "m"),
                                    "--strategy", "multi-worker"])
    assert res.exit_code == 1 and "TF_CONFIG is not set" in res.output
    monkeypatch.setenv("TF_CONFIG", "{not json")
    res = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "t.jsonl"), "-o", str(tmp_path / "m"),
                                    "--strategy", "multi-worker"])
    assert res.exit_code == 1 and "TF_CONFIG is not valid" in res.output


def test_frozen_embedding_epochs_are_refused_under_a_strategy(tmp_path):
    from click.testing import CliRunner

    from sentilstm.cli import main

    (tmp_path / "t.jsonl").write_text('{"text": "good", "label": "positive"}\n{"text": "bad", "label": "negative"}\n',
                                      encoding="utf-8")
    cfg = {"tokenizer": {"model": "wordpiece", "extra_vocab": None, "vocab_size": 100}, "model": {"pretrained_embeddings": None, "embedding_dim": 8, "units": 4},
           "train": {"init": "scratch", "lr_schedule": "constant", "keep": "best", "class_weight": "balanced", "evals_per_epoch": 1, "epochs": 1, "freeze_embedding_epochs": 1}}
    (tmp_path / "c.json").write_text(json.dumps(cfg), encoding="utf-8")
    res = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "t.jsonl"), "--dev", str(tmp_path / "t.jsonl"),
                                    "--config", str(tmp_path / "c.json"), "-o", str(tmp_path / "m"),
                                    "--strategy", "mirrored", "--allow-missing-classes"])
    assert res.exit_code == 1 and "freeze_embedding_epochs" in res.output, res.output
    assert not (tmp_path / "m").exists()
