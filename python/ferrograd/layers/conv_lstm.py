"""Convolutional LSTMs (Keras 3's ConvLSTM1D/2D/3D): an LSTM whose input and recurrent transforms
are convolutions, over sequences of 1-D, 2-D or 3-D feature maps.

Per step, with input ``x_t`` (N, *spatial, C) and states ``h, c`` (N, *spatial', F):
``z = conv(x_t, kernel, strides, padding, dilation) + bias + conv(h, recurrent_kernel, 1, "same")``
(kernel (*k, C, 4F), recurrent_kernel (*k, F, 4F), bias (4F,), gates i, f, c, o along the channels
in Keras' order), ``i, f, o = recurrent_activation(z_i, z_f, z_o)``, ``c' = f * c + i *
activation(z_c)``, ``h' = o * activation(c')``. The cell runs step by step on the tape (the
generic RNN loop: masks, ``go_backwards``, ``stateful``, dropout as Keras); each step is two
convolutions on the multithreaded kernels and a few element-wise ops. channels_first inputs are
transposed to channels_last around the cell.
"""
from __future__ import annotations

from .. import activations, constraints, initializers, ops, regularizers
from .conv import _tuple, conv_output_length, standardize_data_format, standardize_padding
from .recurrent import _CellBase
from .rnn import RNN


