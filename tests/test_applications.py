"""keras.applications against a real Keras 3 install (fixtures from
tests/fixtures/capture_keras_applications.py): architectures, layer and weight order, outputs from
the same weights, preprocessing, and the legacy .h5 weights reader."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ferrograd as keras
from ferrograd.applications import imagenet_utils

HERE = os.path.dirname(__file__)
with open(os.path.join(HERE, "fixtures", "keras_applications.json")) as _f:
    FIX = json.load(_f)
A = keras.applications

CASES = {
    "VGG16": lambda: A.VGG16(weights=None),
    "VGG16_notop_avg": lambda: A.VGG16(weights=None, include_top=False, pooling="avg", input_shape=(64, 64, 3)),
    "VGG19": lambda: A.VGG19(weights=None),
    "VGG19_notop_none": lambda: A.VGG19(weights=None, include_top=False, input_shape=(48, 80, 3)),
    "VGG19_classes10": lambda: A.VGG19(weights=None, classes=10, classifier_activation=None),
    "ResNet50": lambda: A.ResNet50(weights=None),
    "ResNet50_notop_max": lambda: A.ResNet50(weights=None, include_top=False, pooling="max", input_shape=(64, 64, 3)),
    "ResNet101": lambda: A.ResNet101(weights=None),
    "ResNet152": lambda: A.ResNet152(weights=None),
    "ResNet50V2": lambda: A.ResNet50V2(weights=None),
    "ResNet101V2_notop": lambda: A.ResNet101V2(weights=None, include_top=False, input_shape=(64, 64, 3)),
    "ResNet152V2": lambda: A.ResNet152V2(weights=None),
}


def describe(key):
    keras.backend.clear_session()
    model = CASES[key]()
    return {"name": model.name, "params": model.count_params(),
            "trainable": sum(int(np.prod(w.shape)) for w in model.trainable_weights),
            "output_shape": list(model.output.shape),
            "layers": [[lyr.name, type(lyr).__name__] for lyr in model.layers],
            "weights": [[w.path, list(w.shape)] for w in model.weights]}


@pytest.fixture(scope="module")
def described():
    """Every architecture described in a subprocess: the VGGs hold 140M weights each, which would
    raise this test process's peak memory (other tests measure it) by over a gigabyte."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import test_applications as t; "
            "print(json.dumps({k: t.describe(k) for k in t.CASES}))")
    r = subprocess.run([sys.executable, "-c", code, HERE], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("key", sorted(CASES))
def test_architecture_matches_keras(key, described):
    got, want = described[key], FIX["models"][key]
    for field in ("name", "params", "trainable", "output_shape", "layers", "weights"):
        assert got[field] == want[field], field


def fill(model):
    """The capture script's deterministic weights: weight i from numpy's default_rng(i)."""
    for i, w in enumerate(model.weights):
        v = np.random.default_rng(i).standard_normal(tuple(w.shape)).astype("float32")
        v = np.abs(v) + 0.5 if "variance" in w.path else v * (0.1 if len(w.shape) > 1 else 0.5)
        w.assign(v)


@pytest.mark.parametrize("key", ["VGG16", "ResNet50", "ResNet50V2"])
def test_outputs_match_keras_from_the_same_weights(key):
    keras.backend.clear_session()
    build = {
        "VGG16": lambda: A.VGG16(weights=None, include_top=False, pooling="avg", input_shape=(40, 40, 3)),
        "ResNet50": lambda: A.ResNet50(weights=None, include_top=False, pooling="avg", input_shape=(40, 40, 3)),
        "ResNet50V2": lambda: A.ResNet50V2(weights=None, include_top=False, pooling="max", input_shape=(40, 40, 3)),
    }[key]
    model = build()
    fill(model)
    probe = np.asarray(FIX["forward"]["probe"], dtype="float32")
    got = model.predict(probe, verbose=0)
    want = np.asarray(FIX["forward"][key], dtype="float32")
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-4 * float(np.abs(want).max()))


