"""ferrograd.hub.samplers against keras_hub 0.32 (tests/fixtures/hub_samplers.json: the same toy
``next`` function run by keras_hub) and, for the random samplers, against NumPy statistics."""
import json
import os

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import ops
from ferrograd.hub import samplers

FIX = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "hub_samplers.json")))
TABLE = keras.tensor(np.asarray(FIX["table"], "float32"))


def toy_next(prompt, cache, index):
    prev = prompt[:, index - 1]
    return ops.take(TABLE, ops.cast(prev, "int64"), axis=0), None, cache


def run(sampler, **extra):
    return sampler(toy_next, keras.tensor(np.asarray(FIX["prompt"], "int32")), index=1,
                   mask=keras.tensor(np.asarray(FIX["mask"], bool)), **extra)


@pytest.mark.parametrize("name", list(FIX["cases"]))
def test_deterministic_samplers_match_keras_hub(name):
    c = FIX["cases"][name]
    sampler = getattr(samplers, c["class"]).from_config(c["config"])
    assert sampler.get_config() == c["config"]
    assert samplers.serialize(sampler)["registered_name"] == c["serialized"]["registered_name"]
    assert samplers.deserialize(c["serialized"]).get_config() == c["config"]
    out = run(sampler, **c["extra"])
    if isinstance(out, tuple):
        np.testing.assert_array_equal(out[0].numpy(), c["result"][0])
        np.testing.assert_allclose(out[1].numpy(), c["result"][1], rtol=1e-5)
    else:
        np.testing.assert_array_equal(out.numpy(), c["result"])


def test_get_and_configs():
    for name, cfg in FIX["configs"].items():
        if name in ("top_p_k",):
            assert samplers.TopPSampler(p=0.7, k=4, seed=3).get_config() == cfg
        else:
            assert samplers.get(name).get_config() == cfg
    assert samplers.get({"class_name": "keras_hub>GreedySampler", "config": {}}).get_config() == {"temperature": 1.0}
    with pytest.raises(KeyError):
        samplers.get("Greedy")
    fn = samplers.get(lambda *a: None)
    assert callable(fn)


def _first_step_frequencies(sampler, n=4000):
    prompt = keras.tensor(np.full((n, 2), 3, "int32"))
    out = sampler(toy_next, prompt, index=1)
    return np.bincount(out.numpy()[:, 1], minlength=7) / n


def _probs(row, temperature=1.0):
    z = np.asarray(FIX["table"])[row] / temperature
    p = np.exp(z - z.max())
    return p / p.sum()


def test_random_sampler_matches_softmax_and_is_seeded():
    freq = _first_step_frequencies(samplers.RandomSampler(seed=1, temperature=1.5))
    np.testing.assert_allclose(freq, _probs(3, 1.5), atol=0.03)
    a = _first_step_frequencies(samplers.RandomSampler(seed=5), 50)
    b = _first_step_frequencies(samplers.RandomSampler(seed=5), 50)
    np.testing.assert_array_equal(a, b)


def test_top_k_and_top_p_restrict_support():
    p = _probs(3)
    order = np.argsort(-p)
    freq = _first_step_frequencies(samplers.TopKSampler(k=2, seed=2))
    want = np.zeros(7)
    want[order[:2]] = p[order[:2]] / p[order[:2]].sum()
    np.testing.assert_allclose(freq, want, atol=0.03)
    # nucleus: the smallest prefix whose mass reaches p (the crossing token included)
    cut = np.searchsorted(np.cumsum(p[order]), 0.7) + 1
    freq = _first_step_frequencies(samplers.TopPSampler(p=0.7, seed=3))
    want = np.zeros(7)
    want[order[:cut]] = p[order[:cut]] / p[order[:cut]].sum()
    np.testing.assert_allclose(freq, want, atol=0.03)


def test_beam_reorders_cache():
    seen = []

    def next_with_cache(prompt, cache, index):
        seen.append(tuple(cache.shape))
        logits, _, _ = toy_next(prompt, None, index)
        return logits, None, cache + 1.0

    cache = ops.zeros((2, 3))
    out = samplers.BeamSampler(num_beams=3)(next_with_cache, keras.tensor(np.asarray(FIX["prompt"], "int32")),
                                             cache=cache, index=1, mask=keras.tensor(np.asarray(FIX["mask"], bool)))
    np.testing.assert_array_equal(out.numpy(), FIX["cases"]["beam"]["result"])
    assert seen[0] == (6, 3)


def test_samplers_leave_the_callers_prompt_alone():
    prompt = keras.tensor(np.asarray(FIX["prompt"], "int32"))
    before = prompt.numpy().copy()
    out = samplers.GreedySampler()(toy_next, prompt, index=1, mask=keras.tensor(np.asarray(FIX["mask"], bool)))
    np.testing.assert_array_equal(prompt.numpy(), before)
    assert not np.array_equal(out.numpy(), before)
