"""MCB004 findings for ``sys.path`` edits: is the edit still needed in the bundle?

A directory anchored at ``__file__`` means the same in the runtime: a warning that
says whether the edit is still needed (already on the bundle's ``sys.path``, the
entry shim's when the bundle was shimmed; or what it serves). A directory relative
to the working directory is an error when an import needs it (the runtime's
working directory is not the server's folder), a warning when the bundle's own
``sys.path`` already has it. An edit that cannot be read statically is an error
only when some import of the bundle fails.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import PurePosixPath

from mcpbundle.check.context import CheckContext, ModuleInfo
from mcpbundle.check.imports import Provision
from mcpbundle.check.model import CheckTarget, Finding
from mcpbundle.check.modules import BundleModules, root_prefix
from mcpbundle.check.syspath import Location, PathEdit

STDLIB = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)


def shown_dirs(dirs: tuple[str, ...]) -> str:
    """``sys.path`` entries of a bundle as a reader sees them: ``./`` for its root."""
    return ", ".join(f"{d}/" if d not in {"", "."} else "./" for d in dirs) or "./"


@dataclass
class PathNeeds:
    """Which imports a directory added to ``sys.path`` serves."""

    target: CheckTarget
    base: BundleModules  # the bundle without any edit
    provided: Provision
    tops: set[str]  # top-level names the bundle imports absolutely
    failing: bool  # some import fails even with the file-anchored edits applied

    def served(self, root: str) -> list[str]:
        """Imported names found only under ``root`` (not on sys.path, not installed)."""
        return sorted(
            t
            for t in self.tops & self._names(root)
            if t not in self.base.modules and t not in STDLIB and self.provided.provider(t) is None
        )

    def _names(self, root: str) -> set[str]:
        """Top-level names importable from the bundle directory ``root``."""
        found = BundleModules.build(self.target, (root,), only=True).modules
        return {m for m in found if "." not in m}

    def on_path(self, root: str) -> bool:
        return root_prefix(root) in self.base.roots


def edit_finding(ctx: CheckContext, info: ModuleInfo, edit: PathEdit, needs: PathNeeds) -> Finding:
    target = ctx.target
    roots = shown_dirs(target.sys_path)
    shim = (
        f"; the bundle was shimmed: {target.shim} puts {roots} on sys.path" if target.shim else ""
    )
    remove = "remove the sys.path change"
    known = [loc for loc in edit.added if loc is not None]
    if not known or len(known) != len(edit.added):
        return ctx.at(
            "MCB004",
            info,
            edit.node,
            f"`{edit.text}` changes sys.path; the runtime loads the bundle with its own "
            f"sys.path ({roots}) and working directory{shim}; whether the edit is still needed "
            "cannot be told statically",
            f"{remove} and import the code as a package of the bundle",
            severity="error" if needs.failing else "warning",
        )
    for loc in known:
        finding = _one_edit(ctx, info, edit, loc, needs, shim)
        if finding.severity == "error" or loc is known[-1]:
            return finding
    raise AssertionError("unreachable")


def _one_edit(
    ctx: CheckContext, info: ModuleInfo, edit: PathEdit, loc: Location, needs: PathNeeds, shim: str
) -> Finding:
    remove = "remove the sys.path change"
    if loc.anchor == "file":
        root = loc.dir
        if needs.on_path(root):
            return ctx.at(
                "MCB004",
                info,
                edit.node,
                f"`{edit.text}` adds {shown_dirs((root,))}, which is already on the bundle's "
                f"sys.path{shim}: the edit is not needed",
                remove,
                severity="warning",
            )
        served = needs.served(root)
        if served:
            return ctx.at(
                "MCB004",
                info,
                edit.node,
                f"`{edit.text}` is what makes `import {served[0]}` work: {shown_dirs((root,))} is "
                f"not on the bundle's sys.path{shim or f' ({shown_dirs(ctx.target.sys_path)})'}; "
                "the edit is still needed (it is relative to the file, so it works in the "
                "bundle)",
                f"move `{served[0]}` next to the entrypoint (or make it a shared library) "
                f"and {remove}",
                severity="warning",
            )
        return ctx.at(
            "MCB004",
            info,
            edit.node,
            f"`{edit.text}` adds {shown_dirs((root,))}, which no import of the bundle needs"
            f"{shim}: the edit is not needed",
            remove,
            severity="warning",
        )
    here = PurePosixPath(info.bundle_path).parent.as_posix()
    candidates = [c for c in (loc.dir, _inside(here, loc.dir)) if c is not None]
    for candidate in candidates:
        if needs.on_path(candidate):
            return ctx.at(
                "MCB004",
                info,
                edit.node,
                f"`{edit.text}` adds a directory relative to the working directory, but "
                f"{shown_dirs((candidate,))} is already on the bundle's sys.path{shim}: the edit "
                "is not needed",
                remove,
                severity="warning",
            )
    served = sorted({name for c in candidates for name in needs.served(c)})
    what = f"; it is what makes `import {served[0]}` work, so that import fails" if served else ""
    return ctx.at(
        "MCB004",
        info,
        edit.node,
        f"`{edit.text}` adds a directory relative to the working directory, which the runtime "
        f"does not set to the server's folder (its sys.path: {shown_dirs(ctx.target.sys_path)})"
        f"{what}{shim}",
        f"{remove} and import the code as a package of the bundle"
        + (f" (move `{served[0]}` next to the entrypoint)" if served else ""),
    )


def _inside(base: str, rel: str) -> str | None:
    parts = [p for p in base.split("/") if p not in {"", "."}]
    for piece in rel.split("/"):
        if piece == "..":
            if not parts:
                return None
            parts.pop()
        elif piece not in {"", "."}:
            parts.append(piece)
    return "/".join(parts)
