"""Atomic file writing: every output file appears whole or not at all.

One mechanism for tables, JSON documents and figures: write to a temporary file in the
target's folder, flush it to disk, give it the permissions a plain ``open()`` would have
(``0o666`` less the umask), then rename it over the target (``os.replace``, atomic on one
file system). On failure the temporary file is removed and the target is left as it was.

>>> from pathlib import Path
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> with atomic_path(folder / "a.txt") as tmp:
...     _ = tmp.write_text("hello")
>>> (folder / "a.txt").read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path"]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    The caller writes the temporary file (any way it likes: ``write_text``, ``savefig``).
    The parent folder is created if needed. On leaving the block normally the file is
    fsynced, made ``0o666 & ~umask`` and renamed into place; on an exception it is removed
    and the exception propagates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        # mkstemp makes the file private (0600); give it the usual permissions instead.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _fsync(path: Path) -> None:
    """Flush ``path``'s data to disk (whoever wrote it), so a crash cannot leave it empty."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
