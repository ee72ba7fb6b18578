"""Scaling benchmark: batch scoring with the local engine, Ray Data and Spark; prints a table, writes JSON.

    python benchmarks/scaling.py [--small 2000] [--large 20000] [--workers 2] [--stream 100000,1000000]
                                 [--out benchmarks/out/scaling.json]

Every run is a fresh process doing what ``sentilstm predict --file F.jsonl --engine E --out
F.parquet`` does (read, score with the shipped model, write Parquet), on the 2,000 dev tweets
cycled to the wanted size.  While it runs, this script samples the whole process tree (Ray's
raylet and actors, Spark's JVM and Python workers) every 0.1 s from /proc: CPU seconds (user +
system, summed over the tree) and resident memory (summed; shared pages count once per process,
so the sum overstates the tree's real footprint).

Figures:
  * per-text CPU and wall cost of each engine from two sizes, ``(cost(large) - cost(small)) /
    (large - small)``, and the fixed cost (start-up: the engine, the workers, the model loads)
    ``cost(small) - small * per_text``;
  * peak memory of each engine's process tree;
  * constant-memory streaming: peak RSS of the local engine on --stream files (e.g. 100k and
    1M lines): it should not grow with the file.

On a 2-core machine a cluster's speed-up cannot be shown: an engine's 2 workers share the same
2 cores as the local loop (which, at about 0.85 cores busy, leaves some idle).  The point is
the CPU overhead per text and the fixed start-up cost, which say when an engine pays off on a
real cluster.  Wall times on a shared machine swing with other jobs; CPU seconds are steadier.
Asserts nothing: it measures and reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SENTILSTM_DATA", REPO.parent / "shared" / "data" / "semeval2017"))
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def make_file(path: Path, n: int, texts: list[str]) -> Path:
    """``n`` JSON Lines records ``{"id", "text"}``, the dev tweets cycled."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": i, "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n")
    return path


