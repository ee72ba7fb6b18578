"""Concurrency benchmark: several `sentilstm predict --file` processes side by side; prints a table, writes JSON.

    python benchmarks/concurrency.py [--texts 50000] [--procs 1,2,4] [--repeats 1]
                                     [--out benchmarks/out/concurrency.json]

The first ``--texts`` SemEval training texts are written to a temporary .txt file (one a line).
For each count N in ``--procs``, N `sentilstm predict --file` processes score that same file at
once (output to /dev/null); aggregate texts/s = N x texts / the wall time until the last one
ends.  Each count is run quiet and again beside a CPU-burning neighbour (one process spinning
in a loop, as another user's job would).  Each process uses the thread policy's default
(sentilstm/threads.py) unless ``--threads`` is given.

Figures, all ratios within this run:
  * scaling: aggregate texts/s of N processes / that of one process alone (goal >= 0.9: no
    collapse from oversubscription);
  * neighbour: texts/s beside a busy neighbour / the quiet figure of the same N (goal >= 0.45
    on 2 cores, i.e. no collapse below a fair share).
Asserts nothing: it measures and reports.  The load average is printed beside each figure:
on a shared machine, other jobs change the absolute numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SENTILSTM_DATA", REPO.parent / "shared" / "data" / "semeval2017"))


def _cli() -> list[str]:
    """The console script beside this interpreter (a virtual environment need not be activated)."""
    script = Path(sys.executable).with_name("sentilstm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sentilstm.cli"]


@contextlib.contextmanager
def busy_neighbour(on: bool) -> Iterator[None]:
    """A process that burns one CPU while the block runs (nothing if ``on`` is false)."""
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it get going
        yield
    finally:
        proc.kill()
        proc.wait()


def run_concurrent(cmd: list[str], n: int) -> float:
    """Wall seconds until ``n`` copies of ``cmd``, started together, have all finished."""
    t = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    errors = [p.communicate()[1] for p in procs]
    wall = time.perf_counter() - t
    for p, err in zip(procs, errors):
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {err[-800:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=50_000)
    ap.add_argument("--procs", default="1,2,4", help="comma-separated process counts [default: 1,2,4]")
    ap.add_argument("--repeats", type=int, default=1, help="runs per setting; the median wall time is kept")
    ap.add_argument("--threads", type=int, default=None, help="--threads for each process [default: the policy's]")
    ap.add_argument("--model", default=None)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "concurrency.json"))
    args = ap.parse_args()

    from sentilstm.data import load_data
    from sentilstm.fileio import atomic_write_text
    from sentilstm.threads import available_cores

    texts = load_data(DATA / "train.jsonl").texts[: args.texts]
    counts = [int(c) for c in args.procs.split(",")]
    with tempfile.TemporaryDirectory(prefix="sentilstm-concurrency-") as tmp:
        src = Path(tmp) / "texts.txt"
        src.write_text("".join(" ".join(t.split()) + "\n" for t in texts), encoding="utf-8")
        cmd = [*_cli(), "predict", "--file", str(src)]
        cmd += ["--model", args.model] if args.model else []
        cmd += ["--threads", str(args.threads)] if args.threads else []
        run_concurrent([*_cli(), "predict", "warm up the page cache"], 1)
        rows = []
        for neighbour in (False, True):
            for n in counts:
                with busy_neighbour(neighbour):
                    load = os.getloadavg()[0]
                    wall = statistics.median(run_concurrent(cmd, n) for _ in range(args.repeats))
                rows.append({"processes": n, "neighbour": neighbour, "wall_s": round(wall, 2),
                             "texts_per_s": round(n * len(texts) / wall), "load_average_1min": round(load, 2)})
    quiet = {r["processes"]: r["texts_per_s"] for r in rows if not r["neighbour"]}
    base = quiet.get(1) or quiet[min(quiet)]
    for r in rows:
        r["scaling_vs_one_quiet"] = round(r["texts_per_s"] / base, 3)
        if r["neighbour"]:
            r["neighbour_vs_quiet"] = round(r["texts_per_s"] / quiet[r["processes"]], 3)

    res = {"machine": {"cpus": os.cpu_count(), "cores_available": available_cores(),
                       "python": sys.version.split()[0]},
           "texts": len(texts), "repeats": args.repeats, "threads": args.threads, "command": " ".join(cmd[1:]),
           "runs": rows}
    lines = [f"{len(texts):,} texts per process; {available_cores()} cores; threads per process: "
             f"{args.threads or 'policy default'}; {args.repeats} run(s) each (median)", "",
             f"| {'processes':>9} | {'neighbour':>9} | {'wall s':>7} | {'texts/s (all)':>13} | "
             f"{'x one alone':>11} | {'x quiet':>7} | {'load avg':>8} |",
             "| " + " | ".join("-" * (w - 1) + ":" for w in (9, 9, 7, 13, 11, 7, 8)) + " |"]
    for r in rows:
        vs_quiet = f"{r['neighbour_vs_quiet']:.2f}" if r["neighbour"] else ""
        lines.append(f"| {r['processes']:>9} | {'busy' if r['neighbour'] else 'none':>9} | {r['wall_s']:>7.2f} | "
                     f"{r['texts_per_s']:>13,} | {r['scaling_vs_one_quiet']:>11.2f} | {vs_quiet:>7} | "
                     f"{r['load_average_1min']:>8.2f} |")
    print("\n".join(lines))
    atomic_write_text(args.out, json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
