"""The ``mcpbundle`` console script: replay a no-op build, else run the CLI, then leave.

``mcpbundle build`` run again on unchanged inputs is answered from its stamp
(:mod:`mcpbundle.incremental.stamp`) with the standard library alone; importing the CLI and
the pipeline would cost more than the whole check. A command that finished leaves without
tearing the interpreter down (:func:`_leave`); :func:`run` is the same command for callers
that stay in the process.
"""

from __future__ import annotations

import sys

# typing (and the re, collections and functools it imports) is a quarter of a no-op
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def main() -> NoReturn:
    """The console script and ``python -m mcpbundle``."""
    try:
        run()
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def run() -> None:
    """Run the command ``sys.argv`` names (raises :class:`SystemExit` with its status)."""
    _few_collections()
    argv = sys.argv[1:]
    if "build" in argv and "--debug" not in argv:
        from mcpbundle.incremental.stamp import replay

        replayed = replay(argv)
        if replayed is not None:
            sys.stdout.write(replayed[0])
            sys.stderr.write(replayed[1])
            sys.exit(0)
    from mcpbundle.cli.entry import main as cli_main

    try:
        cli_main()
    finally:
        _no_final_collection()


def _few_collections() -> None:
    """Run the cyclic collector rarely: a command is short, and its objects are freed by
    reference counting, but at the default threshold (a collection every 700 new
    container objects) a build at 200 servers ran it 139 times, 20 ms of a 0.4 s rebuild,
    to find next to nothing. A collection runs once 100,000 new objects outlive their
    frees, which bounds the garbage a long command (``verify``) can hold, as mypy does."""
    import gc

    gc.set_threshold(100_000, 50, 50)


def _no_final_collection() -> None:
    """Spare the exit the cyclic collector's last pass over everything the command made.

    As the interpreter exits, reference counting frees a command's objects anyway; the
    collector's final pass over all of them (the parsed modules, plans and targets of
    every server) cost ``check`` at 10 servers more than all of its rules. Frozen objects
    are still freed, and ``atexit`` handlers still run: only that pass is skipped."""
    import gc

    gc.freeze()


def _leave(code: object) -> NoReturn:
    """Exit with ``code`` as :func:`sys.exit` would, without the interpreter's teardown.

    ``atexit`` handlers run and the standard streams are flushed, as at any exit; what is
    skipped is freeing every module and object one by one, memory the process gives back
    at once (~20 ms of a 10-server ``check``). When another thread still runs, the
    ordinary exit (which waits for it) is taken instead."""
    import threading

    if threading.active_count() > 1:
        sys.exit(code)  # type: ignore[arg-type]
    import atexit
    import os

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 120  # as Python exits when it cannot flush stdout
    os._exit(status & 0xFF)


if __name__ == "__main__":
    main()
