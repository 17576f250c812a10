"""``keras_hub.samplers``: decoding strategies for text generation (keras_hub's names, arguments,
configs and call contract).

A sampler fills ``prompt`` (B, L) from position ``index`` to the end, one position per step:
``logits, hidden_states, cache = next(prompt, cache, index)`` gives the (B, V) logits of
position ``index``, the sampler picks a token from ``softmax(logits / temperature)``, writes it
at ``index`` (unless ``mask[:, index]`` marks a prompt token, kept as is) and moves on. With
``stop_token_ids`` it stops once every row holds a stop token outside ``mask``. Python runs the
loop (one step per position); every tensor op in it runs in Rust.
"""
from __future__ import annotations

from .. import ops
from .. import random as _random

__all__ = ["BeamSampler", "GreedySampler", "RandomSampler", "Sampler", "TopKSampler", "TopPSampler", "deserialize",
           "get", "serialize"]


def _map_structure(fn, struct):
    if isinstance(struct, (list, tuple)):
        return type(struct)(_map_structure(fn, s) for s in struct)
    if isinstance(struct, dict):
        return {k: _map_structure(fn, v) for k, v in struct.items()}
    return None if struct is None else fn(struct)


def _set_column(prompt, index, tokens):
    """``prompt`` (B, L) with column ``index`` replaced by ``tokens`` (B,)."""
    column = ops.expand_dims(ops.equal(ops.arange(prompt.shape[1], dtype="int32"), index), 0)  # (1, L)
    return ops.where(column, ops.expand_dims(ops.cast(tokens, prompt.dtype), 1), prompt)


def _all_done(prompt, mask, stop_token_ids):
    if stop_token_ids is None:
        return False
    ends = None
    for token in stop_token_ids:
        hit = ops.equal(prompt, token)
        ends = hit if ends is None else ops.logical_or(ends, hit)
    ends = ops.logical_and(ends, ops.logical_not(mask))  # (B, L)
    return bool(ops.convert_to_numpy(ops.all(ops.any(ends, axis=-1))))


class Sampler:
    """Base class: ``__call__`` runs the loop, subclasses pick the token in ``get_next_token``.

    Args:
        temperature: logits are divided by it before the softmax (1.0).
    """

    def __init__(self, temperature=1.0):
        if not temperature > 0:
            raise ValueError(f"`temperature` must be positive. Received: temperature={temperature!r}")
        self.temperature = temperature

    def _prepare(self, prompt, index, mask):
        prompt = ops.convert_to_tensor(prompt)
        if prompt.ndim != 2:
            raise ValueError(f"`prompt` must have shape (batch_size, max_length). Received shape "
                             f"{tuple(prompt.shape)}")
        index = int(ops.convert_to_numpy(index)) if not isinstance(index, int) else index
        mask = ops.zeros(prompt.shape, dtype="bool") if mask is None else ops.cast(ops.convert_to_tensor(mask), "bool")
        return prompt, index, mask

    def __call__(self, next, prompt, cache=None, index=0, mask=None, stop_token_ids=None, hidden_states=None,  # noqa: A002
                 model=None, **kwargs):
        prompt, index, mask = self._prepare(prompt, index, mask)
        prompt = ops.copy(prompt)  # filled in place, column by column (the caller's stays as is)
        cache = () if cache is None else cache
        max_length = prompt.shape[1]
        while index < max_length and not _all_done(prompt, mask, stop_token_ids):
            logits, _, cache = next(prompt, cache, index)  # (B, V)
            token = self.get_next_token(self.compute_probabilities(logits))  # (B,)
            prompt[:, index] = ops.where(mask[:, index], prompt[:, index], ops.cast(token, prompt.dtype))
            index += 1
        return prompt

    def compute_probabilities(self, logits):
        """``softmax(logits / temperature)`` in float32."""
        return ops.softmax(ops.cast(logits, "float32") / self.temperature, axis=-1)

    def get_next_token(self, probabilities):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        return {"temperature": self.temperature}


