"""Keras' top-level objects: keras.Variable, name_scope, DTypePolicy, device, version, the base
classes (Loss, Metric, Optimizer, Initializer, Regularizer, KerasTensor) and keras.tree. Expected
values are what Keras 3.15 (PyTorch backend) printed for the same calls."""
import collections

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import tree


def test_variable_from_value_and_initializer():
    v = keras.Variable(np.ones((2, 3)), name="w")
    assert v.dtype == "float32" and v.name == "w" and v.path == "w" and v.trainable and v.value is v
    assert isinstance(v, keras.Variable) and not isinstance(keras.ones(3), keras.Variable)
    with keras.no_grad():
        v.assign(np.full((2, 3), 2.0))
        v.assign_add(np.ones((2, 3)))
    assert float(v.numpy().sum()) == 18.0
    w = keras.Variable("zeros", shape=(3, 4), dtype="float64", trainable=False)
    assert w.shape == (3, 4) and w.dtype == "float64" and not w.trainable and w.name == "variable"
    w.trainable = True
    assert w.requires_grad
    src = keras.ones((2,))
    c = keras.Variable(src)
    with keras.no_grad():
        c.assign_add(1.0)
    assert src.numpy().tolist() == [1.0, 1.0]  # the variable owns a copy
    d = keras.layers.Dense(2)
    d.build((None, 3))
    assert isinstance(d.kernel, keras.Variable)


def test_variable_gradients_flow_when_trainable():
    v = keras.Variable(np.array([1.0, 2.0], "float32"))
    loss = (v * v).sum()
    loss.backward()
    np.testing.assert_allclose(v.grad.numpy(), [2.0, 4.0])


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(initializer="zeros"), ValueError, "shape"),
    (dict(initializer=1.0, aggregation="max"), ValueError, "aggregation"),
    (dict(initializer=1.0, synchronization="always"), ValueError, "synchronization"),
    (dict(initializer=1.0, name="a/b"), ValueError, "name"),
    (dict(initializer=np.ones(3), shape=(4,)), ValueError, "shape"),
    (dict(initializer=1.0, layout="x"), TypeError, "layout"),
])
def test_variable_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        keras.Variable(**kwargs)


def test_name_scope_prefixes_variable_paths():
    with keras.name_scope("outer"):
        with keras.name_scope("inner"):
            v = keras.Variable(1.0, name="v")
        with keras.name_scope("outer"):  # deduplicated
            u = keras.Variable(1.0, name="u")
        with keras.name_scope("x", override_parent="root"):
            r = keras.Variable(1.0, name="r")
    assert (v.path, v.name, u.path, r.path) == ("outer/inner/v", "v", "outer/u", "root/x/r")
    assert keras.Variable(1.0, name="z").path == "z"
    with pytest.raises(ValueError, match="name"):
        keras.name_scope("a/b")


def test_dtype_policy():
    p = keras.DTypePolicy("float32")
    assert (p.name, p.compute_dtype, p.variable_dtype, p.quantization_mode) == ("float32", "float32", "float32",
                                                                                None)
    assert p.get_config() == {"name": "float32"} and repr(p) == '<DTypePolicy "float32">'
    q = keras.DTypePolicy("mixed_float16")
    assert (q.compute_dtype, q.variable_dtype) == ("float16", "float32")
    layer = keras.layers.Dense(2, dtype=keras.DTypePolicy("float64"))
    assert layer.dtype == "float64" and layer.compute_dtype == "float64" and layer.dtype_policy == \
        keras.DTypePolicy("float64")
    with pytest.raises(ValueError, match="int7"):
        keras.DTypePolicy("int7")
    with pytest.raises(NotImplementedError, match="mixed precision"):
        keras.layers.Dense(2, dtype="mixed_float16")
    with pytest.raises(NotImplementedError, match="mixed precision"):
        keras.layers.Dense(2, dtype=q)


