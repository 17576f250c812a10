"""The fused recurrence behind ``SimpleRNN``, ``LSTM`` and ``GRU``: one Rust op runs every time
step of a layer call, forward and backward (BPTT), instead of one tape node per step.

Not a Keras name: Keras has no public op for it. The layers call :func:`fused_rnn`; user-written
cells run step by step on the tape instead (see ``layers/rnn.py``).
"""
from __future__ import annotations

from . import _core
from ._tensor import Tensor

__all__ = ["fused_rnn", "FUSED_ACTIVATIONS", "GATES"]

#: Activations the fused kernel computes itself (others make the layer take the step-by-step path).
FUSED_ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear", "hard_sigmoid")
#: Gates per cell: the recurrent kernel of a cell with ``units`` u is (u, GATES[cell] * u).
GATES = {"simple": 1, "lstm": 4, "gru": 3}


def _t(x):
    return x if isinstance(x, Tensor) else _core.as_tensor(x)


def fused_rnn(cell, xw, recurrent_kernel, h0, c0=None, bias=None, recurrent_bias=None, mask=None,
              recurrent_masks=None, go_backwards=False, zero_output_for_mask=False, reset_after=True,
              activation="tanh", recurrent_activation="sigmoid"):
    """Runs a whole sequence through a Keras cell; returns ``Y`` of shape (B, T + S, u).

    ``Y[:, s]`` for s < T is the output of processing step s (time ``T - 1 - s`` when
    ``go_backwards``), ``Y[:, T]`` the final hidden state and, for LSTM, ``Y[:, T + 1]`` the final
    cell state. Slice it; the gradient of every slice flows back through the one recorded op.

    Args:
        cell: ``"simple"``, ``"lstm"`` (gates i, f, c, o) or ``"gru"`` (gates z, r, h).
        xw: (B, T, G*u) float, the input projection ``x @ kernel`` of every step (no bias).
        recurrent_kernel: (u, G*u).
        h0: (B, u) initial hidden state; ``c0``: (B, u) initial cell state (LSTM only).
        bias: None or (G*u,), added to ``xw`` at every step.
        recurrent_bias: None or (G*u,), added to ``h @ recurrent_kernel`` (GRU with
            ``reset_after=True`` only: its reset gate multiplies that sum).
        mask: None or bool (B, T), indexed by time. A masked step carries the states over and
            outputs the previous step's output (zeros before any valid step), as Keras does;
            with ``zero_output_for_mask`` it outputs zeros.
        recurrent_masks: None or float (G, B, u): recurrent dropout, gate g's recurrent product
            reads ``h * recurrent_masks[g]`` (Keras' implementation 1).
        reset_after: GRU only: reset gate after (Keras 3 default) or before the recurrent product.
        activation, recurrent_activation: names in :data:`FUSED_ACTIVATIONS`.
    """
    c0 = None if c0 is None else _t(c0)
    return _core.rnn_sequence(
        cell, _t(xw), _t(recurrent_kernel), _t(h0), c0,
        None if bias is None else _t(bias),
        None if recurrent_bias is None else _t(recurrent_bias),
        None if mask is None else _t(mask),
        None if recurrent_masks is None else _t(recurrent_masks),
        bool(go_backwards), bool(zero_output_for_mask), bool(reset_after), activation, recurrent_activation)
