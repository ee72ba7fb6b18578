"""Behaviour checks (CheckList-style): pass rates per group of short templated sentences.

    python benchmarks/behaviour.py                       # the shipped model
    python benchmarks/behaviour.py --model my-model --out benchmarks/out/behaviour-my-model.json

Each line of ``behaviour_checks.jsonl`` is ``{"group", "template", "text", "expected": [labels]}``;
a check passes when the model's label is one of ``expected`` (a negated negative, "not bad",
may be positive or neutral, as CheckList's negation test has it).  Groups: ``control`` (plain
"X is good/bad"), ``negation``, ``intensifiers``, ``emoji`` (on neutral carrier sentences) and
``neutral_facts``.  A measurement, not a gate: it asserts nothing.  It prints the pass rate of
each group and each template, the failures with the highest confidence, and writes them all as
JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CHECKS = HERE / "behaviour_checks.jsonl"


def read_checks(path: Path) -> list[dict]:
    checks = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ok = isinstance(row["text"], str) and isinstance(row["group"], str) and row["expected"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise SystemExit(f"{path}:{n}: not a check ({e})") from None
        if not ok:
            raise SystemExit(f"{path}:{n}: a check needs text, group and a non-empty expected list")
        checks.append(row)
    return checks


def run(model: str | None, checks: list[dict]) -> dict:
    import sentilstm

    clf = sentilstm.load(model)
    probs = clf.predict_proba([c["text"] for c in checks], engine="numpy")
    rows = []
    for c, p in zip(checks, probs):
        label = sentilstm.LABELS[int(np.argmax(p))]
        rows.append({**c, "predicted": label, "confidence": round(float(p.max()), 4),
                     "probabilities": {lab: round(float(v), 4) for lab, v in zip(sentilstm.LABELS, p)},
                     "passed": label in c["expected"]})
    groups: dict[str, list[dict]] = defaultdict(list)
    templates: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
        templates[(r["group"], r.get("template", ""))].append(r)

    def rate(items: list[dict]) -> dict:
        passed = sum(r["passed"] for r in items)
        return {"checks": len(items), "passed": passed, "pass_rate": round(passed / len(items), 4)}

    return {
        "model": model or "default",
        "checks_file": str(CHECKS.relative_to(HERE.parent)) if CHECKS.is_relative_to(HERE.parent) else str(CHECKS),
        "calibration": (clf.meta.get("calibration") or {}).get("method", "none"),
        "overall": rate(rows),
        "groups": {g: rate(items) for g, items in groups.items()},
        "templates": [{"group": g, "template": t, **rate(items)} for (g, t), items in templates.items()],
        "results": rows,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="model bundle [default: the shipped model]")
    ap.add_argument("--checks", type=Path, default=CHECKS, help="checks file (JSON Lines)")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "behaviour.json", help="JSON output")
    ap.add_argument("--failures", type=int, default=3, help="most confident failures shown per group")
    args = ap.parse_args(argv)
    result = run(args.model, read_checks(args.checks))
    print(f"model: {result['model']}   checks: {result['checks_file']}")
    print(f"\n  {'group':<15} {'checks':>6} {'passed':>6} {'pass rate':>9}")
    for g, r in result["groups"].items():
        print(f"  {g:<15} {r['checks']:>6} {r['passed']:>6} {r['pass_rate']:>9.1%}")
    o = result["overall"]
    print(f"  {'all':<15} {o['checks']:>6} {o['passed']:>6} {o['pass_rate']:>9.1%}")
    print("\n  by template:")
    for t in result["templates"]:
        print(f"    {t['group']:<14} {t['pass_rate']:>6.0%} of {t['checks']:>2}  {t['template']}")
    if args.failures:
        print("\n  most confident failures:")
        for g in result["groups"]:
            fails = sorted((r for r in result["results"] if r["group"] == g and not r["passed"]),
                           key=lambda r: -r["confidence"])[: args.failures]
            for r in fails:
                print(f"    {g:<14} {r['predicted']:<8} {r['confidence']:.2f}  {r['text']}  "
                      f"(expected {' or '.join(r['expected'])})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
