"""Speed benchmark: training and inference throughput, cold start; prints a table, writes JSON.

    python benchmarks/speed.py [--model PATH] [--repeats 3] [--out benchmarks/out/speed.json]

Figures (medians of --repeats runs; ratios are taken within the same run, since absolute
times on a shared machine swing):
  * training examples/s of the model's architecture on our cell vs. on keras.layers.LSTM;
  * inference texts/s (tokenisation included) of the NumPy runtime and of the Keras model,
    on the 2,000 dev tweets and on 50,000 training tweets, and as a fraction of the CPU's
    float32 bound (the model's FLOPs per text against a numpy matmul rate measured now);
  * cold start of `sentilstm predict "some text"` in a fresh process: seconds and peak RSS.
Asserts nothing: it measures and reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SENTILSTM_DATA", REPO.parent / "shared" / "data" / "semeval2017"))


def matmul_gflops(n: int = 512, repeats: int = 20) -> float:
    """float32 matmul rate of this CPU through numpy (all threads), GFLOP/s."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.T.copy()
    a @ b
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9


def flops_per_text(clf, mean_len: float) -> float:
    """Multiply-adds x2 of one text's forward pass (LSTM layers + head), for the bound."""
    m = clf.config.model
    dirs = 2 if m.bidirectional else 1
    flops, dim = 0.0, m.embedding_dim
    for _ in range(m.layers):
        flops += dirs * mean_len * 2 * (dim + m.units) * 4 * m.units
        dim = dirs * m.units
    return flops + 2 * m.pooled_dim * 3


def time_inference(clf, texts: list[str], engine: str, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        clf.predict_proba(texts, engine=engine)
        runs.append(time.perf_counter() - t)
    return len(texts) / statistics.median(runs)


def time_training(clf, texts: list[str], labels: np.ndarray, reference: bool, steps: int, repeats: int) -> float:
    import keras

    from sentilstm.model import build_model
    from sentilstm.training import BucketedBatches

    seqs = clf.encode(texts)
    model = build_model(clf.config.model, seed=1, reference_lstm=reference)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    batches = BucketedBatches(seqs, labels.astype(np.int32), np.ones(len(labels), np.float32), 64, seed=1)
    for i in range(min(8, len(batches))):  # warm up: trace the shapes
        model.train_on_batch(*batches[i][:2])
    runs = []
    for _ in range(repeats):
        n, t = 0, time.perf_counter()
        for i in range(steps):
            x, y, _ = batches[i % len(batches)]
            model.train_on_batch(x, y)
            n += len(y)
        runs.append(n / (time.perf_counter() - t))
    return statistics.median(runs)


def cold_start(model: str | None, repeats: int) -> tuple[float, float]:
    cmd = ["sentilstm", "predict", "some text"] + (["--model", model] if model else [])
    times, peak = [], 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return statistics.median(times), peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="bundle to measure [default: shipped model]")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--train-steps", type=int, default=60)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "speed.json"))
    args = ap.parse_args()

    import sentilstm
    from sentilstm.data import load_data

    clf = sentilstm.load(args.model)
    dev = load_data(DATA / "dev.jsonl")
    train = load_data(DATA / "train.jsonl")
    big = train.texts[:50_000]
    mean_len = float(np.mean([len(s) for s in clf.encode(dev.texts)]))
    bound_gflops = matmul_gflops()
    fpt = flops_per_text(clf, mean_len)
    bound = bound_gflops * 1e9 / fpt

    res: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "numpy_matmul_gflops": round(bound_gflops, 1)},
                 "model": repr(clf), "mean_tokens_dev": round(mean_len, 1), "flops_per_text": round(fpt),
                 "bound_texts_per_s": round(bound)}
    cs, rss = cold_start(args.model, max(3, args.repeats))
    res["cold_start"] = {"median_s": round(cs, 3), "peak_rss_mb": round(rss, 1)}
    res["inference"] = {}
    for name, texts in (("dev_2000", dev.texts), ("train_50000", big)):
        for engine in ("numpy", "keras"):
            tps = time_inference(clf, texts, engine, args.repeats if name == "dev_2000" else 1)
            res["inference"][f"{name}/{engine}"] = {"texts_per_s": round(tps), "fraction_of_bound": round(tps / bound, 3)}
    n = 6400
    ours = time_training(clf, train.texts[:n], train.labels[:n], False, args.train_steps, args.repeats)
    ref = time_training(clf, train.texts[:n], train.labels[:n], True, args.train_steps, args.repeats)
    res["training"] = {"ours_examples_per_s": round(ours), "keras_lstm_examples_per_s": round(ref),
                       "ratio_ours_to_keras": round(ours / ref, 3)}

    print(f"model: {res['model']}; mean tokens {mean_len:.1f}; {fpt / 1e6:.2f} MFLOP/text; "
          f"numpy matmul {bound_gflops:.0f} GFLOP/s -> bound {bound:,.0f} texts/s")
    print(f"cold start (sentilstm predict): {cs:.2f} s median, peak RSS {rss:.0f} MB")
    for k, v in res["inference"].items():
        print(f"inference {k:<22} {v['texts_per_s']:>8,} texts/s  ({v['fraction_of_bound']:.0%} of bound)")
    print(f"training: ours {ours:,.0f} ex/s, keras.layers.LSTM {ref:,.0f} ex/s, ratio {ours / ref:.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
