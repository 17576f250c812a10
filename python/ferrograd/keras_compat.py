"""Run an unmodified Keras 3 script on ferrograd.

    python -m ferrograd.keras_compat script.py [script args...]

``keras`` and its submodules are mapped to ferrograd's (``keras.layers`` -> ``ferrograd.layers``,
...), and ``keras_hub`` to ``ferrograd.hub`` (``keras_hub.layers``, ``keras_hub.models``,
``keras_hub.samplers``). A submodule ferrograd does not have yet fails at import with an error naming it; a missing name
inside a mapped module raises an AttributeError/ImportError naming the Keras API.
``KERAS_BACKEND`` in the environment is accepted and ignored (the backend is ferrograd's Rust core).
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import runpy
import sys

_MAP = {
    "keras": "ferrograd",
    "keras.layers": "ferrograd.layers",
    "keras.ops": "ferrograd.ops",
    "keras.ops.nn": "ferrograd.ops.nn",
    "keras.ops.numpy": "ferrograd.ops.numpy",
    "keras.ops.image": "ferrograd.ops.image",
    "keras.ops.linalg": "ferrograd.ops.linalg",
    "keras.activations": "ferrograd.activations",
    "keras.initializers": "ferrograd.initializers",
    "keras.regularizers": "ferrograd.regularizers",
    "keras.constraints": "ferrograd.constraints",
    "keras.optimizers": "ferrograd.optimizers",
    "keras.losses": "ferrograd.losses",
    "keras.metrics": "ferrograd.metrics",
    "keras.callbacks": "ferrograd.callbacks",
    "keras.models": "ferrograd.models",
    "keras.saving": "ferrograd.saving",
    "keras.utils": "ferrograd.utils",
    "keras.datasets": "ferrograd.datasets",
    "keras.datasets.mnist": "ferrograd.datasets.mnist",
    "keras.datasets.fashion_mnist": "ferrograd.datasets.fashion_mnist",
    "keras.datasets.cifar10": "ferrograd.datasets.cifar10",
    "keras.datasets.cifar100": "ferrograd.datasets.cifar100",
    "keras.datasets.boston_housing": "ferrograd.datasets.boston_housing",
    "keras.datasets.reuters": "ferrograd.datasets.reuters",
    "keras.datasets.imdb": "ferrograd.datasets.imdb",
    "keras.random": "ferrograd.random",
    "keras.backend": "ferrograd.backend",
    "keras.config": "ferrograd.config",
    "keras.tree": "ferrograd.tree",
    "keras_hub": "ferrograd.hub",
    "keras_hub.layers": "ferrograd.hub.layers",
    "keras_hub.models": "ferrograd.hub.models",
    "keras_hub.samplers": "ferrograd.hub.samplers",
    "keras_hub.tokenizers": "ferrograd.hub.tokenizers",
}


class _KerasFinder(importlib.abc.MetaPathFinder):
    """Refuses unmapped ``keras.*`` submodules with a clear message (instead of importing real Keras)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in ("keras", "keras_hub") or fullname.startswith(("keras.", "keras_hub.")):
            if fullname in _MAP:
                return None
            raise ImportError(f"{fullname} is not available in ferrograd yet (ferrograd maps: "
                              f"{', '.join(sorted(_MAP))})", name=fullname)
        return None


def install():
    """Maps ``keras`` and its submodules to ferrograd in ``sys.modules``."""
    for k, v in _MAP.items():
        sys.modules[k] = importlib.import_module(v)
    sys.modules["keras.optimizers.schedules"] = sys.modules["ferrograd.optimizers"].schedules
    if not any(isinstance(f, _KerasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _KerasFinder())


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    install()
    script = argv[0]
    sys.argv = argv
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
