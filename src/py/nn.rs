//! Bindings for the convolution, pooling, up-sampling, normalization, attention, recurrent and
//! decoder-step ops. `python/ferrograd/ops.py` wraps
//! them with keras.ops signatures (argument normalisation and defaults happen there; the core
//! validates again and names what it received).

use super::errors::guard;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::ops::{self, ConvArgs, ConvTransposeArgs, Padding, PoolKind};
use crate::tensor::Tensor;

use super::convert::to_tensor;
use super::tensor::{run, PyTensor};

/// Convolution (1-D for rank-3 inputs, 2-D for rank 4), with an optional fused bias;
/// `depthwise` reads the kernel as (..., in_channels, multiplier).
#[pyfunction]
#[pyo3(signature = (x, kernel, bias, strides, padding, dilation_rate, depthwise=false))]
#[allow(clippy::too_many_arguments)] // mirrors the Python call one to one
fn conv(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kernel: &Bound<'_, PyAny>,
    bias: Option<&Bound<'_, PyAny>>,
    strides: Vec<usize>,
    padding: &str,
    dilation_rate: Vec<usize>,
    depthwise: bool,
) -> PyResult<PyTensor> {
    guard("conv", || {
        let op = if depthwise { "depthwise_conv" } else { "conv" };
        let x = to_tensor(x, None)?;
        let w = to_tensor(kernel, None)?;
        let b = bias.map(|b| to_tensor(b, None)).transpose()?;
        let args = ConvArgs {
            strides,
            padding: Padding::parse(op, padding)?,
            dilation: dilation_rate,
        };
        let work = x.numel().saturating_mul(w.numel());
        let y = run(py, work, || {
            if depthwise {
                ops::depthwise_conv(&x, &w, b.as_ref(), &args)
            } else {
                ops::conv(&x, &w, b.as_ref(), &args)
            }
        })?;
        Ok(PyTensor::wrap(y))
    })
}

/// Transposed 2-D convolution; kernel (kh, kw, out_channels, in_channels).
#[pyfunction]
#[pyo3(signature = (x, kernel, strides, padding, output_padding, dilation_rate))]
fn conv_transpose(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kernel: &Bound<'_, PyAny>,
    strides: Vec<usize>,
    padding: &str,
    output_padding: Option<Vec<usize>>,
    dilation_rate: Vec<usize>,
) -> PyResult<PyTensor> {
    guard("conv_transpose", || {
        let x = to_tensor(x, None)?;
        let w = to_tensor(kernel, None)?;
        let args = ConvTransposeArgs {
            strides,
            padding: Padding::parse("conv_transpose", padding)?,
            output_padding,
            dilation: dilation_rate,
        };
        let work = x.numel().saturating_mul(w.numel());
        let y = run(py, work, || ops::conv2d_transpose(&x, &w, &args))?;
        Ok(PyTensor::wrap(y))
    })
}

/// `(output length, leading padding of the adjoint conv)` of one transposed-conv axis, by the rule
/// of the 2-D kernel (the 3-D transposed conv's depth axis uses it).
#[pyfunction]
#[pyo3(signature = (length, kernel_size, stride, dilation, padding, output_padding=None))]
fn conv_transpose_axis(
    length: usize,
    kernel_size: usize,
    stride: usize,
    dilation: usize,
    padding: &str,
    output_padding: Option<usize>,
) -> PyResult<(usize, usize)> {
    guard("conv_transpose", || {
        let pad = Padding::parse("conv_transpose", padding)?;
        Ok(ops::conv_transpose_axis(
            "conv_transpose",
            length,
            kernel_size,
            stride,
            dilation,
            pad,
            output_padding,
        )?)
    })
}

