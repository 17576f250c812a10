"""The metrics added for issue 17 against Keras 3.15 (torch) results stored in
fixtures/keras_loss_metric.json (fixtures/make_keras_loss_metric_fixtures.py): results after each
of three update_state calls (the last two weighted), after reset_state, configs and string ids."""
import json
import os
import warnings

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import metrics

FIX = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "keras_loss_metric.json")))
CASES = FIX["metrics"]
# Keras numbers auto-named metrics (mean_io_u_1); ferrograd keeps the plain snake-case name.
IGNORED_CONFIG_KEYS = ("name",)
# ferrograd writes these arguments too (Keras leaves them out, so its round trip loses them)
SUPERSET = {"losses.CosineSimilarity": {"axis"}, "losses.Huber": {"delta"}, "metrics.CosineSimilarity": {"axis"}}


def _id(case):
    return case["class"] + "".join(f"-{k}={v}" for k, v in case["kwargs"].items())


def _arr(v, like):
    a = np.asarray(v)
    return a.astype(np.int32) if a.dtype.kind == "i" or (like is not None and "int" in like) else a.astype(np.float32)


def _close(got, want, msg):
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    assert got.shape == want.shape, (msg, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=5e-5, atol=5e-6, equal_nan=True, err_msg=msg)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_results_match_keras(case):
    m = getattr(metrics, case["class"])(**case["kwargs"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # R2Score's adjusted-score warnings, as in Keras
        for i, (batch, want) in enumerate(zip(case["batches"], case["results"])):
            yt = np.asarray(batch["y_true"])
            yt = yt.astype(np.int32) if case["class"] in ("SparseCategoricalCrossentropy",) or np.issubdtype(
                yt.dtype, np.integer) else yt.astype(np.float32)
            yp = np.asarray(batch["y_pred"])
            yp = yp.astype(np.int32) if np.issubdtype(yp.dtype, np.integer) else yp.astype(np.float32)
            sw = None if batch["sample_weight"] is None else np.asarray(batch["sample_weight"], np.float32)
            m.update_state(yt, yp, sample_weight=sw)
            _close(m.result(), want, f"after update {i}")
        m.reset_state()
        if not isinstance(case["after_reset"], str):
            _close(m.result(), case["after_reset"], "after reset")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_config_matches_keras_and_round_trips(case):
    m = getattr(metrics, case["class"])(**case["kwargs"])
    cfg = json.loads(json.dumps(m.get_config()))
    for k, v in case["config"].items():
        if k not in IGNORED_CONFIG_KEYS:
            assert cfg[k] == v, k
    again = type(m).from_config(m.get_config())
    assert again.get_config() == m.get_config()
    back = metrics.deserialize(metrics.serialize(m))
    assert type(back) is type(m) and back.get_config() == m.get_config()


@pytest.mark.parametrize("key", sorted(FIX["default_configs"]))
def test_default_configs_match_keras(key):
    ns, name = key.split(".")
    entry = FIX["default_configs"][key]
    cls = getattr(getattr(fg, ns), name)
    obj = cls(**entry["args"])
    cfg = json.loads(json.dumps(obj.get_config()))
    assert set(cfg) - set(entry["config"]) == SUPERSET.get(key, set())
    assert {k: cfg[k] for k in entry["config"]} == entry["config"]
    assert cls.from_config(obj.get_config()).get_config() == obj.get_config()


def test_masks_weigh_metric_values():
    logits = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)
    labels = np.array([0, 1, 2, 1])
    per = fg.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True).numpy()
    m = metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1)
    m.update_state(labels, logits)
    assert m.result() == pytest.approx(per[[0, 2]].mean(), rel=1e-6)
    pred = fg.tensor(logits)
    pred._keras_mask = fg.tensor(np.array([True, True, False, True]))
    m = metrics.SparseCategoricalCrossentropy(from_logits=True)
    m.update_state(labels, pred, sample_weight=np.array([1.0, 2.0, 3.0, 1.0], np.float32))
    assert m.result() == pytest.approx((per[0] + 2 * per[1] + per[3]) / 4, rel=1e-6)


def test_default_names_are_keras_snake_case():
    assert metrics.MeanIoU(num_classes=2).name == "mean_io_u"
    assert metrics.OneHotMeanIoU(num_classes=2).name == "one_hot_mean_io_u"
    assert metrics.TruePositives().name == "true_positives"
    assert metrics.PrecisionAtRecall(0.5).name == "precision_at_recall"
    assert metrics.LogCoshError().name == "logcosh"


def test_string_ids():
    for ident, cls in [("r2_score", metrics.R2Score), ("root_mean_squared_error", metrics.RootMeanSquaredError),
                       ("f1_score", metrics.F1Score), ("true_positives", metrics.TruePositives),
                       ("mape", metrics.MeanAbsolutePercentageError), ("msle", metrics.MeanSquaredLogarithmicError),
                       ("hinge", metrics.Hinge), ("kl_divergence", metrics.KLDivergence), ("poisson", metrics.Poisson),
                       ("binary_crossentropy", metrics.BinaryCrossentropy), ("logcosh", metrics.LogCoshError),
                       ("CosineSimilarity", metrics.CosineSimilarity),
                       ("PearsonCorrelation", metrics.PearsonCorrelation)]:
        assert type(metrics.get(ident)) is cls, ident
    with pytest.raises(ValueError, match="Could not interpret metric"):
        metrics.get("r2")
    assert metrics.hinge is fg.losses.hinge


