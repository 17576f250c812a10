"""ferrograd.hub.models ViTBackbone / ViTImageClassifier: against keras_hub 0.32 with the same weights
(tests/fixtures/hub_vit.json, written by tests/fixtures/capture_keras_hub_vit.py), against a NumPy
re-implementation from the model's own weights, training, configs, saving and argument errors."""
import json
import math
import os

import numpy as np
import pytest

import ferrograd as keras
from ferrograd.hub.models import ViTBackbone, ViTImageClassifier

FIXTURES = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "hub_vit.json")))


def keras_hub_backbone(name):
    case = FIXTURES["backbones"][name]
    backbone = ViTBackbone(**case["kwargs"])
    backbone.set_weights([np.asarray(w["value"], np.float32) for w in case["weights"]])
    return backbone, np.asarray(case["images"], np.float32), case


@pytest.mark.parametrize("name", sorted(FIXTURES["backbones"]))
def test_backbone_matches_keras_hub(name):
    case = FIXTURES["backbones"][name]
    backbone = ViTBackbone(**case["kwargs"])
    assert [tuple(w.shape) for w in backbone.weights] == [tuple(w["shape"]) for w in case["weights"]]
    assert backbone.count_params() == case["count_params"]
    backbone, images, _ = keras_hub_backbone(name)
    np.testing.assert_allclose(backbone(images).numpy(), np.asarray(case["output"]), rtol=2e-5, atol=2e-5)
    cfg = backbone.get_config()
    for key, value in case["config"].items():
        got = cfg[key]
        assert (list(got) if isinstance(got, tuple) else got) == value, key


@pytest.mark.parametrize("name", sorted(FIXTURES["classifiers"]))
def test_classifier_matches_keras_hub(name):
    case = FIXTURES["classifiers"][name]
    backbone, images, _ = keras_hub_backbone(case["backbone"])
    model = ViTImageClassifier(backbone, **case["kwargs"])
    assert model.count_params() == case["count_params"]
    head = model.weights[len(backbone.weights):]
    assert [tuple(w.shape) for w in head] == [tuple(w["shape"]) for w in case["head_weights"]]
    model.set_weights([w.numpy() for w in backbone.weights] + [np.asarray(w["value"], np.float32)
                                                               for w in case["head_weights"]])
    np.testing.assert_allclose(model(images).numpy(), np.asarray(case["output"]), rtol=2e-5, atol=2e-5)
    cfg = model.get_config()
    for key, value in case["config"].items():
        assert cfg[key] == value, key


# ---- NumPy reference -----------------------------------------------------------------------------
def _ln(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def numpy_vit(weights, images, patch, heads, eps, layers):
    w = iter(weights)
    cls, kernel, bias, pos = next(w), next(w), next(w), next(w)
    b, hgt, wid, c = images.shape
    ph, pw = patch
    gh, gw = hgt // ph, wid // pw
    patches = images.reshape(b, gh, ph, gw, pw, c).transpose(0, 1, 3, 2, 4, 5).reshape(b, gh * gw, ph * pw * c)
    x = patches @ kernel.reshape(ph * pw * c, -1) + bias  # (B, P, D)
    x = np.concatenate([np.broadcast_to(cls, (b, 1, x.shape[-1])), x], axis=1) + pos  # (B, P+1, D)
    for _ in range(layers):
        g1, b1, qk, qb, kk, kb, vk, vb, ok, ob, g2, b2, w1, c1, w2, c2 = (next(w) for _ in range(16))
        h = _ln(x, g1, b1, eps)
        q = np.einsum("btd,dnh->bnth", h, qk) + qb.transpose(0, 1)[None, :, None, :]
        k = np.einsum("btd,dnh->bnth", h, kk) + kb[None, :, None, :]
        v = np.einsum("btd,dnh->bnth", h, vk) + vb[None, :, None, :]
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        a = np.einsum("bnth,nhd->btd", p @ v, ok) + ob
        x = x + a
        y = _gelu(_ln(x, g2, b2, eps) @ w1 + c1) @ w2 + c2
        x = x + y
    g, beta = next(w), next(w)
    return _ln(x, g, beta, eps)


def test_backbone_matches_numpy_reference():
    keras.random.seed(4)
    backbone = ViTBackbone(image_shape=(12, 8, 2), patch_size=(4, 2), num_layers=2, num_heads=2, hidden_dim=12,
                           mlp_dim=20)
    rng = np.random.RandomState(5)
    weights = [rng.normal(0, 0.3, w.shape).astype(np.float32) for w in backbone.weights]
    backbone.set_weights(weights)
    images = rng.uniform(0, 1, (3, 12, 8, 2)).astype(np.float32)
    want = numpy_vit([w.astype(np.float64) for w in weights], images.astype(np.float64), (4, 2), 2, 1e-6, 2)
    got = backbone(images).numpy()
    assert got.shape == (3, 1 + 3 * 4, 12)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


# ---- training, configs, saving -------------------------------------------------------------------
def tiny_classifier(**kwargs):
    keras.random.seed(0)
    backbone = ViTBackbone(image_shape=(28, 28, 1), patch_size=7, num_layers=2, num_heads=2, hidden_dim=16,
                           mlp_dim=32, **kwargs)
    return ViTImageClassifier(backbone, num_classes=4)


def test_training_smoke_loss_decreases():
    model = tiny_classifier()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 1, (64, 28, 28, 1)).astype(np.float32)
    y = rng.randint(0, 4, 64).astype(np.int32)
    cols = np.arange(28)
    for i, label in enumerate(y):  # class k: a cosine of k + 1 periods per 14 columns on the noise
        x[i, :, :, 0] += np.cos(2 * np.pi * (label + 1) * cols / 14)[None, :]
    hist = model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    losses = hist.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert hist.history["sparse_categorical_accuracy"][-1] > 0.8
    assert set(hist.history) == {"loss", "sparse_categorical_accuracy"}


