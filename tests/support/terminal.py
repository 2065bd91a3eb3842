"""Run the real CLI with its stdout (and stderr) on a pseudo-terminal, as a user's shell does."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ANSI = "\x1b["


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str  # what the terminal showed (CRLF turned back into LF)
    stderr: str


def _drain(fds: dict[int, bytearray], proc: subprocess.Popen[bytes], timeout: float) -> None:
    open_fds = set(fds)
    while open_fds:
        ready, _, _ = select.select(list(open_fds), [], [], timeout)
        if not ready:
            proc.kill()
            raise TimeoutError("the CLI did not finish")
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's other side closed
                chunk = b""
            if chunk:
                fds[fd] += chunk
            else:
                open_fds.discard(fd)


def run_on_terminal(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stderr_on_terminal: bool = True,
    python_flags: Sequence[str] = (),
    timeout: float = 300,
) -> Run:
    """``python -m mcpbundle ARGS`` with stdout on a pty (stderr too unless told otherwise)."""
    environment = dict(os.environ if env is None else env)
    environment.setdefault("TERM", "xterm-256color")
    out_master, out_slave = os.openpty()
    err_master, err_slave = os.openpty() if stderr_on_terminal else (None, None)
    proc = subprocess.Popen(
        [sys.executable, *python_flags, "-m", "mcpbundle", *args],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=out_slave,
        stderr=err_slave if err_slave is not None else subprocess.PIPE,
    )
    os.close(out_slave)
    if err_slave is not None:
        os.close(err_slave)
    buffers = {out_master: bytearray()}
    if err_master is not None:
        buffers[err_master] = bytearray()
    else:
        assert proc.stderr is not None
        buffers[proc.stderr.fileno()] = bytearray()
    try:
        _drain(buffers, proc, timeout)
        code = proc.wait(timeout)
    finally:
        os.close(out_master)
        if err_master is not None:
            os.close(err_master)
        if proc.stderr is not None:
            proc.stderr.close()
    texts = [bytes(b).decode("utf-8", "replace").replace("\r\n", "\n") for b in buffers.values()]
    return Run(returncode=code, stdout=texts[0], stderr=texts[1])
