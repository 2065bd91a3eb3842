from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mcpbundle.base.errors import BuildError, ConfigError
from mcpbundle.plan.shim import needs_shim
from mcpbundle.plan.shim_render import render_shim, shim_file


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_plain_file_needs_no_shim(tmp_path: Path) -> None:
    _tree(tmp_path, {"server.py": "from fastmcp import FastMCP\nmcp = FastMCP('x')\n"})
    decision = needs_shim(tmp_path / "server.py", tmp_path, object_name="mcp")
    assert not decision.needed
    assert decision.reasons == ()
    assert decision.module == "server"
    assert decision.source_root == tmp_path.resolve()
    assert decision.source_root_rel(tmp_path) == "."


def test_relative_import_in_src_package(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/sub/__init__.py": "",
            "src/pkg/sub/server.py": "from ..tools import x\nmcp = x\n",
            "src/pkg/tools.py": "x = 1\n",
        },
    )
    entry = tmp_path / "src/pkg/sub/server.py"
    decision = needs_shim(entry, tmp_path, object_name="mcp")
    assert decision.needed
    assert decision.module == "pkg.sub.server"
    assert decision.source_root_rel(tmp_path) == "src"
    assert decision.reasons == ("server.py:1: relative import 'from ..tools import x'",)


def test_own_package_absolute_import(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "src/mcp_garmin/__init__.py": "",
            "src/mcp_garmin/server.py": "import json\nfrom mcp_garmin.config import S\n",
            "src/mcp_garmin/config.py": "S = 1\n",
        },
    )
    decision = needs_shim(tmp_path / "src/mcp_garmin/server.py", tmp_path)
    assert decision.needed
    assert decision.reasons == (
        "server.py:2: imports its own package 'from mcp_garmin.config import S'",
    )


def test_other_module_of_package_importing_it_absolutely(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/server.py": "import tools\n",
            "pkg/tools.py": "import pkg.config\nfrom . import config\n",
            "pkg/config.py": "",
            "pkg/data/notpkg.py": "import pkg\n",  # no __init__.py: not part of the package
        },
    )
    decision = needs_shim(tmp_path / "pkg/server.py", tmp_path)
    assert decision.reasons == ("pkg/tools.py:1: imports its own package 'import pkg.config'",)
    assert decision.sibling_imports == ("tools",)
    assert decision.extra_path_rels(tmp_path, tmp_path / "pkg/server.py") == ("pkg",)


def test_init_entrypoint(tmp_path: Path) -> None:
    _tree(tmp_path, {"src/pkg/__init__.py": "mcp = 1\n"})
    decision = needs_shim(tmp_path / "src/pkg/__init__.py", tmp_path)
    assert decision.needed
    assert decision.module == "pkg"
    assert decision.reasons == ("__init__.py: the entrypoint is a package's __init__.py",)


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("def make():\n    pass\n", "sync"),
        ("async def make():\n    pass\n", "async"),
        ("def make():\n    pass\nmake = make()\n", None),
        ("make = 1\n", None),
        ("class make:\n    pass\n", None),
    ],
)
def test_factory_detection(tmp_path: Path, source: str, kind: str | None) -> None:
    _tree(tmp_path, {"server.py": source})
    decision = needs_shim(tmp_path / "server.py", tmp_path, object_name="make")
    assert decision.factory == kind
    assert decision.needed is (kind is not None)


def test_modes(tmp_path: Path) -> None:
    _tree(tmp_path, {"p/__init__.py": "", "p/s.py": "from . import x\n", "plain.py": ""})
    never = needs_shim(tmp_path / "p/s.py", tmp_path, mode="never")
    assert not never.needed
    assert never.reasons  # still reported, so the caller can warn
    always = needs_shim(tmp_path / "plain.py", tmp_path, mode="always")
    assert always.needed
    assert always.module == "plain"
    with pytest.raises(ConfigError, match="unknown shim mode"):
        needs_shim(tmp_path / "plain.py", tmp_path, mode="sometimes")  # type: ignore[arg-type]


def test_relative_import_outside_a_package_uses_namespace_package(tmp_path: Path) -> None:
    _tree(tmp_path, {"src/server.py": "from .tools import t\n", "src/tools.py": "t = 1\n"})
    decision = needs_shim(tmp_path / "src/server.py", tmp_path)
    assert decision.needed
    assert decision.module == "src.server"
    assert decision.source_root_rel(tmp_path) == "."


def test_a_server_directory_that_is_a_package_is_loaded_as_one(tmp_path: Path) -> None:
    _tree(tmp_path, {"pkg/__init__.py": "", "pkg/server.py": "from . import x\n"})
    decision = needs_shim(tmp_path / "pkg/server.py", tmp_path / "pkg")
    assert decision.needed
    assert decision.inside_package == "pkg"
    assert decision.outside == ()
    assert decision.source_root_rel(tmp_path / "pkg") == "."
    assert not needs_shim(tmp_path / "pkg/server.py", tmp_path / "pkg", mode="never").needed


