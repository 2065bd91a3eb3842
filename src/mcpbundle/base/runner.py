"""The one subprocess wrapper: argument lists, never a shell, every child in its own group.

Under ``--verbose`` every command is logged as ``+ cmd`` before it runs.

Each child starts in a new process group (``process_group=0``) that mcpbundle
owns: a Ctrl-C at the terminal reaches mcpbundle alone, which then stops every
group it started (SIGTERM, then SIGKILL after a grace period) before it exits,
so no resolver or git child outlives it under PID 1. :func:`install_signal_handlers`
(called once by the CLI) turns SIGINT, SIGTERM and SIGHUP into :class:`Interrupted`,
raised in the main thread after the children were told to stop; an ``atexit``
hook kills whatever is still running when the interpreter exits.

:func:`run` / :func:`run_bytes` wait for a command; :func:`child` holds a
long-running one (a server under test) for the length of a ``with`` block.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

log = logging.getLogger("mcpbundle")

GRACE_SECONDS = 2.0
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}

_lock = threading.RLock()  # re-entrant: the signal handler may run while main holds it
_live: dict[int, subprocess.Popen[Any]] = {}  # pid (= process group id) -> child
_stopping = threading.Event()  # set once a signal asked mcpbundle to stop
_deferred: list[int] = []  # a signal that arrived while the main thread was starting a child
_main_spawning = False


class Interrupted(BaseException):
    """SIGINT / SIGTERM / SIGHUP arrived; the children were told to stop.

    A BaseException (like KeyboardInterrupt) so no ``except Exception`` swallows it;
    not a KeyboardInterrupt, so click does not turn it into its own ``Abort``.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return SIGNAL_EXIT.get(signal.Signals(self.signum), 128 + self.signum)


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    die_with_parent: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` and capture its output as text. Never raises on a non-zero exit.

    ``env`` replaces the environment; ``extra_env`` is merged over it (or over
    ``os.environ`` when ``env`` is not given). Callers decide what a failure
    means and raise the matching :mod:`mcpbundle.base.errors` class. A timeout stops
    the child's whole group and raises :class:`subprocess.TimeoutExpired`.
    ``die_with_parent`` (a long child such as the resolver): on Linux the child gets
    SIGTERM when mcpbundle dies, even by a kill -9 that no handler of ours sees.
    """
    args = [os.fspath(c) for c in cmd]
    log.info("+ %s", shlex.join(args))
    if die_with_parent and sys.platform == "linux":
        args = [sys.executable, "-I", "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *args]
    return _communicate(args, cwd=cwd, env=_environment(env, extra_env), timeout=timeout, text=True)


# Sets PR_SET_PDEATHSIG (kept across exec) and then execs the command. A parent that died
# before the prctl took effect is seen as a new parent pid: then the command never starts.
# Standard library only, no site: it costs one bare interpreter start.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "if libc.prctl(1, signal.SIGTERM, 0, 0, 0) != 0 or os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(143)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def run_bytes(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    stdin: IO[bytes] | None = None,
    timeout: float | None = None,
    quiet: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """:func:`run` with bytes output and an optional ``stdin`` file; ``quiet``: the caller
    logs the command itself (as :func:`mcpbundle.git.source.git_call` does)."""
    args = [os.fspath(c) for c in cmd]
    if not quiet:
        log.info("+ %s", shlex.join(args))
    return _communicate(
        args, cwd=cwd, env=_environment(env, extra_env), timeout=timeout, text=False, stdin=stdin
    )


@contextlib.contextmanager
def child(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdout: IO[bytes] | int | None = None,
    stderr: IO[bytes] | int | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running child in its own process group for the ``with`` block.

    When the block ends (normally, by an exception or by :class:`Interrupted`) the
    whole group gets SIGTERM, then SIGKILL after :data:`GRACE_SECONDS`, and the
    child is reaped. stdin is ``/dev/null``.
    """
    args = [os.fspath(c) for c in cmd]
    log.info("+ %s", shlex.join(args))
    process = _spawn(
        args, cwd=cwd, env=_environment(env, None), stdin=subprocess.DEVNULL,
        stdout=stdout, stderr=stderr,
    )  # fmt: skip
    try:
        yield process
    finally:
        _stop(process)


def tail(text: str, lines: int = 2) -> str:
    """The last non-empty ``lines`` of ``text``, joined on one line."""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


# -- signals ------------------------------------------------------------------------


def install_signal_handlers() -> None:
    """SIGINT, SIGTERM, SIGHUP: stop every child group, then raise :class:`Interrupted`.

    Call from the main thread (Python runs signal handlers there). Also registers
    the ``atexit`` hook that kills children still running at exit.
    """
    for signum in SIGNAL_EXIT:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, _on_signal)
    atexit.register(kill_children)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _stopping.set()
    _signal_all(signal.SIGTERM)
    if _main_spawning:  # raised by _spawn once the new child is registered (and stopped)
        _deferred.append(signum)
        return
    raise Interrupted(signum)


def kill_children() -> None:
    """SIGKILL every child group still running and wait until each is dead (the ``atexit``
    hook). A child is still registered here when the thread that would have stopped it
    did not get to: mcpbundle must not exit while its children are still dying."""
    with _lock:
        groups = list(_live)
    _signal_all(signal.SIGKILL)
    deadline = time.monotonic() + GRACE_SECONDS
    for pgid in groups:
        _await_group(pgid, timeout=max(0.0, deadline - time.monotonic()))


def _signal_all(signum: int) -> None:
    with _lock:
        pids = list(_live)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.killpg(pid, signum)


# -- the children -------------------------------------------------------------------


def _environment(env: Mapping[str, str] | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    full = dict(os.environ if env is None else env)
    if extra:
        full.update(extra)
    return full


def _spawn(args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """Start a child in a new process group and register it before anything can interrupt.

    A signal arriving meanwhile in the main thread is deferred to the end (an
    exception between ``fork`` and the registration would orphan the child); a
    child asked for after a signal is stopped at once.
    """
    global _main_spawning  # noqa: PLW0603 - read by the signal handler
    main = threading.current_thread() is threading.main_thread()
    if main:
        _main_spawning = True
    try:
        with _lock:
            process: subprocess.Popen[Any] = subprocess.Popen(args, process_group=0, **kwargs)
            _live[process.pid] = process
    finally:
        if main:
            _main_spawning = False
    if _stopping.is_set():
        _stop(process)
        signum = _deferred.pop() if _deferred else signal.SIGTERM
        raise Interrupted(signum)
    return process


def _communicate(
    args: list[str],
    *,
    cwd: Path | str | None,
    env: dict[str, str],
    timeout: float | None,
    text: bool,
    stdin: IO[bytes] | None = None,
) -> subprocess.CompletedProcess[Any]:
    process = _spawn(
        args, cwd=cwd, env=env, text=text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout)
    except BaseException:  # a timeout, Interrupted, anything: the group must not outlive us
        _stop(process)
        raise
    if _stopping.is_set():  # killed by our own SIGTERM: take any straggler of its group too
        _stop(process)
    _forget(process)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def _stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM the child's group, SIGKILL it after the grace period, reap the child."""
    try:
        if process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=GRACE_SECONDS)
        # The leader is gone; members of its group (grandchildren) may not be.
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=GRACE_SECONDS)
        _await_group(process.pid)
    finally:
        _forget(process)


def _await_group(pgid: int, timeout: float = GRACE_SECONDS) -> None:
    """Wait until no member of the group ``pgid`` is alive (a zombie is dead): SIGKILL
    takes effect asynchronously, and a leader that died first (the resolver another
    thread waited on) leaves its grandchildren dying as mcpbundle exits. Linux's /proc
    only; elsewhere there is nothing to wait on."""
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)


def _group_alive(pgid: int) -> bool:
    try:
        entries = os.listdir("/proc")
    except OSError:
        return False
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid).encode() and fields[0] != b"Z":
            return True
    return False


def _forget(process: subprocess.Popen[Any]) -> None:
    with _lock:
        _live.pop(process.pid, None)
