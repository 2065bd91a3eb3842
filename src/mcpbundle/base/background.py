"""One call run in a thread while the caller goes on (the resolver while a build copies).

The call's children are started through :mod:`mcpbundle.base.runner`, which stops every
child on a signal whatever thread started it, so the signal's :class:`Interrupted` still
reaches the main thread wherever it waits. The result, or the exception, is handed over
by :meth:`Background.result`; :meth:`Background.wait` waits and drops both, for a caller
that fails first and must not leave the call running behind it.

Both wait on an event the call sets as it ends, not on ``Thread.join`` alone: on Python
3.11 and 3.12 a join interrupted by a signal handler's exception (SIGTERM's
:class:`Interrupted` in the main thread) marks the live thread as stopped, and every
later join returns at once (CPython issue 90882) - a build would then exit with its
resolver still running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``call()`` started now in a daemon thread named ``name``."""

    def __init__(self, call: Callable[[], T], *, name: str) -> None:
        self._call = call
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = False
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
            self._done = True
        except BaseException as exc:  # handed to the caller, which decides
            self._error = exc
        finally:
            self._ended.set()

    def _join(self) -> None:
        self._ended.wait()  # an interrupted wait can be waited again; a join cannot
        self._thread.join()  # the call has ended: only the thread's last steps remain

    def result(self) -> T:
        """What the call returned, once it has; its exception raised here otherwise."""
        self._join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        assert self._done
        return self._value  # type: ignore[return-value]

    def wait(self) -> None:
        """Wait for the call to end, ignoring its outcome."""
        self._join()
        self._error = None
