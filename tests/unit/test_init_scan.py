"""``mcpbundle init``'s static read, one detection rule per test, on repositories in tmp dirs.

Each test writes a small repository (no git: init walks the directory), runs the
scan the command runs (:func:`mcpbundle.init.writer.run_init` with ``dry_run``) and
reads the TOML it would write, so the generated text is checked as build reads it.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mcpbundle.base.errors import UsageError
from mcpbundle.init.writer import InitResult, run_init
from support.monorepo import write

SERVER = "from fastmcp import FastMCP\n\nmcp = FastMCP('x')\n"


def scan(root: Path, files: dict[str, str]) -> tuple[dict[str, Any], InitResult]:
    write(root, files)
    result = run_init(root / "mcpbundle.toml", dry_run=True, force=False, pyproject=False)
    assert not (root / "mcpbundle.toml").exists()
    return tomllib.loads(result.text), result


def servers(config: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {name: (t["path"], t["entrypoint"]) for name, t in config["servers"].items()}


# ---------------------------------------------------------------- server objects


def test_module_level_object_with_the_default_name(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {"server-ops/requirements.txt": "fastmcp\n",
                                "server-ops/src/server.py": SERVER})  # fmt: skip
    assert servers(config) == {"ops": ("server-ops", "src/server.py")}


def test_an_object_with_another_name_is_spelled_out(tmp_path: Path) -> None:
    code = "import fastmcp\n\nhub = fastmcp.FastMCP('hub')\n"
    config, _ = scan(tmp_path, {"hub/requirements.txt": "fastmcp\n", "hub/main.py": code})
    assert servers(config) == {"hub": ("hub", "main.py:hub")}


def test_default_name_bound_to_something_else_forces_the_object(tmp_path: Path) -> None:
    code = "from fastmcp import FastMCP\nserver = 'not a server'\napp = FastMCP('a')\n"
    config, _ = scan(tmp_path, {"svc/requirements.txt": "fastmcp\n", "svc/app.py": code})
    assert servers(config)["svc"] == ("svc", "app.py:app")


def test_several_objects_pick_the_default_name_and_say_so(tmp_path: Path) -> None:
    code = "from fastmcp import FastMCP as F\n\nadmin = F('a')\nbeta = F('b')\napp = F('c')\n"
    config, result = scan(tmp_path, {"svc/requirements.txt": "", "svc/server.py": code})
    assert servers(config)["svc"] == ("svc", "server.py")  # app: FastMCP's loader finds it
    assert "# found 3 module-level objects (admin, app, beta): using 'app'" in result.text


@pytest.mark.parametrize(
    ("code", "entry"),
    [
        ("from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('s')\n", "s.py"),
        ("from mcp.server.mcpserver import MCPServer\nsrv = MCPServer('s')\n", "s.py:srv"),
        ("import mcp.server.fastmcp\nmcp = mcp.server.fastmcp.FastMCP('s')\n", "s.py"),
        ("from fastmcp import FastMCP\nspec = {}\napi = FastMCP.from_openapi(spec)\n",
         "s.py:api"),
        ("from fastmcp import FastMCP\ntry:\n    mcp = FastMCP('s')\nexcept Exception:\n"
         "    raise\n", "s.py"),
    ],
)  # fmt: skip
def test_sdk_and_spelling_variants(tmp_path: Path, code: str, entry: str) -> None:
    config, _ = scan(tmp_path, {"svc/requirements.txt": "", "svc/s.py": code})
    assert servers(config)["svc"] == ("svc", entry)


def test_a_server_created_only_under_main_or_in_a_function_is_not_found(tmp_path: Path) -> None:
    code = (
        "from fastmcp import FastMCP\n\ndef run():\n    s = FastMCP('x')\n    s.run()\n\n"
        "if __name__ == '__main__':\n    mcp = FastMCP('y')\n"
    )
    with pytest.raises(UsageError, match="no FastMCP server the host can load") as caught:
        scan(tmp_path, {"svc/requirements.txt": "", "svc/server.py": code})
    assert "svc/server.py:4: a server is created only inside a function" in str(caught.value)


def test_a_server_kept_on_an_instance_is_named_where_it_is_made(tmp_path: Path) -> None:
    """elasticsearch-mcp-server: ``class SearchMCPServer`` sets ``self.mcp = FastMCP(...)``
    in ``__init__`` and a console script builds and runs one. The host imports a
    module-level object, so there is none; the error said only that no server was found."""
    code = (
        "from fastmcp import FastMCP\n\n\nclass SearchMCPServer:\n"
        "    def __init__(self, name):\n        self.mcp = FastMCP(name)\n\n"
        "    def run(self):\n        self.mcp.run()\n\n\n"
        "def main():\n    SearchMCPServer('search').run()\n"
    )
    write(tmp_path, {"svc/requirements.txt": "fastmcp\n", "svc/src/server.py": code})
    with pytest.raises(UsageError) as caught:
        run_init(tmp_path / "mcpbundle.toml", dry_run=True, force=False, pyproject=False)
    text = str(caught.value)
    assert text.startswith(f"no FastMCP server the host can load in this directory ({tmp_path})")
    assert "svc/src/server.py:6: a server is created only inside a function or class" in text
    assert "at module level" in text
    assert "\n" not in text


def test_tests_are_not_servers(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "svc/requirements.txt": "", "svc/server.py": SERVER,
        "svc/tests/test_server.py": SERVER, "svc/test/fixture.py": SERVER,
    })  # fmt: skip
    assert servers(config) == {"svc": ("svc", "server.py")}


def test_a_subclass_of_fastmcp_in_the_same_file_makes_servers(tmp_path: Path) -> None:
    code = (
        "from fastmcp import FastMCP\n\nclass Base(FastMCP):\n    pass\n\n"
        "class Traced(Base):\n    pass\n\nserver = Traced('t')\n"
    )
    config, _ = scan(tmp_path, {"svc/requirements.txt": "", "svc/main.py": code})
    assert servers(config)["svc"] == ("svc", "main.py")


def test_a_subclass_imported_from_a_shared_library_makes_servers(tmp_path: Path) -> None:
    base = (
        "import fastmcp\n\nclass CompanyServer(fastmcp.FastMCP):\n"
        "    def __init__(self, name):\n        super().__init__(name)\n"
    )
    code = "from company_base.servers import CompanyServer\n\nweather = CompanyServer('w')\n"
    config, _ = scan(tmp_path, {
        "libs/company-base/pyproject.toml": "[project]\nname = 'company-base'\n",
        "libs/company-base/company_base/__init__.py": "",
        "libs/company-base/company_base/servers.py": base,
        "servers/weather/requirements.txt": "-e ../../libs/company-base\n",
        "servers/weather/app.py": code,
    })  # fmt: skip
    assert servers(config) == {"weather": ("servers/weather", "app.py:weather")}


def test_a_generic_subclass_of_fastmcp_makes_servers(tmp_path: Path) -> None:
    """mcp-atlassian: ``class ErrorPreservingFastMCP(FastMCP[LifespanT], Generic[...])`` in
    one module, ``class AtlassianMCP(ErrorPreservingFastMCP[Ctx])`` and
    ``main_mcp = AtlassianMCP(...)`` in another, imported relatively. A base written with
    its type argument was not taken for the class it parametrizes: no server found."""
    base = (
        "from typing import Generic, TypeVar\n\nfrom fastmcp import FastMCP\n\n"
        "T = TypeVar('T')\n\n\nclass ErrorPreserving(FastMCP[T], Generic[T]):\n    pass\n"
    )
    main = (
        "from .errors import ErrorPreserving\n\n\nclass Ctx:\n    pass\n\n\n"
        "class AtlassianMCP(ErrorPreserving[Ctx]):\n    pass\n\n\n"
        "main_mcp = AtlassianMCP(name='Atlassian MCP')\n"
    )
    config, _ = scan(tmp_path, {
        "atlassian/pyproject.toml": "[project]\nname = 'mcp-atlassian'\n"
        "dependencies = ['fastmcp']\n",
        "atlassian/src/mcp_atlassian/__init__.py": "",
        "atlassian/src/mcp_atlassian/servers/__init__.py": "from .main import main_mcp\n",
        "atlassian/src/mcp_atlassian/servers/errors.py": base,
        "atlassian/src/mcp_atlassian/servers/main.py": main,
    })  # fmt: skip
    path, entry = servers(config)["atlassian"]
    assert path == "atlassian"
    assert entry in (
        "src/mcp_atlassian/servers/main.py:main_mcp",
        "src/mcp_atlassian/servers/__init__.py:main_mcp",
    )


def test_a_class_named_like_a_server_base_elsewhere_is_not_a_server(tmp_path: Path) -> None:
    code = "class FastMCPish:\n    pass\n\nmcp = FastMCPish()\n"
    with pytest.raises(UsageError, match="no FastMCP server found"):
        scan(tmp_path, {"svc/requirements.txt": "", "svc/server.py": code})


def test_the_file_that_completes_a_bare_server_is_the_entry(tmp_path: Path) -> None:
    # OmniV2: mcp_app.py creates the bare instance, server.py imports it and the modules
    # that register its tools; loading mcp_app.py gives a server with no tools
    config, _ = scan(tmp_path, {
        "srv/requirements.txt": "fastmcp\n",
        "srv/mcp_app.py": "from fastmcp import FastMCP\n\nmcp = FastMCP('demo')\n",
        "srv/server.py": "from mcp_app import mcp\n\nimport tools.hello\n",
        "srv/tools/hello.py": "from mcp_app import mcp\n\n\n@mcp.tool\ndef hello():\n"
        "    return 'hi'\n",
    })  # fmt: skip
    assert servers(config) == {"srv": ("srv", "server.py")}


def test_a_file_loading_a_tools_folder_dynamically_completes_the_server(tmp_path: Path) -> None:
    loader = (
        "import importlib\nimport pkgutil\n\nfrom mcp_app import mcp\n\nimport tools\n\n"
        "for _, mod, _ in pkgutil.iter_modules(tools.__path__):\n"
        "    importlib.import_module(f'tools.{mod}')\n"
    )
    config, _ = scan(tmp_path, {
        "srv/requirements.txt": "fastmcp\n",
        "srv/mcp_app.py": "from fastmcp import FastMCP\n\nmcp = FastMCP('demo')\n",
        "srv/server.py": loader,
        "srv/tools/hello.py": "from mcp_app import mcp\n\n\n@mcp.tool\ndef hello():\n"
        "    return 'hi'\n",
    })  # fmt: skip
    assert servers(config) == {"srv": ("srv", "server.py")}


def test_a_server_that_registers_its_own_tools_stays_the_entry(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "srv/requirements.txt": "fastmcp\n",
        "srv/server.py": "from fastmcp import FastMCP\n\nmcp = FastMCP('demo')\n\n\n"
        "@mcp.tool\ndef ping():\n    return 'pong'\n",
        "srv/cli.py": "from server import mcp\nimport settings\n",
        "srv/settings.py": "DEBUG = False\n",
    })  # fmt: skip
    assert servers(config) == {"srv": ("srv", "server.py")}


# --------------------------------------------------------------------- factories


def test_factory_annotated_to_return_a_server(tmp_path: Path) -> None:
    code = (
        "from fastmcp import FastMCP\n\ndef build_server(settings=None) -> FastMCP:\n"
        "    mcp: FastMCP = FastMCP(name='g')\n    return mcp\n"
    )
    config, _ = scan(tmp_path, {"mcp-garmin/pyproject.toml": "[project]\nname='g'\n",
                                "mcp-garmin/src/mcp_garmin/server.py": code})  # fmt: skip
    assert servers(config) == {"garmin": ("mcp-garmin", "src/mcp_garmin/server.py:build_server")}


def test_async_factory_without_annotation(tmp_path: Path) -> None:
    code = (
        "import fastmcp\n\nasync def make():\n    server = fastmcp.FastMCP('x')\n"
        "    return server\n"
    )
    config, _ = scan(tmp_path, {"svc/requirements.txt": "", "svc/server.py": code})
    assert servers(config)["svc"] == ("svc", "server.py:make")


def test_a_factory_needing_arguments_is_not_an_entrypoint(tmp_path: Path) -> None:
    """The host calls a factory with no arguments: `build(config)` would fail every deploy.
    With nothing else to load the project is left out, and init says why and what to add."""
    code = (
        "from fastmcp import FastMCP\n\ndef build(config: dict) -> FastMCP:\n"
        "    return FastMCP(config['name'])\n\nif __name__ == '__main__':\n"
        "    build({'name': 'x'}).run()\n"
    )
    files = {"svc/requirements.txt": "fastmcp\n", "svc/server.py": code, **{
        "ok/requirements.txt": "fastmcp\n", "ok/server.py": SERVER}}  # fmt: skip
    config, result = scan(tmp_path, files)
    assert servers(config) == {"ok": ("ok", "server.py")}
    assert (
        "svc/server.py:3: `build` builds a server but needs arguments (config), which the host "
        "does not pass; not added: bind `mcp = build(...)` at module level"
    ) in result.warnings


def test_only_factories_needing_arguments_is_an_error_saying_so(tmp_path: Path) -> None:
    code = "from fastmcp import FastMCP\n\ndef build(config) -> FastMCP:\n    return FastMCP('x')\n"
    write(tmp_path, {"svc/requirements.txt": "fastmcp\n", "svc/server.py": code})
    with pytest.raises(UsageError) as caught:
        run_init(tmp_path / "mcpbundle.toml", dry_run=True, force=False, pyproject=False)
    text = str(caught.value)
    assert text.startswith(f"no FastMCP server the host can load in this directory ({tmp_path})")
    assert "svc/server.py:3: `build` builds a server but needs arguments (config)" in text
    assert "\n" not in text


def test_an_object_made_by_a_factory_needing_arguments_is_the_entry(tmp_path: Path) -> None:
    code = (
        "from fastmcp import FastMCP\n\ndef build(name) -> FastMCP:\n"
        "    return FastMCP(name)\n\nmcp = build('x')\n"
    )
    config, result = scan(tmp_path, {"svc/requirements.txt": "", "svc/server.py": code})
    assert servers(config)["svc"] == ("svc", "server.py")
    assert "also a factory" not in result.text, "build cannot be the entrypoint"


def test_object_assigned_from_a_local_factory(tmp_path: Path) -> None:
    code = (
        "from fastmcp import FastMCP\n\ndef create_server():\n    return FastMCP('c')\n\n"
        "mcp = create_server()\n"
    )
    config, result = scan(tmp_path, {"svc/requirements.txt": "", "svc/src/server.py": code})
    assert servers(config)["svc"] == ("svc", "src/server.py")
    assert "also a factory: create_server" in result.text


# ------------------------------------------- what decides among several entry files


def test_fastmcp_json_names_the_entrypoint(tmp_path: Path) -> None:
    config, result = scan(tmp_path, {
        "svc/requirements.txt": "",
        "svc/a.py": "from fastmcp import FastMCP\nmcp = FastMCP('a')\n",
        "svc/tools/b.py": "from fastmcp import FastMCP\nbee = FastMCP('b')\nmcp = FastMCP('c')\n",
        "svc/fastmcp.json": '{"source": {"path": "tools/b.py", "entrypoint": "bee"}}',
    })  # fmt: skip
    assert servers(config)["svc"] == ("svc", "tools/b.py:bee")
    assert "named by svc/fastmcp.json" in result.text


def test_a_fastmcp_json_listing_dependencies_makes_its_directory_a_server(
    tmp_path: Path,
) -> None:
    # build reads the dependencies of the server directory's fastmcp.json: with the
    # repository root as the path, they would not be read
    config, _ = scan(tmp_path, {
        "pyproject.toml": "[project]\nname = 'tools'\n",
        "servers/notes/server.py": SERVER,
        "servers/notes/fastmcp.json": (
            '{"source": {"path": "server.py"}, "environment": {"dependencies": ["httpx"]}}'
        ),
    })  # fmt: skip
    assert servers(config) == {"notes": ("servers/notes", "server.py")}


def test_legacy_fastmcp_json_entrypoint(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "svc/requirements.txt": "",
        "svc/a.py": SERVER,
        "svc/pkg/hub.py": "from fastmcp import FastMCP\nhub = FastMCP('h')\n",
        "svc/hub.fastmcp.json": '{"entrypoint": "pkg/hub.py"}',
    })  # fmt: skip
    assert servers(config)["svc"] == ("svc", "pkg/hub.py:hub")


def test_console_script_picks_the_module_it_runs(tmp_path: Path) -> None:
    # Two server modules in one package; the script's module imports the hub.
    config, result = scan(tmp_path, {
        "examples/smart_home/pyproject.toml": (
            "[project]\nname = 'smart-home'\nrequires-python = '>=3.12'\n"
            "[project.scripts]\nsmart-home = 'smart_home.__main__:main'\n"
        ),
        "examples/smart_home/src/smart_home/__init__.py": "",
        "examples/smart_home/src/smart_home/__main__.py": (
            "from smart_home.hub import hub_mcp\n\ndef main():\n    hub_mcp.run()\n"
        ),
        "examples/smart_home/src/smart_home/hub.py": (
            "from fastmcp import FastMCP\nfrom smart_home.lights.server import lights_mcp\n"
            "hub_mcp = FastMCP('hub')\nhub_mcp.mount(lights_mcp)\n"
        ),
        "examples/smart_home/src/smart_home/lights/__init__.py": "",
        "examples/smart_home/src/smart_home/lights/server.py": (
            "from fastmcp import FastMCP\nlights_mcp = FastMCP('lights')\n"
        ),
        "examples/smart_home/lights.fastmcp.json": (
            '{"entrypoint": "src/smart_home/lights/server.py"}'
        ),
    })  # fmt: skip
    assert servers(config) == {
        "smart-home": ("examples/smart_home", "src/smart_home/hub.py:hub_mcp")
    }
    assert "console script 'smart-home'" in result.text


def test_script_to_a_factory_through_main(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "p/pyproject.toml": "[project]\nname='p'\n[project.scripts]\np = 'pkg.__main__:main'\n",
        "p/src/pkg/__init__.py": "",
        "p/src/pkg/config.py": "X = 1\n",
        "p/src/pkg/__main__.py": (
            "from pkg.config import X\nfrom pkg.server import build_server\n\n"
            "def main():\n    build_server().run()\n"
        ),
        "p/src/pkg/server.py": (
            "from fastmcp import FastMCP\ndef build_server() -> FastMCP:\n    return FastMCP('p')\n"
        ),
        "p/src/pkg/other.py": "from fastmcp import FastMCP\nmcp = FastMCP('other')\n",
    })  # fmt: skip
    assert servers(config)["p"] == ("p", "src/pkg/server.py:build_server")


def test_main_uses_a_module_that_imports_the_package_server(tmp_path: Path) -> None:
    # The object lives in __init__.py; __main__ runs server.py, which imports it.
    config, _ = scan(tmp_path, {
        "src/shell/pyproject.toml": "[project]\nname='shell'\n",
        "src/shell/src/shell/__init__.py": (
            "from fastmcp import FastMCP\nmcp = FastMCP('shell')\nfrom . import server, tools\n"
        ),
        "src/shell/src/shell/__main__.py": "from .server import serve\nserve()\n",
        "src/shell/src/shell/server.py": "from . import mcp\n\ndef serve():\n    mcp.run()\n",
        "src/shell/src/shell/tools.py": "from . import mcp\n",
    })  # fmt: skip
    assert servers(config)["shell"] == ("src/shell", "src/shell/server.py")


_PART = (
    "from fastmcp import FastMCP\n{0} = FastMCP('{0}')\n\n"
    "@{0}.tool\ndef {0}_tool() -> str:\n    return ''\n"
)


def test_a_server_mounted_into_another_is_a_part_not_the_entrypoint(tmp_path: Path) -> None:
    # The composing server is deeper than the one it mounts: depth alone picked the part.
    config, result = scan(tmp_path, {
        "court/requirements.txt": "fastmcp\n",
        "court/server.py": _PART.format("status"),
        "court/app/main.py": (
            "from fastmcp import FastMCP\nfrom server import status\n"
            "from app.tools.search import search\n\n"
            "mcp = FastMCP('court')\nmcp.mount(status, prefix='status')\n"
            "mcp.mount(search, prefix='search')\n"
        ),
        "court/app/__init__.py": "", "court/app/tools/__init__.py": "",
        "court/app/tools/search.py": _PART.format("search"),
    })  # fmt: skip
    assert servers(config) == {"court": ("court", "app/main.py")}
    assert "mounts the servers of app/tools/search.py, server.py" in result.text


def test_servers_imported_into_one_in_a_sibling_directory_are_its_parts(tmp_path: Path) -> None:
    # Without the composition these were three servers, one per directory; the one that
    # composes them imports them from the project root, so it ships the whole project.
    config, _ = scan(tmp_path, {
        "pyproject.toml": "[project]\nname = 'law'\ndependencies = ['fastmcp']\n",
        "servers/opinions/server.py": _PART.format("opinions"),
        "servers/dockets/server.py": _PART.format("dockets"),
        "servers/all/server.py": (
            "from fastmcp import FastMCP\nfrom servers.opinions.server import opinions\n"
            "from servers.dockets.server import dockets\n\nmcp = FastMCP('law')\n\n"
            "async def setup():\n    await mcp.import_server(opinions)\n"
            "    await mcp.import_server(dockets, prefix='d')\n"
        ),
    })  # fmt: skip
    assert servers(config) == {"law": (".", "servers/all/server.py")}


def test_a_web_app_mount_is_no_composition(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "pyproject.toml": "[project]\nname = 'two'\ndependencies = ['fastmcp']\n",
        "servers/a/server.py": _PART.format("alpha"),
        "servers/b/server.py": (
            "from fastmcp import FastMCP\nfrom starlette.applications import Starlette\n"
            "from servers.a.server import alpha\n\nmcp = FastMCP('b')\n"
            "web = Starlette()\nweb.mount('/a', alpha.http_app())\n"
        ),
    })  # fmt: skip
    assert servers(config) == {
        "a": ("servers/a", "server.py:alpha"),
        "b": ("servers/b", "server.py"),
    }


def test_script_module_that_imports_the_object_points_at_its_definition(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "p/pyproject.toml": "[project]\nname='p'\n[project.scripts]\np = 'pkg.cli:main'\n",
        "p/pkg/__init__.py": "",
        "p/pkg/cli.py": "from pkg.core import hub as mcp\n\ndef main():\n    mcp.run()\n",
        "p/pkg/core.py": "from fastmcp import FastMCP\nhub = FastMCP('p')\n",
    })  # fmt: skip
    assert servers(config)["p"] == ("p", "pkg/core.py:hub")


# -------------------------------------------------------------- shared libraries


def test_path_requirements_make_shared_libraries(tmp_path: Path) -> None:
    config, result = scan(tmp_path, {
        "shared-utils/pyproject.toml": "[project]\nname = 'shared-utils'\nversion = '1'\n",
        "shared-utils/shared_utils/__init__.py": "",
        "shared-core/pyproject.toml": (
            "[project]\nname = 'shared-core'\nversion = '1'\ndependencies = ['shared-utils']\n"
            "[tool.uv.sources]\nshared-utils = { path = '../shared-utils', editable = true }\n"
        ),
        "shared-core/src/shared_core/__init__.py": "",
        "server-ops/requirements.txt": "fastmcp\n-e ../shared-utils\n",
        "server-ops/src/server.py": SERVER,
        "server-customer/requirements.txt": "shared-utils @ file:../shared-utils\n",
        "server-customer/src/server.py": SERVER,
        "server-finance/requirements.txt": "../shared-core\n",
        "server-finance/src/server.py": SERVER,
    })  # fmt: skip
    assert {n: t["path"] for n, t in config["shared"].items()} == {
        "utils": "shared-utils", "core": "shared-core",
    }  # fmt: skip
    assert set(config["servers"]) == {"ops", "customer", "finance"}
    # The comment above each path says how the servers reach it.
    text = re.sub(r"\n#   ", " ", result.text)  # comment lines wrapped back together
    assert "# server finance needs it (a path requirement: server-finance/requirements.txt:1)" in (
        text
    )
    assert "need it (a path requirement, e.g. server-customer/requirements.txt:1)" in text


def test_poetry_path_dependency(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "libs/common/pyproject.toml": "[tool.poetry]\nname = 'common'\nversion = '1'\n",
        "libs/common/common/__init__.py": "",
        "svc/pyproject.toml": (
            "[tool.poetry]\nname = 'svc'\nversion = '1'\n[tool.poetry.dependencies]\n"
            "python = '^3.11'\nfastmcp = '^2'\n"
            "common = { path = '../libs/common', develop = true }\n"
        ),
        "svc/svc/__init__.py": "",
        "svc/svc/server.py": SERVER,
    })  # fmt: skip
    assert config["shared"] == {"common": {"path": "libs/common"}}
    assert servers(config)["svc"] == ("svc", "svc/server.py")


def test_a_server_in_a_src_folder_is_named_by_its_parent(tmp_path: Path) -> None:
    # openeuler: servers/ctest_mcp/src/requirements.txt
    config, _ = scan(tmp_path, {
        "servers/ctest_mcp/src/requirements.txt": "fastmcp\n",
        "servers/ctest_mcp/src/server.py": SERVER,
        "servers/cmake_mcp/src/requirements.txt": "fastmcp\n",
        "servers/cmake_mcp/src/server.py": SERVER,
    })  # fmt: skip
    assert set(servers(config)) == {"ctest", "cmake"}


def test_server_files_a_main_does_not_use_are_named_in_a_note(tmp_path: Path) -> None:
    # jck411: servers/*.py each a server, run as python -m servers.X; one has a __main__
    config, result = scan(tmp_path, {
        "pyproject.toml": "[project]\nname = 'mcp-servers'\ndependencies = ['fastmcp']\n",
        "servers/__init__.py": "",
        "servers/calculator.py": SERVER,
        "servers/spotify.py": SERVER,
        "servers/knowledge/__init__.py": "",
        "servers/knowledge/__main__.py": "from .server import mcp\nmcp.run()\n",
        "servers/knowledge/server.py": SERVER,
    })  # fmt: skip
    assert len(servers(config)) == 1
    assert "2 more server file(s) not added (servers/calculator.py, servers/spotify.py)" in (
        result.text
    )


def test_poetrys_python_constraint_gives_the_python(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "svc/pyproject.toml": "[tool.poetry]\nname = 'svc'\nversion = '1'\n"
        "[tool.poetry.dependencies]\npython = '^3.11'\nfastmcp = '*'\n",
        "svc/server.py": SERVER,
    })  # fmt: skip
    assert config["bundle"]["python"] == "3.11"


def test_pipfile_project_with_a_path_package(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "shared/pyproject.toml": "[project]\nname = 'acme-shared'\nversion = '1'\n",
        "shared/acme_shared/__init__.py": "",
        "weather/Pipfile": (
            "[packages]\nfastmcp = '*'\nacme-shared = {path = '../shared', editable = true}\n"
            "[requires]\npython_version = '3.11'\n"
        ),
        "weather/server.py": SERVER,
    })  # fmt: skip
    assert servers(config) == {"weather": ("weather", "server.py")}
    assert config["shared"] == {"shared": {"path": "shared"}}
    assert config["bundle"]["python"] == "3.11"


WORKSPACE = {
    "pyproject.toml": (
        "[project]\nname = 'ws'\nversion = '0'\nrequires-python = '>=3.12'\n"
        "[tool.uv.workspace]\nmembers = ['packages/*']\n"
    ),
    "packages/core/pyproject.toml": "[project]\nname = 'core'\nversion = '1'\n",
    "packages/core/src/core/__init__.py": "def helper():\n    return 1\n",
    "packages/helpers/pyproject.toml": "[project]\nname = 'helpers'\nversion = '1'\n",
    "packages/helpers/src/helpers/__init__.py": "",
    "packages/mcp-a/pyproject.toml": (
        "[project]\nname = 'mcp-a'\nversion = '1'\ndependencies = ['core', 'fastmcp']\n"
        "[tool.uv.sources]\ncore = { workspace = true }\n"
    ),
    "packages/mcp-a/src/mcp_a/__init__.py": "",
    "packages/mcp-a/src/mcp_a/server.py": SERVER,
    "packages/mcp-b/pyproject.toml": (
        "[project]\nname = 'mcp-b'\nversion = '1'\ndependencies = ['fastmcp', 'mcp-a']\n"
        "[tool.uv.sources]\nmcp-a = { workspace = true }\n"
    ),
    "packages/mcp-b/src/mcp_b/__init__.py": "",
    "packages/mcp-b/src/mcp_b/server.py": (
        "import helpers\nfrom fastmcp import FastMCP\nmcp = FastMCP('b')\n"
    ),
}


def test_workspace_members(tmp_path: Path) -> None:
    config, result = scan(tmp_path, WORKSPACE)
    assert servers(config) == {
        "a": ("packages/mcp-a", "src/mcp_a/server.py"),
        "b": ("packages/mcp-b", "src/mcp_b/server.py"),
    }
    # core: a workspace source; helpers: imported by b, named by no requirement; mcp-a is a
    # server (the build vendors it into b by its server table), so it gets no [shared] table.
    assert {n: t["path"] for n, t in config["shared"].items()} == {
        "core": "packages/core", "helpers": "packages/helpers",
    }  # fmt: skip
    assert config["servers"]["b"]["shared"] == ["helpers"]
    assert "imports helpers without a requirement naming it" in result.text
    assert config["bundle"]["python"] == "3.12"


# ------------------------------------------------------------------------ [bundle]


def test_python_version_file_wins(tmp_path: Path) -> None:
    config, result = scan(tmp_path, {
        ".python-version": "3.13.1\n",
        "svc/pyproject.toml": "[project]\nname='s'\nrequires-python = '>=3.10'\n",
        "svc/server.py": SERVER,
    })  # fmt: skip
    assert config["bundle"]["python"] == "3.13"
    assert "# from .python-version" in result.text


def test_the_servers_fastmcp_json_python_is_the_target(tmp_path: Path) -> None:
    document = '{"source": {"path": "server.py"}, "environment": {"python": "3.13"}}'
    config, result = scan(tmp_path, {
        "svc/pyproject.toml": "[project]\nname='s'\nrequires-python = '>=3.10'\n",
        "svc/server.py": SERVER,
        "svc/fastmcp.json": document,
    })  # fmt: skip
    assert config["bundle"]["python"] == "3.13"
    assert "# from the servers' fastmcp.json environment.python" in result.text


def test_requires_python_gives_the_lowest_version_all_allow(tmp_path: Path) -> None:
    config, result = scan(tmp_path, {
        "a/pyproject.toml": "[project]\nname='a'\nrequires-python = '>=3.10'\n",
        "a/server.py": SERVER,
        "b/pyproject.toml": "[project]\nname='b'\nrequires-python = '>=3.11,<4'\n",
        "b/server.py": SERVER,
    })  # fmt: skip
    assert config["bundle"]["python"] == "3.11"
    assert "b/pyproject.toml" in result.text


def test_no_python_information_leaves_python_unset(tmp_path: Path) -> None:
    config, result = scan(tmp_path, {"svc/requirements.txt": "", "svc/server.py": SERVER})
    assert "python" not in config["bundle"]
    assert "# python: no requires-python or .python-version found" in result.text


def test_uv_lock_selects_the_uv_resolver(tmp_path: Path) -> None:
    config, result = scan(tmp_path, {
        "svc/pyproject.toml": "[project]\nname='s'\n", "svc/server.py": SERVER,
        "svc/uv.lock": "version = 1\n",
    })  # fmt: skip
    assert config["bundle"]["resolver"] == "uv"
    assert "uv.lock found (svc/uv.lock)" in result.text


def test_uv_lock_without_uv_installed_keeps_pip_tools_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config whose first build fails for want of uv helps nobody: init says how to
    use uv instead of selecting it."""
    from mcpbundle.base import uv_binary

    monkeypatch.setitem(sys.modules, "uv", None)
    monkeypatch.setattr(uv_binary.shutil, "which", lambda _name: None)
    config, result = scan(tmp_path, {
        "svc/pyproject.toml": "[project]\nname='s'\n", "svc/server.py": SERVER,
        "svc/uv.lock": "version = 1\n",
    })  # fmt: skip
    assert "resolver" not in config["bundle"]
    assert "uv.lock found (svc/uv.lock) but no uv binary" in result.text
    assert "pip install uv" in result.text


