"""Callbacks added or completed for issue 17: BackupAndRestore (an interrupted fit resumes at the
right epoch with the optimizer state), CSVLogger (Keras' format, atomic rewrites, append),
RemoteMonitor (through requests, against a local server), TensorBoard (clear error without a writer
library; the scalars it hands a writer), LambdaCallback, TerminateOnNaN, LearningRateScheduler and
ReduceLROnPlateau."""
import json
import os
import sys
import threading
import types
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import callbacks

rng = np.random.default_rng(3)
X = rng.normal(size=(32, 4)).astype(np.float32)
Y = (X @ rng.normal(size=(4, 1))).astype(np.float32)


def _model(seed_weights=None):
    model = fg.Sequential([fg.layers.Input((4,)), fg.layers.Dense(8, activation="tanh"), fg.layers.Dense(1)])
    if seed_weights is not None:
        model.set_weights(seed_weights)
    model.compile(optimizer=fg.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    return model


class _Interrupt(callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("interrupted")


@pytest.mark.parametrize("save_freq", ["epoch", 3])
def test_backup_and_restore_resumes_with_optimizer_state(tmp_path, save_freq):
    init = _model().get_weights()
    reference = _model(init)
    reference.fit(X, Y, batch_size=8, epochs=5, shuffle=False, verbose=0)

    backup = str(tmp_path / "backup")
    first = _model(init)
    with pytest.raises(RuntimeError, match="interrupted"):
        first.fit(X, Y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(backup, save_freq=save_freq), _Interrupt(3)])
    meta = json.load(open(os.path.join(backup, "training_metadata.json")))
    assert os.path.exists(os.path.join(backup, "latest.weights.h5"))
    if save_freq != "epoch":
        # every 3 of the 4 batches per epoch: the last backup is at batch 3 of epoch 2, and (as in Keras)
        # a batch-level backup resumes at the start of its epoch, with the weights and optimizer of that batch
        assert meta == {"epoch": 2, "batch": 3}
        resumed = _model()
        hist = resumed.fit(X, Y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                           callbacks=[callbacks.BackupAndRestore(backup, save_freq=save_freq)])
        assert hist.epoch == [2, 3, 4] and resumed.optimizer.iterations == 12 + 12
        return
    assert meta == {"epoch": 3, "batch": 0}

    # a new process would build a fresh model: different weights, a fresh optimizer
    resumed = _model()
    hist = resumed.fit(X, Y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                       callbacks=[callbacks.BackupAndRestore(backup, save_freq=save_freq)])
    assert hist.epoch == [3, 4]
    assert resumed.optimizer.iterations == reference.optimizer.iterations == 20
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not os.path.exists(backup)  # delete_checkpoint=True once training finished
    assert resumed._initial_epoch is None


def test_backup_and_restore_double_checkpoint_falls_back(tmp_path):
    backup = str(tmp_path / "b")
    model = _model()
    with pytest.raises(RuntimeError):
        model.fit(X, Y, batch_size=8, epochs=4, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(backup, double_checkpoint=True, delete_checkpoint=False),
                             _Interrupt(2)])
    assert os.path.exists(os.path.join(backup, "latest.weights.h5.bkp"))
    with open(os.path.join(backup, "latest.weights.h5"), "wb") as f:
        f.write(b"not a weights file")
    again = _model()
    hist = again.fit(X, Y, batch_size=8, epochs=4, verbose=0,
                     callbacks=[callbacks.BackupAndRestore(backup, double_checkpoint=True)])
    assert hist.epoch == [1, 2, 3]  # the previous backup was written at the end of epoch 0


