"""The ``mcpbundle`` console script: replay a no-op build, else run the CLI.

``mcpbundle build`` run again on unchanged inputs is answered from its stamp
(:mod:`mcpbundle.incremental.stamp`) with the standard library alone; importing the CLI and
the pipeline would cost more than the whole check. Any other command's objects are frozen
out of the garbage collector's sight before the interpreter exits
(:func:`_no_final_collection`).
"""

from __future__ import annotations

import sys


def main() -> None:
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


def _no_final_collection() -> None:
    """Spare the exit the cyclic collector's last pass over everything the command made.

    As the interpreter exits, reference counting frees a command's objects anyway; the
    collector's final pass over all of them (the parsed modules, plans and targets of
    every server) cost ``check`` at 10 servers more than all of its rules. Frozen objects
    are still freed, and ``atexit`` handlers still run: only that pass is skipped."""
    import gc

    gc.freeze()


if __name__ == "__main__":
    main()
