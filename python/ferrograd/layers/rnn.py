"""The generic recurrent layer ``RNN(cell)``, ``StackedRNNCells`` and the dropout-mask policy the
built-in cells share (Keras 3 names, arguments, masks and configs).

``RNN`` runs any cell step by step with :mod:`ferrograd.ops` (one set of tape nodes per time
step, so gradients flow through time without a special op). ``SimpleRNN``/``LSTM``/``GRU``
(``recurrent.py``) replace that loop by one fused Rust op when their cell is the built-in one;
tests switch the fused path off with :func:`step_path` to compare the two.

Mask semantics (Keras 3, non-unrolled loop): a masked step keeps the states of the previous
step, and its output is the previous step's output (zeros before any valid step), or zeros with
``zero_output_for_mask=True``. ``go_backwards`` processes time T-1 first and returns the outputs
in processing order (reversed in time), as Keras does.
"""
from __future__ import annotations

import contextlib

from .. import ops
from .. import random as _random
from .._core import Tensor
from .layer import Layer

__all__ = ["RNN", "StackedRNNCells", "DropoutRNNCell", "step_path"]

#: When True, SimpleRNN/LSTM/GRU run the generic step-by-step loop instead of the fused op.
_FORCE_STEP_PATH = False


@contextlib.contextmanager
def step_path(enabled=True):
    """Within the block, built-in recurrent layers take the step-by-step path (tests compare it
    with the fused op)."""
    global _FORCE_STEP_PATH
    prev = _FORCE_STEP_PATH
    _FORCE_STEP_PATH = bool(enabled)
    try:
        yield
    finally:
        _FORCE_STEP_PATH = prev


# ---- nested state structures (a stacked cell's states are a list of per-cell lists) ---------------
def _is_nested(x):
    return isinstance(x, (list, tuple))


def _flatten(x):
    if _is_nested(x):
        return [leaf for v in x for leaf in _flatten(v)]
    return [x]


def _pack_like(structure, flat):
    """``flat`` (a list) shaped as ``structure``; returns (packed, items used)."""
    if _is_nested(structure):
        out, used = [], 0
        for s in structure:
            v, n = _pack_like(s, flat[used:])
            out.append(v)
            used += n
        return out, used
    return flat[0], 1


def _map2(fn, a, b):
    if _is_nested(a):
        return [_map2(fn, x, y) for x, y in zip(a, b)]
    return fn(a, b)


def _time_mask(m, like):
    """The (B,) mask of one step, shaped (B, 1, ..., 1) to broadcast against ``like``."""
    return ops.reshape(m, (m.shape[0],) + (1,) * (like.ndim - 1))


class DropoutRNNCell:
    """Dropout masks of a recurrent cell (mixed into the built-in cells, as Keras 3).

    A mask is drawn at the first step of a layer call and reused at every step of that call
    (the same units are dropped at all time steps); the RNN layer forgets it after the call.
    Cells with ``dropout_mask_count`` (LSTM/GRU with implementation 1) draw one mask per gate.
    The cell needs ``dropout``, ``recurrent_dropout`` and ``seed_generator``.
    """

    def _create_dropout_mask(self, step_input, rate):
        count = getattr(self, "dropout_mask_count", None)
        ones = ops.ones_like(step_input)
        if count is None:
            return _random.dropout(ones, rate, seed=self.seed_generator)
        return [_random.dropout(ones, rate, seed=self.seed_generator) for _ in range(count)]

    def get_dropout_mask(self, step_input):
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            self._dropout_mask = self._create_dropout_mask(step_input, self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input):
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._create_dropout_mask(step_input, self.recurrent_dropout)
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


def _reset_dropout_masks(cell):
    if isinstance(cell, DropoutRNNCell):
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
    if isinstance(cell, StackedRNNCells):
        for c in cell.cells:
            _reset_dropout_masks(c)


def _check_cell(cell, what):
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{what} should have a `call` method. Received: cell={cell}")
    if not hasattr(cell, "state_size"):
        raise ValueError("The RNN cell should have a `state_size` attribute (single integer or list of integers, "
                         f"one integer per RNN state). Received: cell={cell}")


def _cell_output_size(cell):
    out = getattr(cell, "output_size", None)
    if out is not None:
        return out
    s = cell.state_size
    return s[0] if _is_nested(s) else s


