//! Compute kernels. Each kernel states its math, layout and aliasing contract at the top of its
//! file; each SIMD path has a scalar reference that the tests compare against.

pub mod attention;
pub mod binary;
pub mod conv;
pub mod conv_direct;
mod conv_grad;
pub mod depthwise;
pub mod eigh;
pub mod fft;
pub mod index;
pub mod iter;
pub mod layer_norm;
pub mod linalg;
pub mod loss;
pub mod math;
pub mod matmul;
pub mod norm;
pub mod optim;
pub mod pool;
pub mod reduce;
pub mod rnn;
pub mod simd;
pub mod softmax;
pub mod sort;
pub mod unary;
