"""ops.image.resize on any size and keras.utils.image_dataset_from_directory, against Keras 3 on
TensorFlow (tests/fixtures/keras_image_resize.json, from capture_image_resize.py)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import ops

FIX = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIX))
import capture_image_resize as cap  # noqa: E402

DATA = json.loads((FIX / "keras_image_resize.json").read_text())


@pytest.mark.parametrize("case", DATA["resize"], ids=[str(c["kwargs"]) for c in DATA["resize"]])
def test_resize_matches_keras(case):
    got = ops.image.resize(cap.resize_input(), **case["kwargs"]).numpy()
    np.testing.assert_allclose(got, np.asarray(case["out"], "float32"), rtol=1e-5, atol=1e-3)


def test_resize_single_image_and_errors():
    img = cap.resize_input()[0]
    np.testing.assert_allclose(ops.image.resize(img, (3, 4)).numpy(), ops.image.resize(img[None], (3, 4)).numpy()[0])
    with pytest.raises(NotImplementedError, match="bicubic"):
        ops.image.resize(img, (3, 4), interpolation="bicubic")
    with pytest.raises(ValueError, match="only one of"):
        ops.image.resize(img, (3, 4), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


@pytest.mark.parametrize("case", DATA["datasets"], ids=[str(c["kwargs"]) for c in DATA["datasets"]])
def test_image_dataset_matches_keras(case, tmp_path):
    pytest.importorskip("PIL")
    cap.make_images(tmp_path, case["gray"])
    ds = keras.utils.image_dataset_from_directory(tmp_path, verbose=False, **case["kwargs"])
    assert [str(Path(p).relative_to(tmp_path)) for p in ds.file_paths] == case["paths"]
    assert ds.class_names == case["class_names"]
    assert len(ds) == len(case["batches"])
    got = [b if isinstance(b, tuple) else (b, None) for b in ds]
    want = [(np.asarray(x, "float32"), None if y is None else np.asarray(y)) for x, y in case["batches"]]
    if case["kwargs"].get("shuffle"):
        # Keras also shuffles the decoded images in a tf.data buffer (TensorFlow's RNG), so only the
        # file order (which decides the split) is reproducible: compare the samples as a set
        left = [(x, y) for bx, by in want for x, y in zip(bx, by)]
        for bx, by in got:
            for x, y in zip(bx, by):
                k = next(i for i, (wx, wy) in enumerate(left)
                         if np.allclose(x, wx, rtol=1e-5, atol=1e-3) and np.array_equal(y, wy.astype(y.dtype)))
                left.pop(k)
        assert not left
        return
    for (gx, gy), (x, y) in zip(got, want):
        assert gx.dtype == np.float32
        np.testing.assert_allclose(gx, x, rtol=1e-5, atol=1e-3)
        if y is not None:
            np.testing.assert_array_equal(gy, y.astype(gy.dtype))


def test_image_dataset_trains_and_maps(tmp_path):
    pytest.importorskip("PIL")
    cap.make_images(tmp_path)
    train, val = keras.utils.image_dataset_from_directory(tmp_path, image_size=(8, 8), batch_size=4, seed=1,
                                                          validation_split=0.3, subset="both", verbose=False)
    assert len(train.file_paths) + len(val.file_paths) == 7
    scaled = train.map(lambda x, y: (x / 255.0, y)).prefetch(2)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(scaled, epochs=1, verbose=0)


def test_image_dataset_errors(tmp_path):
    pytest.importorskip("PIL")
    with pytest.raises(ValueError, match="No images found"):
        keras.utils.image_dataset_from_directory(tmp_path, verbose=False)
    cap.make_images(tmp_path)
    for kwargs, match in [({"color_mode": "cmyk"}, "color_mode"), ({"image_size": (1, 2, 3)}, "image_size"),
                          ({"interpolation": "cubicle"}, "interpolation"), ({"label_mode": "sparse"}, "label_mode"),
                          ({"labels": "folders"}, "labels"),
                          ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "Only one of"),
                          ({"validation_split": 0.2, "subset": "training"}, "seed")]:
        with pytest.raises(ValueError, match=match):
            keras.utils.image_dataset_from_directory(tmp_path, verbose=False, **kwargs)
    with pytest.raises(NotImplementedError, match="bicubic"):
        keras.utils.image_dataset_from_directory(tmp_path, interpolation="bicubic", verbose=False)


def test_resizing_layer_pads_as_ops_resize(tmp_path):
    x = cap.resize_input()
    layer = keras.layers.Resizing(2, 9, pad_to_aspect_ratio=True, fill_value=7.0)
    case = next(c for c in DATA["resize"] if c["kwargs"].get("fill_value") == 7.0)
    np.testing.assert_allclose(layer(x).numpy(), np.asarray(case["out"], "float32"), rtol=1e-5, atol=1e-3)
    clone = keras.layers.Resizing.from_config(layer.get_config())
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())
    with pytest.raises(ValueError, match="fill_mode"):
        keras.layers.Resizing(2, 9, fill_mode="reflect")


PATCHES = json.loads((FIX / "keras_extract_patches_3d.json").read_text())


@pytest.mark.parametrize("case", PATCHES["cases"], ids=[str(c["kwargs"]) for c in PATCHES["cases"]])
def test_extract_patches_3d_matches_keras(case):
    import capture_extract_patches_3d as cp

    x = cp.volumes()
    if case["kwargs"].get("data_format") == "channels_first":
        x = x.transpose(0, 4, 1, 2, 3)
    got = ops.image.extract_patches_3d(x, **case["kwargs"]).numpy()
    np.testing.assert_array_equal(got, np.asarray(case["out"], "float32"))


def test_extract_patches_3d_single_volume_and_errors():
    import capture_extract_patches_3d as cp

    np.testing.assert_array_equal(ops.image.extract_patches_3d(cp.volumes()[0], 2).numpy(),
                                  np.asarray(PATCHES["single"], "float32"))
    with pytest.raises(TypeError, match="size"):
        ops.image.extract_patches_3d(cp.volumes(), (2, 2))
    with pytest.raises(ValueError, match="5-D"):
        ops.image.extract_patches_3d(np.ones((3, 3, 3)), 2)
