"""``[tool.mcpbundle]`` in ``pyproject.toml``: discovery, precedence, errors, ``--pyproject``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mcpbundle.base.errors import ConfigError, UsageError
from mcpbundle.build import BuildOptions, plan_build
from mcpbundle.config.validate import load_config
from mcpbundle.init.writer import run_init
from support.monorepo import write

SERVER = "from fastmcp import FastMCP\n\nmcp = FastMCP('x')\n"
TABLE = "[tool.mcpbundle.servers.ops]\npath = 'ops'\nentrypoint = 'server.py'\n"
PLAIN = "[servers.other]\npath = 'other'\nentrypoint = 'server.py'\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write(tmp_path, {"ops/server.py": SERVER, "other/server.py": SERVER, "ops/deep/x.txt": ""})
    return tmp_path


def test_tool_table_is_found_upward(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[project]\nname = 'mono'\n\n" + TABLE)
    config = load_config(repo / "ops" / "deep")
    assert config.path == (repo / "pyproject.toml").resolve()
    assert list(config.servers) == ["ops"]
    assert config.display == "pyproject.toml"


def test_mcpbundle_toml_wins_in_the_same_directory(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(TABLE)
    (repo / "mcpbundle.toml").write_text(PLAIN)
    assert list(load_config(repo).servers) == ["other"]


def test_the_nearer_file_wins_whichever_it_is(repo: Path) -> None:
    (repo / "mcpbundle.toml").write_text(PLAIN)
    nested = repo / "sub"
    write(nested, {"ops/server.py": SERVER, "pyproject.toml": TABLE})
    assert list(load_config(nested / "ops").servers) == ["ops"]


def test_a_pyproject_without_the_table_is_passed_over(repo: Path) -> None:
    (repo / "mcpbundle.toml").write_text(PLAIN)
    write(repo, {"ops/pyproject.toml": "[project]\nname = 'ops'  # mentions mcpbundle\n"})
    assert load_config(repo / "ops").path == (repo / "mcpbundle.toml").resolve()


def test_nothing_found_names_both_homes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert "no mcpbundle.toml (or [tool.mcpbundle] in pyproject.toml)" in str(caught.value)
    assert "mcpbundle init" in str(caught.value)


def test_errors_name_the_key_inside_the_tool_table(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(TABLE.replace("server.py", "nope.py"))
    with pytest.raises(ConfigError) as caught:
        load_config(repo)
    assert str(caught.value).startswith(
        "pyproject.toml: tool.mcpbundle.servers.ops.entrypoint: file 'nope.py' does not exist"
    )


def test_unknown_key_inside_the_tool_table(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(TABLE + "[tool.mcpbundle.bundel]\n")
    with pytest.raises(ConfigError, match=r"^pyproject.toml: tool.mcpbundle.bundel: unknown key"):
        load_config(repo)


def test_plan_errors_name_the_key_inside_the_tool_table(repo: Path) -> None:
    write(repo, {"libs/empty/README.md": ""})
    (repo / "pyproject.toml").write_text(
        TABLE + "[tool.mcpbundle.shared.empty]\npath = 'libs/empty'\n"
    )
    config = load_config(repo)
    with pytest.raises(ConfigError, match=r"pyproject.toml: tool.mcpbundle.shared.empty"):
        plan_build(config, BuildOptions(dry_run=True, fetch_git=False))


def test_explicit_pyproject_and_directory(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(TABLE)
    assert list(load_config(Path("/"), repo / "pyproject.toml").servers) == ["ops"]
    assert list(load_config(Path("/"), repo).servers) == ["ops"]


def test_explicit_pyproject_without_the_table(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"^pyproject.toml: has no \[tool.mcpbundle\] table"):
        load_config(repo, Path("pyproject.toml"))


def test_tool_mcpbundle_that_is_not_a_table(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool]\nmcpbundle = 3\n")
    with pytest.raises(ConfigError, match=r"^pyproject.toml: tool.mcpbundle: must be a table"):
        load_config(repo)


# ------------------------------------------------------------------- init --pyproject

ODD = (
    "# my project\n[project]\nname   =   'mono'   # odd spacing kept\nversion='0'\n\n"
    "[tool.ruff]\nline-length=100\n\n\n[tool.ruff.lint]\nselect = [ 'E' ,'F' ]\n"
)


def test_init_pyproject_keeps_every_other_byte(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(ODD)
    run_init(repo / "pyproject.toml", dry_run=False, force=False, pyproject=True)
    text = (repo / "pyproject.toml").read_text()
    assert text.startswith(ODD)
    data = tomllib.loads(text)
    assert data["tool"]["ruff"]["lint"]["select"] == ["E", "F"]
    assert set(data["tool"]["mcpbundle"]["servers"]) == {"ops", "other"}
    assert set(load_config(repo).servers) == {"other", "ops"}


def test_init_pyproject_refuses_an_existing_table_and_force_replaces_it(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(ODD)
    run_init(repo / "pyproject.toml", dry_run=False, force=False, pyproject=True)
    first = (repo / "pyproject.toml").read_text()
    with pytest.raises(UsageError, match=r"already has a \[tool.mcpbundle\] table"):
        run_init(repo / "pyproject.toml", dry_run=False, force=False, pyproject=True)
    assert (repo / "pyproject.toml").read_text() == first
    write(repo, {"third/server.py": SERVER})
    run_init(repo / "pyproject.toml", dry_run=False, force=True, pyproject=True)
    again = (repo / "pyproject.toml").read_text()
    assert again.startswith(ODD)
    assert again.count("Written by `mcpbundle init --pyproject`") == 1
    assert set(tomllib.loads(again)["tool"]["mcpbundle"]["servers"]) == {"ops", "other", "third"}


def test_init_pyproject_needs_a_pyproject(repo: Path) -> None:
    with pytest.raises(UsageError, match=r"no pyproject\.toml in"):
        run_init(repo / "pyproject.toml", dry_run=False, force=False, pyproject=True)


def test_init_pyproject_dry_run_writes_nothing(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(ODD)
    result = run_init(repo / "pyproject.toml", dry_run=True, force=False, pyproject=True)
    assert (repo / "pyproject.toml").read_text() == ODD
    assert "[tool.mcpbundle.servers.ops]" in result.text
