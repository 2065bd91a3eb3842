"""The ``mcpbundle`` console script: replay a no-op build, else run the CLI.

``mcpbundle build`` run again on unchanged inputs is answered from its stamp
(:mod:`mcpbundle.incremental.stamp`) with the standard library alone; importing the CLI and
the pipeline would cost more than the whole check.
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

    cli_main()


if __name__ == "__main__":
    main()