def test_no_uv_lock_keeps_the_default_resolver(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {"svc/requirements.txt": "", "svc/server.py": SERVER})
    assert "resolver" not in config["bundle"]


def test_excludes_for_tests_notebooks_and_docker_files(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "svc/requirements.txt": "", "svc/server.py": SERVER, "svc/Dockerfile": "FROM x\n",
        "svc/docker-compose.example.yml": "", "svc/tests/test_x.py": "",
        "svc/explore.ipynb": "{}", "notebooks/scratch.py": "",
    })  # fmt: skip
    assert config["bundle"]["exclude"] == [
        "tests/", "notebooks/", "*.ipynb", "Dockerfile", "docker-compose*.yml",
    ]  # fmt: skip


def test_git_requirement_without_a_ref_uses_pypi(tmp_path: Path) -> None:
    config, result = scan(tmp_path, {
        "svc/pyproject.toml": (
            "[project]\nname='s'\ndependencies = ['fastmcp@git+https://github.com/x/fastmcp.git']\n"
        ),
        "svc/server.py": SERVER,
    })  # fmt: skip
    assert config["bundle"]["git"] == "pypi"
    assert "https://github.com/x/fastmcp.git names no ref" in result.text


def test_mixed_git_requirements_override_only_the_floating_one(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "svc/requirements.txt": (
            "a @ git+https://example.com/a.git@v1.0\nb @ git+https://example.com/b.git\n"
        ),
        "svc/server.py": SERVER,
    })  # fmt: skip
    assert "git" not in config["bundle"]
    assert config["bundle"]["git-overrides"] == {"https://example.com/b.git": "pypi"}


