"""layers.ContrastLimitedAdaptiveHistogramEqualization against Keras 3 on TensorFlow (fixture from
tests/fixtures/capture_clahe.py; see there why not PyTorch), plus its errors."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from ferrograd import layers

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import capture_clahe as cap  # noqa: E402

FIX = json.loads((Path(__file__).parent / "fixtures" / "keras_clahe.json").read_text())


@pytest.mark.parametrize("i", range(len(cap.CASES)))
def test_matches_keras(i):
    x, c = cap.case_input(cap.CASES[i])
    layer = layers.ContrastLimitedAdaptiveHistogramEqualization(**c)
    got = layer(x).numpy()
    np.testing.assert_allclose(got, np.asarray(FIX[i]["out"]), atol=1e-3)
    cfg = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype", "trainable")}
    assert json.loads(json.dumps(cfg, default=list)) == json.loads(json.dumps(FIX[i]["config"], default=list))
    single = layer(x[0]).numpy()
    np.testing.assert_allclose(single, got[0], atol=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="tile_grid_size"):
        layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 2))
    with pytest.raises(ValueError, match="value_range"):
        layers.ContrastLimitedAdaptiveHistogramEqualization(value_range=(0,))
    with pytest.raises(ValueError, match="rank 3 or 4"):
        layers.ContrastLimitedAdaptiveHistogramEqualization()(np.zeros((4, 4)))
