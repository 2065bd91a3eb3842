"""The host needs ``fastmcp``, and code written for the v1 MCP SDK needs ``mcp<2``.

Facts checked against the real package metadata (``importlib.metadata.requires``
in this venv, and ``uv pip compile`` against PyPI):

* fastmcp 4.1.2 requires ``fastmcp-slim[client,server]==4.1.2``, which requires
  ``mcp>=2.2.0,<3.0.0``; fastmcp 4.0.x / 4.1.1 resolve with mcp 2.0 and 2.1. So
  fastmcp 4 goes with mcp 2.
* fastmcp 3.0 .. 3.4.11 require ``mcp>=1.24.0,<2.0``.
* older mcp 1.x (below 1.24) resolves only with fastmcp 2.x (e.g. mcp 1.9.0 with
  fastmcp 2.5.2).
* mcp 2.x replaced ``mcp.server.fastmcp`` with a stub that raises
  ``ModuleNotFoundError`` ("FastMCP was renamed to MCPServer ... or pin 'mcp<2'").
* fastmcp 2.x was published before MCP SDK 2 and does not cap mcp (2.10.6 requires
  ``mcp>=1.12``): a resolver picks mcp 2, under which fastmcp 2 does not import
  (``No module named 'pydantic_settings'``, the mcp 1 dependency it relied on).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.derived_reads import FACTS, note
from mcpbundle.plan.fastmcp_kwargs import MARKERS, removed_uses_in
from mcpbundle.plan.parsed_requirement import parsed
from mcpbundle.plan.python_parse import TargetUnavailable, parse_module

V1_MODULE = "mcp.server.fastmcp"
MCP_CAP = "mcp<2"
_MCP2 = Version("2")
_FASTMCP3_MIN_MCP = Version("1.24")
_FASTMCP3 = Version("3.0.0.dev0")
# Versions that stand for "fastmcp 3 or later" (which bound mcp themselves).
_FASTMCP3_PROBES = tuple(Version(v) for v in ("3.0.0", "3.1.0", "3.5.0", "4.0.0", "4.1.2", "99"))
# Versions that stand for "mcp 2 or later" when testing whether a specifier allows it.
_MCP2_PROBES = tuple(
    Version(v) for v in ("2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.5.0", "2.10.0", "2.99", "3.0", "99")
)


def imports_mcp_server_fastmcp(
    files: Iterable[Path], python: str | None = None
) -> list[tuple[Path, int]]:
    """``(file, line)`` of every import of ``mcp.server.fastmcp`` (the v1 SDK's FastMCP).

    Covers ``import mcp.server.fastmcp[.x]``, ``from mcp.server.fastmcp[.x] import ...``
    and ``from mcp.server import fastmcp``, read with the grammar of the target
    ``python``. Files that do not parse are skipped (other checks report syntax
    errors), as are files whose target grammar is unavailable. Each file's answer is
    noted as a fact (:mod:`mcpbundle.plan.derived_reads`): the plan depends on it, not
    on the file's bytes.
    """
    return [
        (path, line) for path, facts in noted_code_facts(files, python).items() for line in facts[0]
    ]


CodeFacts = tuple[tuple[int, ...], tuple[tuple[int, str, int], ...]]


def noted_code_facts(files: Iterable[Path], python: str | None = None) -> dict[Path, CodeFacts]:
    """:func:`code_facts` of each file, each noted as one fact of the plan (two facts of
    one file would make the plan depend on its bytes): every file is read once."""
    found: dict[Path, CodeFacts] = {}
    for path in files:
        found[path] = facts = code_facts(str(path), python)
        note(os.path.abspath(path), (CODE_FACTS, python or ""), facts)
    return found


def code_facts(path: str, python: str | None = None) -> CodeFacts:
    """``(lines importing mcp.server.fastmcp, uses of what fastmcp 3/4 removed)`` of
    ``path``; nothing when it does not parse, cannot be read or its grammar is
    unavailable. The file is opened once."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        v1 = b"fastmcp" in data
        removed = any(word in data for word in MARKERS)
        if not v1 and not removed:
            return (), ()  # cheap test first: parsing every vendored file is the slow part
        tree = parse_module(data, path, python or None)
    except (SyntaxError, ValueError, OSError, TargetUnavailable):
        return (), ()
    lines = {
        node.lineno
        for node in walk(tree)
        if v1 and isinstance(node, ast.Import | ast.ImportFrom) and _imports_v1(node)
    }
    return tuple(sorted(lines)), removed_uses_in(tree) if removed else ()


CODE_FACTS = "mcp.server.fastmcp imports and what fastmcp 3/4 removed"
FACTS[CODE_FACTS] = code_facts


def _imports_v1(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.Import):
        return any(_is_v1(alias.name) for alias in node.names)
    if node.level or not node.module:
        return False
    if _is_v1(node.module):
        return True
    return node.module == "mcp.server" and any(a.name == "fastmcp" for a in node.names)


def _is_v1(module: str) -> bool:
    return module == V1_MODULE or module.startswith(V1_MODULE + ".")


def fastmcp_addition(pins: Mapping[str, str]) -> str | None:
    """The ``fastmcp`` requirement to add when resolved ``pins`` lack it, else None.

    ``pins`` maps canonical names to resolved versions. mcp >= 2: ``fastmcp>=4``;
    1.24 <= mcp < 2: ``fastmcp>=3,<4``; older mcp: ``fastmcp<3``; no mcp (or an
    unparsable version): ``fastmcp``, the resolver picks a matching one.
    """
    canonical = _canonical(pins)
    if "fastmcp" in canonical:
        return None
    mcp = _version(canonical.get("mcp"))
    if mcp is None:
        return "fastmcp"
    if mcp >= _MCP2:
        return "fastmcp>=4"
    if mcp >= _FASTMCP3_MIN_MCP:
        return "fastmcp>=3,<4"
    return "fastmcp<3"


def mcp_cap_needed(requirements: Sequence[str], lock_pins: Mapping[str, str] | None) -> bool:
    """Whether to add ``mcp<2`` for a server that imports ``mcp.server.fastmcp``.

    Call it only for such servers (:func:`imports_mcp_server_fastmcp` found a
    line). True when the requirements allow some mcp >= 2 (an ``mcp`` requirement
    that admits it, or none at all, since fastmcp/other deps then pull the newest)
    unless the lock pins mcp below 2. Unparsable lines are ignored.
    """
    if lock_pins is not None:
        locked = _version(_canonical(lock_pins).get("mcp"))
        if locked is not None and locked < _MCP2:
            return False
    for text in requirements:
        try:
            req = parsed(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) != "mcp" or req.url:
            continue
        if not any(req.specifier.contains(v, prereleases=False) for v in _MCP2_PROBES):
            return False
    return True


def _canonical(pins: Mapping[str, str]) -> dict[str, str]:
    return {str(canonicalize_name(name)): version for name, version in pins.items()}


def _version(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def old_fastmcp(requirements: Sequence[str], lock_pins: Mapping[str, str] | None) -> str | None:
    """The ``fastmcp`` requirement that holds fastmcp below 3 while mcp 2 is allowed (the
    bundle then needs ``mcp<2``), else None.

    None as well when the lock pins mcp below 2 (its preference keeps it), or when an
    ``mcp`` requirement already admits no mcp 2, or asks only for mcp 2 (the user's call)."""
    if lock_pins is not None:
        locked = _version(_canonical(lock_pins).get("mcp"))
        if locked is not None and locked < _MCP2:
            return None
    found: str | None = None
    for text in requirements:
        try:
            req = parsed(text)
        except InvalidRequirement:
            continue
        name = canonicalize_name(req.name)
        if name == "mcp" and not req.url and str(req.specifier):
            return None  # capped below 2 already, or mcp 2 asked for on purpose
        if name != "fastmcp" or req.url or not str(req.specifier):
            continue
        probes = (*_FASTMCP3_PROBES, *_named_versions(req, at_least=_FASTMCP3))
        if not any(req.specifier.contains(v, prereleases=True) for v in probes):
            found = str(req)
    return found


def _named_versions(req: Requirement, *, at_least: Version) -> list[Version]:
    """The versions ``req``'s specifier names, from ``at_least`` on: the fixed probes miss
    a pin to a pre-release (``==4.0.0b2``) or a range between them."""
    named = []
    for spec in req.specifier:
        try:
            version = Version(spec.version.removesuffix(".*"))
        except InvalidVersion:
            continue
        if version >= at_least:
            named.append(version)
    return named
