"""The losses added for issue 17 against Keras 3.15 (torch) outputs stored in
fixtures/keras_loss_metric.json (written by fixtures/make_keras_loss_metric_fixtures.py):
function forms, every reduction with and without sample weights, configs and ids; a float64
finite-difference gradient check of each; bad arguments."""
import json
import os

import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import losses

FIX = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "keras_loss_metric.json")))
CASES = FIX["losses"]
FN_KW = {"sparse_categorical_crossentropy": ("from_logits", "ignore_class"),
         "categorical_generalized_cross_entropy": ("q",), "circle": ("gamma", "margin", "remove_diagonal"),
         "cosine_similarity": ("axis",), "huber": ("delta",), "dice": ("axis",), "tversky": ("alpha", "beta", "axis"),
         "categorical_focal_crossentropy": ("alpha", "gamma", "from_logits", "label_smoothing"),
         "binary_focal_crossentropy": ("apply_class_balancing", "alpha", "gamma", "from_logits", "label_smoothing")}


def _kwargs(case):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}


def _id(case):
    return case["class"] + "".join(f"-{k}={v}" for k, v in case["kwargs"].items())


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_values_match_keras(case):
    yt = np.array(case["y_true"], np.float32)
    yp = np.array(case["y_pred"], np.float32)
    sw = np.array(case["sample_weight"], np.float32)
    kw = _kwargs(case)
    fkw = {k: v for k, v in kw.items() if k in FN_KW.get(case["fn"], ())}
    got = getattr(losses, case["fn"])(yt, yp, **fkw).numpy()
    np.testing.assert_allclose(got, case["fn_value"], rtol=2e-5, atol=2e-6)
    for key, want in case["values"].items():
        if isinstance(want, str):  # Keras raised here (e.g. weights that do not fit the loss shape)
            continue
        red, weighted = key.split("+")[0], key.endswith("+sw")
        loss = getattr(losses, case["class"])(reduction=red, **kw)
        got = loss(yt, yp, sample_weight=sw if weighted else None).numpy()
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6, err_msg=key)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_config_matches_keras_and_round_trips(case):
    kw = _kwargs(case)
    loss = getattr(losses, case["class"])(**kw)
    cfg = json.loads(json.dumps(loss.get_config()))
    for k, v in case["config"].items():
        assert cfg[k] == v, k
    again = type(loss).from_config(loss.get_config())
    assert again.get_config() == loss.get_config()
    back = losses.deserialize(losses.serialize(loss))
    assert type(back) is type(loss) and back.get_config() == loss.get_config()


def test_string_ids():
    for ident, fn in [("kld", losses.kl_divergence), ("KLD", losses.kl_divergence),
                      ("mape", losses.mean_absolute_percentage_error), ("MAPE", losses.mean_absolute_percentage_error),
                      ("msle", losses.mean_squared_logarithmic_error), ("MSLE", losses.mean_squared_logarithmic_error),
                      ("bce", losses.binary_crossentropy), ("hinge", losses.hinge), ("log_cosh", losses.log_cosh),
                      ("poisson", losses.poisson), ("dice", losses.dice), ("tversky", losses.tversky),
                      ("cosine_similarity", losses.cosine_similarity),
                      ("binary_focal_crossentropy", losses.binary_focal_crossentropy)]:
        assert losses.get(ident) is fn, ident
    for name in ("KLDivergence", "Hinge", "SquaredHinge", "CategoricalHinge", "LogCosh", "Poisson", "CosineSimilarity",
                 "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError", "CategoricalFocalCrossentropy",
                 "BinaryFocalCrossentropy", "Dice", "Tversky"):
        assert type(losses.get(name)).__name__ == name


