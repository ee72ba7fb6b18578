"""The model card (README.md in every bundle), `info --card`, the behaviour checks, and the README's
commands for them."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sentilstm
from sentilstm.bundle import DEFAULT_BUNDLE, BundleError, config_checksum, load_bundle
from sentilstm.model_card import data_terms, render_card

REPO = Path(__file__).resolve().parents[1]


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sentilstm.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_saved_bundle_holds_a_checksummed_card(tiny_model, tmp_path):
    card = (tiny_model / "README.md").read_text(encoding="utf-8")
    doc = json.loads((tiny_model / "config.json").read_text())
    assert "README.md" in doc["files"]
    assert card == render_card({k: v for k, v in doc.items() if k != "files"})  # written from config.json
    for heading in ("## Training data", "## Metrics", "## Calibration", "## Intended use", "## Known limits"):
        assert heading in card
    # fit() from Python without data_summary: the source is unknown, and the card says so
    assert "source was not recorded" in card and "SemEval task's terms" not in card
    # metrics with 95 % bootstrap intervals, from the fit's dev data
    row = re.search(r"\| AvgRec \| (\d\.\d{4}) \| (\d\.\d{4})–(\d\.\d{4}) \|", card)
    assert row and float(row[2]) <= float(row[1]) <= float(row[3])
    assert f"{doc['dev_metrics']['avg_recall']:.4f}" == row[1]
    cal = doc["calibration"]
    assert f"{cal['after']['ece']:.4f}" in card and "2-fold cross-fit" in card
    # the card is rewritten at every save, from what the bundle then holds: the data and its terms
    clf = sentilstm.load(tiny_model)
    clf.meta["training"]["train"]["source"] = "../shared/data/semeval2017/train.jsonl"
    copy = clf.save(tmp_path / "m")
    card = (copy / "README.md").read_text(encoding="utf-8")
    assert "| train | ../shared/data/semeval2017/train.jsonl | 3000 |" in card
    assert "research use, under the SemEval task's terms" in card and "not recorded" not in card
    # tampering with the card is caught like any other file
    (copy / "README.md").write_text(card + "\nedited\n", encoding="utf-8")
    with pytest.raises(BundleError, match="README.md: checksum mismatch"):
        load_bundle(copy)


def test_info_card_prints_the_card_and_old_bundles_still_load(tiny_model, tmp_path):
    r = _cli("info", "--card", "--model", tiny_model)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (tiny_model / "README.md").read_text(encoding="utf-8")
    r = _cli("info", "--model", tiny_model)
    assert r.returncode == 0 and "calibration: " in r.stdout and "info --card" in r.stdout
    # a bundle saved before cards existed: no README.md, no checksum for it
    old = tmp_path / "old"
    shutil.copytree(tiny_model, old)
    (old / "README.md").unlink()
    doc = json.loads((old / "config.json").read_text())
    del doc["files"]["README.md"]
    doc["files"]["config.json"] = config_checksum(doc)
    (old / "config.json").write_text(json.dumps(doc), encoding="utf-8")
    sentilstm.load(old)
    r = _cli("info", "--card", "--model", old)
    assert r.returncode == 0 and r.stdout.startswith("# sentilstm model card")


def test_shipped_bundle_card():
    card = (DEFAULT_BUNDLE / "README.md").read_text(encoding="utf-8")
    assert "a temperature per class (negative " in card and "GloVe" in card and "PDDL" in card
    assert "0.5957" in card


def test_unknown_data_gets_no_invented_terms():
    what, terms = data_terms("/home/me/tickets.csv")
    assert "not known to sentilstm" in terms
    card = render_card({"config": {}, "training": {"train": {"source": "/home/me/tickets.csv", "rows": 5}}})
    assert "tickets.csv" in card and "not known to sentilstm" in card and "Not calibrated" in card


def test_behaviour_script_output_shape(tmp_path):
    """benchmarks/behaviour.py on the shipped model: per-group pass rates in its JSON (not a gate)."""
    out = tmp_path / "b.json"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "behaviour.py"), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text(encoding="utf-8"))
    assert set(res["groups"]) == {"control", "negation", "intensifiers", "emoji", "neutral_facts"}
    checks = [json.loads(line) for line in (REPO / "benchmarks" / "behaviour_checks.jsonl").open(encoding="utf-8")]
    assert res["overall"]["checks"] == len(checks) == len(res["results"])
    for g, s in res["groups"].items():
        assert 0 <= s["passed"] <= s["checks"] and s["pass_rate"] == round(s["passed"] / s["checks"], 4)
        assert f"{g:<15} {s['checks']:>6} {s['passed']:>6}" in r.stdout
    assert all(set(x["expected"]) <= set(sentilstm.LABELS) for x in checks)


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Calibration, model card, behaviour checks", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    return [line.split("  #")[0].strip() for b in blocks for line in b.splitlines() if line.strip()]


def test_readme_calibration_section_commands_run(tiny_model, dev_data, tmp_path):
    """Every command of the README's calibration / model card / behaviour section runs as shown."""
    commands = _readme_commands()
    assert len(commands) >= 3
    shutil.copytree(tiny_model, tmp_path / "my-model")
    (tmp_path / "dev.jsonl").write_text(
        "".join(json.dumps({"text": t, "label": sentilstm.LABELS[y]}) + "\n"
                for t, y in zip(dev_data.texts[:300], dev_data.labels[:300])), encoding="utf-8")
    shutil.copytree(REPO / "benchmarks", tmp_path / "benchmarks", ignore=shutil.ignore_patterns("out"))
    script = Path(sys.executable).with_name("sentilstm")
    for cmd in commands:
        args = cmd.split()
        if args[0] == "sentilstm":
            args[0] = str(script)
        elif args[0] == "python":
            args[0] = sys.executable
        r = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert r.returncode == 0, f"{cmd}: {r.stderr}"
    assert json.loads((tmp_path / "my-model-calibrated" / "config.json").read_text())["calibration"]