class ConvLSTMCell(_CellBase):
    """One step of a convolutional LSTM (see the module docs) on channels_last maps. The shared
    recurrent-cell arguments (activation, initializers, regularizers, constraints, dropout, seed)
    are handled as the dense cells' (``_CellBase``); ``units`` is ``filters``."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        super().__init__(filters, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.rank = rank
        self.filters = filters
        self.kernel_size = _tuple("kernel_size", kernel_size, rank)
        self.strides = _tuple("strides", strides, rank)
        self.dilation_rate = _tuple("dilation_rate", dilation_rate, rank)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [filters, filters]  # per-position channels of h and c (their maps: state_shape)
        self.state_shape = None  # (*spatial', F), set by the layer from the input it runs on

    def build(self, input_shape):  # (N, *spatial, C), channels_last
        c = input_shape[-1]
        if c is None:
            raise ValueError(f"{self.name}: the channel dimension of the inputs must be known, received shape "
                             f"{tuple(input_shape)}")
        f4 = 4 * self.filters
        self.kernel = self.add_weight(self.kernel_size + (c, f4), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(self.kernel_size + (self.filters, f4), self.recurrent_initializer,
                                                name="recurrent_kernel", regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                f, base = self.filters, self.bias_initializer

                def init(shape, dtype=None):
                    return ops.concatenate([base((f,), dtype=dtype), ops.ones((f,), dtype=dtype),
                                            base((2 * f,), dtype=dtype)])
            self.bias = self.add_weight((f4,), init, name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def call(self, inputs, states, training=False):
        h, c = states[0], states[1]  # (N, *spatial', F) each
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h = h * self.get_recurrent_dropout_mask(h)
        z = ops.conv(inputs, self.kernel, strides=self.strides, padding=self.padding,
                     dilation_rate=self.dilation_rate, bias=self.bias)  # (N, *spatial', 4F)
        z = z + ops.conv(h, self.recurrent_kernel, padding="same")
        zi, zf, zc, zo = ops.split(z, 4, axis=-1)
        i, f, o = self.recurrent_activation(zi), self.recurrent_activation(zf), self.recurrent_activation(zo)
        c_new = f * c + i * self.activation(zc)
        h_new = o * self.activation(c_new)
        return h_new, [h_new, c_new]

    def get_initial_state(self, batch_size=None):
        if self.state_shape is None or any(d is None for d in self.state_shape):
            raise ValueError(f"{self.name}: the spatial shape of the states is not known yet (the input's spatial "
                             "dimensions must be known when the layer runs or, with stateful=True, when it is built)")
        return [ops.zeros((batch_size,) + self.state_shape, dtype=self.dtype) for _ in range(2)]


class _ConvLSTM(RNN):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        for name in ("unroll", "zero_output_for_mask"):
            if kwargs.get(name):  # present (False) in Keras' configs; the ConvLSTM constructors take neither
                raise ValueError(f"{type(self).__name__} does not take `{name}`; received {name}={kwargs[name]!r}")
            kwargs.pop(name, None)
        cell = ConvLSTMCell(self.rank, filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
                            recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
                            bias_initializer, unit_forget_bias, kernel_regularizer, recurrent_regularizer,
                            bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                            recurrent_dropout, seed, name="conv_lstm_cell", dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, activity_regularizer=activity_regularizer,
                         **kwargs)

    # ---- shapes: (N, T, *spatial, C) channels_last, (N, T, C, *spatial) channels_first ----------
    def _check_rank(self, shape):
        if len(tuple(shape)) != self.rank + 3:
            layout = "*spatial, channels" if self._last else "channels, *spatial"
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                             f"ndim={self.rank + 3}, found ndim={len(tuple(shape))}. Full shape received: "
                             f"{tuple(shape)} (batch, time, {layout})")

    @property
    def _last(self):
        return self.cell.data_format == "channels_last"

    def _state_shape(self, shape):
        """(*spatial', F) channels_last, from the sequences' shape."""
        spatial = shape[2:-1] if self._last else shape[3:]
        cell = self.cell
        out = tuple(conv_output_length(spatial[i], cell.kernel_size[i], cell.padding, cell.strides[i],
                                       cell.dilation_rate[i]) for i in range(self.rank))
        return out + (cell.filters,)

    def _public(self, shape):
        """A channels_last map shape in the layer's data_format."""
        return shape if self._last else (shape[0], shape[-1]) + tuple(shape[1:-1])

    def compute_output_shape(self, sequences_shape):
        s = tuple(sequences_shape)
        self._check_rank(s)
        state = self._public((s[0],) + self._state_shape(s))
        out = (state[0], s[1]) + state[1:] if self.return_sequences else state
        return (out, state, state) if self.return_state else out

    def build(self, sequences_shape):
        s = tuple(sequences_shape)
        self._check_rank(s)
        self.cell.state_shape = self._state_shape(s)
        step = (s[0],) + (s[2:] if self._last else s[3:] + (s[2],))  # channels_last step shape
        if not self.cell.built:
            self.cell.build(step)
        super().build(s)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        sequences = ops.convert_to_tensor(sequences)
        self._check_rank(sequences.shape)
        self.cell.state_shape = self._state_shape(tuple(sequences.shape))
        if not self._last:  # (N, T, C, *spatial) -> (N, T, *spatial, C); states (N, F, *s) -> (N, *s, F)
            sequences = ops.transpose(sequences, (0, 1, *range(3, sequences.ndim), 2))
            if initial_state is not None:
                given = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
                initial_state = [ops.transpose(t, (0, *range(2, t.ndim), 1))
                                 for t in map(ops.convert_to_tensor, given)]
        out = super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        return out if self._last else self._to_first(out)

    def _to_first(self, out):
        if isinstance(out, (list, tuple)):
            return [self._to_first(o) for o in out]
        if out.ndim == self.rank + 3:  # a sequence (N, T, *spatial, F)
            return ops.transpose(out, (0, 1, out.ndim - 1, *range(2, out.ndim - 1)))
        return ops.transpose(out, (0, out.ndim - 1, *range(1, out.ndim - 1)))

    def _prepare_initial_state(self, initial_state, batch):
        if initial_state is None:
            return super()._prepare_initial_state(None, batch)
        given = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        want = (batch,) + self.cell.state_shape
        if len(given) != 2:
            raise ValueError(f"Layer '{self.name}' expects 2 initial state tensors (h and c). Received: {len(given)}")
        out = []
        for i, s in enumerate(given):
            s = ops.convert_to_tensor(s)
            if s.dtype != self.dtype and s.dtype.startswith("float"):
                s = ops.cast(s, self.dtype)
            if tuple(s.shape) != want:
                raise ValueError(f"Layer '{self.name}': initial state {i} must have shape "
                                 f"{self._public(want)}. Received: initial_state[{i}].shape={tuple(s.shape)}")
            out.append(s)
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        return [output_mask, None, None] if self.return_state else output_mask

    def get_config(self):
        c = self.cell
        cfg = super().get_config()
        cfg.pop("cell", None)
        cfg.update({
            "filters": c.filters, "kernel_size": c.kernel_size, "strides": c.strides, "padding": c.padding,
            "data_format": c.data_format, "dilation_rate": c.dilation_rate,
            "activation": activations.serialize(c.activation),
            "recurrent_activation": activations.serialize(c.recurrent_activation), "use_bias": c.use_bias,
            "kernel_initializer": initializers.serialize(c.kernel_initializer),
            "recurrent_initializer": initializers.serialize(c.recurrent_initializer),
            "bias_initializer": initializers.serialize(c.bias_initializer), "unit_forget_bias": c.unit_forget_bias,
            "kernel_regularizer": regularizers.serialize(c.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(c.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(c.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(c.kernel_constraint),
            "recurrent_constraint": constraints.serialize(c.recurrent_constraint),
            "bias_constraint": constraints.serialize(c.bias_constraint), "dropout": c.dropout,
            "recurrent_dropout": c.recurrent_dropout, "seed": c.seed})
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


_DOC_ARGS = """
    Args:
        filters: output channels F of the states and outputs.
        kernel_size, strides, padding ("valid", "same"), data_format, dilation_rate: the input
            convolution's (the recurrent one always runs stride 1, "same").
        activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, unit_forget_bias, the regularizers and constraints, dropout,
        recurrent_dropout, seed: as :class:`LSTM`.
        return_sequences, return_state, go_backwards, stateful: as :class:`RNN`.
"""


class ConvLSTM1D(_ConvLSTM):
    __doc__ = ("""A convolutional LSTM over sequences of 1-D maps: (N, T, L, C) -> (N, L', F) (or
    (N, T, L', F) with return_sequences). Kernel (k, C, 4F), recurrent kernel (k, F, 4F).

    Example: ``ConvLSTM1D(8, 3, padding="same", return_sequences=True)`` on (N, 10, 16, 2) gives
    (N, 10, 16, 8).
""" + _DOC_ARGS)
    rank = 1


class ConvLSTM2D(_ConvLSTM):
    __doc__ = ("""A convolutional LSTM over sequences of images: (N, T, H, W, C) -> (N, H', W', F) (or
    (N, T, H', W', F) with return_sequences). Kernel (kh, kw, C, 4F), recurrent kernel (kh, kw, F, 4F).

    Example (next-frame prediction): ``ConvLSTM2D(16, 3, padding="same", return_sequences=True)`` on
    (N, 10, 32, 32, 1) gives (N, 10, 32, 32, 16).
""" + _DOC_ARGS)
    rank = 2


class ConvLSTM3D(_ConvLSTM):
    __doc__ = ("""A convolutional LSTM over sequences of volumes: (N, T, D, H, W, C) -> (N, D', H', W', F).
    Kernel (kd, kh, kw, C, 4F), recurrent kernel (kd, kh, kw, F, 4F).
""" + _DOC_ARGS)
    rank = 3
