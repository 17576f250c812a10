"""``keras.saving.serialize_keras_object`` / ``deserialize_keras_object``: the generic form of any
Keras object (layers, initializers, regularizers, constraints, losses, metrics, optimizers,
activation functions, and nests of them), as custom layers use them in ``get_config`` /
``from_config``.

Deserializing looks classes up in ferrograd's own tables, ``custom_objects`` and the classes
registered with ``register_keras_serializable``; it never imports the module a config names.
"""
from __future__ import annotations

__all__ = ["serialize_keras_object", "deserialize_keras_object"]

_PRIMITIVES = (type(None), bool, int, float, str)


def _kinds():
    from . import constraints, initializers, layers, losses, metrics, optimizers, regularizers

    # (module prefix in a config, base class, module)
    return [("keras.layers", layers.Layer, layers), ("keras.initializers", initializers.Initializer, initializers),
            ("keras.regularizers", regularizers.Regularizer, regularizers),
            ("keras.constraints", constraints.Constraint, constraints), ("keras.losses", losses.Loss, losses),
            ("keras.metrics", metrics.Metric, metrics), ("keras.optimizers", optimizers.Optimizer, optimizers)]


def serialize_keras_object(obj):
    """The JSON-able config of ``obj`` in Keras 3's form: ``{"module", "class_name", "config",
    "registered_name"}`` for objects, ``{"module": "builtins", "class_name": "function", ...}`` for
    functions; primitives as they are; lists, tuples and dicts item by item."""
    from . import layers

    if isinstance(obj, _PRIMITIVES):
        return obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(serialize_keras_object(v) for v in obj)
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    for prefix, base, module in _kinds():
        if isinstance(obj, base):
            if module is layers:
                registered = getattr(type(obj), "_registered_name", None)
                out = {"module": None if registered else prefix, "class_name": type(obj).__name__,
                       "config": obj.get_config(), "registered_name": registered}
                shape = getattr(obj, "_build_input_shape", None)
                if obj.built and shape is not None:
                    out["build_config"] = {"input_shape": shape}
                return out
            out = module.serialize(obj)
            if isinstance(out, dict):  # some modules write the older {"class_name", "config"} form
                out = {"module": prefix, "class_name": out.get("class_name"), "config": out.get("config"),
                       "registered_name": out.get("registered_name"), **out}
            return out
    if callable(obj) and getattr(obj, "__name__", None):
        return {"module": "builtins", "class_name": "function", "config": obj.__name__,
                "registered_name": getattr(obj, "_registered_name", None) or "function"}
    if hasattr(obj, "get_config"):
        registered = getattr(type(obj), "_registered_name", None)
        return {"module": None, "class_name": type(obj).__name__, "config": obj.get_config(),
                "registered_name": registered or type(obj).__name__}
    raise TypeError(f"Cannot serialize {obj!r} of type {type(obj).__name__}: it has no get_config()")


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object :func:`serialize_keras_object` described (see the module note)."""
    from . import activations, saving

    if isinstance(config, _PRIMITIVES):
        return config
    if isinstance(config, (list, tuple)):
        return type(config)(deserialize_keras_object(v, custom_objects) for v in config)
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects) for k, v in config.items()}
    cname, inner = config["class_name"], config["config"]
    registered = config.get("registered_name")
    module = config.get("module") or ""
    if cname == "function":
        for table in (custom_objects or {}, saving.get_custom_objects()):
            for key in (registered, inner):
                if key in table:
                    return table[key]
        return activations.get(inner)
    for key in (registered, cname):
        cls = (custom_objects or {}).get(key) or saving.get_custom_objects().get(key)
        if cls is not None:
            return cls.from_config(inner)
    for prefix, _base, mod in _kinds():
        if module.startswith(prefix) or (prefix == "keras.optimizers" and "optimizers" in module):
            if prefix == "keras.layers":
                cls = getattr(mod, cname, None)
                if isinstance(cls, type):
                    layer = cls.from_config(inner)
                    build = config.get("build_config")
                    if build and build.get("input_shape") is not None:
                        layer.build(tuple(build["input_shape"]))
                    return layer
                break
            return mod.deserialize({k: v for k, v in config.items() if k != "build_config"})
    raise TypeError(f"Could not locate class '{cname}'. Make sure custom classes and functions are decorated with "
                    "`@keras.saving.register_keras_serializable()`. If they are already decorated, make sure they "
                    f"are all imported so that the decorator is run before trying to load them. Full object config: "
                    f"{config}")
