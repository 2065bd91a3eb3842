"""The surface of real loads, before and after each kind of change, and how each is classified.

Every variant of one fixture server is built into one output and loaded by ``verify``
with this venv's real fastmcp (``python=``, no install); the surfaces it reports are
then compared with :func:`mcpbundle.compare.surface_diff.compare`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpbundle.compare.surface_diff import compare
from mcpbundle.verify.surface import SurfaceCache, bundle_hash, cache_path
from mcpbundle.verify.venvs import python_info
from mcpbundle.verify.verifier import verify

PYTHON = Path(sys.executable)

BASE = '''
from typing import Literal
from pydantic import BaseModel
from fastmcp import FastMCP

mcp = FastMCP("weather")


class Forecast(BaseModel):
    city: str
    celsius: float
    summary: str


@mcp.tool()
def forecast(city: str, days: int = 1) -> Forecast:
    """The forecast for a city."""
    return Forecast(city=city, celsius=20.0, summary="sunny")


@mcp.tool()
def rename(city: str) -> str:
    return city


@mcp.tool()
def require(days: int = 1) -> int:
    return days


@mcp.tool()
def add_optional(city: str) -> str:
    return city


@mcp.tool()
def add_required(city: str) -> str:
    return city


@mcp.tool()
def narrow(days: int = 1) -> int:
    return days


@mcp.tool()
def widen(days: int = 1) -> int:
    return days


@mcp.tool()
def retype(days: int) -> int:
    return days


@mcp.tool()
def units(system: Literal["metric", "imperial"] = "metric") -> str:
    return system


@mcp.tool()
def describe() -> str:
    """Says what it does."""
    return ""


@mcp.tool()
def ping() -> str:
    return "pong"


@mcp.resource("weather://stations", mime_type="application/json")
def stations() -> str:
    return "[]"


@mcp.resource("weather://feed", mime_type="application/json")
def feed() -> str:
    return "[]"


@mcp.resource("weather://city/{name}")
def city(name: str) -> str:
    return name


@mcp.prompt()
def report(city: str, tone: str = "neutral") -> str:
    """Ask for a weather report."""
    return f"Report on {city} in a {tone} tone"


@mcp.prompt()
def brief(city: str, tone: str = "neutral") -> str:
    return city + tone


@mcp.prompt()
def gone() -> str:
    return ""
'''

# One edit per kind of change, each on an item of its own: one load before, one after.
EDITS: dict[str, tuple[tuple[str, str], ...]] = {
    "tool added": (
        (
            "@mcp.tool()\ndef ping()",
            "@mcp.tool()\ndef alerts() -> list[str]:\n    return []\n\n\n@mcp.tool()\ndef ping()",
        ),
    ),
    "tool removed": (('@mcp.tool()\ndef ping() -> str:\n    return "pong"\n', ""),),
    "parameter renamed": (
        (
            "def rename(city: str) -> str:\n    return city",
            "def rename(town: str) -> str:\n    return town",
        ),
    ),
    "parameter made required": (("def require(days: int = 1)", "def require(days: int)"),),
    "optional parameter added": (
        ("def add_optional(city: str)", "def add_optional(city: str, hourly: bool = False)"),
    ),
    "required parameter added": (
        ("def add_required(city: str)", "def add_required(city: str, country: str)"),
    ),
    "type narrowed": (("def narrow(days: int = 1)", "def narrow(days: Literal[1, 3, 7] = 1)"),),
    "type widened": (("def widen(days: int = 1)", "def widen(days: int | str = 1)"),),
    "type changed": (("def retype(days: int) -> int", "def retype(days: str) -> str"),),
    "enum value removed": (
        ('system: Literal["metric", "imperial"]', 'system: Literal["metric", "nautical"]'),
    ),
    "description changed": (('"""Says what it does."""', '"""Says something else."""'),),
    "output field removed": (("    summary: str\n", ""), (', summary="sunny"', "")),
    "resource removed": (
        (
            '@mcp.resource("weather://stations", mime_type="application/json")\n'
            'def stations() -> str:\n    return "[]"\n',
            "",
        ),
    ),
    "resource mime type changed": (
        (
            '@mcp.resource("weather://feed", mime_type="application/json")',
            '@mcp.resource("weather://feed", mime_type="text/csv")',
        ),
    ),
    "resource template added": (
        (
            "@mcp.prompt()\ndef report",
            '@mcp.resource("weather://station/{sid}")\n'
            "def station(sid: str) -> str:\n    return sid\n\n\n@mcp.prompt()\ndef report",
        ),
    ),
    "prompt argument removed": (
        ('def report(city: str, tone: str = "neutral")', "def report(city: str)"),
        (" in a {tone} tone", ""),
    ),
    "prompt argument made required": (
        ('def brief(city: str, tone: str = "neutral")', "def brief(city: str, tone: str)"),
    ),
    "prompt removed": (("@mcp.prompt()\ndef gone", "def gone"),),
}

# What each edit changes: (kind, name) -> [(level, what)].
EXPECTED: dict[str, tuple[tuple[str, str], list[tuple[str, str]]]] = {
    "tool added": (("tool", "alerts"), [("compatible", "added")]),
    "tool removed": (("tool", "ping"), [("breaking", "removed")]),
    "parameter renamed": (("tool", "rename"), [("breaking", "parameter 'city' renamed to 'town'")]),
    "parameter made required": (("tool", "require"), [("breaking", "parameter 'days' made required"), ("info", "parameter 'days': default changed from 1 to null")]),  # noqa: E501
    "optional parameter added": (("tool", "add_optional"), [("compatible", "optional parameter 'hourly' added")]),  # noqa: E501
    "required parameter added": (("tool", "add_required"), [("breaking", "required parameter 'country' added")]),  # noqa: E501
    "type narrowed": (("tool", "narrow"), [("breaking", "parameter 'days': now limited to 1, 3, 7")]),  # noqa: E501
    "type widened": (("tool", "widen"), [("compatible", "parameter 'days': type widened from integer to integer|string")]),  # noqa: E501
    "type changed": (("tool", "retype"), [("breaking", "parameter 'days': type changed from integer to string"), ("breaking", "output field 'result': type changed from integer to string")]),  # noqa: E501
    "enum value removed": (("tool", "units"), [("breaking", "parameter 'system': value \"imperial\" removed"), ("compatible", "parameter 'system': value \"nautical\" added")]),  # noqa: E501
    "description changed": (("tool", "describe"), [("info", "description changed")]),
    "output field removed": (("tool", "forecast"), [("breaking", "output field 'summary' removed")]),  # noqa: E501
    "resource removed": (("resource", "weather://stations"), [("breaking", "removed")]),
    "resource mime type changed": (("resource", "weather://feed"), [("breaking", "mime type changed from \"application/json\" to \"text/csv\"")]),  # noqa: E501
    "resource template added": (("resource template", "weather://station/{sid}"), [("compatible", "added")]),  # noqa: E501
    "prompt argument removed": (("prompt", "report"), [("breaking", "argument 'tone' removed")]),
    "prompt argument made required": (("prompt", "brief"), [("breaking", "argument 'tone' made required")]),  # noqa: E501
    "prompt removed": (("prompt", "gone"), [("breaking", "removed")]),
}  # fmt: skip


def _write(out: Path, name: str, source: str, manifest: dict[str, object]) -> None:
    folder = out / f"server-{name}"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "server.py").write_text(source, encoding="utf-8")
    (folder / "requirements.txt").write_text("fastmcp\n", encoding="utf-8")
    manifest[name] = {
        "path": f"server-{name}",
        "entrypoint": f"server-{name}/src/server.py",
        "requirements": f"server-{name}/requirements.txt",
        "files": {},
    }


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    """The surfaces of the server before and after every edit, from one verify run."""
    out = tmp_path_factory.mktemp("surfaces") / "out"
    manifest: dict[str, object] = {}
    after = BASE
    for name, edits in EDITS.items():
        for old, new in edits:
            assert after.count(old) == 1, (name, old)
            after = after.replace(old, new)
    _write(out, "before", BASE, manifest)
    _write(out, "after", after, manifest)
    document = {"version": 1, "servers": manifest}
    (out / "mcpbundle-manifest.json").write_text(json.dumps(document), encoding="utf-8")
    report = verify(
        output_dir=out, servers=None, http=False, cache_dir=out.parent / "cache", env={},
        expect_tools={}, installer=None, python=PYTHON, jobs=2,
    )  # fmt: skip
    found = {}
    for server in report.servers:
        assert server.ok, (server.name, server.error)
        assert server.surface is not None
        found[server.name] = dict(server.surface)
    return out, found


@pytest.fixture(scope="module")
def surfaces(loaded: tuple[Path, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return loaded[1]


def test_the_surface_is_normalized(surfaces: dict[str, dict[str, Any]]) -> None:
    base = surfaces["before"]
    assert list(base) == ["prompts", "resource_templates", "resources", "tools"]
    tools = {t["name"]: t for t in base["tools"]}
    assert list(tools) == sorted(tools) and "forecast" in tools
    forecast = tools["forecast"]
    assert forecast["description"] == "The forecast for a city."
    assert forecast["input_schema"]["required"] == ["city"]
    assert forecast["input_schema"]["properties"]["days"] == {"default": 1, "type": "integer"}
    output = forecast["output_schema"]
    assert output["required"] == ["celsius", "city", "summary"]  # sorted
    assert "$defs" not in json.dumps(output) and "$ref" not in json.dumps(output)
    assert "meta" not in forecast and "_meta" not in json.dumps(base)
    assert base["resources"][1] == {
        "description": None, "mime_type": "application/json", "name": "stations",
        "title": None, "uri": "weather://stations",
    }  # fmt: skip
    assert [t["uri_template"] for t in base["resource_templates"]] == ["weather://city/{name}"]
    assert [p["name"] for p in base["prompts"]] == ["brief", "gone", "report"]
    assert base["prompts"][2]["arguments"] == [
        {"description": None, "name": "city", "required": True},
        {"description": None, "name": "tone", "required": False},
    ]
    assert compare(base, base) == []
    text = json.dumps(base, sort_keys=True)
    assert "/tmp" not in text and "version" not in text.lower()


@pytest.mark.parametrize("edit", list(EDITS))
def test_each_kind_of_change_is_classified(surfaces: dict[str, dict[str, Any]], edit: str) -> None:
    (kind, name), expected = EXPECTED[edit]
    changes = compare(surfaces["before"], surfaces["after"])
    assert [(c.level, c.what) for c in changes if (c.kind, c.name) == (kind, name)] == expected


def test_nothing_else_changed_and_the_worst_come_first(surfaces: dict[str, dict[str, Any]]) -> None:
    changes = compare(surfaces["before"], surfaces["after"])
    explained = {item for item, _ in EXPECTED.values()}
    assert {(c.kind, c.name) for c in changes} == explained
    levels = [c.level for c in changes]
    assert levels == sorted(levels, key=["breaking", "compatible", "info"].index)
    assert compare(surfaces["after"], surfaces["after"]) == []


def test_a_new_and_a_removed_server(surfaces: dict[str, dict[str, Any]]) -> None:
    (new,) = compare(None, surfaces["before"])
    assert (new.level, new.kind, new.describe()) == ("compatible", "server", "new server")
    (gone,) = compare(surfaces["before"], None)
    assert (gone.level, gone.describe()) == ("breaking", "server removed")


def test_verify_keeps_each_surface_by_bundle_hash(
    loaded: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    """The cache holds the surface under the bundle's hash: ``diff`` reads it, no load."""
    out, surfaces = loaded
    entry = json.loads((out / "mcpbundle-manifest.json").read_text())["servers"]["before"]
    bundle = bundle_hash(out, entry)
    assert bundle is not None
    key = SurfaceCache.key(bundle, python=python_info(PYTHON)[0], external=PYTHON, env={})
    assert SurfaceCache(out.parent / "cache").get(key) == surfaces["before"]
    assert len(list(cache_path(out.parent / "cache").glob("*.json"))) == 2
    report = verify(
        output_dir=out, servers=["before"], http=False, cache_dir=out.parent / "cache", env={},
        expect_tools={}, installer=None, python=PYTHON, reuse_surfaces=True,
    )  # fmt: skip
    (cached,) = report.servers
    assert cached.surface_cached and cached.surface == surfaces["before"]
    assert cached.import_seconds is None, "nothing was loaded"
    assert report.to_json()["servers"][0]["surface"] == surfaces["before"]  # verify --json
    server = out / "server-before" / "src" / "server.py"
    server.write_text(BASE + "\n# edited\n")
    assert bundle_hash(out, entry) != bundle
