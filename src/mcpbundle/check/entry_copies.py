"""Modules that import the entrypoint by its own name, so it runs twice (part of MCB014).

fastmcp loads the entrypoint file under another module name (``server_module``), so a
module it imports that does ``from server import mcp`` (the tutorial pattern: the tools
in ``tools.py``, imported at the bottom of ``server.py``) imports ``server.py`` a second
time, as ``server``. That copy makes a second server object, and what ``tools.py``
registers goes to it, not to the one the host serves: the server loads without those
tools, locally under ``fastmcp run server.py`` as on the host.

Only what runs while the entrypoint loads counts: the modules its import-time imports
reach (by name, from the entrypoint's folder, the first ``sys.path`` entry). A bundle
with an entry shim is left alone: the shim imports the entrypoint by its own name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from mcpbundle.check.context import CheckContext, ModuleInfo
from mcpbundle.check.model import CheckTarget


def entry_reimports(
    target: CheckTarget, ctx: CheckContext
) -> Iterator[tuple[ModuleInfo, ast.stmt, str]]:
    """``(module, import statement, entry module name)`` for each import of the entrypoint
    by name that runs while the entrypoint loads."""
    if target.shim is not None or not target.sys_path:
        return
    base = target.sys_path[0].strip("/")
    prefix = "" if base in ("", ".") else base + "/"
    entry = target.entrypoint
    if not entry.startswith(prefix) or not entry.endswith(".py"):
        return
    name = _dotted(entry[len(prefix) :])
    if name is None or "." in name:
        return  # a module inside a package: importing it by name is another question
    by_name = {
        dotted: path
        for path in ctx.python_paths()
        if path.startswith(prefix) and (dotted := _dotted(path[len(prefix) :])) is not None
    }
    seen: set[str] = set()
    pending = [entry]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        info = ctx.module(path)
        if info is None or info.tree is None:
            continue
        package = _package_of(path[len(prefix) :])
        for node, scope in info.of(ast.Import, ast.ImportFrom):
            if not scope.import_time or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            modules = _imported(node, package)
            if name in modules:
                yield info, node, name
            pending.extend(by_name[m] for m in modules if m in by_name and m != name)


def _dotted(rel: str) -> str | None:
    """``tools.py`` -> ``tools``, ``pkg/__init__.py`` -> ``pkg``; None for no module name."""
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def _package_of(rel: str) -> str:
    """The package a module's relative imports start from."""
    parts = rel.removesuffix(".py").split("/")
    return ".".join(parts[:-1])


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> set[str]:
    """The dotted modules an import statement may load (every parent package included)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            parts = package.split(".") if package else []
            if node.level - 1 > len(parts):
                return set()
            base = ".".join(parts[: len(parts) - (node.level - 1)])
            module = ".".join(p for p in (base, node.module or "") if p)
        else:
            module = node.module or ""
        if module:
            names.append(module)
        names += [f"{module}.{a.name}" if module else a.name for a in node.names]
    found: set[str] = set()
    for dotted in names:
        parts = dotted.split(".")
        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return found
