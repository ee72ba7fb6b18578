"""Dataset loaders: corpora in their original formats, generic files, the hub path, bad input, CLI."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentilstm.data import DATASETS, LabelledData, LabelMap, load, load_data, load_dataset
from sentilstm.data.arrow import DataWarning
from sentilstm.data.sources import detect_format
from sentilstm.data.parsers import parse_ptb_tree
from sentilstm.data.files import DataError


FIXTURES = Path(__file__).parents[1] / "fixtures"
NEG, NEU, POS = 0, 1, 2


@pytest.fixture()
def cache(tmp_path):
    """Keep Arrow cache files of these tests in tmp_path."""
    return {"cache_dir": str(tmp_path / "cache")}


def _write(path, data):
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# -- SemEval ---------------------------------------------------------------------------------------
def test_semeval_fixture_directory():
    ds = load("semeval2017", FIXTURES / "semeval")
    assert ds.features["label"].names == ["negative", "neutral", "positive"]
    assert ds.column_names == ["text", "label", "id", "source"]
    rows = {r["id"]: r for r in ds}
    assert len(ds) == 9
    # \uXXXX escapes decoded (comma, apostrophe, a surrogate pair), trailing tab dropped
    assert rows["100000000000000001"]["text"] == "Match day tomorrow, then the debates\u2019 late session."
    assert rows["100000000000000002"]["text"].endswith("meeting \U0001f620")
    # quoted texts are kept as written (as in the project's reference data)
    assert rows["100000000000000003"]["text"] == '"Why is \\""""Happy Friday\\"""" trending? Loving it"'
    assert rows["100000000000000004"] == {"text": "New store opens on Main St on Monday", "label": NEU,
                                          "id": "100000000000000004", "source": "twitter-2013dev-A"}
    # the 2017 test gold file: CRLF, a tab inside the text, trailing tab
    assert rows["200000000000000002"]["text"] == "The update ships next week\twith release notes"
    assert rows["200000000000000001"]["label"] == POS
    assert rows["200000000000000001"]["source"] == "SemEval2017-task4-test.subtask-A.english"
    # the SMS layout id, uid, label, text
    assert rows["10936"]["text"] == "can u meet me at the station at 5, then we go"
    assert rows["11051"]["label"] == POS


def test_semeval_options_and_split():
    one = load("semeval2017", FIXTURES / "semeval", split="twitter-2013dev-A", unquote_texts=True)
    assert len(one) == 4 and set(one["source"]) == {"twitter-2013dev-A"}
    assert one[2]["text"] == 'Why is "Happy Friday" trending? Loving it'
    raw = load("semeval2017", FIXTURES / "semeval/twitter-2013dev-A.txt", unescape=False)
    assert "\\u002c" in raw[0]["text"]
    files = [FIXTURES / "semeval/sms-2013test-A.tsv", FIXTURES / "semeval/twitter-2013dev-A.txt"]
    assert len(load("semeval2017", files)) == 6
    with pytest.raises(DataError, match="no file named 'nope'"):
        load("semeval2017", FIXTURES / "semeval", split="nope")


def _tsv_line(rec, i):
    """A SemEval task-file line: some with a trailing tab, some with non-ASCII as \\uXXXX escapes."""
    text = rec["text"]
    if i % 3 == 0:
        text = "".join(c if ord(c) < 128 else _escape(c) for c in text)
    return f"{rec['id']}\t{rec['label']}\t{text}" + ("\t" if i % 2 else "") + "\n"


def _escape(c):
    code = ord(c)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def test_semeval_reads_real_lines_in_original_layout(data_dir, tmp_path):
    lines = (data_dir / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    recs = [json.loads(x) for x in lines[:40]]
    recs += [r for r in map(json.loads, lines[40:]) if r["text"].startswith('"')][:5]  # quoted texts
    recs.append({"id": "1", "label": "positive", "text": "caf\u00e9 \U0001f600 ok"})  # escapes both ways
    f = tmp_path / "twitter-2016devtest-A.txt"
    f.write_text("".join(_tsv_line(r, i) for i, r in enumerate(recs)), encoding="utf-8")
    ds = load("semeval2017", f)
    assert ds["text"][:] == [r["text"] for r in recs]
    assert ds["id"][:] == [r["id"] for r in recs]
    assert [ds.features["label"].int2str(v) for v in ds["label"]] == [r["label"] for r in recs]
    assert set(ds["source"]) == {"twitter-2016devtest-A"}
    data = load_data(f, format="semeval2017")  # the LabelledData path the CLI uses
    assert data.texts == [r["text"] for r in recs] and len(data.labels) == len(recs)


@pytest.mark.parametrize("content, message", [
    ("1\tpositive\tok\n2\tpositive\n", r"a\.txt: line 2: expected tab-separated id, label, text; got 2"),
    ("1\tpositive\tok\n2\thappy\tx\n3\thappy\ty\n4\tmeh\tz\n",
     r"a\.txt: 3 row\(s\) have unknown labels: 'happy' \(2×; first at line 2, line 3\), 'meh' \(1×; first at line 4\)"),
    ("1\tSony\tpositive\tgreat phone\n", r"line 1: looks like a topic-based file"),
    ("", r"a\.txt: no rows \(the file is empty\)"),
    (b"1\tpositive\tcaf\xe9\n", r"a\.txt: line 1, column 15: invalid UTF-8 \(byte 0xe9\)"),
])
def test_semeval_bad_input(tmp_path, content, message):
    with pytest.raises(DataError, match=message):
        load("semeval2017", _write(tmp_path / "a.txt", content))


def test_semeval_not_available_is_skipped_and_reported(tmp_path):
    f = _write(tmp_path / "a.txt", "1\tpositive\tgreat\n2\tneutral\tNot Available\n")
    with pytest.warns(DataWarning, match=r"skipped 1 row\(s\): text is 'Not Available'.*line 2"):
        ds = load("semeval2017", f)
    assert len(ds) == 1 and "skipped 1 row(s)" in ds.info.description
    with pytest.raises(DataError, match=r"1 row\(s\) would be skipped \(strict\)"):
        load("semeval2017", f, strict=True)
    assert len(load("semeval2017", f, keep_unavailable=True)) == 2


# -- TweetEval -------------------------------------------------------------------------------------
def test_tweet_eval_local_directory():
    dd = load("tweet_eval", FIXTURES / "tweet_eval")
    assert list(dd) == ["train", "val", "test"]
    assert dd["train"]["text"][:] == ['"QT @user So excited for the game tonight!"', "@user the bus is late again",
                                      "Meeting at 3 in room 12"]
    assert dd["train"]["label"][:] == [POS, NEG, NEU]
    val = load("tweet_eval", FIXTURES / "tweet_eval", split="validation")
    assert val["label"][:] == [NEU, POS]
    test = load("tweet_eval", FIXTURES / "tweet_eval" / "test_text.txt")
    assert test["text"][:] == ["Worst service ever"] and test["label"][:] == [NEG]
    with pytest.raises(DataError, match="has splits train, val, test; choose one"):
        load_data(FIXTURES / "tweet_eval", format="tweet_eval")
    assert load_data(FIXTURES / "tweet_eval", format="tweet_eval", split="test").labels.tolist() == [NEG]


def test_tweet_eval_bad_files(tmp_path):
    _write(tmp_path / "train_text.txt", "a\nb\nc\n")
    _write(tmp_path / "train_labels.txt", "0\n1\n")
    with pytest.raises(DataError, match=r"train_text\.txt has 3 line\(s\) but .*train_labels\.txt has 2; "
                                        r".*first unmatched line: 3"):
        load("tweet_eval", tmp_path)
    _write(tmp_path / "train_labels.txt", "0\n7\n1\n")
    with pytest.raises(DataError, match=r"train_labels\.txt: 1 row\(s\) have unknown labels: '7' "
                                        r"\(1×; first at line 2\)"):
        load("tweet_eval", tmp_path)


def test_tweet_eval_hub_call(monkeypatch):
    import datasets

    calls = []
    feats = datasets.Features({"text": datasets.Value("string"),
                               "label": datasets.ClassLabel(names=["negative", "neutral", "positive"])})

    def fake_load_dataset(path, name=None, split=None, **kw):
        calls.append((path, name, split))
        ds = datasets.Dataset.from_dict({"text": ["good", "bad"], "label": [2, 0]}, features=feats)
        return ds if split else datasets.DatasetDict({"train": ds, "validation": ds, "test": ds})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    ds = load("tweet_eval", split="dev")
    assert calls[-1] == ("cardiffnlp/tweet_eval", "sentiment", "validation")
    assert ds["text"][:] == ["good", "bad"] and ds["label"][:] == [POS, NEG]
    assert list(load("tweet_eval")) == ["train", "validation", "test"]
    assert load_dataset("tweet_eval", split="test").num_rows == 2


def test_hub_pass_through_with_local_files(tmp_path, cache):
    f = _write(tmp_path / "h.jsonl", '{"tweet": "yay", "score": 2}\n{"tweet": "nay", "score": 0}\n'
                                     '{"tweet": "hm", "score": 1}\n')
    ds = load("json", data_files=str(f), split="train", text_column="tweet", label_column="score",
              label_map="0:negative,1:neutral,2:positive", **cache)
    assert ds.column_names == ["text", "label"] and ds["label"][:] == [POS, NEG, NEU]
    with pytest.raises(DataError, match=r"no column 'text' \(columns: tweet, score\)"):
        load("json", data_files=str(f), split="train", label_column="score", **cache)
    with pytest.raises(DataError, match=r"3 row\(s\) have unknown labels: 2 .*index 0"):
        load("json", data_files=str(f), split="train", text_column="tweet", label_column="score", **cache)


# -- SST -------------------------------------------------------------------------------------------
def test_sst_trees():
    dd = load("sst", FIXTURES / "sst")
    assert list(dd) == ["train", "dev", "test"]
    train = dd["train"]
    assert train["text"][:2] == ["It 's a lovely film with lovely performances .", "The plot ( such as it ) is thin ."]
    assert train["label"][:] == [POS, NEG, NEU, NEG]
    five = load("sst", FIXTURES / "sst", split="train", classes=5)
    assert five.features["label"].names[0] == "very negative" and five["label"][:] == [3, 1, 2, 0]
    with pytest.warns(DataWarning, match=r"neutral root label \(binary view, classes=2\) \(1×; first at line 3\)"):
        two = load("sst", FIXTURES / "sst/train.txt", classes=2)
    assert two["label"][:] == [POS, NEG, NEG]
    with pytest.raises(DataError, match="would be skipped"):
        load("sst", FIXTURES / "sst/train.txt", classes=2, strict=True)
    with pytest.raises(DataError, match="5-class dataset cannot be used"):
        LabelledData.from_dataset(five)


@pytest.mark.parametrize("tree, message", [
    ("(3 (2 It) (4 works)", r"line 2, unbalanced brackets: 1 '\(' not closed"),
    ("(3 (2 It)) (2 x))", r"line 2, column 12: text after the end of the tree"),
    ("(3 (2 It) (4 works)))", r"line 2, column 21: unbalanced brackets: '\)' with no open"),
    ("(7 (2 It))", r"line 2, column 2: node label must be 0-4, got '7'"),
])
def test_sst_bad_trees(tmp_path, tree, message):
    f = _write(tmp_path / "train.txt", "(2 (2 fine) (2 .))\n" + tree + "\n")
    with pytest.raises(DataError, match=r"train\.txt: " + message):
        load("sst", f)


def test_parse_ptb_tree():
    assert parse_ptb_tree("(3 (2 It) (4 (4 works) (2 .)))") == (3, ["It", "works", "."])


# -- airline, Financial PhraseBank -----------------------------------------------------------------
def test_airline_tweets_csv():
    ds = load("airline", FIXTURES / "airline")
    assert ds["label"][:] == [NEU, POS, NEG]
    assert ds[1]["text"] == '@VirginAmerica plus, you\'ve added "commercials" to the experience... tacky.'
    assert ds[2]["text"] == "@united flight delayed\nagain, 3 hours on the tarmac"
    assert ds[2]["id"] == "570301083672813571" and ds[2]["tweet_location"] == "Lets Play, NY"
    # through load_data with the CLI's default --text-column/--label-column
    data = load_data(FIXTURES / "airline/Tweets.csv", format="airline", text_column="text", label_column="label")
    assert data.labels.tolist() == [NEU, POS, NEG] and data.extra["airline"][2] == "United"


def test_financial_phrasebank_latin1():
    dd = load("financial_phrasebank", FIXTURES / "financial_phrasebank")
    assert sorted(dd) == ["50Agree", "AllAgree"]
    ds = dd["AllAgree"]
    assert ds["label"][:] == [POS, NEG, NEU, NEU]
    assert ds[1]["text"] == "The company 's net sales fell 10 % to \u00a3 5.6 mn ."
    assert ds[2]["text"] == "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale and Nordea Pankki Suomi Oyj are the arrangers ; " \
                            "contact ir@nordea.fi ."
    assert ds[3]["text"] == "The H\u00e4meenlinna plant employs 200 people ."
    with pytest.raises(DataError, match=r"line 2, column 39: invalid UTF-8 \(byte 0xa3\)"):
        load("financial_phrasebank", FIXTURES / "financial_phrasebank/Sentences_AllAgree.txt", encoding="utf-8")


def test_financial_phrasebank_bad_line(tmp_path):
    f = _write(tmp_path / "Sentences_AllAgree.txt", "Fine .@neutral\nno label here\n")
    with pytest.raises(DataError, match=r"line 2: expected 'sentence@label'"):
        load("financial_phrasebank", f)


# -- generic files ---------------------------------------------------------------------------------
def test_csv_star_ratings():
    ds = load("csv", FIXTURES / "generic/reviews.csv", text_column="body", label_column="stars",
              label_map="1-2:negative,3:neutral,4-5:positive")
    assert ds["label"][:] == [POS, NEG, NEU, POS, NEG]  # '4.0' is 4
    assert ds[1]["text"] == "Broke after a day.\nReturned it." and ds[3]["text"] == 'Good value, "recommended"'
    assert ds.column_names == ["text", "label", "review_id"]


def test_tsv_jsonl_and_parquet(tmp_path, cache):
    tsv = load("tsv", FIXTURES / "generic/scores.tsv", label_map="0:negative,1:neutral,2:positive")
    assert tsv["label"][:] == [NEU, NEG, POS] and tsv["id"][:] == ["a", "b", "c"]
    with pytest.warns(DataWarning, match=r"keys not kept as columns.*'lang' \(first at mixed\.jsonl line 2\)"):
        js = load("jsonl", FIXTURES / "generic/mixed.jsonl")
    assert js["label"][:] == [POS, NEG, NEU] and js["id"][:] == ["1", "2", "3"]

    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"sentence": ["good", "bad", None, "meh"], "stars": [5, 1, 4, 3],
                             "helpful": [0.5, 1.5, 2.5, 3.5]}), p)
    with pytest.raises(DataError, match=r"r\.parquet: row 3: column 'sentence' must be a string, got null"):
        load("parquet", p, text_column="sentence", label_column="stars", label_map="1-2:neg,3:neu,4-5:pos", **cache)
    # a null text is an error, as on every reading path (it was skipped and reported before)
    pq.write_table(pa.table({"sentence": ["good", "bad", "meh"], "stars": [5, 1, 3],
                             "helpful": [0.5, 1.5, 3.5]}), p)
    pds = load("parquet", p, text_column="sentence", label_column="stars",
               label_map="1-2:neg,3:neu,4-5:pos", **cache)
    assert pds["text"][:] == ["good", "bad", "meh"] and pds["label"][:] == [POS, NEG, NEU]
    assert pds.features["helpful"].dtype == "float64"
    with pytest.raises(DataError, match=r"r\.parquet: 3 row\(s\) have unknown labels: 5 \(1×; first at index 0\)"):
        load("parquet", p, text_column="sentence", label_column="stars", **cache)


def test_generic_directory_gives_splits(tmp_path):
    _write(tmp_path / "train.csv", "text,label\na,pos\nb,neg\n")
    _write(tmp_path / "test.csv", "text,label\nc,neu\n")
    dd = load("csv", tmp_path)
    assert sorted(dd) == ["test", "train"] and dd["test"]["label"][:] == [NEU]
    assert load_dataset(tmp_path, split="train")["text"][:] == ["a", "b"]


@pytest.mark.parametrize("name, content, opts, message", [
    ("a.csv", "body,stars\nhi,5\n", {}, r"a\.csv: line 1: no column 'text' in the header \(columns: body, stars\)"),
    ("b.tsv", "text\tlabel\tid\nok\tpositive\t1\nragged\tneutral\n", {},
     r"b\.tsv: line 3: 2 field\(s\), the header has 3"),
    ("c.csv", 'text,label\n"open quote,positive\nnext,neutral\n', {},
     r"c\.csv: line 2: 1 field\(s\), the header has 2 \(one record over lines 2-3: an unbalanced quote\?\)"),
    ("d.csv", "", {}, r"d\.csv: no rows \(the file is empty\)"),
    ("e.csv", "text,label\n", {}, r"e\.csv: no rows \(only a header\)"),
    ("f.csv", "text,label\na,1\nb,2\nc,2\nd,positive\ne,9\n", {"label_map": "1:negative"},
     r"f\.csv: 3 row\(s\) have unknown labels: '2' \(2×; first at line 3, line 4\), '9' \(1×; first at line 6\)"),
    ("g.jsonl", '{"text": "x", "label": "positive"}\n{"text": 3, "label": "neutral"}\n', {},
     r"g\.jsonl: line 2: field 'text' must be a string"),
    ("h.jsonl", '{"text": "x", "label": "positive"}\n{"text": "y"\n', {}, r"h\.jsonl: line 2: invalid JSON"),
    ("i.csv", b"text,label\nok,positive\ncaf\xe9,neutral\n", {}, r"i\.csv: line 3, column 4: invalid UTF-8 \(byte 0xe9\)"),
])
def test_generic_bad_input(tmp_path, name, content, opts, message):
    f = _write(tmp_path / name, content)
    with pytest.raises(DataError, match=message):
        load(name.rsplit(".", 1)[1], f, **opts)


def test_encoding_option_and_skip_mapping(tmp_path):
    f = _write(tmp_path / "a.csv", "text,label\ncaf\xe9,positive\nbof,2\n".encode("latin-1"))
    with pytest.warns(DataWarning, match=r"label '2' is mapped to skip \(1×; first at line 3\)"):
        ds = load("csv", f, encoding="latin-1", label_map="2:skip")
    assert ds["text"][:] == ["caf\u00e9"]


def test_large_input_goes_to_an_arrow_file(tmp_path, cache):
    f = _write(tmp_path / "big.csv", "text,label\n" + "".join(f'"row {i}, x",{"neg neu pos".split()[i % 3]}\n'
                                                             for i in range(25_000)))
    disk = load("csv", f, in_memory=False, **cache)
    assert disk.cache_files and disk.cache_files[0]["filename"].startswith(cache["cache_dir"])
    mem = load("csv", f, in_memory=True)
    assert not mem.cache_files
    assert disk["text"][24_999] == mem["text"][24_999] == "row 24999, x" and disk["label"][:5] == [0, 1, 2, 0, 1]


# -- label maps, LabelledData <-> Dataset, detection -----------------------------------------------
def test_label_map_parsing():
    m = LabelMap.parse("-1:negative,0:neutral,1:positive")
    assert [m.lookup(v) for v in (-1, "0", 1.0, "Positive")] == [NEG, NEU, POS, POS]
    stars = LabelMap.parse("1-2:negative,3:neutral,4-5:positive")
    assert [stars.lookup(v) for v in (1, "2", 3, 4.5, "5.0", 6)] == [NEG, NEG, NEU, POS, POS, None]
    syn = LabelMap.parse(None)
    assert [syn.lookup(v) for v in ("pos", "NEG", "neu", "objective", 1)] == [POS, NEG, NEU, NEU, None]
    assert LabelMap.parse({"great": "pos", 0: "skip"}).lookup(0) == "label 0 is mapped to skip"
    for bad, msg in (("1-2", "has no ':'"), ("1:happy", "unknown target label"), ("3-1:neg", "empty")):
        with pytest.raises(ValueError, match=msg):
            LabelMap.parse(bad)


def test_labelled_data_round_trip(dev_data):
    head = dev_data.head(50)
    ds = head.to_dataset()
    assert ds.features["label"].names == ["negative", "neutral", "positive"]
    back = LabelledData.from_dataset(ds)
    assert back.texts == head.texts and back.labels.tolist() == head.labels.tolist()
    assert back.extra == head.extra and back.source == head.source
    sub = LabelledData.from_dataset(ds.select([3, 1]))
    assert sub.texts == [head.texts[3], head.texts[1]]


def test_load_data_keeps_plain_readers_and_takes_label_map(tmp_path):
    f = _write(tmp_path / "s.csv", "text,label\na,1\nb,0\n")
    assert load_data(f, label_map="0:negative,1:positive").labels.tolist() == [POS, NEG]
    with pytest.raises(DataError, match=r"unknown labels: '1' \(1×\).*first at line 2"):
        load_data(f)
    with pytest.raises(ValueError, match="columns are fixed"):
        load_data(FIXTURES / "sst/dev.txt", format="sst", text_column="sentence")


@pytest.mark.parametrize("path, fmt", [
    ("semeval", "semeval2017"), ("semeval/sms-2013test-A.tsv", "semeval2017"), ("tweet_eval", "tweet_eval"),
    ("tweet_eval/val_text.txt", "tweet_eval"), ("sst", "sst"), ("sst/dev.txt", "sst"), ("airline", "airline"),
    ("financial_phrasebank/Sentences_50Agree.txt", "financial_phrasebank"), ("generic/mixed.jsonl", "jsonl"),
    ("generic/reviews.csv", "csv"), ("generic/scores.tsv", "tsv"),
])
def test_detect_format(path, fmt):
    assert detect_format(FIXTURES / path) == fmt


# -- CLI and imports -------------------------------------------------------------------------------
def test_cli_datasets_list_and_show():
    from sentilstm.cli import main

    r = CliRunner().invoke(main, ["datasets", "list"])
    assert r.exit_code == 0, r.output
    for name in DATASETS:
        assert f"\n{name}\n" in "\n" + r.output
    r = CliRunner().invoke(main, ["datasets", "show", str(FIXTURES / "sst"), "--format", "json", "--examples", "1"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["name"] == "sst" and doc["splits"]["train"]["labels"] == {"negative": 2, "neutral": 1, "positive": 1}
    assert doc["splits"]["train"]["examples"]["neutral"] == ["It opens on Friday ."]
    r = CliRunner().invoke(main, ["datasets", "show", "csv", str(FIXTURES / "generic/reviews.csv"),
                                  "--text-column", "body", "--label-column", "stars",
                                  "--label-map", "1-2:neg,3:neu,4-5:pos"])
    assert r.exit_code == 0, r.output
    assert "all" in r.output and "text length" in r.output and "Broke after a day. Returned it." in r.output


def test_cli_datasets_show_error(tmp_path):
    from sentilstm.cli import main

    f = _write(tmp_path / "x.txt", "1\tpositive\tok\n2\tpositive\n")
    r = CliRunner().invoke(main, ["datasets", "show", "semeval2017", str(f)])
    assert r.exit_code == 1 and "line 2: expected tab-separated id, label, text" in r.output


def test_imports_stay_light():
    code = ("import sys, sentilstm, sentilstm.data, sentilstm.cli, sentilstm.cli.datasets;"
            "heavy = [m for m in ('datasets', 'pyarrow', 'tensorflow', 'keras') if m in sys.modules];"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_warnings_for_clean_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load("semeval2017", FIXTURES / "semeval")
        load("airline", FIXTURES / "airline")
