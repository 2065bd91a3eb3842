"""The ``[ci]`` table of ``mcpbundle.toml``: what ``mcpbundle ci github`` writes.

Every value lands in a workflow file (YAML) and some in shell commands, so each is
checked here against a strict alphabet rather than escaped later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mcpbundle.base.redact import has_credentials
from mcpbundle.config.paths import branch_name_problem
from mcpbundle.config.schema import STRING, Key, Reader, Table, read_keys

FAIL_ON = ("breaking", "compatible", "info")  # `mcpbundle diff --fail-on` in pull requests
CI = Table(
    (
        Key("install", STRING, "What the jobs pip install (default: mcpbundle==<the version "
            "writing it>); any pip requirement (a git URL, a fork)."),
        Key("python", STRING, "Python for the jobs (default: [bundle] python, else 3.12).",
            pattern=r"^3\.\d{1,2}$"),
        Key("working-directory", STRING, "Where the jobs run, relative to the repository root "
            "(default: this file's directory)."),
        Key("default-branch", STRING, "Pushes to it deploy; pull requests into it are "
            "verified.", "main"),
        Key("fail-on", STRING, "Pull requests fail on MCP surface changes this severe: "
            "breaking, compatible or info (default: never).",
            pattern=r"^(breaking|compatible|info)$"),
    ),
    "What `mcpbundle ci github` writes.",
)  # fmt: skip
CI_KEYS = CI.names
PYTHON = re.compile(r"^3\.\d{1,2}$")
_DIRECTORY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_INSTALL_BAD = re.compile(r"['\n\r\0\\`$]")
_INSTALL_URL = re.compile(r"(?:(?:git|hg|svn|bzr)\+)?https?://[^\s]+|git\+ssh://[^\s]+")


@dataclass(frozen=True, kw_only=True)
class CiSettings:
    """The ``[ci]`` table: what the generated workflow installs and runs, and where."""

    install: str | None = None  # a pip requirement; None: mcpbundle==<this version>
    python: str | None = None  # None: [bundle] python, else 3.12
    working_directory: str | None = None  # None: the config's directory in the repository
    default_branch: str = CI.default("default-branch")  # pushes deploy; pull requests verify
    fail_on: str | None = None  # pull requests fail on surface changes this severe (None: never)


def install_problem(text: str) -> str | None:
    """Why ``text`` cannot be the workflow's ``pip install`` argument (None if it can)."""
    if not text.strip():
        return "is empty"
    if _INSTALL_BAD.search(text):
        return "contains a quote, backslash, backtick, '$' or line break"
    if has_credentials(text):
        return "holds a credential in a URL, which the workflow file would publish"
    if _INSTALL_URL.fullmatch(text):
        return None  # pip installs a VCS or archive URL as it is (git+https://...@v1)
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement as exc:
        return f"is not a pip requirement ({exc})"
    return None


def directory_problem(text: str) -> str | None:
    if text in (".", ""):
        return None
    parts = text.strip("/").split("/")
    if text.startswith("/") or ".." in parts or not _DIRECTORY.match(text):
        return "must be a relative path inside the repository (letters, digits, . _ - /)"
    return None


def fail_on_problem(text: str) -> str | None:
    return None if text in FAIL_ON else f"must be one of {', '.join(FAIL_ON)}"


def branch_problem(text: str) -> str | None:
    problem = branch_name_problem(text)
    if problem is None and not _BRANCH.match(text):
        problem = "use letters, digits, '.', '_', '-' and '/'"
    return problem


def read_ci(reader: Reader, table: dict[str, Any]) -> CiSettings:
    values: dict[str, Any] = {
        CI[name].attr: value for name, value in read_keys(reader, "ci", table, CI).items()
    }
    checks = {
        "install": (install_problem, "e.g. install = 'mcpbundle==0.1.0'"),
        "python": (lambda v: None if PYTHON.match(v) else "must look like '3.12'", None),
        "working_directory": (directory_problem, "e.g. working-directory = 'services/mcp'"),
        "default_branch": (branch_problem, "e.g. default-branch = 'main'"),
        "fail_on": (fail_on_problem, "e.g. fail-on = 'breaking'"),
    }
    for attr, (check, hint) in checks.items():
        if attr in values:
            problem = check(values[attr])
            if problem:
                key = f"ci.{attr.replace('_', '-')}"
                raise reader.fail(key, f"{values[attr]!r} {problem}", hint)
    return CiSettings(**values)
