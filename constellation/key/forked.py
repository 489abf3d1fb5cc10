"""Share independent pieces of a stage between forked worker processes.

:func:`forked_map` calls ``function(state, item)`` for each item in worker processes forked
from this one: they inherit ``state`` (a propagator, a pass table, station geometry: nothing
is pickled but the items and the results), compute with numpy and send their results back.
A stage may use it only where every piece is computed exactly as it would be alone (the key
per batch of windows, :func:`constellation.key.per_pass.pass_keys`), so the results are the
same bit for bit with any number of workers. (Pass finding, memory-bound in chunks of
hundreds of MB, gained ~15 % on two processes for twice the memory: it stays in one.)
Where the system cannot fork, or for one piece or one worker, everything runs here. Each
worker holds its own batch arrays (~120 MB for the key's batches of 250,000 slots).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import warnings
from collections.abc import Callable, Iterator, Sequence

from .. import interrupts
from ..errors import ConstellationError

__all__ = ["can_fork", "forked_map"]

_TASK: tuple | None = None  # (function, state) of the running map, inherited by the workers
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux, macOS; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def forked_map(function: Callable, items: Sequence, workers: int, state, *, ordered: bool = True) -> Iterator:
    """``function(state, item)`` for each of ``items``: in ``workers`` forked processes when
    there are several workers and items and the system can fork, else here. Results come in
    the order of ``items`` (``ordered``) or as they finish."""
    if workers <= 1 or len(items) <= 1 or not can_fork():
        yield from (function(state, item) for item in items)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    global _TASK
    _TASK = (function, state)
    pool = ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=multiprocessing.get_context("fork"),
                               initializer=_quiet_worker)
    before = set(multiprocessing.active_children())
    try:
        with _signals_deferred():
            with warnings.catch_warnings():
                # Python >= 3.12 warns when a process with threads forks (the progress bar's
                # timer); the workers only compute and return arrays: they take no lock another
                # thread holds.
                warnings.simplefilter("ignore", DeprecationWarning)
                futures = [pool.submit(_call, item) for item in items]
        for future in (futures if ordered else as_completed(futures)):
            result = future.result()
            if isinstance(result, _Failed):
                raise result.exc
            interrupts.check()
            yield result
    except BrokenProcessPool:
        raise ConstellationError("a worker process ended without its result (killed: out of memory?); "
                                 "run with --workers 1") from None
    except BaseException:
        # Ctrl-C, SIGTERM or an error: the workers' results are not wanted; end them now.
        for child in set(multiprocessing.active_children()) - before:
            child.terminate()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        _TASK = None


@contextlib.contextmanager
def _signals_deferred():
    """SIGTERM and Ctrl-C wait while the workers are forked (:func:`.interrupts.held`): a
    handler raising inside a fork hook would have its exception dropped, one raising half-way
    through starting a worker would leave a worker the pool does not know. They are also
    blocked in this thread, so that the workers start with them blocked until
    :func:`_quiet_worker` has set their own handling."""
    with interrupts.held():
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # one pending is noted now, raised on leaving


class _Failed:
    """An exception raised in a worker, raised again in this process: itself when it survives
    pickling (ours do: errors.py), else its text, so that ours print the one line they would
    in one process."""

    def __init__(self, exc: BaseException):
        import pickle

        try:
            self.exc = pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 - any exception that does not travel: its text does
            self.exc = (ConstellationError(str(exc)) if isinstance(exc, ConstellationError)
                        else RuntimeError(f"{type(exc).__name__}: {exc}"))


def _call(item):
    function, state = _TASK
    try:
        return function(state, item)
    except Exception as exc:  # noqa: BLE001 - carried to the parent, raised there
        return _Failed(exc)


def _quiet_worker() -> None:
    """Signals in a worker: Ctrl-C (sent to the whole process group) is the parent's to handle,
    and a SIGTERM must just end the worker, not run the handler it inherited from the parent
    (``interrupts.on_sigterm``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)  # blocked in the parent while it forked