class GreedySampler(Sampler):
    """Picks the most probable token at each step (``argmax``)."""

    def get_next_token(self, probabilities):
        return ops.argmax(probabilities, axis=-1)


class _SeededSampler(Sampler):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = _random.SeedGenerator(seed) if seed is not None else None

    def _draw(self, probabilities):
        """One index per row drawn from ``probabilities`` (B, K)."""
        return ops.cast(_random.categorical(ops.log(probabilities), 1, dtype="int32", seed=self.seed_generator),
                        "int32")  # (B, 1)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class RandomSampler(_SeededSampler):
    """Samples the next token from the whole distribution.

    Args: ``seed`` (None: the global seed), ``temperature``.
    """

    def get_next_token(self, probabilities):
        return ops.squeeze(self._draw(probabilities), axis=-1)


class TopKSampler(_SeededSampler):
    """Samples among the ``k`` most probable tokens (renormalised).

    Args: ``k`` (5), ``seed``, ``temperature``.
    """

    def __init__(self, k=5, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
            raise ValueError(f"`k` must be a positive integer. Received: k={k!r}")
        self.k = k

    def get_next_token(self, probabilities):
        top, indices = ops.top_k(probabilities, self.k)  # (B, k)
        choice = self._draw(top)  # (B, 1)
        return ops.squeeze(ops.take_along_axis(indices, choice, axis=-1), axis=-1)

    def get_config(self):
        return {"temperature": self.temperature, "k": self.k, "seed": self.seed}


class TopPSampler(_SeededSampler):
    """Nucleus sampling: samples among the most probable tokens whose cumulative probability
    first reaches ``p`` (the token crossing ``p`` included), optionally among the ``k`` best only.

    Args: ``p`` (0.1), ``k`` (None), ``seed``, ``temperature``.
    """

    def __init__(self, p=0.1, k=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if not 0 < p <= 1:
            raise ValueError(f"`p` must be in (0, 1]. Received: p={p!r}")
        self.p = p
        self.k = k

    def get_next_token(self, probabilities):
        cutoff = probabilities.shape[1] if self.k is None else self.k
        top, indices = ops.top_k(probabilities, cutoff, sorted=True)  # (B, K)
        keep = ops.less_equal(ops.cumsum(top, axis=-1), self.p)  # (B, K)
        keep = ops.concatenate([ops.ones_like(keep[:, :1]), keep[:, :-1]], axis=-1)  # the crossing token too
        kept = ops.where(keep, top, ops.zeros_like(top))
        choice = self._draw(kept)  # (B, 1)
        return ops.squeeze(ops.take_along_axis(indices, choice, axis=-1), axis=-1)

    def get_config(self):
        return {"temperature": self.temperature, "p": self.p, "k": self.k, "seed": self.seed}


class BeamSampler(Sampler):
    """Beam search: keeps the ``num_beams`` sequences of highest total log-probability, extending
    each by every token and keeping the best ``num_beams`` of the ``num_beams * V`` candidates per
    step. Returns the best sequence (B, L), or with ``return_all_beams=True`` every beam sorted
    best first (B, num_beams, L) with its log-probability (B, num_beams). A ``cache`` given to the
    call is repeated per beam and reordered with the beams.

    Args: ``num_beams`` (5), ``return_all_beams`` (False), ``temperature``.
    """

    def __init__(self, num_beams=5, return_all_beams=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_beams, bool) or not isinstance(num_beams, int) or num_beams <= 0:
            raise ValueError(f"`num_beams` must be a positive integer. Received: num_beams={num_beams!r}")
        self.num_beams = num_beams
        self.return_all_beams = return_all_beams

    def __call__(self, next, prompt, cache=None, index=0, mask=None, stop_token_ids=None, hidden_states=None,  # noqa: A002
                 model=None, **kwargs):
        prompt, index, mask = self._prepare(prompt, index, mask)
        batch, max_length = prompt.shape
        n = self.num_beams

        def create(x):
            return ops.repeat(x, n, axis=0)  # (B*n, ...)

        has_cache = cache is not None
        prompt, mask = create(prompt), create(mask)  # (B*n, L)
        cache = _map_structure(create, cache) if has_cache else ()
        log_probs = ops.reshape(ops.broadcast_to(ops.convert_to_tensor([[0.0] + [-1e9] * (n - 1)], "float32"),
                                                 (batch, n)), (-1,))  # (B*n,): one live beam at first
        while index < max_length and not _all_done(prompt, mask, stop_token_ids):
            logits, _, cache = next(prompt, cache, index)  # (B*n, V)
            vocab = logits.shape[-1]
            scores = ops.log(self.compute_probabilities(logits)) + ops.expand_dims(log_probs, -1)  # (B*n, V)
            scores = ops.reshape(scores, (batch, n * vocab))
            log_probs, flat = ops.top_k(scores, n)  # (B, n)
            beam = flat // vocab  # (B, n) the beam each candidate extends
            token = ops.reshape(flat % vocab, (-1,))  # (B*n,)
            log_probs = ops.reshape(log_probs, (-1,))

            def gather(x, beam=beam):
                x = ops.reshape(x, (batch, n) + tuple(x.shape[1:]))  # (B, n, ...)
                idx = beam
                for axis in range(2, x.ndim):
                    idx = ops.expand_dims(idx, axis)
                x = ops.take_along_axis(x, ops.cast(idx, "int64"), axis=1)
                return ops.reshape(x, (batch * n,) + tuple(x.shape[2:]))

            prompt = gather(prompt)
            if has_cache:
                cache = _map_structure(gather, cache)
            token = ops.where(mask[:, index], prompt[:, index], ops.cast(token, prompt.dtype))
            prompt = _set_column(prompt, index, token)
            index += 1
        prompts = ops.reshape(prompt, (batch, n, max_length))
        scores = ops.reshape(log_probs, (batch, n))
        if self.return_all_beams:
            order = ops.argsort(-scores, axis=-1)  # (B, n) best first
            return (ops.take_along_axis(prompts, ops.expand_dims(order, -1), axis=1),
                    ops.take_along_axis(scores, order, axis=1))
        best = ops.reshape(ops.argmax(scores, axis=-1), (batch, 1, 1))
        return ops.squeeze(ops.take_along_axis(prompts, ops.cast(best, "int64"), axis=1), axis=1)

    def get_config(self):
        return {**super().get_config(), "num_beams": self.num_beams, "return_all_beams": self.return_all_beams}


_BY_NAME = {"beam": BeamSampler, "greedy": GreedySampler, "random": RandomSampler, "top_k": TopKSampler,
            "top_p": TopPSampler}
_BY_CLASS = {cls.__name__: cls for cls in _BY_NAME.values()}


def serialize(sampler):
    """``{"module", "class_name", "config", "registered_name"}`` as keras_hub writes it."""
    name = type(sampler).__name__
    return {"module": "keras_hub.samplers", "class_name": name, "config": sampler.get_config(),
            "registered_name": f"keras_hub>{name}"}


def deserialize(config, custom_objects=None):
    """The sampler of a short name ("greedy", "top_k", ...) or a :func:`serialize` dict."""
    if isinstance(config, str):
        if config not in _BY_NAME:
            raise ValueError(f"Unknown sampler: {config!r}. Known: {', '.join(sorted(_BY_NAME))}")
        return _BY_NAME[config]()
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret sampler config: {config!r}")
    name = config.get("registered_name") or config["class_name"]
    name = name.split(">", 1)[-1]
    cls = (custom_objects or {}).get(name) or _BY_CLASS.get(name) or _BY_NAME.get(name)
    if cls is None:
        raise ValueError(f"Unknown sampler class: {config['class_name']!r}")
    return cls.from_config(dict(config.get("config", {})))


def get(identifier):
    """A sampler from a lowercase name, a config dict, or a callable (returned as is)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if not identifier.islower():
            raise KeyError(f"`keras_hub.samplers.get()` must take a lowercase string identifier, but received: "
                           f"{identifier}.")
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret sampler identifier: {identifier}")
