"""Speed benchmark: training and inference throughput, cold start, memory; prints a table, writes JSON.

    python benchmarks/speed.py [--model PATH] [--repeats 3] [--out benchmarks/out/speed.json]

Figures (medians of --repeats runs; ratios are taken within the same run, since absolute
times on a shared machine swing):
  * training examples/s of the model's architecture on our layer vs. on keras.layers.LSTM, timed in
    interleaved blocks, both with the trainer's optimizer; the ratio on the wall clock and on CPU
    time, with its spread; and our layer with Keras's dense Adam, for what the lazy embedding-row
    updates gain (--training-only: just this and the training peak RSS; --xla: also our layer with
    the training step compiled by XLA);
  * inference texts/s (tokenisation included) of each engine (onnx, numpy, keras) on the 2,000
    dev tweets and on 50,000 training tweets, as a fraction of the CPU's float32 bound (the
    model's FLOPs per text against the best numpy float32 matmul rate measured now, with all BLAS
    threads or one); tokenisation alone and the onnx engine on pre-tokenised ids, to show where
    the time goes;
  * cold start of `sentilstm predict "some text"` in a fresh process: median seconds of
    >= 5 runs and peak RSS;
  * peak RSS of training the model's architecture (a fresh process that fits it on the first
    --rss-train-examples training tweets for one epoch; the default config's data pipeline).
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


def matmul_gflops(n: int = 512, repeats: int = 20, rounds: int = 5) -> tuple[float, float]:
    """float32 matmul rates of this CPU through numpy, GFLOP/s: ``(all BLAS threads, one thread)``,
    each the best of ``rounds`` (the bound is the machine's peak; a busy neighbour only makes a
    round slower).  Both are reported because BLAS threads that spin-wait collapse when another
    process shares the cores, and two vCPUs may be hyperthreads of one core (then one thread
    already reaches the peak)."""
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.T.copy()

    def best() -> float:
        a @ b
        rate = 0.0
        for _ in range(rounds):
            t = time.perf_counter()
            for _ in range(repeats):
                a @ b
            rate = max(rate, 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9)
        return rate

    all_threads = best()
    with threadpool_limits(limits=1):
        one_thread = best()
    return all_threads, one_thread


def flops_per_text(clf, mean_len: float) -> float:
    """Multiply-adds x2 of one text's forward pass (LSTM layers + head), for the bound."""
    m = clf.config.model
    dirs = 2 if m.bidirectional else 1
    flops, dim = 0.0, m.embedding_dim
    for _ in range(m.layers):
        flops += dirs * mean_len * 2 * (dim + m.units) * 4 * m.units
        dim = dirs * m.units
    return flops + 2 * m.pooled_dim * 3


def median_rate(fn, n: int, repeats: int) -> float:
    """``n`` items / median seconds of ``repeats`` calls of ``fn()``."""
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return n / statistics.median(runs)


def time_inference(clf, texts: list[str], engine: str, repeats: int) -> float:
    """texts/s of ``predict_proba`` (tokenisation included)."""
    clf.predict_proba(texts[:300], engine=engine)  # warm up: build the engine, trace shapes
    return median_rate(lambda: clf.predict_proba(texts, engine=engine), len(texts), repeats)


