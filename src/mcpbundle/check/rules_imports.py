"""Imports that fail in the runtime (MCB004).

* ``sys.path`` manipulation: the runtime's working directory and ``sys.path``
  are not the developer's. What the edit adds is read statically
  (:mod:`.syspath`): a directory anchored at ``__file__`` works in the bundle (a
  warning saying whether the edit is still needed, and the imports it serves
  resolve through it); one relative to the working directory is an error when an
  import needs it, a warning when the bundle's own ``sys.path`` (the entry shim's,
  when the bundle was shimmed) already has that directory.
* An absolute import that no file of the bundle (resolved against
  ``target.sys_path``: modules, packages, namespace directories), no stdlib
  module and no requirement (direct or transitive, see :mod:`.imports`)
  provides. When a requirement's import names are unknown the finding is a
  warning naming the guess; inside ``try: ... except ImportError`` at most a
  warning; under ``if TYPE_CHECKING:`` nothing.
* A relative import with more dots than the file's package depth below its
  ``sys_path`` root, or below the package the entry shim registers over its
  directory (a subpackage server's ``tools_pkg.calc``: its modules are imported
  as ``tools_pkg.calc.<name>``).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator

from packaging.utils import canonicalize_name

from mcpbundle.check.context import CheckContext, ModuleInfo, Scope
from mcpbundle.check.imports import Provision, provision
from mcpbundle.check.model import CheckTarget, Finding
from mcpbundle.check.modules import BundleModules
from mcpbundle.check.pathedits import STDLIB, PathNeeds, edit_finding, shown_dirs
from mcpbundle.check.registry import rule
from mcpbundle.check.repo_packages import repo_package_fix
from mcpbundle.check.rules_requirements import requirement_entries
from mcpbundle.check.syspath import sys_path_edits
from mcpbundle.plan.import_names import distribution_for


def _target_provision(target: CheckTarget, ctx: CheckContext) -> Provision:
    roots: dict[str, frozenset[str]] = {
        canonicalize_name(n): frozenset() for n in target.requirement_names
    }
    for _, _, entry in requirement_entries(target, ctx):
        if entry.requirement is not None:
            name = canonicalize_name(entry.requirement.name)
            roots[name] = roots.get(name, frozenset()) | frozenset(entry.requirement.extras)
    return provision(roots)


# Scripts that run at install or test time, never on the host: their imports (setuptools,
# pytest, nox) are not the runtime's.
TOOLING_SCRIPTS = frozenset({"setup.py", "conftest.py", "noxfile.py"})


@rule("MCB004", "error", "an import that will fail in the runtime")
def check_imports(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    provided = _target_provision(target, ctx)
    edits = [(info, edit) for info in ctx.modules() for edit in sys_path_edits(info)]
    base = BundleModules.build(target) if edits else None
    anchored = sorted(
        {loc.dir for _, e in edits for loc in e.added if loc is not None and loc.anchor == "file"}
    )
    bundle = BundleModules.build(target, tuple(anchored))
    found: list[Finding] = []
    tops: set[str] = set()
    for info in ctx.modules():
        if info.bundle_path.rsplit("/", 1)[-1] in TOOLING_SCRIPTS:
            continue
        seen: set[tuple[int, str]] = set()
        for node, scope in info.of(ast.Import, ast.ImportFrom):
            if scope.type_checking or scope.dead:
                continue  # never runs on the host (a branch of another Python or platform)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    tops.add(alias.name.split(".")[0])
                    found.extend(
                        _absolute(
                            ctx,
                            info,
                            node,
                            scope,
                            alias.name,
                            bundle,
                            provided,
                            seen,
                            full=True,
                            target=target,
                        )
                    )
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    found.extend(_relative(ctx, info, node, scope, bundle))
                elif node.module:
                    tops.add(node.module.split(".")[0])
                    found.extend(
                        _absolute(
                            ctx,
                            info,
                            node,
                            scope,
                            node.module,
                            bundle,
                            provided,
                            seen,
                            full=False,
                            target=target,
                        )
                    )
    if base is not None:
        failing = any(f.severity == "error" for f in found)
        needs = PathNeeds(target, base, provided, tops, failing=failing)
        for info, edit in edits:
            yield edit_finding(ctx, info, edit, needs)
    yield from found


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
    target: CheckTarget,
) -> Iterator[Finding]:
    key = (node.lineno, module)
    if key in seen:
        return
    seen.add(key)
    top = module.split(".", maxsplit=1)[0]
    if top in STDLIB or top == "__future__":
        return
    optional = _soft(scope)
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
    where = f"no file of the bundle (sys.path: {shown_dirs(ctx.target.sys_path)})"
    if top in bundle.elsewhere:
        yield ctx.at(
            "MCB004",
            info,
            node,
            f"import `{module}`: `{top}` is in the bundle under {bundle.elsewhere[top]}/, "
            f"which is not on the runtime's sys.path ({shown_dirs(ctx.target.sys_path)})",
            f"move `{top}` next to the entrypoint or import it by its path from the sys.path root",
            severity="warning" if optional else None,
        )
        return
    if provided.guessed:
        guess = _best_guess(top, provided)
        if guess is not None:
            said = f"assuming it comes from `{guess}`"
            fix = (
                f"check that `{guess}` provides `{top}`, or add the distribution that does "
                "to the requirements"
            )
        else:
            unseen = sorted(n for n in provided.guessed if "[" not in n) or sorted(provided.guessed)
            more = f" and {len(unseen) - 3} more" if len(unseen) > 3 else ""
            said = (
                "none is named like it, but check cannot see the modules of "
                + ", ".join(f"`{name}`" for name in unseen[:3])
                + more
            )
            fix = (
                f"add {_provider_of(top)} to the requirements (or check that one of those "
                "provides it)"
            )
        yield ctx.at(
            "MCB004",
            info,
            node,
            f"import `{module}`: {where} and no requirement with a known import name "
            f"provides `{top}`; {said}",
            fix,
            severity="warning",
        )
        return
    yield ctx.at(
        "MCB004",
        info,
        node,
        f"import `{module}`: {where}, no stdlib module and no requirement provides `{top}`"
        + _why_soft(scope),
        repo_package_fix(target, top)
        or f"add {_provider_of(top)} to the requirements, or ship the module in the bundle",
        severity="warning" if optional else None,
    )


def _provider_of(top: str) -> str:
    """How a fix names what to add: ``pillow`` for ``PIL`` when the table knows it."""
    known = distribution_for(top)
    if known is not None:
        return f"`{known}` (the distribution that provides `{top}`)"
    return f"the distribution that provides `{top}`"


def _soft(scope: Scope) -> bool:
    """A missing module here does not stop the server from loading: a warning."""
    return scope.optional or scope.func is not None


def _why_soft(scope: Scope) -> str:
    if scope.optional:
        return " (optional import)"
    if scope.func is not None:
        return " (imported inside a function: the server loads, but a call that runs it fails)"
    return ""


def _missing_submodule(module: str, bundle: BundleModules) -> str | None:
    parts = module.split(".")
    for i in range(2, len(parts) + 1):
        name = ".".join(parts[:i])
        if name not in bundle.modules:
            return name
    return None


def _best_guess(top: str, provided: Provision) -> str | None:
    """The unseen requirement named most like the import ``top`` (its name or one of its
    guessed import names), if any is alike: the requirement's name starts with the import's
    (``PIL`` and ``pillow``, ``wikipediaapi`` and ``wikipedia-api``), or they are nearly the same
    (difflib ratio >= 0.85, same first letter). Not ``setuptools`` and ``cachetools``,
    alike only in how they end, nor ``aiosqlite`` and ``aiofile``, in how they start."""
    alike: list[tuple[float, str]] = []
    wanted = _plain(top)
    for name, guesses in provided.guessed.items():
        ratio = max((_likeness(wanted, _plain(c)) for c in (name, *guesses)), default=0.0)
        if ratio > 0:
            alike.append((-ratio, name))
    return min(alike)[1] if alike else None


def _plain(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(".", "")


def _likeness(wanted: str, candidate: str) -> float:
    """How alike two plain names are (0: not alike enough to name as a source)."""
    if len(wanted) >= 3 and candidate.startswith(wanted):  # not the reverse: requests_oauthlib
        return 1.0  # is not in requests
    if candidate[:1] != wanted[:1]:
        return 0.0
    ratio = difflib.SequenceMatcher(None, wanted, candidate).ratio()
    return ratio if ratio >= _ALIKE else 0.0


_ALIKE = 0.85  # nearly the same name: a letter or two apart


def _relative(
    ctx: CheckContext, info: ModuleInfo, node: ast.ImportFrom, scope: Scope, bundle: BundleModules
) -> Iterator[Finding]:
    placements = bundle.depths(info.bundle_path)
    if not placements:
        return  # not importable by the runtime at all: nothing to resolve against
    name = info.bundle_path.rsplit("/", 1)[-1]
    if name in {"__init__.py", "__main__.py"} and all(not parts for _, parts in placements):
        return  # a sys.path root's own __init__/__main__: no import ever reaches it
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
            severity="warning" if _soft(scope) else None,
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
        severity="warning" if _soft(scope) else None,
    )