/// Max ("max") or average ("average") pooling, 1-D or 2-D by the input's rank.
#[pyfunction]
fn pool(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kind: &str,
    pool_size: Vec<usize>,
    strides: Vec<usize>,
    padding: &str,
) -> PyResult<PyTensor> {
    guard("pool", || {
        let kind = match kind {
            "max" => PoolKind::Max,
            "average" => PoolKind::Average,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "pool kind must be 'max' or 'average', got '{kind}'"
                )))
            }
        };
        let x = to_tensor(x, None)?;
        let pad = Padding::parse("pool", padding)?;
        let work = x.numel().saturating_mul(pool_size.iter().product());
        let y = run(py, work, || ops::pool(&x, kind, &pool_size, &strides, pad))?;
        Ok(PyTensor::wrap(y))
    })
}

/// Up-sampling of an NHWC image by integer factors, "nearest" or "bilinear".
#[pyfunction]
fn upsample(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    size: (usize, usize),
    interpolation: &str,
) -> PyResult<PyTensor> {
    guard("upsample", || {
        let x = to_tensor(x, None)?;
        let f = [size.0, size.1];
        let work = x.numel().saturating_mul(size.0.saturating_mul(size.1));
        let y = match interpolation {
            "nearest" => run(py, work, || ops::upsample_nearest(&x, f))?,
            "bilinear" => run(py, work, || ops::upsample_bilinear(&x, f))?,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "interpolation must be 'nearest' or 'bilinear', got '{interpolation}'"
                )))
            }
        };
        Ok(PyTensor::wrap(y))
    })
}

/// Training-mode batch normalization over every axis but the last, fused: returns
/// `(y, batch_mean, batch_var)` (biased variance; the statistics carry no gradient).
#[pyfunction]
fn batch_norm_train(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    gamma: &Bound<'_, PyAny>,
    beta: &Bound<'_, PyAny>,
    epsilon: f64,
) -> PyResult<(PyTensor, PyTensor, PyTensor)> {
    guard("batch_norm_train", || {
        let x = to_tensor(x, None)?;
        let gamma = to_tensor(gamma, None)?;
        let beta = to_tensor(beta, None)?;
        let work = x.numel();
        let (y, mean, var) = run(py, work, || {
            ops::batch_norm_train(&x, &gamma, &beta, epsilon)
        })?;
        Ok((PyTensor::wrap(y), PyTensor::wrap(mean), PyTensor::wrap(var)))
    })
}

/// Fused scaled dot-product attention, keras.ops layout: query (B, T, N, H), key/value
/// (B, S, K, H) with K dividing N; bias (float) and mask (bool, True = attend) broadcastable
/// to (B, N, T, S). `dropout_rate` > 0 drops attention weights (training), the mask keyed by
/// `seed` (else by the global generator).
#[pyfunction]
#[pyo3(signature = (query, key, value, bias=None, mask=None, scale=None, is_causal=false, dropout_rate=0.0, seed=None))]
#[allow(clippy::too_many_arguments)] // mirrors the Python call one to one
fn dot_product_attention(
    py: Python<'_>,
    query: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
    bias: Option<&Bound<'_, PyAny>>,
    mask: Option<&Bound<'_, PyAny>>,
    scale: Option<f64>,
    is_causal: bool,
    dropout_rate: f64,
    seed: Option<u64>,
) -> PyResult<PyTensor> {
    guard("dot_product_attention", || {
        let q = to_tensor(query, None)?;
        let k = to_tensor(key, None)?;
        let v = to_tensor(value, None)?;
        let bias = bias.map(|b| to_tensor(b, None)).transpose()?;
        let mask = mask.map(|m| to_tensor(m, None)).transpose()?;
        let work = q
            .numel()
            .saturating_mul(k.shape().get(1).copied().unwrap_or(1));
        let y = run(py, work, || {
            ops::dot_product_attention(
                &q,
                &k,
                &v,
                bias.as_ref(),
                mask.as_ref(),
                scale,
                is_causal,
                dropout_rate,
                seed,
            )
        })?;
        Ok(PyTensor::wrap(y))
    })
}

