"""Paths built from ``__file__``, read statically (what MCB013 follows out of the bundle)."""

from __future__ import annotations

import ast

import pytest

from mcpbundle.check.file_paths import from_file
from mcpbundle.plan.env_reads import qualname

ALIASES = {"Path": "pathlib.Path", "os": "os", "pathlib": "pathlib"}


def _from_file(source: str) -> str | None:
    node = ast.parse(source, mode="eval").body
    return from_file(node, lambda expr: qualname(expr, ALIASES))


@pytest.mark.parametrize(
    ("source", "place"),
    [
        ('Path(__file__).parent / "data.json"', "data.json"),
        ('Path(__file__).parent.parent.parent / "data" / "x.json"', "../../data/x.json"),
        ('Path(__file__).resolve().parents[2] / "prompts"', "../../prompts"),
        ('pathlib.Path(__file__).absolute().parent.joinpath("a", "b.md")', "a/b.md"),
        ('os.path.join(os.path.dirname(__file__), "..", "data")', "../data"),
        ('os.path.join(os.path.dirname(os.path.abspath(__file__)), "t.txt")', "t.txt"),
        ('Path(os.path.dirname(__file__)) / ".." / "x"', "../x"),
    ],
)
def test_a_place_built_from_the_file(source: str, place: str) -> None:
    assert _from_file(source) == place


@pytest.mark.parametrize(
    "source",
    [
        "Path(__file__).resolve().parents[2]",  # a folder for sys.path, no file named
        'Path(__file__) / "x"',  # below the file itself: nothing anyone builds
        'Path(base) / "data"',
        "Path(__file__).parent / name",
        'Path(__file__).parent.with_name("x") / "y"',
        'os.path.join(os.path.dirname(__file__), "/etc/passwd")',
        "Path(__file__).parents[-1] / 'x'",
    ],
)
def test_what_cannot_be_followed_is_none(source: str) -> None:
    assert _from_file(source) is None
