"""Data files: good files load; every kind of bad file gets a specific error."""

import pytest

from sentilstm.data import load_data, read_texts
from sentilstm.data.files import DataError


def test_real_splits_load_completely(train_data, dev_data):
    assert len(train_data) == 47572 and len(dev_data) == 2000
    assert train_data.summary()["labels"] == {"negative": 7406, "neutral": 21515, "positive": 18651}
    assert dev_data.summary()["labels"] == {"negative": 325, "neutral": 681, "positive": 994}
    assert set(dev_data.extra) == {"id", "source"}


def test_csv_and_tsv(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text('id,text,label\n1,"hello, world",Positive\n2,"multi\nline",neg\n3,meh,neutral\n')
    d = load_data(p)
    assert d.texts == ["hello, world", "multi\nline", "meh"]
    assert d.labels.tolist() == [2, 0, 1]
    assert d.extra["id"] == ["1", "2", "3"]
    t = tmp_path / "d.tsv"
    t.write_text("text\tlabel\nok\tpositive\n")
    assert load_data(t).labels.tolist() == [2]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("a.jsonl", b"", r"a\.jsonl: no rows"),
        ("b.jsonl", b'{"text": "ok", "label": "positive"}\n{"text": "x", "label": "happy"}\n'
                    b'{"text": "y", "label": "happy"}\n', r"unknown labels: 'happy' \(2×\).*first at line 2"),
        ("c.jsonl", b'{"text": "ok", "label": "positive"}\n{"txt": "x", "label": "neutral"}\n',
         r"c\.jsonl: line 2: missing field 'text'"),
        ("d.jsonl", b'{"text": "ok", "label": "positive"}\n{"text": "x", "label": \n',
         r"d\.jsonl: line 2: invalid JSON"),
        ("e.jsonl", b'{"text": "ok", "label": "positive"}\n{"text": "caf\xe9", "label": "neutral"}\n',
         r"e\.jsonl: line 2, column 14: invalid UTF-8 \(byte 0xe9\)"),
        ("f.jsonl", b'{"text": null, "label": "positive"}\n', r"f\.jsonl: line 1: field 'text' must be a string"),
        ("g.csv", b"body,label\nhi,positive\n", r"g\.csv: line 1: no column 'text'"),
        ("h.jsonl", b'["text", "label"]\n', r"h\.jsonl: line 1: expected a JSON object"),
        ("i.xml", b"<a/>", r"cannot tell the format"),
    ],
)
def test_bad_files(tmp_path, name, content, message):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(DataError if not name.endswith(".xml") else ValueError, match=message):
        load_data(p)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_data(tmp_path / "missing.jsonl")


def test_read_texts_formats(tmp_path):
    (tmp_path / "a.txt").write_text("one\n\nthree\n")
    assert read_texts(tmp_path / "a.txt") == ["one", "", "three"]
    (tmp_path / "b.jsonl").write_text('{"text": "x"}\n{"text": "y", "other": 1}\n')
    assert read_texts(tmp_path / "b.jsonl") == ["x", "y"]
    (tmp_path / "c.csv").write_text('text,n\n"a, b",1\n')
    assert read_texts(tmp_path / "c.csv") == ["a, b"]
    (tmp_path / "d.txt").write_bytes(b"ok\n\xff\n")
    with pytest.raises(DataError, match=r"line 2, column 1: invalid UTF-8"):
        read_texts(tmp_path / "d.txt")
