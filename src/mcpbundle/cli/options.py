"""What every command shares: state, reusable click options, logging, printing.

Options are decorators (as pip-tools does) so each command states the ones it
takes; printing goes through :func:`emit_document` (text or JSON on stdout).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from mcpbundle.base import progress
from mcpbundle.base.redact import mask_urls
from mcpbundle.config.settings import Config
from mcpbundle.config.validate import load_config

log = logging.getLogger("mcpbundle")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    config_path: Path | None = None
    debug: bool = False
    argv: tuple[str, ...] | None = None  # the command line, when run through main()

    def config(self) -> Config:
        return load_config(Path.cwd(), self.config_path)


# ----------------------------------------------------------------- reusable options


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(func)


def servers_argument(func: F) -> F:
    return click.argument("servers", nargs=-1, metavar="[SERVER]...")(func)


def _quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        setup_logging(verbose=False, quiet=True)
        progress.configure(enabled=False)


def _verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        setup_logging(verbose=True, quiet=False)


def verbosity_options(func: F) -> F:
    """``-q``/``-v`` after the command name too (``mcpbundle build -q``), like uv and ruff."""
    func = click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_quiet,
        help="Only errors; no progress lines.",
    )(func)  # fmt: skip
    return click.option(
        "-v", "--verbose", is_flag=True, expose_value=False, callback=_verbose,
        help="Log every command run (+ cmd).",
    )(func)  # fmt: skip


def strict_option(func: F) -> F:
    return click.option(
        "--strict", is_flag=True, help="Treat warnings (undeclared shared code) as errors."
    )(func)


def format_options(func: F) -> F:
    """``build --format FORMAT`` (repeatable) and ``--verify``."""
    func = click.option(
        "--verify", "verify_first", is_flag=True,
        help="Load each server first: its tools and prompts go into its .mcpb.",
    )(func)  # fmt: skip
    return click.option(
        "--format", "formats", multiple=True, type=click.Choice(["dir", "mcpb"]),
        help="Also write this format (repeatable; default: [bundle] formats).",
    )(func)  # fmt: skip


def parse_codes(text: str) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in text.split(",") if c.strip())


def render_document(
    document: dict[str, Any], as_json: bool, formatter: Callable[[dict[str, Any]], str]
) -> str:
    text = json.dumps(document, indent=2, sort_keys=True) if as_json else formatter(document)
    return mask_urls(text)


def emit_document(
    document: dict[str, Any], as_json: bool, formatter: Callable[[dict[str, Any]], str]
) -> None:
    click.echo(render_document(document, as_json, formatter))


def warn_all(warnings: tuple[str, ...] | list[str]) -> None:
    for warning in warnings:
        log.warning("%s", warning)


def warning_text(warnings: tuple[str, ...] | list[str]) -> str:
    """What :func:`warn_all` prints on stderr at the current verbosity."""
    if not log.isEnabledFor(logging.WARNING):
        return ""
    formatter = LogFormatter()
    lines = [
        formatter.format(
            logging.makeLogRecord({"levelno": logging.WARNING, "levelname": "WARNING", "msg": w})
        )
        for w in warnings
    ]
    return "".join(f"{line}\n" for line in lines)


def verbose_logging() -> bool:
    """True under ``-v``/``--debug`` (commands run are logged)."""
    return log.isEnabledFor(logging.INFO)


class LogFormatter(logging.Formatter):
    """``warning: ...`` / plain info lines, credentials in URLs masked."""

    def format(self, record: logging.LogRecord) -> str:
        message = mask_urls(record.getMessage())
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def setup_logging(*, verbose: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter())
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
