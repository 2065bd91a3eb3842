"""``mcpbundle completion bash|zsh|fish``: the shell completion script, and what completes.

The script is click's own: the shell runs ``mcpbundle`` with ``_MCPBUNDLE_COMPLETE`` set
and the words typed so far, and click answers from the command tree. Server names come
from the config's ``[servers]`` tables (read, not validated, so a half-written config
still completes); ``cache clear`` completes the cache kinds.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem, get_completion_class

from mcpbundle.cli.help import Command
from mcpbundle.cli.options import State

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_MCPBUNDLE_COMPLETE"
CACHE_KINDS = ("resolve", "git", "venvs", "stamps", "plans", "scans", "installed", "interpreters")


def _matching(names: list[str], incomplete: str, taken: object) -> list[CompletionItem]:
    used = set(taken) if isinstance(taken, tuple | list) else set()
    return [CompletionItem(n) for n in names if n.startswith(incomplete) and n not in used]


def complete_servers(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The server names of the config ``-c`` names or the one found from here."""
    from mcpbundle.base.errors import MCPBundleError
    from mcpbundle.config.read import find_config, read_toml

    state = ctx.find_object(State)
    try:
        path = find_config(Path.cwd(), state.config_path if state else None)
        servers = read_toml(path).get("servers", {})
    except (MCPBundleError, OSError):
        return []
    names = sorted(servers) if isinstance(servers, dict) else []
    return _matching(names, incomplete, ctx.params.get(param.name or ""))


def complete_cache_kinds(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return _matching(list(CACHE_KINDS), incomplete, ctx.params.get(param.name or ""))


@click.command(cls=Command)
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish."""
    complete = get_completion_class(shell)
    assert complete is not None  # one of SHELLS
    click.echo(complete(ctx.find_root().command, {}, "mcpbundle", COMPLETE_VAR).source())
