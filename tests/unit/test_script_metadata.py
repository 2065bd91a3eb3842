"""PEP 723 inline script metadata of an entrypoint as requirement entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpbundle.base.errors import BuildError
from mcpbundle.plan.script_metadata import script_requirements

SCRIPT = """\
#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = [
#   "fastmcp>=2.12",
#   "httpx",
#   "units @ file:../libs/units",
# ]
# ///
from fastmcp import FastMCP

mcp = FastMCP("weather")
"""


def _entry(root: Path, text: str) -> str:
    (root / "srv").mkdir(parents=True, exist_ok=True)
    (root / "srv/server.py").write_text(text)
    return "srv/server.py"


def test_the_script_blocks_dependencies_are_requirements(tmp_path: Path) -> None:
    (tmp_path / "libs/units").mkdir(parents=True)
    lines = script_requirements(tmp_path, _entry(tmp_path, SCRIPT))
    assert [(x.kind, x.name) for x in lines] == [
        ("pypi", "fastmcp"), ("pypi", "httpx"), ("path", "units")
    ]  # fmt: skip
    assert lines[0].requirement == "fastmcp>=2.12"
    assert lines[1].origin == "srv/server.py: script dependencies[1]"
    assert lines[2].path is not None
    assert lines[2].path.resolve() == (tmp_path / "srv/../libs/units").resolve()


@pytest.mark.parametrize(
    "text",
    [
        "from fastmcp import FastMCP\n",
        # a block of another type, and one that is never closed, are no script block
        "# /// pyproject\n# x = 1\n# ///\n",
        "# /// script\n# dependencies = ['httpx']\nimport os\n",
    ],
)
def test_no_script_block_adds_nothing(tmp_path: Path, text: str) -> None:
    assert script_requirements(tmp_path, _entry(tmp_path, text)) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# /// script\n# dependencies = [\n# ///\n", "is not valid TOML"),
        ("# /// script\n# dependencies = 'httpx'\n# ///\n", "dependencies is not a list"),
        ("# /// script\n# dependencies = [1]\n# ///\n", r"dependencies\[0\] is not a requirement"),
        ("# /// script\n# x = 1\n# ///\n\n# /// script\n# x = 2\n# ///\n", "more than one"),
    ],
)
def test_a_broken_block_is_one_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        script_requirements(tmp_path, _entry(tmp_path, text))


def test_an_unreadable_entry_adds_nothing(tmp_path: Path) -> None:
    assert script_requirements(tmp_path, "srv/missing.py") == []