/// Fused layer normalization over the last axis (`rms=True`: RMS normalization, no centering);
/// gamma and beta of shape (c,) are optional.
#[pyfunction]
#[pyo3(signature = (x, gamma=None, beta=None, epsilon=1e-3, rms=false))]
fn layer_norm(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    gamma: Option<&Bound<'_, PyAny>>,
    beta: Option<&Bound<'_, PyAny>>,
    epsilon: f64,
    rms: bool,
) -> PyResult<PyTensor> {
    guard("layer_norm", || {
        let x = to_tensor(x, None)?;
        let gamma = gamma.map(|g| to_tensor(g, None)).transpose()?;
        let beta = beta.map(|b| to_tensor(b, None)).transpose()?;
        let work = x.numel();
        let y = run(py, work, || {
            ops::layer_norm(&x, gamma.as_ref(), beta.as_ref(), epsilon, rms)
        })?;
        Ok(PyTensor::wrap(y))
    })
}

/// `activation(x @ kernel + bias)` in one op (the Dense layer): x (..., k), kernel (k, n), bias
/// (n,) or None; `activation` is a unary op's name (with its parameter `param`, e.g. the slope of
/// leaky_relu), None for the identity.
#[pyfunction]
#[pyo3(signature = (x, kernel, bias=None, activation=None, param=None))]
fn dense(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    kernel: &Bound<'_, PyAny>,
    bias: Option<&Bound<'_, PyAny>>,
    activation: Option<&str>,
    param: Option<f64>,
) -> PyResult<PyTensor> {
    guard("dense", || {
        let act = activation
            .map(|a| super::functions::unary_op(a, param, None))
            .transpose()?;
        let x = to_tensor(x, None)?;
        let w = to_tensor(kernel, None)?;
        let b = bias.map(|b| to_tensor(b, None)).transpose()?;
        let work = x
            .numel()
            .saturating_mul(w.shape().last().copied().unwrap_or(1));
        let y = run(py, work, || ops::dense(&x, &w, b.as_ref(), act))?;
        Ok(PyTensor::wrap(y))
    })
}

/// The fused recurrence of SimpleRNN/LSTM/GRU over a whole sequence (see
/// `python/ferrograd/_ops_rnn.py` for the arguments); returns Y (B, T + S, units).
#[pyfunction]
#[pyo3(signature = (cell, xw, recurrent_kernel, h0, c0, bias, recurrent_bias, mask, recurrent_masks, go_backwards, zero_output_for_mask, reset_after, activation, recurrent_activation))]
#[allow(clippy::too_many_arguments)] // mirrors the Python call one to one
fn rnn_sequence(
    py: Python<'_>,
    cell: &str,
    xw: &Bound<'_, PyAny>,
    recurrent_kernel: &Bound<'_, PyAny>,
    h0: &Bound<'_, PyAny>,
    c0: Option<&Bound<'_, PyAny>>,
    bias: Option<&Bound<'_, PyAny>>,
    recurrent_bias: Option<&Bound<'_, PyAny>>,
    mask: Option<&Bound<'_, PyAny>>,
    recurrent_masks: Option<&Bound<'_, PyAny>>,
    go_backwards: bool,
    zero_output_for_mask: bool,
    reset_after: bool,
    activation: &str,
    recurrent_activation: &str,
) -> PyResult<PyTensor> {
    guard("rnn_sequence", || {
        let conv = |x: Option<&Bound<'_, PyAny>>| x.map(|x| to_tensor(x, None)).transpose();
        let xw = to_tensor(xw, None)?;
        let rk = to_tensor(recurrent_kernel, None)?;
        let h0 = to_tensor(h0, None)?;
        let (c0, bias, rb, mask, rm) = (
            conv(c0)?,
            conv(bias)?,
            conv(recurrent_bias)?,
            conv(mask)?,
            conv(recurrent_masks)?,
        );
        let cfg = ops::RnnConfig {
            cell,
            reset_after,
            activation,
            recurrent_activation,
            go_backwards,
            zero_output_for_mask,
        };
        let work = xw
            .numel()
            .saturating_mul(rk.shape().first().copied().unwrap_or(1));
        let y = run(py, work, || {
            let opt = ops::RnnInputs {
                c0: c0.as_ref(),
                bias: bias.as_ref(),
                rec_bias: rb.as_ref(),
                mask: mask.as_ref(),
                rec_masks: rm.as_ref(),
            };
            ops::rnn_sequence(&xw, &rk, &h0, &opt, &cfg)
        })?;
        Ok(PyTensor::wrap(y))
    })
}

