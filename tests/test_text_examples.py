"""Smoke runs (``--quick``) of the text examples: GloVe on Tiny Shakespeare and raw-text
classification with an end-to-end string model; the full runs are what the README reports."""
import os
import pathlib
import re
import subprocess
import sys

import pytest
from conftest import shared_data_dir

REPO = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def _run(name, *args, env=None):
    p = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=300,
                       env=env, cwd=REPO)
    return p


def test_text_classification_quick(tmp_path):
    p = _run("text_classification.py", "--quick")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    accs = {k: float(v) for k, v in re.findall(r"(pooling|lstm): held-out accuracy ([\d.]+)", p.stdout)}
    assert set(accs) == {"pooling", "lstm"} and min(accs.values()) > 0.55, p.stdout
    assert p.stdout.count("predictions identical") == 2, p.stdout


def test_glove_shakespeare_quick_then_vectors_feed_the_classifier(tmp_path):
    d = shared_data_dir()
    if d is None or not (d / "tinyshakespeare" / "input.txt").exists():
        pytest.skip("Tiny Shakespeare (../shared/data/tinyshakespeare or $FERROGRAD_DATA) is absent")
    vectors, png = tmp_path / "vectors.txt", tmp_path / "pca.png"
    env = dict(os.environ, FERROGRAD_DATA=str(d))
    p = _run("glove_shakespeare.py", "--quick", "--save", str(vectors), "--plot", str(png), env=env)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    losses = [float(v) for v in re.findall(r"loss ([\d.]+)", p.stdout)]
    assert len(losses) >= 2 and losses[-1] < losses[0], p.stdout
    assert "thou:" in p.stdout and vectors.exists()
    try:
        import matplotlib  # noqa: F401
        assert png.read_bytes()[:4] == b"\x89PNG"
    except ImportError:
        assert "no PCA picture" in p.stdout
    p = _run("text_classification.py", "--quick", "--model", "pooling", "--glove", str(vectors))
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert re.search(r"GloVe: \d+ of \d+ words found", p.stdout), p.stdout


def test_glove_shakespeare_without_data_says_where_it_looked(tmp_path):
    p = _run("glove_shakespeare.py", "--quick", env=dict(os.environ, FERROGRAD_DATA=str(tmp_path)))
    assert p.returncode != 0 and "Tiny Shakespeare not found at" in p.stderr and str(tmp_path) in p.stderr
