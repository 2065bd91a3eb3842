"""rewrite_pyproject: pins in, local sources and build-system out, comments kept."""

from __future__ import annotations

import tomllib

import pytest

from mcpbundle.base.errors import ConfigError
from mcpbundle.emit.pyproject_rewrite import rewrite_pyproject

PINS = ["anyio==4.4.0", "httpx==0.27.2", 'tomli==2.0.1; python_version < "3.11"']

UV_PROJECT = """\
# The ops server.
[build-system]
requires = ["hatchling"]  # pure python
build-backend = "hatchling.build"

[project]
name = "ops"  # keep me
version = "0.1.0"
dependencies = [
    "shared-utils",  # vendored by mcpbundle
    "httpx>=0.27",
]

[project.scripts]
ops = "ops.server:main"

[tool.uv]
# uv settings stay
dev-dependencies = ["pytest>=8"]

[tool.uv.sources]
shared-utils = { workspace = true }

[tool.uv.workspace]
members = ["libs/*"]

[tool.ruff]
line-length = 100  # house style
"""

EXPECTED_UV = """\
# The ops server.
[project]
name = "ops"  # keep me
version = "0.1.0"
dependencies = [
    "anyio==4.4.0",
    "httpx==0.27.2",
    'tomli==2.0.1; python_version < "3.11"',
]

[project.scripts]
ops = "ops.server:main"

[tool.uv]
# uv settings stay
dev-dependencies = ["pytest>=8"]

[tool.ruff]
line-length = 100  # house style
"""


def test_uv_project_exact_output() -> None:
    assert rewrite_pyproject(UV_PROJECT, pins=PINS) == EXPECTED_UV


def test_rewriting_twice_equals_once() -> None:
    once = rewrite_pyproject(UV_PROJECT, pins=PINS)
    assert rewrite_pyproject(once, pins=PINS) == once
    kept = rewrite_pyproject(UV_PROJECT, pins=PINS, installable=True)
    assert rewrite_pyproject(kept, pins=PINS, installable=True) == kept
    poetry = rewrite_pyproject(POETRY, pins=PINS)
    assert rewrite_pyproject(poetry, pins=PINS) == poetry


def test_dependencies_become_exactly_the_pins() -> None:
    data = tomllib.loads(rewrite_pyproject(UV_PROJECT, pins=PINS))
    assert data["project"]["dependencies"] == PINS
    empty = tomllib.loads(rewrite_pyproject(UV_PROJECT, pins=[]))
    assert empty["project"]["dependencies"] == []


def test_dependencies_added_when_missing_and_removed_from_dynamic() -> None:
    text = (
        '[project]\nname = "ops"\ndynamic = ["version", "dependencies"]\n\n'
        '[project.urls]\nHome = "https://example.com"\n\n'
        '[tool.setuptools.dynamic]\ndependencies = { file = ["requirements.in"] }\n'
        'version = { attr = "ops.__version__" }\n'
    )
    out = rewrite_pyproject(text, pins=["httpx==0.27.2"])
    data = tomllib.loads(out)
    assert data["project"]["dependencies"] == ["httpx==0.27.2"]
    assert data["project"]["dynamic"] == ["version"]
    assert data["project"]["urls"] == {"Home": "https://example.com"}
    assert data["tool"]["setuptools"]["dynamic"] == {"version": {"attr": "ops.__version__"}}
    assert rewrite_pyproject(out, pins=["httpx==0.27.2"]) == out


def test_only_dynamic_dependencies_drops_dynamic() -> None:
    text = '[project]\nname = "ops"\nversion = "1"\ndynamic = ["dependencies"]\n'
    data = tomllib.loads(rewrite_pyproject(text, pins=["a==1"]))
    assert "dynamic" not in data["project"]


def test_build_system_kept_when_installable() -> None:
    data = tomllib.loads(rewrite_pyproject(UV_PROJECT, pins=PINS, installable=True))
    assert data["build-system"]["build-backend"] == "hatchling.build"
    assert "sources" not in data["tool"]["uv"]


