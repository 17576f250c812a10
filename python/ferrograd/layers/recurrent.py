"""The built-in recurrent cells and layers: ``SimpleRNNCell``/``SimpleRNN``, ``LSTMCell``/``LSTM``
and ``GRUCell``/``GRU`` (Keras 3 names, arguments, weights, formulas and configs).

Each cell's ``call(inputs, states, training)`` is Keras' step, written with :mod:`ferrograd.ops`
(the generic ``RNN`` loop runs it). The layers run the same math as one fused Rust op per call
(:func:`ferrograd._ops_rnn.fused_rnn`, forward and backward through time) when the cell is the
built-in one and its activations are ones the kernel computes; otherwise (a custom activation, a
subclassed cell, ``use_cudnn=False``, or inside :func:`ferrograd.layers.rnn.step_path`) they take
the generic loop. Both paths give the same values and gradients.

Weights (per cell, in this order, as Keras): ``kernel`` (d, G*u), ``recurrent_kernel`` (u, G*u),
``bias`` (G*u,) -- (2, 3u) for GRU with ``reset_after=True`` (input and recurrent biases) -- with
G = 1 (SimpleRNN), 4 (LSTM gates i, f, c, o) or 3 (GRU gates z, r, h).

Dropout (training only): ``dropout`` masks the inputs, ``recurrent_dropout`` the previous state;
one mask per layer call, shared by all time steps. ``recurrent_dropout > 0`` switches LSTM/GRU
to Keras' implementation 1 (one mask per gate).
"""
from __future__ import annotations

import numbers

from .. import _core, _ops_rnn, activations, constraints, initializers, ops, regularizers
from .. import random as _random
from . import rnn as _rnn
from .layer import Layer
from .rnn import RNN, DropoutRNNCell

__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell", "SimpleRNN", "LSTM", "GRU"]


def _check_units(units):
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
        raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got {units}.")
    return int(units)


