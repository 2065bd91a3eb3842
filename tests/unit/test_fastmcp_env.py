"""A server's fastmcp.json environment as requirement entries (no resolver, no network)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mcpbundle.base.errors import BuildError
from mcpbundle.plan.fastmcp_env import environment_python, environment_requirements


def _server(root: Path, documents: dict[str, object], **files: str) -> None:
    (root / "srv").mkdir(parents=True)
    for name, document in documents.items():
        (root / "srv" / name).write_text(json.dumps(document))
    for name, text in files.items():
        (root / "srv" / name).write_text(text)


def _names(root: Path, entry: str = "server.py") -> list[str | None]:
    return [line.name for line in environment_requirements(root, "srv", entry)]


def test_dependencies_requirements_and_project_of_the_entrys_file(tmp_path: Path) -> None:
    _server(
        tmp_path,
        {
            "fastmcp.json": {
                "source": {"path": "./server.py"},
                "environment": {
                    "dependencies": ["httpx>=0.27"],
                    "requirements": "reqs.txt",
                    "project": ".",
                },
            }
        },
        **{"reqs.txt": "rich\n", "pyproject.toml": "[project]\nname='s'\ndependencies=['anyio']\n"},
    )
    assert _names(tmp_path) == ["httpx", "rich", "anyio"]
    (line,) = [
        x for x in environment_requirements(tmp_path, "srv", "server.py") if x.name == "httpx"
    ]
    assert line.origin == "srv/fastmcp.json: environment.dependencies[0]"


def test_a_file_for_another_entry_or_without_a_source_adds_nothing(tmp_path: Path) -> None:
    _server(tmp_path, {
        "a.fastmcp.json": {"source": {"path": "other.py"}, "environment": {"dependencies": ["x"]}},
        "b.fastmcp.json": {"environment": {"dependencies": ["y"]}},
        "legacy.fastmcp.json": {"entrypoint": "server.py:mcp",
                                "environment": {"dependencies": ["z"]}},
    })  # fmt: skip
    (tmp_path / "srv" / "broken.fastmcp.json").write_text("{not json")
    assert _names(tmp_path) == ["z"]


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"dependencies": ["ok", 3]}, "environment.dependencies[1] is not a requirement"),
        ({"requirements": "missing.txt"}, "which is not a file"),
        ({"requirements": "../../outside.txt"}, "outside the repository"),
    ],
)
def test_a_broken_environment_fails_naming_the_file(
    tmp_path: Path, environment: dict[str, object], message: str
) -> None:
    (tmp_path / "outside.txt").write_text("x\n")
    root = tmp_path / "repo"
    _server(root, {"fastmcp.json": {"source": {"path": "server.py"}, "environment": environment}})
    with pytest.raises(BuildError, match=re.escape(message)) as caught:
        environment_requirements(root, "srv", "server.py")
    assert caught.value.where == "srv/fastmcp.json"


def test_editable_directories_are_local_path_entries(tmp_path: Path) -> None:
    (tmp_path / "libs/common").mkdir(parents=True)
    (tmp_path / "libs/common/pyproject.toml").write_text("[project]\nname = 'common'\n")
    _server(
        tmp_path,
        {
            "fastmcp.json": {
                "source": {"path": "server.py"},
                "environment": {"editable": ["../libs/common"]},
            }
        },
    )
    (line,) = environment_requirements(tmp_path, "srv", "server.py")
    assert (line.kind, line.editable) == ("path", True)
    assert line.path is not None and line.path.resolve() == (tmp_path / "libs/common").resolve()
    assert line.origin == "srv/fastmcp.json: environment.editable[0]"


def test_an_editable_entry_that_is_no_path_is_one_line(tmp_path: Path) -> None:
    _server(
        tmp_path,
        {"fastmcp.json": {"source": {"path": "server.py"}, "environment": {"editable": [3]}}},
    )
    with pytest.raises(BuildError, match=r"environment.editable\[0\] is not a path"):
        environment_requirements(tmp_path, "srv", "server.py")


@pytest.mark.parametrize(
    ("python", "expected"),
    [("3.12", "3.12"), ("3.13.1", "3.13"), ("==3.12", "3.12"), (">=3.11", None), (12, None)],
)
def test_environment_python_names_the_target(
    tmp_path: Path, python: object, expected: str | None
) -> None:
    _server(
        tmp_path,
        {"fastmcp.json": {"source": {"path": "server.py"}, "environment": {"python": python}}},
    )
    found = environment_python(tmp_path, "srv", "server.py")
    if expected is None:
        assert found is None
    else:
        assert found == (expected, "srv/fastmcp.json: environment.python")


def test_environment_python_of_another_entry_is_not_this_servers(tmp_path: Path) -> None:
    _server(
        tmp_path,
        {"fastmcp.json": {"source": {"path": "other.py"}, "environment": {"python": "3.12"}}},
    )
    assert environment_python(tmp_path, "srv", "server.py") is None
