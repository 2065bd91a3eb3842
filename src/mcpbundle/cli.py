"""The command line: parse, call, print. The one place errors become exit codes."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from mcpbundle import __version__
from mcpbundle.build import BuildOptions, build, plan_build
from mcpbundle.config import Config, load_config
from mcpbundle.errors import MCPBundleError
from mcpbundle.pinning import make_pinner
from mcpbundle.report import build_report, format_build_report, format_list, list_document
from mcpbundle.sourcestate import current_source

log = logging.getLogger("mcpbundle")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    config_path: Path | None = None
    debug: bool = False

    def config(self) -> Config:
        return load_config(Path.cwd(), self.config_path)


# ----------------------------------------------------------------- reusable options


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(func)


def servers_argument(func: F) -> F:
    return click.argument("servers", nargs=-1, metavar="[SERVER]...")(func)


def strict_option(func: F) -> F:
    return click.option(
        "--strict", is_flag=True, help="Treat warnings (undeclared shared code) as errors."
    )(func)


# ----------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mcpbundle")
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="mcpbundle.toml to use (default: found in this directory or a parent).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every command run (+ cmd).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, verbose: bool, quiet: bool, debug: bool
) -> None:
    """Turn a monorepo of FastMCP servers into deploy-ready bundles."""
    _setup_logging(verbose=verbose or debug, quiet=quiet)
    ctx.obj = State(config_path=config_path, debug=debug)


@cli.command()
@servers_argument
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output directory.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@strict_option
@click.option("--upgrade", "-U", is_flag=True, help="Ignore previous pins; take newest versions.")
@click.option(
    "--upgrade-package", "-P", "upgrade_packages", multiple=True, metavar="NAME",
    help="Upgrade only this package (repeatable).",
)  # fmt: skip
@json_option
@click.pass_obj
def build_cmd(
    state: State,
    servers: tuple[str, ...],
    output: Path | None,
    dry_run: bool,
    strict: bool,
    upgrade: bool,
    upgrade_packages: tuple[str, ...],
    as_json: bool,
) -> None:
    """Vendor shared code, pin requirements and write the deploy-ready output."""
    config = state.config()
    options = BuildOptions(servers=servers, output=output, strict=strict, dry_run=dry_run)
    pinner = make_pinner(config, upgrade=upgrade, upgrade_packages=upgrade_packages)
    result = build(config, options, source=current_source(config.root), pin=pinner)
    _warn_all(result.plan.warnings)
    report = build_report(config, result)
    _emit(report, as_json, format_build_report)


build_cmd.name = "build"


@cli.command()
@strict_option
@click.pass_obj
def validate(state: State, strict: bool) -> None:
    """Check mcpbundle.toml and what it points at; build nothing."""
    config = state.config()
    plan = plan_build(config, BuildOptions(strict=strict, dry_run=True))
    _warn_all(plan.warnings)
    click.echo(
        f"{config.display}: ok ({len(config.servers)} servers, {len(config.shared)} shared libs)"
    )


@cli.command(name="list")
@json_option
@click.pass_obj
def list_cmd(state: State, as_json: bool) -> None:
    """Servers and shared libraries with their paths, entrypoints and closures."""
    config = state.config()
    plan = plan_build(config, BuildOptions(dry_run=True))
    _emit(list_document(config, plan), as_json, format_list)


# ------------------------------------------------------------------------ plumbing


def _emit(
    document: dict[str, Any], as_json: bool, formatter: Callable[[dict[str, Any]], str]
) -> None:
    if as_json:
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    else:
        click.echo(formatter(document))


def _warn_all(warnings: tuple[str, ...] | list[str]) -> None:
    for warning in warnings:
        log.warning("%s", warning)


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def _setup_logging(*, verbose: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map errors to exit codes (0 ok, 1 failed, 2 bad input)."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="mcpbundle", standalone_mode=False)
    except MCPBundleError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # an mcpbundle bug: say so in one line
        if debug:
            traceback.print_exc()
        click.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (run with --debug to see more)",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)
