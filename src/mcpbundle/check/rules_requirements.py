"""Requirements: PyPI-only (MCB003), ``mcp.server.fastmcp`` vs MCP SDK 2 (MCB005).

MCB005 decision: the runtime resolves the shipped requirements to the newest
versions they allow. ``mcp`` 2.x removed ``mcp.server.fastmcp``. When no shipped
file pins ``mcp`` below 2 the import is an error, *whether or not* ``fastmcp`` is
listed: current ``fastmcp`` releases themselves depend on ``mcp>=2``, so an
unpinned ``fastmcp`` pulls MCP SDK 2 in as well. The fix is ``from fastmcp
import FastMCP`` (or a ``mcp<2`` pin).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mcpbundle.check.context import CheckContext, ModuleInfo
from mcpbundle.check.model import CheckTarget, Finding, rule
from mcpbundle.check.reqfile import ReqEntry, parse_requirement_file

LEGACY_MODULE = "mcp.server.fastmcp"


def requirement_entries(
    target: CheckTarget, ctx: CheckContext
) -> Iterator[tuple[str, str, ReqEntry]]:
    """``(bundle path, display, entry)`` for every line of every shipped requirement file."""
    for bundle_path in sorted(target.requirement_files):
        source = target.requirement_files[bundle_path]
        text = ctx.text(source)
        if text is None:
            continue
        for entry in parse_requirement_file(bundle_path, text):
            yield bundle_path, source.display, entry


@rule("MCB003", "error", "a requirement that is not installable from PyPI")
def check_pypi_only(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    for _, display, entry in requirement_entries(target, ctx):
        if entry.problem is None:
            continue
        yield ctx.finding(
            "MCB003",
            file=display,
            line=entry.line,
            message=f"`{entry.text}` is {entry.problem}; the runtime installs from PyPI only",
            fix="publish the package to PyPI and pin it by name, or vendor the code into "
            "the server (declare it as a shared library)",
        )


def _allows_mcp2(spec: SpecifierSet) -> bool:
    candidates = {Version(v) for v in ("2.0.0", "2.0.1", "2.1.0", "2.5.0", "2.99.0", "3.0.0")}
    for item in spec:
        try:
            version = Version(item.version.removesuffix(".*"))
        except InvalidVersion:
            continue
        if version.major >= 2:
            candidates.add(version)
            candidates.add(Version(f"{version.major}.{version.minor}.{version.micro + 1}"))
    return any(spec.contains(v, prereleases=True) for v in candidates)


def _legacy_imports(ctx: CheckContext) -> Iterator[tuple[ModuleInfo, ast.AST]]:
    for info in ctx.modules():
        for node, _ in info.of(ast.Import, ast.ImportFrom):
            if isinstance(node, ast.Import):
                if any(
                    a.name == LEGACY_MODULE or a.name.startswith(LEGACY_MODULE + ".")
                    for a in node.names
                ):
                    yield info, node
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                module = node.module
                if (
                    module == LEGACY_MODULE
                    or module.startswith(LEGACY_MODULE + ".")
                    or (module == "mcp.server" and any(a.name == "fastmcp" for a in node.names))
                ):
                    yield info, node


@rule("MCB005", "error", "mcp.server.fastmcp imported while MCP SDK 2 is allowed")
def check_legacy_fastmcp(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    imports = list(_legacy_imports(ctx))
    if not imports:
        return
    spec = SpecifierSet()
    where: list[str] = []
    for _, display, entry in requirement_entries(target, ctx):
        req = entry.requirement
        if req is not None and canonicalize_name(req.name) == "mcp":
            spec &= req.specifier
            where.append(f"{display}:{entry.line}")
    if not _allows_mcp2(spec):
        return
    if where:
        why = f"the requirement mcp{spec or ''} ({', '.join(where)}) allows MCP SDK 2"
    else:
        why = "no shipped requirement pins mcp<2, so MCP SDK 2 gets installed"
    for info, node in imports:
        yield ctx.at(
            "MCB005",
            info,
            node,
            f"`{LEGACY_MODULE}` was removed in MCP SDK 2 and {why}",
            "import `from fastmcp import FastMCP` (add fastmcp to the requirements) or pin `mcp<2`",
        )
