"""``predict --out --engine ray --workers 1`` finishes: one 0.5-CPU actor on a one-CPU Ray session
used to leave no whole CPU for the Parquet read tasks, and the run waited for ever."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_ray_with_one_worker_does_not_deadlock(tmp_path):
    import pyarrow.parquet as pq

    pytest.importorskip("ray")
    src = tmp_path / "a.txt"
    texts = [f"text number {i} is {'good' if i % 2 else 'bad'}" for i in range(300)]
    src.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = tmp_path / "o.parquet"
    try:
        res = subprocess.run([sys.executable, "-m", "sentilstm.cli", "predict", "--file", str(src), "--out", str(out),
                              "--engine", "ray", "--workers", "1"], capture_output=True, text=True, timeout=420)
    except subprocess.TimeoutExpired:
        pytest.fail("predict --engine ray --workers 1 did not finish in 420 s (deadlock?)")
    assert res.returncode == 0, res.stderr[-2000:]
    assert pq.read_table(out).column("text").to_pylist() == texts
