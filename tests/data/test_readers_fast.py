"""The readers' fast paths give exactly what the precise line-by-line reader gives: the same
tables (cut at the same rows, with the same column types) and the same errors, on every case of
the bad-input table, on tricky JSON Lines blocks, and on the real SemEval files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentilstm.data import DataError, lines
from sentilstm.data.readers import iter_lines, iter_records, iter_tables

from test_data_safety_read import CASES, _make

REAL = [Path("/work/shared/data/semeval2017") / f for f in ("train.jsonl", "dev.jsonl")]


def _run(fn, fast: bool):
    old = lines.FAST
    lines.FAST = fast
    try:
        return "ok", fn()
    except (DataError, ValueError) as e:
        return "error", str(e)
    finally:
        lines.FAST = old


def _same(fn):
    fast, precise = _run(fn, True), _run(fn, False)
    assert repr(fast) == repr(precise)  # repr: nan == nan
    return fast


def _tables(p: Path, block_bytes: int = 1 << 20, text_column: str = "text"):
    return [(t.schema, t.to_pylist()) for t in iter_tables(p, text_column, block_bytes)]


def _all(p: Path):
    return {"lines": list(iter_lines(p)), "keep": list(iter_lines(p, keepends=True)),
            "latin1": list(iter_lines(p, "latin-1")), "records": list(iter_records(p))}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fast_equals_precise_on_every_case(case, tmp_path):
    p = _make(case, tmp_path)
    for block in (1, 64, 1 << 20):
        _same(lambda: _tables(p, block))
    if case.content not in (None, b"<dir>") and not case.name.endswith(".parquet"):
        _same(lambda: _all(p))


TRICKY = [
    '{"text": "a"}\n{"text": "b"}',  # no final newline
    '{"text": "a"}\n\n{"text": "b"}\n',  # blank line
    '{"text": "a"} {"text": "b"}\n{"text": "c"}\n',  # two objects on a line
    '{"text":\n"a"}\n{"text": "b"}{"text": "c"}\n',  # one object over two lines, two on another
    '{"text": "a", "n": 1}\n{"text": "b", "n": "x"}\n',  # mixed types
    '{"text": "a", "n": 1}\n{"text": "b", "n": 2.5}\n',
    '{"text": "a", "n": NaN}\n', '{"text": "a", "n": Inf}\n', '{"text": "a", "n": Infinity}\n',
    '{"text": "a", "n": 99999999999999999999}\n', '{"text": "a", "n": 9223372036854775807}\n',
    '{"text": "a", "n": null}\n{"text": "b"}\n', '{"text": "a", "n": true}\n{"text": "b", "n": 1}\n',
    '{"text": "a", "text": "b"}\n', '{"text": "a", "\\u0074ext": "b"}\n',
    '{"text": "a"}\n{"text": "b", "extra": 1}\n', '{"text": "a", "extra": 1}\n{"text": "b"}\n',
    '{"text": "a\\ud83d\\ude00"}\n', '{"text": "\\udc00"}\n', '{"text": "a\\u2028b\u2028c\u0085"}\n',
    '{"text": "a"}\r\n{"text": "b"}\r\n', '\ufeff{"text": "a"}\n', '{"text": "a"}\x0c\n', ' {"text": "a"}\n',
    '{"text": 5}\n', '{"text": null}\n', '{"body": "a"}\n', '{"text": "a", "o": {"x": 1}}\n',
    '{"text": "a", "l": [1]}\n', '{"text": "a\\tb\\"c\\\\"}\n', '{"text": "a\tb"}\n', '[1]\n', '2\n',
    '{"text": "a",}\n', '{"text": "say: null"}\n', '{"text": "é"}\n' * 3000,
    ''.join(f'{{"text": "{"x" * (i % 50)}", "i": {i}}}\n' for i in range(5000)),
    ''.join(f'{{"text": "t{i}", "v": {json.dumps(["s", 1, True, None][i % 4] if i > 2500 else i)}}}\n'
            for i in range(5000)),
]


@pytest.mark.parametrize("i", range(len(TRICKY)))
def test_fast_equals_precise_on_tricky_json_lines(i, tmp_path, monkeypatch):
    p = tmp_path / "t.jsonl"
    p.write_bytes(TRICKY[i].encode("utf-8", "surrogatepass"))
    monkeypatch.setattr(lines, "READ_BLOCK", 4096)
    for block in (1, 100, 5000, 1 << 20):
        _same(lambda: _tables(p, block))
    _same(lambda: _all(p))


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_fast_equals_precise_on_the_real_files(path, tmp_path):
    if not path.exists():
        pytest.skip(f"{path} not here")
    kind, got = _same(lambda: _tables(path))
    assert kind == "ok" and sum(len(rows) for _, rows in got) == sum(1 for line in open(path, "rb") if line.strip())
    _same(lambda: _tables(path, 1 << 14))
    _same(lambda: list(iter_records(path)))
    with_nulls = tmp_path / "n.jsonl"  # the same records with a null field every 7th line, and CRLF lines
    with open(path, encoding="utf-8") as f, open(with_nulls, "w", encoding="utf-8", newline="") as out:
        for k, line in enumerate(f):
            rec = json.loads(line)
            if k % 7 == 0:
                rec["source"] = None
            out.write(json.dumps(rec, ensure_ascii=k % 2 == 0) + ("\r\n" if k % 1000 == 999 else "\n"))
    _same(lambda: _tables(with_nulls))
