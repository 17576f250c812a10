"""``keras.utils.audio_dataset_from_directory`` without TensorFlow.

Files are indexed, labelled, shuffled and split as ``text_dataset_from_directory`` does (Keras'
``index_directory``). WAV files are decoded by Python's ``wave`` module when a batch is read, as
``tf.audio.decode_wav`` decodes them: 16-bit PCM only, samples scaled to float32 in [-1, 1)
(``int16 / 32768``), shape (samples, channels); ``output_sequence_length`` truncates or zero-pads
each file, and otherwise a batch is zero-padded to its longest file (Keras' ``padded_batch``).
``sampling_rate`` (resampling through tensorflow-io in Keras) and ``ragged=True`` are not
available and say so.
"""
from __future__ import annotations

import wave

import numpy as np

ALLOWED_FORMATS = (".wav",)


def _decode(path, length):
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                raise ValueError(f"audio_dataset_from_directory: {path} is not 16-bit PCM WAV (sample width "
                                 f"{8 * w.getsampwidth()} bits, compression {w.getcomptype()!r}); "
                                 "tf.audio.decode_wav reads 16-bit PCM only")
            channels = w.getnchannels()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise ValueError(f"audio_dataset_from_directory: {path} is not a readable WAV file ({e})") from None
    audio = (np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0).reshape(-1, channels)
    if length is not None:
        audio = audio[:length]
        if len(audio) < length:
            audio = np.concatenate([audio, np.zeros((length - len(audio), channels), np.float32)])
    return audio


def _audio_dataset_class():
    from ._dataset_ops import DirectoryDataset

    class AudioDataset(DirectoryDataset):
        """Batches of ``(audio, labels)`` (or audio alone) decoded from WAV files when read
        (``audio_dataset_from_directory``)."""

        def __init__(self, paths, labels, label_mode, num_classes, batch_size, length, class_names):
            super().__init__(paths, labels, label_mode, num_classes, batch_size, class_names)
            self.length = length

        def _load(self, paths):
            clips = [_decode(p, self.length) for p in paths]
            if len({c.shape[1] for c in clips}) > 1:
                raise ValueError("audio_dataset_from_directory: a batch mixes files with different channel counts "
                                 f"({sorted({c.shape[1] for c in clips})}); Keras cannot batch them either")
            audio = np.zeros((len(clips), max(len(c) for c in clips), clips[0].shape[1]), np.float32)
            for i, c in enumerate(clips):
                audio[i, :len(c)] = c
            return audio

    return AudioDataset


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                 sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None, follow_links=False, verbose=True):
    """Batches of ``(audio, labels)`` from WAV files in class subfolders (Keras' arguments and return
    values; a ``Dataset`` of float32 NumPy batches (batch, samples, channels) with ``class_names`` and
    ``file_paths`` instead of a ``tf.data.Dataset``). See the module notes for decoding."""
    from ._data_utils import _check_directory_args, _index_directory, _split

    labels, label_mode = _check_directory_args("audio", labels, label_mode, class_names, validation_split, subset,
                                               shuffle, seed)
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if ragged:
        raise NotImplementedError("audio_dataset_from_directory: ragged=True is not available in ferrograd (it has "
                                  "no ragged tensors); batches are zero-padded to their longest file")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int) or isinstance(sampling_rate, bool):
            raise ValueError(f"`sampling_rate` should have an integer value. Received: sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError(f"`sampling_rate` should be higher than 0. Received: sampling_rate={sampling_rate}")
        raise NotImplementedError("audio_dataset_from_directory: sampling_rate (resampling) is not available in "
                                  "ferrograd; Keras needs tensorflow-io for it")
    if output_sequence_length is not None and (not isinstance(output_sequence_length, int) or isinstance(
            output_sequence_length, bool) or output_sequence_length < 1):
        raise ValueError("`output_sequence_length` must be a positive int or None. "
                         f"Received: output_sequence_length={output_sequence_length}")
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_list, names = _index_directory(directory, labels, ALLOWED_FORMATS, class_names, shuffle, seed,
                                                follow_links, verbose)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={names}")
    if not paths:
        raise ValueError(f"No audio files found in directory {directory}. Allowed format(s): {ALLOWED_FORMATS}")
    cls = _audio_dataset_class()

    def make(sub):
        p, lab = _split(np.asarray(paths, dtype=object), label_list, validation_split, sub, verbose)
        return cls(list(p), lab, label_mode, len(names or []), batch_size, output_sequence_length, names)

    if subset == "both":
        return make("training"), make("validation")
    return make(subset)
