"""Parsers of the corpora's own formats: SemEval's escapes, PTB trees (SST), delimited tables."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentilstm.data.arrow import TableBuilder
from sentilstm.data.formats import DataError
from sentilstm.data.labelmap import LabelMap
from sentilstm.data.readers import iter_delimited, iter_lines, no_column
from sentilstm.labels import LABELS

if TYPE_CHECKING:  # pragma: no cover
    import datasets
from sentilstm.data.sources import PathArg
from sentilstm.data.sources import table_builder
from sentilstm.data.sources import dir_files
from sentilstm.data.sources import need_path
from sentilstm.data.sources import as_paths

__all__ = ["SST5_NAMES", "parse_ptb_tree"]


#: Label names of SST's fine-grained (5-class) view.
SST5_NAMES = ("very negative", "negative", "neutral", "positive", "very positive")


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


def read_text_labels(text_file: Path, labels_file: Path, lmap: LabelMap, options: dict[str, Any],
                      encoding: str) -> "datasets.Dataset":
    texts = iter_lines(text_file, encoding)
    labels = iter_lines(need_path(labels_file), encoding)
    with table_builder(str(labels_file), "tweet_eval", [text_file, labels_file], options, lmap.lookup,
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


def sst_to_id(classes: int) -> Callable[[Any], int | str | None]:
    if classes == 5:
        return lambda r: r
    if classes == 3:
        return lambda r: (0, 0, 1, 2, 2)[r]
    if classes == 2:
        return lambda r: "neutral root label (binary view, classes=2)" if r == 2 else (0, 0, 1, 2, 2)[r]
    raise ValueError(f"sst: classes must be 2, 3 or 5, got {classes!r}")


def read_sst(f: Path, classes: int, options: dict[str, Any], encoding: str) -> "datasets.Dataset":
    names = SST5_NAMES if classes == 5 else LABELS
    with table_builder(str(f), "sst", [f], options, sst_to_id(classes), label_names=names) as b:
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


# -- generic CSV / TSV / JSONL ---------------------------------------------------------------------
def generic_files(path: PathArg, exts: Sequence[str]) -> dict[str, list[Path]]:
    """split name -> files: a file is one split, a directory one split per file, a list one split."""
    ps = as_paths(path)
    for p in ps:
        need_path(p)
    if len(ps) == 1 and ps[0].is_dir():
        found = dir_files(ps[0], [f"*{e}" for e in exts])
        if not found:
            raise DataError(f"{ps[0]}: no {'/'.join(exts)} files in this directory")
        return {f.stem: [f] for f in found}
    if any(p.is_dir() for p in ps):
        raise DataError(f"{path}: give one directory, or files")
    return {ps[0].stem: ps}


def read_delimited(files: list[Path], name: str, delimiter: str, text_column: str, label_column: str,
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
                b = table_builder(where, name, files, options, lmap.lookup, extra).__enter__()
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


def json_value(v: Any) -> str | None:
    return v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False)
