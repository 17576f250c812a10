"""The fused decoder-block step (``_core.decoder_block_step``, used by ``TransformerDecoder`` calls
with a cache and by ``GPT2CausalLM.generate``): outputs and cache writes against the block's
layer-by-layer path, pre- and post-norm, every fused activation, one and several query rows,
batches, float64, and its argument errors."""
import numpy as np
import pytest

import ferrograd as keras
from ferrograd import _core, ops
from ferrograd.hub.layers import TransformerDecoder
from ferrograd.hub.models.gpt2 import gelu_approximate

D, HEADS, FF, S = 16, 2, 24, 12


def block(normalize_first=True, activation="relu", dtype="float32", seed=0):
    keras.random.seed(seed)
    layer = TransformerDecoder(FF, HEADS, activation=activation, normalize_first=normalize_first, dtype=dtype)
    layer.build((None, None, D))
    rng = np.random.default_rng(seed)
    # non-trivial norms and biases, so that every weight matters
    layer.set_weights([rng.normal(0, 0.4, w.shape).astype(dtype) for w in layer.get_weights()])
    return layer


def random(shape, seed, dtype="float32"):
    return ops.convert_to_tensor(np.random.default_rng(seed).normal(0, 1, shape).astype(dtype))


def layer_path(layer, x, cache, index):
    """The block through its sublayers (grad mode on: the fused step stands aside)."""
    assert _core.is_grad_enabled()
    y, new = layer(x, self_attention_cache=cache, self_attention_cache_update_index=index)
    return y.numpy(), new.numpy()


def fused(layer, x, cache, index):
    with keras.no_grad():
        args = layer._fused_step_args(x.dtype)
        assert args is not None
        weights, act = args
        y = _core.decoder_block_step(x, cache, index, weights, act, layer.normalize_first,
                                     float(layer.layer_norm_epsilon))
    return y.numpy(), cache.numpy()


