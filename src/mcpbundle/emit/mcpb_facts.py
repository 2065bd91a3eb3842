"""What mcpbundle knows about a server that an MCP Bundle manifest asks for.

Read from the plan and the repository, never by importing the server: its project's
metadata (``[project]`` of its ``pyproject.toml``, or Poetry's table), the first line
of its entry file's docstring, and the environment variables its shipped code reads
(:func:`mcpbundle.plan.env_reads.find_env_reads`, the analysis behind check's MCB006)
with the defaults its ``.env.example`` gives.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import MCPBundleError
from mcpbundle.config.read import read_toml
from mcpbundle.config.settings import Config
from mcpbundle.plan.env_reads import EnvRead, env_example_values, find_env_reads
from mcpbundle.plan.planner import ServerPlan
from mcpbundle.plan.python_parse import TargetUnavailable, parse_module

# Names a secret goes by: a variable with one of these words (or ending in one) is
# `sensitive` (the client masks it and stores it in the keychain).
_SECRET_WORDS = (
    "KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE",
    "CREDENTIAL", "CREDENTIALS", "AUTH", "PRIVATE", "COOKIE", "SIGNATURE", "DSN",
)  # fmt: skip
_SECRET_ENDINGS = ("KEY", "TOKEN", "SECRET", "PASSWORD")
# The process's own environment, not settings of the server: never asked of the user.
SYSTEM_VARIABLES = frozenset(
    {
        "HOME", "PATH", "PWD", "USER", "USERNAME", "LOGNAME", "SHELL", "LANG", "LC_ALL",
        "TERM", "TMPDIR", "TEMP", "TMP", "PYTHONPATH", "VIRTUAL_ENV", "APPDATA",
        "LOCALAPPDATA", "USERPROFILE", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
        "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
    }
)  # fmt: skip
_URL = re.compile(r"^https?://[^\s]+$")


@dataclass(frozen=True, kw_only=True)
class Setting:
    """One environment variable the server reads: a ``user_config`` entry."""

    name: str
    required: bool  # some read has no default
    sensitive: bool
    default: str | None  # from .env.example (or the code's constant default); never secret
    read_at: str  # "src/server.py:13": its first read, inside the server's folder


@dataclass(frozen=True, kw_only=True)
class Facts:
    name: str
    version: str | None
    description: str | None
    author: Mapping[str, str] | None
    license: str | None = None
    keywords: tuple[str, ...] = ()
    urls: Mapping[str, str] = field(default_factory=dict)  # homepage, documentation...
    settings: tuple[Setting, ...] = ()


def is_sensitive(name: str) -> bool:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name.upper()) if w]
    return any(w in _SECRET_WORDS or w.endswith(_SECRET_ENDINGS) for w in words)


def gather(config: Config, plan: ServerPlan, shipped: Mapping[str, Path]) -> Facts:
    """The facts of ``plan``'s server; ``shipped``: its files, path inside the server's
    folder -> the file to read (the staged copy)."""
    project = _project(config.root / plan.pyproject) if plan.pyproject else {}
    entry = _entry_source(config, plan)
    return Facts(
        name=plan.name,
        version=_text(project.get("version")),
        description=_text(project.get("description")) or _docstring(entry, plan.python),
        author=_author(project.get("authors")),
        license=_license(project.get("license")),
        keywords=tuple(k for k in project.get("keywords") or () if isinstance(k, str)),
        urls=_urls(project.get("urls")),
        settings=tuple(settings(shipped, plan.python)),
    )


def settings(shipped: Mapping[str, Path], python: str | None) -> list[Setting]:
    """One setting per variable the shipped Python code reads, sorted by name."""
    modules: list[tuple[str, ast.Module]] = []
    examples: list[str] = []
    for rel in sorted(shipped):
        if rel.rsplit("/", 1)[-1] == ".env.example":
            examples.append(_read(shipped[rel]) or "")
        elif rel.endswith(".py"):
            tree = _parse(_read(shipped[rel]), rel, python)
            if tree is not None:
                modules.append((rel, tree))
    values = env_example_values(examples)
    found: dict[str, list[EnvRead]] = {}
    for read in find_env_reads(modules):
        if read.name not in SYSTEM_VARIABLES:
            found.setdefault(read.name, []).append(read)
    result = []
    for name, reads in sorted(found.items()):
        sensitive = is_sensitive(name)
        default = values.get(name) or _code_default(reads)
        first = reads[0]
        result.append(
            Setting(
                name=name,
                required=any(not r.default for r in reads),
                sensitive=sensitive,
                default=None if sensitive or not default else default,
                read_at=f"{first.file}:{getattr(first.node, 'lineno', 1)}",
            )
        )
    return result


def _code_default(reads: Sequence[EnvRead]) -> str | None:
    """A direct read's constant string default (``os.getenv("X", "eu")``)."""
    for read in reads:
        node = read.node
        if read.via is None and isinstance(node, ast.Call) and len(node.args) >= 2:
            value = node.args[1]
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _parse(text: str | None, display: str, python: str | None) -> ast.Module | None:
    if text is None:
        return None
    try:
        return parse_module(text, display, python)
    except (SyntaxError, TargetUnavailable):
        return None  # check reports it (MCB000); the build does not parse code again


