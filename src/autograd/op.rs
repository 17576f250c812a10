//! The recorded ops: each variant carries what its backward rule needs beyond the inputs.

use crate::dtype::DType;
use crate::kernels::binary::BinaryOp;
use crate::kernels::conv::ConvGeom;
use crate::kernels::pool::PoolGeom;
use crate::kernels::unary::UnaryOp;

/// How a view's index space maps back to its input's: output axis `j` reads input axis
/// `dims[j] = Some((axis, step))`, or is a new size-1 axis (`None`); output index 0 sits at input
/// index `base`. Slices, integer indexing, `None`, flips and split pieces are all such views.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewMap {
    pub base: Vec<usize>,
    pub dims: Vec<Option<(usize, isize)>>,
}

/// A backward rule supplied from outside the crate (`ops.custom_gradient` in Python): given the
/// output gradient, one optional gradient per input. It runs under `no_grad` like every rule.
pub trait CustomBackward: Send + Sync + std::fmt::Debug {
    fn backward(
        &self,
        g: &crate::tensor::Tensor,
        n_inputs: usize,
    ) -> crate::error::Result<Vec<Option<crate::tensor::Tensor>>>;
}

#[derive(Clone, Debug)]
pub enum Op {
    Unary(UnaryOp),
    Binary(BinaryOp),
    /// inputs: [cond, a, b]
    Where,
    Cast {
        from: DType,
    },
    Copy,
    Sum {
        axes: Vec<usize>,
        keepdims: bool,
    },
    /// saved: [output]
    MaxMin {
        axes: Vec<usize>,
        keepdims: bool,
    },
    /// saved: [output]
    Prod {
        axes: Vec<usize>,
        keepdims: bool,
    },
    /// saved: [output]
    Softmax {
        axis: usize,
    },
    /// saved: [output]
    LogSoftmax {
        axis: usize,
    },
    /// inputs: [x] (the last axis), saved: [y]
    Cumprod,
    Cumsum {
        axis: usize,
    },
    /// A DFT over axis -2 of a [..., n, 2] tensor
    Fft {
        inverse: bool,
    },
    Reshape,
    Permute {
        perm: Vec<usize>,
    },
    BroadcastTo,
    View(ViewMap),
    /// inputs: the pieces
    Concat {
        axis: usize,
    },
    /// constant padding: the gradient is the interior slice
    Pad {
        before: Vec<usize>,
    },
    /// inputs: [x, indices]
    Take {
        axis: usize,
    },
    /// inputs: [x, indices]
    TakeAlongAxis {
        axis: usize,
    },
    /// inputs: [values, indices (1-D int64)]: the transpose of `Take`
    IndexAdd {
        axis: usize,
    },
    /// inputs: [values (rows, ...), ids (rows,) int64, -1 for dropped rows]; saved: [out]
    SegmentReduce {
        kind: crate::ops::SegmentKind,
        segments: usize,
    },
    /// inputs: [a, b], both at least 2-D
    MatMul,
    /// `act(x @ w + b)`: inputs [x, w] or [x, w, b]; saved: see `DenseSpec`
    Dense(crate::ops::DenseSpec),
    /// inputs: [x, w] or [x, w, b], contiguous, one float dtype
    Conv2d {
        geom: ConvGeom,
    },
    /// inputs: [x, w]; `geom` is the adjoint conv's (from this op's output back to x)
    Conv2dTranspose {
        geom: ConvGeom,
    },
    /// inputs: [x]; saved: [argmax indices (int64, output-shaped)]
    MaxPool2d {
        geom: PoolGeom,
    },
    /// inputs: [x]
    AvgPool2d {
        geom: PoolGeom,
    },
    /// inputs: [logits, labels or targets]; saved: [softmax probabilities]
    SoftmaxXent {
        sparse: bool,
    },
    /// inputs: [x, gamma, beta]; saved: [batch mean, 1 / sqrt(var + eps)] (f64, per channel)
    BatchNorm,
    /// inputs: [q, k, v] then the bias and the mask when given (all as the kernel read them);
    /// saved: [output, log-sum-exp per row (B, N, T)]
    Attention(crate::ops::AttentionSpec),
    /// inputs: [x] then gamma and beta when given; saved: [per-row (mean, rstd), f64 (m, 2)]
    LayerNorm(crate::ops::LayerNormSpec),
    /// inputs: [xw, recurrent kernel, h0] then c0, bias, recurrent bias, mask and recurrent
    /// masks when present; saved: [gates, previous states] then the cell states (LSTM) or the
    /// GRU buffer (see `kernels/rnn.rs`)
    Rnn(crate::kernels::rnn::RnnSpec),
    /// inputs: [a] or [a, b]; saved: [the (packed) result] where the rule uses it
    Linalg(crate::ops::LinalgOp),
    /// inputs: the function's tensor arguments; the rule is the user's
    Custom(std::sync::Arc<dyn CustomBackward>),
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Where => "where",
            Op::Cast { .. } => "cast",
            Op::Copy => "copy",
            Op::Sum { .. } => "sum",
            Op::MaxMin { .. } => "max/min",
            Op::Prod { .. } => "prod",
            Op::Softmax { .. } => "softmax",
            Op::LogSoftmax { .. } => "log_softmax",
            Op::Cumsum { .. } => "cumsum",
            Op::Fft { .. } => "fft",
            Op::Cumprod => "cumprod",
            Op::Reshape => "reshape",
            Op::Permute { .. } => "transpose",
            Op::BroadcastTo => "broadcast_to",
            Op::View(_) => "view",
            Op::Concat { .. } => "concatenate",
            Op::Pad { .. } => "pad",
            Op::Take { .. } => "take",
            Op::TakeAlongAxis { .. } => "take_along_axis",
            Op::IndexAdd { .. } => "index_add",
            Op::SegmentReduce { .. } => "segment_reduce",
            Op::MatMul => "matmul",
            Op::Dense(_) => "dense",
            Op::Conv2d { .. } => "conv",
            Op::Conv2dTranspose { .. } => "conv_transpose",
            Op::MaxPool2d { .. } => "max_pool",
            Op::AvgPool2d { .. } => "average_pool",
            Op::SoftmaxXent { sparse: true } => "sparse_categorical_crossentropy",
            Op::SoftmaxXent { sparse: false } => "categorical_crossentropy",
            Op::BatchNorm => "batch_norm",
            Op::Attention(_) => "dot_product_attention",
            Op::LayerNorm(s) if s.rms => "rms_norm",
            Op::LayerNorm(_) => "layer_norm",
            Op::Rnn(_) => "rnn_sequence",
            Op::Linalg(l) => l.name(),
            Op::Custom(_) => "custom_gradient",
        }
    }
}
