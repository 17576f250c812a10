"""3-D convolution, transposed convolution and pooling (channels_last (N, D, H, W, C)), composed
from the 2-D kernels along the depth axis.

A 3-D convolution is a sum over the kernel's depth taps of 2-D convolutions:
``y[:, o] = sum_i conv2d(x[:, o*sd + i*dd], kernel[i])``. Tap i reads the depth slices
``i*dd, i*dd + sd, ...`` of the (depth-padded) input: one strided view, which folds into the batch
axis, so each tap is a single 2-D convolution of batch ``N * D_out`` on the multithreaded kernel,
and the taps add up. The transposed convolution runs each tap's 2-D transposed convolution on all
input depths at once and sums the results into their output depths (``index_add``); its depth
geometry (length and leading padding) comes from the same rule as the 2-D kernel's height and
width. Pooling is separable: a 2-D pool over (H, W), then a pool over depth, written as a 2-D
pool with a (pd, 1) window over (D, H*W); maxima of maxima and averages of per-axis averages
(each divided by its count of real elements) are the 3-D results. Every step is a differentiable
core op, so gradients need no code of their own.
"""
from __future__ import annotations

from . import _core


def _same_pad(length, k_eff, stride):
    """(output length, pad before, pad after) of "same" padding (TF: the extra on the far side)."""
    out = -(-length // stride)
    total = max((out - 1) * stride + k_eff - length, 0)
    return out, total // 2, total - total // 2


def _depth_geometry(op, length, k, stride, dilation, padding):
    k_eff = (k - 1) * dilation + 1
    if padding == "same":
        return _same_pad(length, k_eff, stride)
    if length < k_eff:
        raise ValueError(f"{op}: the input's depth ({length}) is smaller than the kernel's effective depth "
                         f"({k_eff} = (kernel_size - 1) * dilation_rate + 1) with padding='valid'")
    return (length - k_eff) // stride + 1, 0, 0


def _pad_depth(x, before, after):
    if before == 0 and after == 0:
        return x
    return _core.pad(x, [(0, 0), (before, after), (0, 0), (0, 0), (0, 0)], "constant", 0.0)


def conv3d(x, kernel, bias, strides, padding, dilation):
    """x (N, D, H, W, C), kernel (kd, kh, kw, C / groups, F) -> (N, D', H', W', F)."""
    n, d, h, w, c = x.shape
    kd = kernel.shape[0]
    (sd, sh, sw), (dd, dh, dw) = strides, dilation
    od, before, after = _depth_geometry("conv", d, kd, sd, dd, padding)
    xp = _pad_depth(x, before, after)  # (N, D + before + after, H, W, C)
    total = None
    for i in range(kd):
        lo = i * dd
        taps = xp[:, lo:lo + (od - 1) * sd + 1:sd] if od > 0 else xp[:, :0]  # (N, D', H, W, C)
        y = _core.conv(_core.reshape(taps, (n * od, h, w, c)), kernel[i], None, (sh, sw), padding, (dh, dw), False)
        total = y if total is None else total + y  # (N * D', H', W', F)
    y = _core.reshape(total, (n, od) + tuple(total.shape[1:]))
    return y if bias is None else y + bias


def conv3d_transpose(x, kernel, strides, padding, output_padding, dilation):
    """x (N, D, H, W, C), kernel (kd, kh, kw, F, C) -> (N, D', H', W', F) (Keras' output lengths)."""
    n, d, h, w, c = x.shape
    kd = kernel.shape[0]
    (sd, sh, sw), (dd, dh, dw) = strides, dilation
    op_pad = output_padding or (None, None, None)
    od, lead = _core.conv_transpose_axis(d, kd, sd, dd, padding, op_pad[0])
    hw_pad = None if output_padding is None else tuple(output_padding[1:])
    x2 = _core.reshape(x, (n * d, h, w, c))
    # Tap i of input depth j lands on depth j*sd + i*dd of the uncropped output.
    parts = [_core.conv_transpose(x2, kernel[i], (sh, sw), padding, hw_pad, (dh, dw)) for i in range(kd)]
    oh, ow, f = parts[0].shape[1:]
    z = _core.reshape(_core.concatenate(parts, 0) if kd > 1 else parts[0], (kd * n, d, oh, ow, f))
    z = _core.reshape(_core.transpose(_core.reshape(z, (kd, n, d, oh, ow, f)), (1, 0, 2, 3, 4, 5)),
                      (n, kd * d, oh, ow, f))  # (N, kd * D, H', W', F), tap-major
    full = max((d - 1) * sd + (kd - 1) * dd + 1, lead + od)
    where = [i * dd + j * sd for i in range(kd) for j in range(d)]
    y = _core.index_add(z, _core.as_tensor(where, "int64"), full, 1)  # (N, full, H', W', F)
    return y[:, lead:lead + od]


def pool3d(x, kind, pool_size, strides, padding):
    """Max or average pooling of (N, D, H, W, C) over (pd, ph, pw) windows."""
    n, d, h, w, c = x.shape
    (pd, ph, pw), (sd, sh, sw) = pool_size, strides
    y = _core.pool(_core.reshape(x, (n * d, h, w, c)), kind, (ph, pw), (sh, sw), padding)  # (N*D, H', W', C)
    oh, ow = y.shape[1], y.shape[2]
    y = _core.pool(_core.reshape(y, (n, d, oh * ow, c)), kind, (pd, 1), (sd, 1), padding)  # (N, D', H'*W', C)
    return _core.reshape(y, (n, y.shape[1], oh, ow, c))
