"""Writing outputs: every command writes all its files or none, and never replaces a special file.

* Regular files are staged: each is written into a private folder
  ``.constellation-stage-<pid>-<random>`` inside its target's folder, flushed to disk and
  given the mode a plain ``open()`` would give (``0o666`` less the umask). Only when every
  file of the command is staged are they renamed into place (``os.replace``: atomic, and it
  needs no space); on any failure the stage is removed and the targets are left as they were.
* A target that exists and is not a regular file (a FIFO, ``/dev/null``, a terminal) is
  written into directly, after the regular files: renaming over it would replace it.
  A symbolic link is followed: the file it names is written, the link stays.
* A name of an open file descriptor (``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``) is
  written through that descriptor as the shell opened it (``>> log`` appends), never by
  replacing the file behind it; a closed one is refused.
* Every operating-system failure (read-only folder, no space, a folder where a file was
  asked for, ``-o ""``) becomes one :class:`~constellation.errors.InputError` line naming
  the path.

Folders that a command fills (``run -o``, ``size -o``) are locked for its whole run with an
advisory lock (``.constellation.lock``, :func:`output_folder`), so a second writer is refused
instead of mixing its files with the first one's; stages left by a killed process are
removed there (:func:`clean_stale`). Files of an earlier run that a new run no longer writes
are removed with the new run's files in place (``write_files(..., remove=...)``).

>>> from pathlib import Path
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = write_files([(folder / "a.txt", "hello"), (folder / "b.txt", b"bytes")])
>>> (folder / "a.txt").read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from .. import interrupts
from ..errors import Described, InputError

__all__ = ["LOCK_NAME", "STAGE_PREFIX", "atomic_path", "check_target", "clean_stale", "is_own_temporary",
           "output_folder", "write_files"]

STAGE_PREFIX = ".constellation-stage-"
LOCK_NAME = ".constellation.lock"
# Temporaries of earlier versions: ``.passes.csv.k3j_9x2a.tmp`` (mkstemp) and ``.tracks.1234.tmp.png``.
_LEGACY_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$|^\..+\.\d+\.tmp\.[A-Za-z0-9]+$")
_STAGE = re.compile(re.escape(STAGE_PREFIX) + r"(\d+)-")


def _fail(path, error: OSError | str) -> InputError:
    """An output failure as one line: the path, what a writable target is, what the system said."""
    found = error if isinstance(error, str) else (error.strerror or type(error).__name__)
    return InputError(path, "output", "a file this user can write, in a folder with space",
                      Described(found))


_FD_NAME = re.compile(r"^/(?:dev/fd|proc/self/fd|proc/(\d+)/fd)/(\d+)$")
_STD_NAME = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def _descriptor(path) -> int | None:
    """The file descriptor of this process that ``path`` names (``/dev/stdout``, ``/dev/fd/1``,
    ``/proc/self/fd/1``), directly or through symbolic links (of the file or of its folders),
    or None for any other path. Each link is followed one step at a time and every name on
    the way is checked: the last step of such a chain leads to the open file itself, which
    must never be replaced."""
    text = os.path.abspath(str(path))
    for _ in range(40):  # the kernel's own limit on links in a row
        name = os.path.join(os.path.realpath(os.path.dirname(text)), os.path.basename(text))
        if name in _STD_NAME:
            return _STD_NAME[name]
        match = _FD_NAME.match(name)
        if match and (match.group(1) is None or int(match.group(1)) == os.getpid()):
            return int(match.group(2))
        try:
            text = os.path.join(os.path.dirname(name), os.readlink(name))
        except OSError:  # not a link (or not there): an ordinary path
            return None
    return None


def _check_descriptor(path, fd: int) -> None:
    """Refuse a descriptor that is closed (or that Python found closed at start: another file
    may hold its number since, e.g. the ephemeris after ``>&-``), or open for reading only."""
    closed = {0: sys.stdin, 1: sys.stdout, 2: sys.stderr}.get(fd, True) is None
    try:
        os.fstat(fd)
    except OSError:
        closed = True
    if closed:
        raise InputError(path, "output", "an open file descriptor (or -o FILE)", Described("it is closed"))
    try:
        import fcntl

        read_only = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
    except (ImportError, OSError):
        read_only = False
    if read_only:
        raise InputError(path, "output", "a file descriptor open for writing (or -o FILE)",
                         Described("it is open for reading only"))


def _target(path) -> tuple[Path, bool]:
    """``(path to write, special)``: symbolic links followed, folders and empty names refused."""
    if str(path) == "":
        raise InputError("-o", "output", "a file name", "''")
    fd = _descriptor(path)
    if fd is not None:
        _check_descriptor(path, fd)
        return Path(path), True
    if str(path).endswith(("/", os.sep)) and not Path(path).is_dir():
        raise InputError(path, "output", "a file name (this names a folder)", Described("a name ending in /"))
    path = Path(path)
    try:
        mode = path.stat().st_mode  # through links: /dev/stdout is a link to a pipe or a terminal
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise _fail(path, exc) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(path, "output", "a file name (this is a folder)", Described("a folder"))
    if mode is not None and not stat.S_ISREG(mode):
        return path, True  # opened through its links as it is
    # A regular file (or a new one) behind links is replaced where it lives, the links kept.
    return (Path(os.path.realpath(path)) if path.is_symlink() else path), False


def check_target(path) -> None:
    """Refuse, before any work, an output file that cannot be written: a folder, an empty name,
    a closed descriptor, or a new file whose nearest existing folder this user cannot write."""
    target, special = _target(path)
    if special:
        return
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        read_only = bool(os.statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1))
        raise _fail(path, os.strerror(errno.EROFS if read_only else errno.EACCES))
    if not folder.is_dir():
        raise _fail(path, f"{folder} is not a folder")


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _make_folder(folder: Path, created: list[Path]) -> None:
    """``folder`` and its missing parents; the ones made here are appended to ``created``."""
    missing = []
    for parent in [folder, *folder.parents]:
        if parent.exists() or parent.is_symlink():
            break
        missing.append(parent)
    for parent in reversed(missing):
        try:
            parent.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise _fail(parent, exc) from None
        created.append(parent)


def _remove_created(created: list[Path]) -> None:
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if still empty


def _new_stage(folder: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=folder))


def _fsync(path: Path) -> None:
    """Flush ``path``'s data to disk (whoever wrote it), so a crash cannot leave it empty."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_special(path: Path, chunks) -> None:
    """Write byte ``chunks`` into an existing non-regular file (FIFO, device), or through the
    descriptor ``path`` names, without replacing it."""
    fd = _descriptor(path)
    try:
        if fd is not None:
            if fd == 1 and sys.stdout is not None:
                sys.stdout.flush()  # text printed before ours comes first
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            return
        with open(path, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
    except BrokenPipeError:
        raise  # the reader stopped early (| head): not an error of ours
    except OSError as exc:
        raise _fail(path, exc) from None


def _remove_files(paths: Sequence[str | Path]) -> None:
    """Delete each regular file (or symbolic link) of ``paths``; missing names and folders are
    left, and so is a file that cannot be removed (the new files are in place by then: a stale
    file left is better than a run half committed)."""
    for path in paths:
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                os.unlink(path)
        except (OSError, ValueError):
            continue


def _move(tmp: Path, path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as exc:
        raise _fail(path, exc) from None


def _chunks(path: Path, size: int = 1 << 20):
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def write_files(items: Sequence[tuple[str | Path, bytes | str]], remove: Sequence[str | Path] = ()) -> list[Path]:
    """Write every ``(path, data)`` (``str`` as UTF-8) or none of them; returns the paths as given.

    Files are renamed into place in the order given (put a summary that marks a folder as
    complete last); special files are written last, directly. Raises :class:`InputError`
    when anything cannot be written, leaving every target as it was.

    ``remove``: files an earlier write left that this one replaces (an earlier run's table
    this run no longer writes). They are deleted once every staged file is in place but the
    last, before the last (the summary) is renamed: a failure before that leaves them, and a
    folder whose summary is the new one holds none of them. A name that is missing is skipped,
    a folder under such a name is never touched, a file that cannot be removed is left.
    """
    targets = [(_target(path), data.encode("utf-8") if isinstance(data, str) else data) for path, data in items]
    created: list[Path] = []
    stages: dict[Path, Path] = {}
    staged: list[tuple[Path, Path]] = []
    try:
        mode = 0o666 & ~_umask()
        for (path, special), data in targets:
            if special:
                continue
            folder = path.parent
            _make_folder(folder, created)
            if folder not in stages:
                try:
                    stages[folder] = _new_stage(folder)
                except OSError as exc:
                    raise _fail(path, exc) from None
            tmp = stages[folder] / f"{len(staged)}-{path.name}"
            try:
                with open(tmp, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, mode)
            except OSError as exc:
                raise _fail(path, exc) from None
            staged.append((tmp, path))
        interrupts.check()
        for tmp, path in staged[:-1]:
            _move(tmp, path)
        _remove_files(remove)
        for tmp, path in staged[-1:]:
            _move(tmp, path)
    except BaseException:
        for stage in stages.values():
            shutil.rmtree(stage, ignore_errors=True)
        _remove_created(created)
        raise
    for stage in stages.values():
        shutil.rmtree(stage, ignore_errors=True)
    for (path, special), data in targets:
        if special:
            _write_special(path, [data])
    return [Path(path) for path, _ in items]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path for ``path``; on leaving the block normally, its content is written
    to ``path`` as :func:`write_files` does (atomically, or into a special file directly).

    The caller writes the temporary file any way it likes (``write_text``, ``savefig``); on an
    exception nothing is written and the exception propagates (an ``OSError`` as
    :class:`InputError`). The temporary file lives in a stage inside the target's folder (same
    disk: a large table is renamed into place, never read back or copied); for a special
    target (a FIFO, a device, an open descriptor) in the system's temporary folder, then copied.
    """
    target, special = _target(path)  # refuse a folder or an empty name before the caller does any work
    if special:
        with tempfile.TemporaryDirectory(prefix=STAGE_PREFIX) as stage:
            tmp = Path(stage) / Path(path).name
            try:
                yield tmp
            except OSError as exc:
                raise _fail(path, exc) from None
            interrupts.check()
            _write_special(target, _chunks(tmp))
        return
    created: list[Path] = []
    _make_folder(target.parent, created)
    try:
        stage = _new_stage(target.parent)
    except OSError as exc:
        _remove_created(created)
        raise _fail(path, exc) from None
    done = False
    try:
        tmp = stage / target.name
        try:
            yield tmp
            _fsync(tmp)
            os.chmod(tmp, 0o666 & ~_umask())
            interrupts.check()
            os.replace(tmp, target)
        except OSError as exc:
            raise _fail(path, exc) from None
        done = True
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not done:
            _remove_created(created)


def is_own_temporary(path: Path) -> bool:
    """True for a stage or temporary file of our naming (this version or an earlier one)."""
    return path.name.startswith(STAGE_PREFIX) or bool(_LEGACY_TEMPORARY.match(path.name))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(folder: str | Path) -> list[Path]:
    """Remove stages and temporaries of our naming left in ``folder`` by processes that are gone
    (a stage of a live process is kept); returns what was removed."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if not is_own_temporary(entry):
            continue
        match = _STAGE.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and _alive(int(match.group(1))):
            continue
        if match and int(match.group(1)) == os.getpid():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    return removed


@contextlib.contextmanager
def output_folder(folder: str | Path, option: str = "-o") -> Iterator[Path]:
    """Hold ``folder`` for one command: made if missing, locked against other writers, cleared of
    stale temporaries. On failure a folder made here is removed again if nothing else is in it.

    A second command on a locked folder is refused with one line (:class:`InputError`).
    """
    folder = Path(folder)
    if str(folder) == "":
        raise InputError(option, "output", "a folder name", "''")
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, option, "a folder (this is a file)", Described("a file"))
    created: list[Path] = []
    _make_folder(folder, created)
    lock = folder / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    except OSError as exc:
        _remove_created(created)
        raise _fail(folder, exc) from None
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # no fcntl (Windows): no lock
            pass
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise InputError(folder, option, "a folder no other constellation command is writing to",
                             Described(f"it is locked by process {holder or 'unknown'} ({LOCK_NAME})")) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        clean_stale(folder)
        yield folder
    except BaseException:
        os.close(fd)
        fd = -1
        if created and [p.name for p in folder.iterdir()] == [LOCK_NAME]:
            with contextlib.suppress(OSError):
                lock.unlink()
        _remove_created(created)
        raise
    finally:
        if fd >= 0:
            os.close(fd)
