"""The requirements a server's code needs beyond its own to import on the host.

Each fix is a requirement the build adds (a warning and a rewrite say so) or, with
``[bundle] auto-fix = false``, a build error; :mod:`mcpbundle.plan.sdk_compat` and
:mod:`mcpbundle.plan.fastmcp_kwargs` hold the facts about the versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mcpbundle.base.errors import BuildError
from mcpbundle.config.settings import Config
from mcpbundle.plan.closure import Rewrite
from mcpbundle.plan.fastmcp_kwargs import CAPS, admits_below, allows_fastmcp
from mcpbundle.plan.sdk_compat import CodeFacts, mcp_cap_needed, noted_code_facts, old_fastmcp


@dataclass(frozen=True, kw_only=True)
class SdkFix:
    """The requirements the build adds for the MCP SDK or fastmcp the code needs, and why."""

    requirements: tuple[str, ...]
    rewrites: tuple[Rewrite, ...]
    warnings: tuple[str, ...]


def sdk_fix(
    config: Config,
    python_files: Iterable[tuple[Path, str]],
    requirements: Sequence[str],
    lock_pins: dict[str, str],
    *,
    python: str | None = None,
    source: str = "requirements",
) -> SdkFix:
    """What the bundle's requirements need for the code to import (``python``: the target
    whose grammar reads it; ``source``: where the requirements come from):

    - ``mcp<2`` when code imports ``mcp.server.fastmcp`` (gone in MCP SDK 2);
    - ``fastmcp<2.14`` (and ``mcp<2``) when code passes ``FastMCP(...)`` the
      ``dependencies=`` fastmcp 2.14 removed while the requirements allow it;
    - else ``fastmcp<3`` (and ``mcp<2``) when code passes ``FastMCP(...)`` an argument
      fastmcp 3 removed (``host=``, ``port=``) while the requirements allow fastmcp 3;
    - else ``fastmcp<4`` when code calls what fastmcp 4 removed (``import_server``,
      ``as_proxy``) while the requirements allow fastmcp 4;
    - else ``mcp<2`` when the requirements hold fastmcp below 3, which does not cap mcp.
    """
    by_path = dict(python_files)
    facts = noted_code_facts(by_path, python)  # every file read and parsed once for all
    fixes = [_v1_fix(config, by_path, facts, requirements, lock_pins)]
    for major in (2, 3, 4):  # fastmcp<2.14 covers what 3 and 4 removed too, <3 what 4 did
        removed = _removed_fix(config, by_path, facts, requirements, lock_pins, major)
        fixes.append(removed)
        if removed.requirements:
            break
    if not any(fix.requirements for fix in fixes):
        fixes.append(_old_fastmcp_fix(config, requirements, lock_pins, source))
    return SdkFix(
        requirements=tuple(dict.fromkeys(r for fix in fixes for r in fix.requirements)),
        rewrites=tuple(r for fix in fixes for r in fix.rewrites),
        warnings=tuple(w for fix in fixes for w in fix.warnings),
    )


_NONE = SdkFix(requirements=(), rewrites=(), warnings=())


def _added(
    config: Config,
    where: str,
    added: Sequence[str],
    *,
    problem: str,
    hint: str,
    lift: str,
) -> SdkFix:
    """``added`` for the code at ``where`` (a warning and a rewrite per requirement); with
    ``auto-fix = false``, a build error saying ``problem`` with ``hint``."""
    if not config.bundle.auto_fix:
        raise BuildError(problem, where=where, hint=hint)
    shown = " and ".join(repr(r) for r in added)
    return SdkFix(
        requirements=tuple(added),
        rewrites=tuple(Rewrite.addition(where, r) for r in added),
        warnings=(f"{where}: {problem}: added {shown}; {lift}",),
    )


def _v1_fix(
    config: Config,
    by_path: dict[Path, str],
    facts: Mapping[Path, CodeFacts],
    requirements: Sequence[str],
    lock_pins: dict[str, str],
) -> SdkFix:
    hits = [(path, line) for path, found in facts.items() for line in found[0]]
    if not hits or not mcp_cap_needed(list(requirements), lock_pins or None):
        return _NONE
    path, line = hits[0]
    return _added(
        config, f"{by_path[path]}:{line}", ["mcp<2"],
        problem="imports mcp.server.fastmcp, which MCP SDK 2 removed, while the requirements "
        "allow mcp>=2",
        hint="add 'mcp<2' to the requirements or migrate to mcp.server.mcpserver",
        lift="migrate to mcp.server.mcpserver to lift it",
    )  # fmt: skip


def _old_fastmcp_fix(
    config: Config, requirements: Sequence[str], lock_pins: dict[str, str], source: str
) -> SdkFix:
    held = old_fastmcp(requirements, lock_pins or None)
    if held is None:
        return _NONE
    return _added(
        config, source, ["mcp<2"],
        problem=f"{held} holds fastmcp below 3, which does not cap mcp, while the "
        "requirements allow mcp>=2, under which fastmcp 2 does not import",
        hint="add 'mcp<2' to the requirements, or allow fastmcp>=3",
        lift="allow fastmcp>=3 to lift it",
    )  # fmt: skip


def _removed_fix(
    config: Config,
    by_path: dict[Path, str],
    facts: Mapping[Path, CodeFacts],
    requirements: Sequence[str],
    lock_pins: dict[str, str],
    major: int,
) -> SdkFix:
    """``fastmcp<CAPS[major]`` for code that uses what that fastmcp removed: 2 (2.14), the
    constructor's ``dependencies=``; 3, the ``FastMCP(...)`` transport arguments (both
    plus the ``mcp<2`` fastmcp 2 needs, as it does not cap mcp itself); 4,
    ``import_server`` and ``as_proxy`` (fastmcp 3 caps mcp)."""
    if not allows_fastmcp(requirements, lock_pins or None, major):
        return _NONE
    hits = [
        (path, line, name)
        for path, found in facts.items()
        for line, name, gone in found[1]
        if gone == major
    ]
    if not hits:
        return _NONE
    path, line, name = hits[0]
    cap = f"fastmcp<{CAPS[major]}"
    if not admits_below(requirements, major):  # no fastmcp the requirements allow takes it
        gone = "argument" if major < 4 else "method"
        raise BuildError(
            f"{name} is gone from fastmcp {CAPS[major]} on, and the requirements allow no "
            f"earlier fastmcp, so the server raises on import",
            where=f"{by_path[path]}:{line}",
            hint=f"stop using the {gone} {name} (see fastmcp's upgrade notes), or allow {cap}",
        )
    added = [cap]
    if major <= 3 and old_fastmcp([*requirements, cap], lock_pins or None) is not None:
        added.append("mcp<2")
    if major == 2:
        problem = (
            f"FastMCP(..., {name}=...) is fastmcp 2.13's: fastmcp 2.14 removed the argument "
            "and raises TypeError, while the requirements allow fastmcp>=2.14"
        )
        instead = f"drop {name}= (the build reads it into the requirements)"
    elif major == 3:
        problem = (
            f"FastMCP(..., {name}=...) is fastmcp 2's: fastmcp 3 removed the argument and "
            "raises TypeError, while the requirements allow fastmcp>=3"
        )
        instead = f"pass {name} to mcp.run() instead"
    else:
        problem = f"{name} is gone in fastmcp 4, which the requirements allow"
        instead = "use mount() (or create_proxy()) instead"
    return _added(
        config, f"{by_path[path]}:{line}", added, problem=problem,
        hint=f"{instead}, or pin {cap}", lift=f"{instead} to lift it",
    )  # fmt: skip
