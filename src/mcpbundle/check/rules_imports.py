"""Imports that fail in the runtime (MCB004).

* ``sys.path`` manipulation: the runtime's working directory and ``sys.path``
  are not the developer's.
* An absolute import that no file of the bundle (resolved against
  ``target.sys_path``: modules, packages, namespace directories), no stdlib
  module and no requirement (direct or transitive, see :mod:`.imports`)
  provides. When a requirement's import names are unknown the finding is a
  warning naming the guess; inside ``try: ... except ImportError`` at most a
  warning; under ``if TYPE_CHECKING:`` nothing.
* A relative import with more dots than the file's package depth below its
  ``sys_path`` root.
"""

from __future__ import annotations

import ast
import difflib
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from mcpbundle.check.context import CheckContext, ModuleInfo, Scope
from mcpbundle.check.imports import Provision, provision
from mcpbundle.check.model import CheckTarget, Finding, rule
from mcpbundle.check.rules_requirements import requirement_entries

STDLIB = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)
SYS_PATH_MUTATORS = frozenset(
    {
        "sys.path.append",
        "sys.path.insert",
        "sys.path.extend",
        "sys.path.__setitem__",
        "site.addsitedir",
    }
)
MODULE_SUFFIXES = (".py", ".so", ".pyd")


def _root_prefix(root: str) -> str:
    root = root.strip("/")
    return "" if root in {"", "."} else root + "/"


@dataclass(frozen=True)
class BundleModules:
    """Dotted module names the bundle provides, per ``sys_path`` root."""

    roots: tuple[str, ...]  # prefixes, "" or "src/"
    modules: frozenset[str]  # every importable dotted name under any root
    elsewhere: dict[str, str]  # top-level name -> bundle dir holding it, off sys.path

    @classmethod
    def build(cls, target: CheckTarget) -> BundleModules:
        roots = tuple(_root_prefix(r) for r in target.sys_path) or ("",)
        modules: set[str] = set()
        elsewhere: dict[str, str] = {}
        for path in sorted(target.files):
            if not path.endswith(MODULE_SUFFIXES):
                continue
            parts = path.split("/")
            for i, part in enumerate(parts):
                name = part.split(".", 1)[0] if i == len(parts) - 1 else part
                if name.isidentifier() and name != "__init__":
                    elsewhere.setdefault(name, "/".join(parts[:i]) or ".")
            for prefix in roots:
                if not path.startswith(prefix):
                    continue
                parts = path[len(prefix) :].split("/")
                stem = parts[-1].split(".", 1)[0]
                dirs = parts[:-1]
                if not all(d.isidentifier() for d in dirs):
                    continue
                for i in range(1, len(dirs) + 1):  # packages and namespace dirs
                    modules.add(".".join(dirs[:i]))
                if stem != "__init__" and stem.isidentifier():
                    modules.add(".".join([*dirs, stem]))
        return cls(roots=roots, modules=frozenset(modules), elsewhere=elsewhere)

    def depths(self, bundle_path: str) -> list[tuple[str, list[str]]]:
        """``(root, package parts)`` for each root the file is under."""
        out = []
        for prefix in self.roots:
            if bundle_path.startswith(prefix):
                parts = bundle_path[len(prefix) :].split("/")[:-1]
                out.append((prefix, parts))
        return out


def _target_provision(target: CheckTarget, ctx: CheckContext) -> Provision:
    roots: dict[str, frozenset[str]] = {
        canonicalize_name(n): frozenset() for n in target.requirement_names
    }
    for _, _, entry in requirement_entries(target, ctx):
        if entry.requirement is not None:
            name = canonicalize_name(entry.requirement.name)
            roots[name] = roots.get(name, frozenset()) | frozenset(entry.requirement.extras)
    return provision(roots)


def _sys_path_edits(info: ModuleInfo) -> Iterator[ast.AST]:
    for node, scope in info.of(ast.Call, ast.Assign, ast.AugAssign, ast.AnnAssign):
        if scope.main_guard:
            continue
        if isinstance(node, ast.Call) and info.qualname(node.func) in SYS_PATH_MUTATORS:
            yield node
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                base = target.value if isinstance(target, ast.Subscript) else target
                if info.qualname(base) == "sys.path":
                    yield node
                    break


