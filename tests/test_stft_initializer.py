"""keras.initializers.STFT against Keras 3.15 (tests/fixtures/keras_stft_initializer.json)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import ferrograd as keras

FIX = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIX))
import capture_stft_initializer as cap  # noqa: E402

DATA = json.loads((FIX / "keras_stft_initializer.json").read_text())


@pytest.mark.parametrize("case", DATA["cases"], ids=[str(c["kwargs"])[:60] for c in DATA["cases"]])
def test_matches_keras(case):
    init = keras.initializers.STFT(**cap.kwargs(case["kwargs"]))
    got = init(cap.SHAPE)
    assert got.dtype == "float32" and tuple(got.shape) == cap.SHAPE
    # float32 cos of arguments up to 50: near-zero values differ by a few 1e-6
    np.testing.assert_allclose(got.numpy(), np.asarray(case["out"], "float32"), rtol=1e-5, atol=5e-6)
    clone = keras.initializers.deserialize(keras.initializers.serialize(init))
    np.testing.assert_array_equal(clone(cap.SHAPE).numpy(), got.numpy())


def test_aliases_and_errors():
    assert keras.initializers.STFTInitializer is keras.initializers.STFT is keras.initializers.stft
    assert isinstance(keras.initializers.get("stft"), keras.initializers.STFT)
    with pytest.raises(ValueError, match="side"):
        keras.initializers.STFT(side="both")
    with pytest.raises(ValueError, match="Scaling"):
        keras.initializers.STFT(scaling="l3")
    with pytest.raises(ValueError, match="tukey"):
        keras.initializers.STFT(window="tukey")
    with pytest.raises(ValueError, match="frame_length"):
        keras.initializers.STFT(window=np.ones(5))((16, 1, 9))