@pytest.mark.parametrize("normalize_first", [True, False])
@pytest.mark.parametrize("activation", ["relu", "gelu", "silu", "tanh", "sigmoid", "linear", gelu_approximate])
def test_one_row_matches_the_layers(normalize_first, activation):
    layer = block(normalize_first, activation)
    cache = random((2, 2, S, HEADS, D // HEADS), 1)
    x = random((2, 1, D), 2)
    want_y, want_cache = layer_path(layer, x, cache, 5)
    got_y, got_cache = fused(layer, x, ops.copy(cache), 5)
    np.testing.assert_allclose(got_y, want_y, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(got_cache, want_cache, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("index,t", [(0, 1), (0, 5), (3, 4), (7, 5), (11, 1)])
@pytest.mark.parametrize("batch", [1, 3])
def test_several_rows_and_positions(index, t, batch):
    layer = block(seed=index + t)
    cache = random((batch, 2, S, HEADS, D // HEADS), 3)
    x = random((batch, t, D), 4)
    want_y, want_cache = layer_path(layer, x, cache, index)
    before = cache.numpy()
    got_y, got_cache = fused(layer, x, cache, index)  # written in place
    np.testing.assert_allclose(got_y, want_y, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(got_cache, want_cache, rtol=1e-6, atol=1e-6)
    # rows outside index .. index + t are untouched, bit for bit
    outside = np.ones(S, bool)
    outside[index:index + t] = False
    np.testing.assert_array_equal(got_cache[:, :, outside], before[:, :, outside])


def test_float64_and_a_view_of_a_model_cache():
    layer = block(dtype="float64")
    model_cache = random((2, 3, 2, S, HEADS, D // HEADS), 5, "float64")  # (B, L, 2, S, N, H)
    x = random((2, 1, D), 6, "float64")
    want_y, want_cache = layer_path(layer, x, model_cache[:, 1], 4)
    others = model_cache.numpy()[:, [0, 2]]
    got_y, _ = fused(layer, x, model_cache[:, 1], 4)  # a strided view: writes land in model_cache
    np.testing.assert_allclose(got_y, want_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model_cache.numpy()[:, 1], want_cache, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(model_cache.numpy()[:, [0, 2]], others)


def test_layer_call_without_grad_uses_the_step_and_leaves_the_input_cache_alone():
    layer = block()
    cache = random((1, 2, S, HEADS, D // HEADS), 7)
    x = random((1, 1, D), 8)
    before = cache.numpy()
    want_y, want_cache = layer_path(layer, x, cache, 2)
    calls = []
    original = _core.decoder_block_step

    def spy(*a):
        calls.append(a[2])
        return original(*a)

    _core.decoder_block_step = spy
    try:
        with keras.no_grad():
            y, new = layer(x, self_attention_cache=cache, self_attention_cache_update_index=2)
    finally:
        _core.decoder_block_step = original
    assert calls == [2]
    np.testing.assert_allclose(y.numpy(), want_y, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(new.numpy(), want_cache, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(cache.numpy(), before)


def test_blocks_the_step_does_not_run_fall_back():
    layer = block(activation="softplus")
    assert layer._fused_step_args("float32") is None
    cache = random((1, 2, S, HEADS, D // HEADS), 9)
    x = random((1, 1, D), 10)
    want_y, _ = layer_path(layer, x, cache, 1)
    with keras.no_grad():
        y, _ = layer(x, self_attention_cache=cache, self_attention_cache_update_index=1)
    np.testing.assert_allclose(y.numpy(), want_y, rtol=1e-6, atol=1e-6)
    # weights of another dtype than the input
    assert block()._fused_step_args("float64") is None


def test_errors_name_the_argument():
    layer = block()
    weights, act = layer._fused_step_args("float32")
    x = random((1, 1, D), 11)
    cache = random((1, 2, S, HEADS, D // HEADS), 12)
    step = _core.decoder_block_step
    with keras.no_grad():
        with pytest.raises(ValueError, match="runs past the cache's length 12"):
            step(x, cache, 12, weights, act, True, 1e-5)
        with pytest.raises(ValueError, match="cache must be"):
            step(x, random((1, 3, S, HEADS, D // HEADS), 1), 0, weights, act, True, 1e-5)
        with pytest.raises(ValueError, match="heads x|giving 16 outputs where the block needs 12"):
            step(x, random((1, 2, S, 3, 4), 1), 0, weights, act, True, 1e-5)
        with pytest.raises(TypeError, match="cache has dtype float64"):
            step(x, random((1, 2, S, HEADS, D // HEADS), 1, "float64"), 0, weights, act, True, 1e-5)
        with pytest.raises(ValueError, match="expected 16 weight entries"):
            step(x, cache, 0, weights[:-1], act, True, 1e-5)
        with pytest.raises(ValueError, match="query kernel is required"):
            step(x, cache, 0, [None if i == 2 else w for i, w in enumerate(weights)], act, True, 1e-5)
        bad = list(weights)
        bad[3] = random((7,), 1)  # query bias
        with pytest.raises(ValueError, match="query bias has shape"):
            step(x, cache, 0, bad, act, True, 1e-5)
        with pytest.raises(ValueError, match="must be contiguous"):
            step(x, ops.transpose(random((1, 2, HEADS, S, D // HEADS), 1), (0, 1, 3, 2, 4)), 0, weights, act,
                 True, 1e-5)
        with pytest.raises(ValueError, match="x must be a float tensor"):
            step(ops.ones((1, D)), cache, 0, weights, act, True, 1e-5)
        with pytest.raises(ValueError, match="epsilon"):
            step(x, cache, 0, weights, act, True, float("nan"))
        with pytest.raises(ValueError, match="unknown|not_an_op"):
            step(x, cache, 0, weights, "not_an_op", True, 1e-5)
    leaf = random((1, 2, S, HEADS, D // HEADS), 13)
    leaf.requires_grad = True
    with pytest.raises(RuntimeError, match="requires grad"):
        step(x, leaf, 0, weights, act, True, 1e-5)
