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
    from ._dataset_ops import Dataset

    class AudioDataset(Dataset):
        """Batches of ``(audio, labels)`` (or audio alone) decoded from WAV files when read
        (``audio_dataset_from_directory``)."""

        def __init__(self, paths, labels, label_mode, num_classes, batch_size, length, class_names):
            super().__init__()
            self.paths, self.labels, self.label_mode = list(paths), labels, label_mode
            self.num_classes, self.batch_size, self.length = num_classes, batch_size, length
            self.class_names = class_names
            self.file_paths = list(paths)

        def __len__(self):
            return len(self.paths) if self.batch_size is None else -(-len(self.paths) // self.batch_size)

        def _labels(self, lab):
            if self.label_mode == "categorical":
                return np.eye(self.num_classes, dtype="float32")[lab]
            if self.label_mode == "binary":
                return lab.astype("float32").reshape(-1, 1)
            return lab.astype("int32")

        def __getitem__(self, index):
            self._check_index(index)
            size = 1 if self.batch_size is None else self.batch_size
            sl = slice(index * size, (index + 1) * size)
            clips = [_decode(p, self.length) for p in self.paths[sl]]
            if len({c.shape[1] for c in clips}) > 1:
                raise ValueError(f"audio_dataset_from_directory: batch {index} mixes files with different channel "
                                 f"counts ({sorted({c.shape[1] for c in clips})}); Keras cannot batch them either")
            n = max(len(c) for c in clips)
            audio = np.zeros((len(clips), n, clips[0].shape[1]), np.float32)
            for i, c in enumerate(clips):
                audio[i, :len(c)] = c
            if self.labels is None:
                return audio[0] if self.batch_size is None else audio
            labels = self._labels(np.asarray(self.labels[sl]))
            if self.batch_size is None:
                return audio[0], labels[0]
            return audio, labels

    return AudioDataset


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                 sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None, follow_links=False, verbose=True):
    """Batches of ``(audio, labels)`` from WAV files in class subfolders (Keras' arguments and return
    values; a ``Dataset`` of float32 NumPy batches (batch, samples, channels) with ``class_names`` and
    ``file_paths`` instead of a ``tf.data.Dataset``). See the module notes for decoding."""
    from ._data_utils import _index_directory, _split

    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("The `labels` argument should be a list/tuple of integer labels, of the same size as the "
                             "number of audio files in the target directory. If you wish to infer the labels from "
                             'the subdirectory names in the target directory, pass `labels="inferred"`. If you wish '
                             f"to get a dataset that only contains audio samples (no labels), pass `labels=None`. "
                             f"Received: labels={labels}")
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. Received: labels={labels}, '
                             f"and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", or None. '
                         f"Received: label_mode={label_mode}")
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
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset in ("training", "validation", "both")):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely; `subset` must be "
                         f'"training", "validation" or "both". Received: subset={subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
                         "to make sure that there is no overlap between the training and validation subset.")
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
