"""Loaders for sentiment corpora in their original distribution formats, and for any CSV/TSV/JSONL/Parquet.

Each returns an Arrow-backed ``datasets.Dataset`` (a ``DatasetDict`` when the input has several
splits and none was chosen) with ``text``, ``label`` (ClassLabel, names in LABELS order) and the
corpus' id/source columns.  Bad input raises :class:`DataError` naming the file and line.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentilstm.data.arrow import DataWarning, TableBuilder, normalise, quiet_progress
from sentilstm.data.formats import DataError, format_of
from sentilstm.data.labelmap import LabelMap
from sentilstm.data.readers import iter_lines, iter_records, iter_tables, text_value
from sentilstm.data.registry import register_dataset

if TYPE_CHECKING:  # pragma: no cover
    import datasets
from sentilstm.data.sources import PathArg
from sentilstm.data.sources import Result
from sentilstm.data.sources import table_builder
from sentilstm.data.sources import dir_files
from sentilstm.data.parsers import generic_files
from sentilstm.data.parsers import json_value
from sentilstm.data.sources import need_path
from sentilstm.data.sources import one_file
from sentilstm.data.sources import as_paths
from sentilstm.data.sources import pick_split
from sentilstm.data.parsers import read_delimited
from sentilstm.data.parsers import read_sst
from sentilstm.data.parsers import read_text_labels
from sentilstm.data.sources import split_results
from sentilstm.data.parsers import sst_to_id
from sentilstm.data.parsers import unescape_u
from sentilstm.data.parsers import unquote

__all__ = [
    "load_semeval2017", "load_tweet_eval", "load_sst", "load_airline", "load_financial_phrasebank",
    "load_csv", "load_tsv", "load_jsonl", "load_parquet", "load_hub",
]


# -- SemEval ---------------------------------------------------------------------------------------
_NUMERIC = re.compile(r"^\d+$")
NOT_AVAILABLE = "Not Available"


def _semeval_files(path: PathArg) -> list[Path]:
    files: list[Path] = []
    for p in as_paths(path):
        need_path(p)
        if p.is_dir():
            found = dir_files(p, ("*.txt", "*.tsv"))
            if not found:
                raise DataError(f"{p}: no .txt or .tsv task files in this directory")
            files.extend(found)
        else:
            files.append(p)
    return files


@register_dataset(
    "semeval2017",
    files="SemEval Twitter task files (e.g. twitter-2016test-A.txt, SemEval2017-task4-test.subtask-A.english.txt): "
          "one file, several, or a directory",
    labels="negative/neutral/positive as written (objective, objective-OR-neutral -> neutral)",
    description="SemEval 2013-2017 Sentiment Analysis in Twitter, subtask A: id<TAB>label<TAB>text "
                "(also id<TAB>uid<TAB>label<TAB>text); \\uXXXX escapes decoded",
)
def load_semeval2017(path: PathArg, split: str | None = None, *, encoding: str = "utf-8", unescape: bool = True,
                     unquote_texts: bool = False, keep_unavailable: bool = False, label_map: Any = None,
                     strict: bool = False, in_memory: bool | None = None,
                     cache_dir: str | Path | None = None) -> "datasets.Dataset":
    """SemEval subtask A task files, concatenated into one Dataset (columns text, label, id, source).

    Lines are ``id<TAB>label<TAB>text`` (the 2013 SMS/LiveJournal layout ``id<TAB>uid<TAB>label<TAB>text``
    too); trailing tabs and surrounding spaces are dropped, ``\\uXXXX`` escapes decoded
    (``unescape=False`` keeps them), and texts are kept as written, quotes included, as in the
    project's reference data (``unquote_texts=True`` strips CSV-style wrapping quotes).  ``source`` is
    the file name without extension.  ``split`` picks the files whose name (without extension) it is.
    Rows whose text is ``Not Available`` (tweets deleted before download) are skipped and reported
    unless ``keep_unavailable``.  Blank lines are not records.
    """
    files = _semeval_files(path)
    if split is not None:
        stems = [f.stem for f in files]
        files = [f for f in files if f.stem == split] or [f for f in files if f.stem.lower() == split.lower()]
        if not files:
            raise DataError(f"{path}: no file named {split!r}; files: {', '.join(stems)}")
    lmap = LabelMap.parse(label_map)
    options = dict(encoding=encoding, unescape=unescape, unquote_texts=unquote_texts,
                   keep_unavailable=keep_unavailable, label_map=lmap.describe(), strict=strict,
                   in_memory=in_memory, cache_dir=cache_dir)
    where = str(files[0]) if len(files) == 1 else f"{len(files)} SemEval files in {files[0].parent}"

    def is_label(s: str) -> bool:
        return lmap.lookup(s) is not None and not _NUMERIC.match(s.strip())

    with table_builder(where, "semeval2017", files, options, lmap.lookup, ("id", "source")) as b:
        for f in files:
            b.start_file(f)
            for n, line in iter_lines(f, encoding):
                if not line.strip():
                    continue
                fields = line.split("\t")
                while len(fields) > 3 and fields[-1].strip() == "":
                    fields.pop()
                if len(fields) < 3:
                    raise DataError(f"{f}: line {n}: expected tab-separated id, label, text; got {len(fields)} "
                                    f"field(s): {line[:80]!r}")
                tid, label, text = fields[0], fields[1], "\t".join(fields[2:])
                if len(fields) >= 4 and _NUMERIC.match(fields[1].strip()) and not is_label(fields[1]):
                    label, text = fields[2], "\t".join(fields[3:])  # id, uid, label, text
                elif len(fields) >= 4 and not is_label(fields[1]) and is_label(fields[2]):
                    raise DataError(f"{f}: line {n}: looks like a topic-based file (id, topic, label, text: subtasks "
                                    f"B-E, topic {fields[1]!r}); this loader reads subtask A files")
                text = text.strip()
                if unescape:
                    text = unescape_u(text)
                if unquote_texts:
                    text = unquote(text)
                if text == NOT_AVAILABLE and not keep_unavailable:
                    b.skip("text is 'Not Available' (tweet deleted before download)", n)
                    continue
                b.add(text, label.strip(), n, (tid.strip(), f.stem))
            b.end_file()
        return b.finish(f"semeval2017: {len(files)} file(s): {', '.join(f.name for f in files)}")


# -- TweetEval -------------------------------------------------------------------------------------
TWEET_EVAL_HUB = ("cardiffnlp/tweet_eval", "sentiment")
_TWEET_EVAL_MAP = "0:negative,1:neutral,2:positive"


def _tweet_eval_mapping(d: Path) -> str:
    m = d / "mapping.txt"
    if not m.is_file():
        return _TWEET_EVAL_MAP
    pairs = []
    for n, line in iter_lines(m):
        if not line.strip():
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) != 2:
            raise DataError(f"{m}: line {n}: expected '<number><TAB><label>', got {line!r}")
        pairs.append(f"{parts[0].strip()}:{parts[1].strip()}")
    return ",".join(pairs)


@register_dataset(
    "tweet_eval",
    files="a TweetEval sentiment directory ({train,val,test}_text.txt + _labels.txt) or one *_text.txt; "
          "no path: the hub's cardiffnlp/tweet_eval 'sentiment'",
    labels="0 negative, 1 neutral, 2 positive (or the directory's mapping.txt)",
    description="TweetEval sentiment (SemEval-2017 4A re-split): train / validation / test",
    needs_path=False,
)
def load_tweet_eval(path: PathArg | None = None, split: str | None = None, *, encoding: str = "utf-8",
                    label_map: Any = None, strict: bool = False, in_memory: bool | None = None,
                    cache_dir: str | Path | None = None, **hub_options: Any) -> Result:
    """TweetEval sentiment from a local directory in the repository layout, or from the hub.

    Local: ``{split}_text.txt`` and ``{split}_labels.txt`` (one text / one number per line, aligned);
    texts are stripped, as the hub's loader does.  Splits are named by the files (``train``,
    ``val``, ``test``); ``validation``/``dev`` select ``val``.
    """
    if path is None:
        hub_split = None if split is None else pick_split(["train", "validation", "test"], split, "tweet_eval")
        return load_hub(TWEET_EVAL_HUB[0], hub_split, config=TWEET_EVAL_HUB[1], label_map=label_map, strict=strict,
                        **({"cache_dir": str(cache_dir)} if cache_dir else {}), **hub_options)
    if hub_options:
        raise TypeError(f"tweet_eval: unexpected options for a local directory: {', '.join(hub_options)}")
    p = one_file(path, "tweet_eval")
    if p.is_file():
        if not p.name.endswith("_text.txt"):
            raise DataError(f"{p}: expected a TweetEval '<split>_text.txt' file or the directory holding them")
        pairs = {p.name[: -len("_text.txt")]: p}
        d = p.parent
    else:
        d = p
        order = {"train": 0, "val": 1, "validation": 1, "test": 2}
        found = sorted(d.glob("*_text.txt"), key=lambda f: (order.get(f.name[:-9], 9), f.name))
        pairs = {f.name[: -len("_text.txt")]: f for f in found}
        if not pairs:
            raise DataError(f"{d}: no TweetEval files (<split>_text.txt with <split>_labels.txt)")
    lmap = LabelMap.parse(label_map if label_map is not None else _tweet_eval_mapping(d))
    options = dict(encoding=encoding, label_map=lmap.describe(), strict=strict, in_memory=in_memory,
                   cache_dir=cache_dir)
    parts = {s: (lambda f=f, s=s: read_text_labels(f, d / f"{s}_labels.txt", lmap, options, encoding))
             for s, f in pairs.items()}
    return split_results(parts, split, str(p))


@register_dataset(
    "sst",
    files="trainDevTestTrees_PTB/trees: a directory with train.txt, dev.txt, test.txt, or one of them",
    labels="root 0-1 negative, 2 neutral, 3-4 positive; classes=5: very negative..very positive; "
           "classes=2: neutral dropped (reported)",
    description="Stanford Sentiment Treebank, PTB trees (sentence = leaves, label = root)",
)
def load_sst(path: PathArg, split: str | None = None, *, classes: int = 3, encoding: str = "utf-8",
             strict: bool = False, in_memory: bool | None = None, cache_dir: str | Path | None = None) -> Result:
    """SST sentences from PTB tree files: text = leaves joined by spaces (``-LRB-`` -> ``(``), label = root.

    ``classes=3`` (default) maps the root's 0-4 to negative/neutral/positive; ``classes=5`` keeps
    the five classes (ClassLabel :data:`SST5_NAMES`); ``classes=2`` drops neutral sentences,
    counted and reported (an error with ``strict``).
    """
    sst_to_id(classes)
    p = one_file(path, "sst")
    options = dict(classes=classes, encoding=encoding, strict=strict, in_memory=in_memory, cache_dir=cache_dir)
    if p.is_file():
        files = {p.stem: p}
    else:
        order = {"train": 0, "dev": 1, "test": 2}
        found = [f for f in dir_files(p, ("*.txt",)) if f.stem in order] or dir_files(p, ("*.txt",))
        files = {f.stem: f for f in sorted(found, key=lambda f: (order.get(f.stem, 9), f.name))}
    return split_results({s: (lambda f=f: read_sst(f, classes, options, encoding)) for s, f in files.items()},
                   split, str(p))


# -- Financial PhraseBank --------------------------------------------------------------------------
@register_dataset(
    "financial_phrasebank",
    files="FinancialPhraseBank-v1.0: Sentences_AllAgree.txt, Sentences_50Agree.txt ... or their directory "
          "(one split per agreement level)",
    labels="negative/neutral/positive as written",
    description="Financial PhraseBank (Malo et al.): sentence@label per line, latin-1",
)
def load_financial_phrasebank(path: PathArg, split: str | None = None, *, encoding: str = "latin-1",
                              strict: bool = False, in_memory: bool | None = None,
                              cache_dir: str | Path | None = None) -> Result:
    """``sentence@label`` lines (the label after the last ``@``), latin-1 as distributed.

    A directory gives one split per file, named by agreement level (``AllAgree``, ``75Agree`` ...).
    """
    p = one_file(path, "financial_phrasebank")
    files = [p] if p.is_file() else dir_files(p, ("Sentences*.txt",)) or dir_files(p, ("*.txt",))
    lmap = LabelMap.parse(None)
    options = dict(encoding=encoding, strict=strict, in_memory=in_memory, cache_dir=cache_dir)

    def read(f: Path) -> "datasets.Dataset":
        with table_builder(str(f), "financial_phrasebank", [f], options, lmap.lookup) as b:
            b.start_file(f)
            for n, line in iter_lines(f, encoding):
                if not line.strip():
                    continue
                text, at, label = line.rpartition("@")
                if not at:
                    raise DataError(f"{f}: line {n}: expected 'sentence@label', found no '@': {line[:80]!r}")
                b.add(text.strip(), label.strip(), n)
            b.end_file()
            return b.finish(f"financial_phrasebank: {f.name}")

    return split_results({f.stem.replace("Sentences_", "").replace("Sentences", "") or f.stem: (lambda f=f: read(f))
                    for f in files}, split, str(p))


def _delimited_loader(name: str, delimiter: str, exts: Sequence[str]) -> Callable[..., Result]:
    def load(path: PathArg, split: str | None = None, *, text_column: str = "text", label_column: str = "label",
             label_map: Any = None, delimiter: str = delimiter, encoding: str = "utf-8", strict: bool = False,
             in_memory: bool | None = None, cache_dir: str | Path | None = None) -> Result:
        lmap = LabelMap.parse(label_map)
        options = dict(text_column=text_column, label_column=label_column, label_map=lmap.describe(),
                       delimiter=delimiter, encoding=encoding, strict=strict, in_memory=in_memory, cache_dir=cache_dir)
        parts = generic_files(path, exts)
        return split_results({s: (lambda fs=fs: read_delimited(fs, name, delimiter, text_column, label_column, lmap,
                                                           options, encoding)) for s, fs in parts.items()},
                       split, str(path))

    load.__name__ = f"load_{name}"
    load.__doc__ = (f"A {name.upper()} file with a header row (quoted fields may hold delimiters and newlines); "
                    "``text_column``/``label_column`` name the columns, ``label_map`` maps label values, other "
                    "columns are kept as strings.  A directory gives one split per file.")
    return load


_LABEL_MAP_HELP = "names/synonyms; numbers or star ratings through label_map ('0:negative,1:neutral,2:positive', " \
                  "'1-2:negative,3:neutral,4-5:positive')"
load_csv = register_dataset("csv", files="any .csv with a header row", labels=_LABEL_MAP_HELP,
                            description="comma-separated values", columns=True)(_delimited_loader("csv", ",", [".csv"]))
load_tsv = register_dataset("tsv", files="any .tsv with a header row", labels=_LABEL_MAP_HELP,
                            description="tab-separated values", columns=True)(_delimited_loader("tsv", "\t", [".tsv"]))


@register_dataset("airline", files="Twitter US Airline Sentiment: Tweets.csv (or its directory)",
                  labels="airline_sentiment: negative/neutral/positive",
                  description="Twitter US Airline Sentiment (Crowdflower / Kaggle); tweet_id -> id", columns=True)
def load_airline(path: PathArg, split: str | None = None, *, text_column: str = "text",
                 label_column: str = "airline_sentiment", label_map: Any = None, encoding: str = "utf-8",
                 strict: bool = False, in_memory: bool | None = None,
                 cache_dir: str | Path | None = None) -> "datasets.Dataset":
    """``Tweets.csv``: text from ``text``, label from ``airline_sentiment``, ``tweet_id`` as ``id``.

    The other columns are kept (as strings).
    """
    p = one_file(path, "airline")
    f = p / "Tweets.csv" if p.is_dir() else p
    if split is not None:
        raise DataError(f"{p}: the airline corpus has no splits")
    lmap = LabelMap.parse(label_map)
    options = dict(text_column=text_column, label_column=label_column, label_map=lmap.describe(),
                   encoding=encoding, strict=strict, in_memory=in_memory, cache_dir=cache_dir)
    return read_delimited([need_path(f)], "airline", ",", text_column, label_column, lmap, options, encoding,
                           rename={"tweet_id": "id"})


@register_dataset("jsonl", files="any .jsonl (one JSON object per line)", labels=_LABEL_MAP_HELP,
                  description="JSON lines; other keys kept (non-strings as JSON text)", columns=True)
def load_jsonl(path: PathArg, split: str | None = None, *, text_column: str = "text", label_column: str = "label",
               label_map: Any = None, encoding: str = "utf-8", strict: bool = False, in_memory: bool | None = None,
               cache_dir: str | Path | None = None) -> Result:
    """One JSON object per line; blank lines are not records.  Other keys become string columns
    (named by the first record; keys first seen later are reported, not kept)."""
    lmap = LabelMap.parse(label_map)
    options = dict(text_column=text_column, label_column=label_column, label_map=lmap.describe(),
                   encoding=encoding, strict=strict, in_memory=in_memory, cache_dir=cache_dir)

    def read(files: list[Path]) -> "datasets.Dataset":
        where = str(files[0]) if len(files) == 1 else f"{len(files)} files: {', '.join(map(str, files))}"
        b: TableBuilder | None = None
        extra: list[str] = []
        late: dict[str, tuple[Path, int]] = {}
        try:
            for f in files:
                rows_in_file = 0
                fmt = "json" if format_of(f) == "json" else "jsonl"
                for n, rec in iter_records(f, fmt, require=(text_column, label_column), encoding=encoding):
                    text = text_value(rec, n, str(f), text_column)
                    if b is None:
                        extra = [k for k in rec if k not in (text_column, label_column)]
                        cols = [f"original_{c}" if c in ("text", "label") else c for c in extra]
                        b = table_builder(where, "jsonl", files, options, lmap.lookup, cols).__enter__()
                    if rows_in_file == 0:
                        b.start_file(f)
                    rows_in_file += 1
                    for k in rec:
                        if k not in extra and k not in (text_column, label_column) and k not in late:
                            late[k] = (f, n)
                    b.add(text, rec[label_column], n, [json_value(rec.get(k)) for k in extra])
                if rows_in_file == 0:
                    raise DataError(f"{f}: no rows (the file is empty)")
            assert b is not None
            if late:
                note = (f"{where}: keys not kept as columns (absent from the first record): " +
                        ", ".join(f"{k!r} (first at {f.name} line {n})" for k, (f, n) in late.items()))
                b.notes.append(note)
                warnings.warn(note, DataWarning, stacklevel=3)
            return b.finish(f"jsonl: {', '.join(f.name for f in files)}")
        except BaseException as e:
            if b is not None:
                b.__exit__(type(e), e, None)
            raise

    parts = generic_files(path, [".jsonl", ".ndjson", ".json"])
    return split_results({s: (lambda fs=fs: read(fs)) for s, fs in parts.items()}, split, str(path))


@register_dataset("parquet", files="any .parquet file (or a directory: one split per file)", labels=_LABEL_MAP_HELP,
                  description="Apache Parquet, read through datasets' Arrow cache; other columns keep their types",
                  columns=True)
def load_parquet(path: PathArg, split: str | None = None, *, text_column: str = "text", label_column: str = "label",
                 label_map: Any = None, strict: bool = False, in_memory: bool | None = None,
                 cache_dir: str | Path | None = None) -> Result:
    """Parquet file(s) through ``datasets.Dataset.from_parquet``; errors name the file and row index."""
    from datasets import Dataset

    def read(files: list[Path]) -> "datasets.Dataset":
        where = str(files[0]) if len(files) == 1 else f"{len(files)} files: {', '.join(map(str, files))}"
        for f in files:  # the reader every path uses: the same errors (file, row) for a bad file or text
            for _ in iter_tables(f, text_column):
                pass
        try:
            with quiet_progress():
                ds = Dataset.from_parquet([str(f) for f in files], keep_in_memory=bool(in_memory),
                                          **({"cache_dir": str(cache_dir)} if cache_dir else {}))
        except Exception as e:  # noqa: BLE001 - pyarrow raises many kinds for a bad file
            raise DataError(f"{where}: not a readable Parquet file ({type(e).__name__}: {e})") from None
        if len(ds) == 0:
            raise DataError(f"{where}: no rows (the file is empty)")
        return normalise(ds, where, text_column=text_column, label_column=label_column, label_map=label_map,
                         strict=strict, description=f"parquet: {', '.join(f.name for f in files)}")

    parts = generic_files(path, [".parquet"])
    return split_results({s: (lambda fs=fs: read(fs)) for s, fs in parts.items()}, split, str(path))


# -- the hub ---------------------------------------------------------------------------------------
@register_dataset("hub", files="a Hugging Face hub dataset name (any name not in this registry also goes here)",
                  labels="ClassLabel names or values via names/synonyms or label_map",
                  description="datasets.load_dataset(name, config, split=...), then text/label normalised",
                  needs_path=True, columns=True)
def load_hub(path: str, split: str | None = None, *, config: str | None = None, text_column: str = "text",
             label_column: str = "label", label_map: Any = None, strict: bool = False, **load_options: Any) -> Result:
    """``datasets.load_dataset(path, config, split=split, **load_options)`` with text/label normalised.

    ``path`` is the hub name (or a ``datasets`` builder such as ``"json"`` with ``data_files=``).
    """
    import datasets

    where = f"{path}" + (f" ({config})" if config else "") + (f"[{split}]" if split else "")
    try:
        with quiet_progress():
            obj = datasets.load_dataset(str(path), config, split=split, **load_options)
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - network, auth, missing config, ...
        raise DataError(f"{where}: could not load through datasets.load_dataset ({type(e).__name__}: {e}); "
                        "offline? give a local path with its loader, or set HF_HUB_OFFLINE=1 to fail fast") from e
    if isinstance(obj, datasets.DatasetDict):
        return datasets.DatasetDict({
            s: normalise(d, f"{where}[{s}]", text_column=text_column, label_column=label_column,
                         label_map=label_map, strict=strict, description=f"hub: {path}")
            for s, d in obj.items()})
    if not isinstance(obj, datasets.Dataset):
        raise DataError(f"{where}: got {type(obj).__name__}; streaming datasets are not supported here")
    return normalise(obj, where, text_column=text_column, label_column=label_column, label_map=label_map,
                     strict=strict, description=f"hub: {path}")