def time_training(clf, texts: list[str], labels: np.ndarray, steps: int, repeats: int, xla: bool = False) -> dict:
    """Training examples/s of the model's architecture on our layer and on ``keras.layers.LSTM``,
    measured interleaved (ours, Keras, ours, Keras, ...: ``repeats`` blocks of ``steps`` batches
    each, who goes first alternating), so that a neighbour's load falls on both alike; the ratio is
    taken block by block, on wall-clock time and on this process's CPU time (steadier on a loaded
    machine, where the wall clock also measures the neighbours).  ``xla=True`` adds our layer with the
    whole training step compiled by XLA (``jit_compile=True``; one compilation per batch shape, done
    in the warm-up)."""
    from sentilstm.nn.model import build_model
    from sentilstm.training.loop import BucketedBatches
    from sentilstm.training.optimizer import TrainingAdam

    seqs = clf.encode(texts)
    runs = {}
    # ours and keras: the trainer's optimizer (lazy embedding-row updates), the same for both;
    # ours_dense: our layer with Keras's dense Adam update (what lazy updates gain)
    contenders = [("ours", False, True, False), ("keras", True, True, False), ("ours_dense", False, False, False)]
    if xla:
        contenders.append(("ours_xla", False, True, True))
    for name, reference, lazy, jit in contenders:
        model = build_model(clf.config.model, seed=1, reference_lstm=reference)
        model.compile(optimizer=TrainingAdam(1e-3, lazy_sparse=lazy, clipnorm=1.0),
                      loss="sparse_categorical_crossentropy", jit_compile=jit)
        batches = BucketedBatches(seqs, labels.astype(np.int32), np.ones(len(labels), np.float32), 64, seed=1)
        shapes = set()
        for i in range(len(batches)):  # warm up: trace every batch shape of the data once
            x, y, _ = batches[i]
            if x.shape not in shapes:
                shapes.add(x.shape)
                model.train_on_batch(x, y)
        runs[name] = (model, batches, [], [])
    for r in range(repeats):
        order = tuple(runs)
        for name in order if r % 2 == 0 else order[::-1]:  # alternate who goes first
            model, batches, rates, cpu_rates = runs[name]
            n, t, c = 0, time.perf_counter(), time.process_time()
            for i in range(r * steps, (r + 1) * steps):
                x, y, _ = batches[i % len(batches)]
                model.train_on_batch(x, y)
                n += len(y)
            rates.append(n / (time.perf_counter() - t))
            cpu_rates.append(n / (time.process_time() - c))

    def ratios(a: str, b: str, column: int = 2) -> list[float]:  # block by block; 2: wall clock, 3: CPU time
        return sorted(x / y for x, y in zip(runs[a][column], runs[b][column]))

    def rate(name: str) -> int:
        return round(statistics.median(runs[name][2]))

    wall, cpu, lazy = ratios("ours", "keras"), ratios("ours", "keras", 3), ratios("ours", "ours_dense")
    extra = {}
    if xla:
        extra = {"ours_xla_examples_per_s": rate("ours_xla"),
                 "xla_ratio_to_keras": round(statistics.median(ratios("ours_xla", "keras")), 3),
                 "xla_ratio_cpu_time": round(statistics.median(ratios("ours_xla", "keras", 3)), 3)}
    return {**extra, "lazy_to_dense_updates": round(statistics.median(lazy), 3),
            "ours_dense_updates_examples_per_s": rate("ours_dense"),
            "ratio_cpu_time": round(statistics.median(cpu), 3),
            "ratio_cpu_time_quartiles": [round(cpu[len(cpu) // 4], 3), round(cpu[(3 * len(cpu)) // 4], 3)],
            "ours_examples_per_s": rate("ours"), "keras_lstm_examples_per_s": rate("keras"),
            "ratio_ours_to_keras": round(statistics.median(wall), 3),
            "ratio_quartiles": [round(wall[len(wall) // 4], 3), round(wall[(3 * len(wall)) // 4], 3)],
            "ratio_range": [round(wall[0], 3), round(wall[-1], 3)], "blocks": repeats, "steps_per_block": steps}


# Runs the command in a small launcher process, so that the peak RSS is the command's own: a
# child forked straight from this (large) benchmark process would report this one's size.
_LAUNCH = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"s": time.perf_counter() - t, "rc": r.returncode, "err": r.stderr[-500:],
                  "cpu_s": u.ru_utime + u.ru_stime, "peak_rss_mb": u.ru_maxrss / 1024}))
"""


def _console_script() -> str:
    script = Path(sys.executable).with_name("sentilstm")
    return str(script) if script.exists() else "sentilstm"


def cli_runs(args: list[str], repeats: int) -> dict:
    """Median wall and CPU seconds (this command and its children) of ``sentilstm ARGS``, fresh processes."""
    walls, cpus = [], []
    for _ in range(repeats):
        r = json.loads(subprocess.run([sys.executable, "-c", _LAUNCH, _console_script(), *args], capture_output=True,
                                      text=True, check=True).stdout)
        if r["rc"] != 0:
            raise RuntimeError(f"sentilstm {' '.join(args)} failed: {r['err']}")
        walls.append(r["s"])
        cpus.append(r["cpu_s"])
    return {"wall_s": round(statistics.median(walls), 3), "cpu_s": round(statistics.median(cpus), 3), "runs": repeats}


_STARTUP = """
import time; t = time.perf_counter()
import sys, sentilstm.cli
from sentilstm import load
clf = load(sys.argv[1] if len(sys.argv) > 1 else None)
clf.onnx_runtime()
print(time.perf_counter() - t)
"""


def batch_startup(model: str | None, repeats: int) -> float:
    """Median seconds, in a fresh process, from start to a loaded model with its onnxruntime session
    ready (what `predict --file` pays before its first batch)."""
    runs = [float(subprocess.run([sys.executable, "-c", _STARTUP, *([model] if model else [])], capture_output=True,
                                 text=True, check=True).stdout.strip().splitlines()[-1]) for _ in range(repeats)]
    return statistics.median(runs)


def cold_start(model: str | None, repeats: int) -> tuple[float, float]:
    """Median seconds and peak RSS (MB) of `sentilstm predict "some text"` in fresh processes."""
    # The console script installed beside this interpreter (a virtual environment need not be
    # activated), else whichever `sentilstm` is on PATH.
    script = Path(sys.executable).with_name("sentilstm")
    cmd = [str(script) if script.exists() else "sentilstm", "predict", "some text"]
    cmd += ["--model", model] if model else []
    times, peak = [], 0.0
    for _ in range(repeats):
        r = json.loads(subprocess.run([sys.executable, "-c", _LAUNCH, *cmd], capture_output=True, text=True,
                                      check=True).stdout)
        if r["rc"] != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r['err']}")
        times.append(r["s"])
        peak = max(peak, r["peak_rss_mb"])
    return statistics.median(times), peak


_TRAIN_RSS = """
import json, resource, sys
from sentilstm import ClassifierConfig, SentimentClassifier
from sentilstm.data import load_data
cfg = ClassifierConfig.from_dict(json.loads(sys.argv[1]))
train, dev = load_data(sys.argv[2]), load_data(sys.argv[3])
n = int(sys.argv[4])
SentimentClassifier().fit(train.texts[:n], train.labels[:n], dev=(dev.texts, dev.labels), config=cfg,
                          verbose=0, out=None)
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def training_rss(clf, examples: int) -> dict:
    """Peak RSS of a fresh process that fits the model's config (1 epoch on ``examples`` tweets)."""
    cfg = clf.config.to_dict()
    cfg["train"].update(epochs=1, evals_per_epoch=1)
    cfg["model"]["vocab_size"] = 0
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _TRAIN_RSS, json.dumps(cfg), str(DATA / "train.jsonl"),
                        str(DATA / "dev.jsonl"), str(examples)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"training subprocess failed: {r.stderr[-800:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    steps = -(-examples // clf.config.train.batch_size)
    return {"examples": examples, "steps": steps, "wall_s": round(time.perf_counter() - t, 1),
            "peak_rss_mb": round(out["peak_rss_mb"], 1)}


def table_row(measure: str, value: str, load: str = "") -> str:
    """One row of the printed table (no "of bound" figure)."""
    return f"| {measure:<48} | {value:>16} | {'':>8} | {load:>8} |"


TABLE_HEAD = [f"| {'measure':<48} | {'value':>16} | {'of bound':>8} | {'load avg':>8} |",
              f"| {'-' * 48} | {'-' * 15}: | {'-' * 7}: | {'-' * 7}: |"]


def measure_training(clf, train, args) -> dict:
    """Training speed, ours against keras.layers.LSTM (interleaved), and peak RSS of a fit."""
    n = 6400
    res = time_training(clf, train.texts[:n], np.asarray(train.labels[:n]), args.train_steps, args.train_blocks,
                        xla=args.xla)
    res["load_average_1min"] = round(os.getloadavg()[0], 2)
    res["memory"] = training_rss(clf, args.rss_train_examples)
    return res


def training_lines(t: dict) -> list[str]:
    mem, tl = t["memory"], f"{t['load_average_1min']:.2f}"
    q, rng = t["ratio_quartiles"], t["ratio_range"]
    cq = t["ratio_cpu_time_quartiles"]
    spread = f"{t['blocks']} blocks of {t['steps_per_block']} batches; wall-clock ratio quartiles " \
             f"{q[0]:.2f}-{q[1]:.2f}, range {rng[0]:.2f}-{rng[1]:.2f}; CPU-time ratio quartiles {cq[0]:.2f}-{cq[1]:.2f}"
    rows = [("training, our layer (median)", f"{t['ours_examples_per_s']:,} ex/s", tl),
            ("training, keras.layers.LSTM (median)", f"{t['keras_lstm_examples_per_s']:,} ex/s"),
            ("training ratio ours / keras.layers.LSTM (median)", f"{t['ratio_ours_to_keras']:.2f}"),
            ("training ratio, CPU time per example (median)", f"{t['ratio_cpu_time']:.2f}"),
            ("training, our layer, Keras dense Adam (median)", f"{t['ours_dense_updates_examples_per_s']:,} ex/s"),
            ("training ratio lazy / dense embedding updates", f"{t['lazy_to_dense_updates']:.2f}")]
    if "xla_ratio_to_keras" in t:
        rows += [("training, our layer, XLA-compiled step (median)", f"{t['ours_xla_examples_per_s']:,} ex/s"),
                 ("training ratio ours with XLA / keras.layers.LSTM", f"{t['xla_ratio_to_keras']:.2f}"),
                 ("training ratio with XLA, CPU time per example", f"{t['xla_ratio_cpu_time']:.2f}")]
    rows.append((f"training peak RSS ({mem['steps']} steps, our layer)", f"{mem['peak_rss_mb']:,.0f} MB"))
    return [
        *(table_row(*r) for r in rows),
        f"  (training ratio: {spread})",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="bundle to measure [default: shipped model]")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--train-steps", type=int, default=12, help="batches per timed training block [default: 12]")
    ap.add_argument("--train-blocks", type=int, default=15,
                    help="training blocks, ours and Keras's interleaved [default: 15]")
    ap.add_argument("--training-only", action="store_true",
                    help="measure only training (speed ratio to keras.layers.LSTM and peak RSS)")
    ap.add_argument("--xla", action="store_true",
                    help="also time our layer with the training step compiled by XLA (jit_compile=True)")
    ap.add_argument("--rss-train-examples", type=int, default=19_200, help="300 steps of 64 [default: 19200]")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "speed.json"))
    args = ap.parse_args()

    import sentilstm
    from sentilstm.data import load_data
    from sentilstm.fileio import atomic_write_text
    from sentilstm.threads import available_cores

    clf = sentilstm.load(args.model)
    dev = load_data(DATA / "dev.jsonl")
    train = load_data(DATA / "train.jsonl")
    if args.training_only:
        res = {"machine": {"cpus": os.cpu_count(), "cores_available": available_cores(),
                           "load_average_1min_at_start": round(os.getloadavg()[0], 2)}, "model": repr(clf)}
        res["training"] = measure_training(clf, train, args)
        res["machine"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
        print("\n".join([f"model: {res['model']}; {available_cores()} cores; load average "
                         f"{res['machine']['load_average_1min_at_start']} -> "
                         f"{res['machine']['load_average_1min_at_end']}", "", *TABLE_HEAD,
                         *training_lines(res["training"])]))
        atomic_write_text(args.out, json.dumps(res, indent=2) + "\n")
        print(f"wrote {args.out}")
        return
    big = train.texts[:50_000]
    mean_len = float(np.mean([len(s) for s in clf.encode(dev.texts)]))
    all_gflops, one_gflops = matmul_gflops()
    bound_gflops = max(all_gflops, one_gflops)  # the fastest float32 matmul measured here
    fpt = flops_per_text(clf, mean_len)
    bound = bound_gflops * 1e9 / fpt

    res: dict = {"machine": {"cpus": os.cpu_count(), "cores_available": available_cores(),
                             "load_average_1min_at_start": round(os.getloadavg()[0], 2),
                             "python": platform.python_version(), "numpy_matmul_gflops": round(bound_gflops, 1),
                             "numpy_matmul_gflops_all_threads": round(all_gflops, 1),
                             "numpy_matmul_gflops_one_thread": round(one_gflops, 1)},
                 "model": repr(clf), "mean_tokens_dev": round(mean_len, 1), "flops_per_text": round(fpt),
                 "bound_texts_per_s": round(bound), "repeats": args.repeats}
    cs, rss = cold_start(args.model, max(5, args.repeats))
    res["cold_start"] = {"median_s": round(cs, 3), "peak_rss_mb": round(rss, 1), "runs": max(5, args.repeats)}
    startup = batch_startup(args.model, max(5, args.repeats))
    res["batch_startup_s"] = round(startup, 3)
    import tempfile

    model_args = ["--model", args.model] if args.model else []
    with tempfile.TemporaryDirectory() as tmp:  # evaluate --report vs predict on the 2,000 dev tweets
        dev_file = str(DATA / "dev.jsonl")
        pred = cli_runs(["predict", "--file", dev_file, *model_args], args.repeats)
        report = cli_runs(["evaluate", "--data", dev_file, "--report", str(Path(tmp) / "r"), *model_args],
                          args.repeats)
    res["report_vs_predict_dev_2000"] = {"predict": pred, "evaluate_report": report,
                                         "goal_s": round(2 * pred["wall_s"] + 1, 3),
                                         "load_average_1min": round(os.getloadavg()[0], 2)}

    res["inference"] = {}

    def record(key: str, tps: float, runs: int) -> None:
        res["inference"][key] = {"texts_per_s": round(tps), "fraction_of_bound": round(tps / bound, 3), "runs": runs,
                                 "load_average_1min": round(os.getloadavg()[0], 2)}

    for name, texts in (("dev_2000", dev.texts), ("train_50000", big)):
        reps = args.repeats
        record(f"{name}/tokenisation only", median_rate(lambda: clf.encode(texts), len(texts), reps), reps)
        seqs = clf.encode(texts)
        onnx = clf.onnx_runtime()
        record(f"{name}/onnx, ids given", median_rate(lambda: onnx.predict_seqs(seqs, 256), len(texts), reps), reps)
        for engine in ("onnx", "numpy", "keras"):
            runs = reps if name == "dev_2000" or engine == "onnx" else 1  # numpy/keras on 50k: one run
            record(f"{name}/{engine}", time_inference(clf, texts, engine, runs), runs)
    for name in ("dev_2000", "train_50000"):  # same-run ratio: text preparation included / the network alone
        inf = res["inference"]
        res.setdefault("ratios", {})[f"{name}/end to end / network (onnx)"] = round(
            inf[f"{name}/onnx"]["texts_per_s"] / inf[f"{name}/onnx, ids given"]["texts_per_s"], 3)
    res["training"] = measure_training(clf, train, args)
    res["machine"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)

    rvp = res["report_vs_predict_dev_2000"]
    lines = [
        f"model: {res['model']}; mean tokens {mean_len:.1f}; {fpt / 1e6:.2f} MFLOP/text; numpy matmul "
        f"{bound_gflops:.0f} GFLOP/s (all threads {all_gflops:.0f}, one {one_gflops:.0f}) -> bound "
        f"{bound:,.0f} texts/s; {available_cores()} cores; load average "
        f"{res['machine']['load_average_1min_at_start']} -> {res['machine']['load_average_1min_at_end']}",
        "",
        *TABLE_HEAD,
    ]
    for k, v in res["inference"].items():
        lines.append(f"| inference {k:<38} | {v['texts_per_s']:>8,} texts/s | {v['fraction_of_bound']:>8.0%} | "
                     f"{v['load_average_1min']:>8.2f} |")
    for k, v in res["ratios"].items():
        lines.append(table_row(k, f"{v:.2f}"))
    lines += [
        table_row("cold start `sentilstm predict` (median)", f"{cs:.2f} s"),
        table_row("cold start peak RSS", f"{rss:.0f} MB"),
        table_row("batch start-up (load + onnx session, fresh)", f"{startup:.2f} s"),
        table_row("`predict --file` dev 2000 (wall / CPU)", f"{pred['wall_s']:.2f} / {pred['cpu_s']:.2f} s",
                  f"{rvp['load_average_1min']:.2f}"),
        table_row("`evaluate --report` dev 2000 (wall / CPU)", f"{report['wall_s']:.2f} / {report['cpu_s']:.2f} s"),
        table_row("goal for it: 2 x predict + 1 s", f"{rvp['goal_s']:.2f} s"),
    ]
    lines += training_lines(res["training"])
    print("\n".join(lines))
    atomic_write_text(args.out, json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