def _entry_source(config: Config, plan: ServerPlan) -> Path:
    """The server's own entry file (the configured one, not a shim)."""
    entry = plan.original_entrypoint or plan.entry_file
    return config.root / entry.rpartition(":")[0] if ":" in entry else config.root / entry


def _docstring(path: Path, python: str | None) -> str | None:
    tree = _parse(_read(path), path.name, python)
    text = ast.get_docstring(tree) if tree is not None else None
    first = (text or "").strip().split("\n\n", 1)[0]
    return " ".join(first.split()) or None


def _project(path: Path) -> dict[str, Any]:
    """``[project]``, or the Poetry table's name/version/description/authors/...; {} when
    the file is missing or unreadable (the build reports a broken pyproject itself)."""
    if not path.is_file():
        return {}
    try:
        data = read_toml(path, display=path.name)
    except MCPBundleError:
        return {}
    project = data.get("project")
    if isinstance(project, dict) and project:
        return project
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if not isinstance(poetry, dict):
        return {}
    authors = [_poetry_author(a) for a in poetry.get("authors") or () if isinstance(a, str)]
    urls = {k: poetry[k] for k in ("homepage", "repository", "documentation") if k in poetry}
    return {**poetry, "authors": authors, "urls": urls}


def _poetry_author(text: str) -> dict[str, str]:
    match = re.match(r"^\s*(.*?)\s*<([^>]+)>\s*$", text)
    return {"name": match.group(1), "email": match.group(2)} if match else {"name": text.strip()}


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _author(value: object) -> dict[str, str] | None:
    if not isinstance(value, list):
        return None
    for item in value:
        if isinstance(item, dict) and _text(item.get("name")):
            author = {"name": str(_text(item["name"]))}
            email = _text(item.get("email"))
            if email and "@" in email:
                author["email"] = email
            return author
    return None


def _license(value: object) -> str | None:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return _text(value.get("text"))
    return None


_URL_KEYS = {
    "homepage": "homepage",
    "home": "homepage",
    "documentation": "documentation",
    "docs": "documentation",
    "repository": "repository",
    "source": "repository",
    "source code": "repository",
    "issues": "support",
    "bug tracker": "support",
    "tracker": "support",
    "support": "support",
}


def _urls(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    found: dict[str, str] = {}
    for key, url in value.items():
        field_name = _URL_KEYS.get(str(key).strip().lower().replace("_", " ").replace("-", " "))
        if field_name and isinstance(url, str) and _URL.match(url) and field_name not in found:
            found[field_name] = url
    return found


def env_names(found: Iterable[Setting]) -> list[str]:
    return [s.name for s in found]