/// One inference step of a transformer decoder block against its key/value cache (written in
/// place); `weights` holds 16 entries, None where a block has no such weight: attention norm
/// gamma and beta, query/key/value/output kernels each followed by its bias, feed-forward norm
/// gamma and beta, intermediate and output kernels each followed by its bias.
#[pyfunction]
#[pyo3(signature = (x, cache, index, weights, activation, normalize_first, epsilon))]
#[allow(clippy::too_many_arguments)] // mirrors the Python call one to one
fn decoder_block_step(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    cache: &Bound<'_, PyAny>,
    index: usize,
    weights: Vec<Option<Bound<'_, PyAny>>>,
    activation: Option<&str>,
    normalize_first: bool,
    epsilon: f64,
) -> PyResult<PyTensor> {
    guard("decoder_block_step", || {
        if weights.len() != 16 {
            return Err(PyValueError::new_err(format!(
                "decoder_block_step: expected 16 weight entries (None where absent), got {}",
                weights.len()
            )));
        }
        let x = to_tensor(x, None)?;
        let cache = to_tensor(cache, None)?;
        let w = weights
            .iter()
            .map(|o| o.as_ref().map(|t| to_tensor(t, None)).transpose())
            .collect::<PyResult<Vec<Option<Tensor>>>>()?;
        let need = |i: usize, what: &str| {
            w[i].as_ref().ok_or_else(|| {
                PyValueError::new_err(format!("decoder_block_step: the {what} kernel is required"))
            })
        };
        let dense = |i: usize, what: &str| -> PyResult<ops::Dense<'_>> {
            Ok(ops::Dense {
                kernel: need(i, what)?,
                bias: w[i + 1].as_ref(),
            })
        };
        let activation = activation
            .map(|a| super::functions::unary_op(a, None, None))
            .transpose()?;
        let block = ops::DecoderBlock {
            attention_norm: ops::Norm {
                gamma: w[0].as_ref(),
                beta: w[1].as_ref(),
            },
            query: dense(2, "query")?,
            key: dense(4, "key")?,
            value: dense(6, "value")?,
            output: dense(8, "attention output")?,
            feedforward_norm: ops::Norm {
                gamma: w[10].as_ref(),
                beta: w[11].as_ref(),
            },
            intermediate: dense(12, "intermediate")?,
            feedforward_output: dense(14, "feedforward output")?,
            activation,
            normalize_first,
            epsilon,
        };
        let work = x
            .numel()
            .saturating_mul(x.shape().last().copied().unwrap_or(1));
        let y = run(py, work, || {
            ops::decoder_block_step(&x, &cache, index, &block)
        })?;
        Ok(PyTensor::wrap(y))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rnn_sequence, m)?)?;
    m.add_function(wrap_pyfunction!(decoder_block_step, m)?)?;
    m.add_function(wrap_pyfunction!(layer_norm, m)?)?;
    m.add_function(wrap_pyfunction!(dense, m)?)?;
    m.add_function(wrap_pyfunction!(dot_product_attention, m)?)?;
    m.add_function(wrap_pyfunction!(batch_norm_train, m)?)?;
    m.add_function(wrap_pyfunction!(conv, m)?)?;
    m.add_function(wrap_pyfunction!(conv_transpose, m)?)?;
    m.add_function(wrap_pyfunction!(conv_transpose_axis, m)?)?;
    m.add_function(wrap_pyfunction!(pool, m)?)?;
    m.add_function(wrap_pyfunction!(upsample, m)?)?;
    Ok(())
}
