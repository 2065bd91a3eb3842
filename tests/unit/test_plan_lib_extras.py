"""A shared library named with extras (``core[table]``) brings its optional dependencies.

pip installs ``-e ../core[table]`` or a ``core[table]`` workspace dependency with the
library's ``[project.optional-dependencies].table``; the bundle vendors the library, so
its requirements must carry what the extra adds, or the vendored code cannot import
(unifi-mcp: ``unifi-core[protect]`` needs ``uiprotect``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_plan import SRV, one, plan

from mcpbundle.base.errors import ConfigError
from mcpbundle.plan.requirements import parse_requirement_text

CORE = {
    "packages/core/pyproject.toml": (
        '[project]\nname = "core"\nlicense = "MIT"\ndependencies = ["httpx>=0.27"]\n'
        "[project.optional-dependencies]\n"
        'table = ["tabulate>=0.9"]\n'
        'protect = ["uiprotect>=7", "core[table]"]\n'
        'access = ["py-unifi-access", "shared-auth"]\n'
        '[tool.uv.sources]\nshared-auth = { path = "../auth" }\n'
    ),
    "packages/core/src/core_lib/__init__.py": "",
    "packages/auth/pyproject.toml": (
        '[project]\nname = "shared-auth"\nlicense = "MIT"\ndependencies = ["pyjwt>=2.8"]\n'
    ),
    "packages/auth/shared_auth/__init__.py": "",
}
TOML = (
    '[shared.core]\npath = "packages/core"\n'
    '[servers.srv]\npath = "apps/srv"\nentrypoint = "server.py"\n'
)


def workspace_server(dependency: str) -> dict[str, str]:
    return {
        **CORE,
        "apps/srv/server.py": SRV,
        "apps/srv/pyproject.toml": (
            f'[project]\nname = "srv"\ndependencies = ["fastmcp", "{dependency}"]\n'
            "[tool.uv.sources]\ncore = { workspace = true }\n"
        ),
        "pyproject.toml": '[project]\nname = "ws"\n[tool.uv.workspace]\nmembers = ["apps/*", '
        '"packages/*"]\n',
    }


def test_a_workspace_dependency_with_an_extra_brings_its_requirements(tmp_path: Path) -> None:
    server = one(plan(tmp_path, TOML, workspace_server("core[table]")))
    assert server.shared == ("core",)
    assert server.requirements_in == ("fastmcp", "httpx>=0.27", "tabulate>=0.9")


def test_an_extra_naming_another_extra_and_a_library_follows_both(tmp_path: Path) -> None:
    server = one(plan(tmp_path, TOML, workspace_server("core[protect,access]")))
    assert server.shared == ("auth", "core")  # auth: an undeclared library (a warning)
    assert server.requirements_in == (
        "fastmcp", "httpx>=0.27", "py-unifi-access", "pyjwt>=2.8", "tabulate>=0.9",
        "uiprotect>=7",
    )  # fmt: skip


def test_without_the_extra_its_requirements_stay_out(tmp_path: Path) -> None:
    server = one(plan(tmp_path, TOML, workspace_server("core")))
    assert server.requirements_in == ("fastmcp", "httpx>=0.27")


@pytest.mark.parametrize("line", ["-e ../../packages/core[table]", "../../packages/core[table]"])
def test_a_path_line_with_extras_in_requirements_txt(tmp_path: Path, line: str) -> None:
    files = {**CORE, "apps/srv/server.py": SRV, "apps/srv/requirements.txt": f"fastmcp\n{line}\n"}
    server = one(plan(tmp_path, TOML, files))
    assert server.shared == ("core",)
    assert server.requirements_in == ("fastmcp", "httpx>=0.27", "tabulate>=0.9")


def test_an_unknown_extra_is_a_warning_as_pip_gives(tmp_path: Path) -> None:
    result = plan(tmp_path, TOML, workspace_server("core[tables]"))
    assert one(result).requirements_in == ("fastmcp", "httpx>=0.27")
    assert any("has no extra 'tables'" in w and "table" in w for w in result.warnings)


def test_path_extras_are_split_from_the_path(tmp_path: Path) -> None:
    line = parse_requirement_text("../core[Table, protect]", origin="r:1", base=tmp_path)
    assert line.kind == "path"
    assert line.path == tmp_path.parent / "core"
    assert line.extras == ("protect", "table")


def test_a_path_with_a_broken_extras_list_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="extras"):
        parse_requirement_text("../core[table", origin="r:1", base=tmp_path)


PROJECT = (
    '[project]\nname = "mcp-servers"\ndependencies = ["fastmcp>=2.14"]\n'
    "[project.optional-dependencies]\n"
    'housekeeping = ["aiosqlite>=0.20", "shared-auth"]\n'
    'spotify = ["spotipy"]\n'
    'all = ["mcp-servers[housekeeping,spotify]"]\n'
    '[tool.uv.sources]\nshared-auth = { path = "packages/auth" }\n'
)


def _own(extras: str) -> str:
    return f'[servers.hk]\npath = "."\nentrypoint = "servers/hk.py"\nextras = {extras}\n'


def test_a_servers_own_extras_join_its_requirements(tmp_path: Path) -> None:
    files = {**CORE, "pyproject.toml": PROJECT, "servers/hk.py": SRV}
    server = one(plan(tmp_path, _own('["housekeeping"]'), files))
    assert server.requirements_in == ("aiosqlite>=0.20", "fastmcp>=2.14", "pyjwt>=2.8")
    assert "auth" in server.shared


def test_an_extra_naming_the_project_itself_is_followed(tmp_path: Path) -> None:
    files = {**CORE, "pyproject.toml": PROJECT, "servers/hk.py": SRV}
    server = one(plan(tmp_path, _own('["all"]'), files))
    assert server.requirements_in == (
        "aiosqlite>=0.20", "fastmcp>=2.14", "pyjwt>=2.8", "spotipy",
    )  # fmt: skip


def test_an_unknown_own_extra_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    files = {**CORE, "pyproject.toml": PROJECT, "servers/hk.py": SRV}
    with pytest.raises(ConfigError, match="has no extra 'housekeep'") as info:
        plan(tmp_path, _own('["housekeep"]'), files)
    assert "servers.hk.extras" in str(info.value.where)
    assert "housekeeping" in str(info.value)
