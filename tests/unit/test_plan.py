"""``make_plan`` on small monorepos in tmp: closure, requirements, rewrites, files, clashes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mcpbundle.base.errors import BuildError, ConfigError, UsageError
from mcpbundle.config.validate import load_config
from mcpbundle.plan.planner import BuildPlan, ServerPlan, make_plan
from mcpbundle.plan.repo_files import list_repo_files

SRV = "from fastmcp import FastMCP\nmcp = FastMCP('x')\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def plan(root: Path, toml: str, files: dict[str, str], **kwargs: object) -> BuildPlan:
    """Plan ``files`` in ``root``; a ``.python-version`` names the running Python (as real
    repositories name theirs) unless ``files`` brings its own."""
    files = {".python-version": f"{RUNNING}\n", **files}
    write(root, {"mcpbundle.toml": toml, **files})
    config = load_config(root)
    return make_plan(config, list_repo_files(config.root), **kwargs)  # type: ignore[arg-type]


def one(result: BuildPlan) -> ServerPlan:
    assert len(result.servers) == 1
    return result.servers[0]


LIBS = {
    "utils/pyproject.toml": (
        '[project]\nname = "shared-utils"\nlicense = "MIT"\ndependencies = ["pydantic>=2"]\n'
    ),
    "utils/shared_utils/__init__.py": "",
    "utils/shared_utils/text.py": "",
    "core/pyproject.toml": '[project]\nname = "shared-core"\nlicense = "MIT"\n'
    'dependencies = ["shared-utils", "python-dateutil>=2.8"]\n'
    '[tool.uv.sources]\nshared-utils = { path = "../utils" }\n',
    "core/src/shared_core/__init__.py": "",
}
LIB_TOML = '[shared.utils]\npath = "utils"\n[shared.core]\npath = "core"\n'


def test_closure_requirements_and_rewrites(tmp_path: Path) -> None:
    toml = LIB_TOML + '[servers.a]\npath = "srv"\nentrypoint = "src/server.py"\n'
    files = {
        **LIBS,
        "srv/src/server.py": SRV,
        "srv/requirements.txt": (
            "fastmcp>=2.12\n"
            "pydantic>=2\n"  # also a dependency of shared-utils: merged once
            "--index-url https://pypi.org/simple\n"  # PyPI itself: the line just goes
            "shared-core @ file:../core\n"
            "-c constraints.txt\n"
        ),
        "srv/constraints.txt": "python-dateutil<3\nunrelated<1\n",
    }
    result = plan(tmp_path, toml, files)
    server = one(result)
    assert server.shared == ("core", "utils")
    assert [lib.name for lib in server.vendored] == ["core", "utils"]
    assert server.vendored_names == {"shared-core", "shared-utils"}
    # the -c line for python-dateutil is kept (it is required); 'unrelated' is not
    assert server.requirements_in == (
        "fastmcp>=2.12",
        "pydantic>=2",
        "python-dateutil<3",
        "python-dateutil>=2.8",
    )
    assert [(r.origin, r.replacement) for r in server.rewrites] == [
        ("srv/requirements.txt:3", ""),
        ("srv/requirements.txt:4", "vendored shared lib 'core'"),
    ]
    assert result.requires == {"core": ("utils",), "utils": ()}
    assert server.requirements_source == "srv/requirements.txt"
    assert server.entrypoint == "srv/src/server.py:mcp"
    assert server.vendor_dir == "srv/src"
    dests = [f.dest for f in server.files]
    assert "srv/src/shared_utils/text.py" in dests
    assert "srv/src/shared_core/__init__.py" in dests
    assert dests == sorted(dests)


PRIVATE = "https://deploy:s3cr3t-t0ken@pypi.corp.example/simple"


@pytest.mark.parametrize(
    ("line", "option"),
    [
        (f"--index-url {PRIVATE}", ("index-url", PRIVATE)),
        (f"-i {PRIVATE}", ("index-url", PRIVATE)),
        (f"--extra-index-url={PRIVATE}", ("extra-index-urls", PRIVATE)),
        ("--find-links ./wheels", ("find-links", "WHEELS")),
        ("--no-index", ("no-index", "")),
    ],
)
def test_an_index_option_goes_to_the_resolver_and_never_ships(
    tmp_path: Path, line: str, option: tuple[str, str]
) -> None:
    """Dropping a private index and resolving the names from PyPI is dependency confusion:
    with no index in [bundle], a requirements file's index option is the server's
    resolver input (a relative find-links read from the file's folder), not shipped."""
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": SRV, "srv/requirements.txt": f"fastmcp\n{line}\nomega\n"}
    server = one(plan(tmp_path, toml, files))
    key, value = option
    expected = str((tmp_path / "srv" / "wheels").resolve()) if value == "WHEELS" else value
    assert server.index == ((key, expected),)
    assert server.requirements_in == ("fastmcp", "omega")
    assert [(r.origin, r.replacement) for r in server.rewrites] == [("srv/requirements.txt:2", "")]


def test_two_index_urls_are_an_error_naming_neither_credential(tmp_path: Path) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    other = "https://u:other-t0ken@mirror.example/simple"
    files = {"srv/server.py": SRV, "srv/requirements.txt": f"-i {PRIVATE}\n-i {other}\nomega\n"}
    with pytest.raises(BuildError) as info:
        plan(tmp_path, toml, files)
    shown = str(info.value)
    assert "2 different --index-url" in shown
    assert "s3cr3t-t0ken" not in shown and "other-t0ken" not in shown


def test_an_index_option_is_dropped_when_bundle_sets_the_index(tmp_path: Path) -> None:
    toml = (
        "[bundle]\nindex-url = 'https://pypi.corp.example/simple'\n"
        '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    )
    files = {"srv/server.py": SRV, "srv/requirements.txt": f"fastmcp\n-i {PRIVATE}\nomega\n"}
    server = one(plan(tmp_path, toml, files))
    assert server.requirements_in == ("fastmcp", "omega")
    assert server.index == ()  # [bundle] decides for every server
    assert [(r.origin, r.replacement) for r in server.rewrites] == [("srv/requirements.txt:2", "")]


def test_a_path_or_editable_line_in_a_constraints_file_vendors_nothing(tmp_path: Path) -> None:
    """pip takes only names and version specifiers from a -c file: '-e ../lib' there is
    ignored with a warning, not vendored as an -r include would be."""
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        "srv/server.py": SRV,
        "srv/requirements.txt": "-c constraints.txt\nfastmcp\nomega\n",
        "srv/constraints.txt": "omega<2\n-e ../lib\n../lib\n",
        "lib/pyproject.toml": "[project]\nname = 'lib'\nversion = '1'\n",
        "lib/lib/__init__.py": "",
    }
    result = plan(tmp_path, toml, files)
    server = one(result)
    assert server.vendored == ()
    assert not [r for r in server.requirements_in if "lib" in r]
    ignored = [w for w in result.warnings if "in a constraints file is ignored" in w]
    assert [w.split(":")[0] for w in ignored] == ["srv/constraints.txt"] * 2, result.warnings


MERGE_TOML = (
    '[shared.u]\npath = "u"\n[servers.a]\npath = "srv"\nentrypoint = "server.py"\nshared = ["u"]\n'
)


def test_merge_is_sorted_and_deduplicated(tmp_path: Path) -> None:
    files = {
        "u/u_pkg/__init__.py": "",
        "u/requirements.txt": "rich>=13\nanyio\n",
        "srv/server.py": SRV,
        "srv/requirements.txt": "rich >= 13\nzzz\nanyio\nhttpx[http2] ==0.27\n",
    }
    server = one(plan(tmp_path, MERGE_TOML, files))
    assert server.requirements_in == ("anyio", "httpx[http2]==0.27", "rich>=13", "zzz")


def test_merge_ignores_name_spelling(tmp_path: Path) -> None:
    files = {
        "u/u_pkg/__init__.py": "",
        "u/requirements.txt": "pydantic>=2\n",
        "srv/server.py": SRV,
        "srv/requirements.txt": "Pydantic>=2\nBBB==1\nanyio\n",
    }
    server = one(plan(tmp_path, MERGE_TOML, files))
    assert [r.lower() for r in server.requirements_in] == ["anyio", "bbb==1", "pydantic>=2"]


@pytest.mark.parametrize(
    "line",
    ["-e ../utils", "../utils", "./../utils/", "shared-utils", "Shared_Utils>=0",
     "shared-utils @ file:../utils", "-e file:../utils"],
)  # fmt: skip
def test_every_way_of_naming_a_shared_lib(tmp_path: Path, line: str) -> None:
    toml = '[shared.utils]\npath = "utils"\n[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {**LIBS, "srv/server.py": SRV, "srv/requirements.txt": f"fastmcp\n{line}\n"}
    result = plan(tmp_path, toml, files)
    server = one(result)
    assert server.shared == ("utils",)
    assert server.requirements_in == ("fastmcp", "pydantic>=2")
    assert [r.replacement for r in server.rewrites] == ["vendored shared lib 'utils'"]
    assert result.warnings == ()


def test_pyproject_workspace_source(tmp_path: Path) -> None:
    toml = '[shared.utils]\npath = "utils"\n[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        **LIBS,
        "srv/server.py": SRV,
        "srv/pyproject.toml": '[project]\nname = "a"\ndependencies = ["fastmcp", "shared-utils"]\n'
        "[tool.uv.sources]\nshared-utils = { workspace = true }\n",
    }
    server = one(plan(tmp_path, toml, files))
    assert server.requirements_source == "srv/pyproject.toml"
    assert server.pyproject == "srv/pyproject.toml"
    assert server.shared == ("utils",)
    assert server.requirements_in == ("fastmcp", "pydantic>=2")


