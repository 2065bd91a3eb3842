"""Run a server's code contained: one :class:`Box` per load, supervised by ``load_jail.py``.

Each load gets a fresh directory (:class:`Box`) holding its working directory,
``HOME``, ``TMPDIR`` and log, and runs under :mod:`mcpbundle.verify.load_jail` in a
session of its own: on Linux in new PID and mount namespaces, with the
repository behind a copy-on-write overlay (or read-only), else as a process
group under a child subreaper. The probe's verdict comes back on a private pipe
(an inherited descriptor), never on stdout; the jail's own report on its stdout.
This side never waits for an end-of-file a server's leftover process could hold
back: it stops reading when the jail has exited or the time is up, and then kills
the jail's process group whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mcpbundle.base.runner import log, tail

JAIL = Path(__file__).with_name("load_jail.py")
GRACE = 10.0  # beyond the timeout, for the jail to kill and report
VERDICT_LIMIT = 16 << 20
NAMESPACES = True  # tests switch it off to exercise the portable fallback
REACHABLE = "reachable"
_running: set[Running] = set()
_running_lock = threading.Lock()


@dataclass(frozen=True, kw_only=True)
class Limits:
    timeout: float  # seconds left for this run
    memory: int | None  # RLIMIT_AS in bytes (None: unlimited)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What one contained run did."""

    verdict: dict[str, Any] | None  # the probe's JSON line (None: it did not report)
    timed_out: bool = False
    exit: int | None = None
    signal: int | None = None
    isolation: str = "none"  # "namespace", "subreaper", "process-group"
    repository: str = ""  # "overlay", "read-only", "reachable"; "" when nothing to protect
    leftover: int | None = None  # processes killed after the command exited
    lost: bool = False  # the jail died without reporting (something killed it)
    writes: tuple[str, ...] = ()  # "wrote /repo/x (in the repository; discarded)", ...
    log_tail: str = ""


@dataclass(frozen=True)
class Box:
    """One load's private directory."""

    root: Path

    @classmethod
    def create(cls, parent: Path, name: str) -> Box:
        root = parent / name
        for sub in ("cwd", "home", "tmp", "layers"):
            (root / sub).mkdir(parents=True)
        return cls(root)

    @property
    def cwd(self) -> Path:
        return self.root / "cwd"

    @property
    def log(self) -> Path:
        return self.root / "output.log"

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        tmp = str(self.root / "tmp")
        return {**base, "HOME": str(self.root / "home"), "TMPDIR": tmp, "TMP": tmp, "TEMP": tmp}


def protected(paths: Sequence[Path], box: Path) -> list[Path]:
    """The directories to guard: existing, outermost only, never one holding the box."""
    chosen: list[Path] = []
    box = box.resolve()
    for path in sorted({p.resolve() for p in paths if p.is_dir()}, key=lambda p: len(p.parts)):
        if any(path.is_relative_to(c) for c in chosen):
            continue
        if box.is_relative_to(path) or path.is_relative_to(box):
            log.info("verify: %s holds the sandbox; it stays writable", path)
            continue
        chosen.append(path)
    return chosen


