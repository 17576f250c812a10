"""Cases shared by tests/test_ops_surface.py and tests/fixtures/capture_keras_ops_surface.py: each is
a name and a function of the ops module (``keras.ops`` or ``ferrograd.ops``) and the activations
module, so the same call runs on real Keras (captured into keras_ops_surface.json) and on ferrograd.
Inputs are NumPy arrays built from a fixed seed; nothing here imports either library."""
import numpy as np

_rng = np.random.default_rng(7)
X = _rng.standard_normal((3, 6)).astype(np.float32) * 2.0
X[0, :3] = [-1.0, 0.0, 1.0]  # the kinks of sparse_plus / hard_* / shrink
POS = _rng.uniform(0.2, 3.0, (3, 6)).astype(np.float32)
SPECIAL = np.array([0.0, -0.0, 1.5, -2.5, np.inf, -np.inf, np.nan], np.float32)
A = _rng.standard_normal((3, 4)).astype(np.float32)
B = _rng.standard_normal((4, 5)).astype(np.float32)
V3 = _rng.standard_normal((4, 3)).astype(np.float32)
W3 = _rng.standard_normal((4, 3)).astype(np.float32)
CUBE = _rng.standard_normal((2, 3, 4)).astype(np.float32)
IMG = _rng.uniform(0, 1, (2, 4, 6, 3)).astype(np.float32)
PROB = _rng.uniform(0.05, 0.95, (3, 6)).astype(np.float32)
LABELS = (_rng.uniform(0, 1, (3, 6)) > 0.5).astype(np.float32)
SEQ = np.array([1.0, 2.0, 2.0, 5.0, 9.0], np.float32)
NANS = np.array([[np.nan, 1.0, 3.0], [2.0, np.nan, 0.0]], np.float32)
DW = _rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
PW = _rng.standard_normal((1, 1, 6, 4)).astype(np.float32)

ACTIVATIONS = [
    ("celu", lambda act: act.celu(X, alpha=0.7)),
    ("glu", lambda act: act.glu(X)),
    ("hard_sigmoid", lambda act: act.hard_sigmoid(X)),
    ("hard_silu", lambda act: act.hard_silu(X)),
    ("hard_swish", lambda act: act.hard_swish(X)),
    ("hard_tanh", lambda act: act.hard_tanh(X)),
    ("hard_shrink", lambda act: act.hard_shrink(X, threshold=0.7)),
    ("log_sigmoid", lambda act: act.log_sigmoid(X)),
    ("mish", lambda act: act.mish(X)),
    ("soft_shrink", lambda act: act.soft_shrink(X, threshold=0.3)),
    ("sparse_plus", lambda act: act.sparse_plus(X)),
    ("sparse_sigmoid", lambda act: act.sparse_sigmoid(X)),
    ("sparsemax", lambda act: act.sparsemax(X)),
    ("sparsemax_axis0", lambda act: act.sparsemax(X, axis=0)),
    ("squareplus", lambda act: act.squareplus(X, b=2)),
    ("tanh_shrink", lambda act: act.tanh_shrink(X)),
    ("threshold", lambda act: act.threshold(X, 0.3, -1.0)),
    ("relu_args", lambda act: act.relu(X, negative_slope=0.1, max_value=2.0, threshold=0.5)),
    ("gelu", lambda act: act.gelu(X)),
    ("gelu_approx", lambda act: act.gelu(X, approximate=True)),
    ("silu", lambda act: act.silu(X)),
    ("exponential", lambda act: act.exponential(X)),
    ("linear", lambda act: act.linear(X)),
    ("elu", lambda act: act.elu(X, alpha=0.5)),
    ("selu", lambda act: act.selu(X)),
    ("softsign", lambda act: act.softsign(X)),
    ("log_softmax", lambda act: act.log_softmax(X)),
]

SERIALIZED = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "sigmoid", "tanh", "softmax",
              "log_softmax", "softplus", "softsign", "exponential", "linear", "celu", "glu", "hard_sigmoid",
              "hard_silu", "hard_swish", "hard_tanh", "hard_shrink", "log_sigmoid", "mish", "soft_shrink",
              "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink", "threshold"]

