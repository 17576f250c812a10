"""Run an unmodified Keras 3 script on ferrograd.

    python -m ferrograd.keras_compat [options] script.py [script args...]

``keras`` and its submodules are mapped to ferrograd's (``keras.layers`` -> ``ferrograd.layers``,
...), and ``keras_hub`` to ``ferrograd.hub`` (``keras_hub.layers``, ``keras_hub.models``,
``keras_hub.samplers``). A submodule ferrograd does not have yet fails at import with an error naming it; a missing name
inside a mapped module raises an AttributeError/ImportError naming the Keras API.
``KERAS_BACKEND`` in the environment is accepted and ignored (the backend is ferrograd's Rust core).

Options for running a long or downloading script on a small offline machine; the script itself is
not changed, and each option prints one line to stderr saying what it did:

``--max-epochs N``
    ``Model.fit`` runs at most N epochs (counted from its ``initial_epoch``).
``--max-steps N``
    An epoch of ``Model.fit`` (and its validation) takes at most N batches, and ``Model.evaluate``
    at most N. ``predict`` is never cut: scripts index its result by sample.
``--synthetic-data``
    A ``keras.datasets`` loader whose files are not on this machine (``$FERROGRAD_DATA`` or the
    cache folder) returns seeded random arrays with the real dataset's shapes, dtypes, label ranges
    and split sizes instead of downloading; local files are read as usual.
``--url-dir DIR``
    Whatever the script fetches by URL through ``urllib.request.urlopen`` (``numpy.loadtxt`` on a
    URL, ``keras.utils.get_file``, ...) is read from ``DIR/<the URL's file name>``; a URL whose
    file is not in DIR fails with an error naming the path, and nothing goes to the network.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.util
import inspect
import io
import os
import runpy
import sys
import urllib.error
import urllib.parse
import urllib.request
import urllib.response
from email.message import Message

import numpy as np

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
    "keras.applications": "ferrograd.applications",
    "keras.applications.imagenet_utils": "ferrograd.applications.imagenet_utils",
    "keras.applications.vgg16": "ferrograd.applications.vgg16",
    "keras.applications.vgg19": "ferrograd.applications.vgg19",
    "keras.applications.resnet": "ferrograd.applications.resnet",
    "keras.applications.resnet50": "ferrograd.applications.resnet50",
    "keras.applications.resnet_v2": "ferrograd.applications.resnet_v2",
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


def _note(msg):
    print(f"keras_compat: {msg}", file=sys.stderr)


def limit_training(max_epochs=None, max_steps=None):
    """Caps ``fit``'s epochs and the batches of ``fit`` and ``evaluate`` (see the module note).

    The step cap applies to the epoch iterators ``fit`` and ``evaluate`` make, and only where the
    data has more batches than the cap (or an unknown number): it is not the script's own
    ``steps``, so batch sizes and short datasets stay as the script has them."""
    from .training.trainer import Trainer

    fit, evaluate, predict, make_iterator = Trainer.fit, Trainer.evaluate, Trainer.predict, Trainer._epoch_iterator
    active = []
    fit_signature = inspect.signature(fit)

    def run(capped, method, *args, **kwargs):
        """``method(*args, **kwargs)`` with the step cap on or off for the iterators it makes."""
        saved = active[:]
        active[:] = [capped]
        try:
            return method(*args, **kwargs)
        finally:
            active[:] = saved

    def capped_iterator(self, *args, **kwargs):
        iterator = make_iterator(self, *args, **kwargs)
        if max_steps is not None and active and active[-1]:
            n = iterator.num_batches
            if n is None or n > max_steps:
                iterator.steps_per_epoch = max_steps
        return iterator

    def capped_fit(self, *args, **kwargs):
        if max_epochs is not None:
            bound = fit_signature.bind_partial(self, *args, **kwargs).arguments
            bound.pop("self")
            args, kwargs = (), bound
            kwargs["epochs"] = min(kwargs.get("epochs", 1), kwargs.get("initial_epoch", 0) + max_epochs)
        return run(True, fit, self, *args, **kwargs)

    def capped_evaluate(self, *args, **kwargs):
        return run(True, evaluate, self, *args, **kwargs)

    def uncapped_predict(self, *args, **kwargs):
        return run(False, predict, self, *args, **kwargs)  # never cut, even from a callback inside fit

    capped_fit.__doc__, capped_evaluate.__doc__ = fit.__doc__, evaluate.__doc__
    uncapped_predict.__doc__ = predict.__doc__
    Trainer.fit, Trainer.evaluate, Trainer.predict = capped_fit, capped_evaluate, uncapped_predict
    Trainer._epoch_iterator = capped_iterator
    _note(f"fit runs at most {max_epochs or 'all'} epochs of at most {max_steps or 'all'} batches; "
          f"evaluate at most {max_steps or 'all'} batches")


def _images(rng, n, shape):
    return rng.integers(0, 256, (n, *shape), dtype=np.uint8)


def _sequences(rng, n, vocab, num_words, skip_top, maxlen, start_char, oov_char, index_from):
    top = vocab + index_from if num_words is None else num_words
    lengths = rng.integers(20, 400, n)
    if maxlen:
        lengths = np.minimum(lengths, maxlen - (start_char is not None))
    out = np.empty(n, dtype=object)
    for i, m in enumerate(lengths):
        ids = rng.integers(index_from + 1, top, m).tolist()
        if skip_top:
            ids = [w if w >= skip_top + index_from else oov_char for w in ids]
        out[i] = ([start_char] if start_char is not None else []) + ids
    return out


def synthetic_datasets():
    """Replaces the ``keras.datasets`` loaders with seeded generators of the real shapes."""
    from . import config, datasets

    def channels(x):
        return x.transpose(0, 3, 1, 2) if config.image_data_format() == "channels_first" else x

    def digits(path=None):
        rng = np.random.default_rng(0)
        return tuple((_images(rng, n, (28, 28)), rng.integers(0, 10, n, dtype=np.uint8)) for n in (60000, 10000))

    def cifar(classes):
        rng = np.random.default_rng(0)
        return tuple((channels(_images(rng, n, (32, 32, 3))), rng.integers(0, classes, (n, 1), dtype=np.uint8))
                     for n in (50000, 10000))

    def cifar100(label_mode="fine"):
        if label_mode not in ("fine", "coarse"):
            raise ValueError(f"`label_mode` must be one of `'fine'`, `'coarse'`. Received: label_mode={label_mode}.")
        return cifar(100 if label_mode == "fine" else 20)

    def boston_housing(path="boston_housing.npz", test_split=0.2, seed=113):
        rng = np.random.default_rng(seed)
        x, y = rng.uniform(0, 100, (506, 13)), rng.uniform(5, 50, 506)
        n = int(len(x) * (1 - test_split))
        return (x[:n], y[:n]), (x[n:], y[n:])

    def text(sizes, vocab, classes):
        def load_data(path=None, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
                      index_from=3, test_split=0.2, **kwargs):
            rng = np.random.default_rng(seed)
            n_train, n_test = sizes if sizes[1] else (int(sizes[0] * (1 - test_split)),
                                                      sizes[0] - int(sizes[0] * (1 - test_split)))
            return tuple((_sequences(rng, n, vocab, num_words, skip_top, maxlen, start_char, oov_char, index_from),
                          rng.integers(0, classes, n, dtype=np.int64)) for n in (n_train, n_test))
        return load_data

    loaders = {
        "mnist": digits, "fashion_mnist": digits, "cifar10": lambda: cifar(10), "cifar100": cifar100,
        "boston_housing": boston_housing, "imdb": text((25000, 25000), 88584, 2),
        "reuters": text((11228, 0), 30979, 46),
    }
    for name, fn in loaders.items():
        module = getattr(datasets, name)
        module.load_data = _local_or_generated(f"keras.datasets.{name}", module.load_data, fn)
    _pretrained_or_initialized()
    _note("keras.datasets loaders read local files where they exist, else return generated arrays of the "
          "real shapes, and keras.applications keep their random initialization where the pretrained "
          "weights are not local (--synthetic-data)")


def _pretrained_or_initialized():
    """Pretrained ``keras.applications`` weights come from the local cache (or ``--url-dir``) when
    they are there; otherwise the model keeps its random initialization, as generated data stands
    in for a download."""
    from .applications import imagenet_utils

    original = imagenet_utils.load_pretrained

    def load_pretrained(model, weights, file_name, origin, file_hash):
        if weights != "imagenet":
            return original(model, weights, file_name, origin, file_hash)
        try:
            path = _offline(lambda: imagenet_utils.fetch_weights(file_name, origin, file_hash))
        except OSError:
            _note(f"{model.name}: the pretrained weights {file_name} are not local; the model keeps its random "
                  "initialization")
            return model
        model.load_weights(path)
        return model

    imagenet_utils.load_pretrained = load_pretrained


def _offline(fn):
    """``fn()`` with the network refused (a ``--url-dir`` still serves its files)."""
    if _SERVING:
        return fn()

    def refuse(url, *a, **k):
        raise urllib.error.URLError("no download under --synthetic-data")

    saved, urllib.request.urlopen = urllib.request.urlopen, refuse
    try:
        return fn()
    finally:
        urllib.request.urlopen = saved


def _local_or_generated(name, real, generated):
    """``real`` when it finds its files locally (the network refused), else ``generated``."""
    def load_data(*args, **kwargs):
        try:
            return _offline(lambda: real(*args, **kwargs))
        except OSError:
            _note(f"{name}: no local files, generated arrays of the real shapes")
            return generated(*args, **kwargs)
    load_data.__doc__ = real.__doc__
    return load_data


def serve_urls_from(directory):
    """Makes ``urllib.request.urlopen`` read every URL's file from ``directory`` (module note)."""
    directory = os.path.abspath(directory)

    def urlopen(url, *args, **kwargs):
        full = url.full_url if isinstance(url, urllib.request.Request) else str(url)
        name = os.path.basename(urllib.parse.urlparse(full).path)
        path = os.path.join(directory, name)
        if not name or not os.path.isfile(path):
            raise urllib.error.URLError(f"{full}: --url-dir serves {path}, which does not exist "
                                        "(this run does not use the network)")
        with open(path, "rb") as f:
            data = f.read()
        headers = Message()
        headers["Content-Length"] = str(len(data))
        _note(f"{full} -> {path}")
        return urllib.response.addinfourl(io.BytesIO(data), headers, full, 200)

    global _SERVING
    urllib.request.urlopen = urlopen
    _SERVING = True