def test_a_subpackage_server_names_the_chain_above_it(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {"top/__init__.py": "", "top/calc/__init__.py": "", "top/calc/server.py": "import x\n"},
    )
    decision = needs_shim(tmp_path / "top/calc/server.py", tmp_path / "top/calc")
    assert decision.needed
    assert decision.module == "top.calc.server"
    assert decision.inside_package == "top.calc"
    assert [(name, p.relative_to(tmp_path).as_posix()) for name, p in decision.outside] == [
        ("top", "top/__init__.py")
    ]


def test_syntax_error_is_one_line(tmp_path: Path) -> None:
    _tree(tmp_path, {"server.py": "def (:\n"})
    with pytest.raises(BuildError, match="cannot parse") as info:
        needs_shim(tmp_path / "server.py", tmp_path)
    assert "\n" not in str(info.value)


def test_render_plain_is_deterministic_and_valid() -> None:
    text = render_shim(source_root_rel="src", module="mcp_garmin.server", object_name="mcp",
                       factory=None)  # fmt: skip
    assert text == render_shim(
        source_root_rel="src", module="mcp_garmin.server", object_name="mcp", factory=None
    )
    ast.parse(text)
    assert "_mcpbundle_os.path.join(_mcpbundle_here, 'src')" in text
    assert "import_module('mcp_garmin.server')" in text
    assert text.endswith("mcp = _mcpbundle_module.mcp\n")
    assert "/" not in text.split('"""')[2].replace("'src'", "")  # no absolute paths baked in


def test_render_root_dot_and_nested() -> None:
    dot = render_shim(source_root_rel=".", module="server", object_name="app", factory=None)
    assert "_mcpbundle_root = _mcpbundle_here\n" in dot
    nested = render_shim(source_root_rel="a/b", module="m", object_name="app", factory=None)
    assert "_mcpbundle_os.path.join(_mcpbundle_here, 'a', 'b')" in nested


def test_render_factories_and_exposed_name() -> None:
    sync = render_shim(
        source_root_rel=".", module="s", object_name="create", factory="sync", exposed_name="server"
    )
    assert sync.endswith("server = _mcpbundle_module.create()\n")
    async_ = render_shim(source_root_rel=".", module="s", object_name="create", factory="async")
    ast.parse(async_)
    assert "ThreadPoolExecutor" in async_
    assert async_.endswith("mcp = _mcpbundle_run(_mcpbundle_module.create)\n")


def test_render_extra_paths() -> None:
    text = render_shim(
        source_root_rel="src", module="p.s", object_name="mcp", factory=None,
        extra_path_rels=["src/p"],
    )  # fmt: skip
    assert "_mcpbundle_sys.path.append(_mcpbundle_extra)" in text
    assert "'src', 'p'" in text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"source_root_rel": "/abs"},
        {"source_root_rel": "../up"},
        {"source_root_rel": "C:\\x"},
        {"module": "not-a-module"},
        {"object_name": "a.b"},
        {"exposed_name": "_mcpbundle_module"},
    ],
)
def test_render_rejects_bad_input(kwargs: dict[str, str]) -> None:
    args = {"source_root_rel": "src", "module": "m", "object_name": "mcp", **kwargs}
    with pytest.raises(BuildError):
        render_shim(factory=None, **args)


def test_shim_file() -> None:
    assert shim_file("servers/garmin") == "servers/garmin/mcpbundle_entry.py"
    assert shim_file(".", "entry.py") == "entry.py"
    with pytest.raises(ConfigError):
        shim_file("s", "sub/entry.py")
    with pytest.raises(ConfigError):
        shim_file("s", "entry.txt")


def test_broken_other_module_is_skipped_and_namespace_siblings(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/server.py": "from . import x\n",
            "pkg/template.py": "{{ not python }}\n",
            "app/server.py": "from .a import x\nimport b\n",
            "app/a.py": "x = 1\n",
            "app/b.py": "",
        },
    )
    assert needs_shim(tmp_path / "pkg/server.py", tmp_path).needed
    decision = needs_shim(tmp_path / "app/server.py", tmp_path)
    assert decision.module == "app.server"
    assert decision.sibling_imports == ("b",)
    assert decision.extra_path_rels(tmp_path, tmp_path / "app/server.py") == ("app",)


def test_a_package_under_a_namespace_is_imported_by_its_full_name(tmp_path: Path) -> None:
    """``acme/weather/`` with no ``acme/__init__.py`` (PEP 420): a module that imports
    ``acme.weather`` absolutely needs the entry imported as ``acme.weather.server``, or
    the same file loads twice as two modules (and its tools register on the other one)."""
    _tree(
        tmp_path,
        {
            "src/acme/weather/__init__.py": "",
            "src/acme/weather/server.py": "mcp = object()\nfrom . import tools\n",
            "src/acme/weather/tools.py": "from acme.weather.server import mcp\n",
        },
    )
    decision = needs_shim(tmp_path / "src/acme/weather/server.py", tmp_path, object_name="mcp")
    assert decision.needed
    assert decision.module == "acme.weather.server"
    assert decision.source_root_rel(tmp_path) == "src"
    assert decision.reasons == (
        "server.py:2: relative import 'from . import tools'",
        "acme/weather/tools.py:1: imports its own package 'from acme.weather.server import mcp'",
    )


