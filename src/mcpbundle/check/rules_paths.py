"""Files opened relative to the working directory (MCB013).

In development a server usually runs from its own folder, so ``open("data/prompts.md")``
finds ``server-ops/data/prompts.md``. The host runs it from the root of the deploy
repository, where that file is ``server-ops/data/prompts.md``: the same call fails there.
The rule flags a relative path literal given to ``open()`` or ``Path()`` that names a file
(or folder) the bundle ships relative to the server's folder or its entry's folder, for a
server that is not at the root of what the host checks out. It stays quiet for paths
built from ``__file__`` (not a literal), absolute paths and names the bundle lacks.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterator

from mcpbundle.check.context import CheckContext
from mcpbundle.check.model import CheckTarget, Finding
from mcpbundle.check.registry import rule

_OPENERS = frozenset(
    {"open", "builtins.open", "io.open", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"}
)


@rule("MCB013", "warning", "a file opened relative to the working directory")
def check_cwd_paths(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
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
