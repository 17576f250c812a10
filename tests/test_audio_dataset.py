"""keras.utils.audio_dataset_from_directory against Keras 3 on TensorFlow
(tests/fixtures/keras_audio_dataset.json, from capture_audio_dataset.py)."""
import json
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

import ferrograd as keras

FIX = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIX))
import capture_audio_dataset as cap  # noqa: E402

DATA = json.loads((FIX / "keras_audio_dataset.json").read_text())


def _samples(batches):
    return [(x, y) for bx, by in batches for x, y in zip(bx, by if by is not None else [None] * len(bx))]


@pytest.mark.parametrize("case", DATA["cases"], ids=[str(c["kwargs"]) for c in DATA["cases"]])
def test_matches_keras(case, tmp_path):
    cap.make_wavs(tmp_path)
    ds = keras.utils.audio_dataset_from_directory(tmp_path, verbose=False, **case["kwargs"])
    assert ds.class_names == case["class_names"]
    got = [b if isinstance(b, tuple) else (b, None) for b in ds]
    want = [(np.asarray(x, "float32"), None if y is None else np.asarray(y)) for x, y in case["batches"]]
    assert len(got) == len(want)
    if case["kwargs"].get("batch_size") is None:
        got, want = [(x[None], y) for x, y in got], [(x[None], y) for x, y in want]
    if case["kwargs"].get("shuffle"):
        # Keras also shuffles decoded clips in a tf.data buffer (TensorFlow's RNG): compare as sets
        left = _samples(want)
        for x, y in _samples(got):
            k = next(i for i, (wx, wy) in enumerate(left) if wx.shape == x.shape and np.array_equal(wx, x)
                     and np.array_equal(wy, np.asarray(y).astype(wy.dtype)))
            left.pop(k)
        assert not left
        return
    for (gx, gy), (wx, wy) in zip(got, want):
        assert gx.dtype == np.float32 and gx.shape == wx.shape
        np.testing.assert_array_equal(gx, wx)
        if wy is not None:
            np.testing.assert_array_equal(gy, wy.astype(gy.dtype))


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="No audio files"):
        keras.utils.audio_dataset_from_directory(tmp_path, verbose=False)
    cap.make_wavs(tmp_path)
    with pytest.raises(NotImplementedError, match="ragged"):
        keras.utils.audio_dataset_from_directory(tmp_path, ragged=True, verbose=False)
    with pytest.raises(NotImplementedError, match="sampling_rate"):
        keras.utils.audio_dataset_from_directory(tmp_path, sampling_rate=16000, verbose=False)
    with pytest.raises(ValueError, match="Cannot set both"):
        keras.utils.audio_dataset_from_directory(tmp_path, ragged=True, output_sequence_length=4, verbose=False)
    with pytest.raises(ValueError, match="output_sequence_length"):
        keras.utils.audio_dataset_from_directory(tmp_path, output_sequence_length=0, verbose=False)
    with wave.open(str(tmp_path / "no" / "8bit.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(10))
    (tmp_path / "yes" / "junk.wav").write_bytes(b"RIFF....not a wave")
    ds = keras.utils.audio_dataset_from_directory(tmp_path, batch_size=1, shuffle=False, verbose=False)
    names = [Path(p).name for p in ds.file_paths]
    with pytest.raises(ValueError, match="16-bit PCM"):
        ds[names.index("8bit.wav")]
    with pytest.raises(ValueError, match="not a readable WAV"):
        ds[names.index("junk.wav")]
