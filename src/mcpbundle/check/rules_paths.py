"""Files opened by a path the host does not have (MCB013): relative to the working
directory, or built from ``__file__`` out of the bundle.

In development a server usually runs from its own folder, so ``open("data/prompts.md")``
finds ``server-ops/data/prompts.md``. The host runs it from the root of the deploy
repository, where that file is ``server-ops/data/prompts.md``: the same call fails there.
The rule flags a relative path literal given to ``open()`` or ``Path()`` that names a file
(or folder) the bundle ships relative to the server's folder or its entry's folder, for a
server that is not at the root of what the host checks out. It stays quiet for paths
built from ``__file__`` (not a literal), absolute paths and names the bundle lacks.

A path built from ``__file__`` (:mod:`mcpbundle.check.file_paths`) that climbs out of the
server's folder to a file or folder of the repository (``Path(__file__).parents[2] /
"data" / "x.json"``) works in the monorepo and fails on the host, which has the bundle.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterator

from mcpbundle.check.context import CheckContext
from mcpbundle.check.file_paths import from_file
from mcpbundle.check.model import CheckTarget, Finding
from mcpbundle.check.registry import rule
from mcpbundle.plan.ast_walk import walk

_OPENERS = frozenset(
    {"open", "builtins.open", "io.open", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"}
)


@rule("MCB013", "warning", "a file opened relative to the working directory")
def check_cwd_paths(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    yield from _out_of_the_bundle(target, ctx)
    entry = target.files.get(target.entrypoint)
    if entry is None or entry.display == target.entrypoint:
        return  # a server at the root of the checkout: its working directory is its folder
    folder = entry.display[: -len(target.entrypoint)].rstrip("/")
    shipped = set(target.files)
    dirs = {posixpath.dirname(p) for p in shipped}
    dirs |= {d for p in list(dirs) for d in _parents(p)}
    entry_dir = posixpath.dirname(target.entrypoint)
    for info in ctx.modules():
        for call, name, _scope in info.calls():
            if name not in _OPENERS or not call.args:
                continue
            literal = _relative_literal(call.args[0])
            if literal is None:
                continue
            for base in dict.fromkeys(("", entry_dir)):
                inside = posixpath.normpath(posixpath.join(base, literal))
                if inside.startswith("../") or not (inside in shipped or inside in dirs):
                    continue
                yield ctx.at(
                    "MCB013",
                    info,
                    call,
                    f"{literal!r} is read relative to the working directory: the host runs the "
                    f"server from the root of the deploy, where it is {folder}/{inside}",
                    "build the path from the file (Path(__file__).parent / ...), or deploy the "
                    "server on a branch of its own (build --split)",
                )
                break


def _out_of_the_bundle(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    """A path the server's own code builds from ``__file__`` that leaves its folder for a
    file or folder of the repository: the host has the bundle only."""
    root = target.repo_root
    entry = target.files.get(target.entrypoint)
    if root is None or entry is None:
        return
    folder = entry.display[: -len(target.entrypoint)].rstrip("/")
    for info in ctx.modules():
        source = target.files.get(info.bundle_path)
        if source is None or source.display != posixpath.join(folder, info.bundle_path):
            continue  # vendored code: its place in the repository is not its place here
        if not any(isinstance(n, ast.Name) and n.id == "__file__" for n, _ in info.of(ast.Name)):
            continue  # nothing here is built from the file's location
        covered: set[int] = set()
        for node, _scope in info.of(ast.BinOp, ast.Call):
            if id(node) in covered or not isinstance(node, ast.BinOp | ast.Call):
                continue
            rel = from_file(node, info.qualname)
            if rel is None:
                continue
            covered.update(id(sub) for sub in walk(node))
            here = posixpath.dirname(info.bundle_path)
            if not posixpath.normpath(posixpath.join(here, rel)).startswith("../"):
                continue  # inside the bundle
            repo_rel = posixpath.normpath(posixpath.join(posixpath.dirname(source.display), rel))
            if repo_rel.startswith("../") or not (root / repo_rel).exists():
                continue
            yield ctx.at(
                "MCB013",
                info,
                node,
                f"reads {repo_rel} of the repository through a path built from __file__, but "
                f"the bundle holds {folder or 'the server'}/ only: the host has no {repo_rel}",
                "move it into the server's folder (or into a shared library it vendors) and "
                "build the path from there",
            )


def _relative_literal(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        return None
    text = node.value.strip()
    if not text or text in (".", "..") or text.startswith(("/", "~", "\\")) or "://" in text:
        return None
    if "{" in text or "\n" in text or "\0" in text:
        return None
    return text.removeprefix("./")


def _parents(path: str) -> Iterator[str]:
    while path:
        path = posixpath.dirname(path)
        if path:
            yield path
