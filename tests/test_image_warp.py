"""ops.image warps (affine_transform, map_coordinates, perspective_transform, elastic_transform,
scale_and_translate) and ssim: outputs against Keras 3 on PyTorch (fixture from
tests/fixtures/capture_image_warp.py), against SciPy-free references where the math is simple, and
the errors for bad arguments."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from ferrograd import ops

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import capture_image_warp as cap  # noqa: E402
from conftest import gradcheck  # noqa: E402

FIX = json.loads((Path(__file__).parent / "fixtures" / "keras_image_warp.json").read_text())
D = cap.inputs()


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


@pytest.mark.parametrize("i", range(len(cap.AFFINE)))
def test_affine_transform_matches_keras(i):
    c = dict(cap.AFFINE[i])
    x = D["images"]
    if c.pop("single", False):
        x = x[0]
    integer = c.pop("integer", False)
    if integer:
        x = np.round(x * 20).astype("uint8")
    if c.get("data_format") == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    t = np.asarray(c.pop("transform"), dtype="float32")
    y = _np(ops.image.affine_transform(x, t, **c))
    want = np.asarray(FIX["affine"][i]["out"])
    assert y.shape == want.shape
    # Keras keeps the input dtype; ferrograd stores uint8 inputs as int32
    assert str(y.dtype) == (str(ops.convert_to_tensor(x).dtype) if integer else FIX["affine"][i]["dtype"])
    tol = 1 if integer else 1e-4
    np.testing.assert_allclose(y.astype("float64"), want, atol=tol)


def test_affine_transform_one_row_serves_the_batch_and_identity_is_exact():
    x = D["images"]
    row = np.array([1.2, 0.1, -1, 0.2, 0.8, 1, 0, 0], "float32")
    both = _np(ops.image.affine_transform(x, row))
    each = _np(ops.image.affine_transform(x, np.stack([row, row])))
    np.testing.assert_array_equal(both, each)
    ident = np.array([1, 0, 0, 0, 1, 0, 0, 0], "float32")
    for mode in ("constant", "nearest", "wrap", "reflect"):
        np.testing.assert_array_equal(_np(ops.image.affine_transform(x, ident, fill_mode=mode)), x)


def test_affine_transform_projective_rows_divide_by_k():
    # c0, c1 make the map projective: the output point (x, y) reads (x / k, y / k), k = c0 x + 1
    x = D["images"][:1]
    t = np.array([1, 0, 0, 0, 1, 0, 0.05, 0], "float32")
    y = _np(ops.image.affine_transform(x, t, interpolation="nearest"))
    h, w = x.shape[1:3]
    for yy in range(h):
        for xx in range(w):
            k = 0.05 * xx + 1
            sy, sx = np.round(yy / k), np.round(xx / k)
            np.testing.assert_array_equal(y[0, yy, xx], x[0, int(sy), int(sx)])


@pytest.mark.parametrize("i", range(len(cap.MAP)))
def test_map_coordinates_matches_keras(i):
    c = dict(cap.MAP[i])
    three = c.pop("three_d", False)
    x, coords = (D["map3d"], D["coords3d"]) if three else (D["map2d"], D["coords2d"])
    y = _np(ops.image.map_coordinates(x, coords, **c))
    np.testing.assert_allclose(y, np.asarray(FIX["map"][i]["out"]), atol=1e-5)
    # a sequence of coordinate arrays is the same as one stacked array
    y2 = _np(ops.image.map_coordinates(x, [coords[j] for j in range(coords.shape[0])], **c))
    np.testing.assert_array_equal(y, y2)


def test_map_coordinates_gradients_reach_inputs_and_coordinates():
    x = D["map2d"].astype("float64")
    coords = np.array([[0.3, 2.6, 4.1], [1.2, 5.5, 0.7]], "float64")  # away from whole numbers
    gradcheck(lambda a, c: ops.image.map_coordinates(a, c, 1, fill_mode="nearest"), x, coords)
    gradcheck(lambda a, c: ops.image.map_coordinates(a, c, 1, fill_mode="constant", fill_value=2.0), x,
              coords * 1.7 - 1.1)


@pytest.mark.parametrize("i", range(len(cap.PERSPECTIVE)))
def test_perspective_transform_matches_keras(i):
    c = dict(cap.PERSPECTIVE[i])
    x = D["persp"][0] if c.pop("single", False) else D["persp"]
    if c.get("data_format") == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    y = _np(ops.image.perspective_transform(x, np.asarray(c.pop("start"), "float32"),
                                            np.asarray(c.pop("end"), "float32"), **c))
    want = np.asarray(FIX["perspective"][i]["out"])
    assert y.shape == want.shape
    # the homography comes from an 8x8 solve; nearest sampling can flip at exact halves, so compare
    # where both agree on the source and require almost all pixels to match
    close = np.isclose(y, want, atol=2e-4)
    assert close.mean() > 0.98, close.mean()


def test_perspective_transform_identity_points_keep_the_image():
    x = D["persp"]
    pts = np.array([[0, 0], [9, 0], [0, 7], [9, 7]], "float32")
    np.testing.assert_allclose(_np(ops.image.perspective_transform(x, pts, pts)), x, atol=1e-4)


@pytest.mark.parametrize("i", range(len(cap.SCALE)))
def test_scale_and_translate_matches_keras(i):
    c = cap.SCALE[i]
    y = _np(ops.image.scale_and_translate(D["scale"], c["output_shape"], np.asarray(c["scale"], "float32"),
                                          np.asarray(c["translation"], "float32"), (1, 2), c["method"],
                                          antialias=c.get("antialias", True)))
    np.testing.assert_allclose(y, np.asarray(FIX["scale"][i]["out"]), atol=1e-5)


@pytest.mark.parametrize("i", range(len(cap.SSIM)))
def test_ssim_matches_keras(i):
    c = dict(cap.SSIM[i])
    a, b = D["ssim1"], D["ssim2"]
    if c.pop("single", False):
        a, b = a[0], b[0]
    if c.get("data_format") == "channels_first":
        a, b = np.moveaxis(a, -1, 1), np.moveaxis(b, -1, 1)
    np.testing.assert_allclose(_np(ops.image.ssim(a, b, **c)), np.asarray(FIX["ssim"][i]["out"]), atol=1e-5)
    np.testing.assert_allclose(float(_np(ops.image.ssim(a, a, **c)).ravel()[0]), FIX["ssim"][i]["self"], atol=1e-5)


def test_elastic_transform_is_seeded_and_alpha_zero_is_identity():
    x = D["images"]
    a = _np(ops.image.elastic_transform(x, alpha=5.0, sigma=1.5, seed=3))
    b = _np(ops.image.elastic_transform(x, alpha=5.0, sigma=1.5, seed=3))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and not np.allclose(a, x)
    np.testing.assert_allclose(_np(ops.image.elastic_transform(x, alpha=0.0, sigma=1.5, seed=3)), x, atol=1e-6)
    single = _np(ops.image.elastic_transform(x[0], alpha=3.0, sigma=2.0, seed=1, fill_mode="constant"))
    assert single.shape == x[0].shape and np.isfinite(single).all()


def test_warps_keep_integer_dtypes_and_large_batches_exact():
    x = (np.arange(3 * 5 * 4 * 2) % 251).astype("uint8").reshape(3, 5, 4, 2)
    y = ops.image.affine_transform(x, np.array([1, 0, 1, 0, 1, 0, 0, 0], "float32"), fill_mode="nearest")
    assert y.dtype == ops.convert_to_tensor(x).dtype
    np.testing.assert_array_equal(_np(y)[:, :, :-1], x[:, :, 1:])


@pytest.mark.parametrize("call, match", [
    (lambda: ops.image.affine_transform(np.zeros((4, 4)), np.zeros(8)), "rank 3"),
    (lambda: ops.image.affine_transform(np.zeros((1, 4, 4, 1)), np.zeros(6)), "transform shape"),
    (lambda: ops.image.affine_transform(np.zeros((1, 4, 4, 1)), np.zeros((1, 1, 8))), "transform rank"),
    (lambda: ops.image.affine_transform(np.zeros((2, 4, 4, 1)), np.zeros((3, 8))), "3 rows"),
    (lambda: ops.image.affine_transform(np.zeros((1, 4, 4, 1)), np.zeros(8), fill_mode="mirror"), "fill_mode"),
    (lambda: ops.image.affine_transform(np.zeros((1, 4, 4, 1)), np.zeros(8), interpolation="cubic"),
     "interpolation"),
    (lambda: ops.image.map_coordinates(np.zeros((3, 3)), np.zeros((3, 2)), 1), "leading dim"),
    (lambda: ops.image.map_coordinates(np.zeros((3, 3)), np.zeros((2, 2)), 3), "order"),
    (lambda: ops.image.map_coordinates(np.zeros((3, 3)), np.zeros((2,)), 1), "at least rank 2"),
    (lambda: ops.image.map_coordinates(np.zeros((0, 3)), np.zeros((2, 1)), 1), "empty"),
    (lambda: ops.image.perspective_transform(np.zeros((1, 4, 4, 1)), np.zeros((3, 2)), np.zeros((3, 2))),
     "start_points shape"),
    (lambda: ops.image.perspective_transform(np.zeros((1, 4, 4, 1)), np.zeros((4, 2)), np.zeros((2, 4, 2))),
     "same shape"),
    (lambda: ops.image.elastic_transform(np.zeros((1, 4, 4, 1)), sigma=0.0), "sigma"),
    (lambda: ops.image.scale_and_translate(np.zeros((1, 4, 4, 1)), (1, 2, 2, 1), [1, 1], [0, 0], (1, 2), "area"),
     "method"),
    (lambda: ops.image.scale_and_translate(np.zeros((1, 4, 4, 1)), (1, 2, 2), [1, 1], [0, 0], (1, 2), "linear"),
     "output_shape"),
    (lambda: ops.image.ssim(np.zeros((8, 8, 1)), np.zeros((8, 9, 1))), "same shape"),
    (lambda: ops.image.ssim(np.zeros((4, 4, 1)), np.zeros((4, 4, 1))), "smaller than filter_size"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises((ValueError, NotImplementedError), match=match):
        call()
