"""Learning-rate schedules against Keras 3.15 (fixtures/keras_loss_metric.json, written by
fixtures/make_keras_loss_metric_fixtures.py): values at several steps, configs, the Keras
serialized form and the round trip through optimizers.serialize/deserialize and .keras files."""
import json
import os

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import optimizers
from ferrograd.optimizers import schedules

FIX = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "keras_loss_metric.json")))
CASES = FIX["schedules"]


def _id(case):
    return case["class"] + "".join(f"-{k}={v}" for k, v in case["kwargs"].items() if k != "initial_learning_rate")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_values_match_keras(case):
    s = getattr(schedules, case["class"])(**case["kwargs"])
    got = [float(s(step)) for step in case["steps"]]
    np.testing.assert_allclose(got, case["values"], rtol=2e-6, atol=1e-8)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_config_and_serialization_match_keras(case):
    s = getattr(schedules, case["class"])(**case["kwargs"])
    assert json.loads(json.dumps(s.get_config())) == case["config"]
    assert json.loads(json.dumps(schedules.serialize(s))) == case["serialized"]
    back = schedules.deserialize(case["serialized"])
    assert type(back) is type(s) and back.get_config() == s.get_config()
    opt = optimizers.SGD(learning_rate=s)
    assert json.loads(json.dumps(opt.get_config()["learning_rate"])) == case["optimizer_learning_rate"]
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again._learning_rate) is type(s)
    assert again._learning_rate.get_config() == s.get_config()
    assert again.learning_rate == pytest.approx(s(0))


def test_older_two_key_form_still_loads():
    opt = optimizers.Adam.from_config({"learning_rate": {"class_name": "PolynomialDecay", "config": {
        "initial_learning_rate": 0.1, "decay_steps": 10}}})
    assert isinstance(opt._learning_rate, schedules.PolynomialDecay)


def test_schedule_drives_training_and_survives_save(tmp_path):
    sched = schedules.CosineDecayRestarts(0.05, first_decay_steps=3, t_mul=2.0, m_mul=0.5, alpha=0.1)
    model = fg.Sequential([fg.layers.Input((2,)), fg.layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=sched), loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    model.fit(x, x[:, :1], batch_size=4, epochs=2, verbose=0)
    assert model.optimizer.iterations == 8
    assert model.optimizer.learning_rate == pytest.approx(sched(8))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = fg.saving.load_model(path)
    assert isinstance(loaded.optimizer._learning_rate, schedules.CosineDecayRestarts)
    assert loaded.optimizer.learning_rate == pytest.approx(sched(8))


def test_bad_arguments():
    with pytest.raises(ValueError, match="`decay_steps` must be > 0"):
        schedules.PolynomialDecay(0.1, decay_steps=0)
    with pytest.raises(ValueError, match="`first_decay_steps` must be > 0"):
        schedules.CosineDecayRestarts(0.1, first_decay_steps=-1)
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        schedules.deserialize({"class_name": "NoSuchDecay", "config": {}})
    with pytest.raises(ValueError, match="Expected a LearningRateSchedule"):
        schedules.serialize(0.1)
