"""Git requirements: parse, choose a policy, check out, then pin or vendor.

A git requirement (``git+https://host/org/pkg@REF#egg=name``, ``name @ git+...``,
``#subdirectory=sub``, or a ``[tool.uv.sources]``/Poetry git source) cannot ship
to a PyPI-only host as written. Per ``[bundle] git`` (overridable per repository
in ``[bundle.git-overrides]``) it is either

* ``vendor``: checked out (cached, see :mod:`mcpbundle.git.repo_cache`) and its import
  packages copied into the bundle like a shared library, which needs pure
  Python source (:func:`assert_pure_python`); or
* ``pin``: replaced by ``name==version`` from the checkout's static metadata
  (:func:`pin_line`), to be installed from PyPI.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mcpbundle.base.errors import BuildError, ConfigError, MCPBundleError
from mcpbundle.git.repo_cache import fetch_commit
from mcpbundle.plan.lib_discovery import discover_packages
from mcpbundle.plan.pyproject import read_pyproject
from mcpbundle.plan.requirements import ReqLine, read_requirements_file
from mcpbundle.plan.setup_scripts import setup_dependencies

if TYPE_CHECKING:
    import configparser

POLICIES = ("vendor", "pin", "pypi")
_SCHEMES = ("https", "http", "ssh", "git", "file")
_URL_HINT = "write git+https://host/org/repo@REF#egg=NAME or NAME @ git+https://host/org/repo@REF"


@dataclass(frozen=True, kw_only=True)
class GitSpec:
    """A git requirement, taken apart."""

    url: str  # the clone URL: no ``git+``, ``@ref`` or fragment
    ref: str | None  # branch, tag or commit; None = the remote's default branch
    subdirectory: str | None  # posix, relative, normalised
    name: str | None  # canonical name from ``name @`` or ``#egg=``
    extras: tuple[str, ...] = ()
    marker: str | None = None
    origin: str = ""  # the requirement's file:line

    @property
    def display(self) -> str:
        shown = self.url + (f"@{self.ref}" if self.ref else "")
        return shown + (f"#subdirectory={self.subdirectory}" if self.subdirectory else "")


@dataclass(frozen=True, kw_only=True)
class GitCheckout:
    """One git requirement checked out at a commit (in the cache: never modify it)."""

    spec: GitSpec
    commit: str
    directory: Path  # the checked-out project: the commit's tree, plus the subdirectory
    name: str  # canonical distribution name
    version: str | None  # static version, None if dynamic or missing


@dataclass(frozen=True, kw_only=True)
class GitVendor:
    """What vendoring a checkout copies and what it still needs from PyPI."""

    source_root: Path  # absolute directory holding the import packages
    packages: tuple[str, ...]  # import names (as in LibInfo.packages)
    dependencies: tuple[ReqLine, ...]  # its own requirements (may include git lines again)


def parse_git_url(line: ReqLine) -> GitSpec:
    """Take a ``kind == "git"`` requirement apart; ConfigError naming ``line.origin``."""
    raw = (line.url or "").strip().split(maxsplit=1)[0] if (line.url or "").strip() else ""

    def bad(why: str) -> ConfigError:
        return ConfigError(f"malformed git URL {raw!r}: {why}", where=line.origin, hint=_URL_HINT)

    rest = raw[4:] if raw.lower().startswith("git+") else raw
    if not rest:
        raise bad("empty")
    parts = urlsplit(rest)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise bad(f"unsupported scheme {parts.scheme!r} (use {', '.join(_SCHEMES)})")
    if scheme != "file" and not parts.hostname:
        raise bad("no host")
    path, ref = parts.path, None
    if "@" in path:
        path, _, ref = path.rpartition("@")
        if not ref.strip():
            raise bad("nothing after '@' (expected a branch, tag or commit)")
    if path.strip("/") == "":
        raise bad("no repository path")
    subdirectory, egg = None, None
    for item in filter(None, parts.fragment.split("&")):
        key, _, value = item.partition("=")
        if key == "subdirectory":
            subdirectory = _subdirectory(value, bad)
        elif key == "egg":
            if not value:
                raise bad("empty #egg=")
            egg = canonicalize_name(value.split("[")[0])
    extras, marker = _extras_and_marker(line)
    url = urlunsplit((scheme, parts.netloc, path, parts.query, ""))
    return GitSpec(url=url, ref=ref, subdirectory=subdirectory, name=line.name or egg,
                   extras=extras, marker=marker, origin=line.origin)  # fmt: skip


def _subdirectory(value: str, bad: Any) -> str:
    sub = PurePosixPath(value.replace("\\", "/"))
    if not value or sub.is_absolute() or ".." in sub.parts:
        raise bad(f"#subdirectory={value!r} must be a relative path inside the repository")
    return sub.as_posix()


def _extras_and_marker(line: ReqLine) -> tuple[tuple[str, ...], str | None]:
    """Extras and marker of a ``name[extra] @ url ; marker`` line (none for bare URLs)."""
    text = line.text.split("  #", 1)[0].strip()
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return (), None
    return tuple(sorted(req.extras)), (str(req.marker) if req.marker else None)


def repo_key(url: str) -> str:
    """What identifies a repository for ``[bundle.git-overrides]``: host and path.

    Ignores ``git+``, scheme, user, ``@ref``, fragment, a trailing ``/`` or ``.git``
    and the host's case, so ``https://github.com/org/pkg`` matches
    ``git+ssh://git@github.com/org/pkg.git@v1#egg=pkg``.
    """
    text = url.strip()
    text = text[4:] if text.lower().startswith("git+") else text
    parts = urlsplit(text.split("#", 1)[0])
    path = parts.path
    if "@" in path:
        path = path.rpartition("@")[0]
    path = path.rstrip("/").removesuffix(".git").rstrip("/")
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return f"{host}{path}"


def policy_for(spec: GitSpec, default: str, overrides: Mapping[str, str]) -> str:
    """``vendor`` or ``pin`` for ``spec``: the first matching override, else ``default``."""
    key = repo_key(spec.url)
    for pattern, policy in overrides.items():
        if repo_key(pattern) == key:
            return policy
    return default


def checkout(spec: GitSpec, *, cache_dir: Path, where: str) -> GitCheckout:
    """Check ``spec`` out (from the cache when possible) and read its static metadata."""
    commit, tree = fetch_commit(spec.url, spec.ref, cache_dir=cache_dir, where=where)
    directory = tree / spec.subdirectory if spec.subdirectory else tree
    if not directory.is_dir():
        raise BuildError(
            f"subdirectory {spec.subdirectory!r} not found in {spec.url} at {commit[:12]}",
            where=where,
            hint="fix #subdirectory= (a path relative to the repository root)",
        )
    name, version = _static_metadata(directory, spec, commit, where)
    name = name or spec.name
    if not name:
        raise BuildError(
            f"cannot tell the package name of {spec.display} (no static [project].name)",
            where=where,
            hint="write it as NAME @ git+URL or add #egg=NAME",
        )
    return GitCheckout(spec=spec, commit=commit, directory=directory, name=name, version=version)


def _static_metadata(
    directory: Path, spec: GitSpec, commit: str, where: str
) -> tuple[str | None, str | None]:
    """``(canonical name, version)`` from pyproject.toml or setup.cfg, without building."""
    data = _toml(directory / "pyproject.toml", spec, commit, where)
    project = data.get("project")
    if isinstance(project, dict):
        name = project.get("name")
        version = project.get("version")
        if "version" in (project.get("dynamic") or []):
            version = None
        return _clean(name, version)
    poetry = data.get("tool", {}).get("poetry") if isinstance(data.get("tool"), dict) else None
    if isinstance(poetry, dict) and poetry.get("name"):
        return _clean(poetry.get("name"), poetry.get("version"))
    cfg = _setup_cfg(directory)
    if cfg.has_section("metadata"):
        version = cfg.get("metadata", "version", fallback=None)
        if version and version.strip().startswith(("attr:", "file:")):
            version = None
        return _clean(cfg.get("metadata", "name", fallback=None), version)
    return None, None


def _clean(name: object, version: object) -> tuple[str | None, str | None]:
    good_name = canonicalize_name(name) if isinstance(name, str) and name.strip() else None
    good_version = version.strip() if isinstance(version, str) and version.strip() else None
    return good_name, good_version


def _toml(path: Path, spec: GitSpec, commit: str, where: str) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildError(
            f"{spec.display} at {commit[:12]}: invalid {path.name}: {exc}", where=where
        ) from exc


def _setup_cfg(directory: Path) -> configparser.ConfigParser:
    import configparser  # only for a checkout's setup.cfg

    cfg = configparser.ConfigParser(interpolation=None)
    path = directory / "setup.cfg"
    if path.is_file():
        try:
            cfg.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return configparser.ConfigParser(interpolation=None)
    return cfg


def pin_line(co: GitCheckout, where: str) -> str:
    """``name[extras]==version[; marker]`` for ``pin``; BuildError without a static version."""
    if co.version is None:
        raise BuildError(
            f"git requirement {co.name} ({co.spec.display}) has no static version to pin "
            "(it is dynamic or missing)",
            where=where,
            hint=f'vendor it instead: "{repo_key(co.spec.url)}" = "vendor" in '
            "[bundle.git-overrides], or depend on a released name==x.y",
        )
    extras = f"[{','.join(co.spec.extras)}]" if co.spec.extras else ""
    marker = f"; {co.spec.marker}" if co.spec.marker else ""
    return f"{co.name}{extras}=={co.version}{marker}"


def vendor_info(co: GitCheckout, where: str) -> GitVendor:
    """The import packages to copy and the requirements a vendored checkout brings along."""
    source_root, packages = discover_packages(co.directory, co.directory / "pyproject.toml")
    if not packages:
        raise BuildError(
            f"no Python package or module found in {co.spec.display} at {co.commit[:12]}",
            where=where,
            hint="check #subdirectory=, or pin it instead of vendoring",
        )
    _reject_escaping_links(co, source_root, where)
    return GitVendor(
        source_root=source_root, packages=packages, dependencies=_dependencies(co, where)
    )


def _reject_escaping_links(co: GitCheckout, source_root: Path, where: str) -> None:
    """A symlink in someone else's repository must not make us vendor files outside it."""
    tree = co.directory.resolve()
    for _ in PurePosixPath(co.spec.subdirectory or "").parts:
        tree = tree.parent  # from the subdirectory up to the commit's tree
    for current, dirs, files in os.walk(source_root):
        for name in (*dirs, *files):
            path = Path(current) / name
            if path.is_symlink() and not path.resolve().is_relative_to(tree):
                raise BuildError(
                    f"{co.spec.display}: symlink {path.relative_to(source_root).as_posix()} "
                    "points outside the repository",
                    where=where,
                    hint="vendor a repository without such links, or pin it",
                )