# ------------------------------------------------------------------ names, layout


def test_names_drop_mcp_server_words_and_a_shared_first_word(tmp_path: Path) -> None:
    files = {}
    for directory in ("acme-billing-mcp", "acme-crm-mcp", "gta-mnt", "server-ops"):
        files[f"{directory}/requirements.txt"] = ""
        files[f"{directory}/server.py"] = SERVER
    config, _ = scan(tmp_path, files)
    assert sorted(config["servers"]) == ["billing", "crm", "gta-mnt", "ops"]


def test_a_server_at_the_root(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "pyproject.toml": "[project]\nname = 'weather_mcp'\n", "server.py": SERVER,
    })  # fmt: skip
    assert servers(config) == {"weather": (".", "server.py")}


def test_server_files_in_sibling_directories_of_one_project_are_servers_each(
    tmp_path: Path,
) -> None:
    config, result = scan(tmp_path, {
        "pyproject.toml": "[project]\nname = 'tools'\nrequires-python = '>=3.11'\n"
                          "dependencies = ['fastmcp']\n",
        "servers/weather/server.py": SERVER, "servers/weather/api.py": "",
        "servers/github/main.py": "from fastmcp import FastMCP\ngh = FastMCP('gh')\n",
        "common/helpers.py": "",
    })  # fmt: skip
    assert servers(config) == {
        "github": ("servers/github", "main.py:gh"),
        "weather": ("servers/weather", "server.py"),
    }
    assert {t["requirements"] for t in config["servers"].values()} == {"../../pyproject.toml"}
    assert config["bundle"]["python"] == "3.11"
    assert "the requirements of the project this directory belongs to" in result.text


