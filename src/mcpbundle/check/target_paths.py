"""Where a ``check`` target's files sit as the runtime sees them: paths inside a server's
folder, the ``sys.path`` a host or the entry shim sets up, and the codes a server ignores."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import PurePosixPath

from mcpbundle.config.settings import Config
from mcpbundle.plan.sdk_compat import MCP_CAP

SDK_FIX = f"added {MCP_CAP}"  # how plan records the mcp<2 it adds (adapt.sdk_fix)


def inside(path: str, folder: str) -> str:
    return path if folder in ("", ".") else path[len(folder) + 1 :]


def dedupe(dirs: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys("" if d == "." else d for d in dirs))


def sys_path_of(entry_rel: str, vendor_rel: str) -> tuple[str, ...]:
    entry_dir = PurePosixPath(entry_rel).parent.as_posix()
    return dedupe([entry_dir, vendor_rel])


def shim_sys_path(shim_rel: str, text: str) -> tuple[str, ...]:
    """The bundle dirs on ``sys.path`` when the host loads the shim ``shim_rel``.

    The host puts the shim's own directory first; the shim inserts its source root
    and appends any extra dirs (``shim.render_shim``)."""
    here = PurePosixPath(shim_rel).parent
    dirs = [here.as_posix()]
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return dedupe(dirs)
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            continue
        name = stmt.targets[0]
        if not (isinstance(name, ast.Name) and name.id in {"_mcpbundle_root", "_mcpbundle_extra"}):
            continue
        value = stmt.value
        parts: list[str] = []
        if isinstance(value, ast.Call):
            parts = [
                a.value
                for a in value.args[1:]
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
        dirs.append(here.joinpath(*parts).as_posix())
    return dedupe(dirs)


def _here_path(here: PurePosixPath, expr: ast.expr) -> str | None:
    """The bundle dir a shim path expression names: ``_mcpbundle_here`` or
    ``_mcpbundle_os.path.join(_mcpbundle_here, 'a', ...)`` (None: anything else)."""
    if isinstance(expr, ast.Name) and expr.id == "_mcpbundle_here":
        return here.as_posix()
    if isinstance(expr, ast.Call) and expr.args and isinstance(expr.args[0], ast.Name):
        parts = [a.value for a in expr.args[1:] if isinstance(a, ast.Constant)]
        strings = [p for p in parts if isinstance(p, str)]
        if expr.args[0].id == "_mcpbundle_here" and len(strings) == len(expr.args) - 1:
            return here.joinpath(*strings).as_posix()
    return None


def shim_packages(shim_rel: str, text: str) -> tuple[tuple[str | None, str], ...]:
    """The packages a subpackage server's shim registers before it imports the entry
    (``shim_render._CHAIN_LOADER``): ``(bundle dir of its submodules or None, dotted name)``.

    The entry is imported as a module of the innermost one (``tools_pkg.calc.server``), so
    its relative imports resolve against that package, not against a ``sys.path`` root."""
    here = PurePosixPath(shim_rel).parent
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ()
    out: list[tuple[str | None, str]] = []
    for stmt in tree.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "_mcpbundle_package"
            and len(call.args) == 3
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            continue
        search = call.args[2]
        none = isinstance(search, ast.Constant) and search.value is None
        out.append((None if none else _here_path(here, search), call.args[0].value))
    return tuple(out)


def ignored_codes(config: Config, server: str) -> frozenset[str]:
    own = config.servers[server].ignore if server in config.servers else ()
    return frozenset(code.upper() for code in (*config.check_ignore, *own))
