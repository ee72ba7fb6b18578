"""The `sentilstm` command line, through click's runner and real subprocesses."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from sentilstm.cli import main


@pytest.fixture()
def run():
    def _run(*args, input=None):
        return CliRunner().invoke(main, list(map(str, args)), input=input)

    return _run


def test_predict_args_and_formats(run, tiny_model):
    r = run("predict", "--model", tiny_model, "I love this product!", "The service was terrible.")
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 2 and lines[0].endswith("I love this product!")
    assert lines[0].split()[0] in ("negative", "neutral", "positive")

    r = run("predict", "--model", tiny_model, "--format", "json", "a", "b", "c")
    recs = json.loads(r.output)
    assert [x["text"] for x in recs] == ["a", "b", "c"]
    assert set(recs[0]["probabilities"]) == {"negative", "neutral", "positive"}
    assert abs(sum(recs[0]["probabilities"].values()) - 1) < 1e-4

    r = run("predict", "--model", tiny_model, "--format", "csv", "x, y")
    assert r.output.splitlines()[0] == "text,label,p_negative,p_neutral,p_positive"
    assert r.output.splitlines()[1].startswith('"x, y",')


def test_predict_stdin_and_file(run, tiny_model, tmp_path):
    r = run("predict", "--model", tiny_model, "--format", "jsonl", "-", input="what a day\n\nok then\n")
    assert r.exit_code == 0, r.output
    assert [json.loads(x)["text"] for x in r.output.splitlines()] == ["what a day", "", "ok then"]
    f = tmp_path / "t.jsonl"
    f.write_text('{"text": "good"}\n{"text": "bad"}\n')
    r = run("predict", "--model", tiny_model, "--file", f, "--format", "jsonl")
    assert [json.loads(x)["text"] for x in r.output.splitlines()] == ["good", "bad"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["predict", "--model", "{tmp}/nope", "hi"], "no model bundle at"),
        (["predict", "--file", "{tmp}/missing.txt"], "missing.txt: no such file"),
        (["evaluate", "--data", "{tmp}/bad.jsonl"], "bad.jsonl: line 1: missing field 'label'"),
        (["train", "--data", "{tmp}/bad.jsonl", "-o", "{tmp}/m"], "bad.jsonl: line 1: missing field 'label'"),
        (["train", "--data", "{tmp}/bad.jsonl", "-o", "{tmp}/m", "--pooling", "sum"], "model.pooling"),
        (["train", "--data", "{tmp}/bad.jsonl", "-o", "{tmp}/m", "--set", "train.epoch=1"],
         "unknown config key 'train.epoch'; did you mean train.epochs?"),
        (["train", "--data", "{tmp}/bad.jsonl", "-o", "{tmp}/m", "--set", "train.epochs=many"],
         "train.epochs must be int, got str 'many'"),
    ],
)
def test_errors_are_one_line_without_traceback(run, tmp_path, args, message):
    (tmp_path / "bad.jsonl").write_text('{"text": "x"}\n')
    r = run(*[a.format(tmp=tmp_path) for a in args])
    assert r.exit_code == 1
    assert message in r.output
    assert "Traceback" not in r.output
    assert r.output.count("\n") == 1


def test_empty_input_is_an_error(run, tmp_path):
    r = run("predict")  # CliRunner's stdin is not a tty and empty
    assert r.exit_code == 1 and "<stdin>: empty input" in r.output
    (tmp_path / "empty.txt").write_text("")
    r = run("predict", "--file", tmp_path / "empty.txt")
    assert r.exit_code == 1 and "empty.txt: empty input" in r.output


def test_train_evaluate_info_end_to_end(run, tmp_path, data_dir):
    small = tmp_path / "small.jsonl"
    lines = (data_dir / "train.jsonl").read_text(encoding="utf-8").splitlines()[:400]
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    r = run("train", "--data", small, "--dev", small, "-o", out, "--epochs", "1", "--units", "4",
            "--embedding-dim", "8", "--vocab-size", "500", "--from", "scratch", "--tokenizer", "wordpiece",
            "--set", "train.evals_per_epoch=2",
            "--set", "model.pooling=max", "--keep", "last", "--quiet")
    assert r.exit_code == 0, r.output
    assert (out / "config.json").exists()
    r = run("evaluate", "--model", out, "--data", small, "--format", "json")
    assert r.exit_code == 0, r.output
    scores = json.loads(r.output)
    assert scores["n"] == 400 and 0 <= scores["headline"]["avg_recall"]["value"] <= 1
    r = run("info", "--model", out, "--format", "json")
    doc = json.loads(r.output)
    assert doc["config"]["model"]["units"] == 4 and doc["config"]["model"]["pooling"] == ["max"]
    assert doc["config"]["train"]["evals_per_epoch"] == 2 and doc["config"]["train"]["keep"] == "last"
    assert doc["training"]["train"]["rows"] == 400
    r = run("info", "--model", out)
    assert "parameters:" in r.output and "dev metrics:" in r.output


def _fresh(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_help_version_and_predict_do_not_import_tensorflow(tiny_model):
    code = (
        "import sys\n"
        "from sentilstm.cli import main\n"
        "for args in (['--help'], ['--version'], ['predict', '--help'], ['predict', '--model', %r, 'hi']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
        "bad = [m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules]\n"
        "print('HEAVY', bad)\n" % str(tiny_model)
    )
    r = _fresh(code)
    assert r.returncode == 0, r.stderr
    assert "HEAVY []" in r.stdout


def test_console_script_debug_flag(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sentilstm.cli", "predict", "--model", str(tmp_path / "x"), "hi"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.startswith("Error: no model bundle at") and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "sentilstm.cli", "--debug", "predict", "--model", str(tmp_path / "x"),
                        "hi"], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--dataset", "semeval2017", "--path", "semeval/twitter-2013dev-A.txt"],
        ["--dataset", "sst", "--path", "sst", "--split", "dev"],
        ["--dataset", "airline", "--path", "airline/Tweets.csv"],
        ["--dataset", "financial_phrasebank", "--path", "financial_phrasebank/Sentences_AllAgree.txt"],
        ["--dataset", "tweet_eval", "--path", "tweet_eval", "--split", "test"],
        ["--data", "sst/dev.txt", "--data-format", "sst"],
    ],
)
def test_evaluate_with_registered_corpora(run, tiny_model, args):
    from conftest import FIXTURES

    args = [str(FIXTURES / a) if a.startswith(("semeval/", "sst", "airline/", "financial", "tweet_eval")) and
            i and args[i - 1] in ("--path", "--data") else a for i, a in enumerate(args)]
    r = run("evaluate", "--model", tiny_model, *args, "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["n"] > 0


def test_dataset_with_several_splits_needs_split(run, tiny_model):
    from conftest import FIXTURES

    r = run("evaluate", "--model", tiny_model, "--dataset", "sst", "--path", FIXTURES / "sst")
    assert r.exit_code != 0 and "choose one with --split" in r.output


def test_strict_turns_skipped_rows_into_an_error(run, tiny_model, tmp_path):
    f = tmp_path / "twitter-2016test-A.txt"
    f.write_text("1\tpositive\tgreat day\n2\tneutral\tNot Available\n3\tnegative\tawful\n")
    r = run("evaluate", "--model", tiny_model, "--dataset", "semeval2017", "--path", f, "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.split("\n", 1)[-1] if not r.output.startswith("{") else r.output)["n"] == 2
    r = run("evaluate", "--model", tiny_model, "--dataset", "semeval2017", "--path", f, "--strict")
    assert r.exit_code == 1 and "would be skipped (strict)" in r.output


def test_invalid_utf8_on_stdin_names_the_line(run, tiny_model):
    r = CliRunner().invoke(main, ["predict", "--model", str(tiny_model), "-"], input=b"fine\n\xff bad\n")
    assert r.exit_code == 1 and "<stdin>: line 2, column 1: invalid UTF-8" in r.output and "Traceback" not in r.output
