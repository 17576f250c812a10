"""Smoke runs of the examples (the README's main job included), short versions."""
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_spirals_example_trains_to_high_accuracy():
    p = subprocess.run([sys.executable, str(REPO / "examples" / "spirals_mlp.py"), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("final accuracy")][-1]
    acc = float(line.split()[2].rstrip("%"))
    assert acc > 95.0, line


def test_cnn_example_trains():
    p = subprocess.run([sys.executable, str(REPO / "examples" / "cnn_shapes.py")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("test loss")][-1]
    assert float(line.split("test accuracy")[1].split("%")[0]) > 90.0, line