def test_default_compile_matches_keras_hub():
    model = tiny_classifier()
    assert model.compiled
    assert type(model.optimizer).__name__ == "Adam" and math.isclose(float(model.optimizer.learning_rate), 5e-5)
    assert model.loss.from_logits is True
    softmax = ViTImageClassifier(model.backbone, num_classes=3, activation="softmax")
    assert softmax.loss.from_logits is False


def test_config_round_trip():
    model = tiny_classifier(dropout_rate=0.1, use_class_token=False, layer_norm_epsilon=1e-5)
    cfg = model.backbone.get_config()
    again = ViTBackbone.from_config(cfg)
    assert again.get_config() == cfg
    clf = ViTImageClassifier(model.backbone, num_classes=4, pooling="gap", intermediate_dim=6, dropout=0.2)
    ccfg = clf.get_config()
    rebuilt = ViTImageClassifier.from_config(ccfg)
    assert {k: v for k, v in rebuilt.get_config().items() if k not in ("backbone", "name")} == {
        k: v for k, v in ccfg.items() if k not in ("backbone", "name")}
    assert rebuilt.count_params() == clf.count_params()


def test_save_load_round_trip(tmp_path):
    model = tiny_classifier()
    rng = np.random.RandomState(1)
    model.set_weights([rng.normal(0, 0.2, w.shape).astype(np.float32) for w in model.weights])
    images = rng.uniform(0, 1, (3, 28, 28, 1)).astype(np.float32)
    want = model(images).numpy()
    path = str(tmp_path / "vit.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is ViTImageClassifier and type(loaded.backbone) is ViTBackbone
    np.testing.assert_array_equal(loaded(images).numpy(), want)
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), want)
    bpath = str(tmp_path / "backbone.keras")
    model.backbone.save(bpath)
    np.testing.assert_array_equal(keras.saving.load_model(bpath)(images).numpy(), model.backbone(images).numpy())


def test_argument_errors():
    kw = dict(image_shape=(8, 8, 3), patch_size=4, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=8)
    with pytest.raises(ValueError, match="data_format='channels_first' is not implemented"):
        ViTBackbone(**kw, data_format="channels_first")
    with pytest.raises(ValueError, match="height 8 should be divisible by patch size 3"):
        ViTBackbone(**{**kw, "patch_size": 3})
    with pytest.raises(ValueError, match="hidden_dim"):
        ViTBackbone(**{**kw, "num_heads": 3})
    with pytest.raises(ValueError, match="defined height and width"):
        ViTBackbone(**{**kw, "image_shape": (None, 8, 3)})
    backbone = ViTBackbone(**kw)
    with pytest.raises(ValueError, match="pooling"):
        ViTImageClassifier(backbone, num_classes=2, pooling="max")
    with pytest.raises(ValueError, match="preprocessor"):
        ViTImageClassifier(backbone, num_classes=2, preprocessor=object())
    with pytest.raises(ValueError, match="head_dtype"):
        ViTImageClassifier(backbone, num_classes=2, head_dtype="float16")
    with pytest.raises(ValueError, match=r"expected images of shape \(batch, 8, 8, 3\)"):
        backbone(np.zeros((1, 8, 4, 3), np.float32))
