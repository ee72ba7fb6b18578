"""``sentilstm info``: Describe a model bundle: config, vocabulary, parameters, training data, dev metrics, calibration."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sentilstm.cli.options import Command


@click.command("info", cls=Command)
@click.option("-m", "--model", type=click.Path(), default=None, help="Model bundle [default: shipped model].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--card", is_flag=True, help="Print the bundle's model card (README.md) instead.")
def info(model: str | None, fmt: str, card: bool = False) -> None:
    """Describe a model bundle: config, vocabulary, parameters, training data, dev metrics, calibration."""
    from sentilstm.classifier import load
    from sentilstm.bundle import DEFAULT_BUNDLE

    clf = load(model)
    if card:
        from sentilstm.bundle import read_bundle_config
        from sentilstm.model_card import CARD, render_card

        where = Path(model) if model else DEFAULT_BUNDLE
        text = (where / CARD).read_text(encoding="utf-8") if (where / CARD).exists() else \
            render_card(read_bundle_config(where))  # a bundle saved before cards existed
        click.echo(text, nl=False)
        return
    assert clf.encoder is not None
    doc = {
        "path": str(Path(model) if model else DEFAULT_BUNDLE),
        "model": repr(clf),
        "vocab_size": clf.encoder.vocab_size,
        "parameters": clf.n_parameters,
        "config": clf.config_.to_dict(),
        **{k: clf.meta.get(k) for k in ("created", "versions", "training", "dev_metrics", "calibration")},
    }
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{doc['model']}\npath:        {doc['path']}\nvocabulary:  {doc['vocab_size']} tokens "
               f"({clf.config_.tokenizer.model})\nparameters:  {doc['parameters']:,}")
    click.echo(f"created:     {doc.get('created')}")
    c = clf.config_
    click.echo(f"model:       emb {c.model.embedding_dim}, {c.model.layers} layer(s) x {c.model.units} units, "
               f"{'bi' if c.model.bidirectional else 'uni'}directional, pooling {'+'.join(c.model.pooling)}")
    t = doc.get("training") or {}
    for split in ("train", "dev"):
        s = t.get(split)
        if s:
            click.echo(f"{split + ':':<12} {s.get('rows')} rows {s.get('labels')} from {s.get('source', '?')}")
    if t:
        click.echo(f"training:    best epoch {t.get('best_epoch')} of {t.get('epochs_run')}, {t.get('train_time_s')}s")
    m = doc.get("dev_metrics")
    if m:
        click.echo("dev metrics: " + "  ".join(f"{k} {m[k]:.4f}" for k in ("avg_recall", "f1_pn", "macro_f1", "accuracy")))
    cal = doc.get("calibration")
    if cal:
        from sentilstm.cli.calibrate import describe

        b, a = cal["before"], cal["after"]
        click.echo(f"calibration: {describe(cal)}; {cal['fitted_on'].get('source', 'dev')} ECE {b['ece']:.4f} -> "
                   f"{a['ece']:.4f}, log loss {b['log_loss']:.4f} -> {a['log_loss']:.4f}")
    else:
        click.echo("calibration: none (probabilities as trained; see `sentilstm calibrate`)")
    click.echo("model card:  sentilstm info --card" + (f" --model {model}" if model else ""))