def test_metrics_in_fit_logs_and_function_metrics():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = fg.Sequential([fg.layers.Input((3,)), fg.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse",
                  metrics=["root_mean_squared_error", "r2_score", "mape", fg.losses.log_cosh,
                           metrics.PearsonCorrelation(axis=0)])
    logs = model.evaluate(x, y, batch_size=40, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(logs["root_mean_squared_error"], np.sqrt(np.mean((pred - y) ** 2)), rtol=1e-4)
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    np.testing.assert_allclose(logs["r2_score"], r2, rtol=1e-4)
    np.testing.assert_allclose(logs["log_cosh"], np.mean(np.log(np.cosh(pred - y))), rtol=1e-4)
    np.testing.assert_allclose(logs["pearson_correlation"], np.corrcoef(pred[:, 0], y[:, 0])[0, 1], rtol=1e-4)


def test_vector_results_and_thresholds():
    m = metrics.TruePositives(thresholds=[0.2, 0.8])
    m.update_state([0, 1, 1, 1], [0.9, 0.1, 0.5, 0.95])
    np.testing.assert_allclose(np.asarray(m.result()), [2.0, 1.0])
    f1 = metrics.F1Score(threshold=0.5)
    f1.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32),
                    np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32))
    np.testing.assert_allclose(np.asarray(f1.result()), [0.5, 0.8, 0.6666667], rtol=1e-5)  # Keras' docstring


def test_bad_arguments():
    cases = [
        (lambda: metrics.F1Score(average="mean"), "Invalid `average` argument value"),
        (lambda: metrics.FBetaScore(beta=2), "It should be a Python float"),
        (lambda: metrics.FBetaScore(beta=-1.0), "It should be > 0"),
        (lambda: metrics.F1Score(threshold=1.5), "0 < threshold <= 1"),
        (lambda: metrics.IoU(num_classes=2, target_class_ids=[0, 2]), "Target class id 2 is out of range"),
        (lambda: metrics.R2Score(class_aggregation="mean"), "class_aggregation"),
        (lambda: metrics.R2Score(num_regressors=-1), "num_regressors"),
        (lambda: metrics.TruePositives(thresholds=[0.5, 1.5]), r"Threshold values must be in \[0, 1\]"),
        (lambda: metrics.PrecisionAtRecall(recall=1.5), r"Argument `recall` must be in the range \[0, 1\]"),
        (lambda: metrics.SensitivityAtSpecificity(0.5, num_thresholds=0), "num_thresholds"),
    ]
    for make, msg in cases:
        with pytest.raises(ValueError, match=msg):
            make()
    with pytest.raises(ValueError, match="expects 2D inputs"):
        metrics.F1Score().update_state(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="expects 2D inputs"):
        metrics.R2Score().update_state(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))


def test_new_losses_and_metrics_survive_model_save(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.random((20, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 20)]
    model = fg.Sequential([fg.layers.Input((4,)), fg.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=fg.optimizers.SGD(fg.optimizers.schedules.PolynomialDecay(0.1, 10)),
                  loss=fg.losses.CategoricalFocalCrossentropy(gamma=1.0),
                  metrics=[metrics.F1Score(average="macro"), "kl_divergence",
                           metrics.MeanIoU(3, sparse_y_true=False, sparse_y_pred=False, name="miou")])
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = fg.saving.load_model(path)
    assert loaded.loss.get_config() == model.loss.get_config()
    want = model.evaluate(x, y, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert set(got) == {"loss", "f1_score", "kl_divergence", "miou"}
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-6), k


def test_sum_and_mean_weigh_whole_samples():
    values = np.arange(12, dtype=np.float32).reshape(4, 3)
    w = np.array([1.0, 0.0, 2.0, 1.0], np.float32)
    s = metrics.Sum()
    s.update_state(values, sample_weight=w)
    assert s.result() == pytest.approx(float((values.sum(1) * w).sum()))
    m = metrics.Mean()
    m.update_state(values, sample_weight=w)
    assert m.result() == pytest.approx(float((values.mean(1) * w).sum() / w.sum()))
    m.update_state(values)  # unweighted: one count per sample
    assert m.result() == pytest.approx(float(((values.mean(1) * w).sum() + values.mean(1).sum()) / (w.sum() + 4)))


def test_metric_objects_in_compile_are_listed_once():
    """``_, acc, top5 = model.evaluate(...)`` (keras.io's ViT and CCT examples): Metric objects passed
    to compile live in compile_metrics only, so evaluate returns loss plus one value per metric."""
    model = fg.Sequential([fg.Input((4,)), fg.layers.Dense(10)])
    model.compile(optimizer="adam", loss=fg.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[fg.metrics.SparseCategoricalAccuracy(name="accuracy"),
                           fg.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy")])
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 4)).astype("float32"), rng.integers(0, 10, (64, 1))
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
    model.fit(x, y, verbose=0)
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
    loss, acc, top5 = model.evaluate(x, y, verbose=0)
    assert model.metrics_names == ["loss", "compile_metrics"]
    assert 0 <= acc <= top5 <= 1 and loss > 0
