from __future__ import annotations

from pathlib import Path

import pytest

from mcpbundle.base.errors import ConfigError
from mcpbundle.plan.locks import (
    LockPins,
    find_lock,
    preferences_for,
    read_lock_pins,
    workspace_root_dependencies,
)

UV_LOCK = """\
version = 1
revision = 2
requires-python = ">=3.11"

[manifest]
members = ["mcp-garmin", "monorepo"]

[[package]]
name = "monorepo"
version = "0.1.0"
source = { virtual = "." }

[[package]]
name = "mcp-garmin"
version = "0.2.0"
source = { editable = "servers/garmin" }

[[package]]
name = "shared-lib"
version = "0.1.0"
source = { directory = "libs/shared" }

[[package]]
name = "FastMCP"
version = "2.12.4"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "httpx"
version = "0.28.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version < '3.12'"]

[[package]]
name = "numpy"
version = "2.1.0"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.12'"]

[[package]]
name = "fromgit"
version = "1.0.0"
source = { git = "https://github.com/x/y?rev=main#abc" }
"""

POETRY_LOCK = """\
[[package]]
name = "Pydantic_Core"
version = "2.23.4"
description = "x"
optional = false
python-versions = ">=3.8"
files = []

[[package]]
name = "local-lib"
version = "0.1.0"
develop = true

[package.source]
type = "directory"
url = "../libs/local"

[[package]]
name = "private"
version = "3.0"

[package.source]
type = "legacy"
url = "https://pypi.example.com/simple"
reference = "corp"

[[package]]
name = "vcs"
version = "0.0.1"

[package.source]
type = "git"
url = "https://github.com/x/vcs"
reference = "main"

[metadata]
lock-version = "2.0"
"""

PYLOCK = """\
lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.11"

[[packages]]
name = "mcp"
version = "1.25.0"
index = "https://pypi.org/simple"
wheels = [{ url = "https://files/mcp-1.25.0-py3-none-any.whl", hashes = { sha256 = "00" } }]

[[packages]]
name = "member"
directory = { path = ".", editable = true }

[[packages]]
name = "gitdep"
version = "1.0"
vcs = { type = "git", url = "https://github.com/x/y", commit-id = "abc" }
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_uv_lock(tmp_path: Path) -> None:
    lock = read_lock_pins(_write(tmp_path / "uv.lock", UV_LOCK))
    assert lock is not None
    assert lock.kind == "uv.lock"
    assert dict(lock.pins) == {"fastmcp": "2.12.4", "httpx": "0.28.1"}


def test_poetry_lock(tmp_path: Path) -> None:
    lock = read_lock_pins(_write(tmp_path / "poetry.lock", POETRY_LOCK))
    assert lock is not None
    assert dict(lock.pins) == {"private": "3.0", "pydantic-core": "2.23.4"}


@pytest.mark.parametrize("name", ["pylock.toml", "pylock.dev.toml"])
def test_pylock(tmp_path: Path, name: str) -> None:
    lock = read_lock_pins(_write(tmp_path / name, PYLOCK))
    assert lock is not None
    assert lock.kind == "pylock.toml"
    assert dict(lock.pins) == {"mcp": "1.25.0"}


def test_pinned_requirements(tmp_path: Path) -> None:
    text = (
        "# generated\n--index-url https://pypi.org/simple\n"
        "Fast_MCP==2.12.4 \\\n    --hash=sha256:00\n    # via -r in\n"
        "anyio===4.0 ; python_version >= '3.8'\nhttpx[http2]==0.28.1\n"
    )
    lock = read_lock_pins(_write(tmp_path / "requirements.txt", text))
    assert lock is not None
    assert lock.kind == "requirements"
    assert dict(lock.pins) == {"anyio": "4.0", "fast-mcp": "2.12.4", "httpx": "0.28.1"}


@pytest.mark.parametrize(
    "text",
    [
        "fastmcp>=2\n",
        "fastmcp==2.*\n",
        "fastmcp==2.1\nhttpx\n",
        "-e ./lib\nfastmcp==2.1\n",
        "-r other.txt\n",
        "lib @ https://x/lib.whl\n",
        "# nothing\n",
        "not a requirement (\n",
    ],
)
def test_not_fully_pinned_requirements(tmp_path: Path, text: str) -> None:
    assert read_lock_pins(_write(tmp_path / "requirements.txt", text)) is None


def test_invalid_toml_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        read_lock_pins(_write(tmp_path / "uv.lock", "[[package]\nname="))
    assert "\n" not in str(info.value)


def test_find_lock_nearest_and_bounded(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    server = repo / "servers" / "garmin"
    server.mkdir(parents=True)
    _write(tmp_path / "uv.lock", UV_LOCK)  # above the repo: never used
    assert find_lock(server, repo) is None
    root_lock = _write(repo / "uv.lock", UV_LOCK)
    assert find_lock(server, repo) == root_lock.resolve()
    # a loose requirements.txt is not a lock: the search goes on upwards
    _write(server / "requirements.txt", "fastmcp>=2\n")
    assert find_lock(server, repo) == root_lock.resolve()
    pinned = _write(server / "requirements.txt", "fastmcp==2.12.4\n")
    assert find_lock(server, repo) == pinned.resolve()
    poetry = _write(server / "poetry.lock", POETRY_LOCK)
    assert find_lock(server, repo) == poetry.resolve()
    named = _write(server / "pylock.prod.toml", PYLOCK)
    assert find_lock(server, repo) == named.resolve()
    uv_here = _write(server / "uv.lock", UV_LOCK)
    assert find_lock(server, repo) == uv_here.resolve()
    assert find_lock(tmp_path / "elsewhere", repo) is None


def test_preferences_for() -> None:
    lock = LockPins(source="uv.lock", kind="uv.lock", pins={"fastmcp": "2.12.4", "httpx": "1"})
    assert preferences_for(lock, ["HTTPX", "FastMCP", "missing", "httpx"]) == [
        "fastmcp==2.12.4",
        "httpx==1",
    ]
    assert preferences_for(lock, []) == []


WORKSPACE_ROOT = """\
[project]
name = "monorepo"
version = "0.1.0"
dependencies = ["fastmcp>=2.12", "httpx"]

