"""Worker side of tests/test_fuzz_files.py (runs in a subprocess, see fuzz_helpers).

Each target makes one valid file, then loads mutated copies of it:

- ``keras``: a small saved model; byte mutations of the archive, and member mutations (config.json
  values replaced, deleted or nested deeply; a mutated safetensors weights member; members dropped,
  duplicated or added) rewritten into a well-formed zip. A model that loads is also called.
- ``safetensors``: the weights alone (``*.safetensors`` through ``model.load_weights`` and
  ``_core.safetensors_loads``); byte mutations and header mutations (shapes, dtypes, offsets, the
  length prefix).
- ``tiktoken`` / ``gpt2``: rank files and GPT-2 ``encoder.json`` + ``vocab.bpe`` pairs; byte and
  line mutations.

Passing: the load succeeds, or raises an allowed exception with a message; never a crash, a hang,
a BaseException, or an allocation beyond the worker's memory limit.
"""
from __future__ import annotations

import base64
import io
import json
import os
import struct
import tempfile
import zipfile

import fuzz_helpers as fh
import numpy as np
from hypothesis import strategies as st

BIG = [0, 1, 255, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53, 2**63 - 1, 2**64 - 1]


@st.composite
def byte_mutation(draw, size):
    """One edit of a byte string of length ``size``: (kind, position, payload)."""
    kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "dup", "u64"]))
    pos = draw(st.integers(0, max(size - 1, 0)))
    if kind == "flip":
        return kind, pos, draw(st.integers(0, 7))
    if kind == "set":
        return kind, pos, draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, ord("{"), ord('"'), ord("9")]))
    if kind == "insert":
        return kind, pos, draw(st.binary(min_size=1, max_size=16))
    if kind in ("delete", "dup"):
        return kind, pos, draw(st.integers(1, 64))
    if kind == "u64":
        return kind, pos, draw(st.sampled_from(BIG))
    return kind, pos, None


def apply_mutation(data, m):
    kind, pos, arg = m
    b = bytearray(data)
    if not b and kind not in ("insert",):
        return bytes(b)
    pos = min(pos, max(len(b) - 1, 0))
    if kind == "flip":
        b[pos] ^= 1 << arg
    elif kind == "set":
        b[pos] = arg
    elif kind == "insert":
        b[pos:pos] = arg
    elif kind == "delete":
        del b[pos:pos + arg]
    elif kind == "truncate":
        del b[pos:]
    elif kind == "dup":
        b[pos:pos] = b[pos:pos + arg]
    elif kind == "u64":
        b[pos:pos + 8] = struct.pack("<Q", arg)
    return bytes(b)


def byte_mutations(size):
    return st.lists(byte_mutation(size), min_size=1, max_size=4)


# ---------------------------------------------------------------------------------------------
# JSON mutations (config.json, safetensors headers, encoder.json)

JSON_VALUES = st.one_of(st.none(), st.booleans(), st.sampled_from(BIG + [-1, -(2**63), 1e308, 0.5]),
                        st.text(max_size=8), st.just([]), st.just({}), st.just([[[[[]]]]]),
                        st.just({"class_name": "Dense", "config": {}}), st.just("F64"), st.just([2**62, 2**62]))


def json_paths(obj, prefix=()):
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += json_paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += json_paths(v, prefix + (i,))
    return out


@st.composite
def json_mutation(draw, obj):
    paths = json_paths(obj)
    path = draw(st.sampled_from(paths))
    kind = draw(st.sampled_from(["replace", "replace", "delete", "nest"]))
    return kind, list(path), draw(JSON_VALUES) if kind == "replace" else draw(st.integers(1, 900))


def apply_json_mutation(obj, m):
    kind, path, arg = m
    obj = json.loads(json.dumps(obj))
    if not path:
        return arg if kind == "replace" else (json.loads("[" * arg + "]" * arg) if kind == "nest" else None)
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if kind == "replace":
        parent[key] = arg
    elif kind == "delete":
        del parent[key]
    else:
        parent[key] = json.loads("[" * arg + "]" * arg)
    return obj


# ---------------------------------------------------------------------------------------------
# seed files

def make_model():
    import ferrograd as fg
    from ferrograd import layers
    fg.random.seed(0)
    model = fg.Sequential([fg.Input(shape=(4,)), layers.Dense(3, activation="relu"), layers.Dropout(0.1),
                           layers.Dense(2)])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 4), np.float32), np.ones((4, 2), np.float32), epochs=1, verbose=0)
    return model


