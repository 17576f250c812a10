"""Layer wrappers for sequences: ``Bidirectional`` (an RNN run both ways, outputs merged) and
``TimeDistributed`` (a layer applied to every time step), with Keras 3 names, configs and masks."""
from __future__ import annotations

from .. import ops
from ..symbolic import KerasTensor
from .layer import Layer
from .rnn import _flatten

__all__ = ["Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy_layer(layer, **changes):
    """A fresh layer from ``layer``'s config (no weights, no state), with ``changes`` applied."""
    cfg = dict(layer.get_config())
    cfg.update(changes)
    return type(layer).from_config(cfg)


def _removeprefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


class Wrapper(Layer):
    """Base class of layers that wrap another layer (``TimeDistributed``, ``Bidirectional``), as
    Keras' ``keras.layers.Wrapper``: holds ``layer``, builds it on the wrapper's input shape
    unless a subclass builds it otherwise, and saves it in the config under ``"layer"``.

    Example::

        class Twice(keras.layers.Wrapper):
            def call(self, x):
                return self.layer(self.layer(x))

    Args:
        layer: the layer to wrap.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure wrapped "
                             "layer is a valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self):
        from .functions import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .functions import deserialize

        config = dict(config)
        layer = deserialize(config.pop("layer"), custom_objects)
        return cls(layer, **config)


class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and a copy of it backwards over the time axis and merges the
    two outputs.

    The forward layer is a fresh copy of ``layer`` named ``forward_<name>``; the backward one is a
    copy with ``go_backwards=True`` named ``backward_<name>`` (or ``backward_layer``). With
    ``return_sequences`` the backward outputs are flipped back into time order before merging,
    and both copies output zeros at masked steps (``zero_output_for_mask`` is set to
    ``return_sequences``, as Keras does).

    Example::

        x = keras.Input((None, 8))                                           # (B, T, 8)
        y = layers.Bidirectional(layers.LSTM(16, return_sequences=True))(x)  # (B, T, 32)

    Args:
        layer: a recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN``...).
        merge_mode: "concat" (default), "sum", "mul", "ave", or None (the two outputs unmerged,
            as a tuple).
        weights: initial weights: the forward layer's followed by the backward layer's
            (applied when the layer is built).
        backward_layer: the layer to run backwards (default: a copy of ``layer``); it must have
            ``go_backwards`` opposite to ``layer`` and the same ``stateful``,
            ``return_sequences`` and ``return_state``.

    With ``return_state`` the call returns ``(output, *forward_states, *backward_states)``.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: "
                             f"{layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}")
        for which, lyr in (("layer", layer), ("backward_layer", backward_layer)):
            if lyr is not None and not hasattr(lyr, "go_backwards"):
                raise ValueError(f"Bidirectional: `{which}` must be a recurrent layer (one with `go_backwards`, such "
                                 f"as LSTM or GRU). Received: {which}={lyr}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        # Not Wrapper.__init__: the wrapped layer is never run itself, only its two copies below.
        Layer.__init__(self, **kwargs)
        self.forward_layer = _copy_layer(layer, name=f"forward_{_removeprefix(layer.name, 'forward_')}")
        if backward_layer is None:
            self.backward_layer = _copy_layer(layer, go_backwards=True,
                                              name=f"backward_{_removeprefix(layer.name, 'backward_')}")
        else:
            self.backward_layer = backward_layer
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = list(weights) if weights else None
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True

    def _verify_layer_config(self):
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError("Forward layer and backward layer should have different `go_backwards` value. Received: "
                             f"forward_layer.go_backwards {fwd.go_backwards}, backward_layer.go_backwards="
                             f"{bwd.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            f, b = getattr(fwd, attr), getattr(bwd, attr)
            if f != b:
                raise ValueError(f'Forward layer and backward layer are expected to have the same value for attribute '
                                 f'"{attr}", got "{f}" for forward layer and "{b}" for backward layer')

    def _n_states(self):
        if not self.return_state:
            return 0
        return len(_flatten(getattr(self.forward_layer, "state_size", [])))

    def build(self, sequences_shape):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(tuple(sequences_shape))
                sub.built = True
        if self._initial_weights is not None:
            n = len(self._initial_weights)
            self.forward_layer.set_weights(self._initial_weights[:n // 2])
            self.backward_layer.set_weights(self._initial_weights[n // 2:])
            self._initial_weights = None
        self.built = True

    def compute_output_shape(self, sequences_shape):
        output_shape = self.forward_layer.compute_output_shape(tuple(sequences_shape))
        state_shape = ()
        if self.return_state:
            output_shape, state_shape = output_shape[0], tuple(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = tuple(output_shape[:-1]) + (None if output_shape[-1] is None else output_shape[-1] * 2,)
        elif self.merge_mode is None:
            output_shape = [tuple(output_shape), tuple(output_shape)]
        if self.return_state:
            if self.merge_mode is None:
                return tuple(output_shape) + state_shape + state_shape
            return (tuple(output_shape),) + state_shape + state_shape
        return tuple(output_shape)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {}
        if training is not None:
            kwargs["training"] = training
        if mask is not None:
            kwargs["mask"] = mask
        fwd_kwargs, bwd_kwargs = dict(kwargs), dict(kwargs)
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) % 2:
                raise ValueError(f"Layer '{self.name}': `initial_state` must list the forward layer's states followed "
                                 f"by the backward layer's (an even count). Received: {len(states)} initial state "
                                 "tensor(s)")
            half = len(states) // 2
            fwd_kwargs["initial_state"], bwd_kwargs["initial_state"] = states[:half], states[half:]
        y = self.forward_layer(sequences, **fwd_kwargs)
        y_rev = self.backward_layer(sequences, **bwd_kwargs)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)  # back into time order
        if self.merge_mode == "concat":
            output = ops.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            return (output + states) if self.merge_mode is None else ((output,) + states)
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if self.return_sequences:
            output_mask = [mask, mask] if self.merge_mode is None else [mask]
        else:
            output_mask = [None, None] if self.merge_mode is None else [None]
        if self.return_state:
            return output_mask + [None] * (2 * self._n_states())
        return output_mask if self.merge_mode is None else output_mask[0]

    @property
    def states(self):
        f, b = getattr(self.forward_layer, "states", None), getattr(self.backward_layer, "states", None)
        if f and b:
            return tuple(f) + tuple(b)
        return None

    def reset_state(self):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        """Alias of :meth:`reset_state`."""
        self.reset_state()

    def get_config(self):
        from .functions import serialize

        return {**Layer.get_config(self), "merge_mode": self.merge_mode, "layer": serialize(self.forward_layer),
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .functions import deserialize

        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = deserialize(backward, custom_objects)
        return cls(**config)


class TimeDistributed(Wrapper):
    """Applies ``layer`` to every time step: (B, T, ...) -> (B, T, ...'), with the same weights at
    every step. The time axis is folded into the batch axis, so the layer runs once on (B*T, ...).

    Example::

        x = keras.Input((10, 16))                          # (B, 10, 16)
        y = layers.TimeDistributed(layers.Dense(8))(x)     # (B, 10, 8)

    Args:
        layer: the layer to apply (it sees inputs of shape (batch, ...) without the time axis).

    The incoming (B, T) mask is passed through to the output (and, folded to (B*T,), to the
    wrapped layer when its ``call`` takes a mask).
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    @staticmethod
    def _child_input_shape(input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                             f"received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        child = self._child_input_shape(tuple(input_shape))
        if not self.layer.built:
            self.layer.build(child)
            self.layer.built = True
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        child = self._child_input_shape(input_shape)
        if type(self.layer).compute_output_shape is not Layer.compute_output_shape:
            out = tuple(self.layer.compute_output_shape(child))
        else:
            out = tuple(self.layer.compute_output_spec(KerasTensor(child, self.layer.dtype)).shape)
        return (out[0], input_shape[1], *out[1:])

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        self._child_input_shape(shape)
        if mask is not None:
            mshape = tuple(mask.shape)
            if len(mshape) < 2:
                raise ValueError("The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                                 f"`(batch_size, timesteps)`), but it has {len(mshape)} dimension(s) with shape "
                                 f"{mshape}.")
            if mshape[0] != shape[0] or mshape[1] != shape[1]:
                raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a shape {mshape} that is "
                                 f"incompatible with the input shape {shape}. The first two dimensions of the mask "
                                 "(batch size and timesteps) must match the input's first two dimensions. Expected "
                                 f"mask shape prefix: ({shape[0]}, {shape[1]}).")
        b, t = shape[0], shape[1]
        folded = ops.reshape(inputs, (b * t,) + shape[2:])  # (B*T, ...)
        kwargs = {}
        if training is not None:
            kwargs["training"] = training
        if mask is not None and self.layer._call_spec.has_mask:
            kwargs["mask"] = ops.reshape(mask, (b * t,) + tuple(mask.shape[2:]))
        y = self.layer(folded, **kwargs)  # (B*T, ...')
        if not hasattr(y, "shape"):
            raise ValueError(f"TimeDistributed: the wrapped layer {self.layer.name!r} must return one tensor; it "
                             f"returned {type(y).__name__}")
        return ops.reshape(y, (b, t) + tuple(y.shape[1:]))  # (B, T, ...')