def test_backup_and_restore_bad_arguments_and_files(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir` argument passed"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        callbacks.BackupAndRestore(str(tmp_path), save_freq="batch")
    os.makedirs(tmp_path / "bad")
    (tmp_path / "bad" / "training_metadata.json").write_text('{"epoch": -2}')
    with pytest.raises(ValueError, match="integer >= 0"):
        _model().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.BackupAndRestore(str(tmp_path / "bad"))])
    other = fg.Sequential([fg.layers.Input((4,)), fg.layers.Dense(2)])
    other.compile(optimizer="adam", loss="mse")
    other.fit(X, np.zeros((32, 2), np.float32), epochs=1, verbose=0,
              callbacks=[callbacks.BackupAndRestore(str(tmp_path / "o"), delete_checkpoint=False)])
    with pytest.raises(ValueError, match="do not match the model"):
        _model().fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(str(tmp_path / "o"))])


def test_csv_logger_format_and_append(tmp_path):
    path = tmp_path / "log.csv"
    model = _model()
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    text = open(path, newline="").read()
    lines = text.split("\r\n")  # the csv module's excel dialect, as Keras writes it
    assert lines[0] == "epoch,loss,mae,val_loss,val_mae"
    assert lines[1].startswith("0,") and lines[1].endswith(",NA,NA") and lines[2].startswith("1,")
    assert lines[3] == "" and len(lines) == 4
    hist = model.fit(X, Y, epochs=1, verbose=0, validation_split=0.25,
                     callbacks=[callbacks.CSVLogger(path, separator=";", append=True)])
    lines = open(path, newline="").read().split("\r\n")
    assert len(lines) == 5 and lines[:3] == text.split("\r\n")[:3]  # old rows kept, no second header
    row = lines[3].split(";")
    assert row[0] == "0" and float(row[1]) == pytest.approx(hist.history["loss"][0])
    assert float(row[3]) == pytest.approx(hist.history["val_loss"][0])


def test_csv_logger_keeps_finished_epochs_when_interrupted(tmp_path):
    path = tmp_path / "log.csv"
    with pytest.raises(RuntimeError):
        _model().fit(X, Y, epochs=5, verbose=0, callbacks=[callbacks.CSVLogger(path), _Interrupt(2)])
    rows = open(path, newline="").read().split("\r\n")
    assert [r.split(",")[0] for r in rows[1:-1]] == ["0", "1"]
    assert not [p for p in os.listdir(tmp_path) if p != "log.csv"]  # no temporary file left behind


def test_remote_monitor_posts_epoch_logs():
    pytest.importorskip("requests")
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            n = int(self.headers["Content-Length"])
            received.append((self.path, self.headers["Content-Type"], self.rfile.read(n)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        root = f"http://127.0.0.1:{server.server_address[1]}"
        _model().fit(X, Y, epochs=2, verbose=0,
                     callbacks=[callbacks.RemoteMonitor(root=root), callbacks.RemoteMonitor(root, send_as_json=True)])
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 4
    path, ctype, body = received[0]
    assert path == "/publish/epoch/end/" and "form" in ctype
    from urllib.parse import parse_qs
    data = json.loads(parse_qs(body.decode())["data"][0])
    assert data["epoch"] == 0 and set(data) == {"epoch", "loss", "mae"}
    assert json.loads(received[1][2])["epoch"] == 0 and "json" in received[1][1]


def test_remote_monitor_unreachable_server_warns():
    pytest.importorskip("requests")
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        _model().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.RemoteMonitor(root="http://127.0.0.1:1")])


def test_tensorboard_without_writer_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(callbacks, "_summary_writer_class", lambda: None)
    with pytest.raises(ImportError, match="tensorboardX"):
        callbacks.TensorBoard("logs")
    with pytest.raises(ValueError, match="histogram_freq=1"):
        callbacks.TensorBoard("logs", histogram_freq=1)


def test_tensorboard_hands_keras_tags_to_the_writer(monkeypatch, tmp_path):
    written = []

    class FakeWriter:
        def __init__(self, logdir):
            self.logdir = logdir

        def add_scalar(self, tag, value, step):
            written.append((os.path.basename(self.logdir), tag, step, value))

        def flush(self):
            pass

        def close(self):
            written.append((os.path.basename(self.logdir), "closed", None, None))

    monkeypatch.setitem(sys.modules, "tensorboardX", types.SimpleNamespace(SummaryWriter=FakeWriter))
    tb = callbacks.TensorBoard(str(tmp_path), update_freq=2)
    _model().fit(X, Y, batch_size=8, epochs=2, verbose=0, validation_split=0.25, callbacks=[tb])
    tags = {(w, t) for w, t, _, _ in written}
    assert {("train", "epoch_loss"), ("train", "epoch_mae"), ("validation", "epoch_loss"),
            ("validation", "epoch_mae"), ("train", "batch_loss"), ("train", "closed")} <= tags
    assert [s for w, t, s, _ in written if (w, t) == ("train", "epoch_loss")] == [0, 1]
    assert [s for w, t, s, _ in written if (w, t) == ("train", "batch_loss")] == [2, 4, 6]


def test_lambda_callback_and_terminate_on_nan():
    seen = []
    cb = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, sorted(logs))),
                                  on_train_end=lambda logs: seen.append("end"))
    _model().fit(X, Y, epochs=2, verbose=0, callbacks=[cb])
    assert seen == [(0, ["loss", "mae"]), (1, ["loss", "mae"]), "end"]

    bad = X.copy()
    bad[5, 0] = np.nan
    hist = _model().fit(bad, Y, batch_size=4, epochs=3, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert len(hist.epoch) == 1
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 1"):
        _model().fit(bad, Y, batch_size=4, epochs=3, verbose=0, shuffle=False,
                     callbacks=[callbacks.TerminateOnNaN(raise_error=True)])


def test_learning_rate_scheduler_and_reduce_lr_on_plateau():
    model = _model()
    hist = model.fit(X, Y, epochs=3, verbose=0,
                     callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    np.testing.assert_allclose(hist.history["learning_rate"], [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    model = _model()
    model.compile(optimizer=fg.optimizers.SGD(learning_rate=0.0), loss="mse")  # the loss cannot improve
    hist = model.fit(X, Y, epochs=4, verbose=0,
                     callbacks=[callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_lr=0.0)])
    assert hist.history["learning_rate"] == [0.0] * 4
    model.compile(optimizer=fg.optimizers.SGD(learning_rate=1e-9), loss="mse")
    hist = model.fit(X, Y, epochs=3, verbose=0,
                     callbacks=[callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1.0)])
    # the logged rate is the one the epoch ran with (Keras logs it before reducing)
    np.testing.assert_allclose(hist.history["learning_rate"], [1e-9, 1e-9, 5e-10], rtol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.5)
    hist = _model().fit(X, Y, epochs=2, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(lambda epoch: np.float32(0.5) ** (epoch + 1))])
    np.testing.assert_allclose(hist.history["learning_rate"], [0.5, 0.25])
    with pytest.raises(ValueError, match="The output of the `schedule` function should be a float. Got: 1"):
        _model().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e, lr: 1)])


def test_missing_callbacks_name_themselves():
    with pytest.raises(AttributeError, match="keras.callbacks.OrbaxCheckpoint is not available in ferrograd yet"):
        callbacks.OrbaxCheckpoint  # noqa: B018


def test_model_checkpoint_batch_frequency_and_best_only(tmp_path):
    model = _model()
    pattern = str(tmp_path / "ck" / "e{epoch:02d}-b{batch}.weights.h5")
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0, callbacks=[callbacks.ModelCheckpoint(
        pattern, save_weights_only=True, save_freq=3)])
    # 4 batches per epoch: saves after global batches 3, 6 (epoch 2, batch 2)
    assert sorted(os.listdir(tmp_path / "ck")) == ["e01-b3.weights.h5", "e02-b2.weights.h5"]
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "b.keras"), save_best_only=True)])
    assert os.path.exists(tmp_path / "b.keras")
    ck = callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch}.keras"), monitor="loss", save_best_only=True,
                                   initial_value_threshold=-1.0)
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[ck])
    assert not any(p.startswith("best-") for p in os.listdir(tmp_path))  # never below the threshold
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "{nope}.keras"))])
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="batch")
