"""EinsumDense: a dense layer whose contraction is an einsum equation (Keras 3)."""
from __future__ import annotations

import math
import re

from .. import _core, activations, constraints, initializers, ops, regularizers
from .layer import Layer

_Tensor = _core.Tensor


def analyze_einsum(equation, bias_axes, input_shape, output_shape):
    """Keras' rule for the kernel shape, bias shape and full output shape of an EinsumDense
    ``equation`` (``"ab,bc->ac"``, ``"...b,bc->...c"`` or ``"ab...,bc->ac..."``), plus the kernel
    axes that count as fan-in and fan-out."""
    eq = re.sub(r"\.\.\.", "0", equation)
    m = re.match("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", eq)
    left = False
    if not m:
        m = re.match("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", eq)
        left = bool(m)
    if not m:
        m = re.match("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", eq)
    if not m:
        raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form [X],[Y]->[Z], "
                         "...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")
    in_spec, w_spec, out_spec = m.group(1), m.group(2), m.group(3)
    input_shape = list(input_shape)
    elided = len(input_shape) - len(in_spec)
    out = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    out.insert(0, input_shape[0])
    if elided > 0 and left:
        for i in range(1, elided):
            out.insert(1, input_shape[i])
    elif elided > 0:
        for i in range(len(input_shape) - elided, len(input_shape)):
            out.append(input_shape[i])
    if left:
        in_map = {d: (i + elided) - len(input_shape) for i, d in enumerate(in_spec)}
        out_map = {d: i + elided for i, d in enumerate(out_spec)}
    else:
        in_map = {d: i for i, d in enumerate(in_spec)}
        out_map = {d: i for i, d in enumerate(out_spec)}
    for d in in_spec:
        if d in out_map:
            o = out[out_map[d]]
            if o is not None and o != input_shape[in_map[d]]:
                raise ValueError(f"Input shape and output shape do not match at shared dimension '{d}'. Input shape "
                                 f"is {input_shape[in_map[d]]}, and output shape is {o}.")
            if o is None:  # a size the output shares with the input (Keras leaves it None)
                out[out_map[d]] = input_shape[in_map[d]]
    for d in out_spec:
        if d not in in_spec and d not in w_spec:
            raise ValueError(f"Dimension '{d}' was specified in the output '{out_spec}' but has no corresponding dim "
                             f"in the input spec '{in_spec}' or weight spec '{w_spec}'")
    kernel, in_axes, out_axes = [], [], []
    for i, d in enumerate(w_spec):
        if d in out_map:
            kernel.append(out[out_map[d]])
            out_axes.append(i)
        elif d in in_map:
            kernel.append(input_shape[in_map[d]])
            in_axes.append(i)
        else:
            raise ValueError(f"Weight dimension '{d}' did not have a match in either the input spec '{in_spec}' or "
                             f"the output spec '{out_spec}'. For this layer, the weight must be fully specified.")
    bias = None
    if bias_axes is not None:
        n_left = elided if left else 0
        sizes = {c: out[i + n_left] for i, c in enumerate(out_spec)}
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the output spec "
                                 f"'{out_spec}'")
        first = min(out_spec.find(c) for c in bias_axes)
        bias = [sizes[c] if c in bias_axes else 1 for c in out_spec[first:]]
        if not left:
            bias += [1] * max(elided, 0)
    return kernel, bias, out, in_axes, out_axes


def _as_linear(equation, kernel_shape, bias_shape):
    """``(lead, k, n, out_tail)`` when ``equation`` is a plain product over trailing axes:
    input ``P + C``, kernel ``C + F``, output ``P + F`` (explicit letters, each used once), with a
    bias over exactly ``F`` or none, so the layer is ``x.reshape(P, k) @ kernel.reshape(k, n) +
    bias`` (``k``, ``n``: the sizes of C and F; ``out_tail``: F's sizes); else None."""
    m = re.match("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", equation)
    if not m:
        return None
    in_spec, w_spec, out_spec = m.groups()
    if any(len(set(spec)) != len(spec) for spec in (in_spec, w_spec, out_spec)):
        return None
    c = "".join(d for d in w_spec if d in in_spec)
    f = w_spec[len(c):]
    lead = len(in_spec) - len(c)
    if not c or not f or w_spec != c + f or in_spec[lead:] != c or out_spec != in_spec[:lead] + f:
        return None
    out_tail = tuple(kernel_shape[len(c):])
    if bias_shape is not None and tuple(bias_shape) != out_tail:
        return None
    return lead, math.prod(kernel_shape[:len(c)]), math.prod(out_tail), out_tail


