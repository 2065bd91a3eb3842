"""How commands are listed and explained: the command classes every mcpbundle command uses.

* the top-level help lists commands in workflow order (:data:`WORKFLOW_ORDER`), each with
  its whole one-line description (click cuts them at 45 characters);
* every command's help lists its own options, then the global ones, and ends with one or
  two examples (:data:`EXAMPLES`, or ``examples=`` given to the command);
* :class:`Group` gives every command it holds the global options
  (:func:`mcpbundle.cli.options.global_params`), so they work on both sides of its name.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import click

from mcpbundle.cli.options import GlobalOption, global_params

WORKFLOW_ORDER = (
    "init", "validate", "list", "build", "check", "verify", "diff", "surface", "affected", "ci",
    "cache",
)  # fmt: skip

# By command path (``mcpbundle`` then the command names): one or two lines each.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "mcpbundle": ("mcpbundle build && mcpbundle check && mcpbundle verify",),
    "mcpbundle init": ("mcpbundle init", "mcpbundle init --dry-run"),
    "mcpbundle validate": ("mcpbundle validate", "mcpbundle validate -c services/mcpbundle.toml"),
    "mcpbundle list": ("mcpbundle list", "mcpbundle list --format json"),
    "mcpbundle build": (
        "mcpbundle build --dry-run ops",
        "mcpbundle build --branch deploy --push",
    ),
    "mcpbundle check": ("mcpbundle check", "mcpbundle check --built --format github"),
    "mcpbundle verify": ("mcpbundle verify ops", "mcpbundle verify --http --format json"),
    "mcpbundle diff": ("mcpbundle diff", "mcpbundle diff --against deploy --fail-on breaking"),
    "mcpbundle surface": ("mcpbundle surface ops", "mcpbundle surface ops --format json"),
    "mcpbundle affected": (
        "mcpbundle affected --since origin/main",
        "mcpbundle affected --since HEAD~1 --format json",
    ),
    "mcpbundle ci": ("mcpbundle ci github --write",),
    "mcpbundle ci github": ("mcpbundle ci github", "mcpbundle ci github --write --split"),
    "mcpbundle cache": ("mcpbundle cache info", "mcpbundle cache clear resolve"),
    "mcpbundle cache info": ("mcpbundle cache info", "mcpbundle cache info --format json"),
    "mcpbundle cache clear": ("mcpbundle cache clear", "mcpbundle cache clear venvs stamps"),
    "mcpbundle completion": (
        'eval "$(mcpbundle completion bash)"   # in ~/.bashrc',
        "mcpbundle completion fish > ~/.config/fish/completions/mcpbundle.fish",
    ),
}


def one_line(command: click.Command) -> str:
    """The command's whole first paragraph on one line (never cut)."""
    if command.short_help:
        return " ".join(command.short_help.split())
    text = inspect.cleandoc(command.help or "")
    return " ".join(text.split("\n\n", 1)[0].split())


class _Layout(click.Command):
    """Own options, then global options, then examples."""

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            if not isinstance(param, click.Option):  # arguments are in the usage line
                continue
            record = param.get_help_record(ctx)
            if record is not None:
                (shared if isinstance(param, GlobalOption) else own).append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if shared:
            with formatter.section("Global options"):
                formatter.write_dl(shared)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        examples = self.examples or EXAMPLES.get(ctx.command_path, ())
        if examples:
            with formatter.section("Examples"):
                for line in examples:
                    formatter.write_text(f"$ {line}")


class Command(_Layout):
    """Every mcpbundle command: ``@click.command(cls=Command)``."""


class Group(_Layout, click.Group):
    """The top-level group and ``ci`` / ``cache``: workflow order, global options everywhere."""

    command_class = Command
    group_class = type  # subgroups are Groups too

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if type(cmd) is click.Command:  # made with plain @click.command: give it this layout
            cmd.__class__ = Command
            cmd.examples = ()  # type: ignore[attr-defined]
        if not any(isinstance(p, GlobalOption) for p in cmd.params):
            cmd.params.extend(global_params())
        super().add_command(cmd, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: index for index, name in enumerate(WORKFLOW_ORDER)}
        return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _Layout.format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, one_line(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
