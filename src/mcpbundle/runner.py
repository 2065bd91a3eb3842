"""The one subprocess wrapper: argument lists, never a shell.

Under ``--verbose`` every command is logged as ``+ cmd`` before it runs.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger("mcpbundle")


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` and capture its output as text. Never raises on a non-zero exit.

    ``env`` replaces the environment; ``extra_env`` is merged over it (or over
    ``os.environ`` when ``env`` is not given). Callers decide what a failure
    means and raise the matching :mod:`mcpbundle.errors` class.
    """
    args = [os.fspath(c) for c in cmd]
    log.info("+ %s", shlex.join(args))
    full_env = dict(os.environ if env is None else env)
    if extra_env:
        full_env.update(extra_env)
    return subprocess.run(
        args,
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def tail(text: str, lines: int = 2) -> str:
    """The last non-empty ``lines`` of ``text``, joined on one line."""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])
