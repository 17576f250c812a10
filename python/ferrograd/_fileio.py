"""Writing files atomically with the user's permissions: the one writer every ferrograd file goes
through (models, weights, checkpoints, downloaded datasets).

Kept below everything else (it imports nothing of ferrograd), so the dataset loaders and the
callbacks use it without importing the saving machinery.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile

__all__ = ["atomic_open", "atomic_write"]


def _umask():
    """The process umask, read without changing it where Linux shows it (``os.umask`` can only
    be read by setting it, which races with other threads creating files)."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _final_mode(path):
    """The permission bits ``open(path, "w")`` would leave: an existing file keeps its own, a new one
    gets ``0o666 & ~umask``."""
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode)
    return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_open(path):
    """A binary file to write ``path`` through, atomically: the data goes to a temporary file in the
    same folder, which is fsynced, given the mode a plain ``open(path, "w")`` would give and renamed
    over ``path`` only when the block ends without an error (else removed). Readers see the old file
    or the whole new one, never a part. Every file ferrograd writes goes through here."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    mode = _final_mode(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path)[:64] + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    # the rename is durable once the folder's entry is on disk (POSIX; Windows cannot open folders)
    with contextlib.suppress(OSError, AttributeError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def atomic_write(path, data):
    """Writes ``data`` (bytes, or str as UTF-8) to ``path`` through :func:`atomic_open`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_open(path) as f:
        f.write(data)


# ---- reading files ----------------------------------------------------------------------------
