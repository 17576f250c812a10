"""Keras 3's serialized form of small objects (initializers, regularizers, constraints).

One rule for the three modules instead of three copies: an object becomes
``{"module", "class_name", "config", "registered_name"}`` as ``keras.*.serialize`` writes it, and a
dict in that form (or the older ``{"class_name", "config"}``) becomes the object again. Loading
looks classes up in the module's own table and among the classes registered with
``keras.saving.register_keras_serializable``; it never imports a module named in the file.
"""
from __future__ import annotations


def serialize_object(obj, module, kind):
    """The Keras 3 dict for ``obj`` (None stays None); ``module`` is e.g. "keras.regularizers"."""
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        if type(obj).__module__.startswith("ferrograd."):
            return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
                    "registered_name": None}
        # A user class: Keras writes module None and the registered name (the class name when the
        # class is not registered, which then loads only through custom_objects / registration).
        registered = getattr(type(obj), "_registered_name", None) or type(obj).__name__
        return {"module": None, "class_name": type(obj).__name__, "config": obj.get_config(),
                "registered_name": registered}
    name = getattr(obj, "__name__", None)
    if callable(obj) and name:
        # Plain functions: Keras writes this form and needs the function registered to load it.
        return {"module": "builtins", "class_name": "function",
                "config": name, "registered_name": getattr(obj, "_registered_name", None) or "function"}
    raise ValueError(f"cannot serialize the {kind} {obj!r}")


def deserialize_object(config, table, kind):
    """The object described by ``config`` (a dict from :func:`serialize_object`, or a class name)."""
    from . import saving

    if config is None:
        return None
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret serialized {kind}: {config!r}")
    cname, registered = config["class_name"], config.get("registered_name")
    if cname == "function":
        fn = saving._CUSTOM.get(registered) or saving._CUSTOM.get(config.get("config"))
        if fn is None:
            raise ValueError(f"Could not deserialize the {kind} function {config.get('config')!r}: register it "
                             "with @keras.saving.register_keras_serializable()")
        return fn
    cls = saving._CUSTOM.get(registered) if registered else None
    if cls is None:
        cls = table.get(cname)
    if cls is None:
        raise ValueError(f"Unknown {kind}: {cname!r}; known: {sorted(k for k in table if k[:1].isupper())}")
    return cls.from_config(dict(config.get("config") or {}))