def _dependencies(co: GitCheckout, where: str) -> tuple[ReqLine, ...]:
    directory = co.directory
    pin_hint = f'pin it instead: "{repo_key(co.spec.url)}" = "pin" in [bundle.git-overrides]'
    data = _toml(directory / "pyproject.toml", co.spec, co.commit, where)
    project = data.get("project")
    dynamic = project.get("dynamic") or [] if isinstance(project, dict) else []
    if "dependencies" not in dynamic and (directory / "pyproject.toml").is_file():
        try:
            info = read_pyproject(directory / "pyproject.toml", root=directory)
        except MCPBundleError as exc:
            raise BuildError(f"{co.spec.display} at {co.commit[:12]}: {exc}", where=where) from exc
        if info.has_dependencies or isinstance(project, dict):
            return info.dependencies  # PEP 621: not listed and not dynamic means none
    if (directory / "requirements.txt").is_file():
        return tuple(read_requirements_file(
            directory / "requirements.txt", root=directory,
            display=f"{co.spec.display}: requirements.txt",
        ))  # fmt: skip
    setup = setup_dependencies(directory, directory, shown=co.spec.display)
    if setup is not None and setup.readable:
        return setup.lines
    if "dependencies" in dynamic or (directory / "setup.py").is_file():
        raise BuildError(
            f"{co.name} ({co.spec.display}) declares its dependencies in code, which "
            "mcpbundle cannot read without building it",
            where=where,
            hint=pin_hint,
        )
    return ()