_SERVING = False  # whether --url-dir serves the URLs


def _parser():
    p = argparse.ArgumentParser(prog="python -m ferrograd.keras_compat", add_help=True,
                                description="Run an unmodified Keras 3 script on ferrograd.")
    p.add_argument("--max-epochs", type=int, metavar="N")
    p.add_argument("--max-steps", type=int, metavar="N")
    p.add_argument("--synthetic-data", action="store_true")
    p.add_argument("--url-dir", metavar="DIR")
    p.add_argument("script")
    p.add_argument("args", nargs=argparse.REMAINDER)
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    opts = _parser().parse_args(argv)
    for flag in ("max_epochs", "max_steps"):
        value = getattr(opts, flag)
        if value is not None and value < 1:
            raise SystemExit(f"--{flag.replace('_', '-')} must be a positive integer; got {value}")
    if opts.url_dir is not None and not os.path.isdir(opts.url_dir):
        raise SystemExit(f"--url-dir {opts.url_dir}: not a directory")
    install()
    if opts.max_epochs is not None or opts.max_steps is not None:
        limit_training(opts.max_epochs, opts.max_steps)
    if opts.synthetic_data:
        synthetic_datasets()
    if opts.url_dir is not None:
        serve_urls_from(opts.url_dir)
    sys.argv = [opts.script, *opts.args]
    runpy.run_path(opts.script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