def test_implicit_lib_warns(tmp_path: Path) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        "srv/server.py": SRV,
        "srv/requirements.txt": "-e ../extra\n",
        "extra/extra_pkg/__init__.py": "",
        "extra/requirements.txt": "rich\n",
        "extra/LICENSE": "MIT License\n",
    }
    result = plan(tmp_path, toml, files)
    server = one(result)
    assert server.shared == ("extra",)
    assert server.requirements_in == ("rich",)
    assert "srv/server_pkg" not in [f.dest for f in server.files]
    assert "srv/extra_pkg/__init__.py" in [f.dest for f in server.files]
    (warning,) = result.warnings
    assert warning.startswith("srv/requirements.txt:1: '-e ../extra' points at 'extra'")
    assert "[shared.extra]" in warning
    assert "extra" in result.libs


def test_implicit_lib_is_an_error_when_strict(tmp_path: Path) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        "srv/server.py": SRV,
        "srv/requirements.txt": "-e ../extra\n",
        "extra/extra_pkg/__init__.py": "",
    }
    with pytest.raises(ConfigError) as info:
        plan(tmp_path, toml, files, strict=True)
    assert str(info.value).startswith("srv/requirements.txt:1: '-e ../extra' points at 'extra'")
    assert "add [shared.extra] with path = 'extra'" in str(info.value)
    assert info.value.exit_code == 2


