"""A server whose package lives under a PEP 420 namespace (``acme/weather/``, no
``acme/__init__.py``), beside a shared library in the same namespace: built by the real
CLI and loaded by the real fastmcp, it is one module under its full name."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from support.fastmcpcli import run_inspect, tool_names
from support.monorepo import mcpbundle, write

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def bundle_table(wheelhouse: Path) -> str:
    """Resolved offline, for the running Python."""
    return f"[bundle]\npython = '{RUNNING}'\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"


def built(root: Path, make: Callable[[Path], None]) -> Path:
    """The repository ``make`` writes under ``root``, built: its ``dist/``."""
    make(root)
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    return root / "dist"


def make_repo(root: Path, wheelhouse: Path) -> None:
    write(
        root,
        {
            "mcpbundle.toml": (
                bundle_table(wheelhouse) + "[shared.core]\npath = 'core'\n"
                "[servers.weather]\npath = 'srv'\nentrypoint = 'acme/weather/server.py'\n"
            ),
            "pyproject.toml": "[tool.uv.workspace]\nmembers = ['core', 'srv']\n",
            "core/pyproject.toml": (
                "[project]\nname = 'acme-core'\nversion = '1.0'\n"
                "[tool.hatch.build.targets.wheel]\npackages = ['acme']\n"
            ),
            "core/acme/core/__init__.py": "GREETING = 'sunny'\n",
            "srv/pyproject.toml": (
                "[project]\nname = 'acme-weather'\nversion = '0.1'\n"
                "dependencies = ['acme-core', 'fastmcp']\n"
                "[tool.uv.sources]\nacme-core = { workspace = true }\n"
                "[tool.hatch.build.targets.wheel]\npackages = ['acme']\n"
            ),
            "srv/acme/weather/__init__.py": "",
            "srv/acme/weather/server.py": (
                "from fastmcp import FastMCP\n\nmcp = FastMCP('weather')\n\n"
                "from . import tools  # noqa: E402  (registers the tools)\n"
            ),
            # the tools module names the server by its full dotted name
            "srv/acme/weather/tools.py": (
                "from acme.core import GREETING\nfrom acme.weather.server import mcp\n\n\n"
                "@mcp.tool\ndef forecast(city: str) -> str:\n"
                "    return f'{GREETING} in {city}'\n"
            ),
        },
    )


def test_a_namespaced_server_loads_as_one_module_with_its_tools(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "repo"
    out = built(root, lambda r: make_repo(r, wheelhouse)) / "srv"
    assert (out / "acme/weather/tools.py").is_file()
    assert (out / "acme/core/__init__.py").is_file()  # the library joins the namespace
    assert not (out / "acme/__init__.py").exists()
    shim = (out / "mcpbundle_entry.py").read_text()
    assert "acme.weather.server" in shim
    assert tool_names(run_inspect(out / "mcpbundle_entry.py", tmp_path)) == ["forecast"]
    checked = mcpbundle(root, "check", "--built")
    assert checked.returncode == 0, checked.stdout


# -- a pkgutil-style namespace shared by servers and a library (awslabs/mcp's shape) --

PKGUTIL = (
    "# This file is part of the acme namespace.\n"
    "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
)


def make_pkgutil_repo(root: Path, wheelhouse: Path, *, own_common: bool = False) -> None:
    files = {
        "mcpbundle.toml": (
            bundle_table(wheelhouse) + "[shared.common]\npath = 'src/acme-common'\n"
            "[servers.weather]\npath = 'src/weather-server'\n"
            "entrypoint = 'acme/weather_server/server.py'\n"
            "[servers.plain]\npath = 'src/plain-server'\nentrypoint = 'server.py'\n"
        ),
        "src/acme-common/pyproject.toml": (
            "[project]\nname = 'acme-common'\nversion = '1.0'\n"
            "[tool.hatch.build.targets.wheel]\npackages = ['acme']\n"
        ),
        "src/acme-common/acme/__init__.py": PKGUTIL,
        "src/acme-common/acme/common/__init__.py": "GREETING = 'sunny'\n",
        "src/weather-server/requirements.txt": "fastmcp\n-e ../acme-common\n",
        "src/weather-server/acme/__init__.py": PKGUTIL,
        "src/weather-server/acme/weather_server/__init__.py": "",
        "src/weather-server/acme/weather_server/server.py": (
            "from fastmcp import FastMCP\n"
            "from acme.common import GREETING\n"
            "from acme.weather_server.models import City\n\n"
            "mcp = FastMCP('weather')\n\n\n"
            "@mcp.tool\ndef forecast(city: str) -> str:\n"
            "    return f'{GREETING} in {City(city).name}'\n"
        ),
        "src/weather-server/acme/weather_server/models.py": (
            "class City:\n    def __init__(self, name: str) -> None:\n        self.name = name\n"
        ),
        "src/plain-server/requirements.txt": "fastmcp\n-e ../acme-common\n",
        "src/plain-server/server.py": server_source("plain", "greet"),
    }
    if own_common:
        files["src/weather-server/acme/common/__init__.py"] = "GREETING = 'mine'\n"
    write(root, files)


def server_source(name: str, tool: str) -> str:
    return (
        "from fastmcp import FastMCP\nfrom acme.common import GREETING\n\n"
        f"mcp = FastMCP({name!r})\n\n\n@mcp.tool\ndef {tool}() -> str:\n    return GREETING\n"
    )


def test_a_pkgutil_namespace_shared_with_a_library_vendors_and_loads(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "repo"
    dist = built(root, lambda r: make_pkgutil_repo(r, wheelhouse))
    weather = dist / "src/weather-server"
    assert (weather / "acme/common/__init__.py").is_file()
    assert (weather / "acme/__init__.py").read_text() == PKGUTIL  # the server's own
    plain = dist / "src/plain-server"
    assert (plain / "acme/__init__.py").read_text() == PKGUTIL  # the library's declaration
    assert tool_names(run_inspect(weather / "mcpbundle_entry.py", tmp_path)) == ["forecast"]
    assert tool_names(run_inspect(plain / "server.py", tmp_path)) == ["greet"]
    checked = mcpbundle(root, "check", "--built")
    assert checked.returncode == 0, checked.stdout


def test_a_namespace_portion_both_sides_define_is_still_a_clash(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "repo"
    make_pkgutil_repo(root, wheelhouse, own_common=True)
    done = mcpbundle(root, "build", "weather")
    assert done.returncode == 2
    assert "'acme.common'" in done.stderr and "also defines" in done.stderr, done.stderr
