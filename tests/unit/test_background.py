"""A call run in a thread: its result, its exception, and a caller that gives up on it."""

from __future__ import annotations

import signal
import threading

import pytest

from mcpbundle.base.background import Background


def test_the_result_arrives_once_the_call_ends() -> None:
    gate = threading.Event()
    started = Background(lambda: (gate.wait(5), 42)[1], name="test-call")
    gate.set()
    assert started.result() == 42


def test_the_calls_exception_is_raised_by_result() -> None:
    def fail() -> int:
        raise ValueError("resolver said no")

    with pytest.raises(ValueError, match="resolver said no"):
        Background(fail, name="test-call").result()


def test_wait_drops_the_outcome_and_leaves_no_thread() -> None:
    def fail() -> int:
        raise RuntimeError("late")

    call = Background(fail, name="test-wait")
    call.wait()
    assert not any(t.name == "test-wait" for t in threading.enumerate())


def test_a_base_exception_in_the_call_reaches_the_caller() -> None:
    def interrupted() -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Background(interrupted, name="test-call").result()


class _Stop(Exception):
    pass


def test_a_signal_in_result_leaves_wait_waiting_for_the_call() -> None:
    """The build's main thread waits in result() when SIGTERM's handler raises there; its
    finally then calls wait(), which must still wait for the resolver's thread. On Python
    3.11 and 3.12 an interrupted Thread.join marks a live thread as stopped (CPython
    issue 90882), so a second join returned at once and mcpbundle exited with its
    resolver unreaped."""
    release = threading.Event()
    ended = threading.Event()

    def resolver() -> int:
        release.wait(10)
        ended.set()
        return 1

    def on_alarm(_signum: int, _frame: object) -> None:
        release_later = threading.Timer(0.3, release.set)
        release_later.start()
        raise _Stop

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        call = Background(resolver, name="test-interrupted")
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(_Stop):
            call.result()
        call.wait()
        assert ended.is_set(), "wait() returned while the call was still running"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        release.set()
