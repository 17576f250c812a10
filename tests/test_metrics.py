"""Metrics with counts at thresholds (AUC, Precision, Recall) against Keras' values."""
import numpy as np
import pytest

import ferrograd as keras


def _auc_data():
    rng = np.random.default_rng(0)
    y = (rng.random((300, 3)) > 0.6).astype("float32")
    p = np.clip(y * 0.3 + rng.random((300, 3)) * 0.7, 0, 1).astype("float32")
    return y, p, rng.random(300).astype("float32")


# Values printed by Keras 3.15 (torch backend) for the data above, updated in two batches.
@pytest.mark.parametrize("curve,method,multi,weighted,expected", [
    ("ROC", "interpolation", False, False, 0.8350657224655151),
    ("ROC", "interpolation", True, True, 0.8393898606300354),
    ("ROC", "minoring", False, True, 0.8297432065010071),
    ("ROC", "majoring", True, False, 0.8424679636955261),
    ("PR", "interpolation", False, False, 0.8147541284561157),
    ("PR", "interpolation", True, True, 0.8201879858970642),
    ("PR", "minoring", False, True, 0.7818620800971985),
    ("PR", "majoring", True, False, 0.8198177218437195),
])
def test_auc_matches_keras(curve, method, multi, weighted, expected):
    y, p, w = _auc_data()
    m = keras.metrics.AUC(num_thresholds=50, curve=curve, summation_method=method, multi_label=multi)
    for s in (slice(0, 150), slice(150, 300)):
        m.update_state(y[s], p[s], sample_weight=w[s] if weighted else None)
    assert m.result() == pytest.approx(expected, abs=1e-6)
    m.reset_state()
    assert m.result() == 0.0


def test_auc_approaches_the_exact_rank_statistic():
    rng = np.random.default_rng(5)
    y = (rng.random(2000) > 0.5).astype(np.float32)
    p = np.clip(0.35 * y + 0.65 * rng.random(2000), 0, 1).astype(np.float32)
    pos, neg = p[y == 1], p[y == 0]
    exact = ((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())
    m = keras.metrics.AUC(num_thresholds=2000)
    m.update_state(y, p)
    assert m.result() == pytest.approx(exact, abs=2e-3)
    logits = keras.metrics.AUC(num_thresholds=2000, from_logits=True)
    logits.update_state(y, np.log(p + 1e-6) - np.log1p(-p + 1e-6))
    assert logits.result() == pytest.approx(exact, abs=2e-3)
    with pytest.raises(ValueError, match="curve"):
        keras.metrics.AUC(curve="XY")


def test_precision_recall_match_keras():
    y, p, w = _auc_data()
    prec = keras.metrics.Precision(thresholds=[0.3, 0.5, 0.8])
    prec.update_state(y, p, sample_weight=w)
    np.testing.assert_allclose(prec.result(), [0.55285174, 0.6341006, 1.0], rtol=1e-6)
    rec = keras.metrics.Recall()
    rec.update_state(y, p, sample_weight=w)
    assert rec.result() == pytest.approx(0.735349, rel=1e-6)
    rec1 = keras.metrics.Recall(class_id=1)
    rec1.update_state(y, p)
    assert rec1.result() == pytest.approx(0.6850393414497375, rel=1e-6)


def test_auc_in_fit_logs():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    y = (x[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(np.float32)[:, None]
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["auc", keras.metrics.Precision()])
    h = model.fit(x, y, epochs=5, verbose=0)
    assert h.history["auc"][-1] > 0.9 and 0.0 < h.history["precision"][-1] <= 1.0


def test_binary_accuracy_labels_without_the_trailing_axis():
    """Labels (B,) against sigmoid outputs (B, 1) compare sample by sample (Keras squeezes or
    expands to the same rank), never as a (B, B) broadcast (regression: evaluate reported ~0.5)."""
    y = np.array([1, 0, 1, 1.0])
    p = np.array([[0.9], [0.8], [0.2], [0.7]])
    np.testing.assert_array_equal(np.ravel(keras.metrics.binary_accuracy(y, p).numpy()), [1, 0, 0, 1])
    m = keras.metrics.BinaryAccuracy()
    m.update_state(y, p)
    assert float(m.result()) == 0.5
    acc = keras.metrics.Accuracy()
    acc.update_state(y, np.array([[1], [1], [1], [0.0]]))
    assert float(acc.result()) == 0.5
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    x = np.array([[3.0], [-3.0], [2.0], [-1.0], [4.0]], "float32")
    labels = np.array([1, 1, 0, 0, 1], "float32")
    pred = model.predict(x, verbose=0).ravel()
    expected = float(np.mean((pred > 0.5) == labels))
    assert model.evaluate(x, labels, verbose=0)[1] == pytest.approx(expected)
