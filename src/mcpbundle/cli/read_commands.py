"""The commands that read what the pipeline produced: ``check`` (the source or the built
output, statically) and ``verify`` (each built server loaded as the host does).

Registered on the main group by :mod:`mcpbundle.cli.app`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mcpbundle.base.errors import CheckFailed
from mcpbundle.cli.compare_commands import verify_drift
from mcpbundle.cli.help import Command
from mcpbundle.cli.options import (
    State,
    echo,
    json_option,
    parse_codes,
    servers_argument,
    verbosity_options,
)
from mcpbundle.config.validate import output_dir


@click.command(cls=Command)
@verbosity_options
@servers_argument
@click.option("--built", is_flag=True, help="Check the built output instead of the source.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--json", "json_alias", is_flag=True, help="Same as --format json.")
@click.option("--select", default="", metavar="CODES", help="Only these codes (comma-separated).")
@click.option("--ignore", default="", metavar="CODES", help="Skip these codes (comma-separated).")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output directory (--built).")
@click.pass_obj
def check(
    state: State,
    servers: tuple[str, ...],
    built: bool,
    fmt: str,
    json_alias: bool,
    select: str,
    ignore: str,
    output: Path | None,
) -> None:
    """Find the ways a deploy fails, statically (exit 1 on any error)."""
    from mcpbundle.check.engine import has_errors
    from mcpbundle.check.report import format_findings
    from mcpbundle.check.targets import PLAN_CACHE, check_findings

    config = state.config(defer_missing=not built)
    findings, checked = check_findings(
        config,
        servers=servers,
        built=built,
        output=output_dir(config, output),
        select=parse_codes(select) or None,
        ignore=parse_codes(ignore),
        plans=PLAN_CACHE,
    )
    fmt = "json" if json_alias else fmt
    colour = fmt == "text" and state.colour(sys.stdout)
    shown = findings
    if fmt == "text" and state.quiet:  # -q: errors and warnings, -qq: errors; no summary
        keep = ("error",) if state.quiet > 1 else ("error", "warning")
        shown = [f for f in findings if f.severity in keep]
    text = format_findings(
        shown,
        "json" if fmt == "json" else "github" if fmt == "github" else "text",
        servers=checked,
        colour=colour,
        summary=not state.quiet,
    )
    if text:
        echo(text)
    if has_errors(findings):
        raise CheckFailed("check found errors")


@click.command(cls=Command)
@verbosity_options
@servers_argument
@click.option("--http", is_flag=True, help="Also serve each server over HTTP and call it.")
@click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="KEY=value lines for the load step (never copied into the bundle).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output directory.")
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=None,
    help="Servers verified at once (default: the number of CPUs).",
)  # fmt: skip
@click.option(
    "--drift", is_flag=False, flag_value="", default=None, metavar="[BRANCH]",
    help="Rebuild the deploy branch's Source-Commit and report every path that differs.",
)  # fmt: skip
@json_option
@click.pass_obj
def verify(
    state: State,
    servers: tuple[str, ...],
    http: bool,
    env_file: Path | None,
    output: Path | None,
    jobs: int | None,
    drift: str | None,
    as_json: bool,
) -> None:
    """Install each built server in a fresh venv and load it as the host does."""
    if drift is not None:
        verify_drift(state, drift or None, servers, as_json)
        return
    from mcpbundle.verify.from_config import run_verify
    from mcpbundle.verify.report import ServerReport, format_server, format_summary
    from mcpbundle.verify.verifier import format_report

    config = state.config()
    painted = state.colour(sys.stdout)

    def show(text: str) -> None:
        if painted:
            from mcpbundle.cli.colour import paint_lines

            text = paint_lines(text)
        echo(text)

    def stream(server: ServerReport) -> None:
        if not (state.quiet and server.ok):  # -q: only the servers that failed
            show(format_server(server))

    report = run_verify(
        config,
        servers=servers,
        http=http,
        env_file=env_file,
        output=output,
        jobs=jobs,
        on_result=None if as_json else stream,
    )
    if as_json:
        echo(format_report(report, as_json))
    elif not state.quiet:
        show(format_summary(report))
    if not report.ok:
        raise CheckFailed("verify failed", hint="see the report above")
