"""Loaders for sentiment corpora in their original distribution formats, and for any CSV/TSV/JSONL/Parquet.

Each returns an Arrow-backed ``datasets.Dataset`` (a ``DatasetDict`` when the input has several
splits and none was chosen) with ``text``, ``label`` (ClassLabel, names in LABELS order) and the
corpus' id/source columns.  Bad input raises :class:`DataError` naming the file and line.
"""

from __future__ import annotations

import csv
import json
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from ..labels import LABEL_SYNONYMS, LABELS
from .arrow import DataWarning, TableBuilder, input_key, normalise, quiet_progress
from .formats import DataError, format_of
from .readers import iter_delimited, iter_lines, iter_records, iter_tables, no_column, text_value
from .labelmap import LabelMap
from .registry import register_dataset

if TYPE_CHECKING:  # pragma: no cover
    import datasets

__all__ = [
    "SST5_NAMES", "load_semeval2017", "load_tweet_eval", "load_sst", "load_airline", "load_financial_phrasebank",
    "load_csv", "load_tsv", "load_jsonl", "load_parquet", "load_hub", "parse_ptb_tree",
]

PathArg = Union[str, Path, Sequence[Union[str, Path]]]
Result = Union["datasets.Dataset", "datasets.DatasetDict"]

#: Label names of SST's fine-grained (5-class) view.
SST5_NAMES = ("very negative", "negative", "neutral", "positive", "very positive")
_SPLIT_ALIASES = [{"validation", "val", "dev", "valid"}, {"test"}, {"train"}]


# -- helpers ---------------------------------------------------------------------------------------
def _paths(path: PathArg) -> list[Path]:
    if isinstance(path, (str, Path)):
        return [Path(path)]
    return [Path(p) for p in path]


def _one(path: PathArg, name: str) -> Path:
    ps = _paths(path)
    if len(ps) != 1:
        raise DataError(f"{name}: give one file or directory, got {len(ps)} paths")
    return _need(ps[0])


def _dir_files(d: Path, patterns: Iterable[str]) -> list[Path]:
    files = sorted({p for pat in patterns for p in d.glob(pat) if p.is_file()})
    return [p for p in files if not p.name.lower().startswith("readme")]


def _need(p: Path) -> Path:
    if not p.exists():
        raise DataError(f"{p}: no such file or directory")
    return p