def _fan_aware(init, kernel_shape, in_axes, out_axes):
    """Keras gives a VarianceScaling kernel initializer the einsum's fan-in/fan-out axes: the kernel
    is drawn as a (fan_in, fan_out) matrix (every kernel axis is one or the other) and reshaped."""
    if not isinstance(init, initializers.VarianceScaling):
        return init
    fan_in = math.prod(kernel_shape[i] for i in in_axes)
    fan_out = math.prod(kernel_shape[i] for i in out_axes)

    def draw(shape, dtype=None):
        return ops.reshape(init((fan_in, fan_out), dtype), shape)

    return draw


class EinsumDense(Layer):
    """A dense layer computing ``activation(einsum(equation, inputs, kernel) + bias)``.

    ``output_shape`` gives the output's sizes without the batch axis (``None`` for a size taken
    from the input); ``bias_axes`` names the output letters the bias spans. The kernel's shape
    follows from the equation.

    Example: ``EinsumDense("abc,cde->abde", output_shape=(None, 4, 16), bias_axes="de")`` maps
    (B, T, 32) to (B, T, 4, 16) with a kernel (32, 4, 16) and a bias (4, 16) (the query projection
    of MultiHeadAttention).

    Args:
        equation: the einsum equation, ``inputs,kernel->output``.
        output_shape: the expected output shape without the batch axis (an int for rank 2).
        activation: applied to the result (None).
        bias_axes: the output letters of the bias, or None for no bias.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint, activity_regularizer: as in Dense.
        lora_rank, lora_alpha, gptq_unpacked_column_size, quantization_config: not supported
            (raise when set).
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs):
        # Keras lists gptq_unpacked_column_size in a config only once set; ferrograd refuses it.
        for arg, val in (("lora_rank", lora_rank), ("lora_alpha", lora_alpha),
                         ("gptq_unpacked_column_size", kwargs.pop("gptq_unpacked_column_size", None)),
                         ("quantization_config", quantization_config)):
            if val is not None:
                raise NotImplementedError(f"EinsumDense: `{arg}` is not supported by ferrograd. Received: "
                                          f"{arg}={val!r}")
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise ValueError(f"EinsumDense: equation must be a string. Received: equation={equation!r}")
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        kernel_shape, bias_shape, _, in_axes, out_axes = analyze_einsum(self.equation, self.bias_axes, input_shape,
                                                                        self.partial_output_shape)
        if any(d is None for d in kernel_shape) or (bias_shape is not None and any(d is None for d in bias_shape)):
            raise ValueError(f"{self.name}: the kernel shape {tuple(kernel_shape)} of equation {self.equation!r} "
                             f"needs known sizes; received input shape {tuple(input_shape)} and output_shape "
                             f"{self.partial_output_shape}")
        self._kernel = self.add_weight(tuple(kernel_shape),
                                       _fan_aware(self.kernel_initializer, kernel_shape, in_axes, out_axes),
                                       name="kernel", regularizer=self.kernel_regularizer,
                                       constraint=self.kernel_constraint)
        self.bias = (self.add_weight(tuple(bias_shape), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer, constraint=self.bias_constraint)
                     if bias_shape is not None else None)
        self._linear = _as_linear(self.equation, kernel_shape, bias_shape)
        self.built = True

    @property
    def kernel(self):
        return self._kernel

    def call(self, inputs, training=None):
        linear = getattr(self, "_linear", None)
        if linear is not None and type(inputs) is _Tensor and inputs.dtype in ("float32", "float64"):
            act = activations._core_activation(self.activation)
            if act is not False:
                # A plain product on the trailing axes: the fused dense op (bias and activation
                # in the product's epilogue) on (rows, k) @ (k, n) views.
                lead, k, n, out_tail = linear
                head = tuple(inputs.shape[:lead])
                x = inputs if inputs.ndim == lead + 1 else ops.reshape(inputs, head + (k,))
                w = self._kernel if self._kernel.ndim == 2 else ops.reshape(self._kernel, (k, n))
                b = None if self.bias is None else ops.reshape(self.bias, (n,))
                name, param = act or (None, None)
                y = _core.dense(x, w, b, name, param)
                return y if len(out_tail) == 1 else ops.reshape(y, head + out_tail)
        x = ops.einsum(self.equation, inputs, self._kernel)
        if self.bias is not None:
            x = x + self.bias
        if self.activation is not None:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(analyze_einsum(self.equation, self.bias_axes, input_shape, self.partial_output_shape)[2])

    def get_config(self):
        return {**super().get_config(), "output_shape": self.partial_output_shape, "equation": self.equation,
                "activation": activations.serialize(self.activation), "bias_axes": self.bias_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "quantization_config": None}