def test_a_server_file_beside_the_others_keeps_one_server(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "app/requirements.txt": "", "app/main.py": SERVER, "app/sub/server.py": SERVER,
    })  # fmt: skip
    assert servers(config) == {"app": ("app", "main.py")}


def test_nested_server_directories_keep_the_outer_one(tmp_path: Path) -> None:
    _, result = scan(tmp_path, {
        "svc/requirements.txt": "", "svc/server.py": SERVER,
        "svc/sub/requirements.txt": "", "svc/sub/server.py": SERVER,
    })  # fmt: skip
    assert [s.path for s in result.servers] == ["svc"]
    assert any("must not nest" in w for w in result.warnings)


def test_an_earlier_build_output_is_not_scanned(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "svc/requirements.txt": "", "svc/server.py": SERVER,
        "dist/.mcpbundle-output": "", "dist/svc/requirements.txt": "", "dist/svc/server.py": SERVER,
    })  # fmt: skip
    assert servers(config) == {"svc": ("svc", "server.py")}
    assert config["bundle"]["output"] == "dist"


def test_a_foreign_dist_directory_moves_the_output(tmp_path: Path) -> None:
    config, result = scan(tmp_path, {
        "svc/requirements.txt": "", "svc/server.py": SERVER, "dist/pkg-1.0.tar.gz": "",
    })  # fmt: skip
    assert config["bundle"]["output"] == "mcpbundle-dist"
    assert "dist/ holds files mcpbundle did not write" in result.text


