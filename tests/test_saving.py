"""Saving: optimizer state in .keras files, bounded readers (zip bombs, lying headers, deep JSON)
and atomic writes with the user's umask."""
import contextlib
import json
import os
import stat
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers, optimizers, saving

# ---- optimizer state ---------------------------------------------------------------------------

OPTIMIZERS = {
    "adam": lambda: optimizers.Adam(learning_rate=0.01),
    "adam_amsgrad": lambda: optimizers.Adam(learning_rate=0.01, amsgrad=True),
    "adamw": lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.01),
    "sgd_momentum": lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "sgd_nesterov_schedule": lambda: optimizers.SGD(
        learning_rate=optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5), momentum=0.8,
        nesterov=True),
    "rmsprop": lambda: optimizers.RMSprop(learning_rate=0.01),
    "rmsprop_centered_momentum": lambda: optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
}


def _sequential():
    return keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="tanh"), layers.Dense(2)])


def _functional():
    inp = keras.Input(shape=(6,))
    h = layers.Dense(8, activation="tanh")(inp)
    out = layers.Add()([layers.Dense(2)(h), layers.Dense(2)(inp)])
    return keras.Model(inp, out)


MODELS = {"sequential": _sequential, "functional": _functional}


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 6)).astype(np.float32), rng.standard_normal((40, 2)).astype(np.float32)


def _fit(model, x, y):
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)


@pytest.mark.parametrize("model_kind", sorted(MODELS))
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_training_resumes_bit_identically_after_load(tmp_path, opt_name, model_kind):
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = MODELS[model_kind]()
    model.compile(OPTIMIZERS[opt_name](), "mse")
    _fit(model, x, y)
    path = tmp_path / "m.keras"
    model.save(path)
    again = saving.load_model(path)
    assert type(again.optimizer) is type(model.optimizer)
    assert again.optimizer.iterations == model.optimizer.iterations == 5
    assert len(again.optimizer.variables) == len(model.optimizer.variables)
    for a, b in zip(model.optimizer.variables, again.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    _fit(model, x, y)
    _fit(again, x, y)
    assert again.optimizer.iterations == model.optimizer.iterations == 10
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fresh_optimizer_state_would_diverge(tmp_path):
    """The resume test can fail: restarting Adam from zero slots gives other weights."""
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = _sequential()
    model.compile(optimizers.Adam(0.01), "mse")
    _fit(model, x, y)
    model.save(tmp_path / "m.keras")
    cold = saving.load_model(tmp_path / "m.keras", compile=False)
    assert cold.optimizer is None
    cold.compile(optimizers.Adam(0.01), "mse")
    _fit(model, x, y)
    _fit(cold, x, y)
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), cold.get_weights()))