# Build backends that only copy Python files; anything else may compile.
_PURE_BACKENDS = frozenset({
    "setuptools.build_meta", "setuptools.build_meta:__legacy__", "hatchling.build",
    "flit_core.buildapi", "flit.buildapi", "poetry.core.masonry.api", "poetry.masonry.api",
    "pdm.backend", "pdm.pep517.api", "uv_build", "whey",
})  # fmt: skip
_COMPILED_SUFFIXES = frozenset({".c", ".cc", ".cpp", ".cxx", ".m", ".mm", ".pyx", ".rs",
                                ".f", ".f90", ".cu", ".go", ".zig"})  # fmt: skip
_COMPILED_FILES = frozenset({"Cargo.toml", "CMakeLists.txt", "meson.build", "build.zig"})
_COMPILED_REQUIRES = frozenset({"cython", "maturin", "setuptools-rust", "scikit-build",
    "scikit-build-core", "cffi", "pybind11", "meson-python", "nanobind", "mypyc"})  # fmt: skip
_SETUP_PY_MARKERS = ("ext_modules", "Extension(", "cythonize", "rust_extensions",
                     "cffi_modules", "CMakeExtension", "build_ext")  # fmt: skip
_SKIP_DIRS = frozenset({"tests", "test", "docs", "doc", "examples", "example", "benchmarks",
                        "bench", "node_modules"})  # fmt: skip


