"""Smoke runs (``--quick``) of the GPT example; the full runs are what the README reports."""
import math
import os
import re

import pytest
from test_rnn_examples import _example, _number, _shakespeare_dir


@pytest.mark.parametrize("tokens,ffn", [("char", "gelu"), ("bpe", "gelu"), ("char", "swiglu"), ("char", "moe")])
def test_char_gpt_quick_trains_and_samples(tokens, ffn):
    d = _shakespeare_dir()
    if d is None:
        pytest.skip("Tiny Shakespeare (../shared/data/tinyshakespeare or $FERROGRAD_DATA) is absent")
    extra = ["--tokens", "bpe", "--vocab-size", "300"] if tokens == "bpe" else []
    extra += ["--ffn", ffn]
    out = _example("char_gpt.py", "--quick", "--seed", "1", *extra, env=dict(os.environ, FERROGRAD_DATA=str(d)))
    vocab = 300 if tokens == "bpe" else 65
    held = _number(r"held-out loss ([\d.]+)", out)
    losses = [float(v) for v in re.findall(r"^step \d+/\d+  loss ([\d.]+)", out, re.M)]
    assert len(losses) == 2 and losses[-1] < losses[0], out
    assert held < math.log(vocab) - 0.8, out  # uniform guessing gives log(vocab)
    if tokens == "bpe":
        assert "BPE tokenizer trained" in out and "characters per token" in out
    sample = out.split("--- sample")[1].split("\n---")[0]
    assert "ROMEO:" in sample, sample


def test_bert_mlm_quick_trains():
    d = _shakespeare_dir()
    if d is None:
        pytest.skip("Tiny Shakespeare (../shared/data/tinyshakespeare or $FERROGRAD_DATA) is absent")
    out = _example("bert_mlm.py", "--quick", env=dict(os.environ, FERROGRAD_DATA=str(d)))
    losses = [float(v) for v in re.findall(r"^step \d+/\d+  loss ([\d.]+)", out, re.M)]
    assert len(losses) == 2 and losses[-1] < losses[0] < math.log(516), out
    acc = _number(r"held-out masked-token accuracy ([\d.]+)%", out)
    base = _number(r"most-frequent-token baseline ([\d.]+)%", out)
    assert acc >= base - 1.0, out  # 40 steps learn the unigram distribution at least


def test_vit_mnist_quick_runs_both_parts():
    from conftest import shared_data_dir

    d = shared_data_dir()
    if d is None or not (d / "mnist").is_dir() or not (d / "fashion-mnist").is_dir():
        pytest.skip("MNIST / Fashion-MNIST (../shared/data or $FERROGRAD_DATA) are absent")
    out = _example("vit_mnist.py", "--quick", env=dict(os.environ, FERROGRAD_DATA=str(d)))
    assert _number(r"(?m)^MNIST test accuracy ([\d.]+)%", out) > 40, out  # 3 epochs on 4,000 images: ~70%; chance 10%
    assert re.search(r"transfer model: 2 trainable tensors \(650 parameters\), backbone frozen", out), out
    assert _number(r"Fashion-MNIST test accuracy ([\d.]+)%", out) > 12, out  # one head epoch: ~20%
