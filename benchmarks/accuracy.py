"""Accuracy benchmark: retrain the default configuration from scratch; print and write its figures.

    python benchmarks/accuracy.py [--config benchmarks/default_config.json] [--save DIR]
                                  [--out benchmarks/out/accuracy.json]

Trains tokenizer and model on ``train.jsonl``, early-stops on ``dev.jsonl`` (SemEval-2017,
from $SENTILSTM_DATA or ../shared/data/semeval2017) and reports dev AvgRec, F1PN, macro-F1
and accuracy with 95 % bootstrap intervals, training wall time, peak memory (RSS), bundle
size, and batch-inference throughput of the trained model against the first shipped model's
architecture (BiLSTM 128, emb 50, 16k vocabulary; random weights: speed does not depend on the
values) measured in the same run.  ``--save DIR`` also writes the bundle (e.g.
``sentilstm/assets/default``, which is what ``benchmarks/train_default.sh`` does).
Asserts nothing: it measures and reports.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SENTILSTM_DATA", REPO.parent / "shared" / "data" / "semeval2017"))
FIRST_MODEL = {"embedding_dim": 50, "units": 128, "layers": 1, "bidirectional": True,
               "pooling": ["max", "mean"], "vocab_size": 16000}


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def throughput(clf, texts: list[str], repeats: int = 3) -> float:
    """Texts per second of ``clf.predict_proba`` (tokenisation included), median of ``repeats``."""
    clf.predict_proba(texts[:256])  # warm up
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        clf.predict_proba(texts)
        runs.append(time.perf_counter() - t)
    return len(texts) / statistics.median(runs)


def first_model_like(clf):
    """A classifier with the first default model's architecture, random weights, ``clf``'s tokenizer."""
    from sentilstm import ClassifierConfig, SentimentClassifier
    from sentilstm.config import ModelConfig
    from sentilstm.bundle import Bundle, save_bundle

    cfg = dataclasses.replace(ClassifierConfig.from_dict(clf.config.to_dict()),  # configs are frozen
                              model=ModelConfig(**{**FIRST_MODEL, "vocab_size": clf.encoder.vocab_size}))
    rng = np.random.default_rng(0)
    u, e, v = cfg.model.units, cfg.model.embedding_dim, cfg.model.vocab_size
    w = {"embedding/embeddings": rng.normal(0, 0.3, (v, e)), "head/kernel": rng.normal(0, 0.1, (4 * u, 3)),
         "head/bias": np.zeros(3)}
    for d in ("forward", "backward"):
        p = f"bilstm_0/{d}_lstm_0/cell/"
        w |= {p + "kernel": rng.normal(0, 0.1, (e, 4 * u)), p + "recurrent_kernel": rng.normal(0, 0.1, (u, 4 * u)),
              p + "bias": np.zeros(4 * u)}
    path = Path(tempfile.mkdtemp()) / "first-model"  # through a bundle: the public way to a fitted classifier
    save_bundle(path, Bundle(cfg, clf.encoder.to_str(), {k: x.astype(np.float32) for k, x in w.items()}))
    return SentimentClassifier.load(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(REPO / "benchmarks" / "default_config.json"))
    ap.add_argument("--save", default=None, help="also write the trained bundle here")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "accuracy.json"))
    ap.add_argument("--tokenizer", default=None,
                    help="reuse this tokenizer.json (or a bundle directory's) instead of training one: "
                         "tokenizers' trainer breaks frequency ties in hash order, the one nondeterministic step")
    ap.add_argument("--seed", type=int, default=None, help="override train.seed of the config (seed-noise checks)")
    ap.add_argument("--quiet", action="store_true", help="epoch lines only, no progress bar")
    args = ap.parse_args()

    from sentilstm import ClassifierConfig, SentimentClassifier
    from sentilstm.data import load_data
    from sentilstm.fileio import atomic_write_text
    from sentilstm.metrics import bootstrap_scores

    train, dev = load_data(DATA / "train.jsonl"), load_data(DATA / "dev.jsonl")
    config = ClassifierConfig.from_file(args.config)
    if args.seed is not None:
        config = config.override({"train.seed": args.seed})
    encoder = None
    if args.tokenizer:
        from sentilstm.tokenizer import TextEncoder

        tok = Path(args.tokenizer)
        tok = tok / "tokenizer.json" if tok.is_dir() else tok
        encoder = TextEncoder.from_str(tok.read_text(encoding="utf-8"), max_length=config.tokenizer.max_length)
    started = time.perf_counter()
    clf = SentimentClassifier(config).fit(
        train.texts, train.labels, dev=(dev.texts, dev.labels), verbose=2 if args.quiet else 1, tokenizer=encoder,
        # sources relative to the repository (as the README names them), not this machine's paths
        data_summary={split: {"source": os.path.relpath(DATA / f"{split}.jsonl", REPO)} for split in ("train", "dev")},
    )
    wall = time.perf_counter() - started
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    probs = clf.predict_proba(dev.texts)
    boot = bootstrap_scores(dev.labels, probs.argmax(axis=1))["headline"]
    with tempfile.TemporaryDirectory() as tmp:
        size = _dir_size(clf.save(Path(tmp) / "bundle"))
    if args.save:
        clf.save(args.save)

    ours = throughput(clf, dev.texts)
    first = throughput(first_model_like(clf), dev.texts)
    members = clf.meta["training"].get("members", [])
    result = {
        "config": config.to_dict(),
        "tokenizer": args.tokenizer or "trained in this run",
        "dev": {k: boot[k] for k in ("avg_recall", "f1_pn", "macro_f1", "accuracy")},
        "members": members,
        "calibration": clf.meta.get("calibration"),
        "best_epoch": clf.meta["training"]["best_epoch"],
        "train_wall_s": round(wall, 1),
        "peak_rss_mb": round(peak_rss_mb),
        "bundle_mb": round(size / 2**20, 2),
        "parameters": clf.n_parameters,
        "inference_texts_per_s": round(ours),
        "first_model_texts_per_s": round(first),
        "throughput_vs_first_model": round(ours / first, 3),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    print("\n== accuracy benchmark (dev = 2,000 tweets; 95 % bootstrap intervals)")
    names = {"avg_recall": "AvgRec", "f1_pn": "F1PN", "macro_f1": "macro-F1", "accuracy": "accuracy"}
    for k, name in names.items():
        b = boot[k]
        print(f"  {name:<10} {b['value']:.4f}   [{b['low']:.4f}, {b['high']:.4f}]")
    cal = clf.meta.get("calibration")
    if cal:
        from sentilstm.cli.calibrate import calibration_table, describe

        print(f"  calibration: {describe(cal)}\n{calibration_table(cal)}")
    for k, m in enumerate(members):
        print(f"  member {k}: seed {m['seed']}, best epoch {m['best_epoch']}, AvgRec {m['avg_recall']:.4f}")
    print(f"  training wall time   {wall:.0f} s ({os.cpu_count()} CPUs)")
    print(f"  peak RSS             {peak_rss_mb:.0f} MB")
    print(f"  bundle               {size / 2**20:.1f} MB, {clf.n_parameters:,} parameters")
    print(f"  inference            {ours:,.0f} texts/s vs first model {first:,.0f} texts/s "
          f"(ratio {ours / first:.2f}, same run)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"  written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
