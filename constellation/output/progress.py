"""A progress bar on standard error for the commands that take more than a moment.

The kernels know nothing of it: they take an optional ``progress(done, total)`` callable and
call it from their chunk loops (:func:`constellation.passes.finder.find_passes`,
:func:`constellation.key.per_pass.pass_keys`, :func:`constellation.key.entanglement.dual_keys`,
:func:`constellation.coverage.statistics.coverage`); :class:`constellation.pipeline.Run`
adds the stage's name (``progress(done, total, stage)``). The command line opens the bar
around the work with :func:`progress_bar` and hands its callable down.

When it shows:

* only when standard error is a terminal (pipes, files, CI, tests, ``TERM=dumb`` and a
  closed standard error get nothing), unless the environment variable
  ``CONSTELLATION_PROGRESS`` says otherwise: ``1`` (or true/yes/on) draws it even off a
  terminal and at once (to record or test it), ``0`` (or false/no/off) never draws it; other
  values are ignored;
* only after :data:`DELAY_S` of work, so a quick command never flickers;
* one line per stage (``passes``, ``key``, ``coverage``, ...): done/total and what is counted
  (satellites, QKD windows, time steps) where the stage counts its work, a moving bar where it
  does not, the time taken and an estimate of the time left;
* transient: it is erased when the work ends, before anything is printed on standard output,
  and standard output is never touched.

>>> with progress_bar(enabled=False) as report:
...     report is None
True
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator

__all__ = ["DELAY_S", "ENV", "UNITS", "StageBar", "forced", "progress_bar", "wanted"]

ENV = "CONSTELLATION_PROGRESS"
DELAY_S = 1.0  # seconds of work before the bar appears


_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def forced() -> bool | None:
    """``CONSTELLATION_PROGRESS``: True for 1/true/yes/on, False for 0/false/no/off (any case),
    None when unset or anything else (the terminal decides)."""
    setting = os.environ.get(ENV, "").strip().lower()
    return True if setting in _ON else False if setting in _OFF else None


def wanted(stream=None) -> bool:
    """Whether to draw a bar on ``stream`` (default standard error): as ``CONSTELLATION_PROGRESS``
    says (:func:`forced`), else whether the stream is a terminal that draws (not ``TERM=dumb``).
    Never on a closed standard error."""
    stream = sys.stderr if stream is None else stream
    if stream is None:  # stderr closed (2>&-): nowhere to draw
        return False
    setting = forced()
    if setting is not None:
        return setting
    if os.environ.get("TERM", "") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or closed
        return False


class StageBar:
    """A rich progress display, started after ``delay_s`` on a timer and erased on :meth:`close`.

    Call it as ``bar(done, total, stage=None, detail=None)``: ``stage`` opens a new line
    (the previous stage's line is marked complete), ``total`` None is work of unknown size,
    ``detail`` a short text shown after the count. :meth:`print` writes a line above the bar.
    """

    def __init__(self, stream, delay_s: float = DELAY_S):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}", justify="right"),
            TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), TextColumn("{task.fields[detail]}", markup=False),
            # stdout is never touched; other lines written to stderr meanwhile print above the bar.
            console=self._console, transient=True, redirect_stdout=False, redirect_stderr=stream is sys.stderr,
            refresh_per_second=5)
        self._lock = threading.Lock()
        self._task = None
        self._stage = None
        self._started = self._closed = False
        self._timer = None
        if delay_s <= 0:
            self._start()
        else:
            self._timer = threading.Timer(delay_s, self._start)
            self._timer.daemon = True
            self._timer.start()

    @property
    def shown(self) -> bool:
        """The bar has been drawn (the delay passed before the work ended)."""
        return self._started

    def stages(self) -> dict[str, tuple[float, float | None]]:
        """Stage -> (done, total) as last reported (total None: unknown size)."""
        return {task.description: (task.completed, task.total) for task in self._progress.tasks}

    def __call__(self, done, total=None, stage: str | None = None, detail: str | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            if self._task is None or (stage is not None and stage != self._stage):
                self._finish_task()
                self._stage = stage
                self._task = self._progress.add_task(stage or "working", total=total, completed=done or 0,
                                                     count=_count(done, total, stage), detail=detail or "")
                return
            fields = {} if detail is None else {"detail": detail}
            self._progress.update(self._task, completed=done or 0, total=total,
                                  count=_count(done, total, self._stage), **fields)

    def print(self, text: str) -> None:
        """A line of text above the bar (as it is: no markup, no highlighting)."""
        with self._lock:
            self._console.print(text, markup=False, highlight=False, emoji=False)

    def close(self) -> None:
        """Erase the bar (if drawn); later calls do nothing."""
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._started:
                self._progress.stop()

    def _start(self) -> None:
        with self._lock:
            if not self._closed and not self._started:
                self._started = True
                self._progress.start()

    def _finish_task(self) -> None:
        """Mark the current stage's line complete (a stage of unknown size as 1 of 1)."""
        if self._task is None:
            return
        task = self._progress.tasks[-1]
        if task.total is None:
            self._progress.update(self._task, total=1, completed=1, count="done")
        else:
            self._progress.update(self._task, completed=task.total, count=_count(task.total, task.total, self._stage))


# What each stage counts (the kernels' progress calls): shown after done/total.
UNITS = {"passes": "satellites", "key": "QKD windows", "dual_key": "dual windows", "coverage": "time steps",
         "designs": "designs"}


def _count(done, total, stage=None) -> str:
    """``done/total unit``, or nothing while the size of the work is unknown; ``~done`` when
    ``done`` is a fraction (an estimate within a chunk: passes within a chunk of satellites)."""
    unit = UNITS.get(stage, "")
    if total is None:
        return ""
    done = done or 0
    about = "~" if done != int(done) else ""
    return f"{about}{int(done):,}/{int(total):,} {unit}".rstrip()


@contextlib.contextmanager
def progress_bar(*, stream=None, enabled: bool | None = None,
                 delay_s: float | None = None) -> Iterator[Callable | None]:
    """A :class:`StageBar` on ``stream`` (default standard error) for the block, or None when
    no bar is wanted (see :func:`wanted`; ``enabled`` overrides it). ``delay_s`` defaults to
    :data:`DELAY_S`, and to 0 when ``CONSTELLATION_PROGRESS=1`` forces the bar."""
    stream = sys.stderr if stream is None else stream
    if enabled is None:
        enabled = wanted(stream)
    if not enabled or stream is None:  # never a bar without a stream (rich would fall back to stdout)
        yield None
        return
    if delay_s is None:
        delay_s = 0.0 if forced() else DELAY_S
    bar = StageBar(stream, delay_s)
    try:
        yield bar
    finally:
        bar.close()
