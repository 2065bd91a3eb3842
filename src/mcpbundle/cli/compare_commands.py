"""``mcpbundle diff`` and ``mcpbundle surface``: the MCP surface as a deploy artifact.

Registered on the main group by :mod:`mcpbundle.cli.app`; the work is done in
:mod:`mcpbundle.compare`. ``verify --drift`` is an option of ``verify`` (in ``app``); its work is
:func:`verify_drift`.
"""

from __future__ import annotations

import json

import click

from mcpbundle.base.errors import CheckFailed
from mcpbundle.base.redact import mask_urls
from mcpbundle.cli.completion import complete_servers
from mcpbundle.cli.options import (
    State,
    echo,
    json_option,
    plain,
    servers_argument,
    verbosity_options,
)

LEVELS = ("breaking", "compatible", "info")


@click.command()
@verbosity_options
@servers_argument
@click.option(
    "--against", metavar="REF", default=None,
    help="The bundle to compare with (default: the deploy branch tip; split branches too).",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown", "github"]),
    default="text", show_default=True, help="Output format.",
)  # fmt: skip
@click.option("--json", "json_alias", is_flag=True, help="Same as --format json.")
@click.option(
    "--fail-on", type=click.Choice(LEVELS), default=None, metavar="LEVEL",
    help="Exit 1 when a change at this level or above exists: breaking|compatible|info "
    "(default: never).",
)  # fmt: skip
@click.pass_obj
def diff(
    state: State,
    servers: tuple[str, ...],
    against: str | None,
    fmt: str,
    json_alias: bool,
    fail_on: str | None,
) -> None:
    """Compare the MCP surface of what build would ship with the bundle at REF."""
    fmt = "json" if json_alias else fmt
    from mcpbundle.compare.diff import run_diff
    from mcpbundle.compare.diff_report import format_diff, quiet_levels

    config = state.config()
    report = run_diff(config, servers, against)
    as_text = fmt == "text"  # -q filters and colour paints the text report alone
    levels = quiet_levels(state.quiet, fail_on) if as_text and state.quiet else None
    text = format_diff(report, fmt, paint=state.painter() if as_text else plain, levels=levels)
    if text:
        echo(text)
    if fail_on is not None:
        failing = report.at_or_above(fail_on)
        if failing:
            first, count = failing[0], len(failing)
            more = f" (and {count - 1} more)" if count > 1 else ""
            raise CheckFailed(
                f"{first[0]}: {first[1].describe()} ({first[1].level}){more}",
                where=f"diff --fail-on {fail_on}",
                hint="see every change above",
            )


@click.command()
@verbosity_options
@click.argument("server", shell_complete=complete_servers)
@json_option
@click.pass_obj
def surface(state: State, server: str, as_json: bool) -> None:
    """Print the MCP surface of SERVER as built: tools, resources, templates, prompts."""
    from mcpbundle.compare.surface_text import format_surface
    from mcpbundle.compare.surfaces import built_surface

    config = state.config()
    found = built_surface(config, server)
    if as_json:
        text = json.dumps({"server": server, "surface": found}, indent=2, sort_keys=True)
    else:
        text = format_surface(server, found)
    click.echo(mask_urls(text))


def verify_drift(state: State, branch: str | None, servers: tuple[str, ...], as_json: bool) -> None:
    """``verify --drift``: the deploy branch against a rebuild of its source commit."""
    from mcpbundle.compare.drift import first_problem, format_drift, run_drift

    report = run_drift(state.config(), branch, servers)
    if as_json:
        text = json.dumps(report.to_json(), indent=2)
    else:  # -q: only the drift that fails the command, no summary
        text = format_drift(report, paint=state.painter(), quiet=bool(state.quiet))
    if text:
        echo(text)
    if not report.ok:
        raise CheckFailed(
            f"the deploy differs from a rebuild of its source commit: {first_problem(report)}",
            where="verify --drift",
            hint="see every path above; rebuild the branch with `mcpbundle build --branch`",
        )
