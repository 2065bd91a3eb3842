"""The ``[bundle]`` settings ``mcpbundle init`` proposes, each with the reason for it.

- ``python``: the repository's ``.python-version``, else the servers' (when they
  agree), else the lowest 3.X every server's and library's ``requires-python`` allows;
- ``resolver = "uv"`` when a ``uv.lock`` exists and uv is installed (else a comment);
- ``git = "pypi"`` (or a ``[bundle.git-overrides]`` entry) for git requirements that
  name no ref: they follow a branch, and the PyPI release is the reproducible stand-in;
- ``exclude``: tests, notebooks, Dockerfiles and compose files found in the servers;
- ``output``: ``dist`` unless a ``dist/`` mcpbundle did not write is in the way.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pathspec
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from mcpbundle.base.errors import ConfigError, MCPBundleError
from mcpbundle.base.uv_binary import find_uv
from mcpbundle.config.read import read_toml
from mcpbundle.init.scan import Repo
from mcpbundle.plan.fastmcp_env import environment_python
from mcpbundle.plan.git_requirements import parse_git_url
from mcpbundle.plan.pipfile import PIPFILE
from mcpbundle.plan.pyproject import poetry_specifier
from mcpbundle.plan.python_target import VERSION_FILE, parse_version_file
from mcpbundle.plan.repo_files import OUTPUT_MARKER
from mcpbundle.plan.requirements import ReqLine
from mcpbundle.plan.script_metadata import script_python
from mcpbundle.plan.shipped_files import join

_MINORS = range(8, 16)
# (pattern, what it is): added to [bundle] exclude when a file in a server matches.
EXCLUDE_RULES: tuple[tuple[str, str], ...] = (
    ("tests/", "tests"),
    ("test/", "tests"),
    ("conftest.py", "tests"),
    ("pytest.ini", "tests"),
    ("tox.ini", "tests"),
    ("noxfile.py", "tests"),
    ("notebooks/", "notebooks"),
    ("*.ipynb", "notebooks"),
    ("Dockerfile", "Docker files"),
    ("Dockerfile.*", "Docker files"),
    ("*.Dockerfile", "Docker files"),
    (".dockerignore", "Docker files"),
    ("docker-compose*.yml", "Docker files"),
    ("docker-compose*.yaml", "Docker files"),
    ("compose.yml", "Docker files"),
    ("compose.yaml", "Docker files"),
)


@dataclass(kw_only=True)
class BundleGuess:
    output: str = "dist"
    output_note: str | None = None
    python: str | None = None
    python_note: str = ""
    resolver: str | None = None
    resolver_note: str = ""
    git: str | None = None
    git_overrides: dict[str, str] = field(default_factory=dict)
    git_note: str = ""
    exclude: list[str] = field(default_factory=list)
    exclude_note: str = ""


def guess_bundle(
    repo: Repo,
    server_dirs: Sequence[str],
    project_dirs: Sequence[str],
    git: Iterable[ReqLine],
    *,
    entries: Sequence[tuple[str, str]] = (),
) -> BundleGuess:
    """``entries``: each server's directory and entrypoint file (relative to it), whose
    fastmcp.json or ``# /// script`` block may name its Python."""
    guess = BundleGuess()
    guess.python, guess.python_note = _python(repo, server_dirs, project_dirs, entries)
    locks = sorted(f for f in repo.files if PurePosixPath(f).name == "uv.lock")
    if locks:
        shown = ", ".join(locks[:3]) + (f" and {len(locks) - 3} more" if len(locks) > 3 else "")
        if find_uv() is not None:
            guess.resolver = "uv"
            guess.resolver_note = f"uv.lock found ({shown}): pins resolved with uv"
        else:
            guess.resolver_note = (
                f"uv.lock found ({shown}) but no uv binary here: pins resolved with "
                'pip-tools; `pip install uv` and set resolver = "uv" to resolve with uv'
            )
    _git(guess, git)
    guess.exclude, guess.exclude_note = _excludes(repo, [*server_dirs, "."])
    dist = repo.root / "dist"
    if dist.is_dir() and any(dist.iterdir()) and not (dist / OUTPUT_MARKER).exists():
        guess.output = "mcpbundle-dist"
        guess.output_note = "dist/ holds files mcpbundle did not write: building elsewhere"
    return guess