class Running:
    """A contained command that has been started; :meth:`finish` collects it."""

    def __init__(
        self,
        cmd: Callable[[int], list[str]],
        *,
        box: Box,
        env: Mapping[str, str],
        limits: Limits,
        protect: Sequence[Path],
    ) -> None:
        self.box = box
        self.guarded = protected(protect, box.root)
        self.started = time.monotonic()
        self.deadline = self.started + limits.timeout + GRACE
        read, write = os.pipe()
        self.verdict_fd = read
        jail = [sys.executable, "-I", "-S", str(JAIL), "--timeout", f"{limits.timeout:.3f}"]
        if limits.memory:
            jail += ["--memory", str(limits.memory)]
        if NAMESPACES:
            jail += ["--layers", str(box.root / "layers")]
        else:
            jail.append("--no-namespaces")
        for path in self.guarded:
            jail += ["--protect", str(path)]
        args = [*jail, "--", *cmd(write)]
        log.info("+ %s", " ".join(args))
        try:
            with box.log.open("ab") as output:
                self.process: subprocess.Popen[bytes] = subprocess.Popen(
                    args,
                    cwd=box.cwd,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=output,
                    pass_fds=(write,),
                    start_new_session=True,
                )
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        with _running_lock:
            _running.add(self)

    def stop(self) -> None:
        """Ask the jail to kill the command now (SIGTERM; it reports as usual)."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        self.deadline = min(self.deadline, time.monotonic() + GRACE)

    def finish(self) -> Outcome:
        """Wait for the jail (at most until the deadline), then kill what is left."""
        assert self.process.stdout is not None
        report, verdict = _collect(self.process.stdout, self.verdict_fd, self.deadline)
        killed_here = self.process.poll() is None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # still unreaped: the group is ours
        self.process.wait()
        with _running_lock:
            _running.discard(self)
        self.process.stdout.close()
        os.close(self.verdict_fd)
        return self._outcome(report, verdict, killed_here)

    def _outcome(self, report: bytes, verdict: bytes, killed_here: bool) -> Outcome:
        jail = _json(report) or {}
        modes = jail.get("protect") or [REACHABLE] * len(self.guarded)
        writes = list(_overlay_writes(self.box.root / "layers", self.guarded, modes))
        probe = _json(verdict.split(b"\n", 1)[0])
        if probe is not None:
            for item in probe.pop("writes", None) or []:
                writes += _hook_write(str(item), self.guarded, modes)
        return Outcome(
            verdict=probe,
            timed_out=bool(jail.get("timed_out")) or (killed_here and not jail),
            exit=jail.get("exit"),
            signal=jail.get("signal"),
            isolation=str(jail.get("isolation", "none")),
            repository=_weakest(modes),
            leftover=jail.get("leftover"),
            lost=not jail and not killed_here,
            writes=tuple(dict.fromkeys(writes)),
            log_tail=_log_tail(self.box.log),
        )


def stop_all() -> None:
    """Stop every contained run of this process (on an interrupt)."""
    with _running_lock:
        running = list(_running)
    for each in running:
        each.stop()


def run(
    cmd: Callable[[int], list[str]],
    *,
    box: Box,
    env: Mapping[str, str],
    limits: Limits,
    protect: Sequence[Path] = (),
) -> Outcome:
    """Run ``cmd(verdict_fd)`` contained until it exits or its time is up."""
    return Running(cmd, box=box, env=env, limits=limits, protect=protect).finish()


def _collect(stdout: IO[bytes], verdict_fd: int, deadline: float) -> tuple[bytes, bytes]:
    """The jail's report and the verdict, read until the jail is done or the deadline.

    The jail is done when its stdout closes. When it closes without a report,
    something killed the jail and the probe may live on: read the verdict on until
    it is complete or the time is up.
    """
    report, verdict = bytearray(), bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(stdout, selectors.EVENT_READ, report)
        selector.register(verdict_fd, selectors.EVENT_READ, verdict)
        pending = {id(report), id(verdict)}
        while id(report) in pending or (not report and id(verdict) in pending):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, 65536)
                if len(key.data) < VERDICT_LIMIT:
                    key.data.extend(chunk)
                if not chunk or (key.data is verdict and b"\n" in verdict):
                    selector.unregister(key.fileobj)
                    pending.discard(id(key.data))
    os.set_blocking(verdict_fd, False)  # a leftover process may hold the pipe: take what is there
    with contextlib.suppress(OSError):
        while len(verdict) < VERDICT_LIMIT and (chunk := os.read(verdict_fd, 65536)):
            verdict.extend(chunk)
    return bytes(report), bytes(verdict)


def _json(data: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(data)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _weakest(modes: Sequence[str]) -> str:
    for mode in (REACHABLE, "read-only", "overlay"):
        if mode in modes:
            return mode
    return ""


def _overlay_writes(layers: Path, guarded: Sequence[Path], modes: Sequence[str]) -> list[str]:
    """What landed in each overlay's upper layer: files written, files removed."""
    found = []
    for index, (path, mode) in enumerate(zip(guarded, modes, strict=False)):
        upper = layers / str(index) / "upper"
        if mode != "overlay" or not upper.is_dir():
            continue
        for item in sorted(upper.rglob("*")):
            if "__pycache__" in item.relative_to(upper).parts:
                continue  # bytecode of a venv or library kept in the repository
            info = item.lstat()
            if stat.S_ISDIR(info.st_mode) and any(item.iterdir()):
                continue
            whiteout = stat.S_ISCHR(info.st_mode) and info.st_rdev == 0
            verb = "removed" if whiteout else "wrote"
            found.append(f"{verb} {path / item.relative_to(upper)} (in the repository; discarded)")
    return found


def _hook_write(item: str, guarded: Sequence[Path], modes: Sequence[str]) -> list[str]:
    """A write the probe's audit hook saw, unless an overlay layer already shows it."""
    verb, _, path = item.partition(" ")
    for guard, mode in zip(guarded, modes, strict=False):
        if Path(path).is_relative_to(guard):
            if mode == "overlay":
                return []
            if mode == "read-only":
                attempt = "write" if verb == "wrote" else "remove"
                return [f"tried to {attempt} {path} (the repository is read-only during verify)"]
            return [f"{verb} {path} (in the repository)"]
    return [f"{verb} {path} (outside the sandbox)"]


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 16384))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return tail(text, lines)


def remove_tree(path: Path) -> None:
    """Delete a sandbox, including an overlay work directory left with mode 000."""

    def fix(_func: Any, name: str, _exc: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), 0o700)
            os.chmod(name, 0o700)
        with contextlib.suppress(OSError):
            if os.path.isdir(name) and not os.path.islink(name):
                shutil.rmtree(name, ignore_errors=True)
            else:
                os.unlink(name)

    shutil.rmtree(path, onerror=fix)
