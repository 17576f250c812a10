"""``keras.DTypePolicy`` (and its alias ``FloatDTypePolicy``): the compute and variable dtypes of a
layer. ferrograd computes in the variable dtype, so the mixed policies ("mixed_float16",
"mixed_bfloat16"), whose compute dtype differs, raise NotImplementedError when a layer is given
one."""
from __future__ import annotations

_FLOATS = ("float16", "bfloat16", "float32", "float64")
_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


class DTypePolicy:
    """A dtype policy by name: a float dtype ("float32", ...) or "mixed_float16" /
    "mixed_bfloat16" (compute in 16 bits, variables in float32).

    Attributes: name, compute_dtype, variable_dtype, quantization_mode (None).
    """

    def __init__(self, name=None):
        if name is None:
            from . import config

            name = config.floatx()
        if not isinstance(name, str) or (name not in _FLOATS and name not in _MIXED):
            raise ValueError(f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies include "
                             "'mixed_float16', 'mixed_bfloat16', and the name of any float dtype such as "
                             "'float32'.")
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        return _MIXED.get(self._name, self._name)

    @property
    def variable_dtype(self):
        return "float32" if self._name in _MIXED else self._name

    @property
    def quantization_mode(self):
        return None

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy


def layer_dtype(dtype):
    """The dtype name a layer runs in for its ``dtype`` argument (a name, a policy or a serialized
    policy); mixed policies raise NotImplementedError."""
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        dtype = dtype.get("config", {}).get("name", "float32")
    if isinstance(dtype, DTypePolicy):
        if dtype.compute_dtype != dtype.variable_dtype:
            raise NotImplementedError(f"dtype policy {dtype.name!r}: mixed precision is not available in ferrograd "
                                      "(it computes in the variable dtype)")
        return dtype.variable_dtype
    if isinstance(dtype, str) and dtype in _MIXED:
        raise NotImplementedError(f"dtype policy {dtype!r}: mixed precision is not available in ferrograd (it "
                                  "computes in the variable dtype)")
    return dtype