def test_editable_self_reference_uses_own_pyproject(tmp_path: Path) -> None:
    toml = '[shared.utils]\npath = "utils"\n[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        **LIBS,
        "srv/server.py": SRV,
        "srv/requirements.txt": "-e .\nhttpx\n",
        "srv/pyproject.toml": (
            '[project]\nname = "a"\ndependencies = ["fastmcp>=2", "shared-utils"]\n'
        ),
    }
    server = one(plan(tmp_path, toml, files))
    assert server.requirements_source == "srv/requirements.txt"
    assert server.requirements_in == ("fastmcp>=2", "httpx", "pydantic>=2")
    assert server.shared == ("utils",)
    assert ("srv/requirements.txt:1", "") in [(r.origin, r.replacement) for r in server.rewrites]


def test_files_selected_excluded_and_secrets(tmp_path: Path) -> None:
    toml = (
        '[bundle]\nexclude = ["srv/notes/"]\n'
        '[shared.u]\npath = "u"\n'
        '[servers.a]\npath = "srv"\nentrypoint = "server.py"\nshared = ["u"]\n'
        'exclude = ["*.md"]\n'
    )
    files = {
        "u/u_pkg/__init__.py": "",
        "u/u_pkg/.env": "SECRET=1\n",
        "u/README.md": "not vendored\n",
        "srv/server.py": SRV,
        "srv/data.json": "{}",
        "srv/README.md": "excluded by the server\n",
        "srv/notes/a.txt": "excluded by the bundle\n",
        "srv/tests/test_x.py": "",
        "srv/__pycache__/x.pyc": "",
        "srv/.env": "TOKEN=1\n",
        "srv/.env.example": "TOKEN=\n",
        "srv/key.pem": "x",
        "other/file.py": "",
    }
    server = one(plan(tmp_path, toml, files))
    assert [(f.source, f.dest) for f in server.files] == [
        ("srv/.env.example", "srv/.env.example"),
        ("srv/data.json", "srv/data.json"),
        ("srv/server.py", "srv/server.py"),
        ("u/u_pkg/__init__.py", "srv/u_pkg/__init__.py"),
    ]
    assert server.skipped_secrets == ("srv/.env", "srv/key.pem", "u/u_pkg/.env")


