"""Smoke runs of the recurrent examples (``--quick``) and of the keras.io addition script through
the compat runner with its constants reduced; the full runs are what the README reports."""
import math
import os
import pathlib
import re
import subprocess
import sys

import pytest
from conftest import shared_data_dir
from test_keras_compat import run

REPO = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def _example(name, *args, env=None):
    p = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=300,
                       env=env, cwd=REPO)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return p.stdout


def _number(pattern, text):
    m = re.findall(pattern, text)
    assert m, f"{pattern!r} not in output:\n{text[-2000:]}"
    return float(m[-1])


def test_addition_rnn_quick_beats_the_constant_baseline():
    out = _example("addition_rnn.py", "--quick")
    baseline = _number(r"baseline \(most frequent character per position\) val accuracy ([\d.]+)%", out)
    acc = _number(r"final val accuracy ([\d.]+)%", out)
    losses = [float(v) for v in re.findall(r"^epoch \d+/\d+  loss ([\d.]+)", out, re.M)]
    assert 30 < baseline < 45, out  # ~36%: a model that learned nothing about the digits
    assert acc > baseline + 2, out
    assert len(losses) == 4 and losses[-1] < losses[0] < math.log(12), losses
    assert len(re.findall(r"^Q .* T .* [☑☒] ", out, re.M)) >= 10, out  # the keras.io-style samples
    assert "wall time" in out


def test_seq2seq_attention_quick_learns_the_characters(tmp_path):
    out = _example("seq2seq_attention.py", "--quick", "--plot", str(tmp_path / "attn.png"))
    exact = _number(r"exact match ([\d.]+)%", out)
    per_char = _number(r"per-character accuracy ([\d.]+)%", out)
    assert per_char > 60, out  # chance is 1/11 per character; the format characters alone give 20%
    assert 0 <= exact <= per_char, out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert (tmp_path / "attn.png").stat().st_size > 0


def _shakespeare_dir():
    d = shared_data_dir()
    return d if d is not None and (d / "tinyshakespeare" / "input.txt").is_file() else None


def test_char_lstm_quick_trains_and_samples():
    d = _shakespeare_dir()
    if d is None:
        pytest.skip("Tiny Shakespeare (../shared/data/tinyshakespeare or $FERROGRAD_DATA) is absent")
    out = _example("char_lstm.py", "--quick", "--seed", "1", env=dict(os.environ, FERROGRAD_DATA=str(d)))
    train = _number(r"final training loss ([\d.]+)", out)
    held = _number(r"held-out loss ([\d.]+)", out)
    assert train < math.log(65) - 0.5 and held < math.log(65) - 0.5, out  # uniform over 65 characters: 4.17
    assert _number(r"([\d,]+) tokens/s  training", out.replace(",", "")) > 0
    sample = out.split("--- sample")[1].split("\n---")[0]
    assert "ROMEO:" in sample and len(sample.split("ROMEO:\n", 1)[1]) >= 100, sample


def test_char_lstm_without_data_says_where_it_looked(tmp_path):
    p = subprocess.run([sys.executable, str(EXAMPLES / "char_lstm.py"), "--quick"], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, FERROGRAD_DATA=str(tmp_path)))
    assert p.returncode != 0 and "Tiny Shakespeare not found at" in p.stderr and str(tmp_path) in p.stderr


def test_keras_io_addition_script_runs_through_the_compat_runner(tmp_path):
    src = (EXAMPLES / "keras_io" / "addition_rnn.py").read_text(encoding="utf-8")
    # epochs = 2: the script fits `range(1, epochs)`, so this is one iteration of its loop
    small, n = re.subn(r"^TRAINING_SIZE = 50000$", "TRAINING_SIZE = 2000", src, flags=re.M)
    small, m = re.subn(r"^epochs = 30$", "epochs = 2", small, flags=re.M)
    assert n == m == 1, "the keras.io script's constants moved: update the substitution"
    r = run(small, tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Total questions: 2000" in r.stdout and "Iteration 1" in r.stdout and "Iteration 2" not in r.stdout
    assert re.search(r"val_accuracy: 0\.\d+", r.stdout), r.stdout[-2000:]
    assert len(re.findall(r"^Q .* T .* [☑☒] ", r.stdout, re.M)) == 10, r.stdout[-2000:]
