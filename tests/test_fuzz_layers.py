"""API fuzzer for every layer class: hostile constructor arguments and inputs never crash.

Every public layer class of ``ferrograd.layers`` and ``ferrograd.hub.layers`` (found by
introspection; aliases once) is built
with arguments drawn by parameter name (sizes, rates, activations, initializers, data formats,
wrapped layers and cells, awkward values: 0, -1, 2**63-1, None, strings, NaN), then called on
tensors of random rank, dtype and values (one tensor, a list, two positional tensors; sometimes
``training=True``). Passing: a documented exception (see ``fuzz_helpers``) at any step, or outputs
that convert to NumPy; a layer that was built must also survive ``from_config(get_config())``.
Runs in a subprocess with a memory limit (crash isolation as in test_fuzz_ops.py).

CI mode: derandomized, a few examples per class. Long mode: ``FERROGRAD_FUZZ_EXAMPLES=<examples
per class>`` and optionally ``FERROGRAD_FUZZ_SEED=<int>``.
"""
import os

import fuzz_helpers as fh
import pytest

SEED = int(os.environ["FERROGRAD_FUZZ_SEED"]) if os.environ.get("FERROGRAD_FUZZ_SEED") else None
TIMEOUT = 300 if not fh.long_mode() else 24 * 3600


def test_enumeration_finds_every_family():
    names = fh.public_layers()
    assert len(names) > 90
    for n in ["Dense", "Conv2D", "LSTM", "MultiHeadAttention", "Bidirectional", "Normalization", "RandomFlip",
              "Concatenate", "Embedding", "BatchNormalization", "hub.layers.TransformerEncoder"]:
        assert n in names


def test_layers_survive_hostile_construction_and_calls():
    targets = fh.layer_targets()
    report = fh.run_in_subprocess("fuzz_layers_worker", targets, fh.ci_examples(12), TIMEOUT, seed=SEED)
    assert not report["failures"], fh.format_failures(report)
    out = report["outcomes"]
    assert out.get("call:ok", 0) > report["calls"] // 8, out  # a good share gets built and runs


# --- findings of the fuzzers, fixed on the Python side: each stays a clear error -----------------

FIXED = [
    ("layers.Pipeline((0,))", TypeError, "list of layers"),
    ("layers.Bidirectional(layers.Dense(2), backward_layer=layers.Dense(2))", ValueError, "recurrent layer"),
    ("layers.GlobalAveragePooling1D()(fg.ones((1, 4)))", ValueError, "expected ndim=3"),
    ("layers.GlobalMaxPooling2D()(fg.ones((1, 2, 3, 2, 4, 1)))", ValueError, "expected ndim=4"),
    ("layers.UpSampling1D()(fg.ones((3, 2, 3, 2, 1)))", ValueError, "expected ndim=3"),
    ("layers.Cropping1D()(fg.ones((1, 3, 1, 1)))", ValueError, "expected ndim=3"),
    ("fg.losses.deserialize(False)", TypeError, "loss config"),
    ("fg.metrics.deserialize(3)", TypeError, "metric config"),
    ("fg.optimizers.deserialize([1])", TypeError, "optimizer config"),
]


@pytest.mark.parametrize("code, cls, words", FIXED, ids=[c for c, _, _ in FIXED])
def test_fixed_findings_raise_clear_errors(code, cls, words):
    import ferrograd as fg
    from ferrograd import layers

    with pytest.raises(cls, match=words):
        eval(code, {"fg": fg, "layers": layers})  # noqa: S307 - fixed strings above