def _tree(root: int) -> list[int]:
    """``root`` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _stat(pid: int) -> tuple[float, int] | None:
    """(own CPU seconds, RSS bytes) of ``pid`` (not its reaped children: they are sampled themselves)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / TICK, int(fields[21]) * PAGE


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``cmd``; wall seconds, CPU seconds and peak RSS of its whole process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    cpu: dict[int, float] = {}
    peak_tree = 0
    while proc.poll() is None:
        rss = 0
        for pid in _tree(proc.pid):
            st = _stat(pid)
            if st is not None:
                cpu[pid] = max(cpu.get(pid, 0.0), st[0])
                rss += st[1]
        peak_tree = max(peak_tree, rss)
        time.sleep(0.1)
    wall = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])}... exited {proc.returncode}: {out[-2000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    # the driver's own CPU is exact in its final report; the other processes' is sampled (a process
    # living less than a tick between two samples is missed)
    others = sum(v for pid, v in cpu.items() if pid != proc.pid)
    return {"wall_s": round(wall, 2), "cpu_s": round(summary["cpu_s"] + others, 2),
            "peak_tree_rss_mb": round(peak_tree / 2**20, 1), "driver_peak_rss_mb": summary["maxrss_mb"],
            "rows": summary["rows"]}


def child(args: argparse.Namespace) -> None:
    """Score one file (in a fresh process) and print a JSON line with this process's own figures."""
    import resource

    from sentilstm.scoring import score_file

    done = score_file(args.child_in, args.child_out, engine=args.engine, workers=args.workers)
    ru_self = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"rows": done["rows"], "maxrss_mb": round(ru_self.ru_maxrss / 1024, 1),
                      "cpu_s": ru_self.ru_utime + ru_self.ru_stime}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--large", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engines", default="local,ray,spark")
    ap.add_argument("--stream", default="100000,1000000", help="line counts for the constant-memory run ('' = skip)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "scaling.json")
    ap.add_argument("--child-in", help=argparse.SUPPRESS)
    ap.add_argument("--child-out", help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="local", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_in:
        child(args)
        return

    from sentilstm.data import load_data
    from sentilstm.fileio import atomic_write_text

    texts = load_data(DATA / "dev.jsonl").texts
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONWARNINGS": "ignore"}
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()},
                     "workers": args.workers, "sizes": [args.small, args.large], "engines": {}, "streaming": {}}
    with tempfile.TemporaryDirectory(prefix="sentilstm-scaling-") as tmp:
        tmpdir = Path(tmp)

        def measure(engine: str, n: int) -> dict[str, float]:
            src = tmpdir / f"in-{n}.jsonl"
            if not src.exists():
                make_file(src, n, texts)
            cmd = [sys.executable, __file__, "--child-in", str(src), "--engine", engine, "--workers", str(args.workers),
                   "--child-out", str(tmpdir / f"{engine}-{n}.parquet")]
            r = run_measured(cmd, env)
            (tmpdir / f"{engine}-{n}.parquet").unlink(missing_ok=True)
            print(f"  {engine:<6} {n:>9,} texts: {r['wall_s']:7.1f} s wall, {r['cpu_s']:7.1f} s CPU, "
                  f"peak {r['peak_tree_rss_mb']:7.0f} MB (tree) / {r['driver_peak_rss_mb']:5.0f} MB (driver)",
                  flush=True)
            return r

        for engine in [e for e in args.engines.split(",") if e]:
            small, large = measure(engine, args.small), measure(engine, args.large)
            dn = args.large - args.small
            row = {"small": small, "large": large}
            for key in ("cpu_s", "wall_s"):
                per = (large[key] - small[key]) / dn
                row[f"per_text_{key[:-2]}_ms"] = round(1000 * per, 4)
                row[f"fixed_{key}"] = round(small[key] - args.small * per, 2)
            row["peak_tree_rss_mb"] = max(small["peak_tree_rss_mb"], large["peak_tree_rss_mb"])
            results["engines"][engine] = row
        for n in [int(x) for x in args.stream.split(",") if x]:
            results["streaming"][str(n)] = measure("local", n)
            for f in tmpdir.glob("in-*.jsonl"):
                if f.stat().st_size > 50 << 20:
                    f.unlink()

    local = results["engines"].get("local")
    print(f"\nbatch scoring, shipped model, {args.workers} workers, {os.cpu_count()} CPUs "
          f"(costs from {args.small:,} and {args.large:,} texts)")
    print(f"{'engine':<8}{'CPU ms/text':>12}{'wall ms/text':>13}{'vs local':>9}{'fixed CPU s':>12}"
          f"{'fixed wall s':>13}{'peak MB':>9}")
    for engine, row in results["engines"].items():
        base = local["per_text_cpu_ms"] if local else 0.0
        ratio = row["per_text_cpu_ms"] / base if base > 0 else float("nan")
        row["cpu_per_text_vs_local"] = round(ratio, 2)
        print(f"{engine:<8}{row['per_text_cpu_ms']:>12.3f}{row['per_text_wall_ms']:>13.3f}{ratio:>8.2f}x"
              f"{row['fixed_cpu_s']:>12.1f}{row['fixed_wall_s']:>13.1f}{row['peak_tree_rss_mb']:>9.0f}")
    if results["streaming"]:
        print("\nlocal engine streaming a JSON Lines file (peak RSS of the process)")
        for n, r in results["streaming"].items():
            print(f"  {int(n):>9,} lines: {r['driver_peak_rss_mb']:6.0f} MB peak, {r['wall_s']:6.1f} s wall, "
                  f"{r['cpu_s']:6.1f} s CPU, {1000 * r['cpu_s'] / int(n):.3f} ms CPU/text")
    atomic_write_text(args.out, json.dumps(results, indent=2) + "\n")
    print(f"\nwritten {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")


if __name__ == "__main__":
    main()