def test_vendor_dir_default_and_configured(tmp_path: Path) -> None:
    toml = (
        '[shared.u]\npath = "u"\n'
        '[servers.a]\npath = "a"\nentrypoint = "app/main.py"\nshared = ["u"]\n'
        '[servers.b]\npath = "b"\nentrypoint = "main.py"\nshared = ["u"]\nvendor-dir = "_vendor"\n'
    )
    files = {"u/u_mod.py": "", "a/app/main.py": SRV, "b/main.py": SRV}
    a, b = plan(tmp_path, toml, files).servers
    assert a.vendor_dir == "a/app"
    assert "a/app/u_mod.py" in [f.dest for f in a.files]
    assert b.vendor_dir == "b/_vendor"
    assert "b/_vendor/u_mod.py" in [f.dest for f in b.files]


def test_only_and_unknown_server(tmp_path: Path) -> None:
    toml = '[servers.a]\npath = "a"\nentrypoint = "s.py"\n'
    toml += '[servers.b]\npath = "b"\nentrypoint = "s.py"\n'
    files = {"a/s.py": SRV, "b/s.py": "server = 1\n"}
    result = plan(tmp_path, toml, files, only=("b",))
    assert [s.name for s in result.servers] == ["b"]
    assert result.servers[0].object == "server"
    config = load_config(tmp_path)
    with pytest.raises(UsageError, match="unknown server 'c'; known servers: a, b"):
        make_plan(config, list_repo_files(config.root), only=("c",))


def test_server_path_may_also_be_a_shared_lib(tmp_path: Path) -> None:
    toml = '[shared.s]\npath = "srv"\n[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    toml += 'shared = ["s"]\n'
    server = one(plan(tmp_path, toml, {"srv/server.py": SRV, "srv/helpers.py": ""}))
    assert server.shared == ("s",)
    assert [f.dest for f in server.files] == ["srv/helpers.py", "srv/server.py"]


@pytest.mark.parametrize(
    ("toml", "files", "fragment"),
    [
        (
            '[shared.one]\npath = "one"\n[shared.two]\npath = "two"\n',
            {"one/common/__init__.py": "", "two/src/common.py": ""},
            "shared libs 'one' and 'two' both provide the import name 'common'",
        ),
        (
            '[shared.one]\npath = "one"\n',
            {"one/helpers/__init__.py": "", "srv/helpers.py": ""},
            "shared lib 'one' provides the import name 'helpers', which the server's own code",
        ),
        (
            '[shared.one]\npath = "one"\n',
            {"one/json/__init__.py": ""},
            "shared lib 'one' provides 'json', which shadows the standard library",
        ),
    ],
)
def test_import_name_clashes(
    tmp_path: Path, toml: str, files: dict[str, str], fragment: str
) -> None:
    shared = [line.split(".")[1].rstrip("]") for line in toml.splitlines() if "[shared." in line]
    toml += '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    toml += "shared = [" + ", ".join(f'"{n}"' for n in shared) + "]\n"
    with pytest.raises(ConfigError) as info:
        plan(tmp_path, toml, {"srv/server.py": SRV, **files})
    assert str(info.value).startswith("mcpbundle.toml: servers.a: ")
    assert fragment in str(info.value)
    assert info.value.exit_code == 2


