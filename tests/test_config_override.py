"""ClassifierConfig.override: dotted keys, a new config every time, clear errors."""

from __future__ import annotations

import dataclasses

import pytest

from sentilstm import ClassifierConfig
from sentilstm.config import ModelConfig, TokenizerConfig, TrainConfig


def test_override_returns_a_new_config_and_never_mutates():
    base = ClassifierConfig()
    new = base.override({"train.epochs": 1, "model.units": 64, "model.pooling": ["max"]})
    assert (new.train.epochs, new.model.units, new.model.pooling) == (1, 64, ("max",))
    assert (base.train.epochs, base.model.units, base.model.pooling) == (6, 128, ("max", "mean"))
    assert new.tokenizer is base.tokenizer  # untouched sections are shared (they are immutable)
    assert new.to_dict()["train"] == {**base.to_dict()["train"], "epochs": 1}
    assert ClassifierConfig.from_dict(new.to_dict()) == new


@pytest.mark.parametrize("cls", [ClassifierConfig, TokenizerConfig, ModelConfig, TrainConfig])
def test_configs_are_frozen(cls):
    cfg = cls()
    name = dataclasses.fields(cfg)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(cfg, name, getattr(cfg, name))


@pytest.mark.parametrize("values, message", [
    ({"train.epoch": 1}, "unknown config key 'train.epoch'; did you mean train.epochs?"),
    ({"epochs": 1}, "unknown config key 'epochs'"),
    ({"train.epochs": "3"}, "train.epochs must be int, got str '3'"),
    ({"train.epochs": True}, "train.epochs must be int"),
    ({"train.epochs": 0}, "train.epochs"),
    ({"train.keep": "first"}, "train.keep must be one of best, last"),
    ({"train.ema": "x"}, "train.ema must be float or null"),
    ({"model.pooling": "max"}, "model.pooling must be a list of strings"),
    ({"model.pooling": ["max", "sum"]}, "model.pooling must be a non-empty subset"),
])
def test_override_errors_name_the_key(values, message):
    with pytest.raises(ValueError) as e:
        ClassifierConfig().override(values)
    assert message in str(e.value)


def test_int_is_accepted_for_float_and_null_for_optional():
    cfg = ClassifierConfig().override({"train.learning_rate": 1, "train.class_weight": None})
    assert cfg.train.learning_rate == 1.0 and isinstance(cfg.train.learning_rate, float)
    assert cfg.train.class_weight is None


def test_options_cover_every_field_with_its_default_and_help():
    opts = {o.key: o for o in ClassifierConfig.options()}
    for section, cls in (("tokenizer", TokenizerConfig), ("model", ModelConfig), ("train", TrainConfig)):
        for f in dataclasses.fields(cls):
            o = opts[f"{section}.{f.name}"]
            assert o.default == f.default and o.help, o.key
    assert opts["tokenizer.model"].choices == ("wordpiece", "bpe", "wordlevel")


@pytest.mark.parametrize("key, text, value", [
    ("train.epochs", "3", 3), ("train.learning_rate", "1e-3", 1e-3), ("model.bidirectional", "false", False),
    ("train.ema", "null", None), ("train.keep", "last", "last"), ("model.pooling", "max,mean", ("max", "mean")),
    ("model.pooling", '["attention"]', ("attention",)), ("model.pretrained_embeddings", "glove-6b-50d", "glove-6b-50d"),
])
def test_parse_command_line_text(key, text, value):
    opt = {o.key: o for o in ClassifierConfig.options()}[key]
    assert opt.parse(text) == value
