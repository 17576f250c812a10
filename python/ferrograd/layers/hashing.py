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


class HashedCrossing(Layer):
    """Crosses two or more categorical features into ``num_bins`` bins with TensorFlow's
    ``sparse.cross_hashed`` (Keras 3's layer, without TensorFlow): per row, starting from the key
    ``0xDECAFCAFFE``, each feature's hash (FarmHash Fingerprint64 of a string, or the integer
    itself) is folded in with ``FingerprintCat64``, and the bin is the result modulo ``num_bins``.
    The hashing runs in Rust.

    Example::

        layers.HashedCrossing(num_bins=5)((np.array(["A", "B", "A", "B", "A"]),
                                           np.array([101, 101, 101, 102, 102])))   # [1, 4, 1, 1, 3]

    Args:
        num_bins: number of bins.
        output_mode: "int" (int64 bins) or "one_hot" (``num_bins``-wide float32 rows).
        sparse: not supported (True raises).

    Inputs are a tuple of arrays of equal shape ``()``, ``(batch,)`` or ``(batch, 1)``, each of
    strings or integers.
    """

    _accepts_strings = True

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"Unknown value for argument `output_mode`. Expected one of ('int', 'one_hot'). "
                             f"Received: output_mode={output_mode}")
        if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins <= 0:
            raise ValueError(f"HashedCrossing: `num_bins` must be a positive integer. Received: num_bins={num_bins!r}")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False
        self.built = True

    def __call__(self, inputs, *args, **kwargs):
        if any(type(x).__name__ == "KerasTensor" for x in (inputs if isinstance(inputs, (list, tuple)) else [])):
            return super().__call__(inputs, *args, **kwargs)
        for name in ("training", "mask"):
            kwargs.pop(name, None)
        return self.call(inputs, *args, **kwargs)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"`HashedCrossing` should be called on a list or tuple of inputs. Received: "
                             f"inputs={inputs!r}")
        if len(inputs) < 2:
            raise ValueError(f"`HashedCrossing` should be called on at least two inputs. Received: inputs={inputs!r}")
        arrays = [x.numpy() if isinstance(x, _core.Tensor) else np.asarray(x) for x in inputs]
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(f"All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                             f"`(batch_size, 1)`. Received: shapes {[a.shape for a in arrays]}")
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError(f"All `HashedCrossing` inputs should have equal shape. Received: shapes "
                             f"{[a.shape for a in arrays]}")
        columns = []
        for a in arrays:
            if a.dtype.kind in "iu":
                columns.append(np.ascontiguousarray(a.reshape(-1), dtype=np.int64))
            elif a.dtype.kind in "USO":
                columns.append(_as_str_array(a, "HashedCrossing").reshape(-1).tolist())
            else:
                raise ValueError(f"All `HashedCrossing` inputs should have an integer or string dtype. Received: "
                                 f"dtypes {[str(x.dtype) for x in arrays]}")
        bins = _core.text_cross_hashed(columns, self.num_bins).reshape(shape)
        if self.output_mode == "int":
            return _core.as_tensor(bins.astype(self.dtype))
        return _encode(_core.as_tensor(bins), "one_hot", self.num_bins, self.dtype)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2 or \
                not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"Expected as input a list/tuple of 2 tensors. Received input_shape={input_shape}")
        if len(input_shape[0]) != len(input_shape[1]):
            raise ValueError(f"Expected as input a list/tuple of 2 tensors with the same rank. Received "
                             f"input_shape={input_shape}")
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if not first or first[-1] != 1:
            return first + (self.num_bins,)
        return first[:-1] + (self.num_bins,)

    def compute_output_spec(self, inputs, *args, **kwargs):
        from ..symbolic import KerasTensor

        shape = self.compute_output_shape([tuple(x.shape) for x in inputs])
        return KerasTensor(shape, "int64" if self.output_mode == "int" else "float32")

    def get_config(self):
        return {"num_bins": self.num_bins, "output_mode": self.output_mode, "sparse": False, "name": self.name,
                "dtype": self.dtype}
