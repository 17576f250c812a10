"""MixUp, CutMix, RandomErasing, RandomPerspective, RandomElasticTransform, RandAugment and
AugMix: configs against
Keras 3 (fixture from tests/fixtures/capture_image_warp.py), the defining properties of each
augmentation, dict inputs, inference passthrough and argument errors."""
import json
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers

FIX = json.loads((Path(__file__).parent / "fixtures" / "keras_image_warp.json").read_text())
RNG = np.random.default_rng(0)
X = RNG.uniform(0, 255, (6, 9, 11, 3)).astype("float32")
LABELS = np.eye(6, dtype="float32")

CASES = {
    "RandomErasing": [dict(), dict(factor=0.5, scale=0.3, fill_value=(1, 2, 3), value_range=(0, 1), seed=4)],
    "RandomPerspective": [dict(), dict(factor=(0.2, 0.6), scale=0.4, interpolation="nearest", fill_value=2.0,
                                       seed=3)],
    "RandomElasticTransform": [dict(), dict(factor=0.7, scale=(0.2, 0.5), fill_mode="wrap", value_range=(-1, 1),
                                            seed=2)],
    "MixUp": [dict(), dict(alpha=0.5, seed=1)],
    "CutMix": [dict(), dict(factor=(0.3, 0.8), seed=9)],
    "RandAugment": [dict(), dict(value_range=(0, 1), num_ops=3, factor=(0.2, 0.7), interpolation="nearest", seed=4)],
    "AugMix": [dict(), dict(value_range=(0, 1), num_chains=2, chain_depth=2, factor=0.5, alpha=0.5, all_ops=False,
                            seed=3)],
}


def _norm(v):
    return json.loads(json.dumps(v, default=list))


@pytest.mark.parametrize("name", sorted(CASES))
def test_configs_match_keras_and_round_trip(name):
    for kwargs, want in zip(CASES[name], FIX["configs"][name]):
        layer = getattr(layers, name)(**kwargs)
        cfg = layer.get_config()
        got = {k: v for k, v in cfg.items() if k not in ("name", "dtype", "trainable")}
        assert _norm(got) == _norm(want)
        again = getattr(layers, name).from_config(cfg)
        assert _norm(again.get_config()) == _norm(cfg)


@pytest.mark.parametrize("name", sorted(CASES))
def test_inference_returns_inputs_and_training_keeps_shape(name):
    layer = getattr(layers, name)(seed=5)
    assert np.array_equal(np.asarray(layer(X, training=False)), X)
    y = layer(X, training=True)
    assert tuple(y.shape) == X.shape and y.dtype == "float32" and np.isfinite(y.numpy()).all()
    assert tuple(layer(X[0], training=True).shape) == X[0].shape
    first = getattr(layers, name)(seed=5, data_format="channels_first")
    yc = first(np.ascontiguousarray(np.moveaxis(X, -1, 1)), training=True)
    assert tuple(yc.shape) == (6, 3, 9, 11)


def test_mixup_images_and_labels_mix_with_the_same_weights():
    out = layers.MixUp(alpha=0.4, seed=3)({"images": X, "labels": LABELS}, training=True)
    img, lab = out["images"].numpy(), out["labels"].numpy()
    np.testing.assert_allclose(lab.sum(1), 1.0, rtol=1e-6)
    # with one-hot labels of distinct images, each output image is the label-weighted sum of inputs
    np.testing.assert_allclose(img, np.einsum("ij,jhwc->ihwc", lab, X), rtol=1e-4, atol=1e-2)
    assert not np.allclose(img, X)
    # seeded: the same layer config gives the same draw
    again = layers.MixUp(alpha=0.4, seed=3)({"images": X, "labels": LABELS}, training=True)
    np.testing.assert_array_equal(again["images"].numpy(), img)


