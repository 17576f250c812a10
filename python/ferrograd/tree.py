"""Nested structures (``keras.tree``): lists, tuples, namedtuples, deques and dicts of leaves.

The rules are Keras 3's: dicts are visited in sorted key order (an ``OrderedDict`` in its own
order) and rebuilt in that order; ``None`` is a leaf; two structures match when every level has the
same type and length (``dict``, ``OrderedDict`` and ``defaultdict`` match when their keys do; a
list never matches a tuple, and two namedtuple classes never match each other). ``assert_same_paths``
is the looser check that only compares paths.
"""
from __future__ import annotations

import collections
import collections.abc

__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
           "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure", "map_structure_up_to",
           "pack_sequence_as", "traverse"]


class MAP_TO_NONE:  # noqa: N801 - Keras' name
    """Returned by a ``traverse`` function to replace a node with ``None``."""


def _is_namedtuple(s):
    return isinstance(s, tuple) and hasattr(type(s), "_fields")


def is_nested(structure):
    """True for a list, tuple, namedtuple, deque or mapping (the containers the tree walks into)."""
    return isinstance(structure, (list, tuple, collections.deque, collections.abc.Mapping))


def _keys(m):
    if isinstance(m, collections.OrderedDict):
        return list(m.keys())
    try:
        return sorted(m.keys())
    except TypeError:  # keys of mixed types: keep their order
        return list(m.keys())


def _children(s):
    """(keys, values) of one container level."""
    if isinstance(s, collections.abc.Mapping):
        keys = _keys(s)
        return keys, [s[k] for k in keys]
    values = list(s)
    return list(range(len(values))), values


def _rebuild(s, values):
    """A container like ``s`` holding ``values`` (in ``_children`` order)."""
    if isinstance(s, collections.abc.Mapping):
        keys = _keys(s)
        if isinstance(s, collections.defaultdict):
            out = collections.defaultdict(s.default_factory)
            out.update(zip(keys, values))
            return out
        if isinstance(s, collections.OrderedDict):
            return collections.OrderedDict(zip(keys, values))
        return dict(zip(keys, values))
    if _is_namedtuple(s):
        return type(s)(*values)
    if isinstance(s, collections.deque):
        return collections.deque(values, maxlen=s.maxlen)
    if isinstance(s, tuple):
        return tuple(values)
    return list(values)


def flatten(structure):
    """The leaves of ``structure`` in order (a leaf alone gives ``[leaf]``; ``None`` is a leaf)."""
    out = []

    def walk(s):
        if is_nested(s):
            for v in _children(s)[1]:
                walk(v)
        else:
            out.append(s)

    walk(structure)
    return out


def flatten_with_path(structure):
    """``[(path, leaf)]``: each leaf with the tuple of indices and keys that reach it."""
    out = []

    def walk(s, path):
        if is_nested(s):
            for k, v in zip(*_children(s)):
                walk(v, path + (k,))
        else:
            out.append((path, s))

    walk(structure, ())
    return out


def _same_level(a, b):
    if isinstance(a, collections.abc.Mapping) and isinstance(b, collections.abc.Mapping):
        return set(a.keys()) == set(b.keys())
    if type(a) is not type(b):
        return False
    return len(a) == len(b)


def _check_same(a, b, path=()):
    na, nb = is_nested(a), is_nested(b)
    if not na and not nb:
        return
    if na != nb or not _same_level(a, b):
        where = f" at path {path}" if path else ""
        raise ValueError(f"The two structures don't have the same nested structure{where}.\nFirst structure: "
                         f"{a!r}\nSecond structure: {b!r}")
    if isinstance(a, collections.abc.Mapping):
        for k in _keys(a):
            _check_same(a[k], b[k], path + (k,))
    else:
        for i, (x, y) in enumerate(zip(a, b)):
            _check_same(x, y, path + (i,))


def assert_same_structure(a, b, check_types=None):
    """Raises ValueError unless ``a`` and ``b`` nest the same way (see the module rules).
    ``check_types`` is accepted for compatibility and has no effect, as in Keras 3."""
    del check_types
    _check_same(a, b)