def test_clash_only_for_libs_a_server_vendors(tmp_path: Path) -> None:
    toml = '[shared.one]\npath = "one"\n[shared.two]\npath = "two"\n'
    toml += '[servers.a]\npath = "srv"\nentrypoint = "server.py"\nshared = ["one"]\n'
    files = {"srv/server.py": SRV, "one/common/__init__.py": "", "two/common/__init__.py": ""}
    assert one(plan(tmp_path, toml, files)).shared == ("one",)


def test_inferred_cycle(tmp_path: Path) -> None:
    toml = '[shared.a]\npath = "a"\n[shared.b]\npath = "b"\n'
    toml += '[servers.s]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        "srv/server.py": SRV,
        "a/a_pkg/__init__.py": "",
        "a/requirements.txt": "-e ../b\n",
        "b/b_pkg/__init__.py": "",
        "b/pyproject.toml": '[project]\nname = "b"\ndependencies = ["a"]\n',
    }
    with pytest.raises(ConfigError, match="shared libraries form a cycle: a -> b -> a"):
        plan(tmp_path, toml, files)


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("pkg @ https://x.example/pkg-1.0.tar.gz", "URL requirement"),
        ("./wheels/pkg-1.0-py3-none-any.whl", "local archives cannot ship"),
    ],
)
def test_unshippable_requirements_fail_the_build(tmp_path: Path, line: str, fragment: str) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        "srv/server.py": SRV,
        "srv/requirements.txt": f"{line}\n",
        "srv/wheels/pkg-1.0-py3-none-any.whl": "",
    }
    with pytest.raises(BuildError, match=fragment) as info:
        plan(tmp_path, toml, files)
    assert info.value.exit_code == 1


def test_default_object(tmp_path: Path) -> None:
    toml = (
        '[servers.a]\npath = "a"\nentrypoint = "s.py"\n'
        '[servers.b]\npath = "b"\nentrypoint = "s.py"\n'
        '[servers.c]\npath = "c"\nentrypoint = "s.py:custom"\n'
    )
    files = {
        "a/s.py": "if __name__ == '__main__':\n    mcp = 1\napp = 2\n",
        "b/s.py": "try:\n    server = make()\nexcept ImportError:\n    server = None\n",
        "c/s.py": "custom = object()\n",
    }
    objects = [s.object for s in plan(tmp_path, toml, files).servers]
    assert objects == ["app", "server", "custom"]


@pytest.mark.parametrize(
    "source",
    [
        "for _ in range(1):\n    mcp = FastMCP('a')\n",
        "while True:\n    mcp = FastMCP('a')\n    break\n",
        "match 1:\n    case 1:\n        mcp = FastMCP('a')\n",
        "(mcp := FastMCP('a'))\n",
        "try:\n    mcp = FastMCP('a')\nexcept* ValueError:\n    raise\n",
    ],
)
def test_a_server_bound_in_any_block_of_the_module_is_module_level(
    tmp_path: Path, source: str
) -> None:
    """Loops, match cases, ``except*`` and the walrus all bind in the module's scope: the
    object is there once the module is imported (FastMCP's loader finds it)."""
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": f"from fastmcp import FastMCP\n{source}"}
    (server,) = plan(tmp_path, toml, files).servers
    assert server.object == "mcp"


