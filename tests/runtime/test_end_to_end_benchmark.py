"""benchmarks/end_to_end.py runs and writes its pairs (a measurement, not a gate)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_end_to_end_benchmark_writes_its_pairs(tmp_path):
    out = tmp_path / "e2e.json"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "end_to_end.py"), "--pairs", "2", "--texts", "300",
                        "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["texts"] == 300 and len(doc["pairs"]) == 2
    assert all(p["ratio"] > 0 and p["network_texts_per_s"] > 0 for p in doc["pairs"])
    assert "end to end / network alone on 300 texts: median" in r.stdout