def seed_files(tmp):
    import ferrograd as fg
    from ferrograd import tokenizers
    model = make_model()
    model.save(os.path.join(tmp, "seed.keras"))
    model.save_weights(os.path.join(tmp, "seed.safetensors"))
    ranks = {bytes([i]): i for i in range(256)}
    for j, pair in enumerate([b"ab", b"abc", b"th", b"the"]):
        ranks[pair] = 256 + j
    lines = b"".join(base64.b64encode(k) + b" " + str(v).encode() + b"\n" for k, v in ranks.items())
    with open(os.path.join(tmp, "seed.tiktoken"), "wb") as f:
        f.write(lines)
    tokenizers.load_tiktoken(os.path.join(tmp, "seed.tiktoken"))  # the seed itself is valid
    enc, merges = gpt2_seed()
    with open(os.path.join(tmp, "encoder.json"), "w") as f:
        json.dump(enc, f)
    with open(os.path.join(tmp, "vocab.bpe"), "w", encoding="utf-8") as f:
        f.write(merges)
    tokenizers.load_gpt2(os.path.join(tmp, "encoder.json"), os.path.join(tmp, "vocab.bpe"))
    return model, fg


def gpt2_seed():
    # GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest to 256 + n
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    chars = [chr(c) for c in cs]
    enc = {c: i for i, c in enumerate(chars)}
    enc["ab"] = 256
    enc["th"] = 257
    enc["the"] = 258
    return enc, "#version: 0.2\na b\nt h\nth e\n"