def test_no_server_object(tmp_path: Path) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    with pytest.raises(BuildError, match="no module-level server object"):
        plan(tmp_path, toml, {"srv/server.py": "def main():\n    mcp = 1\n"})


@pytest.mark.parametrize(
    ("source", "chosen"),
    [
        ("import mcp\nfrom fastmcp import FastMCP\nserver = FastMCP('x')\n", "server"),
        ("import mcp.types\nfrom fastmcp import FastMCP\napp = FastMCP('x')\n", "app"),
        ("from fastmcp import FastMCP\nimport mcp\nmcp = FastMCP('x')\n", "mcp"),  # rebound
        ("from main import mcp\n", "mcp"),  # a server imported from elsewhere stays
    ],
)
def test_a_module_named_mcp_is_not_the_server(tmp_path: Path, source: str, chosen: str) -> None:
    """FastMCP's loader passes over `mcp` when it is the SDK module (`import mcp`) and takes
    the next of mcp, server, app: the manifest must name the same object."""
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    server = one(plan(tmp_path, toml, {"srv/server.py": source, "srv/main.py": SRV}))
    assert server.entrypoint == f"srv/server.py:{chosen}"


def test_only_an_imported_module_is_no_server(tmp_path: Path) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    with pytest.raises(BuildError, match="no module-level server object"):
        plan(tmp_path, toml, {"srv/server.py": "import mcp.types\n"})


@pytest.mark.parametrize(
    "factory",
    [
        "def create_server(config):\n    return FastMCP(config)\n",
        "async def create_server(*, settings):\n    return FastMCP(settings)\n",
        "@functools.cache\ndef create_server(name, /):\n    return FastMCP(name)\n",
    ],
)
def test_a_factory_needing_arguments_is_no_entrypoint(tmp_path: Path, factory: str) -> None:
    """The host calls a factory with no arguments: a TypeError on every deploy."""
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py:create_server"\n'
    code = "import functools\nfrom fastmcp import FastMCP\n\n" + factory
    with pytest.raises(BuildError) as caught:
        plan(tmp_path, toml, {"srv/server.py": code})
    error = caught.value
    assert error.message.startswith("factory `create_server` needs arguments (")
    assert error.where is not None and error.where.startswith("srv/server.py:")
    assert "`mcp = create_server(...)`" in (error.hint or "")


@pytest.mark.parametrize(
    "factory",
    [
        "def create_server(name='x', *args, debug=False, **kw):\n    return FastMCP(name)\n",
        "@click.command()\ndef create_server(name):\n    return FastMCP(name)\n",  # wrapped
    ],
)
def test_a_factory_the_host_can_call_is_kept(tmp_path: Path, factory: str) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py:create_server"\n'
    code = "import click\nfrom fastmcp import FastMCP\n\n" + factory
    server = one(plan(tmp_path, toml, {"srv/server.py": code}))
    assert server.original_entrypoint == "srv/server.py:create_server"  # a shim calls it


def test_fastmcp_2_gets_mcp_below_2(tmp_path: Path) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": SRV, "srv/requirements.txt": "fastmcp==2.10.6\n"}
    result = plan(tmp_path, toml, files)
    server = one(result)
    assert server.requirements_in == ("fastmcp==2.10.6", "mcp<2")
    assert [r.replacement for r in server.rewrites] == ["added mcp<2"]
    assert any("fastmcp==2.10.6" in w and "mcp<2" in w for w in result.warnings)


def test_fastmcp_2_without_auto_fix_is_an_error(tmp_path: Path) -> None:
    toml = '[bundle]\nauto-fix = false\n[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": SRV, "srv/requirements.txt": "fastmcp==2.10.6\n"}
    with pytest.raises(BuildError, match="mcp<2"):
        plan(tmp_path, toml, files)


FASTMCP2_SERVER = "from fastmcp import FastMCP\nmcp = FastMCP('x', host='0.0.0.0', port=8080)\n"


