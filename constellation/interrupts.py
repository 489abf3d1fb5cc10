"""How a command is stopped: SIGTERM and Ctrl-C as exceptions where the command is.

The command line (:func:`constellation.cli.main`) installs :func:`on_sigterm` and
:func:`on_sigint` for the length of a command, so that SIGTERM (``kill``, ``timeout``) ends
it as Ctrl-C does: the progress bar erased, staged outputs removed, earlier results
untouched (exit 143 and 130).

Python drops an exception raised where it cannot propagate, such as a fork hook or a
finaliser ("Exception ignored in ..."): a handler run there would let the command go on.
So the handlers also note the signal, and

* :func:`held` holds both signals while worker processes are forked: the handlers only note
  them, and they are raised when the forking is done;
* :func:`check` raises for a signal that came, even one whose exception was dropped: what
  commits results (:mod:`constellation.output.files`) asks it first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["Terminated", "check", "held", "noted", "on_sigint", "on_sigterm", "reset"]


class Terminated(BaseException):
    """SIGTERM, raised where the command is (a BaseException, as KeyboardInterrupt is)."""


_came: dict[str, bool] = {"term": False, "int": False}
_holding = False


def on_sigterm(signum=None, frame=None) -> None:
    """The command line's SIGTERM handler: note it; raise :class:`Terminated` unless held."""
    _came["term"] = True
    if not _holding:
        raise Terminated


def on_sigint(signum=None, frame=None) -> None:
    """The command line's Ctrl-C handler: note it; raise ``KeyboardInterrupt`` unless held."""
    _came["int"] = True
    if not _holding:
        raise KeyboardInterrupt


def check() -> None:
    """Raise for a SIGTERM or Ctrl-C that came while the handlers were installed."""
    if _came["term"]:
        raise Terminated
    if _came["int"]:
        raise KeyboardInterrupt


def noted() -> type[BaseException] | None:
    """The exception of a signal that came (SIGTERM first), or None: for an error that a
    library raised because a signal's exception went through its bare ``except:``."""
    return Terminated if _came["term"] else KeyboardInterrupt if _came["int"] else None


def reset() -> None:
    """Forget the signals that came (a command starts or ends)."""
    _came["term"] = _came["int"] = False


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold SIGTERM and Ctrl-C over the block: the handlers note them; on leaving the block
    they are raised (:func:`check`). Only the command line's handlers hold; others act as
    they always do."""
    global _holding
    outer, _holding = _holding, True
    try:
        yield
    finally:
        _holding = outer
    if not outer:
        check()
