"""``keras_hub.tokenizers.Tokenizer``: the base of the hub tokenizers.

It holds what every tokenizer shares: keras_hub's special-token bookkeeping (a subclass declares
``self._add_special_token("[CLS]", "cls_token")`` and gets ``cls_token`` / ``cls_token_id``), the
``dtype`` policy, the conversion of string and id inputs (a str, nested lists of str, NumPy string
arrays; ids as ints, lists, NumPy arrays or tensors) and ``__call__`` -> ``tokenize``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Tokenizer"]

_INT_DTYPES = ("int32", "int64")


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool. Received: {name}={value!r}")
    return bool(value)


def _check_sequence_length(sequence_length):
    if sequence_length is None:
        return None
    if isinstance(sequence_length, bool) or not isinstance(sequence_length, (int, np.integer)) \
            or sequence_length < 1:
        raise ValueError("sequence_length must be a positive int or None. "
                         f"Received: sequence_length={sequence_length!r}")
    return int(sequence_length)


def _to_str(x, arg: str) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, (bytes, np.bytes_)):
        return bytes(x).decode("utf-8", errors="replace")
    raise TypeError(f"{arg} must be a string or a (nested) list of strings. Received an element of type "
                    f"{type(x).__name__}: {x!r:.80}")


def flatten_strings(inputs, arg: str = "inputs"):
    """``(flat list of str, rebuild)``: ``rebuild(per_string_results)`` restores the nesting (a bare
    string gives back its single result)."""
    if isinstance(inputs, np.ndarray):
        if inputs.dtype.kind not in "USO":
            raise TypeError(f"{arg} must hold strings. Received a NumPy array of dtype {inputs.dtype}")
        inputs = inputs.item() if inputs.ndim == 0 else inputs.tolist()
    if isinstance(inputs, (str, bytes, np.str_, np.bytes_)):
        return [_to_str(inputs, arg)], lambda results: results[0]
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"{arg} must be a string or a (nested) list of strings. Received: {type(inputs).__name__}")
    flat: list[str] = []
    shape = []

    def walk(x):
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        flat.append(_to_str(x, arg))
        return len(flat) - 1

    shape = walk(inputs)

    def rebuild(results):
        def put(s):
            return [put(v) for v in s] if isinstance(s, list) else results[s]
        return put(shape)

    return flat, rebuild


def canonicalize_ids(inputs, arg: str = "inputs"):
    """``(list of id lists, batched)`` from an int, a list (of lists) of ints, or an array/tensor of
    rank 0, 1 or 2."""
    if hasattr(inputs, "numpy") and not isinstance(inputs, np.ndarray):
        inputs = inputs.numpy()
    if isinstance(inputs, np.ndarray):
        if inputs.dtype.kind not in "iu":
            raise TypeError(f"{arg} must hold integer token ids. Received a NumPy array of dtype {inputs.dtype}")
        if inputs.ndim > 2:
            raise ValueError(f"{arg} must have rank 0, 1 or 2. Received shape {inputs.shape}")
        inputs = inputs.tolist()
    if isinstance(inputs, (int, np.integer)) and not isinstance(inputs, bool):
        return [[int(inputs)]], None
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"{arg} must be token ids (an int, a list of ints or a list of lists of ints). "
                        f"Received: {type(inputs).__name__}")

    def ints(row):
        out = []
        for v in row:
            if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
                v = v.item()
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{arg} must contain integer token ids. Received an element of type "
                                f"{type(v).__name__}: {v!r:.80}")
            out.append(int(v))
        return out

    if not inputs or not isinstance(inputs[0], (list, tuple, np.ndarray)):
        return [ints(inputs)], False
    return [ints(np.asarray(r).tolist() if isinstance(r, np.ndarray) else r) for r in inputs], True


class Tokenizer:
    """Base class of the hub tokenizers (keras_hub's ``Tokenizer``): ``tokenize``, ``detokenize``,
    the vocabulary accessors and the special tokens a subclass registers.

    Calling a tokenizer is ``tokenize``.
    """

    def __init__(self, dtype: str = "int32", name: str | None = None, **kwargs) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{', '.join(sorted(kwargs))} (not implemented in ferrograd)")
        if dtype not in _INT_DTYPES + ("string",):
            raise ValueError(f"dtype must be 'int32', 'int64' or 'string'. Received: dtype={dtype!r}")
        self.dtype = dtype
        self.compute_dtype = dtype
        self.name = name if name is not None else _snake(type(self).__name__)
        if not hasattr(self, "_special_token_attrs"):
            self._special_token_attrs: list[str] = []

    # ----- special tokens (keras_hub's protocol) ---------------------------------------------------
    def _add_special_token(self, token: str, name: str) -> None:
        if not hasattr(self, "_special_token_attrs"):
            self._special_token_attrs = []
        setattr(self, name, token)
        self._special_token_attrs.append(name)
        setattr(self, f"{name}_id", None)

    @property
    def special_tokens(self) -> list[str]:
        """The special tokens the class registers (unique, in order)."""
        out: list[str] = []
        for name in getattr(self, "_special_token_attrs", []):
            tok = getattr(self, name)
            if tok not in out:
                out.append(tok)
        return out

    @property
    def special_token_ids(self) -> list[int]:
        """The ids of :attr:`special_tokens`."""
        return [self.token_to_id(t) for t in self.special_tokens]

    def _update_special_token_ids(self) -> None:
        for name in getattr(self, "_special_token_attrs", []):
            tok = getattr(self, name)
            if self._lookup(tok) is None:
                raise ValueError(f"Cannot find special token `{name}`, `{tok!r}` in the provided vocabulary. "
                                 "Please provide it in the vocabulary or use a vocabulary that contains it.")
            setattr(self, f"{name}_id", self._lookup(tok))

    def _lookup(self, token: str):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    # ----- call ---------------------------------------------------------------------------------
    def __call__(self, inputs, *args, training=None, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__call__ takes only the inputs. Received extra arguments "
                            f"{args!r} {sorted(kwargs)!r}")
        return self.tokenize(inputs)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        try:
            size = self.vocabulary_size()
        except ValueError:
            size = None
        return f"<{type(self).__name__} name={self.name!r} vocabulary_size={size}>"


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