def test_compile_with_new_loss_ids_trains():
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    for loss in ("squared_hinge", "binary_focal_crossentropy", losses.Dice(), "kld", "msle", "log_cosh"):
        model = fg.Sequential([fg.layers.Input((4,)), fg.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss=loss)
        hist = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        assert np.isfinite(hist.history["loss"][0])


rng = np.random.default_rng(7)
POS = rng.uniform(0.1, 0.9, (3, 4))
LAB = (rng.uniform(size=(3, 4)) > 0.5).astype(np.float64)
DIST = POS / POS.sum(-1, keepdims=True)


@pytest.mark.parametrize("name,fn,target,pred", [
    ("kl_divergence", losses.kl_divergence, DIST[::-1].copy(), DIST),
    ("hinge", losses.hinge, LAB, rng.normal(0, 0.4, (3, 4))),
    ("squared_hinge", losses.squared_hinge, LAB, rng.normal(0, 0.4, (3, 4))),
    ("categorical_hinge", losses.categorical_hinge, np.eye(4)[[0, 2, 3]], rng.normal(0, 1, (3, 4))),
    ("log_cosh", losses.log_cosh, POS, rng.normal(0, 2, (3, 4))),
    ("poisson", losses.poisson, LAB, POS),
    ("cosine_similarity", losses.cosine_similarity, rng.normal(size=(3, 4)), rng.normal(size=(3, 4))),
    ("msle", losses.mean_squared_logarithmic_error, POS, POS[::-1].copy()),
    ("mape", losses.mean_absolute_percentage_error, POS + 0.5, POS),
    ("huber", lambda t, p: losses.huber(t, p, delta=0.3), POS, rng.normal(0, 1, (3, 4))),
    ("cfce", losses.categorical_focal_crossentropy, np.eye(4)[[1, 0, 3]], DIST),
    ("cfce_logits", lambda t, p: losses.categorical_focal_crossentropy(t, p, from_logits=True, gamma=1.5),
     np.eye(4)[[1, 0, 3]], rng.normal(size=(3, 4))),
    ("bfce", losses.binary_focal_crossentropy, LAB, POS),
    ("bfce_logits", lambda t, p: losses.binary_focal_crossentropy(t, p, apply_class_balancing=True, from_logits=True),
     LAB, rng.normal(size=(3, 4))),
    ("dice", losses.dice, LAB, POS),
    ("tversky", lambda t, p: losses.tversky(t, p, alpha=0.3, beta=0.7, axis=(1,)), LAB, POS),
    ("cgce", lambda t, p: losses.categorical_generalized_cross_entropy(t, p, q=0.3), np.array([1, 0, 3]), DIST),
    ("ctc", losses.ctc, np.array([[1, 1, 2], [3, 0, 0]]), rng.normal(size=(2, 5, 4))),
    ("circle", lambda t, p: losses.circle(t, p, gamma=4.0), np.array([0, 1, 0]), POS / np.linalg.norm(POS, axis=1,
                                                                                                  keepdims=True)),
])
def test_gradcheck(name, fn, target, pred):
    t = fg.tensor(np.asarray(target, np.float64 if np.asarray(target).dtype.kind == "f" else np.int64))
    gradcheck(lambda p: fn(t, p), pred)
    if name in ("kl_divergence", "cosine_similarity", "msle", "dice", "tversky", "log_cosh"):
        p = fg.tensor(np.asarray(pred, np.float64))
        gradcheck(lambda tt: fn(tt, p), target)


def test_masks_reach_the_reduction():
    """ignore_class and Circle's positive-entry mask: the averaging reductions average over the
    kept entries (Keras' apply_mask), also inside compile/fit."""
    logits = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    labels = np.array([0, 1, 2, 1])
    per = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True, ignore_class=1).numpy()
    got = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1)(labels, logits).item()
    assert got == pytest.approx(per.sum() / 2, rel=1e-6)
    got = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1, reduction="sum")(labels, logits)
    assert got.item() == pytest.approx(per.sum(), rel=1e-6)
    # a mask riding on y_pred counts too
    pred = fg.tensor(logits)
    pred._keras_mask = fg.tensor(np.array([True, False, True, True]))
    full = losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(labels, logits).numpy()
    got = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, pred).item()
    assert got == pytest.approx(full[[0, 2, 3]].mean(), rel=1e-6)
    fn = losses._compiled_call(lambda t, p: losses.sparse_categorical_crossentropy(t, p, from_logits=True),
                               labels, pred, None).item()
    assert fn == pytest.approx(got, rel=1e-6)


