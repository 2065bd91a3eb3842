"""Requirements: PyPI-only (MCB003), ``mcp.server.fastmcp`` vs MCP SDK 2 (MCB005).

MCB005 decision: the runtime resolves the shipped requirements to the newest
versions they allow. ``mcp`` 2.x removed ``mcp.server.fastmcp``. When no shipped
file pins ``mcp`` below 2 the import is an error, *whether or not* ``fastmcp`` is
listed: current ``fastmcp`` releases themselves depend on ``mcp>=2``, so an
unpinned ``fastmcp`` pulls MCP SDK 2 in as well. The fix is ``from fastmcp
import FastMCP`` (or a ``mcp<2`` pin).

The ``fastmcp`` the build adds to pins that lack it (``[bundle] add-fastmcp``) is an
MCB005 too: a warning naming the fix, an error with ``auto-fix = false`` (the build
fails). Which targets lack it is decided where they are built (``fastmcp_fix``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mcpbundle.base.redact import mask_urls
from mcpbundle.check.context import CheckContext, ModuleInfo
from mcpbundle.check.model import CheckTarget, Finding, Severity, SourceFile
from mcpbundle.check.registry import rule
from mcpbundle.check.reqfile import ReqEntry, location, parse_requirement_file

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
    for bundle_path, display, entry in requirement_entries(target, ctx):
        if entry.problem is None:
            continue
        handled = None
        if target.raw_requirements:
            handled = _handled_by_build(target, target.requirement_files[bundle_path], entry)
        yield ctx.finding(
            "MCB003",
            file=display,
            line=entry.line,
            message=f"`{entry.text}` is {entry.problem}; the runtime installs from PyPI only"
            + (f"; the build {handled} (it did not get that far here)" if handled else ""),
            fix="publish the package to PyPI and pin it by name, or vendor the code into "
            "the server (declare it as a shared library)",
            severity="info" if handled else None,
        )
    yield from _unfetched(target, ctx)


_UNFETCHED = re.compile(r"^(?P<origin>.+?): (?P<url>\S+) \((?P<policy>[a-z]+), not fetched\)$")
_ORIGIN = re.compile(r"^(?P<file>.+?):(?P<line>\d+)$")


def _unfetched(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    """One info per git requirement the offline plan did not fetch: check never needs the
    network, so what the requirement ships and requires is only guessed from its name."""
    for entry in target.unfetched:
        match = _UNFETCHED.match(entry)
        if match is None:
            continue
        where = _ORIGIN.match(match.group("origin"))
        file, line = (where.group("file"), int(where.group("line"))) if where else (entry, 1)
        url, policy = mask_urls(match.group("url")), match.group("policy")
        yield ctx.finding(
            "MCB003",
            file=file,
            line=line,
            message=f'git requirement {url} (`git = "{policy}"`): check did not fetch it, so '
            "it did not resolve what it ships or requires (its imports are guessed from its name)",
            fix="run `mcpbundle build` (it fetches it), then `mcpbundle check --built`",
            severity="info",
        )


def _handled_by_build(target: CheckTarget, source: SourceFile, entry: ReqEntry) -> str | None:
    """What ``build`` does with a non-PyPI line of a server's own requirements, if anything."""
    if entry.problem == "a VCS URL":
        return "vendors or pins git requirements (`[bundle] git`)"
    where = location(entry.text)
    if where is None:
        return None
    try:
        resolved = str((source.path.parent / where).resolve())
    except (OSError, ValueError):
        return None
    return target.local_dirs.get(resolved)


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


@rule("MCB005", "error", "mcp.server.fastmcp while MCP SDK 2 is allowed; fastmcp the build adds")
def check_legacy_fastmcp(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    yield from _added_fastmcp(target, ctx)
    imports = list(_legacy_imports(ctx))
    if not imports:
        return
    if target.sdk_fix is not None:
        yield from _auto_fixed(target, ctx, imports)
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
    locked = _locked_below_2(target)
    if locked is not None:
        yield from _lock_holds(ctx, imports, spec, locked)
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


def _locked_below_2(target: CheckTarget) -> str | None:
    """The mcp version below 2 the target's lock file makes the bundle ship, if any."""
    pinned = target.lock_pins.get("mcp")
    try:
        return pinned if pinned is not None and Version(pinned).major < 2 else None
    except InvalidVersion:
        return None


def _lock_holds(
    ctx: CheckContext,
    imports: list[tuple[ModuleInfo, ast.AST]],
    spec: SpecifierSet,
    version: str,
) -> Iterator[Finding]:
    lock = ctx.target.lock or "the lock file"
    for info, node in imports:
        yield ctx.at(
            "MCB005",
            info,
            node,
            f"`{LEGACY_MODULE}` was removed in MCP SDK 2 and the requirements (mcp{spec or ''}) "
            f"allow it; the bundle ships mcp=={version} only because {lock} pins it, so "
            "updating the lock breaks the import",
            "import `from fastmcp import FastMCP` (add fastmcp to the requirements), or pin "
            "`mcp<2` in the server's own requirements",
            severity="warning",
        )


def _auto_fixed(
    target: CheckTarget, ctx: CheckContext, imports: list[tuple[ModuleInfo, ast.AST]]
) -> Iterator[Finding]:
    if target.auto_fix:
        what = "the bundle adds `mcp<2` to its requirements.txt so it loads (auto-fix)"
        severity: Severity = "warning"
    else:
        what = "`[bundle] auto-fix = false`, so `build` fails instead of adding `mcp<2`"
        severity = "error"
    for info, node in imports:
        yield ctx.at(
            "MCB005",
            info,
            node,
            f"`{LEGACY_MODULE}` was removed in MCP SDK 2 and the server's requirements allow "
            f"mcp>=2; {what}",
            "import `from fastmcp import FastMCP` (add fastmcp to the requirements), or pin "
            "`mcp<2` in the server's own requirements",
            severity=severity,
        )


def _added_fastmcp(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    """The ``fastmcp`` the build adds when the pins lack it (``[bundle] add-fastmcp``): a
    warning naming the fix; an error with ``auto-fix = false``, where the build fails."""
    added = target.fastmcp_fix
    if added is None:
        return
    entry = target.files.get(target.entrypoint)
    where = target.fastmcp_at or (entry.display if entry is not None else target.entrypoint)
    # no requirements file: one has to be written, not a line added to the entry file
    into = (
        where
        if target.fastmcp_at is not None
        else "a requirements.txt you create in the server's directory"
    )
    lacks = "the server's requirements lack fastmcp, which the host needs to run it"
    if target.unseen:
        lacks += f" (unless {', '.join(target.unseen)} requires it: check cannot see into it)"
    if target.auto_fix:
        what = f"the bundle adds {added} to its requirements.txt (auto-fix, `[bundle] add-fastmcp`)"
        severity: Severity = "warning"
        fix = f"add fastmcp to {into}"
    else:
        what = "`[bundle] auto-fix = false`, so `build` fails instead of adding it"
        severity = "error"
        fix = f"add fastmcp to {into}, or set [bundle] add-fastmcp = false"
    yield ctx.finding(
        "MCB005", file=where, line=1, message=f"{lacks}; {what}", fix=fix, severity=severity
    )