def test_fastmcp_2_constructor_arguments_get_fastmcp_below_3(tmp_path: Path) -> None:
    # fastmcp 3 raises TypeError for FastMCP(host=...): the bundle keeps fastmcp 2 (and
    # mcp<2, which fastmcp 2 does not set itself)
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": FASTMCP2_SERVER, "srv/requirements.txt": "fastmcp>=2.8\n"}
    result = plan(tmp_path, toml, files)
    server = one(result)
    assert server.requirements_in == ("fastmcp<3", "fastmcp>=2.8", "mcp<2")
    assert [r.replacement for r in server.rewrites] == ["added fastmcp<3", "added mcp<2"]
    assert any("srv/server.py:2" in w and "host" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("code", "requirement"),
    [
        (FASTMCP2_SERVER, "fastmcp>=2.8,<3"),  # held below 3 already (mcp<2 from that rule)
        ("from fastmcp import FastMCP\nmcp = FastMCP('x')\n", "fastmcp>=2.8"),
        # the MCP SDK's FastMCP still takes host and port
        ("from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('x', port=1)\n", "mcp<2"),
    ],
)
def test_no_fastmcp_cap_without_a_removed_argument_or_with_fastmcp_3_excluded(
    tmp_path: Path, code: str, requirement: str
) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": code, "srv/requirements.txt": f"{requirement}\n"}
    server = one(plan(tmp_path, toml, files))
    assert "fastmcp<3" not in server.requirements_in


DEPENDENCIES_SERVER = (
    "from fastmcp import FastMCP\nmcp = FastMCP('x', dependencies=['httpx>=0.27', 'pandas'])\n"
)


def test_constructor_dependencies_are_requirements_and_keep_fastmcp_below_2_14(
    tmp_path: Path,
) -> None:
    # fastmcp 2.14 raises TypeError for FastMCP(dependencies=...), which fastmcp dev
    # installed: the list joins the requirements, the bundle keeps a fastmcp that takes it
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": DEPENDENCIES_SERVER, "srv/requirements.txt": "fastmcp>=2.10\n"}
    result = plan(tmp_path, toml, files)
    server = one(result)
    assert server.requirements_in == (
        "fastmcp<2.14", "fastmcp>=2.10", "httpx>=0.27", "mcp<2", "pandas"
    )  # fmt: skip
    assert [r.replacement for r in server.rewrites] == ["added fastmcp<2.14", "added mcp<2"]
    assert any("srv/server.py:2" in w and "fastmcp 2.14 removed" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("code", "requirement", "gone"),
    [
        (DEPENDENCIES_SERVER, "fastmcp>=3", "dependencies is gone from fastmcp 2.14 on"),
        (FASTMCP2_SERVER, "fastmcp>=3.1", "host is gone from fastmcp 3 on"),
    ],
)
def test_a_removed_argument_no_allowed_fastmcp_takes_is_one_error(
    tmp_path: Path, code: str, requirement: str, gone: str
) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": code, "srv/requirements.txt": f"{requirement}\n"}
    with pytest.raises(BuildError, match=gone) as info:
        plan(tmp_path, toml, files)
    assert info.value.where == "srv/server.py:2"


def test_fastmcp_json_python_beats_a_python_version_file(tmp_path: Path) -> None:
    # fastmcp run fastmcp.json runs the server on environment.python (uv run --python)
    other = "3.12" if RUNNING != "3.12" else "3.13"
    document = f'{{"source": {{"path": "server.py"}}, "environment": {{"python": "{other}"}}}}'
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        "srv/server.py": SRV,
        "srv/requirements.txt": "fastmcp\n",
        "srv/fastmcp.json": document,
    }
    result = plan(tmp_path, toml, files)
    assert one(result).python == other
    assert not any("pins are for the running Python" in w for w in result.warnings)


def test_the_sdks_fastmcp_keeps_its_dependencies_argument(tmp_path: Path) -> None:
    code = "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('x', dependencies=['rich'])\n"
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": code, "srv/requirements.txt": "mcp<2\n"}
    server = one(plan(tmp_path, toml, files))
    assert "rich" in server.requirements_in
    assert not any(r.startswith("fastmcp<") for r in server.requirements_in)


