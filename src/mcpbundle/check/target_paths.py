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


def ignored_codes(config: Config, server: str) -> frozenset[str]:
    own = config.servers[server].ignore if server in config.servers else ()
    return frozenset(code.upper() for code in (*config.check_ignore, *own))
