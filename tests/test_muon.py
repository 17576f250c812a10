"""optimizers.Muon, ScheduleFreeAdamW and Adafactor: trajectories equal Keras 3.15 (fixture from
tests/fixtures/capture_muon.py) for Muon-updated matrices (wide and tall), AdamW-updated biases and
embeddings, exclusions, clipping and decay; config round trip; fit and save/load with per-variable
slots."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers, optimizers

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import capture_muon as cap  # noqa: E402

FIX = json.loads((Path(__file__).parent / "fixtures" / "keras_muon.json").read_text())


@pytest.mark.parametrize("key, cls, i", [("muon", "Muon", i) for i in range(len(cap.CASES))]
                         + [("schedule_free", "ScheduleFreeAdamW", i) for i in range(len(cap.SCHEDULE_FREE))]
                         + [("adafactor", "Adafactor", i) for i in range(len(cap.ADAFACTOR))])
def test_trajectories_match_keras(key, cls, i):
    start, grads = cap.inputs()
    cases = {"muon": cap.CASES, "schedule_free": cap.SCHEDULE_FREE, "adafactor": cap.ADAFACTOR}[key]
    opt = getattr(optimizers, cls)(**cases[i])
    vs = {k: fg.Variable(v, name=k) for k, v in start.items()}
    names = list(vs)
    for g in grads:
        opt.apply([g[k] for k in names], [vs[k] for k in names])
    for k in names:
        np.testing.assert_allclose(vs[k].numpy(), np.asarray(FIX[key][i]["final"][k]), rtol=2e-5, atol=2e-6, err_msg=k)
    cfg = {k: v for k, v in opt.get_config().items() if k != "name"}
    want = dict(FIX[key][i]["config"])
    assert cfg.pop("learning_rate") == pytest.approx(want.pop("learning_rate"))
    assert cfg == want
    assert type(opt).from_config(opt.get_config()).get_config() == opt.get_config()


def test_rules_per_variable_and_fit_with_save():
    opt = optimizers.Muon()
    k, b = fg.Variable(np.ones((3, 2)), name="kernel"), fg.Variable(np.ones(2), name="bias")
    e = fg.Variable(np.ones((5, 2)), name="token_embedding")
    assert not opt._should_use_adamw(k) and opt._should_use_adamw(b) and opt._should_use_adamw(e)
    assert opt._slot_names_for(k) == ["momentum"] and opt._slot_names_for(b) == ["momentum", "velocity"]
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 6)).astype("float32"), rng.integers(0, 3, 32)
    fg.random.seed(0)
    model = fg.Sequential([fg.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(3)])
    model.compile(optimizer=optimizers.Muon(learning_rate=0.02),
                  loss=fg.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    path = "/tmp/fg_muon_model.keras"
    model.save(path)
    again = fg.saving.load_model(path)
    assert isinstance(again.optimizer, optimizers.Muon) and again.optimizer.iterations == 20
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    again.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, c in zip(model.weights, again.weights):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="ns_steps"):
        optimizers.Muon(ns_steps=-1)


def test_adafactor_factored_slots_fit_and_save():
    opt = optimizers.Adafactor()
    w = fg.Variable(np.ones((2, 5, 3)), name="w")
    opt.build([w])
    assert opt._slot_names_for(w) == ["r", "c", "velocity"]
    assert [tuple(s.shape) for s in opt._slots_for(w)] == [(2, 5), (2, 3), (2, 5, 3)]
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((32, 6)).astype("float32"), rng.standard_normal((32, 2)).astype("float32")
    fg.random.seed(0)
    model = fg.Sequential([fg.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(2)])
    model.compile(optimizer=optimizers.Adafactor(learning_rate=0.05), loss="mse")
    hist = model.fit(x, y, epochs=4, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    path = "/tmp/fg_adafactor_model.keras"
    model.save(path)
    again = fg.saving.load_model(path)
    assert isinstance(again.optimizer, optimizers.Adafactor)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    again.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, c in zip(model.weights, again.weights):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-5, atol=1e-6)
