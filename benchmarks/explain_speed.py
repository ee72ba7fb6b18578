"""How fast are explanations?  One tweet and 100 tweets; prints a table, writes JSON.

    python benchmarks/explain_speed.py [--model PATH] [--repeats 3] [--keras]
                                       [--out benchmarks/out/explain_speed.json]

Measures, with the shipped model (or --model) on real dev tweets:
  * `sentilstm explain TEXT` from a cold start (a fresh process: imports, model load, IG);
  * in-process, model loaded: one tweet and 100 tweets with integrated gradients (48 steps,
    NumPy backward pass), with occlusion, and (--keras) with IG on tf.GradientTape;
  * the completeness gap of the 100 IG explanations (median and max).
Medians of --repeats runs.  The machine is shared: the load average is recorded with the figures.
Asserts nothing: it measures and reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SENTILSTM_DATA", REPO.parent / "shared" / "data" / "semeval2017"))
TWEET = "not bad at all, actually quite good"


def median_time(fn, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keras", action="store_true", help="also time IG with tf.GradientTape (imports TensorFlow)")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "explain_speed.json"))
    args = ap.parse_args()

    import sentilstm
    from sentilstm.data import load_data
    from sentilstm.fileio import atomic_write_text

    load_before = os.getloadavg()
    clf = sentilstm.load(args.model)
    texts = load_data(DATA / "dev.jsonl").texts[:100]
    lengths = [len(s) for s in clf.encode(texts)]
    rows: list[dict] = []

    cmd = [sys.executable, "-m", "sentilstm.cli", "explain", TWEET]
    if args.model:
        cmd += ["--model", args.model]
    cold = median_time(lambda: subprocess.run(cmd, check=True, capture_output=True), args.repeats)
    rows.append({"what": "CLI cold start, 1 tweet, ig", "seconds": cold})

    clf.explain(TWEET)  # warm-up
    cases = [("ig", "numpy"), ("occlusion", "numpy")] + ([("ig", "keras")] if args.keras else [])
    gaps = None
    for method, engine in cases:
        opts = {"method": method} | ({"engine": engine} if method == "ig" else {})
        if engine == "keras":
            clf.explain(TWEET, **opts)  # imports TensorFlow, builds the Keras model
        one = median_time(lambda o=opts: clf.explain(TWEET, **o), args.repeats)
        hundred = median_time(lambda o=opts: clf.explain(texts, **o), 1 if engine == "keras" else args.repeats)
        name = method if method == "occlusion" else f"ig ({engine})"
        rows.append({"what": f"{name}, 1 tweet", "seconds": one})
        rows.append({"what": f"{name}, 100 tweets", "seconds": hundred, "per_tweet_ms": 1000 * hundred / 100})
        if method == "ig" and engine == "numpy":
            g = np.array([ex.completeness_gap for ex in clf.explain(texts, **opts)])
            gaps = {"median": float(np.median(g)), "max": float(g.max())}

    doc = {
        "model": args.model or "default",
        "tweet": TWEET,
        "dev_tweets": 100,
        "mean_tokens": float(np.mean(lengths)),
        "ig_steps": 48,
        "repeats": args.repeats,
        "completeness_gap_100": gaps,
        "results": rows,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
    }
    print(f"{'case':<34} {'seconds':>8} {'ms/tweet':>9}")
    for r in rows:
        per = f"{r['per_tweet_ms']:9.1f}" if "per_tweet_ms" in r else ""
        print(f"{r['what']:<34} {r['seconds']:8.3f} {per}")
    print(f"100 dev tweets, mean {doc['mean_tokens']:.1f} tokens; IG completeness gap median "
          f"{gaps['median']:.4f}, max {gaps['max']:.4f}; load average {doc['machine']['loadavg_before']}")
    atomic_write_text(args.out, json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