def test_a_file_that_does_not_parse_is_skipped(tmp_path: Path) -> None:
    config, _ = scan(tmp_path, {
        "svc/requirements.txt": "", "svc/server.py": SERVER, "svc/broken.py": "def (:\n",
    })  # fmt: skip
    assert servers(config) == {"svc": ("svc", "server.py")}


def _example_keys() -> dict[str, list[str]]:
    """Keys of mcpbundle.toml.example per table kind, in their order (commented ones too)."""
    example = Path(__file__).resolve().parents[2] / "mcpbundle.toml.example"
    keys: dict[str, list[str]] = {}
    table = ""
    for line in example.read_text().splitlines():
        header = re.match(r"^\[([a-z.-]+)\]", line)
        if header:
            table = re.sub(r"^(shared|servers)\.[^.]+", r"\1", header[1])
            continue
        key = re.match(r"^#? ?([a-z-]+) = ", line)
        if key:
            keys.setdefault(table, []).append(key[1])
    return keys


def test_keys_come_in_the_order_of_the_example(tmp_path: Path) -> None:
    files = dict(WORKSPACE)
    files["packages/mcp-b/uv.lock"] = ""
    files["packages/mcp-b/Dockerfile"] = ""
    files["packages/mcp-a/requirements.txt"] = "b @ git+https://example.com/b.git\n-e ../core\n"
    config, _ = scan(tmp_path, files)
    order = _example_keys()
    for table, keys in (
        [("bundle", list(config["bundle"]))]
        + [("servers", list(t)) for t in config["servers"].values()]
        + [("shared", list(t)) for t in config["shared"].values()]
    ):
        plain = [k for k in keys if k != "git-overrides"]  # a table: [bundle.git-overrides]
        assert plain == sorted(plain, key=order[table].index), (table, plain)
    assert list(config) == ["bundle", "shared", "servers"]
    assert {"output", "exclude", "python", "resolver", "git"} <= set(config["bundle"])