def test_log_cosh_is_finite_for_large_errors():
    v = losses.log_cosh(np.array([[0.0, 0.0]], np.float32), np.array([[1e4, -1e4]], np.float32)).numpy()
    np.testing.assert_allclose(v, [1e4 - np.log(2.0)], rtol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        losses.CategoricalFocalCrossentropy(axis=True)
    with pytest.raises(ValueError, match="gamma"):
        losses.BinaryFocalCrossentropy(gamma=-1.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalFocalCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        losses.Dice(reduction="average")
    with pytest.raises(ValueError, match="Could not interpret loss"):
        losses.get("kldd")
    with pytest.raises(ValueError, match=r"Targets `y_true` are expected to be a tensor of shape"):
        losses.ctc(np.zeros((2, 3, 1)), np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match=r"Logits `y_pred` are expected to be a tensor of shape"):
        losses.ctc(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)
    with pytest.raises(AttributeError, match="not available in ferrograd yet"):
        losses.NoSuchLoss  # noqa: B018


def test_loss_dtype_sets_the_computation_dtype():
    yt, yp = np.ones((2, 3), np.float32), np.full((2, 3), 0.25, np.float32)
    out = losses.LogCosh(dtype="float64")(yt, yp)
    assert out.dtype == "float64"
    np.testing.assert_allclose(out.item(), np.log(np.cosh(0.75)), rtol=1e-12)
    assert losses.LogCosh()(yt, yp).dtype == "float32"
    with pytest.raises(ValueError, match="Invalid dtype for a loss"):
        losses.Dice(dtype="int32")


def test_serialized_form_and_custom_losses(tmp_path):
    assert losses.serialize(losses.Tversky(alpha=0.2, beta=0.8)) == {
        "module": "keras.losses", "class_name": "Tversky", "registered_name": None,
        "config": {"name": "tversky", "reduction": "sum_over_batch_size", "alpha": 0.2, "beta": 0.8, "axis": None}}

    @fg.saving.register_keras_serializable(package="test17")
    class ScaledMSE(losses.Loss):
        def __init__(self, scale=2.0, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            return self.scale * losses.mean_squared_error(y_true, y_pred)

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    cfg = losses.serialize(ScaledMSE(3.0))
    assert cfg["registered_name"] == "test17>ScaledMSE"
    back = losses.deserialize(cfg)
    assert isinstance(back, ScaledMSE) and back.scale == 3.0
    model = fg.Sequential([fg.layers.Input((2,)), fg.layers.Dense(1)])
    model.compile(optimizer="sgd", loss=ScaledMSE(3.0))
    x = np.ones((4, 2), np.float32)
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    model.save(str(tmp_path / "m.keras"))
    loaded = fg.saving.load_model(str(tmp_path / "m.keras"))
    assert isinstance(loaded.loss, ScaledMSE) and loaded.loss.scale == 3.0


def test_ctc_trains_through_fit():
    r = np.random.default_rng(5)
    x = r.normal(size=(16, 10, 3)).astype(np.float32)
    y = r.integers(1, 4, size=(16, 3)).astype(np.int32)
    y[::3, 2] = 0  # some shorter labels
    model = fg.Sequential([fg.layers.Input((10, 3)), fg.layers.Dense(16, activation="relu"), fg.layers.Dense(4)])
    model.compile(optimizer=fg.optimizers.Adam(0.02), loss=losses.CTC())
    hist = model.fit(x, y, batch_size=8, epochs=8, verbose=0)
    assert np.isfinite(hist.history["loss"]).all() and hist.history["loss"][-1] < hist.history["loss"][0]
    model.compile(optimizer="adam", loss="ctc")
    assert np.isfinite(model.evaluate(x, y, verbose=0))