def assert_same_paths(a, b):
    """Raises ValueError unless ``a`` and ``b`` have the same leaf paths (lists, tuples,
    namedtuples and deques of one length match each other)."""
    pa = {p for p, _ in flatten_with_path(a)}
    pb = {p for p, _ in flatten_with_path(b)}
    if pa != pb:
        raise ValueError(f"The two structures don't have the same paths. Paths only in the first: "
                         f"{sorted(pa - pb, key=repr)}; only in the second: {sorted(pb - pa, key=repr)}")


def map_structure(func, *structures, none_is_leaf=True):
    """``func`` applied to the leaves of one or more structures of the same layout; the result has
    that layout. With ``none_is_leaf=False``, ``None`` leaves of the first structure stay None."""
    if not callable(func):
        raise TypeError(f"`func` must be callable, received {func!r}")
    if not structures:
        raise TypeError("map_structure needs at least one structure")
    for other in structures[1:]:
        _check_same(structures[0], other)

    def walk(*nodes):
        first = nodes[0]
        if is_nested(first):
            if isinstance(first, collections.abc.Mapping):
                keys = _keys(first)
                values = [walk(*(n[k] for n in nodes)) for k in keys]
            else:
                values = [walk(*vals) for vals in zip(*nodes)]
            return _rebuild(first, values)
        if first is None and not none_is_leaf:
            return None
        return func(*nodes)

    return walk(*structures)


def map_structure_up_to(shallow_structure, func, *structures):
    """Like ``map_structure``, but only down to the leaves of ``shallow_structure``: ``func`` gets
    the (possibly nested) sub-structures found there."""
    if not structures:
        raise TypeError("map_structure_up_to needs at least one structure")

    def walk(shallow, nodes):
        if not is_nested(shallow):
            return func(*nodes)
        for n in nodes:
            if not is_nested(n) or not _same_level(shallow, n):
                raise ValueError(f"The structure {n!r} does not match the shallow structure {shallow!r}")
        if isinstance(shallow, collections.abc.Mapping):
            values = [walk(shallow[k], [n[k] for n in nodes]) for k in _keys(shallow)]
        else:
            values = [walk(s, list(vals)) for s, *vals in zip(shallow, *nodes)]
        return _rebuild(shallow, values)

    return walk(shallow_structure, list(structures))


def pack_sequence_as(structure, flat_sequence):
    """``flat_sequence`` arranged in the layout of ``structure`` (the inverse of ``flatten``)."""
    flat = list(flat_sequence)
    count = len(flatten(structure))
    if count != len(flat):
        raise ValueError(f"The target structure has {count} leaves but the flat sequence has {len(flat)} "
                         f"items.\nStructure: {structure!r}")
    it = iter(flat)

    def walk(s):
        if is_nested(s):
            return _rebuild(s, [walk(v) for v in _children(s)[1]])
        return next(it)

    return walk(structure)


def lists_to_tuples(structure):
    """``structure`` with every list turned into a tuple (recursively)."""
    if isinstance(structure, list):
        return tuple(lists_to_tuples(v) for v in structure)
    if is_nested(structure):
        return _rebuild(structure, [lists_to_tuples(v) for v in _children(structure)[1]])
    return structure


def _is_shape(s):
    return isinstance(s, (list, tuple)) and not _is_namedtuple(s) and all(
        v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in s)


def map_shape_structure(func, structure):
    """``func`` applied to every shape (a list or tuple of ints and None) in ``structure``."""
    if _is_shape(structure):
        return func(structure)
    if is_nested(structure):
        return _rebuild(structure, [map_shape_structure(func, v) for v in _children(structure)[1]])
    return func(structure)


def traverse(func, structure, top_down=True):
    """Visits every node (containers and leaves). Top-down: a node where ``func`` returns None is
    walked into; any other value replaces the node (``MAP_TO_NONE`` replaces it with None).
    Bottom-up: the children are done first and ``func`` sees the rebuilt node; None keeps it."""

    def result(node, value):
        if value is None:
            return node
        return None if value is MAP_TO_NONE else value

    def down(s):
        value = func(s)
        if value is not None:
            return None if value is MAP_TO_NONE else value
        if is_nested(s):
            return _rebuild(s, [down(v) for v in _children(s)[1]])
        return s

    def up(s):
        if is_nested(s):
            s = _rebuild(s, [up(v) for v in _children(s)[1]])
        return result(s, func(s))

    return down(structure) if top_down else up(structure)
