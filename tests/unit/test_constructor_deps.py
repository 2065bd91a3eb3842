"""The ``dependencies=`` a server constructor declares, read with ast."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpbundle.plan.constructor_deps import constructor_requirements


def _names(tmp_path: Path, code: str) -> list[str | None]:
    (tmp_path / "srv").mkdir(exist_ok=True)
    (tmp_path / "srv/server.py").write_text(code)
    return [line.name for line in constructor_requirements(tmp_path, "srv/server.py")]


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ("from fastmcp import FastMCP\nmcp = FastMCP('x', dependencies=['httpx', 'rich'])\n",
         ["httpx", "rich"]),
        ("import fastmcp\nmcp = fastmcp.FastMCP(name='x', dependencies=('pandas>=2',))\n",
         ["pandas"]),
        ("from mcp.server.fastmcp import FastMCP as F\nmcp = F('x', dependencies=['numpy'])\n",
         ["numpy"]),
        # computed lists, other classes and files without the word add nothing
        ("from fastmcp import FastMCP\nDEPS = ['a']\nmcp = FastMCP('x', dependencies=DEPS)\n", []),
        ("from other import FastMCP\nmcp = FastMCP('x', dependencies=['a'])\n", []),
        ("from fastmcp import FastMCP\nmcp = FastMCP('x')\n", []),
        ("def broken(:\n    dependencies\n", []),
    ],
)  # fmt: skip
def test_literal_dependencies_of_server_constructors(
    tmp_path: Path, code: str, names: list[str]
) -> None:
    assert _names(tmp_path, code) == names


def test_each_entry_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv/server.py").write_text(
        "from fastmcp import FastMCP\nmcp = FastMCP(\n    'x',\n    dependencies=['httpx'],\n)\n"
    )
    (line,) = constructor_requirements(tmp_path, "srv/server.py")
    assert line.origin == "srv/server.py:4: FastMCP(dependencies=...)"
    assert line.requirement == "httpx"
