"""Commands around the build: ``init``, ``affected``, ``ci github`` and ``cache``.

Registered on the main group by :mod:`mcpbundle.cli.app`; :mod:`mcpbundle.cli.entry`
maps their errors to exit codes like every other command's.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from mcpbundle.base.errors import MCPBundleError
from mcpbundle.cli.ci_template import WORKFLOW_PATH, github_workflow
from mcpbundle.cli.completion import complete_cache_kinds
from mcpbundle.cli.help import Command, Group
from mcpbundle.cli.options import (
    State,
    current_state,
    json_option,
    log,
    verbosity_options,
    warn_all,
)


@click.command(cls=Command)
@verbosity_options
@click.option("--since", required=True, metavar="REF", help="Compare REF..HEAD and the work tree.")
@json_option
@click.pass_obj
def affected(state: State, since: str, as_json: bool) -> None:
    """Servers whose bundle may change since REF (for CI matrices)."""
    from mcpbundle.affected import affected as find_affected
    from mcpbundle.affected import affected_scopes
    from mcpbundle.affected import to_json as affected_json

    config = state.config()
    repo, scopes = affected_scopes(config)
    result = find_affected(repo_root=repo, since=since, config_path=config.path, scopes=scopes)
    if result.reason_all:
        log.warning("%s", result.reason_all)
    document = affected_json(result, scopes)
    if as_json:
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    else:
        click.echo("\n".join(document["servers"]) if document["servers"] else "no server affected")


@click.group(cls=Group)
def ci() -> None:
    """CI workflow templates."""


@ci.command()
@verbosity_options
@click.option("--write", is_flag=True, help=f"Write it to {WORKFLOW_PATH} in the repository.")
@click.option("--force", is_flag=True, help="With --write: overwrite a hand-edited workflow.")
@click.option("--python", default=None, help="Python for the jobs ([ci] python).")
@click.option(
    "--install", default=None, metavar="REQUIREMENT",
    help="What the jobs pip install ([ci] install; default: this mcpbundle's version).",
)  # fmt: skip
@click.option("--split", is_flag=True, help="Deploy one branch per server (build --split).")
@click.pass_obj
def github(
    state: State, write: bool, force: bool, python: str | None, install: str | None, split: bool
) -> None:
    """Print the GitHub Actions workflow: verify pull requests, deploy the default branch."""
    from mcpbundle.cli.ci_workflow import settings_for, workflow_root
    from mcpbundle.cli.workflow_file import EditedByHand, stamped, write_workflow
    from mcpbundle.config.read import find_config

    config = None
    try:
        find_config(Path.cwd(), state.config_path)
    except MCPBundleError:
        if write:
            raise  # the file goes to the repository the config is in
    else:
        config = state.config()  # a config that is there must be valid
    settings = settings_for(config, python=python, install=install, split=split)
    text = github_workflow(settings)
    if not write:
        click.echo(stamped(text), nl=False)
        return
    assert config is not None
    target = workflow_root(config) / WORKFLOW_PATH
    try:
        result = write_workflow(target, text, force=force, display=WORKFLOW_PATH)
    except EditedByHand as exc:
        click.echo(exc.diff, nl=False)
        raise
    if state.quiet:
        return
    if result.diff:
        click.echo(result.diff, nl=False)
    click.echo(f"wrote {WORKFLOW_PATH}" if result.written else f"{WORKFLOW_PATH} is up to date")


@click.group(cls=Group)
def cache() -> None:
    """mcpbundle's cache (resolutions, git checkouts, verify venvs, no-op stamps, plans, clean
    scans, installed metadata)."""


@cache.command(name="info")
@verbosity_options
@json_option
def cache_info_cmd(as_json: bool) -> None:
    """Where the cache is and how much it holds."""
    from mcpbundle.resolve.cache import cache_info

    info = cache_info()
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    click.echo(f"{info['path']}: {info['entries']} entries, {info['bytes']} bytes")
    for kind, part in sorted(info["kinds"].items()):
        click.echo(f"  {kind:<8} {part['entries']} entries, {part['bytes']} bytes")


@cache.command(name="clear")
@verbosity_options
@click.argument(
    "kinds",
    nargs=-1,
    metavar="[resolve|git|venvs|stamps|plans|scans|installed]...",
    shell_complete=complete_cache_kinds,
)
def cache_clear_cmd(kinds: tuple[str, ...]) -> None:
    """Remove cached entries (all kinds by default)."""
    from mcpbundle.resolve.cache import cache_clear

    removed = cache_clear(kinds) if kinds else cache_clear()
    if not current_state().quiet:
        click.echo(f"removed {removed} cache entries")


@click.command(cls=Command)
@verbosity_options
@click.option("--dry-run", is_flag=True, help="Print the config instead of writing it.")
@click.option("--force", is_flag=True, help="Overwrite an existing config.")
@click.option("--pyproject", is_flag=True, help="Write it as [tool.mcpbundle] in pyproject.toml.")
@click.pass_obj
def init(state: State, dry_run: bool, force: bool, pyproject: bool) -> None:
    """Write mcpbundle.toml for this repository, read statically (nothing is imported)."""
    from mcpbundle.init.writer import format_summary, init_target, run_init

    target, as_pyproject = init_target(Path.cwd(), state.config_path, pyproject=pyproject)
    result = run_init(target, dry_run=dry_run, force=force, pyproject=as_pyproject)
    warn_all(result.warnings)
    if dry_run:
        click.echo(result.text, nl=False)
    if not state.quiet:  # a report: -q prints warnings and errors only
        click.echo(format_summary(result, dry_run=dry_run), err=dry_run)
