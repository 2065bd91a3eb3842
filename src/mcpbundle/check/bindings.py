"""Names a module binds when it is imported (for MCB001/MCB002), star imports included.

``from app2 import *`` binds what ``app2`` exports: its public module-level names (or
those its literal ``__all__`` lists), followed through its own star imports. A module
check cannot read (not a file of the bundle, an installed package, a non-literal
``__all__``) may export anything: :func:`star_names` then says so (None), and no rule
reports the object missing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from mcpbundle.check.context import CheckContext, ModuleInfo, is_main_guard
from mcpbundle.check.modules import root_prefix


@dataclass(frozen=True)
class Binding:
    """A module-level assignment: the statement and the value it binds."""

    node: ast.stmt
    value: ast.expr | None  # the assigned value (None for imports and defs)


def module_bindings(tree: ast.Module) -> dict[str, list[Binding]]:
    """Names bound when the module is imported (``__main__``/TYPE_CHECKING blocks excluded)."""
    out: dict[str, list[Binding]] = {}

    def add(name: str, node: ast.stmt, value: ast.expr | None) -> None:
        out.setdefault(name, []).append(Binding(node, value))

    def targets(expr: ast.expr) -> Iterator[str]:
        if isinstance(expr, ast.Name):
            yield expr.id
        elif isinstance(expr, ast.Tuple | ast.List):
            for elt in expr.elts:
                yield from targets(elt)
        elif isinstance(expr, ast.Starred):
            yield from targets(expr.value)

    def add_walrus(stmt: ast.stmt, named: ast.NamedExpr) -> None:  # `(mcp := FastMCP())`
        if isinstance(named.target, ast.Name):
            add(named.target.id, stmt, named.value)

    def visit(stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    for name in targets(target):
                        add(name, stmt, stmt.value)
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                for name in targets(stmt.target):
                    add(name, stmt, stmt.value)
            elif isinstance(stmt, ast.Import | ast.ImportFrom):
                for alias in stmt.names:
                    add(alias.asname or alias.name.split(".")[0], stmt, None)
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                add(stmt.name, stmt, None)
            elif isinstance(stmt, ast.If):
                test = stmt.test.id if isinstance(stmt.test, ast.Name) else None
                if not is_main_guard(stmt.test) and test != "TYPE_CHECKING":
                    visit(stmt.body)
                visit(stmt.orelse)
            elif isinstance(stmt, ast.Try | ast.TryStar):
                visit(stmt.body)
                visit(stmt.orelse)
                visit(stmt.finalbody)
                for handler in stmt.handlers:
                    visit(handler.body)
            elif isinstance(stmt, ast.With | ast.AsyncWith | ast.For | ast.While):
                visit(stmt.body)
                if isinstance(stmt, ast.For | ast.While):
                    visit(stmt.orelse)
            elif isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    visit(case.body)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.NamedExpr):
                add_walrus(stmt, stmt.value)

    visit(tree.body)
    return out


def star_names(ctx: CheckContext, info: ModuleInfo) -> frozenset[str] | None:
    """The names ``info``'s module-level star imports bind (empty when it has none); None
    when one of them imports a module check cannot read, which may bind anything."""
    return _star_names(ctx, info, {info.bundle_path})


def _star_names(ctx: CheckContext, info: ModuleInfo, seen: set[str]) -> frozenset[str] | None:
    assert info.tree is not None
    names: set[str] = set()
    for binding in module_bindings(info.tree).get("*", []):
        node = binding.node
        assert isinstance(node, ast.ImportFrom)
        path = _module_file(ctx, info.bundle_path, node.module, node.level)
        if path is None:
            return None
        if path in seen:
            continue  # a cycle: what it binds is counted where it started
        other = ctx.module(path)
        if other is None or other.tree is None:
            return None
        exported = _exports(ctx, other, seen | {path})
        if exported is None:
            return None
        names |= exported
    return frozenset(names)


def _exports(ctx: CheckContext, info: ModuleInfo, seen: set[str]) -> frozenset[str] | None:
    """What ``from <info> import *`` binds (None: check cannot tell)."""
    assert info.tree is not None
    bindings = module_bindings(info.tree)
    if "__all__" in bindings:
        listed: set[str] = set()
        for binding in bindings["__all__"]:
            value = binding.value
            if not isinstance(value, ast.List | ast.Tuple) or not all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
            ):
                return None
            listed.update(str(e.value) for e in value.elts if isinstance(e, ast.Constant))
        return frozenset(listed)
    stars = _star_names(ctx, info, seen)
    if stars is None:
        return None
    own = {
        name
        for name, found in bindings.items()
        if name != "*" and any(not _is_none(b.value) for b in found)
    }
    return frozenset(n for n in own | stars if not n.startswith("_"))


def _is_none(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Constant) and value.value is None


def _module_file(ctx: CheckContext, importer: str, module: str | None, level: int) -> str | None:
    """The bundle file ``from <level dots><module> import *`` in ``importer`` loads (None:
    no file of the bundle)."""
    target = ctx.target
    parts = module.split(".") if module else []
    bases: list[PurePosixPath] = []
    if level:
        here = PurePosixPath(importer).parent
        for _ in range(level - 1):
            if here == here.parent:
                return None
            here = here.parent
        bases.append(here.joinpath(*parts))
    elif parts:
        bases += [PurePosixPath(root_prefix(r) or ".").joinpath(*parts) for r in target.sys_path]
        for directory, package in target.packages:
            prefix = package.split(".")
            if (
                directory is not None
                and parts[: len(prefix)] == prefix
                and len(parts) > len(prefix)
            ):
                bases.append(PurePosixPath(directory).joinpath(*parts[len(prefix) :]))
    for base in bases:
        for candidate in (f"{base.as_posix()}.py", (base / "__init__.py").as_posix()):
            path = candidate.removeprefix("./")
            if path in target.files:
                return path
    return None
