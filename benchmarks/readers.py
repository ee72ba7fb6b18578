"""Reader speed: µs per row of ``read_batches`` (the ``predict --out`` reader) per input format.

The SemEval 2017 train texts are written as JSON Lines (the file itself), CSV (text,label) and
plain text (one text per line; texts holding a newline are left out of every format so that all
three have the same rows), then read with the fast paths on and off (the precise line-by-line
reader every fast path falls back to), best of ``--repeat`` runs each, plus pyarrow's own JSON
reader as a reference.  Prints a table and writes JSON to ``benchmarks/out/readers.json``.

    python benchmarks/readers.py [--data PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from pathlib import Path


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/semeval2017/train.jsonl")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "out" / "readers.json"))
    args = ap.parse_args()

    import pyarrow.json as pj

    from sentilstm.data import readers
    from sentilstm.scoring import read_batches

    recs = [json.loads(line) for line in open(args.data, encoding="utf-8") if line.strip()]
    recs = [r for r in recs if "\n" not in r["text"] and "\r" not in r["text"]]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as d:
        files = {"jsonl": Path(d) / "train.jsonl", "csv": Path(d) / "train.csv", "txt": Path(d) / "train.txt"}
        with open(files["jsonl"], "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
        with open(files["csv"], "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["text", "label"])
            w.writerows([r["text"], r["label"]] for r in recs)
        with open(files["txt"], "w", encoding="utf-8") as f:
            f.writelines(r["text"] + "\n" for r in recs)
        rows = len(recs)
        for fmt, path in files.items():
            res = {}
            for mode, fast in (("fast", True), ("precise", False)):
                readers.FAST = fast
                n = sum(t.num_rows for t in read_batches(path))
                assert n == rows, (fmt, mode, n, rows)
                res[mode] = _best(lambda: sum(t.num_rows for t in read_batches(path)), args.repeat) / rows * 1e6
            readers.FAST = True
            if fmt == "jsonl":
                res["pyarrow.json"] = _best(lambda: pj.read_json(path), args.repeat) / rows * 1e6
            res["speedup"] = res["precise"] / res["fast"]
            results[fmt] = {k: round(v, 2) for k, v in res.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out = {"rows": rows, "repeat": args.repeat, "cpus": os.cpu_count(), "load_average_1min": load,
           "us_per_row": results}
    print(f"{rows} rows, best of {args.repeat}, load average {load} on {os.cpu_count()} CPUs (µs/row)")
    print(f"{'format':8}{'fast':>10}{'precise':>10}{'speedup':>9}{'pyarrow':>10}")
    for fmt, r in results.items():
        print(f"{fmt:8}{r['fast']:>10.2f}{r['precise']:>10.2f}{r['speedup']:>8.1f}x"
              f"{r.get('pyarrow.json', float('nan')):>10.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