def _rate(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Argument `{name}` must be a float between 0 and 1. Received: {name}={value!r}")
    return min(1.0, max(0.0, float(value)))  # Keras clips the rate into [0, 1]


def _check_implementation(value):
    if value not in (1, 2):
        raise ValueError(f"Argument `implementation` must be 1 or 2. Received: implementation={value!r}")
    return value


def _fused_activation(fn):
    """The name of ``fn`` among the activations the fused kernel computes, else None."""
    for name in _ops_rnn.FUSED_ACTIVATIONS:
        if fn is getattr(activations, name, None):
            return name
    return None


class _CellBase(Layer, DropoutRNNCell):
    """What the three cells share: argument checks, weights, initial state and config."""

    _gates = 1

    def __init__(self, units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                 kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint,
                 bias_constraint, dropout, recurrent_dropout, seed, **kwargs):
        units = _check_units(units)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate("dropout", dropout)
        self.recurrent_dropout = _rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = _random.SeedGenerator(seed)

    def _build_weights(self, input_shape, bias_shape, bias_initializer):
        if input_shape[-1] is None:
            raise ValueError(f"{self.name}: the last dimension of the inputs (features) must be known, got "
                             f"{tuple(input_shape)}")
        g = self._gates * self.units
        self.kernel = self.add_weight((input_shape[-1], g), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, g), self.recurrent_initializer, name="recurrent_kernel",
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = (self.add_weight(bias_shape, bias_initializer, name="bias", regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint) if self.use_bias else None)
        self.built = True

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, d), dtype=self.dtype) for d in
                (self.state_size if isinstance(self.state_size, list) else [self.state_size])]

    def _weights_config(self):
        return {"kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class SimpleRNNCell(_CellBase):
    """One step of a fully connected RNN: ``h = activation(x @ kernel + bias + h_prev @ recurrent_kernel)``;
    the output is ``h``.

    Example: ``layers.RNN(layers.SimpleRNNCell(16))(x)`` with x (B, T, 8) gives (B, 16).

    Args:
        units: the state and output size (positive int).
        activation: default tanh (None: linear).
        use_bias: whether to add ``bias`` (u,).
        kernel_initializer, recurrent_initializer, bias_initializer: glorot_uniform, orthogonal, zeros.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: weight penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: projections after each update.
        dropout: fraction of the inputs dropped (training only; one mask for all steps).
        recurrent_dropout: fraction of the previous state dropped (training only).
        seed: seed of the dropout masks.
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._build_weights(input_shape, (self.units,), self.bias_initializer)

    def call(self, sequence, states, training=False):
        prev = states[0] if isinstance(states, (list, tuple)) else states  # (B, u)
        if training and self.dropout > 0:
            sequence = sequence * self.get_dropout_mask(sequence)
        h = ops.matmul(sequence, self.kernel)  # (B, u)
        if self.bias is not None:
            h = h + self.bias
        if training and self.recurrent_dropout > 0:
            prev = prev * self.get_recurrent_dropout_mask(prev)
        output = self.activation(h + ops.matmul(prev, self.recurrent_kernel))  # (B, u)
        return output, ([output] if isinstance(states, (list, tuple)) else output)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias, **self._weights_config(), "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


class LSTMCell(_CellBase):
    """One step of a long short-term memory cell (gates i, f, c, o in this order)::

        z = x @ kernel + h_prev @ recurrent_kernel + bias        # (B, 4u)
        i, f, o = recurrent_activation(z_i), recurrent_activation(z_f), recurrent_activation(z_o)
        c = f * c_prev + i * activation(z_c)
        h = o * activation(c)                                    # output; states [h, c]

    Example: ``layers.RNN(layers.LSTMCell(16))(x)`` with x (B, T, 8) gives (B, 16).

    Args:
        units: the state and output size (positive int).
        activation: default tanh; recurrent_activation: default sigmoid (None: linear).
        use_bias: whether to add ``bias`` (4u,).
        unit_forget_bias: initialize the forget gate's bias to 1 (the others with bias_initializer).
        kernel_initializer, recurrent_initializer, bias_initializer: glorot_uniform, orthogonal, zeros.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: weight penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: projections after each update.
        dropout, recurrent_dropout: fractions of the inputs / previous state dropped (training only).
        seed: seed of the dropout masks.
    """

    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        implementation = _check_implementation(kwargs.pop("implementation", 2))
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        # Keras: recurrent dropout needs the per-gate formulation (one mask per gate)
        self.implementation = 1 if self.recurrent_dropout != 0.0 else implementation
        if self.implementation == 1:
            self.dropout_mask_count = 4
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def build(self, input_shape):
        u, init = self.units, self.bias_initializer
        if self.use_bias and self.unit_forget_bias:
            def bias_init(shape, dtype=None):
                parts = [init((u,), dtype), ops.ones((u,), dtype=dtype or "float32"), init((2 * u,), dtype)]
                return ops.concatenate([ops.convert_to_tensor(p) for p in parts], axis=0)  # (4u,): i, f=1, c, o
        else:
            bias_init = init
        self._build_weights(input_shape, (4 * u,), bias_init)

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states[0], states[1]  # (B, u) each
        u = self.units
        if self.implementation == 1:
            dp = self.get_dropout_mask(inputs) if training and 0.0 < self.dropout < 1.0 else None
            xs = [inputs * dp[g] if dp is not None else inputs for g in range(4)]
            x = [ops.matmul(xs[g], self.kernel[:, g * u:(g + 1) * u]) for g in range(4)]  # 4 x (B, u)
            if self.bias is not None:
                x = [x[g] + self.bias[g * u:(g + 1) * u] for g in range(4)]
            rdp = (self.get_recurrent_dropout_mask(h_prev) if training and 0.0 < self.recurrent_dropout < 1.0
                   else None)
            hs = [h_prev * rdp[g] if rdp is not None else h_prev for g in range(4)]
            z = [x[g] + ops.matmul(hs[g], self.recurrent_kernel[:, g * u:(g + 1) * u]) for g in range(4)]
        else:
            if training and 0.0 < self.dropout < 1.0:
                inputs = inputs * self.get_dropout_mask(inputs)
            zz = ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel)  # (B, 4u)
            if self.bias is not None:
                zz = zz + self.bias
            z = ops.split(zz, 4, axis=1)
        i = self.recurrent_activation(z[0])
        f = self.recurrent_activation(z[1])
        c = f * c_prev + i * self.activation(z[2])
        o = self.recurrent_activation(z[3])
        h = o * self.activation(c)  # (B, u)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation), "use_bias": self.use_bias,
                "unit_forget_bias": self.unit_forget_bias, **self._weights_config(), "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


class GRUCell(_CellBase):
    """One step of a gated recurrent unit (gates z, r, h in this order)::

        z = recurrent_activation(x_z + h_prev @ U_z)      r = recurrent_activation(x_r + h_prev @ U_r)
        reset_after=True  (Keras 3 default): hh = activation(x_h + r * (h_prev @ U_h + b_rec_h))
        reset_after=False:                   hh = activation(x_h + (r * h_prev) @ U_h)
        h = z * h_prev + (1 - z) * hh                    # output and state

    with ``x_g = x @ kernel_g + b_g``. With ``reset_after=True`` the bias is (2, 3u): row 0 is added
    to the input projection, row 1 to the recurrent one (before the reset gate multiplies it).

    Example: ``layers.RNN(layers.GRUCell(16))(x)`` with x (B, T, 8) gives (B, 16).

    Args:
        units: the state and output size (positive int).
        activation: default tanh; recurrent_activation: default sigmoid (None: linear).
        use_bias: whether to add biases.
        kernel_initializer, recurrent_initializer, bias_initializer: glorot_uniform, orthogonal, zeros.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: weight penalties.
        kernel_constraint, recurrent_constraint, bias_constraint: projections after each update.
        dropout, recurrent_dropout: fractions of the inputs / previous state dropped (training only).
        reset_after: apply the reset gate after the recurrent product (True) or before it.
        seed: seed of the dropout masks.
    """

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        implementation = _check_implementation(kwargs.pop("implementation", 2))
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.implementation = 1 if self.recurrent_dropout != 0.0 else implementation
        if self.implementation == 1:
            self.dropout_mask_count = 3
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._build_weights(input_shape, shape, self.bias_initializer)

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        h_prev = states[0] if nested else states  # (B, u)
        u = self.units
        in_bias = rec_bias = None
        if self.bias is not None:
            in_bias, rec_bias = (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)
        rk = self.recurrent_kernel
        if self.implementation == 1:
            dp = self.get_dropout_mask(inputs) if training and 0.0 < self.dropout < 1.0 else None
            x = [ops.matmul(inputs * dp[g] if dp is not None else inputs, self.kernel[:, g * u:(g + 1) * u])
                 for g in range(3)]  # 3 x (B, u)
            if in_bias is not None:
                x = [x[g] + in_bias[g * u:(g + 1) * u] for g in range(3)]
            rdp = (self.get_recurrent_dropout_mask(h_prev) if training and 0.0 < self.recurrent_dropout < 1.0
                   else None)
            hs = [h_prev * rdp[g] if rdp is not None else h_prev for g in range(3)]
            rec_z = ops.matmul(hs[0], rk[:, :u])
            rec_r = ops.matmul(hs[1], rk[:, u:2 * u])
            if self.reset_after and rec_bias is not None:
                rec_z = rec_z + rec_bias[:u]
                rec_r = rec_r + rec_bias[u:2 * u]
            z = self.recurrent_activation(x[0] + rec_z)
            r = self.recurrent_activation(x[1] + rec_r)
            if self.reset_after:
                rec_h = ops.matmul(hs[2], rk[:, 2 * u:])
                if rec_bias is not None:
                    rec_h = rec_h + rec_bias[2 * u:]
                rec_h = r * rec_h
            else:
                rec_h = ops.matmul(r * hs[2], rk[:, 2 * u:])
            hh = self.activation(x[2] + rec_h)
        else:
            if training and 0.0 < self.dropout < 1.0:
                inputs = inputs * self.get_dropout_mask(inputs)
            mx = ops.matmul(inputs, self.kernel)  # (B, 3u)
            if in_bias is not None:
                mx = mx + in_bias
            x_z, x_r, x_h = mx[:, :u], mx[:, u:2 * u], mx[:, 2 * u:]
            if self.reset_after:
                inner = ops.matmul(h_prev, rk)  # (B, 3u)
                if rec_bias is not None:
                    inner = inner + rec_bias
            else:
                inner = ops.matmul(h_prev, rk[:, :2 * u])  # (B, 2u)
            z = self.recurrent_activation(x_z + inner[:, :u])
            r = self.recurrent_activation(x_r + inner[:, u:2 * u])
            rec_h = r * inner[:, 2 * u:] if self.reset_after else ops.matmul(r * h_prev, rk[:, 2 * u:])
            hh = self.activation(x_h + rec_h)
        h = z * h_prev + (1 - z) * hh  # (B, u)
        return h, ([h] if nested else h)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation), "use_bias": self.use_bias,
                **self._weights_config(), "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "reset_after": self.reset_after, "seed": self.seed}


# ---- the layers ----------------------------------------------------------------------------------------
def _from_cell(name):
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's ``{name}``.")


class _BuiltinRNN(RNN):
    """An RNN over a built-in cell: exact rank 3, the fused op when possible, flat configs."""

    _exact_ndim = True
    _kind = "simple"
    _cell_class = SimpleRNNCell
    _cell_args = ()

    def __init__(self, cell, return_sequences, return_state, go_backwards, stateful, unroll, use_cudnn,
                 activity_regularizer, **kwargs):
        if use_cudnn not in ("auto", True, False):
            raise ValueError("Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, False}. "
                             f"Received: use_cudnn={use_cudnn}")
        zero_output_for_mask = kwargs.pop("zero_output_for_mask", False)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, activity_regularizer=activity_regularizer, **kwargs)
        self.use_cudnn = use_cudnn

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def _fusable(self, sequences):
        """Whether this call can run as one fused op."""
        cell = self.cell
        if _rnn._FORCE_STEP_PATH or self.use_cudnn is False or not hasattr(_core, "rnn_sequence"):
            return False
        if type(cell) is not self._cell_class or sequences.dtype != "float32":
            return False
        rec = getattr(cell, "recurrent_activation", activations.sigmoid)
        return _fused_activation(cell.activation) is not None and _fused_activation(rec) is not None

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if sequences.shape[-1] != self.cell.kernel.shape[0]:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected axis -1 of "
                             f"input shape to have value {self.cell.kernel.shape[0]}, but received input with shape "
                             f"{tuple(sequences.shape)}")
        if not self._fusable(sequences):
            if self.use_cudnn is True:
                raise ValueError("use_cudnn=True was specified, but the fused recurrent kernel does not support this "
                                 "layer configuration (an activation it does not compute, a subclassed cell, or the "
                                 "kernel missing from this build). Pass use_cudnn='auto' to fall back to the "
                                 "step-by-step loop.")
            return super().inner_loop(sequences, initial_state, mask, training=training)
        return self._fused_loop(sequences, initial_state, mask, training)

    def _fused_loop(self, sequences, initial_state, mask, training):
        cell, kind = self.cell, self._kind
        u, steps = cell.units, sequences.shape[1]
        kernel = cell.kernel  # (d, G*u)
        simple = kind == "simple"
        # dropout exactly where the cell's step applies it (SimpleRNN: any rate > 0; LSTM/GRU: 0 < rate < 1)
        use_dp = training and (cell.dropout > 0 if simple else 0.0 < cell.dropout < 1.0)
        use_rdp = training and (cell.recurrent_dropout > 0 if simple else 0.0 < cell.recurrent_dropout < 1.0)
        if use_dp:
            dp = cell.get_dropout_mask(sequences[:, 0])  # (B, d), or one per gate (implementation 1)
            if isinstance(dp, list):
                xw = ops.concatenate([ops.matmul(sequences * ops.expand_dims(m, 1), kernel[:, g * u:(g + 1) * u])
                                      for g, m in enumerate(dp)], axis=-1)  # (B, T, G*u)
            else:
                xw = ops.matmul(sequences * ops.expand_dims(dp, 1), kernel)  # (B, T, G*u)
        else:
            xw = ops.matmul(sequences, kernel)  # (B, T, G*u)
        h0 = initial_state[0]  # (B, u)
        c0 = initial_state[1] if kind == "lstm" else None
        rec_masks = None
        if use_rdp:
            rm = cell.get_recurrent_dropout_mask(h0)
            rec_masks = ops.stack(rm if isinstance(rm, list) else [rm], axis=0)  # (G, B, u)
        bias = rec_bias = None
        reset_after = bool(getattr(cell, "reset_after", True))
        if cell.bias is not None:
            if kind == "gru" and reset_after:
                bias, rec_bias = cell.bias[0], cell.bias[1]  # (3u,) each
            else:
                bias = cell.bias  # (G*u,)
        rec_act = getattr(cell, "recurrent_activation", activations.sigmoid)
        y = _ops_rnn.fused_rnn(kind, xw, cell.recurrent_kernel, h0, c0=c0, bias=bias, recurrent_bias=rec_bias,
                               mask=mask, recurrent_masks=rec_masks, go_backwards=self.go_backwards,
                               zero_output_for_mask=self.zero_output_for_mask, reset_after=reset_after,
                               activation=_fused_activation(cell.activation),
                               recurrent_activation=_fused_activation(rec_act))  # (B, T + S, u)
        outputs = y[:, :steps] if self.return_sequences else None  # (B, T, u)
        states = [y[:, steps]] + ([y[:, steps + 1]] if kind == "lstm" else [])
        return y[:, steps - 1], outputs, states

    def get_config(self):
        cfg = super().get_config()
        del cfg["cell"]
        cell_cfg = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell_cfg.pop(k)
        cfg.update({k: cell_cfg[k] for k in self._cell_args})
        cfg["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        cfg["seed"] = self.cell.seed
        cfg["use_cudnn"] = self.use_cudnn
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


_COMMON = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
           "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
           "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")


class SimpleRNN(_BuiltinRNN):
    """A fully connected RNN whose output is fed back: ``h_t = activation(x_t @ kernel + h_{t-1} @
    recurrent_kernel + bias)`` over the time axis (see :class:`SimpleRNNCell`).

    Example::

        x = keras.Input((None, 8))                        # (B, T, 8)
        y = layers.SimpleRNN(16)(x)                       # (B, 16): the last output
        seq, h = layers.SimpleRNN(16, return_sequences=True, return_state=True)(x)  # (B, T, 16), (B, 16)

    Args:
        units, activation, use_bias, initializers, regularizers, constraints, dropout,
        recurrent_dropout, seed: as :class:`SimpleRNNCell`.
        activity_regularizer: penalty on the outputs.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask: as
            :class:`RNN`.
        use_cudnn: "auto" (the fused kernel when it applies), True (require it) or False (the
            step-by-step loop).
    """

    _kind = "simple"
    _cell_class = SimpleRNNCell
    _cell_args = _COMMON

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 seed=None, use_cudnn="auto", **kwargs):
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                             dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                             dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True), name="simple_rnn_cell")
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll, use_cudnn,
                         activity_regularizer, **kwargs)


class LSTM(_BuiltinRNN):
    """Long short-term memory (Hochreiter 1997) over the time axis (see :class:`LSTMCell`); the
    states are ``[h, c]``.

    Example::

        x = keras.Input((None, 8))                                   # (B, T, 8)
        y = layers.LSTM(16)(x)                                       # (B, 16)
        seq, h, c = layers.LSTM(16, return_sequences=True, return_state=True)(x)

    Args:
        units, activation, recurrent_activation, use_bias, unit_forget_bias, initializers,
        regularizers, constraints, dropout, recurrent_dropout, seed: as :class:`LSTMCell`.
        activity_regularizer: penalty on the outputs.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask: as
            :class:`RNN`.
        use_cudnn: "auto" (the fused kernel when it applies), True (require it) or False (the
            step-by-step loop).
    """

    _kind = "lstm"
    _cell_class = LSTMCell
    _cell_args = _COMMON[:2] + ("recurrent_activation",) + _COMMON[2:] + ("unit_forget_bias",)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, use_cudnn="auto", **kwargs):
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                        kernel_initializer=kernel_initializer, unit_forget_bias=unit_forget_bias,
                        recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                        kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                        bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                        recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
                        recurrent_dropout=recurrent_dropout, dtype=kwargs.get("dtype"),
                        trainable=kwargs.get("trainable", True), name="lstm_cell", seed=seed,
                        implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll, use_cudnn,
                         activity_regularizer, **kwargs)


class GRU(_BuiltinRNN):
    """Gated recurrent unit (Cho et al. 2014) over the time axis (see :class:`GRUCell`).

    Example::

        x = keras.Input((None, 8))                                   # (B, T, 8)
        y = layers.GRU(16)(x)                                        # (B, 16)
        seq, h = layers.GRU(16, return_sequences=True, return_state=True)(x)

    Args:
        units, activation, recurrent_activation, use_bias, initializers, regularizers,
        constraints, dropout, recurrent_dropout, reset_after, seed: as :class:`GRUCell`.
        activity_regularizer: penalty on the outputs.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask: as
            :class:`RNN`.
        use_cudnn: "auto" (the fused kernel when it applies), True (require it) or False (the
            step-by-step loop).
    """

    _kind = "gru"
    _cell_class = GRUCell
    _cell_args = _COMMON[:2] + ("recurrent_activation",) + _COMMON[2:] + ("reset_after",)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=True, use_cudnn="auto", **kwargs):
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                       kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                       bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                       recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                       kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                       bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                       reset_after=reset_after, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                       name="gru_cell", seed=seed, implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll, use_cudnn,
                         activity_regularizer, **kwargs)


for _cls in (SimpleRNN, LSTM, GRU):
    for _name in _cls._cell_args:
        setattr(_cls, _name, _from_cell(_name))
del _cls, _name
