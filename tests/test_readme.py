"""The README is true: its commands run, and the output it shows is what they print.

The code blocks are read from README.md itself, so a change of the shipped model (or of any
command) that makes the README wrong fails here. Quick checks (the shipped model only) run in
the fast loop; the rest of the commands (training a small model first) are marked slow.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")

# Commands shown in the README that a test cannot run, each with the reason; any other shown
# command must run (test_every_shown_command_is_run_or_listed_here).
NOT_RUN = {
    "sentilstm train --data train.jsonl --dev dev.jsonl -o my-model --strategy multi-worker --from scratch --lr-schedule constant --set train.freeze_embedding_epochs=0":
        "needs a second host (tests/test_distributed.py runs two workers on 127.0.0.1)",
    "bash benchmarks/train_default.sh": "retrains the shipped model (minutes; rewrites the package's assets)",
    "pip install . && sentilstm predict \"I love this product!\"": "an install; .ci/run runs it",
    "pip install \".[test]\" && python -m pytest": "an install and this suite; .ci/run runs it",
    "export TF_CONFIG=": "part of the multi-worker example",
}
NOT_RUN_PYTHON = {"ray.data.read_parquet(\"s3://": "reads from S3", "spark.read.parquet(\"hdfs:": "reads from HDFS"}


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, flags=re.S | re.M)


def shown_commands() -> list[tuple[str, list[str]]]:
    """(command, the output lines shown under it) for every command in a bash or text block."""
    out: list[tuple[str, list[str]]] = []
    for block in blocks("text"):
        if not block.startswith("$ "):
            continue
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            else:
                out[-1][1].append(line)
    out = [(c, "\n".join(shown).rstrip("\n").splitlines()) for c, shown in out]  # blank lines between commands
    for block in blocks("bash"):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                out.append((line, []))
    return out


def _strip_comment(cmd: str) -> str:
    return re.sub(r"\s+#\s.*$", "", cmd).strip()


def _skipped(cmd: str) -> bool:
    return any(_strip_comment(cmd).startswith(k) for k in NOT_RUN)


def _refusals() -> list[str]:
    """Commands the README shows failing (output 'Error: ...'): they run, with their exact message, in
    tests/test_data_safety_write.py::test_readme_output_examples_are_true, in that test's workspace."""
    return [c for c, shown in shown_commands() if shown and shown[0].startswith("Error: ")]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, data_dir):
    """A directory laid out like the README assumes: ../shared/data/semeval2017, small data files."""
    root = tmp_path_factory.mktemp("readme")
    (root / "shared" / "data").mkdir(parents=True)
    os.symlink(data_dir, root / "shared" / "data" / "semeval2017")
    work = root / "work"
    (work / "benchmarks").mkdir(parents=True)
    for f in (REPO / "benchmarks").iterdir():  # the scripts the README runs, and their inputs
        if f.is_file():
            shutil.copy(f, work / "benchmarks")
    lines = (data_dir / "train.jsonl").read_text(encoding="utf-8").splitlines()
    (work / "train.jsonl").write_text("\n".join(lines[:300]) + "\n", encoding="utf-8")
    (work / "dev.jsonl").write_text("\n".join(lines[300:400]) + "\n", encoding="utf-8")
    (work / "big.jsonl").write_text("\n".join(lines[:200]) + "\n", encoding="utf-8")
    (work / "my-unlabelled.txt").write_text(  # `sentilstm pretrain --texts`: plain texts, one a line
        "\n".join(json.loads(line)["text"].replace("\n", " ") for line in lines[400:700]) + "\n", encoding="utf-8")
    (work / "big.csv").write_text("text\n" + "\n".join(f"text number {i}" for i in range(50)) + "\n")
    shutil.copy(REPO / "data" / "examples.txt", work / "tweets.txt")
    return work