def assert_pure_python(co: GitCheckout, where: str) -> None:
    """For ``vendor``: BuildError (suggesting ``pin``) if the checkout needs compiling."""
    why = compiled_reason(co.directory)
    if why is not None:
        raise BuildError(
            f"{co.name} ({co.spec.display}) needs compiling ({why}), so its source "
            "cannot be vendored",
            where=where,
            hint=f'pin it to its released wheel: "{repo_key(co.spec.url)}" = "pin" in '
            "[bundle.git-overrides]",
        )


def compiled_reason(directory: Path) -> str | None:
    """Why ``directory`` is not a pure-Python project, or None if it is."""
    data: dict[str, Any] = {}
    if (directory / "pyproject.toml").is_file():
        try:
            data = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
    system = data.get("build-system")
    if isinstance(system, dict):
        backend = system.get("build-backend")
        if isinstance(backend, str) and backend and backend not in _PURE_BACKENDS:
            return f"build backend {backend!r}"
        for entry in system.get("requires") or []:
            try:
                req_name = canonicalize_name(Requirement(str(entry)).name)
            except InvalidRequirement:
                continue
            if req_name in _COMPILED_REQUIRES:
                return f"build requirement {req_name!r}"
    tool = data.get("tool")
    setuptools = tool.get("setuptools") if isinstance(tool, dict) else None
    if isinstance(setuptools, dict) and setuptools.get("ext-modules"):
        return "[tool.setuptools] ext-modules"
    setup_py = directory / "setup.py"
    if setup_py.is_file():
        text = setup_py.read_text(encoding="utf-8", errors="replace")
        for marker in _SETUP_PY_MARKERS:
            if marker in text:
                return f"setup.py uses {marker.rstrip('(')}"
    return _compiled_source(directory)


def _compiled_source(directory: Path) -> str | None:
    for current, dirs, files in os.walk(directory):  # does not follow symlinks
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(files):
            if Path(name).suffix in _COMPILED_SUFFIXES or name in _COMPILED_FILES:
                return (Path(current) / name).relative_to(directory).as_posix()
    return None