@rule("MCB004", "error", "an import that will fail in the runtime")
def check_imports(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    bundle = BundleModules.build(target)
    provided = _target_provision(target, ctx)
    for info in ctx.modules():
        for node in _sys_path_edits(info):
            yield ctx.at(
                "MCB004",
                info,
                node,
                "sys.path is modified; the runtime loads the bundle with its own sys.path "
                "and working directory",
                "remove the sys.path change and import the code as a package of the bundle",
            )
        seen: set[tuple[int, str]] = set()
        for node, scope in info.of(ast.Import, ast.ImportFrom):
            if scope.type_checking:
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield from _absolute(
                        ctx, info, node, scope, alias.name, bundle, provided, seen, full=True
                    )
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    yield from _relative(ctx, info, node, scope, bundle)
                elif node.module:
                    yield from _absolute(
                        ctx, info, node, scope, node.module, bundle, provided, seen, full=False
                    )


def _absolute(
    ctx: CheckContext,
    info: ModuleInfo,
    node: ast.stmt,
    scope: Scope,
    module: str,
    bundle: BundleModules,
    provided: Provision,
    seen: set[tuple[int, str]],
    *,
    full: bool,
) -> Iterator[Finding]:
    key = (node.lineno, module)
    if key in seen:
        return
    seen.add(key)
    top = module.split(".", maxsplit=1)[0]
    if top in STDLIB or top == "__future__":
        return
    optional = scope.optional
    if top in bundle.modules:
        missing = _missing_submodule(module, bundle)
        if missing is None or provided.provider(top) is not None:
            return
        yield ctx.at(
            "MCB004",
            info,
            node,
            f"`{module}`: the bundle has package `{top}` but no module `{missing}`",
            "ship the missing module or fix the import",
            severity="warning" if optional else None,
        )
        return
    if provided.provider(top) is not None:
        return
    where = f"no file of the bundle (sys.path: {', '.join(ctx.target.sys_path) or '.'})"
    if top in bundle.elsewhere:
        yield ctx.at(
            "MCB004",
            info,
            node,
            f"import `{module}`: `{top}` is in the bundle under {bundle.elsewhere[top]}/, "
            f"which is not on the runtime's sys.path ({', '.join(ctx.target.sys_path) or '.'})",
            f"move `{top}` next to the entrypoint or import it by its path from the sys.path root",
            severity="warning" if optional else None,
        )
        return
    if provided.guessed:
        guess = _best_guess(top, provided)
        yield ctx.at(
            "MCB004",
            info,
            node,
            f"import `{module}`: {where} and no requirement with a known import name "
            f"provides `{top}`; assuming it comes from `{guess}`",
            f"check that `{guess}` provides `{top}`, or add the distribution that does to "
            "the requirements",
            severity="warning",
        )
        return
    yield ctx.at(
        "MCB004",
        info,
        node,
        f"import `{module}`: {where}, no stdlib module and no requirement provides `{top}`"
        + (" (optional import)" if optional else ""),
        f"add the distribution that provides `{top}` to the requirements, or ship the module "
        "in the bundle",
        severity="warning" if optional else None,
    )


def _missing_submodule(module: str, bundle: BundleModules) -> str | None:
    parts = module.split(".")
    for i in range(2, len(parts) + 1):
        name = ".".join(parts[:i])
        if name not in bundle.modules:
            return name
    return None


def _best_guess(top: str, provided: Provision) -> str:
    names = sorted(provided.guessed)
    close = difflib.get_close_matches(top.lower(), names, n=1, cutoff=0.0)
    return close[0] if close else names[0]


def _relative(
    ctx: CheckContext, info: ModuleInfo, node: ast.ImportFrom, scope: Scope, bundle: BundleModules
) -> Iterator[Finding]:
    placements = bundle.depths(info.bundle_path)
    if not placements:
        return  # not importable by the runtime at all: nothing to resolve against
    dots = "." * node.level
    text = f"from {dots}{node.module or ''} import ..."
    best_depth = max(len(parts) for _, parts in placements)
    if node.level > best_depth:
        yield ctx.at(
            "MCB004",
            info,
            node,
            f"`{text}` reaches above the top-level package ({node.level} dots, but "
            f"{info.bundle_path} is {best_depth} package level(s) below its sys.path root)",
            "use an absolute import from the sys.path root (e.g. `from shared import x`)",
            severity="warning" if scope.optional else None,
        )
        return
    for _, parts in placements:
        if node.level > len(parts):
            continue
        base = parts[: len(parts) - node.level + 1]
        name = ".".join([*base, *(node.module.split(".") if node.module else [])])
        if not name or name in bundle.modules:
            return
    yield ctx.at(
        "MCB004",
        info,
        node,
        f"`{text}`: no module `{name}` in the bundle",
        "ship the module or fix the import",
        severity="warning" if scope.optional else None,
    )