def test_optimizer_state_layout_in_the_weights_member(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = _sequential()
    model.compile(optimizers.Adam(0.01), "mse")
    _fit(model, x, y)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.safetensors"]
        assert z.getinfo("model.weights.safetensors").compress_type == zipfile.ZIP_STORED
        weights = z.read("model.weights.safetensors")
    from ferrograd import _core

    stored = dict(_core.safetensors_loads(weights)[0])
    assert int(stored["optimizer/iterations"].item()) == 5 and stored["optimizer/iterations"].dtype == "int64"
    assert "optimizer/layers/1_dense/vars/0/momentum" in stored
    assert "optimizer/layers/1_dense/vars/1/velocity" in stored
    assert len([n for n in stored if n.startswith("optimizer/")]) == 1 + 2 * 4
    # the member also loads as a plain weights file (optimizer entries ignored)
    (tmp_path / "w.safetensors").write_bytes(weights)
    fresh = _sequential()
    fresh.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_uncompiled_and_untrained_models_save(tmp_path):
    model = _sequential()
    model.save(tmp_path / "a.keras")
    assert saving.load_model(tmp_path / "a.keras").optimizer is None
    model.compile("sgd", "mse")  # compiled, never stepped: iterations 0, no slots
    model.save(tmp_path / "b.keras")
    again = saving.load_model(tmp_path / "b.keras")
    assert again.optimizer.iterations == 0 and again.optimizer.variables == []


def _rewrite(path, out, **members):
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files.update(members)
    with zipfile.ZipFile(out, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    return out


def test_optimizer_state_that_does_not_fit_is_refused(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = _sequential()
    model.compile(optimizers.Adam(0.01), "mse")
    _fit(model, x, y)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        cfg = json.loads(z.read("config.json"))
    cfg["compile_config"]["optimizer"] = optimizers.serialize(optimizers.RMSprop())
    bad = _rewrite(path, tmp_path / "bad.keras", **{"config.json": json.dumps(cfg).encode()})
    with pytest.raises(ValueError, match=r"bad\.keras: the optimizer state holds optimizer/.*/momentum.*RMSprop"):
        saving.load_model(bad)
    # compile=False ignores the optimizer state
    saving.load_model(bad, compile=False)


# ---- zip bombs and lying headers ----------------------------------------------------------------

_MIB = 1 << 20


def _deflated_zeros(n_mib):
    """A raw deflate stream of ``n_mib`` MiB of zeros, built in milliseconds: after a full flush
    the compressor starts afresh, so every MiB compresses to the same ~1 KB."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(_MIB)) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(bytes(_MIB)) + c.flush(zlib.Z_FULL_FLUSH)
    assert again == block
    return block * n_mib + c.flush()


def _zip(members):
    """A zip archive of ``(name, method, payload, crc, declared_size)`` written by hand, so that a
    header can declare any size."""
    out, central = bytearray(), bytearray()
    for name, method, payload, crc, size in members:
        nb = name.encode()
        off = len(out)
        out += struct.pack("<4sHHHHHLLLHH", b"PK\x03\x04", 20, 0, method, 0, 33, crc, len(payload), size,
                           len(nb), 0) + nb + payload
        central += struct.pack("<4sHHHHHHLLLHHHHHLL", b"PK\x01\x02", 20, 20, 0, method, 0, 33, crc, len(payload),
                               size, len(nb), 0, 0, 0, 0, 0, off) + nb
    n = len(members)
    out += central + struct.pack("<4sHHHHLLH", b"PK\x05\x06", 0, 0, n, n, len(central), len(out), 0)
    return bytes(out)


def _stored(name, data):
    return (name, 0, data, zlib.crc32(data), len(data))


def test_deflate_helper_builds_a_real_zip():
    data = _zip([("z", 8, _deflated_zeros(3), zlib.crc32(bytes(3 * _MIB)), 3 * _MIB)])
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.read("z") == bytes(3 * _MIB)


@pytest.fixture(scope="module")
def bomb():
    return _deflated_zeros(2048)  # 2 GiB of zeros in ~2 MB


@pytest.fixture
def saved(tmp_path):
    model = _sequential()
    model.compile("adam", "mse")
    model.save(tmp_path / "ok.keras")
    with zipfile.ZipFile(tmp_path / "ok.keras") as z:
        return {n: z.read(n) for n in z.namelist()}


def _refused_fast_and_small(path, match):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=match):
            saving.load_model(path)
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0, elapsed
    assert peak < 32 * _MIB, peak


def test_config_bomb_is_refused_at_once(tmp_path, bomb, saved):
    path = tmp_path / "bomb.keras"
    path.write_bytes(_zip([("config.json", 8, bomb, 0, 2048 * _MIB),
                           _stored("model.weights.safetensors", saved["model.weights.safetensors"])]))
    # a real bomb: zipfile inflates it
    with zipfile.ZipFile(path) as z, z.open("config.json") as f:
        assert f.read(_MIB) == bytes(_MIB)
    _refused_fast_and_small(path, r"bomb\.keras: member config\.json declares 2147483648 bytes, more than")


def test_weights_bomb_is_refused_at_once(tmp_path, bomb, saved):
    path = tmp_path / "wbomb.keras"
    path.write_bytes(_zip([_stored("config.json", saved["config.json"]),
                           ("model.weights.safetensors", 8, bomb, 0, 2048 * _MIB)]))
    _refused_fast_and_small(path, r"wbomb\.keras: member model\.weights\.safetensors declares 2147483648 bytes, "
                                  r"more than the \d+ allowed \(what the model in config\.json can need\)")


def test_lying_headers_are_refused(tmp_path, bomb, saved):
    weights = _stored("model.weights.safetensors", saved["model.weights.safetensors"])
    # declares 1000 bytes, inflates to 2 GiB: reading stops at the declared size
    path = tmp_path / "small.keras"
    path.write_bytes(_zip([("config.json", 8, bomb, zlib.crc32(bytes(1000)), 1000), weights]))
    _refused_fast_and_small(path, r"small\.keras: member config\.json holds more than the 1000 bytes|"
                                  r"small\.keras.*config\.json is not valid JSON")
    path.write_bytes(_zip([("config.json", 8, bomb, 12345, 1000), weights]))
    _refused_fast_and_small(path, r"small\.keras: member config\.json cannot be read \(Bad CRC-32")
    # declares more than deflate can make of its compressed bytes
    path.write_bytes(_zip([("config.json", 8, bomb[:100], 0, 30 * _MIB), weights]))
    _refused_fast_and_small(path, r"member config\.json declares 31457280 bytes from 100 compressed bytes, which")
    # declares more than it holds
    one = _deflated_zeros(1)
    path.write_bytes(_zip([("config.json", 8, one, zlib.crc32(bytes(_MIB)), _MIB + 10), weights]))
    _refused_fast_and_small(path, r"member config\.json (holds 1048576 bytes but its header declares 1048586|"
                                  r"cannot be read)")
    # a stored member whose sizes disagree
    cfg = saved["config.json"]
    path.write_bytes(_zip([("config.json", 0, cfg, zlib.crc32(cfg), len(cfg) + 1), weights]))
    _refused_fast_and_small(path, r"member config\.json declares \d+ bytes from \d+ compressed bytes")


def test_archive_structure_is_checked(tmp_path, saved):
    weights = _stored("model.weights.safetensors", saved["model.weights.safetensors"])
    cfg = _stored("config.json", saved["config.json"])
    path = tmp_path / "s.keras"
    path.write_bytes(_zip([cfg, _stored("config.json", b"{}"), weights]))
    with pytest.raises(ValueError, match=r"s\.keras: member config\.json appears twice"):
        saving.load_model(path)
    path.write_bytes(_zip([cfg, weights] + [_stored(f"assets/{i}", b"") for i in range(20_000)]))
    _refused_fast_and_small(path, r"s\.keras: the archive lists 20002 members, more than the 10000")
    path.write_bytes(_zip([("config.json", 12, b"BZh9", 0, 10), weights]))
    with pytest.raises(ValueError, match=r"member config\.json uses compression method 12"):
        saving.load_model(path)


def test_oversized_weights_file_is_refused(tmp_path):
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as f:
        f.truncate(4 << 30)  # sparse: no disk used
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"huge\.safetensors: the file has 4294967296 bytes, more than the \d+"):
        _sequential().load_weights(path)
    assert time.perf_counter() - t0 < 1.0


# ---- bounded JSON ----------------------------------------------------------------------------------


def test_deeply_nested_config_is_a_clear_error(tmp_path, saved):
    weights = _stored("model.weights.safetensors", saved["model.weights.safetensors"])
    path = tmp_path / "deep.keras"
    for deep in ("[" * 200_000 + "]" * 200_000, '{"a":' * 5000 + "1" + "}" * 5000):
        path.write_bytes(_zip([_stored("config.json", deep.encode()), weights]))
        t0 = time.perf_counter()
        with pytest.raises(ValueError, match=r"deep\.keras: member config\.json nests deeper than 128 levels"):
            saving.load_model(path)
        assert time.perf_counter() - t0 < 1.0


def test_json_depth_ignores_brackets_in_strings():
    text = json.dumps({"a": ["[" * 1000 + '\\"{' * 1000 + "\\"], "b": {"c": [[1]]}}).encode()
    saving._check_json_depth(text, 4, "x")
    with pytest.raises(ValueError, match="x nests deeper than 3"):
        saving._check_json_depth(text, 3, "x")
    saving._check_json_depth(b"[" * 128 + b"]" * 128, 128, "x")
    with pytest.raises(ValueError):
        saving._check_json_depth(b"[" * 129 + b"]" * 129, 128, "x")


def _random_json(rng, depth):
    if depth == 0 or rng.random() < 0.2:
        alphabet = ['"', "\\", "[", "]", "{", "}", "a", "\u00e9", "\n"]
        return "".join(rng.choice(alphabet) for _ in range(rng.integers(0, 12)))
    if rng.random() < 0.5:
        return [_random_json(rng, depth - 1) for _ in range(rng.integers(0, 4))]
    return {_random_json(rng, 0): _random_json(rng, depth - 1) for _ in range(rng.integers(0, 4))}


def _true_depth(v):
    if isinstance(v, list):
        return 1 + max((_true_depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((_true_depth(x) for x in v.values()), default=0)
    return 0


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_json_depth_is_exact_across_chunks(chunk):
    rng = np.random.default_rng(chunk)
    for _ in range(60):
        v = _random_json(rng, int(rng.integers(0, 9)))
        raw = json.dumps(v, ensure_ascii=bool(rng.integers(0, 2))).encode()
        assert saving._json_depth(raw, 1000, chunk) == _true_depth(v), raw
    for _ in range(30):  # any bytes at all: an answer, never an error
        raw = bytes(rng.choice(np.frombuffer(b'"\\[]{}a\xff', np.uint8), int(rng.integers(1, 200))))
        assert isinstance(saving._json_depth(raw, 1000, chunk), int)


def test_json_depth_scan_is_linear_on_hostile_text():
    mib = 1 << 20
    for hostile in (b'["' + b'\\"[' * (10 * mib) + b'"]',  # one unterminated-looking string of escaped quotes
                    b'"a[",' * (6 * mib),                  # many short strings
                    b"[\\" * (16 * mib),                    # backslashes outside strings
                    b"[]," * (10 * mib),                   # shallow but long
                    b"[" * (32 * mib)):                    # deep
        t0 = time.perf_counter()
        with contextlib.suppress(ValueError):
            saving._check_json_depth(hostile, 128, "x")
        # linear: ~0.3 s for 30 MiB on a 2024 x86 core; a quadratic scan would take hours
        assert time.perf_counter() - t0 < 3.0, hostile[:20]


def test_config_that_is_not_json_or_utf8(tmp_path, saved):
    weights = _stored("model.weights.safetensors", saved["model.weights.safetensors"])
    path = tmp_path / "t.keras"
    path.write_bytes(_zip([_stored("config.json", b"\xff\xfe{}"), weights]))
    with pytest.raises(ValueError, match=r"member config\.json is not UTF-8"):
        saving.load_model(path)
    path.write_bytes(_zip([_stored("config.json", b'{"class_name": '), weights]))
    with pytest.raises(ValueError, match=r"member config\.json is not valid JSON"):
        saving.load_model(path)


# ---- atomic writes ----------------------------------------------------------------------------------


@pytest.fixture
def umask():
    old = os.umask(0o022)
    os.umask(old)

    def set_(mask):
        os.umask(mask)

    yield set_
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_written_files_get_the_users_umask(tmp_path, umask):
    model = _sequential()
    umask(0o022)
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    assert _mode(tmp_path / "m.keras") == 0o644
    assert _mode(tmp_path / "m.weights.h5") == 0o644
    umask(0o077)
    saving._atomic_write(tmp_path / "private.bin", b"x")
    assert _mode(tmp_path / "private.bin") == 0o600
    # an existing file keeps its mode, as open(path, "w") leaves it
    os.chmod(tmp_path / "m.keras", 0o640)
    umask(0o022)
    model.save(tmp_path / "m.keras")
    assert _mode(tmp_path / "m.keras") == 0o640
    assert sorted(os.listdir(tmp_path)) == ["m.keras", "m.weights.h5", "private.bin"]


def test_failed_writes_leave_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    saving._atomic_write(target, "old")
    with pytest.raises(RuntimeError, match="boom"):
        with saving._atomic_open(target) as f:
            f.write(b"partial")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]
    # a save that fails half-way through the archive
    model = _sequential()
    model.save(tmp_path / "m.keras")
    before = (tmp_path / "m.keras").read_bytes()
    written = []

    def failing_writestr(self, name, data, *args, **kwargs):
        written.append(name)
        if len(written) == 2:
            raise OSError("disk full")
        return real_writestr(self, name, data, *args, **kwargs)

    real_writestr = zipfile.ZipFile.writestr
    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m.keras")
    monkeypatch.undo()
    assert (tmp_path / "m.keras").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["f.bin", "m.keras"]


def test_config_asking_for_huge_weights_is_refused_before_allocating(tmp_path):
    import json
    import time
    import zipfile

    import ferrograd as keras
    from ferrograd import layers

    m = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    path = tmp_path / "m.keras"
    m.save(path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(members["config.json"])
    cfg["config"]["layers"][0]["config"]["units"] = 10**9  # a 16 GB kernel
    members["config.json"] = json.dumps(cfg).encode()
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(bad, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    t = time.perf_counter()
    with pytest.raises(ValueError, match="more than the file's weights hold"):
        keras.saving.load_model(bad)
    assert time.perf_counter() - t < 1.0


def test_weighted_metrics_survive_save_and_load(tmp_path):
    import ferrograd as keras
    from ferrograd import layers

    m = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"], weighted_metrics=["mse"])
    x, y = np.ones((8, 3), np.float32), np.zeros((8, 1), np.float32)
    m.fit(x, y, sample_weight=np.arange(8, dtype=np.float32), epochs=1, verbose=0)
    m.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    assert again._weighted_metric_ids == ["mse"]
    assert again.evaluate(x, y, sample_weight=np.arange(8, dtype=np.float32), verbose=0, return_dict=True) == \
        m.evaluate(x, y, sample_weight=np.arange(8, dtype=np.float32), verbose=0, return_dict=True)
