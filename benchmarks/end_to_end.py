"""End to end / network alone on 50,000 training tweets, as interleaved pairs (issue 15, goal 4).

    python benchmarks/end_to_end.py [--pairs 9] [--texts 50000] [--out benchmarks/out/end_to_end.json]

Each pair times the onnxruntime engine on pre-computed token ids ("network alone") and then
``predict_proba`` on the raw texts (normalising and tokenising included), back to back, and
takes their ratio; the median and quartiles of the pairs are printed.  A neighbour's load falls
on both halves of a pair alike, so the ratio is steadier than one taken from two medians measured
minutes apart (as ``speed.py`` does).  Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SENTILSTM_DATA", REPO.parent / "shared" / "data" / "semeval2017"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=9)
    ap.add_argument("--texts", type=int, default=50_000)
    ap.add_argument("--model", default=None, help="bundle to measure [default: shipped model]")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "end_to_end.json"))
    args = ap.parse_args()

    import sentilstm
    from sentilstm.data import load_data
    from sentilstm.fileio import atomic_write_text

    texts = list(load_data(DATA / "train.jsonl").texts)[: args.texts]
    clf = sentilstm.load(args.model) if args.model else sentilstm.load()
    seqs = clf.encode(texts)
    onnx = clf.onnx_runtime()
    clf.predict_proba(texts[:300], engine="onnx")  # warm up

    def seconds(fn) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    load = [round(os.getloadavg()[0], 2)]
    rows = []
    for _ in range(args.pairs):
        net = seconds(lambda: onnx.predict_seqs(seqs, 256))
        e2e = seconds(lambda: clf.predict_proba(texts, engine="onnx"))
        rows.append({"network_texts_per_s": round(len(texts) / net), "end_to_end_texts_per_s": round(len(texts) / e2e),
                     "ratio": round(net / e2e, 3)})
        print(f"network {rows[-1]['network_texts_per_s']:>7,} texts/s   end to end "
              f"{rows[-1]['end_to_end_texts_per_s']:>7,} texts/s   ratio {rows[-1]['ratio']:.3f}", flush=True)
    load.append(round(os.getloadavg()[0], 2))
    ratios = np.array([r["ratio"] for r in rows])
    q1, med, q3 = np.percentile(ratios, [25, 50, 75])
    print(f"end to end / network alone on {len(texts):,} texts: median {med:.3f} (quartiles {q1:.3f}-{q3:.3f}; "
          f"{args.pairs} pairs; goal >= 0.8); load average {load[0]} -> {load[1]}; {os.cpu_count()} CPUs")
    doc = {"texts": len(texts), "pairs": rows, "median_ratio": round(float(med), 3),
           "quartiles": [round(float(q1), 3), round(float(q3), 3)], "load_average": load, "cpus": os.cpu_count()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(doc, indent=2) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
