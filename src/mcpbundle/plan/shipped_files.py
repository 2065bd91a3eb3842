"""Which files of the repository a server ships, and where they go in its bundle.

Its own directory's files (not another server's folder when it is at the root),
its vendored packages' files, and the requirement files and ``fastmcp.json`` that
ship rewritten. Secret files are left out and listed; a symlink must stay inside
the repository and point at a file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mcpbundle.base.errors import BuildError
from mcpbundle.base.redact import mask_urls
from mcpbundle.config.settings import Config, Server
from mcpbundle.plan.fastmcp_json import EntryFacts, is_fastmcp_json
from mcpbundle.plan.fastmcp_json import rewrite as rewrite_fastmcp_json
from mcpbundle.plan.lib_discovery import LibInfo, import_path, namespace_init
from mcpbundle.plan.repo_files import FileFilter, RepoFiles, is_secret, local_spec, under
from mcpbundle.plan.requirements import without_index_options


@dataclass(frozen=True, kw_only=True)
class FileCopy:
    """A file the bundle ships: where it comes from and where it goes."""

    source: str  # repo-relative, or absolute for files from mcpbundle's cache (git checkouts)
    dest: str  # output-relative

    def path(self, root: Path) -> Path:
        return root / self.source  # an absolute ``source`` wins over ``root``

    def location(self, root: str) -> str:
        """:meth:`path` as text, for the loops over every file of every server."""
        return os.path.join(root, self.source)


def join(*parts: str) -> str:
    joined = PurePosixPath(*[p for p in parts if p not in ("", ".")])
    return joined.as_posix() if joined.parts else "."


def scrub_requirement_files(
    root: Path, copies: list[FileCopy], requirement_files: set[str]
) -> tuple[list[FileCopy], list[tuple[str, bytes]]]:
    """Requirement files that ship (``-r``/``-c`` includes) lose their index options, and
    the credentials of any other URL in them are masked."""
    sources = {rel for rel in requirement_files if not rel.endswith((".toml", "Pipfile", ".json"))}
    kept: list[FileCopy] = []
    scrubbed: list[tuple[str, bytes]] = []
    for copy in copies:
        if copy.source not in sources:
            kept.append(copy)
            continue
        text = copy.path(root).read_text(encoding="utf-8-sig")
        clean = mask_urls(without_index_options(text))
        if clean == text:
            kept.append(copy)
        else:
            scrubbed.append((copy.dest, clean.encode()))
    return kept, scrubbed


_PROJECT_LOCKS = ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml")


def is_project_lock(name: str) -> bool:
    """A lock file of a pyproject.toml (``uv.lock``, ``poetry.lock``, ``pdm.lock``,
    ``pylock.toml`` or ``pylock.<name>.toml``)."""
    return name in _PROJECT_LOCKS or (name.startswith("pylock.") and name.endswith(".toml"))


def without_stale_locks(
    copies: list[FileCopy], server_path: str
) -> tuple[list[FileCopy], list[str]]:
    """The copies without the locks beside the server's pyproject.toml, and those locks'
    repo paths. The bundle's pyproject.toml is rewritten (pins, no local sources), so a lock
    of the source one no longer matches it: ``uv sync --locked`` fails on it and a plain
    ``uv sync`` or ``poetry install`` installs other versions than requirements.txt pins."""
    kept: list[FileCopy] = []
    stale: list[str] = []
    for copy in copies:
        folder, _, name = copy.dest.rpartition("/")
        if is_project_lock(name) and join(folder or ".") == join(server_path):
            stale.append(copy.source)
        else:
            kept.append(copy)
    return kept, stale


def fastmcp_jsons(
    root: Path, copies: list[FileCopy], generated: list[tuple[str, bytes]], facts: EntryFacts
) -> tuple[list[FileCopy], list[tuple[str, bytes]], list[str]]:
    """Copies without the ``fastmcp.json`` files, their rewritten contents, and warnings."""
    shipped = [c.dest for c in copies] + [rel for rel, _ in generated]
    kept: list[FileCopy] = []
    rewritten: list[tuple[str, bytes]] = []
    warnings: list[str] = []
    for copy in copies:
        if not is_fastmcp_json(copy.dest):
            kept.append(copy)
            continue
        data, warning = rewrite_fastmcp_json(copy.path(root), copy.dest, facts, shipped)
        if data is not None:
            rewritten.append((copy.dest, data))
        if warning is not None:
            warnings.append(warning)
    return kept, rewritten, warnings


def server_files(
    config: Config,
    server: Server,
    files: RepoFiles,
    filt: FileFilter,
    *,
    vendored: Sequence[LibInfo] = (),
) -> tuple[list[FileCopy], list[str]]:
    """The server's own files. A server at the repository root contains the others: their
    folders are theirs; and the source trees of the libraries it vendors (``vendored``)
    ship as vendored packages, not a second time as they lie in the repository."""
    spec = local_spec(server.exclude)
    copies: list[FileCopy] = []
    secrets: list[str] = []
    nested: list[str] = []
    if server.path in ("", "."):
        nested = [
            other.path.rstrip("/") + "/"
            for other in config.servers.values()
            if other.name != server.name and other.path not in ("", ".")
        ]
        nested += [
            lib.path.rstrip("/") + "/"
            for lib in vendored
            if lib.path not in ("", ".") and not lib.path.startswith("..")
        ]
    for repo_path, local in under(files.paths, server.path):
        if filt.excluded(repo_path, local, spec):
            continue
        if nested and repo_path.startswith(tuple(nested)):
            continue
        if is_secret(repo_path, files.root):
            secrets.append(repo_path)
            continue
        check_link(files.root, repo_path)
        copies.append(FileCopy(source=repo_path, dest=repo_path))
    return copies, secrets


# One library's files, the same for every server that vendors it (one plan, one listing):
# ((repo path, path inside the vendor dir), secret files left out).
LibFiles = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]


def vendored_files(
    vendored: Sequence[LibInfo],
    vendor_dir: str,
    files: RepoFiles,
    filt: FileFilter,
    seen: dict[tuple[str, tuple[str, ...]], LibFiles] | None = None,
) -> tuple[list[FileCopy], list[str]]:
    """The vendored libraries' files as copies into ``vendor_dir``. ``seen``: each
    library's files found once per plan (``files`` and ``filt`` must be the same for
    every call given it); finding them reads no file, only the listing."""
    copies: list[FileCopy] = []
    secrets: list[str] = []
    for lib in vendored:
        if Path(lib.source_root).is_absolute():
            copies.extend(_checkout_files(lib, vendor_dir, filt))
            continue
        key = (lib.source_root, tuple(lib.packages))
        found = seen.get(key) if seen is not None else None
        if found is None:
            found = _lib_files(lib, files, filt)
            if seen is not None:
                seen[key] = found
        copies.extend(
            FileCopy(source=src, dest=join(vendor_dir, inside)) for src, inside in found[0]
        )
        secrets.extend(found[1])
    return copies, secrets


def _lib_files(lib: LibInfo, files: RepoFiles, filt: FileFilter) -> LibFiles:
    kept: list[tuple[str, str]] = []
    secrets: list[str] = []
    for package in lib.packages:
        rel_pkg = package.replace(".", "/")
        base = join(lib.source_root, rel_pkg)
        as_module = base + ".py"
        if as_module in files.paths:
            matches = [(as_module, rel_pkg + ".py")]
        else:
            matches = [(p, join(rel_pkg, local)) for p, local in under(files.paths, base)]
        # a portion of a pkgutil-style namespace ships the namespace's __init__.py too
        for inside in namespace_inits(package):
            repo_path = join(lib.source_root, inside)
            if repo_path in files.paths and namespace_init(files.root / repo_path):
                matches.insert(0, (repo_path, inside))
        for repo_path, inside in matches:
            if filt.excluded(repo_path, inside, None):
                continue
            if is_secret(repo_path, files.root):
                secrets.append(repo_path)
                continue
            check_link(files.root, repo_path)
            kept.append((repo_path, inside))
    return tuple(kept), tuple(secrets)


def namespace_inits(package: str) -> list[str]:
    """The ``__init__.py`` paths of the namespaces above the dotted ``package``
    (``acme.tools.x``: ``acme/__init__.py``, ``acme/tools/__init__.py``): shipped when
    they are pkgutil-style declarations (a PEP 420 namespace has none)."""
    parts = package.split(".")
    return ["/".join([*parts[:i], "__init__.py"]) for i in range(1, len(parts))]


def _checkout_files(lib: LibInfo, vendor_dir: str, filt: FileFilter) -> list[FileCopy]:
    """Files of a git checkout in mcpbundle's cache (absolute sources)."""
    copies: list[FileCopy] = []
    root = Path(lib.source_root)
    for package in lib.packages:
        target = import_path(root, package)
        paths = (
            [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        )
        paths[:0] = [root / i for i in namespace_inits(package) if namespace_init(root / i)]
        for path in paths:
            inside = path.relative_to(root).as_posix()
            if filt.excluded(inside, inside, None) or is_secret(inside, root):
                continue
            copies.append(FileCopy(source=str(path), dest=join(vendor_dir, inside)))
    return copies


def is_git_checkout(lib: LibInfo) -> bool:
    """A git checkout in mcpbundle's cache (its source root is absolute)."""
    return Path(lib.source_root).is_absolute()


def dedupe(copies: list[FileCopy]) -> list[FileCopy]:
    by_dest: dict[str, FileCopy] = {}
    for copy in copies:
        by_dest.setdefault(copy.dest, copy)
    return list(by_dest.values())


def check_link(root: Path, repo_path: str) -> None:
    """A symlink that would ship must point at a file inside the repository."""
    path = root / repo_path
    if not path.is_symlink():
        return
    target = Path(os.path.realpath(path))
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        directory = target.is_dir()
        if directory and target.is_relative_to(root.resolve()):
            what = "symlink points at a directory that holds it, or into .git"
        else:
            what = "symlink points outside the repository or not at a file"
        raise BuildError(
            f"{what}: {repo_path} -> {os.readlink(path)}",
            where=repo_path,
            hint=f"replace the link with the {'directory' if directory else 'file'} or exclude it",
        )
