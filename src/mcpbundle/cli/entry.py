"""Run the command line and map every outcome to one exit code and at most one line.

0 success, 1 a failed build/check/verify, 2 bad configuration or usage, 130/143/129
for SIGINT/SIGTERM/SIGHUP. The one place errors become exit codes; a traceback only
with ``--debug``.
"""

from __future__ import annotations

import signal
import sys
import traceback

import click

from mcpbundle.base import runner
from mcpbundle.base.error_lines import describe_unexpected, printable
from mcpbundle.base.errors import MCPBundleError
from mcpbundle.base.redact import mask_urls
from mcpbundle.cli.app import cli
from mcpbundle.cli.options import State, error_text


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map errors to exit codes (0 ok, 1 failed, 2 bad input).

    Every failure is one ``error:`` line on stderr (a traceback only with --debug);
    SIGINT / SIGTERM / SIGHUP stop the children and exit 130 / 143 / 129.
    """
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    state = State(argv=tuple(args))  # the options on either side of the command fill it in
    runner.install_signal_handlers()
    try:
        cli.main(args=args, prog_name="mcpbundle", standalone_mode=False, obj=state)
    except MCPBundleError as exc:
        if debug:
            traceback.print_exc()
        _fail(state, str(exc), exc.exit_code, where=exc.where)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except runner.Interrupted as exc:
        message = "interrupted" if exc.signum == signal.SIGINT else f"stopped by {exc}"
        _fail(state, message, exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        _fail(state, "interrupted", 130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        _fail(state, describe_unexpected(exc), 1)
    sys.exit(0)


def _fail(state: State, message: str, code: int, *, where: str | None = None) -> None:
    colour = state.colour(sys.stderr)
    line = error_text(mask_urls(printable(message)), colour=colour, where=where)
    click.echo(line, err=True, color=colour)
    sys.exit(code)
