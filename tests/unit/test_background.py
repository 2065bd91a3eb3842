"""A call run in a thread: its result, its exception, and a caller that gives up on it."""

from __future__ import annotations

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
