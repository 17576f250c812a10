"""keras.ops.rearrange (einops-style) against NumPy reshape/transpose, symbolically, and its errors."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

B, H, W, C = 2, 6, 4, 3
X = np.arange(B * H * W * C, dtype="float32").reshape(B, H, W, C)

CASES = [  # Keras' documented examples, with the NumPy they mean
    ("b h w c -> b c h w", {}, X.transpose(0, 3, 1, 2)),
    ("b h w c -> (b h) w c", {}, X.reshape(B * H, W, C)),
    ("b h w c -> h (b w) c", {}, X.transpose(1, 0, 2, 3).reshape(H, B * W, C)),
    ("b h w c -> b (c h w)", {}, X.transpose(0, 3, 1, 2).reshape(B, C * H * W)),
    ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", {"h1": 2, "w1": 2},
     X.reshape(B, 2, H // 2, 2, W // 2, C).transpose(0, 1, 3, 2, 4, 5).reshape(B * 4, H // 2, W // 2, C)),
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 2},
     X.reshape(B, H // 2, 2, W // 2, 2, C).transpose(0, 1, 3, 5, 2, 4).reshape(B, H // 2, W // 2, C * 4)),
    ("b (h p) w c -> b h (p w c)", {"h": 3}, X.reshape(B, 3, 2, W, C).reshape(B, 3, 2 * W * C)),
    ("b h w c -> b h w c", {}, X),
    ("b h w c->c w h b", {"c": 3}, X.transpose(3, 2, 1, 0)),
]


@pytest.mark.parametrize("pattern,lengths,want", CASES, ids=[c[0] for c in CASES])
def test_matches_numpy(pattern, lengths, want):
    got = ops.rearrange(fg.tensor(X), pattern, **lengths)
    np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.rearrange(X, pattern, **lengths)), want)


def test_gradient_flows_back_through_the_permutation():
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    gradcheck(lambda t: ops.rearrange(t, "b (h p) w -> b h (w p)", p=2), x)


def test_symbolic_with_a_batch_dimension_and_save_load(tmp_path):
    inp = fg.Input((H, W, C))
    out = ops.rearrange(inp, "b (h p) (w q) c -> b (h w) (p q c)", p=2, q=2)
    assert out.shape == (None, (H // 2) * (W // 2), 4 * C)
    model = fg.Model(inp, out)
    want = X.reshape(B, H // 2, 2, W // 2, 2, C).transpose(0, 1, 3, 2, 4, 5).reshape(B, (H // 2) * (W // 2), 4 * C)
    np.testing.assert_array_equal(model.predict(X, verbose=0), want)
    model.save(tmp_path / "m.keras")
    np.testing.assert_array_equal(fg.saving.load_model(tmp_path / "m.keras").predict(X, verbose=0), want)


def test_shape_ndim_dtype_read_a_keras_tensor():
    t = fg.Input((3, 4), dtype="float64")
    assert ops.shape(t) == (None, 3, 4) and ops.ndim(t) == 3 and ops.dtype(t) == "float64"


@pytest.mark.parametrize("pattern,lengths,match", [
    ("b h w c", {}, "one '->'"),
    ("b h w c -> b c", {}, "'h' is dropped"),
    ("b h w c -> b h w c z", {}, "'z' is not on the left"),
    ("b h w -> b h w", {}, "has rank 4"),
    ("b h h c -> b h c", {}, "appears twice"),
    ("... c -> c ...", {}, "ellipsis"),
    ("b h w c -> b h w c 1", {}, "'1'"),
    ("b (h p q) w c -> b h p q w c", {}, "more than one axis without a length"),
    ("b (h p) w c -> b h p w c", {"p": 4}, "does not split"),
    ("b (h p) w c -> b h p w c", {"h": 2, "p": 2}, "has 4 elements"),
    ("b h w c -> b h w c", {"c": 5}, "c=5"),
    ("b h w c -> b h w c", {"z": 5}, "names no axis"),
    ("b h w c -> b h w c", {"c": 0}, "positive int"),
    ("b () w c -> b w c", {}, "group"),
])
def test_bad_patterns_say_what_is_wrong(pattern, lengths, match):
    with pytest.raises(ValueError, match=match):
        ops.rearrange(fg.tensor(X), pattern, **lengths)
