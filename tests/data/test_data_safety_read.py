"""Bad (and tricky) input files, crossed with every entry point that reads them.

Each case is a file and what every reader must make of it: the exact records, in order, or one
error line naming the file and the line (or Parquet row).  The entry points: ``predict`` to stdout,
``predict`` from stdin (plain-text cases), ``predict --out`` (local engine), ``evaluate``,
``train`` (up to the end of loading: ``fit`` is replaced by a stub that records its input),
``datasets show`` and the Python API (``read_texts``, ``load_data``).  Plus the API's input
types and the CLI's edges (closed stdin, local-looking dataset names that must never reach the hub).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sentilstm.cli import main

BOM = b"\xef\xbb\xbf"
LONG = "long " * 40_000  # 200,000 characters on one line


@dataclass(frozen=True)
class Case:
    id: str
    name: str  # file name ("" = a directory, None-like cases below)
    content: bytes | None  # None: the path does not exist; b"<dir>": a directory
    texts: list[str] | str  # predict's records in order, or an error regex (names file and line)
    labelled: list[str] | str | None = None  # load_data/evaluate/train/datasets: texts, error regex, None = n/a


def _parquet(columns: dict[str, list[Any]]) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def _lines(*recs: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode()


CASES = [
    # plain text: a record ends at \n (a \r before it dropped); nothing else splits it
    Case("txt-u2028", "a.txt", "first\u2028second\nthird\n".encode(), ["first\u2028second", "third"]),
    Case("txt-nel-ff-cr", "a.txt", "a\u0085b\nc\x0cd\ne\rf\n".encode(), ["a\u0085b", "c\x0cd", "e\rf"]),
    Case("txt-crlf", "a.txt", b"one\r\ntwo\r\n", ["one", "two"]),
    Case("txt-no-final-newline", "a.txt", b"one\ntwo", ["one", "two"]),
    Case("txt-blank-lines", "a.txt", b"one\n\n\ntwo\n", ["one", "", "", "two"]),
    Case("txt-bom", "a.txt", BOM + b"one\ntwo\n", ["one", "two"]),
    Case("txt-nul", "a.txt", b"a\x00b\nc\n", ["a\x00b", "c"]),
    Case("txt-long-line", "a.txt", (LONG + "\nshort\n").encode(), [LONG, "short"]),
    Case("txt-other-suffix", "notes.log", b"x\ny\n", ["x", "y"]),
    Case("txt-empty", "a.txt", b"", r"a\.txt: empty input"),
    Case("txt-bad-utf8", "a.txt", b"ok\nbad \xff here\n", r"a\.txt: line 2, column 5: invalid UTF-8 \(byte 0xff\)"),
    # CSV / TSV: header, one record per row, quoted newlines inside a record; wrong field counts are errors
    Case("csv-quoted-newline", "d.csv", b'text,label\n"multi\nline",positive\nplain,negative\n',
         ["multi\nline", "plain"], ["multi\nline", "plain"]),
    Case("csv-bom-crlf", "d.csv", BOM + b"text,label\r\na,positive\r\nb,negative\r\n", ["a", "b"], ["a", "b"]),
    Case("csv-blank-line", "d.csv", b"text,label\na,positive\n\nb,negative\n", ["a", "b"], ["a", "b"]),
    Case("csv-u2028", "d.csv", "text,label\nx\u2028y,positive\n".encode(), ["x\u2028y"], ["x\u2028y"]),
    Case("csv-short-row", "d.csv", b"text,label\na,positive\nb\n", r"d\.csv: line 3: 1 field\(s\), the header has 2",
         r"d\.csv: line 3: 1 field\(s\), the header has 2"),
    Case("csv-long-row", "d.csv", b"text,label\na,positive,extra\n", r"d\.csv: line 2: 3 field\(s\), the header has 2",
         r"d\.csv: line 2: 3 field\(s\), the header has 2"),
    Case("csv-no-text-column", "d.csv", b"body,label\na,positive\n", r"d\.csv: line 1: no column 'text' in the header",
         r"d\.csv: line 1: no column 'text' in the header"),
    Case("csv-unclosed-quote", "d.csv", b'text,label\n"open,positive\nb,negative\n',
         r"d\.csv: line 2: 1 field\(s\), the header has 2 \(one record over lines 2-3",
         r"d\.csv: line 2: 1 field\(s\), the header has 2 \(one record over lines 2-3"),
    Case("csv-bad-utf8", "d.csv", b"text,label\nok,positive\ncaf\xe9,neutral\n",
         r"d\.csv: line 3, column 4: invalid UTF-8", r"d\.csv: line 3, column 4: invalid UTF-8"),
    Case("tsv-wrong-fields", "d.tsv", b"text\tlabel\na\tpositive\tx\n", r"d\.tsv: line 2: 3 field\(s\)",
         r"d\.tsv: line 2: 3 field\(s\)"),
    # JSON Lines
    Case("jsonl-u2028", "e.jsonl", _lines({"text": "a\u2028b", "label": "positive"}, {"text": "c", "label": "neutral"}),
         ["a\u2028b", "c"], ["a\u2028b", "c"]),
    Case("jsonl-blank-line", "e.jsonl", b'{"text": "a", "label": "positive"}\n\n{"text": "b", "label": "neutral"}\n',
         ["a", "b"], ["a", "b"]),
    Case("jsonl-lone-surrogate", "e.jsonl", b'{"text": "ok", "label": "positive"}\n{"text": "\\ud800", "label": "neutral"}\n',
         r"e\.jsonl: line 2: a lone surrogate \(\\ud800\)", r"e\.jsonl: line 2: a lone surrogate \(\\ud800\)"),
    Case("jsonl-missing-text", "e.jsonl", _lines({"text": "a", "label": "positive"}, {"body": "b", "label": "neutral"}),
         r"e\.jsonl: line 2: missing field 'text'", r"e\.jsonl: line 2: missing field 'text'"),
    Case("jsonl-text-not-string", "e.jsonl", _lines({"text": 5, "label": "positive"}),
         r"e\.jsonl: line 1: field 'text' must be a string, got a number",
         r"e\.jsonl: line 1: field 'text' must be a string, got a number"),
    Case("jsonl-bad-json", "e.jsonl", b'{"text": "a", "label": "positive"}\n{"text": \n',
         r"e\.jsonl: line 2: invalid JSON", r"e\.jsonl: line 2: invalid JSON"),
    # .json: an array of records (or strings) is records; otherwise JSON Lines
    Case("json-array", "f.json", b'[\n {"text": "a", "label": "positive"},\n {"text": "b", "label": "negative"}\n]\n',
         ["a", "b"], ["a", "b"]),
    Case("json-array-of-strings", "f.json", b'["a", "b",\n "c"]', ["a", "b", "c"], r"f\.json: line 1: missing field 'label'"),
    Case("json-array-non-objects", "f.json", b'[\n{"text": "a", "label": "positive"},\n2]',
         r"f\.json: line 3: expected a JSON object \(or a string\) in the array, got a number",
         r"f\.json: line 3: expected a JSON object \(or a string\) in the array, got a number"),
    Case("json-array-unclosed", "f.json", b'[\n{"text": "a", "label": "positive"},\n',
         r"f\.json: line 3: invalid JSON", r"f\.json: line 3: invalid JSON"),
    Case("json-lines-named-json", "f.json", _lines({"text": "a", "label": "positive"}, {"text": "b", "label": "neutral"}),
         ["a", "b"], ["a", "b"]),
    # Parquet: records with a text column
    Case("parquet", "g.parquet", b"<parquet-ok>", ["a\u2028b", "c"], ["a\u2028b", "c"]),
    Case("parquet-no-text-column", "g.parquet", b"<parquet-body>", r"g\.parquet: no column 'text'",
         r"g\.parquet: no column 'text'"),
    Case("parquet-null-text", "g.parquet", b"<parquet-null>", r"g\.parquet: row 2: column 'text' must be a string",
         r"g\.parquet: row 2: column 'text' must be a string"),
    Case("parquet-not-parquet", "g.parquet", b"not parquet at all", r"g\.parquet: not a readable Parquet file",
         r"g\.parquet: not a readable Parquet file"),
    # not a file
    Case("directory", "dir.csv", b"<dir>", r"dir\.csv: is a directory", r"dir\.csv: is a directory"),
    Case("missing-file", "nope.csv", None, r"nope\.csv: no such file or directory$",
         r"nope\.csv: no such file or directory$"),
]
PARQUETS = {
    b"<parquet-ok>": lambda: _parquet({"text": ["a\u2028b", "c"], "label": ["positive", "neutral"]}),
    b"<parquet-body>": lambda: _parquet({"body": ["a"], "label": ["positive"]}),
    b"<parquet-null>": lambda: _parquet({"text": ["a", None], "label": ["positive", "neutral"]}),
}


def _make(case: Case, tmp_path: Path) -> Path:
    p = tmp_path / case.name
    if case.content is None:
        return p
    if case.content == b"<dir>":
        p.mkdir()
    else:
        p.write_bytes(PARQUETS[case.content]() if case.content in PARQUETS else case.content)
    return p


def _invoke(*args: Any, input: bytes | None = None) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def _check_error(res: Any, pattern: str) -> None:
    """Exit status 1, one 'Error:' line matching ``pattern``, no traceback."""
    out = res.output
    assert res.exit_code == 1, out
    assert "Traceback" not in out and (res.exception is None or isinstance(res.exception, SystemExit)), out
    errors = [line for line in out.split("\n") if line.startswith("Error:")]
    assert len(errors) == 1, out
    assert re.search(pattern, errors[0]), errors[0]


def _predicted(res: Any) -> list[str]:
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    lines = [line for line in res.stdout.split("\n") if line]  # split on \n only, as a reader would
    return [json.loads(line)["text"] for line in lines]


ids = [c.id for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_predict_stdout(case, tmp_path):
    res = _invoke("predict", "--format", "jsonl", "--file", _make(case, tmp_path))
    if isinstance(case.texts, str):
        _check_error(res, case.texts)
    else:
        assert _predicted(res) == case.texts


@pytest.mark.parametrize("case", [c for c in CASES if c.name.endswith(".txt") and c.content], ids=lambda c: c.id)
def test_predict_stdin(case):
    res = _invoke("predict", "--format", "jsonl", "-", input=case.content)
    if isinstance(case.texts, str):
        _check_error(res, case.texts.replace(r"a\.txt", "<stdin>"))
    else:
        assert _predicted(res) == case.texts


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_predict_out_local(case, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "out" / "scored.parquet"
    res = _invoke("predict", "--file", _make(case, tmp_path), "--out", out)
    if isinstance(case.texts, str):
        _check_error(res, case.texts)
        assert not out.exists()
    else:
        assert res.exit_code == 0, res.output
        table = pq.read_table(out)
        assert table.column("text").to_pylist() == case.texts
        assert table.num_rows == len(case.texts)


def test_api_read_texts(tmp_path):
    from sentilstm.data import DataError, read_texts

    for case in CASES:
        (tmp_path / case.id).mkdir()
        p = _make(case, tmp_path / case.id)
        if isinstance(case.texts, str):
            if "empty input" in case.texts:
                assert read_texts(p) == []  # the CLI says "empty input"; the API returns no texts
                continue
            with pytest.raises(DataError, match=case.texts):
                read_texts(p)
        else:
            assert read_texts(p) == case.texts, case.id


LABELLED = [c for c in CASES if c.labelled is not None]


@pytest.mark.parametrize("case", LABELLED, ids=lambda c: c.id)
def test_api_load_data(case, tmp_path):
    from sentilstm.data import DataError, load_data

    p = _make(case, tmp_path)
    if isinstance(case.labelled, str):
        with pytest.raises(DataError, match=case.labelled):
            load_data(p)
    else:
        assert load_data(p).texts == case.labelled


@pytest.mark.parametrize("case", LABELLED, ids=lambda c: c.id)
def test_evaluate(case, tmp_path):
    res = _invoke("evaluate", "--data", _make(case, tmp_path), "--format", "json")
    if isinstance(case.labelled, str):
        _check_error(res, case.labelled)
    else:
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["n"] == len(case.labelled)


@pytest.mark.parametrize("case", LABELLED, ids=lambda c: c.id)
def test_train_loading(case, tmp_path, monkeypatch):
    from sentilstm.classifier import SentimentClassifier

    seen: list[list[str]] = []

    def fit(self, texts, labels, **kw):  # stop right after loading: the training itself is tested elsewhere
        seen.append(list(texts))
        raise RuntimeError("stopped after loading")

    monkeypatch.setattr(SentimentClassifier, "fit", fit)
    p = _make(case, tmp_path)
    res = _invoke("train", "--data", p, "--dev", p, "--out", tmp_path / "model")
    if isinstance(case.labelled, str):
        _check_error(res, case.labelled)
        assert not seen
    else:
        _check_error(res, "stopped after loading")
        assert seen == [case.labelled]
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("case", [c for c in LABELLED if c.id != "directory"], ids=lambda c: c.id)
def test_datasets_show(case, tmp_path):
    res = _invoke("datasets", "show", _make(case, tmp_path), "--format", "json")
    if isinstance(case.labelled, str):
        _check_error(res, case.labelled)
    else:
        assert res.exit_code == 0, res.output
        splits = json.loads(res.stdout)["splits"]
        assert [s["rows"] for s in splits.values()] == [len(case.labelled)]


# -- the Python API's input types -----------------------------------------------------------------
@pytest.fixture(scope="module")
def clf():
    from sentilstm import load

    return load()


def test_api_accepts_sequences_series_and_dataframes(clf):
    import numpy as np
    import pandas as pd

    texts = ["I love it", "awful service", "ok"]
    ref = clf.predict_proba(texts)
    for given in (tuple(texts), np.array(texts), np.array(texts, dtype=object), pd.Series(texts),
                  pd.DataFrame({"id": [1, 2, 3], "text": texts})):
        got = clf.predict_proba(given)
        assert got.shape == (3, 3) and np.allclose(got, ref, atol=1e-6), type(given)
    assert clf.predict(pd.DataFrame({"text": texts})) == clf.predict(texts)
    assert clf.predict("I love it") == clf.predict(["I love it"])


@pytest.mark.parametrize("bad, error, message", [
    ({"a": 1}, TypeError, r"texts is dict; expected a string, a list"),
    (b"x", TypeError, r"texts is bytes; expected .*decode"),
    ({"x", "y"}, TypeError, r"texts is set; expected"),
    (frozenset({"x"}), TypeError, r"texts is frozenset"),
    ((t for t in ["x"]), TypeError, r"texts is generator"),
    (None, TypeError, r"texts is None"),
    (42, TypeError, r"texts is int"),
    (["ok", 3], TypeError, r"texts\[1\] is int"),
    (["ok", None], TypeError, r"texts\[1\] is NoneType"),
    (["\ud800"], ValueError, r"texts\[0\] holds a lone surrogate \(\\ud800\)"),
])
def test_api_rejects_other_inputs(clf, bad, error, message):
    with pytest.raises(error, match=message):
        clf.predict(bad)
    if not hasattr(bad, "__next__"):  # a generator is spent by the first call
        with pytest.raises(error, match=message):
            clf.predict_proba(bad)


def test_api_dataframe_without_text_column_and_2d_arrays(clf):
    import numpy as np
    import pandas as pd

    with pytest.raises(ValueError, match=r"DataFrame without a 'text' column \(columns: body\)"):
        clf.predict(pd.DataFrame({"body": ["a", "b"]}))
    with pytest.raises(ValueError, match=r"2-d array"):
        clf.predict(np.array([["a", "b"]]))


def test_explain_uses_the_same_input_rules(clf):
    from sentilstm.classifier import explain

    with pytest.raises(TypeError, match="texts is dict"):
        explain({"a": 1}, model=clf)


def test_predict_does_not_import_pandas():
    code = "import sys, sentilstm; sentilstm.load().predict(['hi']); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- CLI edges, through real processes ------------------------------------------------------------
def _cli(*args: str, stdin: Any = None, env: dict[str, str] | None = None, shell: str | None = None) -> Any:
    cmd = shell if shell is not None else [sys.executable, "-m", "sentilstm.cli", *args]
    return subprocess.run(cmd, stdin=stdin, capture_output=True, text=True, timeout=120, env=env,
                          shell=shell is not None, executable="/bin/bash" if shell else None)


def test_stdin_u2028_is_inside_a_line():
    """The issue's example: 2 lines in, 2 results out."""
    out = subprocess.run([sys.executable, "-m", "sentilstm.cli", "predict", "--format", "jsonl"],
                         input="first\u2028second\nthird\n".encode(), capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    recs = [json.loads(x) for x in out.stdout.decode().split("\n") if x]
    assert [r["text"] for r in recs] == ["first\u2028second", "third"]


@pytest.mark.parametrize("redirect, message", [
    ("<&-", r"^Error: <stdin>: closed; give TEXT arguments, --file PATH, or pipe text on stdin$"),
    ("- <&-", r"^Error: <stdin>: closed"),
    ("- 0>>{tmp}/w.txt", r"^Error: <stdin>: cannot read \(Bad file descriptor\)$"),  # opened for writing only
    ("0>>{tmp}/w.txt", r"^Error: <stdin>: cannot read \(Bad file descriptor\)$"),
])
@pytest.mark.parametrize("command", ["predict", "explain"])
def test_closed_or_unreadable_stdin(command, redirect, message, tmp_path):
    res = _cli(shell=f"'{sys.executable}' -m sentilstm.cli {command} {redirect.format(tmp=tmp_path)}")
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert re.match(message, res.stderr.strip()), res.stderr


@pytest.mark.parametrize("name", ["my_corpus.jsonl", "./x", "/nonexistent/x", "data/sub/x", "~/nope", "x.csv",
                                  "reviews.parquet"])
def test_local_looking_missing_dataset_fails_at_once_without_the_hub(name, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    started = time.perf_counter()
    res = _cli("datasets", "show", name, env=env)
    took = time.perf_counter() - started
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip() == f"Error: {name}: no such file or directory"
    assert "huggingface" not in res.stderr.lower()
    assert took < 3, f"{took:.1f}s"


def test_hub_rule():
    from sentilstm.data.formats import hub_name, looks_local

    for name in ("imdb", "cardiffnlp/tweet_eval", "owner/name.v2"):
        assert hub_name(name), name
    for name in ("my.jsonl", "./x", "/x", "a/b/c", "~/x", "x.csv", "dir\\x", "owner/name.parquet"):
        assert looks_local(name) and not hub_name(name), name


def test_train_and_evaluate_dataset_option_never_reach_the_hub_for_paths(tmp_path):
    res = _invoke("evaluate", "--dataset", tmp_path / "missing.jsonl")
    _check_error(res, r"missing\.jsonl: no such file or directory")
    res = _invoke("train", "--dataset", "./missing", "--out", tmp_path / "m")
    _check_error(res, r"\./missing: no such file or directory")


# -- the other engines: slow to start, so a few cases only ----------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("engine", ["ray", "spark"])
def test_engines_read_like_local(engine, tmp_path):
    import pyarrow.parquet as pq

    pytest.importorskip("ray" if engine == "ray" else "pyspark")
    src = tmp_path / "a.txt"
    src.write_bytes("first\u2028second\n\nthird\rx\n".encode())
    out = tmp_path / "o.parquet"
    res = _invoke("predict", "--file", src, "--out", out, "--engine", engine, "--workers", "2")
    assert res.exit_code == 0, res.output
    assert pq.read_table(out).column("text").to_pylist() == ["first\u2028second", "", "third\rx"]
    bad = tmp_path / "d.csv"
    bad.write_bytes(b"text,label\na,positive\nb\n")
    started = time.perf_counter()
    _check_error(_invoke("predict", "--file", bad, "--out", tmp_path / "p.parquet", "--engine", engine),
                 r"d\.csv: line 3: 1 field\(s\), the header has 2")
    assert time.perf_counter() - started < 30  # the input is checked before the engine starts


SAME_ERROR = [c for c in CASES if isinstance(c.texts, str) and c.labelled == c.texts]


@pytest.mark.parametrize("case", SAME_ERROR, ids=lambda c: c.id)
def test_one_message_on_every_path(case, tmp_path):
    """The same bad file gives the very same error line on every entry point."""
    p = _make(case, tmp_path)
    runs = {
        "predict": _invoke("predict", "--file", p),
        "predict --out": _invoke("predict", "--file", p, "--out", tmp_path / "o.parquet"),
        "evaluate": _invoke("evaluate", "--data", p),
        "train": _invoke("train", "--data", p, "--out", tmp_path / "m"),
    }
    if case.id != "directory":  # `datasets show DIR` reads a corpus directory
        runs["datasets show"] = _invoke("datasets", "show", p)
    lines = {k: [x for x in r.output.split("\n") if x.startswith("Error:")] for k, r in runs.items()}
    assert len({tuple(v) for v in lines.values()}) == 1, lines
    assert all(r.exit_code == 1 for r in runs.values())


def test_text_column_option_and_far_lines(tmp_path):
    """--text-column applies to records, not to plain-text lines; errors far into a file name its line."""
    from sentilstm.data import DataError
    from sentilstm.scoring.batch import read_batches

    (tmp_path / "a.txt").write_text("x\ny\n")
    assert _predicted(_invoke("predict", "--format", "jsonl", "--text-column", "body", "--file", tmp_path / "a.txt")) \
        == ["x", "y"]
    (tmp_path / "b.csv").write_text("id,body\n1,hello\n2,bye\n")
    assert _predicted(_invoke("predict", "--format", "jsonl", "--text-column", "body", "--file", tmp_path / "b.csv")) \
        == ["hello", "bye"]
    big = tmp_path / "big.csv"
    big.write_text("text,label\n" + "ok,positive\n" * 50_000 + "short\n")
    with pytest.raises(DataError, match=r"big\.csv: line 50002: 1 field\(s\), the header has 2"):
        for _ in read_batches(big, block_bytes=1 << 16):
            pass
    big.write_text('{"text": "ok"}\n' * 50_000 + '{"text": \n')
    big = big.rename(tmp_path / "big.jsonl")
    with pytest.raises(DataError, match=r"big\.jsonl: line 50001: invalid JSON"):
        for _ in read_batches(big, block_bytes=1 << 16):
            pass
