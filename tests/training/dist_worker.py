"""Worker process for tests/test_distributed.py (not a test module): train tiny models, dump weights.

    python tests/training/dist_worker.py --data DIR --config JSON --out DIR --run NAME:STRATEGY[:KEY=VALUE,...] ...
        [--tokenizer tokenizer.json] [--logical-cpus N] [--save-bundle NAME]

Each ``--run`` trains one model on DIR/train.jsonl (dev: DIR/dev.jsonl) through the public API,
``SentimentClassifier().fit(..., strategy=STRATEGY)``, with the train options KEY=VALUE applied
to the config, and writes its weights to OUT/NAME.npz.  ``--save-bundle NAME`` also saves that
run's model to OUT/bundle, in the chief only (as a user's script would).  TF_CONFIG comes from
the environment.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

T0 = time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--run", action="append", required=True)
    ap.add_argument("--tokenizer", default=None)
    ap.add_argument("--logical-cpus", type=int, default=0)
    ap.add_argument("--save-bundle", default=None)
    args = ap.parse_args()

    if args.logical_cpus > 1:  # before TensorFlow runs anything
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)

    import numpy as np

    from sentilstm import ClassifierConfig, SentimentClassifier
    from sentilstm.data import load_data
    from sentilstm.training.distributed import is_chief
    from sentilstm.tokenizer import TextEncoder

    train, dev = load_data(Path(args.data) / "train.jsonl"), load_data(Path(args.data) / "dev.jsonl")
    base = json.loads(args.config)
    encoder = None
    if args.tokenizer:
        encoder = TextEncoder.from_str(Path(args.tokenizer).read_text(encoding="utf-8"),
                                       max_length=base.get("tokenizer", {}).get("max_length", 128))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for spec in args.run:
        name, strategy, *rest = spec.split(":")
        cfg = json.loads(json.dumps(base))
        for kv in (rest[0].split(",") if rest and rest[0] else []):
            key, value = kv.split("=")
            cfg.setdefault("train", {})[key] = json.loads(value)
        clf = SentimentClassifier().fit(train.texts, train.labels, dev=(dev.texts, dev.labels),
                                        config=ClassifierConfig.from_dict(cfg), tokenizer=encoder,
                                        strategy=strategy, verbose=0, out=None)
        np.savez(out / f"{name}.npz", **clf.weights)
        if name == args.save_bundle and is_chief():
            clf.save(out / "bundle")
        print(f"{name}: done at {time.perf_counter() - T0:.1f}s ({time.process_time():.1f}s CPU)", file=sys.stderr,
              flush=True)


if __name__ == "__main__":
    main()