def _zip_with(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


def _read_zip(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def safetensors_header(data):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def safetensors_with(header, body):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + body


# ---------------------------------------------------------------------------------------------

@st.composite
def keras_mutation(draw, seed):
    members = _read_zip(seed)
    style = draw(st.sampled_from(["bytes", "config", "config", "weights", "members"]))
    if style == "bytes":
        return style, draw(byte_mutations(len(seed)))
    if style == "config":
        cfg = json.loads(dict(members)["config.json"])
        return style, draw(st.lists(json_mutation(cfg), min_size=1, max_size=3))
    if style == "weights":
        head, _ = safetensors_header(dict(members)["model.weights.safetensors"])
        return style, (draw(st.booleans()), draw(st.lists(json_mutation(head), min_size=1, max_size=2)),
                       draw(byte_mutations(64)))
    ops = draw(st.lists(st.tuples(st.sampled_from(["drop", "dup", "add", "rename"]),
                                  st.integers(0, len(members) - 1), st.binary(max_size=32)), min_size=1, max_size=3))
    return style, ops


def apply_keras(seed, mutation):
    style, m = mutation
    if style == "bytes":
        data = seed
        for x in m:
            data = apply_mutation(data, x)
        return data
    members = _read_zip(seed)
    if style == "config":
        cfg = json.loads(dict(members)["config.json"])
        for x in m:
            cfg = apply_json_mutation(cfg, x)
        members = [(n, json.dumps(cfg).encode() if n == "config.json" else d) for n, d in members]
    elif style == "weights":
        in_header, jm, bm = m
        w = dict(members)["model.weights.safetensors"]
        if in_header:
            head, body = safetensors_header(w)
            for x in jm:
                head = apply_json_mutation(head, x)
            w = safetensors_with(head, body)
        else:
            for x in bm:
                w = apply_mutation(w, x)
        members = [(n, w if n == "model.weights.safetensors" else d) for n, d in members]
    else:
        for kind, i, payload in m:
            i = min(i, len(members) - 1)
            if kind == "drop" and members:
                members.pop(i)
            elif kind == "dup" and members:
                members.append(members[i])
            elif kind == "add":
                members.append((f"extra{i}/../x" if payload[:1] == b"\0" else f"assets/{i}.bin", payload))
            elif kind == "rename" and members:
                members[i] = ("CONFIG.json" if payload[:1] == b"a" else members[i][0] + "x", members[i][1])
    return _zip_with(members)


def check_model(model, fg):
    x = fg.ones((2, 4))
    res, exc = fh.attempt(model, [x], {})
    if exc is not None:
        return fh.classify(exc)
    return None


def run_worker(cfg, log):
    import resource

    from hypothesis import given  # noqa: F401 - fh.run_target uses it

    result = {"calls": 0, "failures": [], "skipped": 0, "slow": [], "outcomes": {}}
    tmp = tempfile.mkdtemp(prefix="fg_fuzz_files_")
    model, fg = seed_files(tmp)
    from ferrograd import _core, tokenizers
    seeds = {n: open(os.path.join(tmp, n), "rb").read() for n in os.listdir(tmp)}
    path = os.path.join(tmp, "case")

    def record(out):
        result["outcomes"][out] = result["outcomes"].get(out, 0) + 1

    def loader(target):
        if target == "keras":
            def load(data):
                with open(path + ".keras", "wb") as f:
                    f.write(data)
                m = fg.saving.load_model(path + ".keras")
                return check_model(m, fg)
            return keras_mutation(seeds["seed.keras"]), lambda m: apply_keras(seeds["seed.keras"], m), load
        if target == "safetensors":
            seed = seeds["seed.safetensors"]
            head, body = safetensors_header(seed)

            def mutate(m):
                in_header, jm, bm = m
                if in_header:
                    h = head
                    for x in jm:
                        h = apply_json_mutation(h, x)
                    return safetensors_with(h, body)
                data = seed
                for x in bm:
                    data = apply_mutation(data, x)
                return data

            def load(data):
                with open(path + ".safetensors", "wb") as f:
                    f.write(data)
                res, exc = fh.attempt(_core.safetensors_loads, [data], {})
                bad = fh.classify(exc)
                if bad:
                    return "safetensors_loads: " + bad
                model.load_weights(path + ".safetensors")
                return None
            strat = st.tuples(st.booleans(), st.lists(json_mutation(head), min_size=1, max_size=3),
                              byte_mutations(len(seed)))
            return strat, mutate, load
        if target == "tiktoken":
            seed = seeds["seed.tiktoken"]
            lines = seed.splitlines(keepends=True)
            line_ops = st.lists(st.tuples(st.sampled_from(["drop", "dup", "swap_rank", "huge_rank", "neg_rank"]),
                                          st.integers(0, len(lines) - 1)), min_size=1, max_size=3)
            strat = st.one_of(st.tuples(st.just("bytes"), byte_mutations(len(seed))),
                              st.tuples(st.just("lines"), line_ops))

            def mutate(m):
                kind, ops = m
                if kind == "bytes":
                    data = seed
                    for x in ops:
                        data = apply_mutation(data, x)
                    return data
                ls = list(lines)
                for op, i in ops:
                    i = min(i, len(ls) - 1)
                    if not ls:
                        break
                    tok = ls[i].split(b" ")[0]
                    if op == "drop":
                        ls.pop(i)
                    elif op == "dup":
                        ls.append(ls[i])
                    elif op == "swap_rank":
                        ls[i] = tok + b" " + str(len(ls) + 5).encode() + b"\n"
                    elif op == "huge_rank":
                        ls[i] = tok + b" " + str(2**64 + 7).encode() + b"\n"
                    else:
                        ls[i] = tok + b" -3\n"
                return b"".join(ls)

            def load(data):
                with open(path + ".tiktoken", "wb") as f:
                    f.write(data)
                tok = tokenizers.load_tiktoken(path + ".tiktoken")
                return fh.classify(fh.attempt(tok.encode, ["the cat abc"], {})[1])
            return strat, mutate, load
        if target == "gpt2":
            enc = json.loads(seeds["encoder.json"])
            merges = seeds["vocab.bpe"]
            strat = st.one_of(st.tuples(st.just("encoder"), st.lists(json_mutation(enc), min_size=1, max_size=2)),
                              st.tuples(st.just("merges"), byte_mutations(len(merges))),
                              st.tuples(st.just("encoder_bytes"), byte_mutations(len(seeds["encoder.json"]))))

            def mutate(m):
                kind, ops = m
                e, mg = seeds["encoder.json"], merges
                if kind == "encoder":
                    obj = enc
                    for x in ops:
                        obj = apply_json_mutation(obj, x)
                    e = json.dumps(obj).encode()
                elif kind == "merges":
                    for x in ops:
                        mg = apply_mutation(mg, x)
                else:
                    for x in ops:
                        e = apply_mutation(e, x)
                return e, mg

            def load(data):
                e, mg = data
                with open(path + ".json", "wb") as f:
                    f.write(e)
                with open(path + ".bpe", "wb") as f:
                    f.write(mg)
                tok = tokenizers.load_gpt2(path + ".json", path + ".bpe")
                return fh.classify(fh.attempt(tok.encode, ["the cat abc"], {})[1])
            return strat, mutate, load
        raise KeyError(target)

    for target in cfg["targets"]:
        log.write("TARGET " + target)
        strat, mutate, load = loader(target)
        state = {}

        def body(m, log, target=target, mutate=mutate, load=load, state=state):
            try:
                data = mutate(m)
            except (KeyError, IndexError, TypeError):  # an edit that no longer applies after an earlier one
                record("not applicable")
                return None
            code = f"{target} file mutated by {m!r}"
            log.write("CALL " + code)
            bad, exc = fh.attempt(load, [data], {})
            record(type(exc).__name__ if exc else "ok")
            bad = bad or fh.classify(exc)
            if bad:
                return {"code": code, "problem": bad}
            return None

        calls, failure = fh.run_target(target, strat, body, cfg["examples"], log, cfg.get("seed"))
        result["calls"] += calls
        if failure:
            failure["target"] = target
            result["failures"].append(failure)
    result["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return result