def test_cutmix_pastes_a_box_from_another_image_and_mixes_labels_by_area():
    out = layers.CutMix(seed=7)({"images": X, "labels": LABELS}, training=True)
    img, lab = out["images"].numpy(), out["labels"].numpy()
    np.testing.assert_allclose(lab.sum(1), 1.0, rtol=1e-6)
    changed = 0
    for i in range(len(X)):
        own = np.all(img[i] == X[i], axis=-1)  # (H, W)
        if own.all():
            continue
        changed += 1
        donors = [j for j in range(len(X)) if j != i and np.all(img[i][~own] == X[j][~own])]
        assert len(donors) == 1  # the pasted pixels all come from one other image
        rows, cols = np.nonzero(~own)
        # the pasted region is a box
        assert (~own)[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
        pasted = (~own).mean()
        assert abs(lab[i, donors[0]] - pasted) < 0.35 and abs(lab[i, i] - (1 - pasted)) < 0.35
    assert changed >= 1


def test_random_erasing_fills_a_box_and_factor_zero_is_identity():
    y = layers.RandomErasing(fill_value=7.0, seed=2)(X, training=True).numpy()
    for i in range(len(X)):
        erased = np.all(y[i] != X[i], axis=-1)
        assert (y[i][erased] == 7.0).all()
        if erased.any():
            rows, cols = np.nonzero(erased)
            assert erased[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    assert (y == 7.0).any()
    np.testing.assert_array_equal(layers.RandomErasing(factor=0.0, seed=1)(X, training=True).numpy(), X)
    noisy = layers.RandomErasing(value_range=(0, 255), seed=4)(X, training=True).numpy()
    assert noisy.min() >= 0 and noisy.max() <= 255
    per_channel = layers.RandomErasing(fill_value=(1, 2, 3), seed=4)(X, training=True).numpy()
    hit = np.all(per_channel != X, axis=-1)
    if hit.any():
        np.testing.assert_array_equal(per_channel[hit][0], [1, 2, 3])


def test_random_perspective_scale_zero_is_identity_and_warps_otherwise():
    np.testing.assert_allclose(layers.RandomPerspective(scale=0.0, seed=1)(X, training=True).numpy(), X, atol=1e-3)
    y = layers.RandomPerspective(scale=0.5, seed=1)(X, training=True).numpy()
    assert not np.allclose(y, X)
    # as Keras, the (0, 0) corner stays in place
    np.testing.assert_allclose(y[:, 0, 0], X[:, 0, 0], atol=1e-3)


def test_random_elastic_transform_clips_to_the_value_range():
    y = layers.RandomElasticTransform(value_range=(10, 200), seed=3)(X, training=True).numpy()
    assert y.min() >= 10 and y.max() <= 200
    np.testing.assert_array_equal(layers.RandomElasticTransform(scale=0.0, value_range=(0, 255), seed=3)(
        X, training=True).numpy(), X)


def test_augmentations_run_inside_fit():
    model = fg.Sequential([fg.Input((9, 11, 3)), layers.MixUp(seed=1), layers.RandomErasing(seed=2),
                           layers.RandomPerspective(seed=3), layers.CutMix(seed=4),
                           layers.RandomElasticTransform(seed=5), layers.Flatten(), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    hist = model.fit(X / 255.0, np.zeros((6, 2), "float32"), epochs=1, batch_size=3, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    np.testing.assert_allclose(model.predict(X / 255.0, verbose=0),
                               model.layers[-1](model.layers[-2](X / 255.0)).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: layers.MixUp(alpha=0.0), ValueError, "alpha"),
    (lambda: layers.CutMix(factor=1.5), ValueError, "factor"),
    (lambda: layers.RandomErasing(scale=(0.1, 0.2, 0.3)), ValueError, "factor"),
    (lambda: layers.RandomErasing(fill_value=(1, 2)), ValueError, "fill_value"),
    (lambda: layers.RandomPerspective(scale=2.0), ValueError, "scale"),
    (lambda: layers.RandomPerspective(interpolation="cubic"), NotImplementedError, "interpolation"),
    (lambda: layers.RandomElasticTransform(fill_mode="edge"), NotImplementedError, "fill_mode"),
    (lambda: layers.MixUp()({"images": X, "bounding_boxes": {}}, training=True), NotImplementedError,
     "bounding_boxes"),
    (lambda: layers.CutMix()({"labels": LABELS}, training=True), ValueError, "images"),
    (lambda: layers.RandomErasing()(np.zeros((3, 3)), training=True), ValueError, "rank 3 or 4"),
])
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_rand_augment_runs_every_sub_layer(data_format, monkeypatch):
    x = X if data_format == "channels_last" else np.ascontiguousarray(np.moveaxis(X, -1, 1))
    layer = layers.RandAugment(num_ops=1, seed=3, data_format=data_format)
    assert layer._names == list(layers.RandAugment._ORDER)
    for i, name in enumerate(layer._names):
        monkeypatch.setattr(layer, "_choose", lambda n, i=i: [i] * n)
        y = layer(x, training=True).numpy()
        assert y.shape == x.shape and np.isfinite(y).all(), name
        assert y.min() >= -1e-3 and y.max() <= 255 + 1e-3, name
    np.testing.assert_array_equal(layers.RandAugment(num_ops=0)(X, training=True).numpy(), X)


def test_aug_mix_is_a_clipped_convex_mix(monkeypatch):
    layer = layers.AugMix(value_range=(0, 255), seed=5)
    y = layer(X, training=True).numpy()
    assert y.shape == X.shape and y.min() >= 0 and y.max() <= 255 and not np.allclose(y, X)
    # every chain step drawing "no augmentation": the mix of unchanged images is the input
    monkeypatch.setattr(layer, "_choose", lambda n: [len(layer._names)] * n)
    np.testing.assert_allclose(layer(X, training=True).numpy(), X, rtol=1e-5, atol=1e-3)
    assert len(layers.AugMix(all_ops=False)._names) == 7 and len(layers.AugMix()._names) == 11
    out = layers.AugMix(seed=1)({"images": X, "labels": LABELS}, training=True)
    np.testing.assert_array_equal(out["labels"].numpy(), LABELS)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: layers.RandAugment(num_ops=-1), ValueError, "num_ops"),
    (lambda: layers.RandAugment(factor=2.0), ValueError, "factor"),
    (lambda: layers.RandAugment(interpolation="bicubic"), NotImplementedError, "interpolation"),
    (lambda: layers.AugMix(num_chains=0), ValueError, "num_chains"),
    (lambda: layers.AugMix(alpha=0.0), ValueError, "alpha"),
])
def test_policy_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