def test_a_namespace_the_code_never_names_is_not_part_of_the_module(tmp_path: Path) -> None:
    """Relative imports only: the folder above the package is not a namespace of it."""
    _tree(
        tmp_path,
        {
            "src/weather/__init__.py": "",
            "src/weather/server.py": "from . import tools\nmcp = tools.mcp\n",
            "src/weather/tools.py": "mcp = 1\n",
        },
    )
    decision = needs_shim(tmp_path / "src/weather/server.py", tmp_path, object_name="mcp")
    assert decision.module == "weather.server"
    assert decision.source_root_rel(tmp_path) == "src"


def test_a_namespace_is_never_looked_for_above_the_server(tmp_path: Path) -> None:
    """The server folder is ``acme/`` itself: its parent is not shipped, so the module
    keeps the name it has inside the bundle."""
    _tree(
        tmp_path,
        {
            "acme/weather/__init__.py": "",
            "acme/weather/server.py": "from acme.weather import tools\nmcp = tools.mcp\n",
            "acme/weather/tools.py": "mcp = 1\n",
        },
    )
    server = tmp_path / "acme"
    decision = needs_shim(server / "weather/server.py", server, object_name="mcp")
    assert decision.module == "weather.server"
    assert decision.source_root_rel(server) == "."


@pytest.mark.parametrize(
    ("backend", "prefix"),
    [
        ("[tool.hatch.build.targets.wheel]\npackages = ['src/acme']\n", "src/"),
        ("[tool.setuptools]\npackages = ['acme.weather']\n", ""),
    ],
)
def test_a_namespace_the_servers_backend_declares_is_part_of_the_module(
    tmp_path: Path, backend: str, prefix: str
) -> None:
    """The server's own pyproject says its package is ``acme`` (or ``acme.weather``): the
    entry is ``acme.weather.server`` even when the code never names the namespace."""
    _tree(
        tmp_path,
        {
            "pyproject.toml": f"[project]\nname = 'acme-weather'\nversion = '1'\n{backend}",
            f"{prefix}acme/weather/__init__.py": "",
            f"{prefix}acme/weather/server.py": "from . import tools\nmcp = tools.mcp\n",
            f"{prefix}acme/weather/tools.py": "mcp = 1\n",
        },
    )
    entry = tmp_path / f"{prefix}acme/weather/server.py"
    decision = needs_shim(entry, tmp_path, object_name="mcp")
    assert decision.module == "acme.weather.server"
    assert decision.source_root_rel(tmp_path) == (prefix.rstrip("/") or ".")


def test_namespace_folders_under_src_put_src_on_the_path(tmp_path: Path) -> None:
    # weather-service: src/ holds folders without __init__.py; main.py imports config.*
    root = _tree(tmp_path, {
        "src/weather_mcp/main.py": "from config.settings import S\nfrom weather_mcp.server "
        "import mcp\n",
        "src/weather_mcp/server.py": "from core.client import C\nmcp = 1\n",
        "src/config/settings.py": "S = 1\n",
        "src/core/client.py": "C = 1\n",
        "config/logging/default.yaml": "version: 1\n",  # not Python: never a source root
    })  # fmt: skip
    entry = root / "src/weather_mcp/main.py"
    decision = needs_shim(entry, root, object_name="mcp")
    assert decision.needed
    assert any("config.settings" in r and "from src" in r for r in decision.reasons)
    assert decision.source_root == entry.parent and decision.module == "main"
    assert decision.extra_path_rels(root, entry) == ("src",)


def test_a_package_entry_importing_a_root_package_is_shimmed(tmp_path: Path) -> None:
    # jck411: servers/ is a package, shared/ sits beside it at the root
    root = _tree(tmp_path, {
        "servers/__init__.py": "",
        "servers/housekeeping.py": "from shared.embeddings import embed\nmcp = 1\n",
        "shared/__init__.py": "",
        "shared/embeddings.py": "def embed():\n    return 1\n",
    })  # fmt: skip
    entry = root / "servers/housekeeping.py"
    decision = needs_shim(entry, root, object_name="mcp")
    assert decision.needed
    assert decision.module == "servers.housekeeping"
    assert decision.source_root == root
    assert decision.extra_path_rels(root, entry) == ()


def test_a_folder_named_like_an_installed_package_is_not_a_source_root(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "srv/server.py": "from mcp.server.fastmcp import FastMCP\nimport logging\nmcp = 1\n",
        "mcp/notes.py": "",  # a folder of scripts named mcp: not mcp.server.fastmcp
        "logging/setup.py": "",  # a stdlib name
    })  # fmt: skip
    decision = needs_shim(root / "srv/server.py", root, object_name="mcp")
    assert not decision.needed, decision.reasons
