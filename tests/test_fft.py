"""Fourier ops (fft, fft2, ifft2, rfft, irfft, stft, istft, extract_sequences) and MelSpectrogram:
against Keras 3 on PyTorch (fixture from tests/fixtures/capture_fft.py) and NumPy on awkward
lengths, finite-difference gradients, and argument errors."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from ferrograd import layers, ops

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import capture_fft as cap  # noqa: E402
from conftest import gradcheck  # noqa: E402

FIX = json.loads((Path(__file__).parent / "fixtures" / "keras_fft.json").read_text())
D = cap.inputs()
CPLX = (D["re"], D["im"])


def _close(got, want, atol=2e-4):
    if isinstance(want[0], list) and isinstance(got, tuple):
        for g, w in zip(got, want):
            _close(g, w, atol)
        return
    g = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    w = np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    np.testing.assert_allclose(g, w, atol=atol, rtol=1e-4)


@pytest.mark.parametrize("name, call", [
    ("fft", lambda: ops.fft(CPLX)),
    ("fft2", lambda: ops.fft2(CPLX)),
    ("ifft2", lambda: ops.ifft2(CPLX)),
    ("rfft", lambda: ops.rfft(D["re"])),
    ("rfft_16", lambda: ops.rfft(D["re"], 16)),
    ("rfft_7", lambda: ops.rfft(D["re"], 7)),
    ("irfft", lambda: ops.irfft(CPLX)),
    ("irfft_9", lambda: ops.irfft(CPLX, 9)),
    ("irfft_30", lambda: ops.irfft(CPLX, 30)),
    ("extract", lambda: ops.extract_sequences(D["signal"], 10, 7)),
])
def test_transforms_match_keras(name, call):
    _close(call(), FIX[name])


@pytest.mark.parametrize("i", range(len(cap.STFT)))
def test_stft_matches_keras(i):
    _close(ops.stft(D["signal"], **cap._window(cap.STFT[i], D)), FIX["stft"][i])


@pytest.mark.parametrize("i", range(len(cap.ISTFT)))
def test_istft_matches_keras(i):
    c = dict(cap.ISTFT[i])
    spec_args = {k: c[k] for k in ("sequence_length", "sequence_stride", "fft_length")}
    spec_args.update({k: c[k] for k in ("window", "center") if k in c})
    _close(ops.istft(ops.stft(D["signal"], **spec_args), **c), FIX["istft"][i], atol=5e-4)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 17, 100, 1000, 1024, 1031])
def test_fft_matches_numpy_on_awkward_lengths(n):
    rng = np.random.default_rng(n)
    z = rng.standard_normal((3, n)) + 1j * rng.standard_normal((3, n))
    re, im = ops.fft((z.real, z.imag))  # float64 in, float64 out
    ref = np.fft.fft(z)
    assert re.dtype == "float64"
    np.testing.assert_allclose(re.numpy(), ref.real, atol=1e-9 * n)
    np.testing.assert_allclose(im.numpy(), ref.imag, atol=1e-9 * n)
    back = ops.irfft(ops.rfft(z.real), n)
    np.testing.assert_allclose(back.numpy(), z.real, atol=1e-9 * n)


def test_fft_of_strided_views_and_large_batches():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 50, 24)).astype("float32")
    view = ops.convert_to_tensor(x)[:, ::2, 1::3]  # non-contiguous
    re, im = ops.rfft(view)
    ref = np.fft.rfft(x[:, ::2, 1::3])
    np.testing.assert_allclose(re.numpy(), ref.real, atol=1e-4)
    np.testing.assert_allclose(im.numpy(), ref.imag, atol=1e-4)


def test_gradients_by_finite_differences():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 6)), rng.standard_normal((2, 6))
    gradcheck(lambda x, y: ops.fft((x, y))[0] + 2 * ops.fft((x, y))[1], a, b)
    gradcheck(lambda x, y: ops.ifft2((x, y))[1], a, b)
    gradcheck(lambda x: ops.rfft(x, 8)[0] - ops.rfft(x, 8)[1], rng.standard_normal((2, 5)))
    gradcheck(lambda x, y: ops.irfft((x, y), 7), rng.standard_normal((2, 4)), rng.standard_normal((2, 4)))
    gradcheck(lambda x: ops.stft(x, 6, 2, 8, window="hann")[0], rng.standard_normal((1, 13)))
    spec = ops.stft(rng.standard_normal((1, 20)), 8, 2, 8)
    gradcheck(lambda x, y: ops.istft((x, y), 8, 2, 8), spec[0].numpy(), spec[1].numpy())


@pytest.mark.parametrize("i", range(len(cap.MEL)))
def test_mel_spectrogram_matches_keras(i):
    layer = layers.MelSpectrogram(**cap.MEL[i])
    want = FIX["mel"][i]
    got = layer(D["audio"])
    _close(got, want["out"], atol=2e-3 if layer.power_to_db else 2e-4)
    cfg = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype", "trainable")}
    assert cfg == want["config"]
    assert tuple(layer.compute_output_shape((2, 300))) == tuple(got.shape)
    again = layers.MelSpectrogram.from_config(layer.get_config())
    np.testing.assert_allclose(again(D["audio"]).numpy(), got.numpy())


def test_mel_spectrogram_in_a_model_and_single_signal():
    import ferrograd as fg
    inp = fg.Input((300,))
    out = layers.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=10, sampling_rate=8000)(inp)
    assert tuple(out.shape) == (None, 10, 19)
    model = fg.Model(inp, out)
    assert model.predict(D["audio"], verbose=0).shape == (2, 10, 19)
    single = layers.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=10)(D["audio"][0])
    assert tuple(single.shape) == (10, 19)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: ops.fft(D["re"]), ValueError, "tuple of two tensors"),
    (lambda: ops.fft((D["re"], D["im"][:, :2])), ValueError, "same shape"),
    (lambda: ops.fft((np.ones(3, "int32"), np.ones(3, "int32"))), ValueError, "not of type float"),
    (lambda: ops.fft((np.ones((2, 0)), np.ones((2, 0)))), ValueError, "empty"),
    (lambda: ops.fft2((np.ones(4), np.ones(4))), ValueError, "two axes"),
    (lambda: ops.rfft(np.ones(4), 0), ValueError, "fft_length"),
    (lambda: ops.irfft((np.ones(1), np.ones(1))), ValueError, "no samples"),
    (lambda: ops.extract_sequences(np.ones(5), 6, 1), ValueError, "shorter"),
    (lambda: ops.extract_sequences(np.ones(5), 2, 0), ValueError, "sequence_stride"),
    (lambda: ops.stft(np.ones(20, "int32"), 8, 2, 8), TypeError, "float32"),
    (lambda: ops.stft(np.ones(20, "float32"), 8, 2, 4), ValueError, "fft_length"),
    (lambda: ops.stft(np.ones(20, "float32"), 8, 2, 8, window="blackman"), ValueError, "hann"),
    (lambda: ops.stft(np.ones(20, "float32"), 8, 2, 8, window=np.ones(7)), ValueError, "window"),
    (lambda: ops.stft(np.ones(3, "float32"), 8, 2, 8), ValueError, "center"),
    (lambda: layers.MelSpectrogram(fft_length=16, sequence_length=32), ValueError, "fft_length"),
    (lambda: layers.MelSpectrogram(window="kaiser"), ValueError, "window"),
])
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