def test_fastmcp_2_constructor_arguments_without_auto_fix_are_an_error(tmp_path: Path) -> None:
    toml = '[bundle]\nauto-fix = false\n[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {"srv/server.py": FASTMCP2_SERVER, "srv/requirements.txt": "fastmcp\n"}
    with pytest.raises(BuildError, match="fastmcp 3 removed") as info:
        plan(tmp_path, toml, files)
    assert info.value.where == "srv/server.py:2"


COMPOSED = (
    "import asyncio\nfrom fastmcp import FastMCP\nfrom sub import sub\n\nmcp = FastMCP('x')\n\n\n"
    "async def setup():\n    await mcp.import_server(sub, prefix='s')\n\n\nasyncio.run(setup())\n"
)


def test_what_fastmcp_4_removed_gets_fastmcp_below_4(tmp_path: Path) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        "srv/server.py": COMPOSED,
        "srv/sub.py": "from fastmcp import FastMCP\nsub = FastMCP('s')\n",
        "srv/requirements.txt": "fastmcp>=2.8.0\n",
    }
    result = plan(tmp_path, toml, files)
    server = one(result)
    assert server.requirements_in == ("fastmcp<4", "fastmcp>=2.8.0")
    assert [r.replacement for r in server.rewrites] == ["added fastmcp<4"]
    assert any("srv/server.py:9" in w and "import_server" in w for w in result.warnings)


def test_fastmcp_held_below_4_needs_no_cap(tmp_path: Path) -> None:
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        "srv/server.py": COMPOSED,
        "srv/sub.py": "from fastmcp import FastMCP\nsub = FastMCP('s')\n",
        "srv/requirements.txt": "fastmcp>=3,<4\n",
    }
    assert one(plan(tmp_path, toml, files)).requirements_in == ("fastmcp<4,>=3",)


def test_a_git_requirement_for_a_library_of_the_repository_vendors_it(tmp_path: Path) -> None:
    # manavgup: one server names mcp-shared-lib by path, another by its GitHub URL; the
    # repository holds that library, so the bundle vendors it without cloning anything
    toml = LIB_TOML + '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        **LIBS,
        "srv/server.py": SRV,
        "srv/requirements.txt": "fastmcp\nshared-utils @ git+https://github.com/acme/utils.git\n",
    }
    result = plan(tmp_path, toml, files, fetch_git=False)
    server = one(result)
    assert server.shared == ("utils",)
    assert server.requirements_in == ("fastmcp", "pydantic>=2")
    assert server.unresolved_git == ()
    assert any(
        "shared-utils" in w and "the repository's own copy" in w and "libs" not in w
        for w in result.warnings
    )


def test_another_output_mcpbundle_wrote_never_ships(tmp_path: Path) -> None:
    # a build with another config (output "dist-spotify") left its output untracked in
    # the tree; a root server's bundle must not take it as its own files
    toml = '[servers.a]\npath = "."\nentrypoint = "server.py"\n'
    files = {
        "server.py": SRV,
        "requirements.txt": "fastmcp\n",
        "dist-spotify/.mcpbundle-output": "mcpbundle-output 1\n",
        "dist-spotify/spotify/server.py": SRV,
        "dist-spotify/mcpbundle-manifest.json": "{}\n",
    }
    server = one(plan(tmp_path, toml, files))
    assert not [c.dest for c in server.files if c.dest.startswith("dist-spotify")]


def test_log_files_never_ship(tmp_path: Path) -> None:
    # weather-service tracks logs/app.log.2025-06-07: logs are no code and may hold tokens
    toml = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
    files = {
        "srv/server.py": SRV,
        "srv/requirements.txt": "fastmcp\n",
        "srv/logs/app.log": "token=...\n",
        "srv/logs/app.log.2025-06-07": "token=...\n",
        "srv/catalog.py": "",
    }
    shipped = {c.dest for c in one(plan(tmp_path, toml, files)).files}
    assert "srv/catalog.py" in shipped
    assert not [d for d in shipped if ".log" in d]