def _python(
    repo: Repo,
    server_dirs: Sequence[str],
    project_dirs: Sequence[str],
    entries: Sequence[tuple[str, str]],
) -> tuple[str | None, str]:
    root = repo.root
    if repo.has(VERSION_FILE):
        version = parse_version_file(root / VERSION_FILE)
        if version is not None:
            return version, f"from {VERSION_FILE}"
    found = {
        d: v
        for d in server_dirs
        if repo.has(f"{d}/{VERSION_FILE}")
        and (v := parse_version_file(root / d / VERSION_FILE)) is not None
    }
    if found and len(set(found.values())) == 1 and len(found) == len(server_dirs):
        return next(iter(found.values())), "from the servers' .python-version files"
    declared = {
        directory: python[0]
        for directory, entry in entries
        if (python := environment_python(root, directory, entry))
    }
    if declared and len(set(declared.values())) == 1 and len(declared) == len(server_dirs):
        return next(iter(declared.values())), "from the servers' fastmcp.json environment.python"
    specs: list[tuple[str, SpecifierSet]] = []  # (where it is written, the specifier)
    for directory, entry in entries:
        rel = join(directory, entry)
        with contextlib.suppress(MCPBundleError, InvalidSpecifier):  # build reports either
            text = script_python(root, rel)
            if text is not None:
                specs.append((f"{rel}'s # /// script block", SpecifierSet(text)))
    for directory in project_dirs:
        data = repo.pyprojects.get(directory, {})
        project = data.get("project")
        text = project.get("requires-python") if isinstance(project, dict) else None
        if not isinstance(text, str):  # Poetry: python = "^3.11" among its dependencies
            tool = data.get("tool")
            poetry = tool.get("poetry") if isinstance(tool, dict) else None
            deps = poetry.get("dependencies") if isinstance(poetry, dict) else None
            python = deps.get("python") if isinstance(deps, dict) else None
            text = poetry_specifier(python) if isinstance(python, str) else None
        if isinstance(text, str) and text.strip():
            where = "pyproject.toml" if directory == "." else f"{directory}/pyproject.toml"
            try:
                specs.append((where, SpecifierSet(text)))
            except InvalidSpecifier:
                continue
    if not specs:
        pipenv = {v for d in server_dirs if (v := _pipfile_python(root, d)) is not None}
        if len(pipenv) == 1:
            return pipenv.pop(), "from the servers' Pipfile [requires] python_version"
        return None, (
            "no requires-python or .python-version found: pins are for the Python running "
            'mcpbundle; set python = "3.X" to the version the host runs'
        )
    for minor in _MINORS:
        version = f"3.{minor}"
        if all(any(s.contains(f"{version}.{p}") for p in (0, 99)) for _, s in specs):
            strictest = max(specs, key=lambda item: _lower_bound(item[1]))
            return version, (
                f"the lowest Python every requires-python allows ({strictest[1]} in "
                f"{strictest[0]}); "
                "set the version the host runs"
            )
    return None, "the servers' requires-python have no Python 3 in common: set python by hand"


def _lower_bound(spec: SpecifierSet) -> tuple[int, ...]:
    bounds = [s.version for s in spec if s.operator in (">=", ">", "~=", "==")]
    parsed = [tuple(int(p) for p in b.split(".") if p.isdigit()) for b in bounds]
    return max(parsed, default=(0,))


def _git(guess: BundleGuess, lines: Iterable[ReqLine]) -> None:
    pinned, floating = [], []
    for line in lines:
        try:
            spec = parse_git_url(line)
        except ConfigError:
            continue
        if spec.ref is None and (line.name or spec.name):
            floating.append((spec.url, line.origin))
        else:
            pinned.append(spec.url)
    if not floating:
        if pinned:
            guess.git_note = (
                f"git requirements ({', '.join(sorted(set(pinned)))}) are cloned at build time; "
                'git = "pypi" takes their PyPI release instead'
            )
        return
    urls = sorted({url for url, _ in floating})
    why = f"{', '.join(urls)} names no ref (follows a branch): using its PyPI release"
    if pinned:
        guess.git_overrides = dict.fromkeys(urls, "pypi")
        guess.git_note = why + "; set it to vendor to clone it at build time"
    else:
        guess.git = "pypi"
        guess.git_note = why + '; git = "vendor" clones it at build time instead'


def _excludes(repo: Repo, directories: Sequence[str]) -> tuple[list[str], str]:
    """Patterns of EXCLUDE_RULES that match a file inside a server directory."""
    relevant = [
        rel
        for rel in repo.files
        if any(d == "." or rel.startswith(d.rstrip("/") + "/") for d in directories)
    ]
    chosen, kinds = [], []
    for pattern, kind in EXCLUDE_RULES:
        spec = pathspec.GitIgnoreSpec.from_lines([pattern])
        if any(spec.match_file(rel) for rel in relevant):
            chosen.append(pattern)
            if kind not in kinds:
                kinds.append(kind)
    note = f"{', '.join(kinds)} found; none of it runs on the host" if chosen else ""
    return chosen, note


def _pipfile_python(root: Path, directory: str) -> str | None:
    """``[requires] python_version = "3.12"`` of the directory's Pipfile, if it has one."""
    path = root / directory / PIPFILE
    if not path.is_file():
        return None
    try:
        requires = read_toml(path, display=PIPFILE).get("requires")
    except ConfigError:
        return None
    version = requires.get("python_version") if isinstance(requires, dict) else None
    if isinstance(version, str) and re.fullmatch(r"3\.\d+", version.strip()):
        return version.strip()
    return None