OPS = [
    ("log2", lambda o: o.log2(POS)), ("log10", lambda o: o.log10(POS)), ("exp2", lambda o: o.exp2(X)),
    ("tan", lambda o: o.tan(X * 0.5)), ("sinh", lambda o: o.sinh(X)), ("cosh", lambda o: o.cosh(X)),
    ("cbrt", lambda o: o.cbrt(X)), ("trunc", lambda o: o.trunc(X)), ("fabs", lambda o: o.fabs(X)),
    ("deg2rad", lambda o: o.deg2rad(X)), ("rad2deg", lambda o: o.rad2deg(X)), ("sinc", lambda o: o.sinc(X)),
    ("erfc", lambda o: o.erfc(X)),
    ("isnan", lambda o: o.isnan(SPECIAL)), ("isinf", lambda o: o.isinf(SPECIAL)),
    ("isfinite", lambda o: o.isfinite(SPECIAL)), ("isposinf", lambda o: o.isposinf(SPECIAL)),
    ("isneginf", lambda o: o.isneginf(SPECIAL)), ("signbit", lambda o: o.signbit(SPECIAL[:6])),
    ("nan_to_num", lambda o: o.nan_to_num(SPECIAL, nan=7.0, posinf=100.0, neginf=-100.0)),
    ("logaddexp", lambda o: o.logaddexp(X, A.sum() + X.T[:1].T)),
    ("logaddexp2", lambda o: o.logaddexp2(X, POS)), ("hypot", lambda o: o.hypot(X, POS)),
    ("heaviside", lambda o: o.heaviside(X, np.float32(0.5))), ("fmax", lambda o: o.fmax(SPECIAL, SPECIAL[::-1])),
    ("fmin", lambda o: o.fmin(SPECIAL, SPECIAL[::-1])),
    ("divide_no_nan", lambda o: o.divide_no_nan(X, np.where(POS > 1.5, POS, 0).astype(np.float32))),
    ("isclose", lambda o: o.isclose(X, X + np.float32(1e-6) * (X > 0))),
    ("append", lambda o: o.append(A, A, axis=0)), ("append_flat", lambda o: o.append(A, B)),
    ("hstack", lambda o: o.hstack([A, A])), ("vstack", lambda o: o.vstack([A, A])),
    ("dstack", lambda o: o.dstack([A, A])), ("fliplr", lambda o: o.fliplr(A)), ("flipud", lambda o: o.flipud(A)),
    ("rot90", lambda o: o.rot90(CUBE)), ("rot90_k3", lambda o: o.rot90(CUBE, k=3, axes=(1, 2))),
    ("roll", lambda o: o.roll(A, 2, axis=1)), ("roll_flat", lambda o: o.roll(A, -5)),
    ("diag_of_matrix", lambda o: o.diag(A, k=1)), ("diag_of_vector", lambda o: o.diag(SEQ, k=-1)),
    ("diagflat", lambda o: o.diagflat(A[:2, :2])), ("diagonal", lambda o: o.diagonal(CUBE, 1, 1, 2)),
    ("trace", lambda o: o.trace(A)), ("trace_3d", lambda o: o.trace(CUBE, axis1=0, axis2=2)),
    ("tri", lambda o: o.tri(3, 4, 1)), ("outer", lambda o: o.outer(SEQ, A[0])),
    ("inner", lambda o: o.inner(A, A)), ("vdot", lambda o: o.vdot(A[0], A[1])),
    ("tensordot", lambda o: o.tensordot(A, B, axes=1)), ("tensordot_pairs", lambda o: o.tensordot(CUBE, A, ([1], [0]))),
    ("kron", lambda o: o.kron(A[:2, :2], A[:2, :3])), ("cross", lambda o: o.cross(V3, W3)),
    ("diff", lambda o: o.diff(A, n=2)), ("meshgrid_xy", lambda o: o.meshgrid(SEQ, A[0])),
    ("meshgrid_ij", lambda o: o.meshgrid(SEQ, A[0], indexing="ij")),
    ("unstack", lambda o: o.unstack(o.convert_to_tensor(A), axis=1)),
    ("count_nonzero", lambda o: o.count_nonzero(np.round(X), axis=1)), ("ptp", lambda o: o.ptp(A, axis=0)),
    ("average", lambda o: o.average(A, axis=1, weights=np.arange(1, 5, dtype=np.float32))),
    ("allclose", lambda o: o.allclose(A, A)), ("logspace", lambda o: o.logspace(0.0, 2.0, 5)),
    ("geomspace", lambda o: o.geomspace(1.0, 1000.0, 4)), ("trapezoid", lambda o: o.trapezoid(A, axis=1)),
    ("select", lambda o: o.select([X > 1, X < -1], [X, -X], 0.5)),
    ("searchsorted", lambda o: o.searchsorted(SEQ, np.array([0.0, 2.0, 3.0, 9.0, 10.0], np.float32))),
    ("searchsorted_right", lambda o: o.searchsorted(SEQ, np.array([2.0, 9.0], np.float32), side="right")),
    ("digitize", lambda o: o.digitize(X, SEQ)), ("isin", lambda o: o.isin(np.round(X), SEQ)),
    ("unravel_index", lambda o: o.unravel_index(np.array([0, 5, 11], np.int32), (3, 4))),
    ("slice", lambda o: o.slice(CUBE, (0, 1, 1), (2, 2, 3))),
    ("nansum", lambda o: o.nansum(SPECIAL[[0, 2, 3, 6]])), ("nanmean", lambda o: o.nanmean(SPECIAL[[0, 2, 3, 6]])),
    ("median", lambda o: o.median(A, axis=1)), ("median_all", lambda o: o.median(A)),
    ("quantile", lambda o: o.quantile(A, 0.3, axis=0)),
    ("quantile_methods", lambda o: [o.quantile(A, np.array([0.25, 0.5]), axis=1, method=m)
                                    for m in ("lower", "higher", "nearest", "midpoint")]),
    ("percentile", lambda o: o.percentile(A, 90.0)),
    ("norm", lambda o: o.norm(A)), ("norm_l1", lambda o: o.norm(A, ord=1, axis=1)),
    ("norm_matrix_inf", lambda o: o.norm(A, ord=np.inf)), ("norm_matrix_1", lambda o: o.norm(A, ord=1)),
    ("norm_fro_keep", lambda o: o.norm(CUBE, ord="fro", axis=(1, 2), keepdims=True)),
    ("norm_p3", lambda o: o.norm(A, ord=3, axis=0)),
    ("binary_crossentropy", lambda o: o.binary_crossentropy(LABELS, PROB)),
    ("binary_crossentropy_logits", lambda o: o.binary_crossentropy(LABELS, X, from_logits=True)),
    ("categorical_crossentropy", lambda o: o.categorical_crossentropy(LABELS, PROB)),
    ("categorical_crossentropy_logits", lambda o: o.categorical_crossentropy(LABELS, X, from_logits=True)),
    ("sparse_categorical_crossentropy", lambda o: o.sparse_categorical_crossentropy(
        np.array([0, 5, 2], np.int32), X, from_logits=True)),
    ("multi_hot", lambda o: o.multi_hot(np.array([[0, 2], [3, 3]], np.int32), 5)),
    ("depth_to_space", lambda o: o.depth_to_space(np.tile(IMG, (1, 1, 1, 4))[:, :, :, :12], 2)),
    ("space_to_depth", lambda o: o.space_to_depth(IMG, 2)),
    ("psnr", lambda o: o.psnr(IMG, IMG * np.float32(0.9), 1.0)),
    ("ldexp", lambda o: o.ldexp(A, np.array([1, 2, -1, 0], np.int32))),
    ("vander", lambda o: o.vander(SEQ[:4])), ("vander_increasing", lambda o: o.vander(SEQ[:4], 3, increasing=True)),
    ("nanargmax", lambda o: o.nanargmax(NANS, axis=1)), ("nanargmin", lambda o: o.nanargmin(NANS, axis=0)),
    ("hamming", lambda o: o.hamming(7)), ("hanning", lambda o: o.hanning(6)), ("bartlett", lambda o: o.bartlett(7)),
    ("blackman", lambda o: o.blackman(6)),
    ("correlate_valid", lambda o: o.correlate(SEQ, A[0])), ("correlate_same", lambda o: o.correlate(SEQ, A[0], "same")),
    ("correlate_full", lambda o: o.correlate(SEQ, A[0, :3], "full")), ("corrcoef", lambda o: o.corrcoef(A)),
    ("batch_normalization", lambda o: o.batch_normalization(X, X[1], POS[0], -1, offset=X[2], scale=POS[1])),
    ("separable_conv", lambda o: o.separable_conv(IMG, DW, PW, padding="same")),
    ("nanmedian", lambda o: o.nanmedian(NANS, axis=1)),
    ("nanquantile", lambda o: o.nanquantile(NANS, 0.3, axis=0)),
    ("nanpercentile", lambda o: o.nanpercentile(NANS, np.array([20.0, 70.0]), axis=1, method="nearest")),
    ("adaptive_average_pool", lambda o: o.adaptive_average_pool(IMG, (3, 4))),
    ("adaptive_max_pool", lambda o: o.adaptive_max_pool(IMG, (2, 4))),
    ("adaptive_average_pool_1d", lambda o: o.adaptive_average_pool(IMG[:, 0], 4)),
]

IMAGE = [
    ("resize_nearest", lambda i: i.resize(IMG, (8, 12), interpolation="nearest")),
    ("resize_bilinear", lambda i: i.resize(IMG, (12, 12))),
    ("crop_images", lambda i: i.crop_images(IMG, 1, 2, target_height=2, target_width=3)),
    ("pad_images", lambda i: i.pad_images(IMG, 1, 2, 0, 1)),
    ("extract_patches", lambda i: i.extract_patches(IMG, 2)),
    ("extract_patches_strided", lambda i: i.extract_patches(IMG, (2, 3), strides=(1, 2))),
    ("rgb_to_grayscale", lambda i: i.rgb_to_grayscale(IMG)),
]


def to_lists(v):
    """A case's result as nested lists (lists/tuples of tensors become lists)."""
    if isinstance(v, (list, tuple)):
        return [to_lists(u) for u in v]
    a = np.asarray(v)
    if a.dtype.kind == "f":
        a = a.astype(np.float64)
        return np.where(np.isnan(a), None, a).tolist() if np.isnan(a).any() else a.tolist()
    return a.tolist()
