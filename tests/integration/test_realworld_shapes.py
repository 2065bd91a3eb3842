"""Shapes real monorepos have, each built by the real CLI and loaded by the real fastmcp.

A uv workspace root that is itself a composite server, servers other servers depend
on, a git host that cannot be reached, a failing server among good ones, a server
that is a subpackage of a top-level package, the repository's one pyproject as a
server's requirements, a repository constraints file, a shipped fastmcp.json.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from support.fastmcpcli import run_inspect, tool_names
from support.monorepo import mcpbundle, tree, write

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def bundle_table(wheelhouse: Path, extra: str = "") -> str:
    return (
        f"[bundle]\npython = '{RUNNING}'\nno-index = true\n"
        f"find-links = [{str(wheelhouse)!r}]\n{extra}"
    )


def server_py(name: str, imports: str, tools: dict[str, str]) -> str:
    body = "".join(
        f"\n\n@mcp.tool\ndef {tool}() -> str:\n    return {expr}\n" for tool, expr in tools.items()
    )
    return f"from fastmcp import FastMCP\n{imports}\nmcp = FastMCP({name!r}){body}"


def manifest(root: Path) -> dict[str, dict[str, object]]:
    data = json.loads((root / "dist" / "mcpbundle-manifest.json").read_text())
    return data["servers"]  # type: ignore[no-any-return]


def loaded_tools(root: Path, server: str, cwd: Path) -> list[str]:
    entry = manifest(root)[server]["entrypoint"]
    return tool_names(run_inspect(root / "dist" / str(entry), cwd))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# -- a workspace root that is itself a server ---------------------------------------


def make_workspace(root: Path, wheelhouse: Path) -> None:
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.suite]\npath = '.'\nentrypoint = 'suite_server.py'\n"
            "[servers.a]\npath = 'members/tool-a'\nentrypoint = 'src/tool_a/server.py'\n"
            "[servers.b]\npath = 'members/tool-b'\nentrypoint = 'src/tool_b/server.py'\n",
            # The root project is the composite: it depends on every member.
            "pyproject.toml": (
                "[project]\nname = 'suite'\nversion = '0.1'\n"
                "dependencies = ['alpha', 'tool-a', 'tool-b']\n"
                "[tool.uv.sources]\ntool-a = { workspace = true }\n"
                "tool-b = { workspace = true }\n"
                "[tool.uv.workspace]\nmembers = ['members/*']\n"
            ),
            "suite_server.py": server_py(
                "suite",
                "from tool_a.ops import add\nfrom tool_b.ops import shout\n",
                {"suite_add": "str(add(1, 2))", "suite_shout": "shout('x')"},
            ),
            "members/tool-a/pyproject.toml": (
                "[project]\nname = 'tool-a'\nversion = '1.0'\ndependencies = ['beta']\n"
            ),
            "members/tool-a/src/tool_a/__init__.py": "",
            "members/tool-a/src/tool_a/ops.py": "def add(x, y):\n    return x + y\n",
            "members/tool-a/src/tool_a/server.py": server_py(
                "a", "from tool_a.ops import add\n", {"a_add": "str(add(2, 2))"}
            ),
            # b depends on server a by workspace source: a is vendored into b.
            "members/tool-b/pyproject.toml": (
                "[project]\nname = 'tool-b'\nversion = '1.0'\n"
                "dependencies = ['gamma', 'tool-a']\n"
                "[tool.uv.sources]\ntool-a = { workspace = true }\n"
            ),
            "members/tool-b/src/tool_b/__init__.py": "",
            "members/tool-b/src/tool_b/ops.py": (
                "from tool_a.ops import add\n\n\n"
                "def shout(s):\n    return s.upper() + str(add(0, 1))\n"
            ),
            "members/tool-b/src/tool_b/server.py": server_py(
                "b", "from tool_b.ops import shout\n", {"b_shout": "shout('y')"}
            ),
        },
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    root = tmp_path_factory.mktemp("ws") / "repo"
    make_workspace(root, wheelhouse)
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    assert "declared shared library" not in done.stderr
    return root


def requirements_in(root: Path, server: str) -> list[str]:
    path = root / "dist" / str(manifest(root)[server]["path"]) / "requirements.in"
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def test_members_inherit_the_roots_third_party_dependencies_only(workspace: Path) -> None:
    assert requirements_in(workspace, "a") == ["alpha", "beta", "fastmcp"]
    assert manifest(workspace)["a"]["shared"] == []
    files = manifest(workspace)["a"]["files"]
    assert not any("tool_b" in str(f) for f in files)  # type: ignore[union-attr]


def test_a_server_another_depends_on_is_vendored_without_a_shared_table(workspace: Path) -> None:
    assert manifest(workspace)["b"]["shared"] == ["a"]
    assert requirements_in(workspace, "b") == ["alpha", "beta", "fastmcp", "gamma"]
    assert (workspace / "dist/members/tool-b/src/tool_a/ops.py").is_file()


def test_the_root_composite_vendors_its_members_and_not_their_folders(workspace: Path) -> None:
    assert manifest(workspace)["suite"]["shared"] == ["a", "b"]
    suite_files = list(manifest(workspace)["suite"]["files"])  # type: ignore[call-overload]
    assert "tool_a/ops.py" in suite_files
    assert not any(f.startswith("members/") for f in suite_files)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("server", "tools"),
    [("suite", ["suite_add", "suite_shout"]), ("a", ["a_add"]), ("b", ["b_shout"])],
)
def test_workspace_bundles_load(
    workspace: Path, server: str, tools: list[str], tmp_path: Path
) -> None:
    assert loaded_tools(workspace, server, tmp_path) == tools


def test_a_rebuild_of_the_workspace_is_up_to_date(workspace: Path) -> None:
    before = tree(workspace / "dist")
    done = mcpbundle(workspace, "--debug", "build")  # --debug: the full path, not the stamp
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert tree(workspace / "dist") == before


def test_an_unknown_workspace_dependency_names_the_server(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "repo"
    make_workspace(root, wheelhouse)
    pyproject = root / "members/tool-b/pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("'tool-a']", "'tool-a', 'ghost']")
        + "ghost = { workspace = true }\n"
    )
    done = mcpbundle(root, "build", "b")
    assert done.returncode == 2, done.stderr
    (line,) = error_lines(done.stderr)
    assert "workspace dependency 'ghost'" in line
    assert "(needed by server 'b')" in line


# -- a git host that cannot be reached -----------------------------------------------

UNREACHABLE = "alpha @ git+file:///nonexistent/alpha.git@main"


def git_repo(root: Path, wheelhouse: Path, policy: str) -> Path:
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse, f"git = {policy!r}\n")
            + "[servers.ops]\npath = 'ops'\nentrypoint = 'server.py'\n",
            "ops/server.py": server_py("ops", "", {"ping": "'pong'"}),
            "ops/requirements.txt": f"fastmcp\n{UNREACHABLE}\n",
        },
    )
    return root


@pytest.mark.parametrize("policy", ["vendor", "pin"])
def test_an_unreachable_git_host_names_the_pypi_policy(
    tmp_path: Path, wheelhouse: Path, policy: str
) -> None:
    root = git_repo(tmp_path / "repo", wheelhouse, policy)
    done = mcpbundle(root, "build")
    assert done.returncode == 1, done.stderr
    (line,) = error_lines(done.stderr)
    assert "ops/requirements.txt:2" in line
    assert '"/nonexistent/alpha" = "pypi" in [bundle.git-overrides]' in line
    assert not (root / "dist").exists()


@pytest.mark.parametrize("command", [["validate"], ["list", "--json"]])
def test_validate_and_list_never_fetch(
    tmp_path: Path, wheelhouse: Path, command: list[str]
) -> None:
    root = git_repo(tmp_path / "repo", wheelhouse, "vendor")
    done = mcpbundle(root, *command)
    assert done.returncode == 0, done.stderr
    assert "cannot" not in done.stderr


def test_git_pypi_policy_takes_the_pypi_release_without_a_clone(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = git_repo(tmp_path / "repo", wheelhouse, "pypi")
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    assert "alpha==2.0" in (root / "dist/ops/requirements.txt").read_text()
    rewrites = manifest(root)["ops"]["rewrites"]
    assert {"from": UNREACHABLE, "to": "alpha (PyPI)", "origin": "ops/requirements.txt:2"} in (
        rewrites  # type: ignore[operator]
    )


def test_a_per_url_pypi_override(tmp_path: Path, wheelhouse: Path) -> None:
    root = git_repo(tmp_path / "repo", wheelhouse, "vendor")
    config = root / "mcpbundle.toml"
    config.write_text(
        config.read_text().replace(
            "[servers.ops]",
            '[bundle.git-overrides]\n"file:///nonexistent/alpha" = "pypi"\n[servers.ops]',
        )
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr


# -- one failing server among good ones -------------------------------------------


def two_servers(root: Path, wheelhouse: Path) -> Path:
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.good]\npath = 'good'\nentrypoint = 'server.py'\n"
            "[servers.bad]\npath = 'bad'\nentrypoint = 'server.py'\n",
            "good/server.py": server_py("good", "", {"ping": "'pong'"}),
            "good/requirements.txt": "fastmcp\nalpha\n",
            "bad/server.py": server_py("bad", "", {"ping": "'pong'"}),
            "bad/requirements.txt": "fastmcp\nbeta\n",
        },
    )
    return root


def test_keep_going_builds_the_others_and_keeps_the_failed_output(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = two_servers(tmp_path / "repo", wheelhouse)
    assert mcpbundle(root, "build").returncode == 0
    bad_before = {k: v for k, v in tree(root / "dist").items() if k.startswith("bad/")}
    (root / "bad/requirements.txt").write_text("fastmcp\nbeta>=99\n")
    (root / "good/requirements.txt").write_text("fastmcp\nalpha<2\n")
    plain = mcpbundle(root, "build")
    assert plain.returncode == 1
    assert "alpha==2.0" in (root / "dist/good/requirements.txt").read_text()  # nothing written
    done = mcpbundle(root, "build", "--keep-going")
    assert done.returncode == 1, done.stderr
    lines = error_lines(done.stderr)
    assert any(line.startswith("error: server 'bad' failed:") and "beta" in line for line in lines)
    assert lines[-1].startswith("error: 1 of 2 servers failed: bad")
    assert "built good" in done.stdout
    assert "alpha==1.1" in (root / "dist/good/requirements.txt").read_text()
    after = {k: v for k, v in tree(root / "dist").items() if k.startswith("bad/")}
    assert after == bad_before
    assert "bad" in manifest(root)


def test_a_missing_entry_file_fails_only_its_server(tmp_path: Path, wheelhouse: Path) -> None:
    """A deleted entrypoint belongs to one server: --keep-going (and a build of another
    server) builds the rest and keeps its output; check reports it once, as MCB000, and
    checks the others; a plain build and validate still stop on it as a config error."""
    root = two_servers(tmp_path / "repo", wheelhouse)
    assert mcpbundle(root, "build").returncode == 0
    bad_before = {k: v for k, v in tree(root / "dist").items() if k.startswith("bad/")}
    (root / "bad/server.py").unlink()
    (root / "good/requirements.txt").write_text("fastmcp\nalpha<2\n")
    for args in (("build",), ("validate",)):
        plain = mcpbundle(root, *args)
        assert plain.returncode == 2, plain.stderr
        assert "servers.bad.entrypoint: file 'server.py' does not exist" in plain.stderr
    assert "alpha==2.0" in (root / "dist/good/requirements.txt").read_text()  # nothing written
    done = mcpbundle(root, "build", "--keep-going")
    assert done.returncode == 1, done.stderr
    lines = error_lines(done.stderr)
    assert lines[0].startswith("error: server 'bad' failed: mcpbundle.toml: servers.bad.entry")
    assert lines[-1].startswith("error: 1 of 2 servers failed: bad")
    assert "alpha==1.1" in (root / "dist/good/requirements.txt").read_text()
    assert {k: v for k, v in tree(root / "dist").items() if k.startswith("bad/")} == bad_before
    (root / "good/requirements.txt").write_text("fastmcp\nalpha\ngamma\n")
    one = mcpbundle(root, "build", "good")
    assert one.returncode == 0, one.stderr
    assert "gamma==" in (root / "dist/good/requirements.txt").read_text()
    check = mcpbundle(root, "check", "--format", "json")
    assert check.returncode == 1, check.stderr
    findings = json.loads(check.stdout)["findings"]
    bad = [(f["code"], f["file"]) for f in findings if f["server"] == "bad"]
    assert bad == [("MCB000", "mcpbundle.toml")], findings
    assert not [f for f in findings if f["server"] == "good" and f["severity"] == "error"]


def test_a_broken_declared_library_fails_only_the_servers_vendoring_it(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """A declared library whose requirements cannot be classified (a workspace dependency
    nowhere in the workspace) is the failure of the servers that vendor it, named in the
    error; --keep-going builds the others, check reports it on that server alone."""
    root = two_servers(tmp_path / "repo", wheelhouse)
    toml = root / "mcpbundle.toml"
    toml.write_text(
        toml.read_text().replace(
            "[servers.bad]\npath = 'bad'\n", "[servers.bad]\npath = 'bad'\nshared = ['kit']\n"
        )
        + "[shared.kit]\npath = 'kit'\n"
    )
    write(
        root,
        {
            "kit/pyproject.toml": "[project]\nname = 'kit'\nversion = '1'\n"
            "dependencies = ['tools']\n[tool.uv.sources]\ntools = { workspace = true }\n",
            "kit/kit/__init__.py": "",
        },
    )
    plain = mcpbundle(root, "build")
    assert plain.returncode == 2, plain.stderr
    (line,) = error_lines(plain.stderr)
    assert "workspace dependency 'tools'" in line and "needed by server 'bad'" in line, line
    assert not (root / "dist").exists()
    done = mcpbundle(root, "build", "--keep-going")
    assert done.returncode == 1, done.stderr
    lines = error_lines(done.stderr)
    assert lines[0].startswith("error: server 'bad' failed:") and "'tools'" in lines[0]
    assert lines[-1].startswith("error: 1 of 2 servers failed: bad")
    assert "built good" in done.stdout
    check = mcpbundle(root, "check", "--format", "json")
    findings = json.loads(check.stdout)["findings"]
    errors = {(f["server"], f["code"]) for f in findings if f["severity"] == "error"}
    assert errors == {("bad", "MCB003")}, findings  # a requirement problem, on its file


@pytest.mark.parametrize(
    "broken",
    ["fastmcp\nthis is not a requirement!!\n", "fastmcp\nbeta>=99\n"],
    ids=["unparsable", "unresolvable"],
)
def test_building_one_server_ignores_another_servers_failure(
    tmp_path: Path, wheelhouse: Path, broken: str
) -> None:
    """Under the shared lock a partial build pins as a full build would, but a server
    that was not asked for and fails (to plan or to resolve) is no failure of this build."""
    root = two_servers(tmp_path / "repo", wheelhouse)
    (root / "bad/requirements.txt").write_text(broken)
    for args in (("build", "good"), ("build", "--keep-going", "good")):
        done = mcpbundle(root, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert error_lines(done.stderr) == [], done.stderr
        assert "alpha==" in (root / "dist/good/requirements.txt").read_text()
    assert "bad" not in manifest(root)
    whole = mcpbundle(root, "build")
    assert whole.returncode != 0  # asked for, the broken server still fails the build


def test_keep_going_fails_only_the_servers_that_would_ship_a_secret(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """A secret belongs to the servers that ship the file: with --keep-going the others are
    built and the failed ones keep their previous output; without it nothing is written."""
    root = two_servers(tmp_path / "repo", wheelhouse)
    assert mcpbundle(root, "build").returncode == 0
    bad_before = {k: v for k, v in tree(root / "dist").items() if k.startswith("bad/")}
    key = "AKIA" + "FAKE0TEST0KEY012"
    (root / "bad/settings.py").write_text(f'AWS_KEY = "{key}"\n')
    (root / "good/requirements.txt").write_text("fastmcp\nalpha<2\n")
    plain = mcpbundle(root, "build")
    assert plain.returncode == 1
    assert "bad/settings.py:1" in plain.stderr
    assert "alpha==2.0" in (root / "dist/good/requirements.txt").read_text()  # nothing written
    done = mcpbundle(root, "build", "--keep-going")
    assert done.returncode == 1, done.stderr
    lines = error_lines(done.stderr)
    assert any(
        line.startswith("error: server 'bad' failed:") and "bad/settings.py:1" in line
        for line in lines
    ), lines
    assert lines[-1].startswith("error: 1 of 2 servers failed: bad")
    assert "alpha==1.1" in (root / "dist/good/requirements.txt").read_text()
    after = {k: v for k, v in tree(root / "dist").items() if k.startswith("bad/")}
    assert after == bad_before
    assert key not in done.stdout + done.stderr
    assert not any(key.encode() in data for data, _ in tree(root / "dist").values())


def test_keep_going_fails_every_server_that_vendors_a_secret(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = two_servers(tmp_path / "repo", wheelhouse)
    write(
        root,
        {
            "shared/pyproject.toml": "[project]\nname = 'shared'\nversion = '0.1'\n",
            "shared/shared/__init__.py": 'TOKEN = "ghp_'
            + 'FakeTokenForMcpbundleTests0123456789"\n',
            "good/requirements.txt": "fastmcp\nalpha\n-e ../shared\n",
            "bad/requirements.txt": "fastmcp\nbeta\n-e ../shared\n",
        },
    )
    done = mcpbundle(root, "build", "--keep-going")
    assert done.returncode == 1, done.stderr
    lines = error_lines(done.stderr)
    assert lines[-1].startswith("error: 2 of 2 servers failed: bad, good"), lines
    assert manifest(root) == {}
    assert not any(b"ghp_" in data for data, _ in tree(root / "dist").values())


# -- a server that is a subpackage of a top-level package --------------------------


def test_a_subpackage_server_ships_its_package_chain(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.calc]\npath = 'tools_pkg/calc'\nentrypoint = 'server.py'\n",
            "tools_pkg/__init__.py": "NAME = 'tools'\n",
            "tools_pkg/other/__init__.py": "",
            "tools_pkg/calc/__init__.py": "",
            "tools_pkg/calc/ops.py": "def add(x, y):\n    return x + y\n",
            "tools_pkg/calc/server.py": server_py(
                "calc",
                "from tools_pkg import NAME\nfrom tools_pkg.calc.ops import add\n"
                "from . import ops\n",
                {"calc_add": "NAME + str(add(1, ops.add(1, 1)))"},
            ),
            "tools_pkg/calc/requirements.txt": "fastmcp\n",
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    entry = manifest(root)["calc"]["entrypoint"]
    assert entry == "tools_pkg/calc/mcpbundle_entry.py:mcp"
    folder = root / "dist" / "tools_pkg" / "calc"
    assert (folder / "_mcpbundle_chain/tools_pkg/__init__.py").read_text() == "NAME = 'tools'\n"
    assert not (root / "dist/tools_pkg/__init__.py").exists()
    # The server's folder alone loads: nothing outside it is needed.
    alone = tmp_path / "alone"
    import shutil

    shutil.copytree(folder, alone / "calc")
    assert tool_names(run_inspect(alone / "calc" / "mcpbundle_entry.py:mcp", tmp_path)) == [
        "calc_add"
    ]


def test_a_subpackage_server_ships_the_parts_of_its_package_it_imports(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """``from tools_pkg.common import x`` and ``from ..shared import y`` outside the server's
    folder: those parts ship into its chain (a subpackage whole, with its data files; a
    module alone; what they import in turn), the rest of the package does not, and the
    bundle loads alone; check agrees."""
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.calc]\npath = 'tools_pkg/calc'\nentrypoint = 'server.py'\n",
            "tools_pkg/__init__.py": "",
            "tools_pkg/common/__init__.py": "from .names import label\n",
            "tools_pkg/common/names.py": "import json, pathlib\nfrom tools_pkg import units\n"
            "DATA = json.loads((pathlib.Path(__file__).parent / 'names.json').read_text())\n"
            "def label():\n    return DATA['name'] + units.UNIT\n",
            "tools_pkg/common/names.json": '{"name": "sum"}\n',
            "tools_pkg/common/.env": "API_TOKEN=not-for-the-bundle\n",
            "tools_pkg/units.py": "UNIT = ' (units)'\n",
            "tools_pkg/shared.py": "def twice(x):\n    return 2 * x\n",
            "tools_pkg/unused/__init__.py": "raise ImportError('never imported')\n",
            "tools_pkg/calc/__init__.py": "",
            "tools_pkg/calc/server.py": server_py(
                "calc",
                "from tools_pkg.common import label\nfrom ..shared import twice\n",
                {"calc_add": "label() + str(twice(2))"},
            ),
            "tools_pkg/calc/requirements.txt": "fastmcp\n",
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    folder = root / "dist" / "tools_pkg" / "calc"
    chain = sorted(
        p.relative_to(folder / "_mcpbundle_chain").as_posix()
        for p in (folder / "_mcpbundle_chain").rglob("*")
        if p.is_file()
    )
    assert chain == [
        "tools_pkg/__init__.py",
        "tools_pkg/common/__init__.py",
        "tools_pkg/common/names.json",
        "tools_pkg/common/names.py",
        "tools_pkg/shared.py",
        "tools_pkg/units.py",
    ]
    assert "skipped secret file tools_pkg/common/.env" in done.stdout  # left out, and said
    files = manifest(root)["calc"]["files"]
    assert "tools_pkg/calc/_mcpbundle_chain/tools_pkg/common/names.json" in files  # type: ignore[operator]
    alone = tmp_path / "alone"
    import shutil

    shutil.copytree(folder, alone / "calc")
    result = run_inspect(alone / "calc" / "mcpbundle_entry.py:mcp", tmp_path)
    assert tool_names(result) == ["calc_add"]
    for args in (("check",), ("check", "--built")):
        checked = mcpbundle(root, *args)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "MCB004" not in checked.stdout


@pytest.mark.parametrize("requirements", ["-e .\nfastmcp\n", None])
def test_an_entry_beside_its_own_src_layout_project_loads(
    tmp_path: Path, wheelhouse: Path, requirements: str | None
) -> None:
    """``server.py`` at a project's root importing the project's own package from
    ``src/``: ``pip install -e .`` (or ``uv sync``) made it importable at home; the host
    installs no project, so the bundle puts ``src`` on the path."""
    root = tmp_path / "repo"
    files = {
        "mcpbundle.toml": bundle_table(wheelhouse)
        + "[servers.notes]\npath = 'servers/notes'\nentrypoint = 'server.py'\n",
        "servers/notes/pyproject.toml": (
            "[project]\nname = 'notes-kit'\nversion = '0.1'\ndependencies = ['fastmcp']\n"
            "[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n"
            "[tool.hatch.build.targets.wheel]\npackages = ['src/notes_kit']\n"
        ),
        "servers/notes/src/notes_kit/__init__.py": "from notes_kit.words import WORD\n",
        "servers/notes/src/notes_kit/words.py": "WORD = 'own'\n",
        "servers/notes/server.py": server_py(
            "notes", "from notes_kit import WORD\n", {"notes_word": "WORD"}
        ),
    }
    if requirements is not None:
        files["servers/notes/requirements.txt"] = requirements
    write(root, files)
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    assert loaded_tools(root, "notes", tmp_path) == ["notes_word"]


def test_dependencies_only_a_fastmcp_json_declares_are_pinned(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """A server run with ``fastmcp run fastmcp.json`` may declare its dependencies only
    there; the bundle's fastmcp.json points at requirements.txt, which must hold them.
    A fastmcp.json for another entry of the directory adds nothing."""
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.notes]\npath = 'servers/notes'\nentrypoint = 'server.py'\n",
            "servers/notes/fastmcp.json": json.dumps(
                {
                    "source": {"path": "server.py", "entrypoint": "mcp"},
                    "environment": {
                        "dependencies": ["fastmcp", "alpha<2"],
                        "requirements": "extra.txt",
                    },
                }
            ),
            "servers/notes/extra.txt": "theta\n",
            "servers/notes/other.fastmcp.json": json.dumps(
                {"source": {"path": "other.py"}, "environment": {"dependencies": ["iota"]}}
            ),
            "servers/notes/server.py": server_py(
                "notes", "import alpha\nimport theta\n", {"notes_word": "'x'"}
            ),
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    pins = (root / "dist/servers/notes/requirements.txt").read_text()
    assert "alpha==1.1" in pins and "theta==1.0" in pins and "iota" not in pins
    shipped = json.loads((root / "dist/servers/notes/fastmcp.json").read_text())
    assert shipped["environment"]["requirements"] == "requirements.txt"
    assert "dependencies" not in shipped["environment"]
    checked = mcpbundle(root, "check", "--select", "MCB004")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_import_of_a_package_elsewhere_in_the_repository_says_how_to_vendor_it(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """``sys.path.insert(0, <repo root>)`` then ``from shared import hi`` loads at home;
    the bundle ships the server's folder only. check's fix names the table that vendors
    the package, and with it the import is satisfied."""
    root = tmp_path / "repo"
    server = (
        "import sys\nfrom pathlib import Path\n"
        "sys.path.insert(0, str(Path(__file__).resolve().parents[2]))\n"
        "from fastmcp import FastMCP\nfrom shared import hi\nfrom tooling import ok\n"
        "mcp = FastMCP('a')\n"
    )
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.notes]\npath = 'servers/notes'\nentrypoint = 'server.py'\n",
            "shared/__init__.py": "def hi() -> int:\n    return 1\n",
            "packages/tooling/src/tooling/__init__.py": "ok = 1\n",
            "servers/notes/server.py": server,
            "servers/notes/requirements.txt": "fastmcp\n",
        },
    )
    checked = mcpbundle(root, "check", "--select", "MCB004", "--json")
    found = {f["message"].split("`")[1]: f["fix"] for f in json.loads(checked.stdout)["findings"]}
    assert found["shared"].startswith(
        "`shared` is the repository's `shared/`, which the bundle does not ship: declare it, "
        '`[shared.shared] path = "shared"`, and add "shared" to `[servers.notes] shared`'
    ), found
    assert '`[shared.tooling] path = "packages/tooling"`' in found["tooling"], found
    config = (
        (root / "mcpbundle.toml")
        .read_text()
        .replace(
            "entrypoint = 'server.py'\n",
            "entrypoint = 'server.py'\nshared = ['shared', 'tooling']\n",
        )
    )
    (root / "mcpbundle.toml").write_text(
        config + "[shared.shared]\npath = 'shared'\n[shared.tooling]\npath = 'packages/tooling'\n"
    )
    checked = mcpbundle(root, "check", "--select", "MCB004", "--json")
    messages = [f["message"] for f in json.loads(checked.stdout)["findings"]]
    assert not [m for m in messages if "import `" in m], messages


def test_a_file_read_from_outside_the_server_by_its_own_path_is_flagged(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """``Path(__file__).parents[2] / "data" / "x.json"`` reads the monorepo's ``data/``,
    which the host does not have; a path that stays in the bundle is fine."""
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.notes]\npath = 'servers/notes'\nentrypoint = 'server.py'\n",
            "data/x.json": "{}\n",
            "servers/notes/prompts/p.md": "hi\n",
            "servers/notes/server.py": (
                "import json\nfrom pathlib import Path\nfrom fastmcp import FastMCP\n"
                "HERE = Path(__file__).parent\n"
                "PROMPT = (Path(__file__).parent / 'prompts' / 'p.md').read_text()\n"
                "DATA = json.loads((Path(__file__).resolve().parents[2] / 'data' / 'x.json')"
                ".read_text())\nGONE = Path(__file__).parents[2] / 'nothing-here'\n"
                "mcp = FastMCP('notes')\n"
            ),
            "servers/notes/requirements.txt": "fastmcp\n",
        },
    )
    checked = mcpbundle(root, "check", "--select", "MCB013", "--json")
    findings = json.loads(checked.stdout)["findings"]
    assert [(f["line"], f["severity"]) for f in findings] == [(6, "warning")], findings
    assert "reads data/x.json of the repository" in findings[0]["message"]


def _linked_shared(root: Path, wheelhouse: Path) -> None:
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.notes]\npath = 'servers/notes'\nentrypoint = 'server.py'\n",
            "shared/common/__init__.py": "from .words import WORD\n",
            "shared/common/words.py": "WORD = 'linked'\n",
            "shared/common/.env": "TOKEN=do-not-ship\n",
            "shared/common/tests/test_words.py": "",
            "shared/kube/.kube/config": "client-key-data: x\n",
            "servers/notes/server.py": server_py(
                "notes", "from common import WORD\n", {"notes_word": "WORD"}
            ),
            "servers/notes/requirements.txt": "fastmcp\n",
        },
    )
    (root / "servers/notes/common").symlink_to("../../shared/common")
    (root / "servers/notes/home").symlink_to("../../shared/kube")


def test_a_linked_directory_of_the_repository_ships_its_files(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """Servers that link a shared directory in (``common -> ../../shared/common``) work
    from the source tree; the bundle holds the directory's files, not a link that would
    dangle without ``shared/``, and leaves out what the directory itself would not ship."""
    root = tmp_path / "repo"
    _linked_shared(root, wheelhouse)
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    shipped = tree(root / "dist/servers/notes")
    assert shipped["common/words.py"][0] == b"WORD = 'linked'\n"
    assert not (root / "dist/servers/notes/common").is_symlink()
    assert not [p for p in shipped if ".env" in p or "tests/" in p or ".kube" in p]
    assert loaded_tools(root, "notes", tmp_path) == ["notes_word"]
    checked = mcpbundle(root, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_link_to_a_directory_outside_or_around_itself_is_refused(
    tmp_path: Path, wheelhouse: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "mod.py").write_text("X = 1\n")
    for target, what in ((outside, "outside the repository"), ("..", "holds it")):
        root = tmp_path / f"repo-{what.split()[-1]}"
        _linked_shared(root, wheelhouse)
        (root / "servers/notes/loop").symlink_to(target)
        done = mcpbundle(root, "build")
        assert done.returncode == 1, done.stderr
        (line,) = error_lines(done.stderr)
        assert "servers/notes/loop" in line and what in line, line
        assert not (root / "dist").exists()


def test_a_link_out_of_the_repository_in_an_imported_part_is_refused(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """The parts of the package a subpackage server imports ship under the same rule as
    its own files: a symlink leaving the repository fails the build naming it."""
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 'from outside the repository'\n")
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.calc]\npath = 'tools_pkg/calc'\nentrypoint = 'server.py'\n",
            "tools_pkg/__init__.py": "",
            "tools_pkg/common/__init__.py": "from .linked import SECRET\n",
            "tools_pkg/calc/__init__.py": "",
            "tools_pkg/calc/server.py": server_py(
                "calc", "from tools_pkg.common import SECRET\n", {"calc_add": "SECRET"}
            ),
            "tools_pkg/calc/requirements.txt": "fastmcp\n",
        },
    )
    (root / "tools_pkg/common/linked.py").symlink_to(outside)
    done = mcpbundle(root, "build")
    assert done.returncode == 1, done.stderr
    (line,) = error_lines(done.stderr)
    assert "symlink points outside the repository" in line and "common/linked.py" in line
    assert not (root / "dist").exists()


# -- libraries as their build backends describe them --------------------------------


def test_namespace_and_backend_declared_packages_are_vendored(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """Two libraries sharing the namespace `acme` (no acme/__init__.py; one names it for
    hatch, one is found by its src/ layout), a Poetry library whose code lives in lib/, a
    uv_build one: each ships what its backend would, nothing clashes, and it loads."""
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.app]\npath = 'app'\nentrypoint = 'server.py'\n"
            "shared = ['common', 'db', 'poet', 'uvlib']\n"
            "[shared.common]\npath = 'libs/common'\n[shared.db]\npath = 'libs/db'\n"
            "[shared.poet]\npath = 'libs/poet'\n[shared.uvlib]\npath = 'libs/uvlib'\n",
            "libs/common/pyproject.toml": "[project]\nname = 'acme-common'\nversion = '1'\n"
            "[tool.hatch.build.targets.wheel]\npackages = ['src/acme']\n",
            "libs/common/src/acme/common/__init__.py": "NAME = 'common'\n",
            "libs/db/pyproject.toml": "[project]\nname = 'acme-db'\nversion = '1'\n",
            "libs/db/src/acme/db/__init__.py": "NAME = 'db'\n",
            "libs/poet/pyproject.toml": "[tool.poetry]\nname = 'poet'\nversion = '1'\n"
            "packages = [{ include = 'poetic', from = 'lib' }]\n",
            "libs/poet/lib/poetic/__init__.py": "NAME = 'poet'\n",
            "libs/poet/scripts/release.py": "raise SystemExit('not shipped')\n",
            "libs/uvlib/pyproject.toml": "[project]\nname = 'uv-lib'\nversion = '1'\n"
            "[build-system]\nrequires = ['uv_build']\nbuild-backend = 'uv_build'\n",
            "libs/uvlib/src/uv_lib/__init__.py": "NAME = 'uv'\n",
            "app/server.py": server_py(
                "app",
                "from acme.common import NAME as A\nfrom acme.db import NAME as B\n"
                "from poetic import NAME as C\nfrom uv_lib import NAME as D\n",
                {"names": "A + B + C + D"},
            ),
            "app/requirements.txt": "fastmcp\n",
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    shipped = sorted(
        p.relative_to(root / "dist/app").as_posix()
        for p in (root / "dist/app").rglob("*.py")
        if "dist-info" not in p.as_posix()
    )
    assert shipped == [
        "acme/common/__init__.py",
        "acme/db/__init__.py",
        "poetic/__init__.py",
        "server.py",
        "uv_lib/__init__.py",
    ]
    assert not (root / "dist/app/acme/__init__.py").exists()  # still a namespace
    assert loaded_tools(root, "app", tmp_path) == ["names"]
    checked = mcpbundle(root, "check", "--built")
    assert checked.returncode == 0, checked.stdout


# -- index options in a server's requirements file ----------------------------------


def test_a_requirements_files_index_options_reach_its_resolver_never_a_file(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """With no index in [bundle], `--no-index` / `-f` / `--extra-index-url` lines are the
    server's resolver input (this build resolves only against the wheelhouse they name);
    they never ship, and the credential in one is in no output, report or cache file."""
    token = "s3cr3t-t0ken-for-tests"
    root = tmp_path / "repo"
    index = f"--no-index\n--find-links {wheelhouse}\n"
    write(
        root,
        {
            "mcpbundle.toml": f"[bundle]\npython = '{RUNNING}'\n"
            "[servers.a]\npath = 'a'\nentrypoint = 'server.py'\n"
            "[servers.b]\npath = 'b'\nentrypoint = 'server.py'\n",
            "a/server.py": server_py("a", "", {"ping": "'pong'"}),
            "a/requirements.txt": index + "fastmcp\nalpha<2\n",
            "b/server.py": server_py("b", "", {"ping": "'pong'"}),
            "b/requirements.txt": index
            + f"--extra-index-url https://deploy:{token}@127.0.0.1:9/simple\nfastmcp\nalpha\n",
        },
    )
    done = mcpbundle(root, "build", "-v")
    assert done.returncode == 0, done.stderr
    assert "alpha==1.1" in (root / "dist/a/requirements.txt").read_text()
    assert "alpha==2.0" in (root / "dist/b/requirements.txt").read_text()  # resolved apart
    for server in ("a", "b"):
        shipped = (root / "dist" / server / "requirements.txt").read_text()
        assert "--" not in shipped.replace("# via -r requirements.in", "")
    assert token not in done.stdout + done.stderr
    assert "https://***@127.0.0.1:9/simple" in json.dumps(manifest(root)["b"]["rewrites"])
    cache = Path(os.environ["MCPBUNDLE_CACHE_DIR"])
    for folder in (root / "dist", cache):
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert token.encode() not in path.read_bytes(), path
    assert tool_names(run_inspect(root / "dist/a/server.py", tmp_path)) == ["ping"]


# -- inputs from elsewhere in the repository ----------------------------------------


def test_requirements_from_the_repositorys_one_pyproject(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.srv]\npath = 'apps/srv'\nentrypoint = 'server.py'\n"
            "requirements = '../../pyproject.toml'\n",
            "pyproject.toml": "[project]\nname = 'mono'\nversion = '1'\n"
            "dependencies = ['fastmcp', 'alpha<2']\n",
            "apps/srv/server.py": server_py("srv", "", {"ping": "'pong'"}),
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    assert requirements_in(root, "srv") == ["alpha<2", "fastmcp"]
    assert not (root / "dist/pyproject.toml").exists()


def test_a_repository_constraints_file_decides_versions(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(
                wheelhouse, "constraints = ['constraints/py.txt']\nlock = 'per-server'\n"
            )
            + "[servers.srv]\npath = 'srv'\nentrypoint = 'server.py'\n"
            "[servers.other]\npath = 'other'\nentrypoint = 'server.py'\n"
            "constraints = ['pins.txt']\n",
            "constraints/py.txt": "# pins for one Python\nalpha==1.0\nunused==3.0\n",
            "srv/server.py": server_py("srv", "", {"ping": "'pong'"}),
            "srv/requirements.txt": "fastmcp\nalpha\n",
            "other/server.py": server_py("other", "", {"ping": "'pong'"}),
            "other/requirements.txt": "fastmcp\nalpha\n",
            "other/pins.txt": "alpha==1.1\n",  # the server's own file wins over the bundle's
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    srv = (root / "dist/srv/requirements.txt").read_text()
    assert "alpha==1.0" in srv
    assert "unused" not in srv
    assert "alpha==1.1" in (root / "dist/other/requirements.txt").read_text()


# -- a shipped fastmcp.json ---------------------------------------------------------


def test_fastmcp_json_ships_pointing_at_the_bundle(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse) + "[shared.lib]\npath = 'lib'\n"
            "[servers.srv]\npath = 'srv'\nentrypoint = 'server.py'\n",
            "lib/pyproject.toml": "[project]\nname = 'lib'\nversion = '1'\n",
            "lib/lib/__init__.py": "X = 1\n",
            "srv/server.py": server_py("srv", "import lib\n", {"ping": "str(lib.X)"}),
            "srv/requirements.txt": "fastmcp\n-e ../lib\n",
            "srv/fastmcp.json": json.dumps(
                {
                    "source": {"path": "server.py", "entrypoint": "mcp"},
                    "environment": {
                        "dependencies": ["-e ../lib", "alpha"],
                        "editable": ["../lib"],
                        "project": "..",
                    },
                    "deployment": {"transport": "http"},
                }
            ),
            "srv/escape.fastmcp.json": json.dumps({"source": {"path": "../lib/lib/__init__.py"}}),
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    shipped = json.loads((root / "dist/srv/fastmcp.json").read_text())
    assert shipped == {
        "source": {"type": "filesystem", "path": "server.py", "entrypoint": "mcp"},
        "environment": {"type": "uv", "python": RUNNING, "requirements": "requirements.txt"},
        "deployment": {"transport": "http"},
    }
    assert not (root / "dist/srv/escape.fastmcp.json").exists()
    assert "srv/escape.fastmcp.json: not shipped" in done.stderr


# -- the entrypoint's object, checked before anything is installed -----------------


def test_a_misspelled_object_says_did_you_mean(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.srv]\npath = 'srv'\nentrypoint = 'server.py:mpc'\n",
            "srv/server.py": server_py("srv", "", {"ping": "'pong'"}),
        },
    )
    done = mcpbundle(root, "validate")
    assert done.returncode == 2, done.stderr
    (line,) = error_lines(done.stderr)
    assert "servers.srv.entrypoint" in line
    assert "has no module-level 'mpc'" in line
    assert "did you mean 'mcp'?" in line


def test_a_server_made_only_inside_main_points_at_its_line(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[servers.srv]\npath = 'srv'\nentrypoint = 'server.py'\n",
            "srv/server.py": "from fastmcp import FastMCP\n\n\ndef main():\n"
            "    app = FastMCP('x')\n    app.run()\n",
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 1, done.stderr
    (line,) = error_lines(done.stderr)
    assert line.startswith("error: srv/server.py:5: no module-level server object")


# -- licences travel with vendored code ---------------------------------------------


def test_vendored_licences_ship_with_notices(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[shared.mit]\npath = 'libs/mit'\n[shared.bare]\npath = 'libs/bare'\n"
            "[servers.srv]\npath = 'srv'\nentrypoint = 'server.py'\nshared = ['mit', 'bare']\n",
            "libs/mit/pyproject.toml": "[project]\nname = 'mitlib'\nversion = '1.2'\n"
            "license = 'mit'\n",
            "libs/mit/LICENSE.txt": "MIT License\n",
            "libs/mit/NOTICE": "mitlib notice\n",
            "libs/mit/mitlib/__init__.py": "",
            "libs/bare/bare/__init__.py": "",
            "srv/server.py": server_py("srv", "import mitlib, bare\n", {"ping": "'pong'"}),
            "srv/requirements.txt": "fastmcp\n",
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    info = root / "dist/srv/mitlib-1.2.dist-info"
    assert (info / "licenses/LICENSE.txt").read_text() == "MIT License\n"
    assert (info / "licenses/NOTICE").read_text() == "mitlib notice\n"
    metadata = (info / "METADATA").read_text()
    assert "License-Expression: MIT" in metadata
    assert "License-File: LICENSE.txt" in metadata
    notices = (root / "dist/srv/THIRD_PARTY_NOTICES.md").read_text()
    row = "| mitlib | 1.2 | MIT | libs/mit | `mitlib-1.2.dist-info/licenses/LICENSE.txt`"
    assert row in notices
    assert "| bare | unknown | **unknown** | libs/bare | none |" in notices
    assert "warning: servers.srv: vendored bare (libs/bare) has no licence information" in (
        done.stderr
    )