def test_input_tensor_and_trainability():
    keras.backend.clear_session()
    inp = keras.Input((32, 32, 3))
    scaled = keras.layers.Rescaling(1 / 255.0)(inp)
    base = A.VGG16(weights=None, include_top=False, input_tensor=scaled)
    assert base.inputs[0] is inp and list(base.output.shape) == [None, 1, 1, 512]
    base.trainable = False
    head = keras.layers.Dense(3)(keras.layers.Flatten()(base.output))
    model = keras.Model(base.input, head)
    assert len(model.trainable_weights) == 2
    out = model.predict(np.zeros((2, 32, 32, 3), "float32"), verbose=0)
    assert out.shape == (2, 3)


def test_channels_first():
    keras.backend.clear_session()
    keras.config.set_image_data_format("channels_first")
    try:
        model = A.ResNet50V2(weights=None, include_top=False, input_shape=(3, 40, 40), pooling="max")
        assert list(model.output.shape) == [None, 2048]
        assert model.get_layer("post_bn").axis in (1, [1])
        assert model.predict(np.zeros((1, 3, 40, 40), "float32"), verbose=0).shape == (1, 2048)
        assert list(A.VGG16(weights=None, include_top=False, input_shape=(3, 32, 32)).output.shape) == [None, 512, 1, 1]
        with pytest.raises(ValueError, match="at least 32x32"):
            A.VGG16(weights=None, include_top=False, input_shape=(3, 16, 40))
    finally:
        keras.config.set_image_data_format("channels_last")


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_input_matches_keras(mode):
    x = np.asarray(FIX["preprocess_input"]["x"], dtype="float32")
    before = x.copy()
    want = np.asarray(FIX["preprocess_input"]["imagenet_utils_" + mode])
    got = imagenet_utils.preprocess_input(x, mode=mode)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(x, before)  # the caller's array is not modified
    tensor = imagenet_utils.preprocess_input(keras.ops.convert_to_tensor(x), mode=mode)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tensor), want, rtol=1e-6, atol=1e-5)
    ints = imagenet_utils.preprocess_input(x.astype("uint8"), mode=mode)
    assert ints.dtype == np.float32


def test_module_preprocessors_match_keras():
    x = np.asarray(FIX["preprocess_input"]["x"], dtype="float32")
    for name, fn in [("vgg16", A.vgg16.preprocess_input), ("vgg19", A.vgg19.preprocess_input),
                     ("resnet", A.resnet.preprocess_input), ("resnet50", A.resnet50.preprocess_input),
                     ("resnet_v2", A.resnet_v2.preprocess_input), ("imagenet_utils", imagenet_utils.preprocess_input)]:
        np.testing.assert_allclose(fn(x), np.asarray(FIX["preprocess_input"][name]), rtol=1e-6, atol=1e-5,
                                   err_msg=name)


def test_preprocess_channels_first_and_errors():
    x = np.random.default_rng(0).random((2, 4, 5, 3)).astype("float32") * 255
    first = imagenet_utils.preprocess_input(x.transpose(0, 3, 1, 2), data_format="channels_first")
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), imagenet_utils.preprocess_input(x), rtol=1e-6)
    with pytest.raises(ValueError, match="mode"):
        imagenet_utils.preprocess_input(x, mode="keras")
    with pytest.raises(ValueError, match="3 color channels"):
        imagenet_utils.preprocess_input(x[..., :2])


