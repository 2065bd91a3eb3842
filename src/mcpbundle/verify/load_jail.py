"""Run one command contained: the supervisor of every process ``verify`` starts.

A standalone script (standard library only), run by :mod:`mcpbundle.verify.sandbox` as
``python -I -S load_jail.py [options] -- CMD...`` in a session of its own::

    --timeout S     kill everything after S seconds
    --memory B      RLIMIT_AS of CMD (and of whatever it starts), in bytes
    --protect DIR   keep DIR from being written (repeatable) ...
    --layers DIR    ... through an overlay whose upper layer is DIR/<index>/upper

On Linux, when the kernel allows it (root, or unprivileged user namespaces):
new mount and PID namespaces (and a user namespace when not root). Every
``--protect`` directory gets an overlay, so a write lands in the throwaway upper
layer (where :mod:`mcpbundle.verify.sandbox` finds it), or else a read-only bind mount.
A small init, PID 1 of the namespace, starts CMD and reaps; when CMD exits init
exits, and the kernel kills every process left in the namespace, double-forked
daemons included. Signals sent from inside the namespace cannot kill init, and
nothing inside can address a process outside it (``/proc`` is the namespace's own).

Elsewhere: CMD stays in this process group and, on Linux, this process is a
child subreaper, so orphans are reparented to it and killed when CMD exits.
Either way CMD's stdout and stderr go to this process's stderr (a log file) and
one JSON line on stdout says what happened. SIGTERM stops CMD early; on Linux
this process gets one when its parent dies.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
import time
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
# statvfs flags of a mount that a remount inside a user namespace must keep
KEPT_FLAGS = {
    os.ST_NOSUID: MS_NOSUID,
    os.ST_NODEV: MS_NODEV,
    os.ST_NOEXEC: MS_NOEXEC,
    os.ST_NOATIME: MS_NOATIME,
    os.ST_NODIRATIME: MS_NODIRATIME,
    os.ST_RELATIME: MS_RELATIME,
}

_stop = False


def _on_term(_signum: int, _frame: Any) -> None:
    global _stop  # noqa: PLW0603 - set by the signal handler, read by the wait loop
    _stop = True


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _call(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(
    libc: Any, src: str | None, dst: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    def encode(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    result = libc.mount(encode(src), encode(dst), encode(fstype), flags, encode(data))
    _call(result, f"mount {dst}")


def enter_namespaces(libc: Any) -> bool:
    """New mount and PID namespaces (and a user namespace when not root).

    Raises OSError when the kernel refuses (nothing changed then); returns whether
    mounts are private, the condition for making any (they must never reach the host).
    """
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNS | CLONE_NEWPID | (CLONE_NEWUSER if uid != 0 else 0)
    _call(libc.unshare(flags), "unshare")
    if uid != 0:  # keep our own ids inside: nothing runs as (namespace) root but this script
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):  # fmt: skip
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
    try:
        _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    except OSError as exc:
        print(f"loadjail: mounts stay shared, protecting nothing: {exc}", file=sys.stderr)
        return False
    return True


def protect(libc: Any, path: str, layer: str) -> str:
    """Overlay ``path`` (writes go to ``layer``), else make it read-only; the mode used."""
    upper, work = os.path.join(layer, "upper"), os.path.join(layer, "work")
    os.makedirs(upper, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    if not any(c in path + layer for c in ",:\\"):
        options = f"lowerdir={path},upperdir={upper},workdir={work}"
        for extra in ("", ",userxattr"):
            try:
                _mount(libc, "overlay", path, "overlay", 0, options + extra)
                return "overlay"
            except OSError:
                continue
    try:
        kept = os.statvfs(path).f_flag
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY
        flags |= sum(ms for st, ms in KEPT_FLAGS.items() if kept & st)
        _mount(libc, path, path, None, MS_BIND | MS_REC)
        _mount(libc, None, path, None, flags)
        return "read-only"
    except OSError as exc:
        print(f"loadjail: cannot protect {path}: {exc}", file=sys.stderr)
        return "reachable"


def spawn(cmd: list[str], memory: int | None) -> int:
    """Fork and exec ``cmd`` with stdout on our stderr and its address space limited."""
    pid = os.fork()
    if pid:
        return pid
    try:
        os.dup2(2, 1)
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.execv(cmd[0], cmd)
    except BaseException as exc:
        os.write(2, f"loadjail: cannot run {cmd[0]}: {exc}\n".encode())
    os._exit(127)


def wait(pid: int, deadline: float) -> tuple[int | None, bool]:
    """``(wait status or None, timed out)``: poll ``pid`` until it exits, times out or SIGTERM."""
    pause = 0.002
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None, False
        if done:
            return status, False
        if _stop or time.monotonic() >= deadline:
            return None, not _stop
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def children() -> list[int]:
    """Our child processes (on Linux, from /proc)."""
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            found.append(int(name))
    return found


def kill_all(first: int | None) -> int:
    """SIGKILL ``first`` and every child left (orphans come to a subreaper); reap. Count."""
    killed = set()
    if first is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(first, signal.SIGKILL)
    while True:
        for pid in children() if sys.platform.startswith("linux") else []:
            if pid != first:
                killed.add(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return len(killed)


def init(cmd: list[str], memory: int | None, report: int) -> None:
    """PID 1 of the namespace: start ``cmd``, reap, exit with its status (never returns)."""
    code = 1
    try:
        os.setsid()  # a group of our own: a kill of "my group" from inside stays inside
        libc = _libc()
        own_proc = True
        try:
            _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError:
            own_proc = False
        pid = spawn(cmd, memory)
        status = None
        while True:
            try:
                done, found = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if done == pid:
                status = found
                break
        left = None
        if own_proc:
            left = sum(1 for n in os.listdir("/proc") if n.isdigit() and n != "1")
        os.write(report, json.dumps({"status": status, "leftover": left}).encode())
        code = 0
    finally:
        os._exit(code)


def run_in_namespaces(args: argparse.Namespace, deadline: float) -> dict[str, Any]:
    libc = _libc()
    private = enter_namespaces(libc)
    modes = [
        protect(libc, path, os.path.join(args.layers, str(index))) if private else "reachable"
        for index, path in enumerate(args.protect)
    ]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            init(args.cmd, args.memory, write)
        finally:
            os._exit(1)
    os.close(write)
    status, timed_out = wait(pid, deadline)
    if status is None:  # timed out or stopped: init dies, and with it the whole namespace
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    found: dict[str, Any] = {}
    data = os.read(read, 65536)
    if data:
        found = json.loads(data)
    return {
        "isolation": "namespace",
        "protect": modes,
        "timed_out": timed_out,
        "stopped": _stop,
        "status": found.get("status"),
        "leftover": found.get("leftover"),
    }


def run_in_group(args: argparse.Namespace, deadline: float) -> dict[str, Any]:
    isolation = "process-group"
    if sys.platform.startswith("linux"):
        try:
            _call(_libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl")
            isolation = "subreaper"
        except OSError:
            pass
    pid = spawn(args.cmd, args.memory)
    status, timed_out = wait(pid, deadline)
    left = kill_all(pid if status is None else None)
    return {
        "isolation": isolation,
        "protect": ["reachable" for _ in args.protect],
        "timed_out": timed_out,
        "stopped": _stop,
        "status": status,
        "leftover": left if isolation == "subreaper" else None,
    }


def describe(status: int | None) -> dict[str, int | None]:
    if status is None:
        return {"exit": None, "signal": None}
    if os.WIFSIGNALED(status):
        return {"exit": None, "signal": os.WTERMSIG(status)}
    return {"exit": os.WEXITSTATUS(status), "signal": None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loadjail")
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--memory", type=int, default=None)
    parser.add_argument("--protect", action="append", default=[])
    parser.add_argument("--layers", default=None)
    parser.add_argument("--no-namespaces", action="store_true")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.cmd[:1] == ["--"]:
        args.cmd = args.cmd[1:]
    if not args.cmd:
        parser.error("no command")
    signal.signal(signal.SIGTERM, _on_term)
    if sys.platform.startswith("linux"):  # mcpbundle gone (killed, interrupted): stop too
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    deadline = time.monotonic() + args.timeout
    problem = None
    result: dict[str, Any] | None = None
    if sys.platform.startswith("linux") and not args.no_namespaces and args.layers:
        try:
            result = run_in_namespaces(args, deadline)
        except OSError as exc:
            problem = str(exc)
    if result is None:
        result = run_in_group(args, deadline)
    status = result.pop("status")
    result.update(describe(status), problem=problem)
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
