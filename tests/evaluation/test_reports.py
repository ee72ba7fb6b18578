"""Evaluation reports: metrics vs scikit-learn, bootstrap, calibration, plots, HTML, atomic save, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm

from sentilstm import metrics as M
from sentilstm import evaluation as R
from sentilstm.labels import LABELS
import sentilstm.evaluation.plots  # noqa: F401
import sentilstm.evaluation.render  # noqa: F401

K = [0, 1, 2]


def _sk_reference(t, p):
    prec, rec, f1, _ = skm.precision_recall_fscore_support(t, p, labels=K, average=None, zero_division=0)
    return {
        "avg_recall": skm.recall_score(t, p, labels=K, average="macro", zero_division=0),
        "macro_f1": skm.f1_score(t, p, labels=K, average="macro", zero_division=0),
        "f1_pn": (f1[0] + f1[2]) / 2,
        "accuracy": skm.accuracy_score(t, p),
        "precision": prec, "recall": rec, "f1": f1,
    }


def _probs(y, seed=0, skill=1.5):
    """Softmax probabilities from noisy logits that favour the gold class ``y``."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(y), 3))
    logits[np.arange(len(y)), y] += skill
    pr = np.exp(logits)
    return pr / pr.sum(axis=1, keepdims=True)


def _synthetic(n, seed=0, skill=1.5):
    """Texts, gold ids and probabilities of a classifier of some skill."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    texts = [" ".join(f"w{j}" for j in range(int(k))) + f" #{i}" for i, k in enumerate(rng.integers(1, 30, n))]
    return texts, y, _probs(y, seed + 1000, skill)


DEGENERATE = [
    ([0, 0, 1, 1], [0, 0, 0, 0]),  # classes never predicted
    ([0, 0, 0], [0, 1, 2]),  # classes absent from gold
    ([2, 2], [2, 2]),  # one class only
    ([1], [0]),  # all wrong
]


# -- metrics ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(10))
def test_vectorised_scores_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(8):
        n = int(rng.integers(1, 200))
        t = rng.integers(0, 3, n)
        p = np.where(rng.random(n) < rng.random(), t, rng.integers(0, 3, n))
        if rng.random() < 0.3:  # knock a class out of the predictions or the gold labels
            c = rng.integers(0, 3)
            arr = p if rng.random() < 0.5 else t
            arr[arr == c] = (c + 1) % 3
        pairs.append((t, p))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = M.scores_from_confusions(np.stack([M.confusion_matrix(t, p) for t, p in pairs]))
    for i, (t, p) in enumerate(pairs):
        ref = _sk_reference(t, p)
        single = M.classification_scores(t, p)
        for k in M.HEADLINE:
            assert batch[k][i] == pytest.approx(ref[k], abs=1e-12), k
            assert single[k] == pytest.approx(batch[k][i], abs=1e-12), k
        for k in ("precision", "recall", "f1"):
            np.testing.assert_allclose(batch[k][i], ref[k], atol=1e-12)


@pytest.mark.parametrize("t, p", DEGENERATE)
def test_degenerate_cases_defined_without_warnings(t, p):
    t, p = np.array(t), np.array(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        boot = M.bootstrap_scores(t, p, n_resamples=200, seed=1)
        cal = M.calibration(np.eye(3)[p] * 0.7 + 0.1, t)
        paired = M.paired_bootstrap(t, p, (p + 1) % 3, n_resamples=200)
    ref = _sk_reference(t, p)
    for k in M.HEADLINE:
        h = boot["headline"][k]
        assert h["value"] == pytest.approx(ref[k], abs=1e-12)
        assert np.isfinite([h["low"], h["high"], paired[k]["delta"], paired[k]["p_value"]]).all()
    assert np.isfinite(cal["ece"]) and np.isfinite(cal["log_loss"])


def test_existing_metric_keys_unchanged():
    s = M.classification_scores([0, 1, 2, 2], [0, 2, 2, 1])
    assert set(s) == {"avg_recall", "f1_pn", "macro_f1", "accuracy", "n", "per_class", "confusion"}
    assert set(s["per_class"]["neutral"]) == {"precision", "recall", "f1", "support", "predicted"}
    assert M.format_headline(s).startswith("avg_recall=")


# -- bootstrap -------------------------------------------------------------------------------------
def test_bootstrap_ci_contains_estimate_and_is_seeded():
    _, t, pr = _synthetic(800, seed=3, skill=1.0)
    p = pr.argmax(axis=1)
    a = M.bootstrap_scores(t, p, n_resamples=1000, seed=42)
    b = M.bootstrap_scores(t, p, n_resamples=1000, seed=42)
    c = M.bootstrap_scores(t, p, n_resamples=1000, seed=43)
    assert a == b
    assert a["headline"] != c["headline"]
    for k in M.HEADLINE:
        h = a["headline"][k]
        assert h["low"] < h["value"] < h["high"]
        assert 0.01 < h["high"] - h["low"] < 0.2
    for name in LABELS:
        for k in ("precision", "recall", "f1"):
            ci = a["per_class"][name][k]
            assert ci["low"] <= ci["value"] <= ci["high"]


def test_multinomial_bootstrap_matches_index_resampling():
    """Drawing confusion cells from a multinomial is the same distribution as resampling examples."""
    _, t, pr = _synthetic(500, seed=5, skill=1.0)
    p = pr.argmax(axis=1)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, t.size, (2000, t.size))
    ref = M.scores_from_confusions(np.stack([M.confusion_matrix(t[i], p[i]) for i in idx]))
    ours = M.scores_from_confusions(M._resample_cells(M.confusion_matrix(t, p), 2000, 1).reshape(-1, 3, 3))
    for k in M.HEADLINE:
        assert ours[k].std() == pytest.approx(ref[k].std(), rel=0.1), k
        assert ours[k].mean() == pytest.approx(ref[k].mean(), abs=0.005), k


def test_paired_bootstrap_detects_real_difference_only():
    rng = np.random.default_rng(7)
    n = 1000
    t = rng.integers(0, 3, n)

    def system(acc, r):
        return np.where(r.random(n) < acc, t, (t + r.integers(1, 3, n)) % 3)

    real = M.paired_bootstrap(t, system(0.60, rng), system(0.72, rng), n_resamples=5000, seed=0)
    for k in M.HEADLINE:
        assert real[k]["delta"] > 0.05 and real[k]["p_value"] < 0.01 and real[k]["low"] > 0, k
    rejections = 0
    for s in range(20):  # both systems equally good: p < 0.05 should be rare (about 5 %)
        r = np.random.default_rng(100 + s)
        res = M.paired_bootstrap(t, system(0.65, r), system(0.65, r), n_resamples=2000, seed=s)
        rejections += res["accuracy"]["p_value"] < 0.05
        assert res["accuracy"]["low"] <= res["accuracy"]["delta"] <= res["accuracy"]["high"]
    assert rejections <= 3
    same = M.paired_bootstrap(t, t, t, n_resamples=500)
    assert all(same[k]["delta"] == 0 and same[k]["p_value"] == 1 for k in M.HEADLINE)
    assert M.paired_bootstrap(t, t, t, n_resamples=500, seed=3) == M.paired_bootstrap(t, t, t, n_resamples=500, seed=3)


# -- calibration -----------------------------------------------------------------------------------
def test_ece_by_hand():
    # 15 bins of width 1/15: 0.35 -> (5/15, 6/15]; 0.5 -> (7/15, 8/15]; 0.9 -> (13/15, 14/15];
    # 0.95 and 0.999 -> (14/15, 1].  ECE = (|1-.35| + |0-.5| + |1-.9| + 2*|.5-.9745|) / 5 = 2.199 / 5
    conf = [0.35, 0.5, 0.9, 0.95, 0.999]
    correct = [1, 0, 1, 1, 0]
    assert M.expected_calibration_error(conf, correct, n_bins=15) == pytest.approx(2.199 / 5, abs=1e-12)
    probs = np.array([[0.35, 0.33, 0.32], [0.5, 0.3, 0.2], [0.05, 0.9, 0.05], [0.02, 0.03, 0.95], [0.999, 0, 0.001]])
    gold = [0, 1, 1, 2, 2]
    cal = M.calibration(probs, gold, n_bins=15)
    assert cal["ece"] == pytest.approx(2.199 / 5, abs=1e-12)
    assert cal["mce"] == pytest.approx(0.65, abs=1e-12)
    assert [b["count"] for b in cal["bins"]] == [0] * 5 + [1, 0, 1, 0, 0, 0, 0, 0, 1, 2]
    top = cal["bins"][14]
    assert (top["confidence"], top["accuracy"]) == (pytest.approx(0.9745), pytest.approx(0.5))
    assert cal["log_loss"] == pytest.approx(skm.log_loss(gold, probs, labels=K), abs=1e-9)
    onehot = np.eye(3)[gold]
    assert cal["brier"] == pytest.approx(((probs - onehot) ** 2).sum(axis=1).mean())


def test_ece_of_calibrated_predictions_is_small():
    rng = np.random.default_rng(0)
    _, _, pr = _synthetic(20000, seed=1)
    gold = np.array([rng.choice(3, p=row) for row in pr])  # labels drawn from the predicted probabilities
    assert M.calibration(pr, gold)["ece"] < 0.02


# -- report building -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_report():
    texts, y, pr = _synthetic(600, seed=11)
    extra = {"id": [f"id{i}" for i in range(600)], "source": [["s1", "s2", None][i % 3] for i in range(600)],
             "score": [float(i) for i in range(600)]}
    return R.build_report(texts, y, pr, extra=extra, n_resamples=1000, seed=0)


def test_report_contents(synth_report):
    d = synth_report.data
    assert d["schema"] == R.SCHEMA and d["schema_version"] == R.SCHEMA_VERSION and d["n"] == 600
    ex = d["examples"]
    ref = M.classification_scores(ex["gold"], ex["pred"])
    for k in M.HEADLINE:
        assert d["headline"][k]["value"] == pytest.approx(ref[k])
    assert d["confusion"]["counts"] == ref["confusion"]
    assert sum(d["distribution"]["gold"].values()) == sum(d["distribution"]["predicted"].values()) == 600
    assert sum(d["confidence_histogram"]["correct"]) + sum(d["confidence_histogram"]["incorrect"]) == 600
    slices = {s["name"]: s for s in d["slices"]}
    assert set(slices) == {"length", "source"}  # id and score are not categorical
    assert sum(g["n"] for g in slices["length"]["groups"]) == 600
    assert {g["value"] for g in slices["source"]["groups"]} == {"s1", "s2", "(missing)"}
    assert len(d["errors"]) == 6
    for e in d["errors"]:
        confs = [x["confidence"] for x in e["examples"]]
        assert confs == sorted(confs, reverse=True) and len(confs) == min(5, e["count"])
        for x in e["examples"]:
            i = x["index"]
            assert (LABELS[ex["gold"][i]], LABELS[ex["pred"][i]]) == (e["true"], e["predicted"])
            assert x["id"] == f"id{i}"
    again = R.Report.from_json(synth_report.to_json())
    assert again.data == json.loads(json.dumps(d))
    assert "examples" not in json.loads(synth_report.to_json(examples=False))
    with pytest.raises(ValueError, match="schema"):
        R.Report({**d, "schema_version": 99})


def test_report_degenerate_no_warnings():
    texts = ["a b", "c", "d e f", "g"]
    probs = np.array([[0.2, 0.7, 0.1]] * 4)  # always neutral; gold has no positive
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = R.build_report(texts, [0, 1, 1, 0], probs, n_resamples=200)
        json.loads(rep.to_json())  # allow_nan=False inside: no NaN anywhere
        rep.summary()
        rep.to_markdown()
    assert rep.headline["avg_recall"]["value"] == pytest.approx(1 / 3)


def test_pngs_are_valid_and_non_trivial(synth_report, tmp_path):
    import matplotlib.image as mpimg

    pngs = synth_report.plots()
    assert set(pngs) == set(R.PLOTS.values())
    for name, data in pngs.items():
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        (tmp_path / name).write_bytes(data)
        img = mpimg.imread(tmp_path / name)
        assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300, name
        assert img[..., :3].std() > 0.05, name  # not blank
        assert len(np.unique(img[..., :3].reshape(-1, 3), axis=0)) > 50, name


def test_html_is_self_contained_and_escaped():
    texts, y, pr = _synthetic(90, seed=2)
    texts[0] = '<script>alert(1)</script> see http://t.co/abc <img src="https://evil.example/x.png">'
    pr[0] = [0.01, 0.01, 0.98]
    y[0] = 0
    rep = R.build_report(texts, y, pr, n_resamples=200)
    page = rep.to_html()
    low = page.lower()
    assert page.startswith("<!DOCTYPE html>") and 'name="viewport"' in page
    assert low.count('src="data:image/png;base64,') == 3
    for bad in ('src="http', "src='http", 'href="http', "url(", "@import", "<link", "<script"):
        assert bad not in low, bad
    assert "&lt;script&gt;" in page and "http://t.co/abc" in page  # shown as text, not loaded
    assert rep._repr_html_() in page


def test_markdown_and_summary(synth_report):
    md = synth_report.to_markdown()
    for needle in ("## Headline", "AvgRec", "F1PN", "](confusion.png)", "](reliability.png)", "## Slices",
                   "## Most confident errors", "## Provenance"):
        assert needle in md, needle
    s = synth_report.summary()
    lines = s.splitlines()
    assert max(map(len, lines)) <= 110
    assert any(line.split()[:1] == ["AvgRec"] for line in lines)
    header = next(line for line in lines if line.strip().startswith("class"))
    row = next(line for line in lines if line.strip().startswith("negative "))
    assert len(header) == len(row)  # aligned columns


def test_atomic_save_keeps_old_report_on_crash(synth_report, tmp_path, monkeypatch):
    out = tmp_path / "rep"
    synth_report.save(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"report.json", "report.md", "report.html", *R.PLOTS.values()}

    texts, y, pr = _synthetic(50, seed=9)
    other = R.build_report(texts, y, pr, n_resamples=100)
    real = R.render.atomic_write_text

    def crash(path, text):
        if path.name == "report.json":
            raise OSError("disk full (simulated)")
        real(path, text)

    monkeypatch.setattr(R.render, "atomic_write_text", crash)
    with pytest.raises(OSError, match="simulated"):
        other.save(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no temp directory left behind
    monkeypatch.setattr(R.render, "atomic_write_text", real)
    other.save(out)
    assert R.Report.load(out).data["n"] == 50
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("x")
    with pytest.raises(FileExistsError):
        other.save(tmp_path / "precious")


def test_compare_pairs_by_position_and_by_text():
    texts, y, pr = _synthetic(400, seed=4)
    pr2 = _probs(y, seed=5, skill=2.5)
    a, b = R.build_report(texts, y, pr, n_resamples=100), R.build_report(texts, y, pr2, n_resamples=100)
    res = R.compare(a, b, n_resamples=2000)
    assert res["paired"] == 400 and res["pairing"].startswith("by position")
    pa, pb = np.array(a.data["examples"]["pred"]), np.array(b.data["examples"]["pred"])
    assert len(res["changed"]) == int((pa != pb).sum())
    assert res["counts"]["fixed"] > res["counts"]["broken"]
    assert res["metrics"]["accuracy"]["delta"] == pytest.approx(b.headline["accuracy"]["value"] -
                                                                a.headline["accuracy"]["value"])
    assert res["metrics"]["avg_recall"]["p_value"] < 0.01
    # B on shuffled, partly different data: pairs by text
    perm = np.random.default_rng(0).permutation(400)[:300]
    b2 = R.build_report([texts[i] for i in perm], y[perm], pr2[perm], n_resamples=100)
    res2 = R.compare(a, b2, n_resamples=500)
    assert res2["paired"] == 300 and res2["pairing"] == "by text and gold label"
    assert len(res2["changed"]) == int((pa[perm] != pb[perm]).sum())
    assert "changed labels" in R.format_comparison(res2)
    with pytest.raises(ValueError, match="per-example"):
        R.compare(a, R.build_report(texts, y, pr2, n_resamples=100, include_examples=False))


# -- with a real model -----------------------------------------------------------------------------
def test_evaluate_real_model(tiny_model, dev_data, tmp_path):
    import sentilstm

    data = dev_data.head(600)
    rep = sentilstm.evaluate(tiny_model, data)
    clf = sentilstm.load(tiny_model)
    ref = clf.scores(data.texts, data.labels)
    for k in M.HEADLINE:
        h = rep.headline[k]
        assert h["value"] == pytest.approx(ref[k]) and h["low"] <= h["value"] <= h["high"]
    m, ds, tm = rep["model"], rep["dataset"], rep["timing"]
    assert m["path"] == str(tiny_model) and len(m["config_sha256"]) == 64
    assert m["training"]["train"]["rows"] > 0 and "history" not in m["training"]
    assert ds["path"].endswith("dev.jsonl") and ds["split"] == "dev" and ds["rows"] == 600
    assert len(ds["file_sha256"]) == 64 and len(ds["content_sha256"]) == 64
    assert tm["predict_s"] > 0 and tm["texts_per_s"] > 0
    assert {"numpy", "python", "sentilstm"} <= set(rep["environment"])
    assert "source" in {s["name"] for s in rep["slices"]}
    assert rep["examples"]["id"][:3] == data.extra["id"][:3]
    # same model, same data, path given instead of objects -> identical metrics
    rep2 = sentilstm.evaluate(clf, data)
    assert rep2.headline == rep.headline


def test_cli_evaluate_report_show_compare(tiny_model, data_dir, tmp_path):
    from sentilstm.cli import main

    run = CliRunner().invoke
    out = tmp_path / "rep"
    r = run(main, ["evaluate", "--model", str(tiny_model), "--data", str(data_dir / "dev.jsonl"),
                   "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "AvgRec" in r.output and "95% CI" in r.output and "report written to" in r.output
    assert {p.name for p in out.iterdir()} == {"report.json", "report.md", "report.html", *R.PLOTS.values()}
    assert R.Report.load(out)["n"] == 2000

    r = run(main, ["report", "show", str(out)])
    assert r.exit_code == 0 and "AvgRec" in r.output

    texts, y, pr = _synthetic(300, seed=8)
    pr2 = _probs(y, seed=9)
    R.build_report(texts, y, pr, n_resamples=100).save(tmp_path / "a")
    R.build_report(texts, y, pr2, n_resamples=100).save(tmp_path / "b")
    r = run(main, ["report", "compare", str(tmp_path / "a" / "report.json"), str(tmp_path / "b"),
                   "--resamples", "1000", "--limit", "3"])
    assert r.exit_code == 0, r.output
    assert "B - A" in r.output and "changed labels" in r.output and "more" in r.output
    r = run(main, ["report", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "json"])
    doc = json.loads(r.output)
    assert set(doc["metrics"]) == set(M.HEADLINE) and doc["paired"] == 300
    r = run(main, ["report", "compare", str(tmp_path / "a"), str(tmp_path / "nonexistent")])
    assert r.exit_code != 0


def test_import_stays_light():
    code = ("import sys, sentilstm, sentilstm.cli, sentilstm.cli.report; "
            "assert callable(sentilstm.evaluate); "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'tensorflow', 'keras')]; "
            "assert not heavy, heavy; assert 'sentilstm.evaluation' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- plots drawn in a helper process (evaluate --report) -------------------------------------------
def test_plot_renderer_draws_the_same_bytes_as_this_process(synth_report, tmp_path, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    from sentilstm.evaluation.plot_worker import PlotRenderer

    want = {R.PLOTS[k]: fn(synth_report.data) for k, fn in R.plots.PLOTTERS.items()}
    with PlotRenderer() as renderer:
        assert renderer._pool is not None  # a helper process really ran
        assert renderer.render(synth_report.data) == want
    # a broken helper process is not a broken report: the plots are drawn here instead
    renderer = PlotRenderer()

    def broken(*args, **kwargs):
        raise BrokenProcessPool("worker died")

    monkeypatch.setattr(renderer._pool, "submit", broken)
    assert renderer.render(synth_report.data) == want
    renderer.close()
    rep = R.Report(synth_report.data)
    with PlotRenderer() as renderer:
        rep.save(tmp_path / "r", renderer)
    assert {p.name: p.read_bytes() for p in (tmp_path / "r").glob("*.png")} == want
