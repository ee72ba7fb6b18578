"""Transfer benchmark: a user's own labelled data, fine-tuned sentilstm vs TF-IDF + logistic regression.

    python benchmarks/transfer.py [--from default] [--points novak,500,2000,10000] [--scratch]
                                  [--out benchmarks/out/transfer.json]

Each point trains both contenders on the same data in the same run:

* ``novak2015``: the hand-labelled tweets of Kralj Novak et al. (2015) ($SENTILSTM_TWEETS or
  ../shared/data/tweets/novak2015.jsonl; never used for pretraining or the default model), split
  70/10/20 (train/dev/test) by a seeded permutation; figures on the test 20 %.
* ``500``, ``2000``, ``10000``: seeded random subsets of the SemEval-2017 training set (learning
  curve); dev = the SemEval dev set, on which the figures are taken (there is no test set here).

Contenders: ``sentilstm`` = ``SentimentClassifier().fit(train, dev=dev)`` with the library's
defaults (fine-tuning the encoder given by ``--from``; dev is only monitored, the final weights
are kept); ``tfidf+lr`` = TF-IDF of word 1-2-grams and character 2-5-grams + logistic regression
(balanced class weights), C chosen on dev AvgRec among 0.1 ... 30.  ``--scratch`` adds
sentilstm trained from scratch.  Prints the table and writes JSON.  Asserts nothing.
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
TWEETS = Path(os.environ.get("SENTILSTM_TWEETS", REPO.parent / "shared" / "data" / "tweets"))
SEED = 2015
CS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def split_novak(texts: list[str], labels: np.ndarray) -> dict[str, tuple[list[str], np.ndarray]]:
    """70/10/20 train/dev/test by a permutation seeded with ``SEED``; every row in exactly one part."""
    order = np.random.default_rng(SEED).permutation(len(texts))
    a, b = int(0.7 * len(texts)), int(0.8 * len(texts))
    parts = {"train": order[:a], "dev": order[a:b], "test": order[b:]}
    return {k: ([texts[i] for i in idx], labels[idx]) for k, idx in parts.items()}


def tfidf_lr(train, dev, evals):
    """TF-IDF word 1-2 + char 2-5 n-grams + logistic regression, C chosen on dev AvgRec."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    from sentilstm.metrics import classification_scores

    started = time.perf_counter()
    best = None
    for c in CS:
        pipe = make_pipeline(
            make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
                       TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
            LogisticRegression(C=c, max_iter=3000, class_weight="balanced"),
        )
        pipe.fit(train[0], train[1])
        score = classification_scores(dev[1], pipe.predict(dev[0]))["avg_recall"]
        if best is None or score > best[0]:
            best = (score, c, pipe)
    _, c, pipe = best
    return {"C": c, "train_s": round(time.perf_counter() - started, 1),
            **{name: classification_scores(d[1], pipe.predict(d[0])) for name, d in evals.items()}}


def sentilstm_fit(train, dev, evals, init: str, seed: int, overrides: dict | None = None):
    from sentilstm import ClassifierConfig, SentimentClassifier

    config = ClassifierConfig.from_dict({"train": {"init": init, "seed": seed}}).override(overrides or {})
    started = time.perf_counter()
    clf = SentimentClassifier(config).fit(train[0], train[1], dev=dev, verbose=0, out=None)
    took = time.perf_counter() - started
    return {"train_s": round(took, 1), "epochs": clf.config.train.epochs,
            **{name: clf.scores(d[0], d[1]) for name, d in evals.items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="init", default="default", help="encoder to fine-tune [default: the shipped one]")
    ap.add_argument("--points", default="novak,500,2000,10000")
    ap.add_argument("--scratch", action="store_true", help="also train sentilstm from scratch")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config field of the fine-tuned model (experiments), e.g. train.learning_rate=1e-3")
    ap.add_argument("--no-baseline", action="store_true", help="skip TF-IDF + LR (experiments on the sentilstm side)")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "transfer.json"))
    args = ap.parse_args()
    overrides = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.set)}  # values in JSON

    from sentilstm.data import load_data
    from sentilstm.fileio import atomic_write_text

    rows = []
    semeval = None
    for point in args.points.split(","):
        if point == "novak":
            d = load_data(TWEETS / "novak2015.jsonl")
            parts = split_novak(list(d.texts), np.asarray(d.labels))
            train, dev, evals, measured_on = parts["train"], parts["dev"], {"test": parts["test"]}, "novak2015 test 20 %"
        else:
            if semeval is None:
                semeval = load_data(DATA / "train.jsonl"), load_data(DATA / "dev.jsonl")
            tr, dv = semeval
            n = int(point)
            idx = np.sort(np.random.default_rng([SEED, n]).choice(len(tr.texts), n, replace=False))
            train = ([tr.texts[i] for i in idx], np.asarray(tr.labels)[idx])
            dev = (list(dv.texts), np.asarray(dv.labels))
            evals, measured_on = {"test": dev}, "SemEval dev"
        row = {"point": point, "train_rows": len(train[0]), "dev_rows": len(dev[0]), "measured_on": measured_on}
        print(f"== {point}: {len(train[0]):,} training rows, figures on {measured_on}", file=sys.stderr, flush=True)
        if not args.no_baseline:
            row["tfidf+lr"] = tfidf_lr(train, dev, evals)
        row["sentilstm"] = sentilstm_fit(train, dev, evals, args.init, args.seed, overrides)
        if args.scratch:
            row["sentilstm scratch"] = sentilstm_fit(train, dev, evals, "scratch", args.seed)
        for k in ("tfidf+lr", "sentilstm", "sentilstm scratch"):
            if k in row:
                print(f"   {k:<18} AvgRec {row[k]['test']['avg_recall']:.4f}  ({row[k]['train_s']:.0f} s)",
                      file=sys.stderr, flush=True)
        rows.append(row)

    names = [k for k in ("sentilstm", "sentilstm scratch", "tfidf+lr") if k in rows[0]]
    print("\n== transfer benchmark: AvgRec (F1PN) on each point's evaluation set; training seconds")
    head = "| point | train rows | evaluated on | " + " | ".join(names) + " | sentilstm − baseline |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        cells = [f"{r[k]['test']['avg_recall']:.4f} ({r[k]['test']['f1_pn']:.3f}; {r[k]['train_s']:.0f} s)" for k in names]
        gap = (f"{r['sentilstm']['test']['avg_recall'] - r['tfidf+lr']['test']['avg_recall']:+.4f}"
               if "tfidf+lr" in r else "–")
        print(f"| {r['point']} | {r['train_rows']:,} | {r['measured_on']} | " + " | ".join(cells) + f" | {gap} |")
    doc = {"encoder": args.init, "seed": args.seed, "overrides": overrides, "split_seed": SEED, "rows": rows,
           "machine": {"cpus": os.cpu_count()}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(doc, indent=2, default=float) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
