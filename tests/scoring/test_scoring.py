"""Batch scoring with real engines: Ray Data and Spark in local mode with 2 workers, and the
streaming local scorer.  No mocks: the engines start their own worker processes.

Every engine test checks that each input id is scored exactly once, that the scores equal the
in-process scorer's, and, from the marker file each model load writes, that the model was
loaded at most once per worker process and never in the driver (this process).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from sentilstm import scoring
from sentilstm.scoring.batch import PROB_COLUMNS, BatchScorer
from sentilstm.scoring.files import score_file
import sentilstm.scoring.batch  # noqa: F401

# PySpark 4.3 warns about pandas 3 (it works: tested here); PySpark and Ray call pandas APIs deprecated in 3.x
pytestmark = [pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark.*"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")]

N = 200  # texts per engine run: enough for several blocks/partitions, cheap to score


@pytest.fixture(scope="module")
def frame(dev_data):
    """Real tweets with ids (and the gold label, which the output keeps as label_input)."""
    import pandas as pd

    from sentilstm import LABELS

    return pd.DataFrame({"id": np.arange(N, dtype=np.int64), "text": dev_data.texts[:N],
                         "label": [LABELS[y] for y in dev_data.labels[:N]]})


def _reference(frame):
    """Scores from the in-process scorer, indexed by id."""
    return BatchScorer()(frame).set_index("id")


def _check(out, frame, markers: Path, max_workers: int) -> None:
    ids = out["id"].to_numpy()
    assert len(ids) == len(frame) and sorted(ids.tolist()) == frame["id"].tolist()  # each id exactly once
    loads = [json.loads(p.read_text()) for p in markers.glob("load-*.json")]
    pids = [d["pid"] for d in loads]
    assert 1 <= len(pids) <= max_workers
    assert len(set(pids)) == len(pids)  # at most one load per worker process
    assert os.getpid() not in pids  # never in the driver
    ref = _reference(frame).loc[ids]
    assert (out["label"].to_numpy() == ref["label"].to_numpy()).all()
    assert (out["label_input"].to_numpy() == ref["label_input"].to_numpy()).all()
    diff = np.abs(out[list(PROB_COLUMNS)].to_numpy(np.float64) - ref[list(PROB_COLUMNS)].to_numpy(np.float64))
    assert diff.max() <= 1e-6


def _write_txt(path: Path, texts: list[str]) -> None:
    path.write_text("".join(" ".join(t.split()) + "\n" for t in texts), encoding="utf-8")


# -- in-process ---------------------------------------------------------------------------------
def test_batch_scorer_formats_agree(frame):
    import pyarrow as pa

    import sentilstm

    head = frame.head(20)
    df = BatchScorer(batch_size=10)(head)
    assert list(df.columns) == ["id", "text", "label_input", "label", *PROB_COLUMNS]
    expected = sentilstm.load().predict_proba(head["text"].tolist())
    assert np.abs(df[list(PROB_COLUMNS)].to_numpy() - expected).max() <= 1e-6
    as_dict = BatchScorer()({"id": head["id"].to_numpy(), "text": head["text"].to_numpy(dtype=object)})
    table = BatchScorer()(pa.Table.from_pandas(head[["id", "text"]], preserve_index=False))
    for got in (as_dict["p_positive"], table.column("p_positive").to_numpy()):
        assert np.abs(np.asarray(got) - df["p_positive"].to_numpy()).max() <= 1e-6
    assert list(as_dict["label"]) == table.column("label").to_pylist() == df["label"].tolist()
    with pytest.raises(ValueError, match="no column 'body'"):
        BatchScorer(text_column="body")(head)
    with pytest.raises(ValueError, match="row 1: column 'text' holds None"):
        BatchScorer()({"text": np.array(["ok", None], dtype=object)})


def test_local_streaming_file(tmp_path, frame):
    import pyarrow.parquet as pq

    rows = [{"id": i, "text": frame["text"][i % N]} for i in range(1000)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    scoring.batch._MODELS.clear()
    done = score_file(src, tmp_path / "out.parquet", block_bytes=16 << 10)
    assert done["rows"] == 1000
    pf = pq.ParquetFile(tmp_path / "out.parquet")
    assert pf.num_row_groups > 1  # written block by block as the file was read, not at the end
    out = pf.read().to_pandas()
    assert out["id"].tolist() == list(range(1000))  # input order, every row once
    ref = BatchScorer()(frame[["id", "text"]]).set_index("id")
    expected = ref.loc[out["id"] % N, list(PROB_COLUMNS)].to_numpy()
    assert np.abs(out[list(PROB_COLUMNS)].to_numpy() - expected).max() <= 1e-6
    assert not list(tmp_path.glob(".out.parquet.*"))  # no temporary file left behind


def test_cli_out_writes_parquet(tmp_path, frame):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from sentilstm.cli import main

    texts = frame["text"].tolist()[:50] + [""]  # an empty line is a text too
    _write_txt(tmp_path / "t.txt", texts)
    res = CliRunner().invoke(main, ["predict", "--file", str(tmp_path / "t.txt"), "--out", str(tmp_path / "o.parquet")])
    assert res.exit_code == 0, res.output
    table = pq.read_table(tmp_path / "o.parquet")
    assert table.num_rows == len(texts)
    assert table.column_names == ["text", "label", *PROB_COLUMNS]
    assert table.column("text").to_pylist() == [" ".join(t.split()) for t in texts]
    assert np.allclose(np.stack([table.column(c).to_numpy() for c in PROB_COLUMNS], 1).sum(1), 1, atol=1e-5)

    res = CliRunner().invoke(main, ["predict", "--engine", "ray", "hello"])
    assert res.exit_code == 2 and "--out" in res.output
    res = CliRunner().invoke(main, ["predict", "hello", "--out", str(tmp_path / "x.parquet")])
    assert res.exit_code == 2 and "--file" in res.output


def test_bad_json_line_is_named_by_its_line_in_the_file(tmp_path):
    from sentilstm.data import DataError
    from sentilstm.scoring.batch import read_batches

    lines = [json.dumps({"text": f"tweet number {i}, " * 4}) for i in range(3000)]
    lines.insert(2500, '{"text": "unterminated')  # far past pyarrow's first block
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl: line 2501: invalid JSON"):
        for _ in read_batches(tmp_path / "bad.jsonl", block_bytes=1 << 14):
            pass
    assert not (tmp_path / "o.parquet").exists()
    with pytest.raises(DataError, match="line 2501"):
        score_file(tmp_path / "bad.jsonl", tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()


def test_missing_engine_names_the_extra(tmp_path, monkeypatch):
    _write_txt(tmp_path / "t.txt", ["hello"])
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(RuntimeError, match=r"pip install sentilstm\[ray\]"):
        score_file(tmp_path / "t.txt", tmp_path / "o.parquet", engine="ray")
    assert not (tmp_path / "o.parquet").exists()


# -- Ray Data -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_session():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def test_ray_two_actors(ray_session, frame, tmp_path):
    import pyarrow.parquet as pq
    import ray.data
    from click.testing import CliRunner

    from sentilstm.cli import main
    from sentilstm.scoring.ray import score_ray

    scoring.batch._MODELS.clear()  # so a load in this process would show up in the markers
    ds = ray.data.from_pandas([frame.iloc[i : i + N // 4] for i in range(0, N, N // 4)])  # 4 blocks
    out = score_ray(ds, concurrency=2, num_cpus=0.5, batch_size=32, marker_dir=tmp_path).to_pandas()
    _check(out, frame, tmp_path, max_workers=2)

    # the CLI on the running Ray session: the file's rows, in order, scored as in-process
    rows = [{"id": int(i), "text": t} for i, t in zip(frame["id"][:40], frame["text"][:40])]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = CliRunner().invoke(main, ["predict", "--file", str(tmp_path / "t.jsonl"), "--engine", "ray",
                                    "--out", str(tmp_path / "r.parquet")])
    assert res.exit_code == 0, res.output
    got = pq.read_table(tmp_path / "r.parquet").to_pandas()
    assert got["id"].tolist() == list(range(40))
    ref = _reference(frame).loc[got["id"]]
    assert np.abs(got["p_negative"].to_numpy() - ref["p_negative"].to_numpy()).max() <= 1e-6


# -- Spark --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need this environment's packages
    session = (SparkSession.builder.master("local[2]").appName("sentilstm-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_two_workers(spark, frame, tmp_path):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from sentilstm.cli import main
    from sentilstm.scoring.spark import score_spark

    scoring.batch._MODELS.clear()
    df = spark.createDataFrame(frame).repartition(4)
    out = score_spark(df, batch_size=32, marker_dir=tmp_path).toPandas()
    _check(out, frame, tmp_path, max_workers=4)  # at most one Python worker per task, usually 2

    # the CLI on the running Spark session, a .txt file: its lines, in order, scored as in-process
    texts = [" ".join(t.split()) for t in frame["text"].tolist()[:40]]
    _write_txt(tmp_path / "t.txt", texts)
    res = CliRunner().invoke(main, ["predict", "--file", str(tmp_path / "t.txt"), "--engine", "spark",
                                    "--out", str(tmp_path / "s.parquet")])
    assert res.exit_code == 0, res.output
    got = pq.read_table(tmp_path / "s.parquet").to_pandas()
    want = BatchScorer()({"text": np.array(texts, dtype=object)})
    assert got["text"].tolist() == texts
    assert np.abs(got["p_positive"].to_numpy() - want["p_positive"]).max() <= 1e-6