[tool.uv.workspace]
members = ["servers/*", "libs/**"]
exclude = ["servers/legacy"]
"""


def test_workspace_root_dependencies(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", WORKSPACE_ROOT)
    member = tmp_path / "servers" / "garmin"
    member.mkdir(parents=True)
    assert workspace_root_dependencies(member, tmp_path) == (
        ["fastmcp>=2.12", "httpx"],
        "pyproject.toml",
    )
    # a directory inside a member belongs to it
    inner = member / "src"
    inner.mkdir()
    assert workspace_root_dependencies(inner, tmp_path)[1] == "pyproject.toml"
    deep = tmp_path / "libs" / "a" / "b"
    deep.mkdir(parents=True)
    assert workspace_root_dependencies(deep, tmp_path)[0] == ["fastmcp>=2.12", "httpx"]
    legacy = tmp_path / "servers" / "legacy"
    legacy.mkdir()
    assert workspace_root_dependencies(legacy, tmp_path) == ([], None)
    other = tmp_path / "tools" / "x"
    other.mkdir(parents=True)
    assert workspace_root_dependencies(other, tmp_path) == ([], None)


def test_workspace_nested_repo_root_and_virtual_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _write(tmp_path / "pyproject.toml", WORKSPACE_ROOT.replace("servers/*", "repo/servers/*"))
    server = repo / "servers" / "s"
    server.mkdir(parents=True)
    assert workspace_root_dependencies(server, repo) == ([], None)  # root is above the repo
    _write(repo / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["servers/s"]\n')
    assert workspace_root_dependencies(server, repo) == ([], "pyproject.toml")


def test_workspace_bad_dependencies(tmp_path: Path) -> None:
    _write(
        tmp_path / "pyproject.toml",
        '[project]\ndependencies = "fastmcp"\n[tool.uv.workspace]\nmembers = ["s"]\n',
    )
    (tmp_path / "s").mkdir()
    with pytest.raises(ConfigError, match="list of strings"):
        workspace_root_dependencies(tmp_path / "s", tmp_path)