def _zeros_state(cell, batch_size, dtype):
    fn = getattr(cell, "get_initial_state", None)
    if fn is not None:
        return fn(batch_size=batch_size)
    sizes = cell.state_size
    if _is_nested(sizes):
        return [ops.zeros((batch_size, d), dtype=dtype) for d in sizes]
    return ops.zeros((batch_size, sizes), dtype=dtype)


class StackedRNNCells(Layer):
    """Several cells as one: at each step, cell k reads cell k-1's output; the states are the
    per-cell states in order (a list per cell). ``RNN([cell_a, cell_b])`` builds one.

    Example::

        cells = [layers.LSTMCell(16), layers.GRUCell(8)]
        y = layers.RNN(layers.StackedRNNCells(cells))(x)   # (B, 8)

    Args:
        cells: a list of cells (each with ``call(inputs, states)`` and ``state_size``).
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        if not _is_nested(cells) or not cells:
            raise ValueError(f"Argument `cells` must be a non-empty list of RNN cells. Received: cells={cells!r}")
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(f"All cells must have a `call` method. Received cell without a `call` method: {cell}")
            if not hasattr(cell, "state_size"):
                raise ValueError(f"All cells must have a `state_size` attribute. Received cell without a "
                                 f"`state_size`: {cell}")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return _cell_output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        return [_zeros_state(c, batch_size, self.dtype) for c in self.cells]

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
            input_shape = (input_shape[0], _cell_output_size(cell))
        self.built = True

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            is_list = _is_nested(cell_states)
            cell_states = list(cell_states) if is_list else [cell_states]
            call = cell if callable(cell) else cell.call
            inputs, cell_states = call(inputs, cell_states, training=training)
            if not _is_nested(cell_states):
                cell_states = [cell_states]
            if len(cell_states) == 1 and not is_list:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        return inputs, new_states

    def get_config(self):
        from .functions import serialize

        return {**super().get_config(), "cells": [serialize(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .functions import deserialize

        config = dict(config)
        cells = [deserialize(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


class RNN(Layer):
    """Runs a cell over the time axis: ``(output_t, states_t) = cell(x_t, states_{t-1})``.

    The cell is any layer (or object) with ``call(inputs, states)`` returning ``(output,
    new_states)`` and a ``state_size`` (an int, or a list with one int per state); a list of cells
    is stacked (:class:`StackedRNNCells`). The loop runs with :mod:`ferrograd.ops` on the tape,
    step by step, so any cell trains.

    Example::

        class MinimalRNNCell(keras.Layer):
            def __init__(self, units, **kwargs):
                super().__init__(**kwargs)
                self.units = self.state_size = units
            def build(self, input_shape):
                self.kernel = self.add_weight((input_shape[-1], self.units), name="kernel")
                self.recurrent_kernel = self.add_weight((self.units, self.units), name="recurrent_kernel")
            def call(self, inputs, states):
                h = ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
                return h, [h]

        y = layers.RNN(MinimalRNNCell(32))(x)        # x (B, T, 5) -> (B, 32)

    Args:
        cell: a cell or a list of cells.
        return_sequences: return every step's output (B, T, out) instead of the last (B, out).
        return_state: also return the final states (``output, *states``).
        go_backwards: process time backwards; the outputs come in processing order (reversed).
        stateful: the final states of a batch are the initial states of the next batch (needs
            a fixed batch size: ``keras.Input(shape, batch_size=...)``); ``reset_state()``
            sets them to zeros.
        unroll: accepted for Keras compatibility; the loop is the same either way.
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    Call arguments: ``sequences`` (B, T, ...), ``initial_state`` (a list of (B, size) tensors,
    one per state), ``mask`` (B, T) bool (True = valid step), ``training``.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        if _is_nested(cell):
            cell = StackedRNNCells(cell)
        _check_cell(cell, "Argument `cell`")
        super().__init__(**kwargs)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.supports_masking = True
        self.states = None
        self._expected_batch_size = None
        state_size = cell.state_size
        if not isinstance(state_size, (list, tuple, int)) or isinstance(state_size, bool):
            raise ValueError("state_size must be an integer, or a list/tuple of integers (one for each state tensor). "
                             f"Received: state_size={state_size!r}")
        self.single_state = isinstance(state_size, int)
        self.state_size = [state_size] if self.single_state else list(state_size)

    # ---- shapes --------------------------------------------------------------------------------
    _exact_ndim = False  # generic cells may read (batch, time, ...); SimpleRNN/LSTM/GRU need exactly 3

    def _check_rank(self, shape):
        shape = tuple(shape)
        if len(shape) != 3 if self._exact_ndim else len(shape) < 3:
            want = "ndim=3" if self._exact_ndim else "min_ndim=3"
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected {want}, found "
                             f"ndim={len(shape)}. Full shape received: {shape} (a recurrent layer reads "
                             "(batch, time, features))")

    def compute_output_shape(self, sequences_shape):
        self._check_rank(sequences_shape)
        batch, length = sequences_shape[0], sequences_shape[1]
        states_shape = []
        for size in self.state_size:
            if _is_nested(size):
                states_shape.append([(batch, s) for s in size])
            else:
                states_shape.append((batch, size))
        out = _cell_output_size(self.cell)
        if not isinstance(out, int):
            raise ValueError(f"output_size must be an integer. Received: output_size={out!r}")
        output_shape = (batch, length, out) if self.return_sequences else (batch, out)
        if self.return_state:
            return (output_shape, *states_shape)
        return output_shape

    def compute_mask(self, inputs, mask=None):
        if _is_nested(mask):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in _flatten(self.state_size)]
        return output_mask

    # ---- build, states ---------------------------------------------------------------------------
    def _check_single_input(self, inputs):
        if isinstance(inputs, (list, tuple)) and inputs and not isinstance(inputs[0], (int, type(None))):
            raise ValueError(f"Layer '{self.name}' takes one tensor of shape (batch, time, features); nested inputs "
                             f"are not supported. Received: a {type(inputs).__name__} of {len(inputs)} inputs")

    def build(self, sequences_shape):
        self._check_single_input(sequences_shape)
        sequences_shape = tuple(sequences_shape)
        self._check_rank(sequences_shape)
        step_shape = (sequences_shape[0],) + sequences_shape[2:]
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step_shape)
            self.cell.built = True
        if self.stateful:
            if self.states is not None:
                self.reset_state()
            else:
                if sequences_shape[0] is None:
                    raise ValueError("When using `stateful=True` in a RNN, the batch size must be static. Found "
                                     f"dynamic batch size: sequence.shape={sequences_shape}. Give the input a fixed "
                                     "batch size, e.g. keras.Input(shape, batch_size=32)")
                self._expected_batch_size = int(sequences_shape[0])
                self.states = self._detach(self.get_initial_state(self._expected_batch_size))
        self.built = True

    def get_initial_state(self, batch_size):
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is None:
            return [ops.zeros((batch_size, d), dtype=self.dtype) for d in self.state_size]
        init = fn(batch_size=batch_size)
        return list(init) if _is_nested(init) else [init]

    @staticmethod
    def _detach(states):
        if _is_nested(states):
            return [RNN._detach(s) for s in states]
        return states.detach() if isinstance(states, Tensor) else states

    def reset_state(self):
        """Sets the states of a stateful layer back to zeros."""
        if self.states is not None:
            self.states = self._detach(_map2(lambda s, _: ops.zeros_like(s), self.states, self.states))

    def reset_states(self):
        """Alias of :meth:`reset_state` (Keras 2 name)."""
        self.reset_state()

    # ---- call --------------------------------------------------------------------------------------
    def _prepare_initial_state(self, initial_state, batch):
        """The initial states as the cell's structure, checked against the state sizes."""
        if initial_state is None:
            if self.stateful:
                if self.states is None:  # a subclass whose build() did not create them: zeros of this batch
                    self._expected_batch_size = batch
                    self.states = self._detach(self.get_initial_state(batch))
                return self.states
            return self.get_initial_state(batch)
        given = list(initial_state) if _is_nested(initial_state) else [initial_state]
        sizes = self.state_size
        flat_sizes = _flatten(sizes)
        flat = [ops.convert_to_tensor(s) for s in _flatten(given)]
        if len(flat) != len(flat_sizes):
            raise ValueError(f"Layer '{self.name}' expects {len(flat_sizes)} initial state tensor(s) (one per state of "
                             f"its cell, sizes {flat_sizes}). Received: {len(flat)} initial state tensor(s)")
        for i, (s, size) in enumerate(zip(flat, flat_sizes)):
            if s.dtype != self.dtype and s.dtype.startswith("float"):
                flat[i] = s = ops.cast(s, self.dtype)
            if isinstance(size, int) and (s.ndim != 2 or s.shape[0] != batch or s.shape[1] != size):
                raise ValueError(f"Layer '{self.name}': initial state {i} must have shape ({batch}, {size}) (batch "
                                 f"size, state size). Received: initial_state[{i}].shape={tuple(s.shape)}")
        structure = self.get_initial_state(batch) if len(given) != len(sizes) or any(map(_is_nested, sizes)) else None
        if structure is None:
            return flat
        return _pack_like(structure, flat)[0]

    def _prepare_mask(self, mask, sequences):
        if _is_nested(mask):
            mask = mask[0] if mask else None
        if mask is None:
            return None
        mask = ops.convert_to_tensor(mask)
        b, t = sequences.shape[0], sequences.shape[1]
        if mask.ndim == 3 and mask.shape[-1] == 1:
            mask = ops.squeeze(mask, -1)
        if mask.ndim != 2 or mask.shape[0] != b or mask.shape[1] != t:
            raise ValueError(f"Layer '{self.name}': the mask must have shape (batch, timesteps) = ({b}, {t}), True for "
                             f"the steps to use. Received: mask.shape={tuple(mask.shape)}")
        return mask if mask.dtype == "bool" else ops.cast(mask, "bool")

    def call(self, sequences, initial_state=None, mask=None, training=False):
        self._check_single_input(sequences)
        sequences = ops.convert_to_tensor(sequences)
        self._check_rank(sequences.shape)
        batch, timesteps = sequences.shape[0], sequences.shape[1]
        if timesteps == 0:
            raise ValueError(f"Layer '{self.name}' received a sequence of 0 time steps: shape {tuple(sequences.shape)}")
        if self.stateful and self._expected_batch_size is not None and batch != self._expected_batch_size:
            raise ValueError("If an RNN is stateful, the batch size of the input sequences must be the same as the "
                             f"batch size of the initial state. \n- Expected batch size: {self._expected_batch_size}\n"
                             f"- Received batch size: {batch}")
        states = self._prepare_initial_state(initial_state, batch)
        mask = self._prepare_mask(mask, sequences)
        try:
            last_output, outputs, states = self.inner_loop(sequences, states, mask, training=training)
        finally:
            _reset_dropout_masks(self.cell)
        if self.stateful:
            self.states = self._detach(states)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return (output, *states)
        return output

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """The step-by-step loop: returns (last output (B, out), outputs (B, T, out) or None when
        not returning sequences, final states (the cell's structure))."""
        cell = self.cell
        steps = range(sequences.shape[1] - 1, -1, -1) if self.go_backwards else range(sequences.shape[1])
        states = list(initial_state)
        prev, outputs = None, []
        call = cell if callable(cell) else cell.call
        for t in steps:
            out, new_states = call(sequences[:, t], states, training=training)  # (B, out)
            if not _is_nested(new_states):
                new_states = [new_states]
            if mask is not None:
                m = mask[:, t]  # (B,)
                fill = prev if prev is not None and not self.zero_output_for_mask else ops.zeros_like(out)
                out = ops.where(_time_mask(m, out), out, fill)
                new_states = _map2(lambda new, old, m=m: ops.where(_time_mask(m, new), new, old), list(new_states),
                                   states)
            states = list(new_states)
            prev = out
            if self.return_sequences:
                outputs.append(out)
        seq = ops.stack(outputs, axis=1) if self.return_sequences else None  # (B, T, out)
        return prev, seq, states

    # ---- config ----------------------------------------------------------------------------------
    def get_config(self):
        from .functions import serialize

        cfg = {**super().get_config(), "return_sequences": self.return_sequences, "return_state": self.return_state,
               "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
               "zero_output_for_mask": self.zero_output_for_mask}
        cfg["cell"] = serialize(self.cell)
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .functions import deserialize

        config = dict(config)
        cell = deserialize(config.pop("cell"), custom_objects)
        return cls(cell, **config)