def test_decode_predictions(monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    monkeypatch.setattr(imagenet_utils, "_CLASS_INDEX", index)
    preds = np.zeros((2, 1000), "float32")
    preds[0, [5, 7, 9]] = [0.2, 0.5, 0.3]
    preds[1, 999] = 1.0
    out = A.vgg16.decode_predictions(preds, top=3)
    assert [r[1] for r in out[0]] == ["class_7", "class_9", "class_5"]
    assert out[1][0][:2] == ("n00000999", "class_999") and out[1][0][2] == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


def test_argument_errors():
    with pytest.raises(ValueError, match="`weights` argument should be"):
        A.VGG16(weights="no/such/file.h5")
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        A.ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 32x32"):
        A.VGG19(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="static `input_shape`"):
        A.ResNet50(weights=None, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="`input_shape` should be"):
        A.VGG16(weights="imagenet", input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="Only `None` and `softmax`"):
        A.VGG16(weights="imagenet", classifier_activation="relu")
    with pytest.raises(ValueError, match="three integers"):
        A.VGG16(weights=None, include_top=False, input_shape=(64, 64))
    with pytest.raises(ValueError, match="symbolic tensor"):
        A.VGG16(weights=None, include_top=False, input_tensor=np.zeros((1, 32, 32, 3)))
    with pytest.warns(UserWarning, match="1 or 3 input channels"):
        A.VGG16(weights=None, include_top=False, input_shape=(32, 32, 5))
    with pytest.raises(ValueError, match="`pooling` must be None, 'avg' or 'max'"):
        A.ResNet50(weights=None, include_top=False, pooling="sum")
    with pytest.raises(AttributeError, match="keras.applications.MobileNetV2 is not available"):
        _ = A.MobileNetV2


def test_weights_file_path_and_imagenet_loading(tmp_path, monkeypatch):
    keras.backend.clear_session()
    src = A.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    fill(src)
    path = str(tmp_path / "r.weights.h5")
    src.save_weights(path)
    probe = np.random.default_rng(1).random((1, 32, 32, 3)).astype("float32")
    again = A.VGG16(weights=path, include_top=False, input_shape=(32, 32, 3))
    np.testing.assert_array_equal(again.predict(probe, verbose=0), src.predict(probe, verbose=0))
    # weights="imagenet" reads Keras' legacy .h5 layout from the models cache
    h5py = pytest.importorskip("h5py")
    legacy = tmp_path / "vgg16_notop.h5"
    write_legacy_h5(h5py, src, legacy, keras2_style=True)
    seen = {}

    def fetch(file_name, origin, file_hash):
        seen.update(name=file_name, origin=origin, hash=file_hash)
        return str(legacy)

    monkeypatch.setattr(imagenet_utils, "fetch_weights", fetch)
    pre = A.VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert seen["name"] == "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert seen["origin"].endswith("/keras-applications/vgg16/" + seen["name"])
    assert seen["hash"] == "6d6bbae143d832006294945121d1f1fc"
    np.testing.assert_array_equal(pre.predict(probe, verbose=0), src.predict(probe, verbose=0))


def write_legacy_h5(h5py, model, path, keras2_style):
    """``model``'s weights in the legacy layout; Keras 2 style: bytes names with ``:0`` under a
    ``model_weights`` group, as in ``model.save("x.h5")`` files and the published application weights."""
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if keras2_style else f
        names = [lyr.name for lyr in model.layers]
        root.attrs["layer_names"] = [n.encode() for n in names] if keras2_style else names
        for lyr in model.layers:
            g = root.create_group(lyr.name)
            ws = list(lyr.trainable_weights) + list(lyr.non_trainable_weights)
            wn = [f"{w.path}:0" if keras2_style else w.path for w in ws]
            g.attrs["weight_names"] = [n.encode() for n in wn] if keras2_style else wn
            for n, w in zip(wn, ws):
                g.create_dataset(n, data=keras.ops.convert_to_numpy(w))


def small_model():
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, name="block1_conv1")(inp)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Activation("relu", name="act")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(inp, keras.layers.Dense(5, name="predictions")(h), name="small")


def test_legacy_h5_written_by_keras():
    pytest.importorskip("h5py")
    keras.backend.clear_session()
    model = small_model()
    model.load_weights(os.path.join(HERE, "fixtures", "legacy_weights.h5"))
    fix = FIX["legacy_h5"]
    for w in model.weights:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), np.asarray(fix["weights"][w.path], "float32"))
    got = model.predict(np.asarray(fix["probe"], "float32"), verbose=0)
    np.testing.assert_allclose(got, np.asarray(fix["output"]), rtol=1e-5, atol=1e-5)


