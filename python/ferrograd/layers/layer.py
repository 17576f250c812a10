"""The Layer base class: weights, lazy build, naming, config, the call context and masks.

Call context (Keras 3): the ``training`` flag a layer's ``call`` receives is the value passed to
this call, else the value of the enclosing layer call (a model's ``fit`` calls the model with
``training=True`` and every layer inside, however deep, sees True), else the default of the
``call`` signature. Masks ride on tensors as ``_keras_mask``: a layer whose ``call`` takes ``mask``
gets the mask of its first input (or ``<arg>_mask`` for several tensor arguments, as
``query_mask``/``value_mask``), and ``compute_mask`` sets the mask of its outputs.
Symbolic inputs (``KerasTensor``) take the shape path: ``compute_output_shape`` when the layer has
one, else its ``call`` traced on KerasTensors; no kernel runs.
"""
from __future__ import annotations

import functools
import inspect
import math
import re
import threading
from collections import defaultdict

import numpy as np

from .. import _core, constraints, initializers, regularizers
from .._core import Tensor
from ..symbolic import KerasTensor, Node, flatten, in_trace, tracing
from .input_spec import assert_input_compatibility

_NAME_COUNTS = defaultdict(int)


def _snake(name):
    """Keras' class-name to layer-name rule: ``MaxPooling2D`` -> ``max_pooling2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base):
    """Keras-style auto names: ``dense``, ``dense_1``, ``dense_2``..."""
    n = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if n == 0 else f"{base}_{n}"


def reset_names():
    """Forgets the auto-name counters (``keras.backend.clear_session``)."""
    _NAME_COUNTS.clear()


def _shape_of(x):
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    return tuple(x.shape)


def get_keras_mask(x):
    """The mask riding on tensor ``x`` (``None`` when it has none)."""
    return getattr(x, "_keras_mask", None)


def set_keras_mask(x, mask):
    """Attaches ``mask`` to tensor ``x`` (as Keras' ``_keras_mask``)."""
    try:
        x._keras_mask = mask
    except AttributeError:
        raise TypeError(f"cannot attach a mask to an object of type {type(x).__name__}") from None


# ---- the call context ----------------------------------------------------------------------------
class _CallContext(threading.local):
    """Per-thread state of the layer call in progress (the outermost layer is the entry layer)."""

    def __init__(self):
        self.entry = None
        self.training = None
        self.losses_added = False
        self.weight_budget = None
        self.scope = []  # the layers whose build or call is running, outermost first (weight paths)


class weight_budget:  # noqa: N801 - a context manager
    """Caps the bytes that :meth:`Layer.add_weight` may allocate in this thread while the block
    runs: loading a model from a file builds it under the size of the file's weights, so a config
    cannot make us allocate more memory than the file itself holds."""

    def __init__(self, nbytes, source):
        self.nbytes, self.source = int(nbytes), source

    def __enter__(self):
        self._prev = _CONTEXT.weight_budget
        _CONTEXT.weight_budget = self
        return self

    def __exit__(self, *exc):
        _CONTEXT.weight_budget = self._prev
        return False


_CONTEXT = _CallContext()


def _scoped_build(build):
    """Wraps a layer class's ``build`` so the weights it makes (and those of the sublayers it
    builds directly) get paths under the layer's name, as Keras' build wrapper does."""
    if getattr(build, "_scoped", False):
        return build

    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        scope = _CONTEXT.scope
        if scope and scope[-1] is self:
            return build(self, *args, **kwargs)
        scope.append(self)
        try:
            return build(self, *args, **kwargs)
        finally:
            scope.pop()

    wrapper._scoped = True
    return wrapper


class _CallSpec:
    """What a ``call`` signature accepts, computed once per function (the hot path reads it)."""

    __slots__ = ("params", "positional", "has_training", "training_default", "has_mask", "mask_args",
                 "var_kwargs")

    def __init__(self, fn):
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            sig = None
        params = list(sig.parameters.values()) if sig is not None else []
        self.params = {p.name: p for p in params}
        self.positional = [p.name for p in params
                           if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.var_kwargs = any(p.kind is p.VAR_KEYWORD for p in params)
        self.has_training = "training" in self.params
        default = self.params["training"].default if self.has_training else None
        self.training_default = None if default is inspect.Parameter.empty else default
        self.has_mask = "mask" in self.params
        self.mask_args = tuple(n for n in self.params if n.endswith("_mask") and n[:-5] in self.params)


_SPECS = {}


def _call_spec(fn):
    key = getattr(fn, "__func__", fn)
    spec = _SPECS.get(key)
    if spec is None:
        spec = _SPECS[key] = _CallSpec(fn)
    return spec


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in s)


class Layer:
    """Base class of every layer.

    Subclasses validate and store their arguments in ``__init__``, create weights in
    ``build(input_shape)`` with :meth:`add_weight`, compute in ``call(inputs, training=None)`` with
    :mod:`ferrograd.ops`, and return their constructor arguments from ``get_config``.

    Args:
        activity_regularizer: a regularizer applied to the layer's outputs on each call; its
            penalty joins :attr:`losses`.
        trainable: whether the weights are updated by training.
        name: the layer's name (default: the snake-case class name, numbered).
        dtype: the compute and weight dtype (``"float32"``).
        input_shape / input_dim / batch_size: let a first layer of a ``Sequential`` define its input.
    """

    # Built-in layers that take exactly one tensor set this (Keras' input_spec check of the count).
    _single_input = False
    _accepts_strings = False  # True for the text layers, which take NumPy string arrays at run time
    # An InputSpec (or a list of them) that __call__ checks the inputs against, as Keras does.
    input_spec = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _scoped_build(cls.__dict__["build"])

    def __init__(self, *, activity_regularizer=None, trainable=True, name=None, dtype=None, autocast=True,
                 input_shape=None, input_dim=None, batch_size=None, batch_input_shape=None, **kwargs):
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"Argument `name` must be a non-empty string without '/'. Received: name={name!r}")
        self.name = name or unique_name(_snake(type(self).__name__))
        self.trainable = bool(trainable)
        from .._dtype_policy import layer_dtype

        self.dtype = layer_dtype(dtype) or "float32"
        self.autocast = autocast
        self.built = False
        self._weights = []
        self._losses = []
        self._inbound_nodes = []
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.supports_masking = self._computes_mask
        if batch_input_shape is not None and input_shape is None:
            batch_size, input_shape = batch_input_shape[0], tuple(batch_input_shape[1:])
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self._batch_size_arg = batch_size
        self._call_spec = _call_spec(self.call)

    # ---- weights -----------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable=True, name=None,
                   regularizer=None, constraint=None, autocast=True, aggregation="none"):
        """Creates, registers and returns a weight tensor."""
        shape = tuple(int(d) for d in (shape or ()))
        if any(d < 0 for d in shape):
            raise ValueError(f"{self.name}: weight shape must be non-negative, received {shape}")
        budget = _CONTEXT.weight_budget
        if budget is not None:
            nbytes = math.prod(shape) * (8 if str(dtype or self.dtype) in ("float64", "int64") else 4)
            if nbytes > budget.nbytes:
                raise ValueError(f"{budget.source}: the layer {self.name!r} asks for a weight of shape {shape} "
                                 f"({nbytes} bytes), more than the file's weights hold ({budget.nbytes} bytes "
                                 "left); the config does not match its weights")
            budget.nbytes -= nbytes
        init = initializers.get(initializer if initializer is not None else "glorot_uniform")
        w = init(shape, dtype or self.dtype)
        if not isinstance(w, Tensor):
            w = _core.as_tensor(w, dtype or self.dtype)
        if tuple(w.shape) != shape:
            raise ValueError(f"{self.name}: initializer returned shape {tuple(w.shape)}, expected {shape}")
        w = w.contiguous() if not w.is_contiguous() else w
        w.requires_grad = bool(trainable) and w.dtype.startswith("float")
        # Keras variables carry a name and a path: the names of the layers being built or called
        # when the weight was made (outermost first), then this layer's, then the weight's.
        name = name or f"weight_{len(self._weights)}"
        owners, last = [], None
        for lyr in (*_CONTEXT.scope, self):
            if lyr is not last:  # a layer's call and its build both push it
                owners.append(lyr.name)
                last = lyr
        w.name, w.path = name, "/".join([*owners, name])
        constraint = constraints.get(constraint)
        if constraint is not None:
            # As on a Keras variable: the optimizer projects the weight after each update.
            w.constraint = constraint
        self._weights.append({"tensor": w, "trainable": bool(trainable), "name": name,
                              "regularizer": regularizers.get(regularizer), "constraint": constraint})
        return w

    @property
    def trainable(self):
        """Whether the layer's weights train. Setting it sets every nested layer too, as in Keras
        (``base_model.trainable = False`` freezes the whole base, also where its layers are reused
        in another graph, and puts its BatchNormalization layers in inference mode)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        try:
            subs = self._sublayers()
        except AttributeError:  # a model still being constructed has no sublayers yet
            subs = []
        for sub in subs:
            sub.trainable = value

    def _sublayers(self):
        seen = []
        for v in self.__dict__.values():
            items = v if isinstance(v, (list, tuple)) else (v.values() if isinstance(v, dict) else [v])
            for it in items:
                if isinstance(it, Layer) and it is not self and all(it is not s for s in seen):
                    seen.append(it)
        return seen

    def _flatten_layers(self, include_self=True):
        """This layer and every layer nested in it, depth first, each once."""
        out, seen = [], set()

        def walk(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for sub in layer._sublayers():
                walk(sub)

        walk(self)
        return out if include_self else out[1:]

    def _all_weight_entries(self):
        out = list(self._weights)
        for sub in self._sublayers():
            for e in sub._all_weight_entries():
                out.append({**e, "trainable": e["trainable"] and sub.trainable})
        return out

    @property
    def weights(self):
        """All weights in Keras' order: the layer's own (trainable ones first), then each
        sublayer's weights in turn; each tensor once."""
        own = [e["tensor"] for e in self._weights if e["trainable"]]
        own += [e["tensor"] for e in self._weights if not e["trainable"]]
        for sub in self._sublayers():
            own += sub.weights
        return _unique(own)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return _unique([e["tensor"] for e in self._all_weight_entries() if e["trainable"]])

    @property
    def non_trainable_weights(self):
        # each tensor once, as Keras lists variables: a weight reached through two sublayers (an
        # embedding tied to an output head) must not be counted or updated twice
        entries = self._all_weight_entries()
        if not self.trainable:
            return _unique([e["tensor"] for e in entries])
        seen = {id(t) for t in self.trainable_weights}
        return _unique([e["tensor"] for e in entries if not e["trainable"] and id(e["tensor"]) not in seen])

    trainable_variables = trainable_weights
    variables = weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    def count_params(self):
        """Total number of scalars in the weights."""
        return int(sum(math.prod(w.shape) for w in self.weights))

    def get_weights(self):
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(f"{self.name}: expected {len(mine)} weight arrays, received {len(weights)}")
        for w, v in zip(mine, weights):
            v = np.asarray(v)
            if tuple(v.shape) != tuple(w.shape):
                raise ValueError(f"{self.name}: weight shape mismatch, expected {tuple(w.shape)}, received {v.shape}")
            with _NoGrad():
                w.assign(v)

    # ---- losses ------------------------------------------------------------------------------
    def add_loss(self, loss):
        """Adds a loss tensor (e.g. an activity penalty) computed in ``call``; it joins
        :attr:`losses` until the next call of the outermost layer."""
        if in_trace():  # a shape-only trace of call(): nothing to add
            return
        if isinstance(loss, KerasTensor):
            raise ValueError("add_loss() on a symbolic tensor is not supported; call it inside a layer's call()")
        self._losses.append(loss)
        _CONTEXT.losses_added = True

    @property
    def losses(self):
        """Losses of the last call (``add_loss``, activity regularizers) of this layer and its
        sublayers, and the penalties of their trainable regularized weights (recomputed on
        access), in one walk of the layer tree (the training step reads this every batch)."""
        out, seen = [], set()

        def visit(layer, trainable):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.extend(layer._losses)
            for e in layer._weights:
                if e["regularizer"] is not None and e["trainable"] and trainable:
                    out.append(e["regularizer"](e["tensor"]))
            for sub in layer._sublayers():
                visit(sub, trainable and sub.trainable)

        visit(self, True)
        return out

    def _clear_losses(self):
        for layer in self._flatten_layers():
            if layer._losses:
                layer._losses = []

    # ---- build and call ----------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        raise NotImplementedError(f"Layer {type(self).__name__} should implement `def compute_output_shape("
                                  "input_shape)`")

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs given the inputs' mask: passed through when the layer
        ``supports_masking``; override to change it."""
        return mask if self.supports_masking else None

    def compute_output_spec(self, *args, **kwargs):
        """KerasTensor(s) for a call on symbolic arguments: from ``compute_output_shape`` when the
        class defines one, else by tracing ``call`` on KerasTensors (nothing is computed)."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            pos, kw = self._shape_args(self.compute_output_shape, args, kwargs)
            shape = self.compute_output_shape(*pos, **kw)

            def to_kt(s):
                return KerasTensor(s, self.dtype)

            return _map_shapes(shape, to_kt)
        with tracing():
            return self.call(*args, **kwargs)

    def _shape_args(self, method, args, kwargs):
        """The shape arguments of ``build``/``compute_output_shape`` for a call on ``args``: the first
        argument's shape (a list of shapes for a list of tensors), or ``<arg>_shape`` keywords when
        the method names several (``build(self, query_shape, value_shape)``, as Keras maps them)."""
        try:
            names = [p.name for p in inspect.signature(method).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            names = []
        if len(names) > 1 and all(n.endswith("_shape") for n in names):
            bound = dict(zip(self._call_spec.positional, args))
            bound.update(kwargs)
            shapes = {}
            for n in names:
                v = bound.get(n[:-6])
                if v is not None and hasattr(v, "shape"):
                    shapes[n] = _shape_of(v)
            return (), shapes
        return (_shape_of(args[0]),), {}

    def _one_input(self, value):
        """A list given to a single-input layer: nested numbers become a tensor; a list of tensors
        is refused as Keras' input check refuses it (one tensor in a list is unwrapped)."""
        items = list(value)
        if any(isinstance(v, (Tensor, KerasTensor, np.ndarray)) for v in items):
            if len(items) == 1:
                return items[0]
            shapes = [tuple(v.shape) if hasattr(v, "shape") else type(v).__name__ for v in items]
            raise ValueError(f'Layer "{self.name}" expects 1 input(s), but it received {len(items)} input tensors. '
                             f"Inputs received: {len(items)} values of shapes {shapes}")
        try:
            t = _core.as_tensor(np.asarray(value))
        except (TypeError, ValueError) as e:
            raise ValueError(f'Layer "{self.name}" expects one tensor; the list it received is not one '
                             f"(a ragged or non-numeric nest): {e}") from None
        # as for any non-tensor input: Python floats come in as float64 and follow the layer's dtype
        return _core.cast(t, self.dtype) if t.dtype == "float64" and self.dtype != "float64" else t

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        pos, kw = self._shape_args(self.build, args, kwargs)
        self._build_input_shape = pos[0] if pos else kw
        self.build(*pos, **kw)
        self.built = True

    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"{self.name}: missing the `inputs` argument of the call")
            args = (kwargs.pop("inputs"),)
        first = args[0]
        if type(first) is not Tensor:
            if self._single_input and isinstance(first, (list, tuple)):
                first = self._one_input(first)
                args = (first,) + args[1:]
            if type(first) is KerasTensor or _any_symbolic_deep(args, kwargs):
                return self._symbolic_call(args, kwargs)
            if self._accepts_strings:
                pass  # strings stay NumPy arrays for the text layers (and models that start with one)
            elif not isinstance(first, (Tensor, list, tuple, dict)):
                first = _core.as_tensor(first)
                if first.dtype == "float64" and self.dtype != "float64":
                    first = _core.cast(first, self.dtype)
                args = (first,) + args[1:]
        elif (len(args) > 1 or kwargs) and _any_symbolic_deep(args[1:], kwargs):
            return self._symbolic_call(args, kwargs)
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, args[0], self.name)
        spec = self._call_spec
        ctx = _CONTEXT
        # training: this call's value, else the enclosing call's, else the signature default.
        training = kwargs.get("training") if kwargs else None
        prev_training = ctx.training
        if training is None:
            training = prev_training if prev_training is not None else spec.training_default
        if spec.has_training:
            if training is not None:
                kwargs["training"] = training
        elif kwargs:
            kwargs.pop("training", None)
        # masks: an explicit `mask=` wins; else the masks riding on the inputs.
        # (an explicit `mask=` to a call without a `mask` parameter reaches call() and fails there
        # with Python's TypeError, as in Keras: nothing is dropped silently)
        explicit_mask = kwargs.get("mask") if kwargs else None
        if spec.has_mask and explicit_mask is None:
            m = _masks_of(first)
            if m is not None:
                kwargs["mask"] = m
        if spec.mask_args:
            self._fill_mask_args(spec, args, kwargs)
        entry = ctx.entry is None
        if entry:
            ctx.entry = self
            if ctx.losses_added:
                self._clear_losses()
        ctx.training = training
        ctx.scope.append(self)
        try:
            if not self.built:
                self._maybe_build(args, kwargs)
            outputs = self.call(*args, **kwargs)
        finally:
            ctx.scope.pop()
            ctx.training = prev_training
            if entry:
                ctx.entry = None
        if self.activity_regularizer is not None:
            for out in flatten(outputs):
                if isinstance(out, Tensor):
                    self.add_loss(self.activity_regularizer(out))
        if self.supports_masking:
            previous = explicit_mask if explicit_mask is not None else _masks_of(first)
            if previous is not None or self._computes_mask:
                self._set_output_masks(first, outputs, previous)
        elif self._computes_mask:
            self._set_output_masks(first, outputs, explicit_mask if explicit_mask is not None else _masks_of(first))
        return outputs

    @property
    def _computes_mask(self):
        return type(self).compute_mask is not Layer.compute_mask

    @staticmethod
    def _fill_mask_args(spec, args, kwargs):
        """``<arg>_mask`` keywords from the masks on the tensors passed as ``<arg>`` (Keras' rule for
        layers with several tensor arguments, e.g. ``query_mask``/``value_mask``)."""
        bound = dict(zip(spec.positional, args))
        for name in spec.mask_args:
            if kwargs.get(name) is None:
                v = bound.get(name[:-5], kwargs.get(name[:-5]))
                m = _masks_of(v) if v is not None else None
                if m is not None:
                    kwargs[name] = m

    def _set_output_masks(self, inputs, outputs, previous_mask):
        flat = [o for o in flatten(outputs) if isinstance(o, Tensor)]
        if not flat or all(get_keras_mask(o) is not None for o in flat):
            return
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        flat_masks = flatten(masks) if isinstance(masks, (list, tuple)) else [masks] * len(flat)
        for o, m in zip(flat, flat_masks):
            if m is not None and get_keras_mask(o) is None:
                set_keras_mask(o, m)

    def _symbolic_call(self, args, kwargs):
        """A call on KerasTensors: builds the layer from the shapes, computes the output spec and
        records a graph node (unless tracing another layer's output spec)."""
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, args[0], self.name)
        if not self._accepts_strings:
            for a in flatten((args, kwargs)):
                if isinstance(a, KerasTensor) and a.dtype == "string":
                    raise TypeError(f"Layer {self.name} ({type(self).__name__}) cannot take a string input: tensors "
                                    "hold numbers. Feed strings to TextVectorization, StringLookup or Hashing first.")
        scope = _CONTEXT.scope
        scope.append(self)
        try:
            if not self.built:
                self._maybe_build(args, kwargs)
            spec_kwargs = dict(kwargs)
            if not self._call_spec.has_training:
                spec_kwargs.pop("training", None)
            if not self._call_spec.has_mask:
                spec_kwargs.pop("mask", None)
            # Fresh tensors for the outputs: a traced call may hand back its input (an identity
            # layer) or tensors that trace-time op nodes point at; the graph needs this node's own.
            outputs = _fresh(self.compute_output_spec(*args, **spec_kwargs))
        finally:
            scope.pop()
        call_kwargs = dict(kwargs)
        outs = [o for o in flatten(outputs) if isinstance(o, KerasTensor)]
        if not in_trace():
            Node(self, args, call_kwargs, outs)
        return outputs

    # ---- graph ---------------------------------------------------------------------------------
    def _node_attribute(self, attr, what):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no defined {what}.")
        node = self._inbound_nodes[0]
        if attr == "outputs":
            values = node.outputs
        else:
            values = node.input_tensors
        return values[0] if len(values) == 1 else list(values)

    @property
    def input(self):
        """The symbolic input of the layer's first call in a graph (a list for several)."""
        return self._node_attribute("inputs", "input")

    @property
    def output(self):
        """The symbolic output of the layer's first call in a graph (a list for several)."""
        return self._node_attribute("outputs", "output")

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (Keras' ``compute_dtype``). ferrograd has no mixed
        precision policy, so it is ``dtype`` unless a subclass sets it."""
        return self.__dict__.get("_compute_dtype") or self.dtype

    @compute_dtype.setter
    def compute_dtype(self, value):
        self._compute_dtype = value

    @property
    def dtype_policy(self):
        """The layer's ``keras.DTypePolicy`` (named after ``dtype``)."""
        from .._dtype_policy import DTypePolicy

        return DTypePolicy(self.dtype)

    @property
    def variable_dtype(self):
        """The dtype of the layer's weights (Keras' ``variable_dtype``): ``dtype``."""
        return self.dtype

    # ---- config ------------------------------------------------------------------------------
    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.activity_regularizer is not None:  # Keras lists it whenever one is set
            cfg["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if self._input_shape_arg is not None:
            cfg["input_shape"] = self._input_shape_arg
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _unique(tensors):
    """``tensors`` without repeats (first occurrence kept, order preserved)."""
    seen, out = set(), []
    for t in tensors:
        if id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def _masks_of(x):
    """The mask(s) riding on ``x``: a mask, a list with None where absent, or None when none."""
    if isinstance(x, (list, tuple)):
        masks = [get_keras_mask(v) for v in x]
        return masks if any(m is not None for m in masks) else None
    return get_keras_mask(x)


def _any_symbolic_deep(args, kwargs):
    if KerasTensor in map(type, args) or (kwargs and KerasTensor in map(type, kwargs.values())):
        return True
    for a in args:
        if isinstance(a, (list, tuple, dict)) and any(isinstance(v, KerasTensor) for v in flatten(a)):
            return True
    return False


def _fresh(struct):
    if isinstance(struct, KerasTensor):
        return KerasTensor(struct.shape, struct.dtype)
    if isinstance(struct, (list, tuple)):
        return type(struct)(_fresh(s) for s in struct)
    if isinstance(struct, dict):
        return {k: _fresh(v) for k, v in struct.items()}
    return struct


def _map_shapes(shapes, fn):
    if _is_shape(shapes):
        return fn(shapes)
    if isinstance(shapes, dict):
        return {k: _map_shapes(v, fn) for k, v in shapes.items()}
    return type(shapes)(_map_shapes(s, fn) for s in shapes) if isinstance(shapes, (list, tuple)) else shapes


class _NoGrad:
    def __enter__(self):
        self._prev = _core.set_grad_enabled(False)

    def __exit__(self, *exc):
        _core.set_grad_enabled(self._prev)
        return False