def test_a_script_module_that_imports_the_tools_is_the_entry(tmp_path: Path) -> None:
    """awslabs/mcp's memcached server: the script's module imports the server from
    common/server.py and the tools module that registers on it. Loading server.py
    alone gives a server without tools; the script's module is what runs."""
    config, result = scan(tmp_path, {
        "m/pyproject.toml": (
            "[project]\nname='m'\n[project.scripts]\nm = 'acme.m_server.main:main'\n"
        ),
        "m/acme/__init__.py": "",
        "m/acme/m_server/__init__.py": "",
        "m/acme/m_server/main.py": (
            "from acme.m_server.common.server import mcp\n"
            "from acme.m_server.tools import cache  # noqa: F401\n\n"
            "def main():\n    mcp.run()\n"
        ),
        "m/acme/m_server/common/__init__.py": "",
        "m/acme/m_server/common/server.py": SERVER,
        "m/acme/m_server/tools/__init__.py": "",
        "m/acme/m_server/tools/cache.py": (
            "from acme.m_server.common.server import mcp\n\n@mcp.tool\ndef get() -> str:\n"
            "    return 'x'\n"
        ),
    })  # fmt: skip
    assert servers(config)["m"] == ("m", "acme/m_server/main.py")
    assert "console script 'm'" in result.text


def test_a_script_module_that_only_passes_the_server_on_gives_its_definer(
    tmp_path: Path,
) -> None:
    config, _ = scan(tmp_path, {
        "p/pyproject.toml": "[project]\nname='p'\n[project.scripts]\np = 'pkg.cli:main'\n",
        "p/src/pkg/__init__.py": "",
        "p/src/pkg/cli.py": (
            "import sys\nfrom pkg.server import mcp\n\ndef main():\n    mcp.run()\n"
        ),
        "p/src/pkg/server.py": SERVER,
    })  # fmt: skip
    assert servers(config)["p"] == ("p", "src/pkg/server.py")