def test_uv_table_removed_when_only_sources_were_in_it() -> None:
    text = (
        '[project]\nname = "ops"\nversion = "1"\n\n'
        '[tool.uv.sources]\nshared = { path = "../../libs/shared", editable = true }\n\n'
        '[tool.uv.workspace]\nmembers = ["libs/*"]\n'
    )
    data = tomllib.loads(rewrite_pyproject(text, pins=["a==1"]))
    assert "tool" not in data
    assert data["project"] == {"name": "ops", "version": "1", "dependencies": ["a==1"]}


def test_uv_sources_out_of_order_and_dotted() -> None:
    text = (
        '[tool.uv]\npackage = false\n\n[project]\nname = "ops"\nversion = "1"\n\n'
        '[tool.uv.sources]\nlib = { git = "https://github.com/org/lib", tag = "v1" }\n'
    )
    out = rewrite_pyproject(text, pins=["lib==1.0"])
    assert tomllib.loads(out)["tool"] == {"uv": {"package": False}}
    assert rewrite_pyproject(out, pins=["lib==1.0"]) == out
    dotted = '[project]\nname = "x"\n\n[tool]\nuv.sources.lib = { path = "../lib" }\n'
    assert "tool" not in tomllib.loads(rewrite_pyproject(dotted, pins=[]))


POETRY = """\
[tool.poetry]
name = "ops"
version = "0.1.0"
description = "Ops server"  # shown on the dashboard

[tool.poetry.dependencies]
python = "^3.11"
httpx = "^0.27"
shared-utils = { path = "../../libs/shared-utils", develop = true }
private = { git = "https://github.com/org/private.git", tag = "v1" }
rich = [
    { version = "^13", python = ">=3.11" },
]

[tool.poetry.dependencies.local-table]
path = "../local"

[tool.poetry.group.dev.dependencies]
pytest = "^8"
testkit = { path = "../../libs/testkit" }

[tool.poetry.dev-dependencies]
old-local = { path = "../old" }
black = "*"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
"""


def test_poetry_only_project() -> None:
    out = rewrite_pyproject(POETRY, pins=PINS)
    data = tomllib.loads(out)
    poetry = data["tool"]["poetry"]
    assert list(poetry["dependencies"]) == ["python", "httpx", "rich"]
    assert poetry["group"]["dev"]["dependencies"] == {"pytest": "^8"}
    assert poetry["dev-dependencies"] == {"black": "*"}
    assert "build-system" not in data
    assert "project" not in data  # no [project] table: dependencies are left alone
    assert 'description = "Ops server"  # shown on the dashboard' in out


def test_no_project_table_and_nothing_to_remove_is_unchanged() -> None:
    text = "# just tools\n[tool.ruff]\nline-length = 100  # why not\n"
    assert rewrite_pyproject(text, pins=PINS) == text


def test_comments_preserved() -> None:
    out = rewrite_pyproject(UV_PROJECT, pins=PINS)
    for comment in ("# The ops server.", "# keep me", "# uv settings stay", "# house style"):
        assert comment in out
    assert "vendored by mcpbundle" not in out  # it belonged to a dependency that is gone


def test_deterministic_and_single_trailing_newline() -> None:
    text = UV_PROJECT + "\n\n\n"
    out = rewrite_pyproject(text, pins=PINS)
    assert out == rewrite_pyproject(text, pins=PINS) == EXPECTED_UV


def test_invalid_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        rewrite_pyproject("[project\n", pins=[], where="servers/ops/pyproject.toml")
    assert str(info.value).startswith("servers/ops/pyproject.toml: invalid TOML")
    assert info.value.exit_code == 2


def test_index_settings_with_credentials_do_not_ship() -> None:
    text = (
        '[project]\nname = "s"\ndependencies = ["alpha"]\n'
        '[tool.uv]\nindex-url = "https://u:tok@corp.example/simple"\ndev-dependencies = []\n'
        '[[tool.uv.index]]\nname = "corp"\nurl = "https://u:tok@corp.example/simple"\n'
        '[tool.poetry]\nname = "s"\n'
        '[[tool.poetry.source]]\nname = "corp"\nurl = "https://u:tok@corp.example/simple"\n'
    )
    out = rewrite_pyproject(text, pins=["alpha==1.0"])
    assert "tok" not in out
    assert "corp.example" not in out
    assert "dev-dependencies = []" in out
