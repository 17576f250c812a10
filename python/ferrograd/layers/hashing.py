"""``Hashing``: maps strings or integers to ``num_bins`` bins with TensorFlow's hashes (FarmHash
Fingerprint64, or SipHash-2-4 keyed by ``salt``), as Keras 3's layer does, without TensorFlow:
the per-value work (formatting integers as decimal strings and hashing) runs in Rust."""
from __future__ import annotations

import numpy as np

from .. import _core
from .data_layers import _encode
from .layer import Layer
from .lookup import _as_str_array

_MODES = ("int", "one_hot", "multi_hot", "count")


class Hashing(Layer):
    """Hashes each input value to a bin: ``bin = hash(str(value)) % num_bins`` (TensorFlow's
    ``to_hash_bucket_fast``: FarmHash Fingerprint64 of the UTF-8 bytes; with ``salt``,
    ``to_hash_bucket_strong``: SipHash-2-4 keyed by the salt). Integers are hashed as their decimal
    strings and floats are first truncated to int64, as Keras does, so ``7``, ``7.9`` and ``"7"``
    share a bin. With ``mask_value``, that value maps to 0 and the others to ``1 + hash %
    (num_bins - 1)``.

    Example::

        layers.Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]])   # [[1], [0], [1], [1], [2]]
        layers.Hashing(num_bins=3, salt=133)(["A", "B", "C", "D", "E"])    # [0, 0, 2, 1, 0]

    Args:
        num_bins: number of bins (the mask bin included when ``mask_value`` is set).
        mask_value: the value that maps to bin 0 (None: no mask bin).
        salt: an int, or a pair of ints, keying SipHash (an int ``s`` means ``(s, s)``); None for
            FarmHash.
        output_mode: "int" (the bins, int64 by default), "one_hot", "multi_hot" or "count"
            (``num_bins``-wide float rows).
        sparse: not supported (True raises).
    """

    _accepts_strings = True

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if num_bins is None or isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) \
                or num_bins <= 0:
            raise ValueError(f"The `num_bins` for `Hashing` cannot be `None` or non-positive values. Received: "
                             f"num_bins={num_bins}.")
        if output_mode not in _MODES:
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of {_MODES}. Received: "
                             f"output_mode={output_mode}")
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(f"When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or 'in64'. "
                             f"Received: dtype={kwargs['dtype']}")
        if sparse and output_mode == "int":
            raise ValueError(f'`sparse` may only be true if `output_mode` is `"one_hot"`, `"multi_hot"`, or '
                             f'`"count"`. Received: sparse={sparse} and output_mode={output_mode}')
        if sparse:
            raise ValueError("Hashing: sparse=True is not supported by ferrograd (it has no sparse tensors); use "
                             "sparse=False")
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(isinstance(s, int) for s in salt):
                salt = [int(salt[0]), int(salt[1])]
            elif isinstance(salt, int) and not isinstance(salt, bool):
                salt = [salt, salt]
            else:
                raise ValueError(f"The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a "
                                 f"single integer. Received: salt={salt}.")
            if not all(0 <= s < 2 ** 64 for s in salt):
                raise ValueError(f"Hashing: salt values must be unsigned 64-bit integers. Received: salt={salt}")
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = bool(sparse)

    def _bins(self, values):
        """int64 bins of ``values`` (a NumPy array of str or integers), same shape."""
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        salt = None if self.salt is None else (self.salt[0], self.salt[1])
        flat = values.reshape(-1)
        if values.dtype.kind in "iub":
            out = _core.text_hash_bins_int(np.ascontiguousarray(flat, dtype=np.int64), bins, salt)
        else:
            out = _core.text_hash_bins([str(v) for v in flat], bins, salt)
        out = np.asarray(out, dtype=np.int64).reshape(values.shape)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def __call__(self, inputs, *args, **kwargs):
        # Strings cannot become tensors: the hashing runs here, eagerly, on NumPy arrays.
        if type(inputs).__name__ == "KerasTensor":
            return super().__call__(inputs, *args, **kwargs)
        for name in ("training", "mask"):  # hashing has no training behaviour and does not support masking
            kwargs.pop(name, None)
        if not self.built:
            self.built = True
        return self.call(inputs, *args, **kwargs)

    def call(self, inputs):
        if isinstance(inputs, _core.Tensor):
            values = inputs.numpy()
        else:
            arr = np.asarray(inputs) if not isinstance(inputs, np.ndarray) else inputs
            values = arr if arr.dtype.kind in "iufb" else _as_str_array(arr, "Hashing")
        if values.dtype.kind == "f":
            values = values.astype(np.int64)  # Keras: floats are truncated to int64 first
        elif values.dtype.kind == "b":
            raise TypeError("Hashing expects strings or numbers; received booleans")
        ids = self._bins(values)
        if self.output_mode == "int":
            return _core.as_tensor(ids.astype(self.dtype))
        ids_t = _core.as_tensor(ids)
        if self.output_mode == "one_hot" and ids.ndim and ids.shape[-1] == 1:
            ids_t = _core.reshape(ids_t, ids.shape[:-1])
        return _encode(ids_t, self.output_mode, self.num_bins, self.dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        if self.output_mode == "one_hot" and input_shape[-1] != 1:  # a new axis, as the call adds one
            return tuple(input_shape) + (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt, "mask_value": self.mask_value,
                "output_mode": self.output_mode, "sparse": self.sparse}
