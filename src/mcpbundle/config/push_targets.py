"""Where ``build --branch`` pushes: ``--push``, ``--push-to`` and the ``push-to`` keys.

Pure: no git runs here. A target is ``URL_OR_REMOTE:BRANCH`` and may hold a
``{server}`` placeholder (``git@github.com:acme/{server}-deploy.git:main``).

* ``--push-to`` on the command line replaces ``[bundle.deploy] push-to``;
  ``[servers.x] push-to`` overrides either for server x.
* A ``{server}`` placeholder or any ``[servers.x] push-to`` makes the build
  *split* (as ``--split``): one branch ``<branch>/<server>`` per server, each
  pushed to its own target.
* Targets are pushed only by a build that pushes (``--push`` or ``--push-to``).
  ``--push REMOTE`` pushes the local branch(es) to REMOTE as well; a bare
  ``--push`` pushes to ``origin`` only what has no configured target.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mcpbundle.base.errors import UsageError

PLACEHOLDER = "{server}"
DEFAULT_REMOTE = "origin"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Targets:
    """Where one deploy branch goes: ``remote`` under its own name, and/or ``push_to``."""

    remote: str | None = None
    push_to: str | None = None  # URL_OR_REMOTE:BRANCH, placeholder filled in

    @property
    def any(self) -> bool:
        return self.remote is not None or self.push_to is not None


def split_target(target: str, *, where: str = "--push-to") -> tuple[str, str]:
    """``URL_OR_REMOTE:BRANCH`` split on the last colon that is not ``scheme://``'s."""
    cut = target.rfind(":")
    scheme = _SCHEME.match(target)
    after_scheme = scheme.end() if scheme else 0
    url, branch = (target[:cut], target[cut + 1 :]) if cut >= after_scheme else ("", "")
    port_colon = scheme is not None and "/" not in url[after_scheme:]
    scp_colon = scheme is None and "@" in url and "/" not in url and ":" not in url
    if not url or not branch or port_colon or scp_colon:
        raise UsageError(
            f"'{target}' does not name a branch",
            where=where,
            hint="use URL_OR_REMOTE:BRANCH, e.g. origin:main or git@host:org/repo.git:main",
        )
    return url, branch


def target_problem(target: str) -> str | None:
    """Why ``target`` (placeholder allowed) cannot be a push-to value; None when it can."""
    if "\n" in target or "\0" in target:
        return "contains a line break or NUL"
    if "{" in target.replace(PLACEHOLDER, "") or "}" in target.replace(PLACEHOLDER, ""):
        return "has a '{...}' other than {server}"
    try:
        split_target(target.replace(PLACEHOLDER, "server"))
    except UsageError:
        return "does not name a branch (URL_OR_REMOTE:BRANCH, e.g. origin:main)"
    return None


def fill(target: str, server: str) -> str:
    return target.replace(PLACEHOLDER, server)


def is_split(
    split_flag: bool, cli_push_to: str | None, config_push_to: str | None,
    per_server: Mapping[str, str | None],
) -> bool:  # fmt: skip
    """Whether the build commits one branch per server (see the module docstring)."""
    overall = cli_push_to if cli_push_to is not None else config_push_to
    return (
        split_flag
        or (overall is not None and PLACEHOLDER in overall)
        or any(value is not None for value in per_server.values())
    )


def targets_for(
    *,
    pushing: bool,
    push_remote: str | None,
    cli_push_to: str | None,
    config_push_to: str | None,
    own: str | None = None,
    server: str | None = None,
) -> Targets:
    """The targets of one branch: the whole deploy (``server`` None) or one server's.

    ``push_remote``: ``--push``'s REMOTE ("" for a bare ``--push``, None without it);
    ``own``: the server's ``[servers.x] push-to``."""
    if not pushing:
        return Targets()
    overall = cli_push_to if cli_push_to is not None else config_push_to
    chosen = own if own is not None else overall
    push_to = fill(chosen, server) if chosen is not None and server is not None else chosen
    configured = own if own is not None else config_push_to
    remote = push_remote or None
    if push_remote == "" and (cli_push_to is not None or configured is None):
        remote = DEFAULT_REMOTE  # a bare --push: origin, unless the config names a target
    return Targets(remote=remote, push_to=push_to)


def check_distinct(targets: Mapping[str, Targets]) -> None:
    """Two servers of a split build must not push to the same repository branch."""
    seen: dict[tuple[str, str], str] = {}
    for name, target in sorted(targets.items()):
        if target.push_to is None:
            continue
        key = split_target(target.push_to)
        if key in seen:
            raise UsageError(
                f"servers '{seen[key]}' and '{name}' would both push to '{target.push_to}'",
                where="--push-to",
                hint="put {server} in the target, or give each server its own "
                "[servers.NAME] push-to",
            )
        seen[key] = name


def describe(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"