def test_device_version_and_base_classes():
    with keras.device("cpu:0"):
        assert keras.ones(2).shape == (2,)
    with pytest.raises(ValueError, match="CPU only"):
        with keras.device("gpu:0"):
            pass
    assert keras.version() == keras.__version__
    assert keras.Loss is keras.losses.Loss and keras.Metric is keras.metrics.Metric
    assert keras.Optimizer is keras.optimizers.Optimizer and keras.Initializer is keras.initializers.Initializer
    assert keras.Regularizer is keras.regularizers.Regularizer
    assert isinstance(keras.Input((3,)), keras.KerasTensor)


P = collections.namedtuple("P", "x y")


def test_tree_flatten_map_and_pack_follow_keras():
    s = {"z": P(1, [2, 3]), "a": (4,)}
    assert tree.flatten(s) == [4, 1, 2, 3]
    assert tree.map_structure(lambda v: v * 10, s) == {"z": P(10, [20, 30]), "a": (40,)}
    packed = tree.pack_sequence_as(s, [9, 8, 7, 6])
    assert packed == {"a": (9,), "z": P(8, [7, 6])} and list(packed) == ["a", "z"]
    assert tree.flatten({"b": [1, (2, 3)], "a": None}) == [None, 1, 2, 3]
    assert tree.flatten_with_path({"b": [1, (2, 3)], "a": 4}) == [(("a",), 4), (("b", 0), 1), (("b", 1, 0), 2),
                                                                   (("b", 1, 1), 3)]
    assert tree.is_nested([]) and tree.is_nested({}) and not tree.is_nested(3)
    assert tree.flatten([]) == [] and tree.flatten(None) == [None]
    assert tree.lists_to_tuples([1, [2, {"a": [3]}]]) == (1, (2, {"a": (3,)}))
    assert tree.map_shape_structure(lambda s: s, {"a": (1, 2), "b": [(3,), (4, 5)]}) == {"a": (1, 2),
                                                                                         "b": [(3,), (4, 5)]}
    assert tree.map_structure(lambda a, b: a + b, [1, (2,)], [3, (4,)]) == [4, (6,)]
    assert tree.map_structure(lambda v: 0, [None, 1], none_is_leaf=False) == [None, 0]
    assert tree.map_structure_up_to([0, 0], lambda a, b: (a, b), [1, [2, 3]], [4, [5, 6]]) == [(1, 4),
                                                                                             ([2, 3], [5, 6])]
    d = collections.defaultdict(list, {"b": 1, "a": 2})
    out = tree.map_structure(lambda v: v + 1, d)
    assert isinstance(out, collections.defaultdict) and dict(out) == {"a": 3, "b": 2}
    assert tree.map_structure(lambda v: -v, collections.deque([1, 2], maxlen=5)) == collections.deque([-1, -2])


def test_tree_traverse():
    assert tree.traverse(lambda x: None, [1, [2]]) == [1, [2]]
    assert tree.traverse(lambda x: x * 2 if isinstance(x, int) else None, [1, [2]]) == [2, [4]]
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if isinstance(x, int) else None, [1, [2]]) == [None, [None]]
    # bottom-up: func sees rebuilt nodes; a list is replaced by its length
    assert tree.traverse(lambda x: len(x) if isinstance(x, list) else None, [1, [2, 3]], top_down=False) == 2


def test_tree_structure_checks():
    tree.assert_same_structure([(0, 1)], [(2, 3)])
    tree.assert_same_structure({"a": 1, "b": 2}, collections.OrderedDict(b=3, a=4))
    for a, b in (([1, 2], [1, [2]]), ([1, (2,)], [3, [4]]), (P(1, 2), collections.namedtuple("P", "x y")(1, 2)),
                 ({"a": 1}, {"b": 1})):
        with pytest.raises(ValueError, match="same nested structure"):
            tree.assert_same_structure(a, b)
    with pytest.raises(ValueError, match="same nested structure"):
        tree.map_structure(lambda a, b: a + b, [1, (2,)], [3, [4]])
    tree.assert_same_paths([1, (2,)], (3, [4]))
    with pytest.raises(ValueError, match="same paths"):
        tree.assert_same_paths([1, 2], [1, [2]])
    with pytest.raises(ValueError, match="2 leaves"):
        tree.pack_sequence_as([1, [2]], [1])
    with pytest.raises(TypeError, match="callable"):
        tree.map_structure(3, [1])
