"""The thread policy (sentilstm/threads.py) and where it is applied: onnxruntime, BLAS, CLI, Ray, Spark."""

import os
import subprocess
import sys
import threading
import types

import numpy as np
import pytest

import sentilstm
from sentilstm import scoring, threads
from sentilstm.threads import ENV, resolve_threads
import sentilstm.scoring.batch  # noqa: F401


@pytest.fixture
def four_cores(monkeypatch):
    """This process may run on 4 CPUs (whatever the machine has)."""
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.delenv(ENV, raising=False)


def test_default_is_the_affinity_mask_not_the_machine(four_cores, monkeypatch):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 64)
    assert threads.available_cores() == 4
    assert resolve_threads() == 4


def test_argument_beats_environment_beats_affinity(four_cores, monkeypatch):
    monkeypatch.setenv(ENV, "3")
    assert resolve_threads() == 3
    assert resolve_threads(2) == 2
    assert resolve_threads(environ={}) == 4
    assert resolve_threads(environ={ENV: " 1 "}) == 1
    assert resolve_threads(environ={ENV: ""}) == 4  # empty: unset


def test_never_more_than_the_cpus_this_process_may_use(four_cores):
    assert resolve_threads(64) == 4
    assert resolve_threads(environ={ENV: "9"}) == 4


@pytest.mark.parametrize("arg, env, match", [(0, None, "threads must be"), (-2, None, "threads must be"),
                                              (True, None, "threads must be"), (None, "two", "SENTILSTM_THREADS='two'"),
                                              (None, "0", r"\$SENTILSTM_THREADS must be")])
def test_bad_values_are_clear_errors(four_cores, arg, env, match):
    with pytest.raises(ValueError, match=match):
        resolve_threads(arg, environ={ENV: env} if env is not None else {})


class _RecordingSession:
    """Stands in for an onnxruntime session: records the threads that run batches."""

    def __init__(self, session):
        self.session, self.threads, self.lock = session, set(), threading.Lock()

    def run(self, *args, **kwargs):
        with self.lock:
            self.threads.add(threading.current_thread().name)
        return self.session.run(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.session, name)


@pytest.mark.parametrize("n", [1, 2])
def test_onnx_runtime_uses_the_configured_threads(tiny_model, dev_data, n):
    if threads.available_cores() < n:
        pytest.skip(f"needs {n} CPUs")
    clf = sentilstm.load(tiny_model, threads=n)
    assert clf.threads == n
    rt = clf.onnx_runtime()
    assert rt.workers == n
    opts = rt.session.get_session_options()
    assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (1, 1)  # no spinning pools inside
    rt.session = _RecordingSession(rt.session)
    got = rt.predict_texts(dev_data.texts[:600], clf.encoder.encode, 16, first_window=600)
    assert 1 <= len(rt.session.threads) <= n  # never more worker threads than configured
    np.testing.assert_allclose(got, clf.predict_proba(dev_data.texts[:600], engine="numpy"), atol=1e-5)


def test_environment_variable_reaches_the_classifier(tiny_model, monkeypatch):
    monkeypatch.setenv(ENV, "1")
    assert sentilstm.load(tiny_model).onnx_runtime().workers == 1
    monkeypatch.setenv(ENV, "many")
    with pytest.raises(ValueError, match="SENTILSTM_THREADS"):
        sentilstm.load(tiny_model)


def test_numpy_engine_runs_blas_on_one_thread_and_restores_it(tiny_model):
    from threadpoolctl import threadpool_info

    clf = sentilstm.load(tiny_model)
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    seen = []
    runtime = clf.runtime_

    def spy(ids):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return runtime(ids)

    clf.runtime_ = spy
    clf.predict_proba(["good", "bad"], engine="numpy")
    assert seen and set(seen) == {1}
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


def test_cli_threads_option(tiny_model):
    env = {**os.environ, ENV: "1"}
    r = subprocess.run([sys.executable, "-m", "sentilstm.cli", "predict", "--model", str(tiny_model),
                        "--threads", "0", "hi"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "--threads" in r.stderr
    code = ("import sys, sentilstm.classifier as c\n"
            "orig = c.SentimentClassifier.load\n"
            "def load(path=None, threads=None):\n"
            "    clf = orig(path, threads)\n"
            "    print('threads', clf.threads, file=sys.stderr)\n"
            "    return clf\n"
            "c.SentimentClassifier.load = load\n"
            "from sentilstm.cli import main\n"
            "main(sys.argv[1:])\n")
    for args, want in ((["--threads", "1"], "threads 1"), ([], "threads 1")):  # [] : from $SENTILSTM_THREADS
        r = subprocess.run([sys.executable, "-c", code, "predict", "--model", str(tiny_model), *args, "hi"],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        assert want in r.stderr


def test_ray_actors_get_their_share():
    pytest.importorskip("ray")
    seen = {}

    class FakeDataset:
        def map_batches(self, fn, **kwargs):
            seen.update(kwargs["fn_constructor_kwargs"])
            return self

    scoring.score_ray(FakeDataset(), num_cpus=0.5)
    assert seen["threads"] == 1  # a fractional CPU: one thread
    scoring.score_ray(FakeDataset(), num_cpus=2)
    assert seen["threads"] == 2
    scoring.score_ray(FakeDataset(), num_cpus=2, threads=1)
    assert seen["threads"] == 1


def test_spark_workers_get_their_tasks_cpus():
    pytest.importorskip("pyspark")
    import pandas as pd
    from pyspark.sql.types import StringType, StructField, StructType

    captured = {}
    conf = {"spark.task.cpus": "1"}
    df = types.SimpleNamespace(columns=["text"], schema=StructType([StructField("text", StringType())]),
                               sparkSession=types.SimpleNamespace(conf=types.SimpleNamespace(
                                   get=lambda key, default=None: conf.get(key, default))),
                               mapInPandas=lambda fn, schema: captured.setdefault("fn", fn))
    scoring.score_spark(df)
    scoring.batch._MODELS.clear()
    out = list(captured["fn"](iter([pd.DataFrame({"text": ["good", "bad"]})])))
    assert len(out[0]) == 2
    assert [m.threads for m in scoring.batch._MODELS.values()] == [1]


def test_numpy_engine_on_two_threads_gives_the_same_numbers(tiny_model, dev_data):
    if threads.available_cores() < 2:
        pytest.skip("needs 2 CPUs")
    texts = dev_data.texts[:300]
    one = sentilstm.load(tiny_model, threads=1).predict_proba(texts, batch_size=32, engine="numpy")
    two = sentilstm.load(tiny_model, threads=2).predict_proba(texts, batch_size=32, engine="numpy")
    assert np.array_equal(one, two)  # the same batches, computed alike: bit for bit


def test_readme_threads_example(tmp_path, dev_data):
    """README, Speed/Threads: `SENTILSTM_THREADS=1 sentilstm predict --file tweets.txt > labels.txt`."""
    texts = [" ".join(t.split()) for t in dev_data.texts[:100]]
    (tmp_path / "tweets.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    with open(tmp_path / "labels.txt", "w") as out:
        r = subprocess.run([sys.executable, "-m", "sentilstm.cli", "predict", "--file", "tweets.txt"], cwd=tmp_path,
                           stdout=out, stderr=subprocess.PIPE, text=True, env={**os.environ, ENV: "1"})
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "labels.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 100 and all(line.split()[0] in ("negative", "neutral", "positive") for line in lines)
