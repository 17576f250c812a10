"""``InputSpec``: what a layer accepts (rank, dtype, shape, fixed axes), checked on every call.

A layer that sets ``self.input_spec`` (one spec, or a list of specs, one per input) has its inputs
checked by ``Layer.__call__`` before ``call`` runs, eagerly and symbolically, with Keras 3's rules
and messages: ``ndim`` (unless ``allow_last_axis_squeeze``), ``max_ndim``, ``min_ndim``, ``dtype``,
``axes`` ({axis: size}) and ``shape`` (None matches any size; with ``allow_last_axis_squeeze`` a
trailing axis of 1 is ignored on either side). Named specs read dict inputs by name; an input of
None passes an ``optional`` spec.
"""
from __future__ import annotations


def standardize_dtype(dtype):
    from ..utils import standardize_dtype as std

    return std(dtype)


class InputSpec:
    """Specifies the rank, dtype and shape of a layer's input.

    Example::

        class Square(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.input_spec = keras.layers.InputSpec(ndim=2, axes={-1: 4})

            def call(self, x):
                return x * x

        Square()(np.ones((3, 4)))  # fine; (3, 5) or a 3-D input raises a ValueError naming the rule

    Args:
        dtype: the expected dtype. shape: the expected shape, batch included (None: any size;
        sets ndim). ndim, max_ndim, min_ndim: the rank, exactly or as a bound. axes: {axis:
        size} for single axes. allow_last_axis_squeeze: accept a rank one higher (or lower) when
        that last axis is 1. name: the key of this input in a dict of inputs. optional: None is
        an acceptable input.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = standardize_dtype(dtype) if dtype is not None else None
        if shape is not None:
            self.shape = tuple(None if d is None else int(d) for d in shape)
            self.ndim = len(self.shape)
        else:
            self.shape = None
            self.ndim = ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError(f"Argument `axes` must be a dict with integer keys. Received: axes={axes}") from None
        bound = self.ndim if self.ndim else self.max_ndim
        if self.axes and bound is not None and max(self.axes) > bound - 1:
            raise ValueError(f"Axis {max(self.axes)} is greater than the maximum allowed value: {bound - 1}")

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
                                          ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim),
                                          ("axes", self.axes)) if v]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes, "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flat(item)]
    if isinstance(x, dict):
        return [v for key in x for v in _flat(x[key])]
    return [x]


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raises a ValueError naming the rule when ``inputs`` do not meet ``input_spec``."""
    specs = _flat(input_spec)
    if not specs:
        return
    if isinstance(inputs, dict):
        names = [s.name if s is not None else None for s in specs]
        if all(names):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f'Missing data for input "{missing[0]}". You passed a data dictionary with keys '
                                 f"{list(inputs.keys())}. Expected the following keys: {names}")
            inputs = [inputs[n] for n in names]
    xs = _flat(inputs)
    if len(xs) != len(specs):
        names = [s.name for s in specs if s is not None]
        if len(names) == len(specs) and all(names):
            keys = ", ".join(f"'{n}': ..." for n in names)
            raise ValueError(f'Layer "{layer_name}" expects {len(specs)} named input(s) with keys {names}, but it '
                             f"received {len(xs)} input tensors. Pass inputs as a dict, e.g. `layer({{{keys}}})`.")
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(xs)} input '
                         f"tensors. Inputs received: {xs}")
    for i, (x, spec) in enumerate(zip(xs, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) as input for layer "
                             f"'{layer_name}'.")
        _check_one(i, x, spec, layer_name)


def _check_one(i, x, spec, layer_name):
    shape = tuple(None if d is None else int(d) for d in x.shape)
    ndim = len(shape)
    head = f"Input {i} with name '{spec.name}' of layer '{layer_name}' is incompatible with the layer: "
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(head + f"expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(head + f"expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(head + f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: {shape}")
    if spec.dtype is not None:
        dtype = standardize_dtype(x.dtype)
        if dtype != spec.dtype:
            raise ValueError(head + f"expected dtype={spec.dtype}, found dtype={dtype}")
    for axis, value in spec.axes.items():
        if value is not None and -ndim <= axis < ndim and shape[axis] not in (value, None):
            raise ValueError(head + f"expected axis {axis} of input shape to have value {value}, but received input "
                             f"with shape {shape}")
    if spec.shape is not None:
        want, got = spec.shape, shape
        if spec.allow_last_axis_squeeze:
            got = got[:-1] if got and got[-1] == 1 else got
            want = want[:-1] if want and want[-1] == 1 else want
        for w, d in zip(want, got):
            if w is not None and d is not None and w != d:
                raise ValueError(head + f"expected shape={spec.shape}, found shape={shape}")