def _size(paths: Sequence[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


def _pick_split(available: Sequence[str], split: str, where: str) -> str:
    if split in available:
        return split
    for group in _SPLIT_ALIASES:
        if split.lower() in group:
            for a in available:
                if a.lower() in group:
                    return a
    for a in available:
        if a.lower() == split.lower():
            return a
    raise DataError(f"{where}: no split {split!r}; available: {', '.join(available)}")


def _splits(parts: dict[str, Callable[[], "datasets.Dataset"]], split: str | None, where: str) -> Result:
    """One split's Dataset if ``split`` (or only one exists), else a DatasetDict of all."""
    from datasets import DatasetDict

    if not parts:
        raise DataError(f"{where}: no data files found")
    if split is not None:
        return parts[_pick_split(list(parts), split, where)]()
    if len(parts) == 1:
        return next(iter(parts.values()))()
    return DatasetDict({name: make() for name, make in parts.items()})


def _builder(where: str, name: str, paths: Sequence[Path], options: dict[str, Any], to_id: Any,
             extra: Sequence[str] = (), **kw: Any) -> TableBuilder:
    return TableBuilder(where, to_id, extra, strict=options.get("strict", False),
                        in_memory=options.get("in_memory"), size_hint=_size(paths),
                        cache_dir=options.get("cache_dir"), key=f"{name}-{input_key(name, paths, options)}", **kw)


_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def unescape_u(text: str) -> str:
    r"""Decode ``\uXXXX`` escapes (surrogate pairs joined into one character)."""
    if "\\u" not in text:
        return text
    s = _U_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    try:
        return s.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:  # a lone surrogate: leave it as the escape it was
        return _U_ESCAPE.sub(lambda m: m.group(0) if 0xD800 <= int(m.group(1), 16) <= 0xDFFF
                             else chr(int(m.group(1), 16)), text)


def unquote(text: str) -> str:
    r"""Undo the CSV-style wrapping of some SemEval texts: ``"a ""b"" \""c\"""`` -> ``a "b" "c"``."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    inner = text[1:-1]
    while '""' in inner:
        inner = inner.replace('""', '"')
    return inner.replace('\\"', '"')


# -- SemEval ---------------------------------------------------------------------------------------
_NUMERIC = re.compile(r"^\d+$")
NOT_AVAILABLE = "Not Available"


def _semeval_files(path: PathArg) -> list[Path]:
    files: list[Path] = []
    for p in _paths(path):
        _need(p)
        if p.is_dir():
            found = _dir_files(p, ("*.txt", "*.tsv"))
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

    with _builder(where, "semeval2017", files, options, lmap.lookup, ("id", "source")) as b:
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


def _read_text_labels(text_file: Path, labels_file: Path, lmap: LabelMap, options: dict[str, Any],
                      encoding: str) -> "datasets.Dataset":
    texts = iter_lines(text_file, encoding)
    labels = iter_lines(_need(labels_file), encoding)
    with _builder(str(labels_file), "tweet_eval", [text_file, labels_file], options, lmap.lookup,
                  label_help=f"expected {lmap.describe()}") as b:
        b.source = str(text_file)
        b.start_file(labels_file)  # positions (unknown labels) are lines of the labels file
        n_text = n_lab = 0
        for t, lab in zip_longest(texts, labels):
            if t is None or lab is None:
                matched = min(n_text, n_lab)
                n_text = sum(1 for _ in texts) + (t[0] if t else n_text)
                n_lab = sum(1 for _ in labels) + (lab[0] if lab else n_lab)
                raise DataError(f"{text_file} has {n_text} line(s) but {labels_file} has {n_lab}; the files "
                                f"must be aligned line by line (first unmatched line: {matched + 1})")
            (n_text, text), (n_lab, label) = t, lab
            b.add(text.strip(), label.strip(), n_lab)
        b.end_file()
        return b.finish(f"tweet_eval: texts {text_file.name}, labels {labels_file.name}")


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
        hub_split = None if split is None else _pick_split(["train", "validation", "test"], split, "tweet_eval")
        return load_hub(TWEET_EVAL_HUB[0], hub_split, config=TWEET_EVAL_HUB[1], label_map=label_map, strict=strict,
                        **({"cache_dir": str(cache_dir)} if cache_dir else {}), **hub_options)
    if hub_options:
        raise TypeError(f"tweet_eval: unexpected options for a local directory: {', '.join(hub_options)}")
    p = _one(path, "tweet_eval")
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
    parts = {s: (lambda f=f, s=s: _read_text_labels(f, d / f"{s}_labels.txt", lmap, options, encoding))
             for s, f in pairs.items()}
    return _splits(parts, split, str(p))


# -- SST -------------------------------------------------------------------------------------------
_PTB_TOKEN = re.compile(r"\(|\)|[^\s()]+")
_PTB_ESCAPES = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}


def parse_ptb_tree(line: str) -> tuple[int, list[str]]:
    """The root label and the leaves of one SST tree ``(3 (2 It) (4 (4 works) (2 .)))``.

    Raises ValueError naming the column for unbalanced brackets, a missing/invalid node label
    (0-4), or text outside the tree.
    """
    depth, root, expect_label, closed = 0, None, False, False
    leaves: list[str] = []
    for m in _PTB_TOKEN.finditer(line):
        tok, col = m.group(), m.start() + 1
        if closed and tok == ")":
            raise ValueError(f"column {col}: unbalanced brackets: ')' with no open '('")
        if closed:
            raise ValueError(f"column {col}: text after the end of the tree: {line[m.start():m.start() + 20]!r}")
        if tok == "(":
            if expect_label:
                raise ValueError(f"column {col}: '(' where a node label (0-4) was expected")
            depth += 1
            expect_label = True
        elif tok == ")":
            if depth == 0:
                raise ValueError(f"column {col}: unbalanced brackets: ')' with no open '('")
            if expect_label:
                raise ValueError(f"column {col}: empty node '()'")
            depth -= 1
            closed = depth == 0
        elif depth == 0:
            raise ValueError(f"column {col}: text outside the brackets: {tok!r}")
        elif expect_label:
            if tok not in ("0", "1", "2", "3", "4"):
                raise ValueError(f"column {col}: node label must be 0-4, got {tok!r}")
            if root is None:
                root = int(tok)
            expect_label = False
        else:
            leaves.append(_PTB_ESCAPES.get(tok, tok))
    if depth:
        raise ValueError(f"unbalanced brackets: {depth} '(' not closed at the end of the line")
    if root is None:
        raise ValueError("no tree on this line")
    return root, leaves


def _sst_to_id(classes: int) -> Callable[[Any], int | str | None]:
    if classes == 5:
        return lambda r: r
    if classes == 3:
        return lambda r: (0, 0, 1, 2, 2)[r]
    if classes == 2:
        return lambda r: "neutral root label (binary view, classes=2)" if r == 2 else (0, 0, 1, 2, 2)[r]
    raise ValueError(f"sst: classes must be 2, 3 or 5, got {classes!r}")


def _read_sst(f: Path, classes: int, options: dict[str, Any], encoding: str) -> "datasets.Dataset":
    names = SST5_NAMES if classes == 5 else LABELS
    with _builder(str(f), "sst", [f], options, _sst_to_id(classes), label_names=names) as b:
        b.start_file(f)
        for n, line in iter_lines(f, encoding):
            if not line.strip():
                continue
            try:
                root, leaves = parse_ptb_tree(line)
            except ValueError as e:
                raise DataError(f"{f}: line {n}, {e}") from None
            b.add(" ".join(leaves), root, n)
        b.end_file()
        view = {2: "binary (neutral dropped)", 3: "3 classes (0-1 negative, 2 neutral, 3-4 positive)",
                5: "5 classes"}[classes]
        return b.finish(f"sst: {f.name}, {view}")


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
    _sst_to_id(classes)
    p = _one(path, "sst")
    options = dict(classes=classes, encoding=encoding, strict=strict, in_memory=in_memory, cache_dir=cache_dir)
    if p.is_file():
        files = {p.stem: p}
    else:
        order = {"train": 0, "dev": 1, "test": 2}
        found = [f for f in _dir_files(p, ("*.txt",)) if f.stem in order] or _dir_files(p, ("*.txt",))
        files = {f.stem: f for f in sorted(found, key=lambda f: (order.get(f.stem, 9), f.name))}
    return _splits({s: (lambda f=f: _read_sst(f, classes, options, encoding)) for s, f in files.items()},
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
    p = _one(path, "financial_phrasebank")
    files = [p] if p.is_file() else _dir_files(p, ("Sentences*.txt",)) or _dir_files(p, ("*.txt",))
    lmap = LabelMap.parse(None)
    options = dict(encoding=encoding, strict=strict, in_memory=in_memory, cache_dir=cache_dir)

    def read(f: Path) -> "datasets.Dataset":
        with _builder(str(f), "financial_phrasebank", [f], options, lmap.lookup) as b:
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

    return _splits({f.stem.replace("Sentences_", "").replace("Sentences", "") or f.stem: (lambda f=f: read(f))
                    for f in files}, split, str(p))


# -- generic CSV / TSV / JSONL ---------------------------------------------------------------------
def _generic_files(path: PathArg, exts: Sequence[str]) -> dict[str, list[Path]]:
    """split name -> files: a file is one split, a directory one split per file, a list one split."""
    ps = _paths(path)
    for p in ps:
        _need(p)
    if len(ps) == 1 and ps[0].is_dir():
        found = _dir_files(ps[0], [f"*{e}" for e in exts])
        if not found:
            raise DataError(f"{ps[0]}: no {'/'.join(exts)} files in this directory")
        return {f.stem: [f] for f in found}
    if any(p.is_dir() for p in ps):
        raise DataError(f"{path}: give one directory, or files")
    return {ps[0].stem: ps}


def _read_delimited(files: list[Path], name: str, delimiter: str, text_column: str, label_column: str,
                    lmap: LabelMap, options: dict[str, Any], encoding: str,
                    rename: dict[str, str] | None = None) -> "datasets.Dataset":
    rename = rename or {}
    where = str(files[0]) if len(files) == 1 else f"{len(files)} files: {', '.join(map(str, files))}"
    header: list[str] | None = None
    b: TableBuilder | None = None
    try:
        for f in files:
            rows = iter_delimited(f, delimiter, encoding)
            first = next(rows, None)
            if first is None:
                raise DataError(f"{f}: no rows (the file is empty)")
            this = [h.strip() for h in first[2]]
            for c in (text_column, label_column):
                if c not in this:
                    raise no_column(str(f), c, this, first[0])
            if header is None:
                header = this
                ti, li = header.index(text_column), header.index(label_column)
                keep = [i for i, h in enumerate(header) if i not in (ti, li)]
                extra = [rename.get(header[i], header[i]) for i in keep]
                extra = [f"original_{c}" if c in ("text", "label") else c for c in extra]
                b = _builder(where, name, files, options, lmap.lookup, extra).__enter__()
            elif this != header:
                raise DataError(f"{f}: line {first[0]}: header differs from {files[0].name}'s "
                                f"({', '.join(this)} vs {', '.join(header)})")
            assert b is not None
            b.start_file(f)
            for start, _, row in rows:  # blank lines skipped, field counts checked by the reader
                b.add(row[ti], row[li], start, [row[i] for i in keep])
            b.end_file("only a header")
        assert b is not None
        return b.finish(f"{name}: {', '.join(f.name for f in files)}")
    except BaseException as e:
        if b is not None:
            b.__exit__(type(e), e, None)
        raise


def _delimited_loader(name: str, delimiter: str, exts: Sequence[str]) -> Callable[..., Result]:
    def load(path: PathArg, split: str | None = None, *, text_column: str = "text", label_column: str = "label",
             label_map: Any = None, delimiter: str = delimiter, encoding: str = "utf-8", strict: bool = False,
             in_memory: bool | None = None, cache_dir: str | Path | None = None) -> Result:
        lmap = LabelMap.parse(label_map)
        options = dict(text_column=text_column, label_column=label_column, label_map=lmap.describe(),
                       delimiter=delimiter, encoding=encoding, strict=strict, in_memory=in_memory, cache_dir=cache_dir)
        parts = _generic_files(path, exts)
        return _splits({s: (lambda fs=fs: _read_delimited(fs, name, delimiter, text_column, label_column, lmap,
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
    p = _one(path, "airline")
    f = p / "Tweets.csv" if p.is_dir() else p
    if split is not None:
        raise DataError(f"{p}: the airline corpus has no splits")
    lmap = LabelMap.parse(label_map)
    options = dict(text_column=text_column, label_column=label_column, label_map=lmap.describe(),
                   encoding=encoding, strict=strict, in_memory=in_memory, cache_dir=cache_dir)
    return _read_delimited([_need(f)], "airline", ",", text_column, label_column, lmap, options, encoding,
                           rename={"tweet_id": "id"})


def _json_value(v: Any) -> str | None:
    return v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False)


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
                        b = _builder(where, "jsonl", files, options, lmap.lookup, cols).__enter__()
                    if rows_in_file == 0:
                        b.start_file(f)
                    rows_in_file += 1
                    for k in rec:
                        if k not in extra and k not in (text_column, label_column) and k not in late:
                            late[k] = (f, n)
                    b.add(text, rec[label_column], n, [_json_value(rec.get(k)) for k in extra])
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

    parts = _generic_files(path, [".jsonl", ".ndjson", ".json"])
    return _splits({s: (lambda fs=fs: read(fs)) for s, fs in parts.items()}, split, str(path))


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

    parts = _generic_files(path, [".parquet"])
    return _splits({s: (lambda fs=fs: read(fs)) for s, fs in parts.items()}, split, str(path))


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


# -- format detection ------------------------------------------------------------------------------
_SEMEVAL_LINE = re.compile(r"^[^\t]+\t(\d+\t)?(" + "|".join(map(re.escape, LABEL_SYNONYMS)) + r")\t", re.I)


def _first_line(f: Path, encoding: str = "utf-8") -> str:
    try:
        for _, line in iter_lines(f, encoding):
            if line.strip():
                return line
    except DataError:
        for _, line in iter_lines(f, "latin-1"):
            if line.strip():
                return line
    return ""


def detect_format(path: PathArg) -> str:
    """The loader for ``path``, from its extension, name, or first line; DataError if unclear."""
    p = _paths(path)[0]
    _need(p)
    if p.is_dir():
        names = {f.name for f in p.iterdir() if f.is_file()}
        if any(n.endswith("_text.txt") for n in names):
            return "tweet_eval"
        if "Tweets.csv" in names:
            return "airline"
        if any(n.startswith("Sentences") and n.endswith(".txt") for n in names):
            return "financial_phrasebank"
        if {"train.txt", "dev.txt", "test.txt"} & names and _first_line(p / sorted(
                {"train.txt", "dev.txt", "test.txt"} & names)[0]).lstrip().startswith("("):
            return "sst"
        for ext, fmt in ((".jsonl", "jsonl"), (".parquet", "parquet"), (".csv", "csv")):
            if any(n.endswith(ext) for n in names):
                return fmt
        txt = sorted(f for f in p.iterdir() if f.suffix in (".txt", ".tsv") and not f.name.lower().startswith("readme"))
        if txt and _SEMEVAL_LINE.match(_first_line(txt[0])):
            return "semeval2017"
        if any(n.endswith(".tsv") for n in names):
            return "tsv"
        raise DataError(f"{p}: cannot tell which corpus this directory holds; pass the loader name")
    suffix = p.suffix.lower()
    if format_of(p) in ("jsonl", "json"):
        return "jsonl"
    if format_of(p) == "parquet":
        return "parquet"
    first = _first_line(p)
    if suffix == ".csv":
        return "airline" if "airline_sentiment" in first.split(",") else "csv"
    if p.name.endswith("_text.txt"):
        return "tweet_eval"
    if _SEMEVAL_LINE.match(first):
        return "semeval2017"
    if suffix == ".tsv":
        return "tsv"
    if first.lstrip().startswith("(") and re.match(r"^\s*\(\s*[0-4]\s", first):
        return "sst"
    if re.search(r"@\s*(negative|neutral|positive)\s*$", first):
        return "financial_phrasebank"
    raise DataError(f"{p}: cannot tell the format from the name or the first line; pass the loader name")
