"""The parts of a subpackage server's outer packages that its code imports.

A server that is a subpackage of a top-level package (``tools_pkg/server``) ships the
``__init__.py`` of each package above its folder (its *chain*, see
:mod:`mcpbundle.plan.shim`). Its code may also import other parts of those packages
(``from tools_pkg.common import helper``, ``from ..common import helper``); without
them the bundle fails to load where the source loads. They ship too, into the chain
directory beside the chain's ``__init__.py`` files. Found statically and transitively
(what a shipped part imports is found in turn): a subpackage of a chain package ships
whole, with its data files, as an installed package would; a module ships alone.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath

from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.python_parse import TargetUnavailable, parse_module
from mcpbundle.plan.repo_files import FileFilter, RepoFiles, is_secret, under
from mcpbundle.plan.shim_render import CHAIN_DIR
from mcpbundle.plan.shipped_files import FileCopy, check_link, join


def chain_siblings(
    *,
    chain_root: str,
    chain: Mapping[str, str],
    inside: str,
    start: Iterable[tuple[str, bool, bytes]],
    listing: frozenset[str],
    read: Callable[[str], bytes | None],
    python: str | None,
) -> list[str]:
    """Repository paths (sorted) of the chain packages' parts the server's code imports.

    ``chain_root``: the repository directory above the top package; ``chain``: dotted
    name -> repository directory of each package above the server's folder; ``inside``:
    the dotted name of the server's own package (its folder); ``start``: the server's
    shipped Python files as (dotted module name, is a package's ``__init__.py``, bytes);
    ``listing``: every repository path that may ship; ``read``: a repository path's bytes
    (None: unreadable)."""
    found: set[str] = set()
    queue = list(start)
    while queue:
        module, is_package, data = queue.pop()
        for name in _imported(module, is_package, data, python):
            for path in _unit(name, chain, inside, chain_root, listing):
                if path in found:
                    continue
                found.add(path)
                if path.endswith(".py"):
                    text = read(path)
                    if text is not None:
                        dotted, package = module_name(path, chain_root)
                        queue.append((dotted, package, text))
    return sorted(found)


def module_name(path: str, chain_root: str) -> tuple[str, bool]:
    """``tools_pkg/common/x.py`` -> (``tools_pkg.common.x``, False); an ``__init__.py`` is
    its package: (``tools_pkg.common``, True)."""
    rel = PurePosixPath(path).relative_to(chain_root) if chain_root not in ("", ".") else None
    parts = list((rel or PurePosixPath(path)).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _imported(module: str, is_package: bool, data: bytes, python: str | None) -> set[str]:
    """Every dotted name ``module``'s code may import (with each ``from X import y``, also
    ``X.y``, which may be a submodule); relative imports resolved against its package."""
    try:
        tree = parse_module(data, module, python)
    except (SyntaxError, ValueError, TargetUnavailable):
        return set()  # check reports what cannot be parsed
    names: set[str] = set()
    for node in walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                if keep <= 0:
                    continue
                base = ".".join([*parts[:keep], *([base] if base else [])])
            if base:
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _unit(
    name: str, chain: Mapping[str, str], inside: str, chain_root: str, listing: frozenset[str]
) -> list[str]:
    """The repository paths that make ``name`` importable from a chain package (empty: it
    is not in one, it is the server's own, or the repository lacks it)."""
    if name == inside or name.startswith(inside + "."):
        return []
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        package = ".".join(parts[:cut])
        if package not in chain:
            continue
        if ".".join(parts[: cut + 1]) in chain:
            return []  # a package of the chain itself: its __init__.py ships already
        child = f"{chain[package]}/{parts[cut]}" if chain[package] else parts[cut]
        if f"{child}.py" in listing:
            return [f"{child}.py"]
        prefix = child + "/"
        return sorted(p for p in listing if p.startswith(prefix))
    return []


def chain_dirs(chain_root: str, names: Iterable[str]) -> dict[str, str]:
    """Dotted package name -> its repository directory under ``chain_root``."""
    base = PurePosixPath(chain_root) if chain_root not in ("", ".") else PurePosixPath()
    return {name: base.joinpath(*name.split(".")).as_posix() for name in names}


def sibling_copies(
    *,
    root: Path,
    server_path: str,
    chain_root: str,
    packages: Iterable[str],
    inside: str,
    shipped: Iterable[FileCopy],
    files: RepoFiles,
    filt: FileFilter,
    python: str | None,
) -> tuple[list[FileCopy], list[str]]:
    """The copies of the chain packages' imported parts into the server's chain directory
    (``<server>/_mcpbundle_chain/<path under chain_root>``), and the secret files left out."""
    chain = chain_dirs(chain_root, packages)
    if not chain:
        return [], []
    top = chain[min(chain, key=len)]
    own = server_path.rstrip("/") + "/"
    listing: set[str] = set()
    secrets: list[str] = []
    for repo_path, local in under(files.paths, top):
        if repo_path.startswith(own) or filt.excluded(repo_path, local, None):
            continue
        if is_secret(repo_path, files.root):
            secrets.append(repo_path)
            continue
        listing.add(repo_path)

    def read(rel: str) -> bytes | None:
        try:
            return (root / rel).read_bytes()
        except OSError:
            return None

    start = []
    for copy in shipped:
        if copy.dest.endswith(".py") and copy.dest.startswith(own):
            data = read(copy.source)
            dotted, package = module_name(copy.dest[len(own) :], "")
            if data is not None:
                start.append((".".join(p for p in (inside, dotted) if p), package, data))
    found = chain_siblings(
        chain_root=chain_root, chain=chain, inside=inside, start=start,
        listing=frozenset(listing), read=read, python=python,
    )  # fmt: skip
    base = PurePosixPath(chain_root) if chain_root not in ("", ".") else PurePosixPath()
    copies = []
    for path in found:
        check_link(files.root, path)
        relative = str(PurePosixPath(path).relative_to(base))
        copies.append(FileCopy(source=path, dest=join(server_path, CHAIN_DIR, relative)))
    # a subpackage ships whole: the secret files left out of it are reported as skipped
    units = {posixpath.dirname(p) for p in found} - set(chain.values())
    skipped = [
        s for s in secrets if any(posixpath.dirname(s) == d or s.startswith(d + "/") for d in units)
    ]
    return copies, sorted(skipped)