def test_legacy_h5_by_name_and_mismatches(tmp_path):
    h5py = pytest.importorskip("h5py")
    keras.backend.clear_session()
    fixture = os.path.join(HERE, "fixtures", "legacy_weights.h5")
    # by name: a model with other layers in another order takes the two it shares by name
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, name="block1_conv1")(inp)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Dense(7, name="extra")(h)
    other = keras.Model(inp, keras.layers.Dense(5, name="predictions")(keras.layers.Dense(6)(h)))
    before = keras.ops.convert_to_numpy(other.get_layer("extra").kernel).copy()
    with pytest.warns(UserWarning, match="Skipping loading weights for layer #2 \\(named predictions\\)"):
        other.load_weights(fixture, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(other.get_layer("block1_conv1").kernel),
                                  np.asarray(FIX["legacy_h5"]["weights"]["block1_conv1/kernel"], "float32"))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(other.get_layer("extra").kernel), before)
    with pytest.raises(ValueError, match="Shape mismatch"):
        other.load_weights(fixture, by_name=True)
    # in order: the count of layers with weights must match, and nothing is assigned on a mismatch
    with pytest.raises(ValueError, match="Model expected 4 layers, found 3 saved layers"):
        other.load_weights(fixture)
    wrong = keras.Model(inp, keras.layers.Dense(5)(keras.layers.Dense(3)(h)))
    with pytest.raises(ValueError, match="layer count mismatch|Weight count mismatch|shape mismatch"):
        wrong.load_weights(fixture)
    with pytest.raises(ValueError, match="skip_mismatch"):
        small_model().load_weights(fixture, skip_mismatch=True)
    with pytest.raises(ValueError, match="Invalid keyword arguments"):
        small_model().load_weights(fixture, by_nam=True)
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        small_model().load_weights(str(bad))
    empty = tmp_path / "empty.h5"
    with h5py.File(empty, "w") as f:
        f.create_group("x")
    with pytest.raises(ValueError, match="not a Keras HDF5 weights file"):
        small_model().load_weights(str(empty))


def test_legacy_h5_needs_h5py(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match="requires `h5py`"):
        small_model().load_weights(str(tmp_path / "x.h5"))


def test_skip_mismatch_on_native_weights(tmp_path):
    keras.backend.clear_session()
    a = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    b = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(5)])
    path = str(tmp_path / "a.weights.h5")
    a.save_weights(path)
    with pytest.raises(ValueError, match="the model expects"):
        b.load_weights(path)
    with pytest.warns(UserWarning, match="skip_mismatch=True"):
        b.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(b.layers[0].kernel),
                                  keras.ops.convert_to_numpy(a.layers[0].kernel))
    with pytest.raises(ValueError, match="Invalid keyword arguments"):
        b.load_weights(path, by_name=True)


def test_keras_compat_keeps_random_init_offline(tmp_path):
    script = textwrap.dedent(
        """
        import numpy as np
        import keras
        base = keras.applications.ResNet50V2(include_top=False, input_shape=(32, 32, 3))
        feats = keras.Model(base.input, [layer.output for layer in base.layers])
        out = feats(np.random.random((1, 32, 32, 3)).astype("float32"))
        print("OUT", len(out), tuple(out[-1].shape))
        """
    )
    p = tmp_path / "script.py"
    p.write_text(script)
    env = dict(os.environ, FERROGRAD_HOME=str(tmp_path / "home"))
    env.pop("FERROGRAD_DATA", None)
    r = subprocess.run([sys.executable, "-m", "ferrograd.keras_compat", "--synthetic-data", str(p)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "OUT 190 (1, 1, 1, 2048)" in r.stdout
    assert "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5 are not local" in r.stderr
