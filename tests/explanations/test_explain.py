"""Explanations: attributions tested by behaviour on the shipped model, completeness, running
sentiment against predict_proba, NumPy gradients against tf.GradientTape, outputs, CLI, display."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from click.testing import CliRunner

import sentilstm
from sentilstm.bundle import Bundle, load_bundle, save_bundle
from sentilstm.cli import main
from sentilstm.config import ClassifierConfig
from sentilstm.explanations.render import Explanation, html_page
from sentilstm.classifier import explain

POS = sentilstm.LABELS.index("positive")


@pytest.fixture(scope="module")
def clf():
    return sentilstm.load()


@pytest.fixture(scope="module")
def confident_positives(clf, dev_data):
    """The first 40 dev tweets (3+ tokens) the shipped model calls positive with P > 0.6."""
    probs = clf.predict_proba(dev_data.texts)
    picked = [t for t, p in zip(dev_data.texts, probs)
              if p.argmax() == POS and p[POS] > 0.6 and len(clf.encode(t)[0]) >= 3][:40]
    assert len(picked) == 40
    return picked, explain(picked, clf)


def _p_pos(clf, rows):
    """P(positive) of token-id sequences, straight from the NumPy runtime (the predict engine)."""
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int32)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
    return clf.runtime_(ids)[:, POS]


def test_removing_the_top_attributed_token_hurts_more_than_the_lowest(clf, confident_positives):
    _, exs = confident_positives
    d_top, d_low = [], []
    for ex in exs:
        a, ids = ex.attribution("positive"), ex.token_ids
        top, low = int(np.argmax(a)), int(np.argmin(a))
        assert top != low
        q = _p_pos(clf, [ids[:top] + ids[top + 1:], ids[:low] + ids[low + 1:]])
        d_top.append(ex.probabilities[POS] - q[0])
        d_low.append(ex.probabilities[POS] - q[1])
    d_top, d_low = np.array(d_top), np.array(d_low)
    wins = float(np.mean(d_top > d_low))
    print(f"\n{len(exs)} confident positives: top-token removal lowers P(pos) more in {wins:.0%}; "
          f"mean drop top {d_top.mean():.3f}, lowest {d_low.mean():.3f}, margin {np.mean(d_top - d_low):.3f}")
    assert wins >= 0.8
    assert np.mean(d_top - d_low) >= 0.1
    assert d_top.mean() > 0.1  # the top token matters in absolute terms too


def test_integrated_gradients_are_complete(confident_positives):
    _, exs = confident_positives
    gaps = np.array([ex.completeness_gap for ex in exs])
    assert gaps.max() < 0.02 and np.median(gaps) < 0.005
    for ex in exs[:5]:
        delta = ex.probabilities - ex.baseline_probabilities
        np.testing.assert_allclose(ex.attributions.sum(axis=0), delta, atol=0.02)
        assert ex.completeness["positive"]["delta"] == pytest.approx(float(delta[POS]), abs=1e-6)
    # more steps, smaller Riemann error (on the text with the largest gap: on the others it is at float32 noise)
    worst = max(exs, key=lambda ex: ex.completeness_gap)
    fine = explain(worst.text, worst.model, steps=256)
    assert fine.completeness_gap <= worst.completeness_gap + 1e-6


def test_running_sentiment_is_the_prediction_of_each_prefix(clf):
    texts = ["not bad at all, actually quite good", "", "I hate mondays", "so " * 300 + "happy"]
    exs = explain(texts, clf, method="occlusion")
    np.testing.assert_allclose(np.stack([ex.trajectory[-1] for ex in exs]), clf.predict_proba(texts), atol=1e-5)
    np.testing.assert_allclose(np.stack([ex.probabilities for ex in exs]), clf.predict_proba(texts), atol=1e-5)
    ex = exs[0]
    assert ex.trajectory.shape == (len(ex.tokens), 3) and ex.tokens[0] == "not"
    for t in (0, 3):
        full = clf.runtime_(np.array([ex.token_ids[: t + 1]], dtype=np.int32))[0]
        np.testing.assert_allclose(ex.trajectory[t], full, atol=1e-6)
    np.testing.assert_allclose(ex.trajectory.sum(axis=1), 1.0, atol=1e-5)
    assert exs[1].tokens == ["[UNK]"] and not exs[1].truncated
    assert exs[3].truncated and len(exs[3].tokens) == clf.config.tokenizer.max_length


def test_occlusion_is_the_effect_of_deleting_each_token(clf):
    ex = clf.explain("the food was great but the service was awful", method="occlusion")
    ids = ex.token_ids
    for t in (0, 3, len(ids) - 1):
        p = clf.runtime_(np.array([ids[:t] + ids[t + 1:]], dtype=np.int32))[0]
        np.testing.assert_allclose(ex.attributions[t], ex.probabilities - p, atol=1e-6)
    assert ex.completeness_gap is None and ex.steps is None


@pytest.fixture(scope="module")
def ensemble_bundle(tmp_path_factory):
    """A random-weight ensemble (2 members, 2 layers, attention + max pooling) on the shipped tokenizer."""
    from sentilstm.nn.model import build_model, weight_dict

    default = load_bundle(None)
    cfg = ClassifierConfig.from_dict({
        "tokenizer": default.config.to_dict()["tokenizer"],
        "model": {"vocab_size": default.config.model.vocab_size, "embedding_dim": 8, "units": 6, "layers": 2,
                  "pooling": ["attention", "max"], "ensemble": 2},
    })
    rng = np.random.default_rng(3)
    weights = {k: rng.normal(0, 0.5, v.shape).astype(np.float32)
               for k, v in weight_dict(build_model(cfg.model, seed=1)).items()}
    path = tmp_path_factory.mktemp("bundles") / "ensemble"
    save_bundle(path, Bundle(cfg, default.tokenizer_json, weights))
    return path


@pytest.mark.parametrize("which", ["default", "ensemble"])
def test_numpy_gradients_match_tf_gradienttape(which, clf, ensemble_bundle):
    model = clf if which == "default" else sentilstm.load(ensemble_bundle)
    texts = ["not bad at all, actually quite good", "worst. day. ever. @united", "ok"]
    fast = explain(texts, model, steps=16)
    ref = explain(texts, model, steps=16, engine="keras")
    for a, b in zip(fast, ref):
        assert a.tokens == b.tokens
        np.testing.assert_allclose(a.attributions, b.attributions, atol=1e-5)
        np.testing.assert_allclose(a.baseline_probabilities, b.baseline_probabilities, atol=1e-5)
        assert a.completeness_gap < 0.05


class _TagChecker(HTMLParser):
    VOID = frozenset({"br", "img", "meta", "hr", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.seen.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def test_json_html_and_terminal_outputs(clf):
    ex = clf.explain('<script>"nice" & good</script> day')
    d = json.loads(ex.to_json())
    assert d["label"] == ex.label and len(d["tokens"]) == len(ex.tokens)
    assert set(d["tokens"][0]) == {"token", "id", "attribution", "running"}
    back = Explanation.from_dict(d)
    np.testing.assert_allclose(back.attributions, ex.attributions, atol=1e-6)
    np.testing.assert_allclose(back.trajectory, ex.trajectory, atol=1e-6)
    assert back.label == ex.label and back.tokens == ex.tokens and back.method == "ig"

    for doc in (ex._repr_html_(), html_page([ex, ex])):
        checker = _TagChecker()
        checker.feed(doc)
        checker.close()
        assert checker.stack == []
        assert "<script>" not in doc  # the text is escaped
        assert checker.seen.count("polyline") == 3 * doc.count("<svg")
    frag = ex._repr_html_()
    assert frag.count("<span title=") == len(ex.tokens) and "rgba(" in frag

    coloured, plain = ex.render(color=True), ex.render(color=False)
    assert "\x1b[" in coloured and "\x1b[" not in plain and str(ex) == plain
    assert ex.label in plain and "completeness gap" in plain
    for tok in ex.tokens:
        assert tok in plain


def test_cli_explain(tmp_path):
    run = CliRunner().invoke
    r = run(main, ["explain", "not bad at all, actually quite good"])
    assert r.exit_code == 0, r.output
    assert "running sentiment" in r.output and "good" in r.output and "\x1b[" not in r.output
    r = run(main, ["explain", "--format", "json", "--method", "occlusion", "meh", "love it"])
    assert r.exit_code == 0, r.output
    docs = json.loads(r.output)
    assert [d["text"] for d in docs] == ["meh", "love it"] and docs[0]["method"] == "occlusion"
    out = tmp_path / "why.html"
    r = run(main, ["explain", "--format", "html", "--out", str(out), "--steps", "8", "good"])
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("<!DOCTYPE html>") and "<svg" in out.read_text()
    r = run(main, ["explain", "-", "--format", "json"], input="first line\nsecond line\n")
    assert r.exit_code == 0 and len(json.loads(r.stdout)) == 2


@pytest.mark.parametrize("args, code, message", [
    (["--method", "occlusion", "--steps", "8", "x"], 2, "--steps applies to --method ig only"),
    (["--method", "lime", "x"], 2, "Invalid value for '--method'"),
    (["--model", "no/such/bundle", "x"], 1, "no/such/bundle"),
    ([], 1, "empty input"),  # CliRunner's stdin is empty and not a terminal
])
def test_cli_explain_errors(args, code, message):
    r = CliRunner().invoke(main, ["explain", *args])
    assert r.exit_code == code
    assert message in r.output and "Traceback" not in r.output


def test_explain_does_not_import_tensorflow():
    code = ("import sys, sentilstm; ex = sentilstm.explain('not bad'); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'; print(ex.label)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr


def test_rich_display_of_classifier_and_predictions(clf):
    html = clf._repr_html_()
    assert "SentimentClassifier" in html and f"{clf.n_parameters:,}" in html and "AvgRec" in html
    texts = ["I love it", "meh", "the worst service ever"]
    preds = clf.classify(texts)
    assert preds.labels == clf.predict(texts)  # predict keeps returning a list of labels
    assert isinstance(clf.predict_proba(texts), np.ndarray)
    np.testing.assert_allclose(preds.probabilities, clf.predict_proba(texts), atol=1e-6)
    assert preds[0]["label"] == preds.labels[0] and len(preds[1:]) == 2
    assert preds._repr_html_().count("<tr>") == len(texts) + 1 and "meh" in repr(preds)
    df = preds.to_dataframe()
    assert list(df.columns) == ["text", "label", "confidence", "p_negative", "p_neutral", "p_positive"]
    assert not sentilstm.SentimentClassifier()._repr_html_().count("<table")
