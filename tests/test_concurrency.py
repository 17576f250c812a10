"""Concurrency and process faults (issue 18, must-show 4): one model used for ``predict`` from 8
Python threads at once, one tokenizer from 8 threads, ``fork()`` after the kernels' thread team
started, and ``kill -9`` during ``model.save``. Each risky case runs in a subprocess with a
timeout, so a deadlock fails the test instead of hanging the suite."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers


def _model():
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((12, 12, 3)),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(32, activation="gelu"),
        layers.LayerNormalization(),
        layers.Dense(5),
    ])


def test_predict_from_8_threads_equals_sequential_predicts():
    model = _model()
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((64, 12, 12, 3)).astype("float32") for _ in range(8)]
    want = [model.predict(x, batch_size=16, verbose=0) for x in inputs]
    for _ in range(3):
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda x: model.predict(x, batch_size=16, verbose=0), inputs))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_tokenizer_from_8_threads_equals_sequential_encodes():
    text = "the cat sat on the mat; the dog ate the cat's hat. " * 50 + "naïve café 東京 😀 " * 20
    tok = keras.tokenizers.BPETokenizer.train(text, vocab_size=300)
    rng = np.random.default_rng(1)
    words = text.split()
    docs = [" ".join(rng.choice(words, 200)) for _ in range(32)]
    want = [tok.encode(d) for d in docs]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(tok.encode, docs))
        batches = list(pool.map(lambda i: tok.encode_batch(docs[i:i + 8]), range(0, 32, 8)))
    assert got == want
    assert [ids for b in batches for ids in b] == want
    assert [tok.decode(ids) for ids in got] == docs


def _run(code, timeout=120):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")
def test_fork_after_the_thread_team_started_works_in_the_child():
    code = """
        import os, sys
        import numpy as np
        import ferrograd as fg
        fg.set_num_threads(2)
        a = fg.tensor(np.random.default_rng(0).standard_normal((256, 256)).astype("float32"))
        want = (a @ a).numpy()          # the thread team is up
        pid = os.fork()
        if pid == 0:
            ok = np.array_equal((a @ a).numpy(), want) and float(fg.ops.sum(fg.ops.exp(a)).numpy()) > 0
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        ok_parent = np.array_equal((a @ a).numpy(), want)
        print("child", os.waitstatus_to_exitcode(status), "parent", ok_parent)
    """
    p = _run(code, timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split() == ["child", "0", "parent", "True"], p.stdout + p.stderr[-2000:]


def test_kill_9_during_save_never_leaves_a_truncated_file(tmp_path):
    path = tmp_path / "model.keras"
    model = keras.Sequential([keras.Input((256,)), layers.Dense(1024), layers.Dense(1024), layers.Dense(10)])
    model.save(str(path))  # a complete file to start from
    x = np.ones((2, 256), "float32")
    want = model.predict(x, verbose=0)
    saver = textwrap.dedent(f"""
        import sys
        import ferrograd as keras
        from ferrograd import layers
        m = keras.Sequential([keras.Input((256,)), layers.Dense(1024), layers.Dense(1024), layers.Dense(10)])
        m.set_weights(keras.models.load_model({str(path)!r}).get_weights())
        print("ready", flush=True)
        while True:
            m.save({str(path)!r})
    """)
    rng = np.random.default_rng(4)
    for delay in rng.uniform(0.05, 0.6, 6):
        proc = subprocess.Popen([sys.executable, "-c", saver], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
            time.sleep(float(delay))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        # whatever moment the kill hit, the file in place is a whole model (the old or a new one)
        again = keras.models.load_model(str(path))
        np.testing.assert_array_equal(again.predict(x, verbose=0), want)
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.keras"]
        assert all(name.startswith(".") or name.endswith(".tmp") for name in leftovers), leftovers
