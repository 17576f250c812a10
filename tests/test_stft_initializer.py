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


SPEC = json.loads((FIX / "keras_stft_spectrogram.json").read_text())


@pytest.mark.parametrize("case", SPEC["cases"], ids=[str(c["kwargs"])[:70] for c in SPEC["cases"]])
def test_stft_spectrogram_matches_keras(case):
    import capture_stft_spectrogram as cs

    layer = keras.layers.STFTSpectrogram(**case["kwargs"])
    x = cs.signal(case["kwargs"].get("data_format") == "channels_first")
    got = layer(x).numpy()
    want = np.asarray(case["out"], "float32")
    assert got.shape == want.shape == tuple(d for d in layer.compute_output_shape(x.shape))
    scale = max(1.0, float(np.abs(want).max()))
    if case["kwargs"].get("mode") == "angle":  # compare angles on the circle (+-pi are the same angle)
        np.testing.assert_allclose(np.cos(got), np.cos(want), atol=2e-3)
        np.testing.assert_allclose(np.sin(got), np.sin(want), atol=2e-3)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5 * scale)
    assert [list(w.shape) for w in layer.weights] == case["weights"]
    cfg = layer.get_config()
    for k, v in case["config"].items():
        if k not in ("dtype", "name"):
            assert cfg[k] == v, k


def test_stft_spectrogram_in_a_model_and_errors(tmp_path):
    inp = keras.Input((None, 1))
    out = keras.layers.STFTSpectrogram(mode="log", frame_length=16, frame_step=8)(inp)
    assert out.shape == (None, None, 9)
    model = keras.Model(inp, keras.layers.Dense(1)(keras.layers.GlobalAveragePooling1D()(out)))
    x = np.random.default_rng(0).normal(size=(3, 64, 1)).astype("float32")
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "m.keras").predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
    for kwargs, match in [({"mode": "cqt"}, "mode"), ({"frame_length": 8, "frame_step": 9}, "frame_step"),
                          ({"frame_length": 8, "fft_length": 4}, "fft_length"), ({"padding": "causal"}, "Padding")]:
        with pytest.raises(ValueError, match=match):
            keras.layers.STFTSpectrogram(**kwargs)
    with pytest.raises(TypeError, match="float"):
        keras.layers.STFTSpectrogram(frame_length=4)(np.ones((1, 8, 1), "int32"))
