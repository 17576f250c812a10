"""``KerasTensor``: a symbolic tensor (shape with ``None`` for unknown sizes, dtype, producing node).

It sits below the layers, as in Keras (``backend/common/keras_tensor.py``): ``keras.Input`` makes
one, every layer or ``keras.ops`` call on one returns new ones whose shapes come from shape rules
(``compute_output_shape`` of the layer, or the op's rule in :mod:`.shapes`), never from running a
kernel. The graph lives on the tensors themselves (``_node``), so dropping a model frees it.
"""
from __future__ import annotations

# "string" exists only at model inputs: only the text layers (TextVectorization, StringLookup,
# Hashing) take it, and the model feeds them NumPy string arrays, never tensors.
_VALID_DTYPES = ("float32", "float64", "int32", "int64", "bool", "string")


def standardize_shape(shape, where="shape"):
    """``shape`` as a tuple of non-negative ints and Nones (a ValueError names anything else)."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"Cannot convert '{shape!r}' to a shape ({where}).") from None
    out = []
    for d in shape:
        if d is None:
            out.append(None)
            continue
        if isinstance(d, bool) or not hasattr(d, "__index__"):
            raise ValueError(f"Cannot convert '{shape!r}' to a shape ({where}): found invalid entry {d!r}")
        d = int(d)
        if d < 0:
            raise ValueError(f"Cannot convert '{shape!r}' to a shape ({where}): negative dimensions are not allowed")
        out.append(d)
    return tuple(out)


class KerasTensor:
    """A symbolic tensor: ``shape`` (a tuple; ``None`` where unknown), ``dtype`` and the node that
    made it (``None`` until a layer or op call sets it).

    Arithmetic operators, indexing and the ``keras.ops`` functions record nodes, so functional
    models can use them (``x = x + shortcut``, ``x[:, 0]``).
    """

    __slots__ = ("shape", "dtype", "name", "_node", "_index", "_keras_mask", "__weakref__")

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = standardize_shape(shape)
        dtype = str(dtype)
        if dtype not in _VALID_DTYPES:
            raise ValueError(f"KerasTensor: unsupported dtype {dtype!r}; expected one of {_VALID_DTYPES}")
        self.dtype = dtype
        self.name = name
        self._node = None
        self._index = 0
        self._keras_mask = None

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def _keras_history(self):
        """(operation, node index, tensor index), as Keras names it."""
        node = self._node
        if node is None:
            return None
        return node.operation, node.node_index, self._index

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse=False, name={self.name}>"

    def __len__(self):
        if not self.shape or self.shape[0] is None:
            raise TypeError(f"len() of a symbolic tensor with unknown first dimension ({self.shape})")
        return self.shape[0]

    def __iter__(self):
        raise TypeError("A symbolic KerasTensor cannot be iterated over; index it or use keras.ops instead")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor has no truth value: it holds no data. Use keras.ops.cond/where "
                        "inside a layer's call() on real tensors instead")

    def numpy(self):
        raise TypeError("A symbolic KerasTensor holds no data: call the model on real inputs to get values")

    __array__ = numpy

    # Operators record ops on the graph (``x += y`` in a ResNet block).
    def __add__(self, o):
        return _ops().add(self, o)

    def __radd__(self, o):
        return _ops().add(o, self)

    def __sub__(self, o):
        return _ops().subtract(self, o)

    def __rsub__(self, o):
        return _ops().subtract(o, self)

    def __mul__(self, o):
        return _ops().multiply(self, o)

    def __rmul__(self, o):
        return _ops().multiply(o, self)

    def __truediv__(self, o):
        return _ops().divide(self, o)

    def __rtruediv__(self, o):
        return _ops().divide(o, self)

    def __floordiv__(self, o):
        return _ops().floor_divide(self, o)

    def __mod__(self, o):
        return _ops().mod(self, o)

    def __pow__(self, o):
        return _ops().power(self, o)

    def __rpow__(self, o):
        return _ops().power(o, self)

    def __matmul__(self, o):
        return _ops().matmul(self, o)

    def __rmatmul__(self, o):
        return _ops().matmul(o, self)

    def __neg__(self):
        return _ops().negative(self)

    def __abs__(self):
        return _ops().abs(self)

    def __lt__(self, o):
        return _ops().less(self, o)

    def __le__(self, o):
        return _ops().less_equal(self, o)

    def __gt__(self, o):
        return _ops().greater(self, o)

    def __ge__(self, o):
        return _ops().greater_equal(self, o)

    def __and__(self, o):
        return _ops().logical_and(self, o)

    def __or__(self, o):
        return _ops().logical_or(self, o)

    def __invert__(self):
        return _ops().logical_not(self)

    def __getitem__(self, key):
        from . import node

        return node.symbolic_op_call(getitem, "__getitem__", (self, key), {})

    def reshape(self, *shape):
        return _ops().reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    def astype(self, dtype):
        return _ops().cast(self, dtype)

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return _ops().transpose(self)


def getitem(x, key):
    """``x[key]`` as a named function, so that graphs that index tensors can be saved."""
    return x[key]


def _ops():
    from .. import ops

    return ops


def is_keras_tensor(x):
    """True for a symbolic tensor (what ``keras.Input`` and symbolic layer calls return)."""
    return isinstance(x, KerasTensor)


def flatten(struct, out=None):
    """The leaves of a nest of lists, tuples and dicts, in order."""
    if out is None:
        out = []
    if isinstance(struct, (list, tuple)):
        for s in struct:
            flatten(s, out)
    elif isinstance(struct, dict):
        for s in struct.values():
            flatten(s, out)
    else:
        out.append(struct)
    return out


def map_structure(fn, struct):
    """``fn`` applied to each leaf, keeping the nesting (lists, tuples, dicts)."""
    if isinstance(struct, (list, tuple)):
        return type(struct)(map_structure(fn, s) for s in struct)
    if isinstance(struct, dict):
        return {k: map_structure(fn, v) for k, v in struct.items()}
    return fn(struct)


def any_symbolic(args, kwargs=None):
    """True when a KerasTensor appears among ``args`` / ``kwargs`` (lists and dicts one level deep
    included, as ops take lists of tensors). Cheap: it runs before every op."""
    for a in args:
        if type(a) is KerasTensor:
            return True
        if isinstance(a, (list, tuple)):
            for b in a:
                if type(b) is KerasTensor:
                    return True
    if kwargs:
        for a in kwargs.values():
            if type(a) is KerasTensor:
                return True
            if isinstance(a, (list, tuple)):
                for b in a:
                    if type(b) is KerasTensor:
                        return True
    return False


def has_symbolic(struct):
    """True when any leaf of the nest ``struct`` is a KerasTensor (full depth)."""
    return any(isinstance(s, KerasTensor) for s in flatten(struct))