def run_shell(cmd: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    return subprocess.run(["bash", "-c", f"set -o pipefail; {cmd}"], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_every_shown_command_is_run_or_listed_here():
    cmds = [_strip_comment(c) for c, _ in shown_commands()]
    assert len(cmds) >= 20 and len(_refusals()) == 3
    for c in cmds:
        assert c.startswith(("sentilstm ", "echo ", "python benchmarks/")) or _skipped(c), \
            f"README command no test runs: {c}"
    for key in NOT_RUN:  # no stale exemptions
        assert any(c.startswith(key) for c in cmds), key


def test_ci_runs_exactly_the_readme_setup_commands():
    setup = [c for c, _ in shown_commands() if c.startswith("pip install")]
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line.startswith("pip install")]
    assert setup == ci == ['pip install . && sentilstm predict "I love this product!"',
                           'pip install ".[test]" && python -m pytest']


def _check_output(cmd: str, shown: list[str], cwd: Path) -> None:
    r = run_shell(_strip_comment(cmd), cwd)
    assert r.returncode == 0, f"{cmd}\n{r.stderr}"
    if shown:
        assert r.stdout.rstrip("\n").splitlines() == [s.rstrip() for s in shown], cmd


def _with_output() -> list[tuple[str, list[str]]]:
    return [(c, s) for c, s in shown_commands() if s and c not in _refusals()]


@pytest.mark.parametrize("cmd, shown", _with_output(), ids=[c[:40] for c, _ in _with_output()])
def test_shown_output_is_what_the_command_prints(cmd, shown, tmp_path):
    _check_output(cmd, shown, tmp_path)


def _python_lines() -> list[tuple[str, str]]:
    """``expression  # literal`` lines of the Python blocks: the expression must give the literal."""
    out = []
    for block in blocks("python"):
        for line in block.splitlines():
            code, sep, comment = line.partition("  # ")
            if not sep:
                continue
            try:
                ast.literal_eval(comment.strip())
                ast.parse(code.strip(), mode="eval")
            except (SyntaxError, ValueError):
                continue
            out.append((code.strip(), comment.strip()))
    return out


def test_python_comments_that_show_a_value_are_true():
    lines = _python_lines()
    assert ('clf.predict(["I love it", "meh"])', "['positive', 'negative']") in lines
    import sentilstm

    ns = {"sentilstm": sentilstm, "clf": sentilstm.load()}
    for code, want in lines:
        assert eval(code, ns) == ast.literal_eval(want), code  # noqa: S307 - the README's own code


@pytest.mark.slow
def test_the_python_blocks_run(workdir, train_data, dev_data, monkeypatch):
    monkeypatch.chdir(workdir)
    ns = {"texts": train_data.texts[:300], "labels": train_data.labels[:300],
          "dev_texts": dev_data.texts[:100], "dev_labels": dev_data.labels[:100]}
    ran = 0
    for block in blocks("python"):
        if any(k in block for k in NOT_RUN_PYTHON):
            continue
        exec(compile(block, "README.md", "exec"), ns)  # noqa: S102 - the README's own code
        ran += 1
    assert ran >= 1 and ns["clf"].config_.model.units == 64 and isinstance(ns["clf"].score(ns["dev_texts"],
                                                                                             ns["dev_labels"]), float)


@pytest.mark.slow
def test_every_shown_command_runs(workdir):
    # train first: later commands read my-model (the README's train line, on 300 rows, 2 epochs)
    cmds = [(c, s) for c, s in shown_commands() if not _skipped(c) and c not in _refusals()]
    cmds.sort(key=lambda cs: (" train " not in f" {cs[0]} ", "-o out/b" in cs[0] or "report compare" in cs[0]))
    for cmd, shown in cmds:
        c = _strip_comment(cmd)
        if " train " in f" {c} ":
            c += " --from scratch --epochs 2 --vocab-size 500 --embedding-dim 16 --units 8" if "--epochs" not in c else ""
        _check_output(c, shown, workdir)
    assert (workdir / "my-model" / "config.json").is_file() and (workdir / "scored.parquet").is_file()
    assert (workdir / "out" / "my-model-onnx" / "model.onnx").is_file()
