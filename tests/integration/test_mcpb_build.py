"""``mcpbundle build --format mcpb``: one MCP Bundle per server, hermetically.

The example monorepo (its requirements swapped to the test wheelhouse, as in
test_build_example) and small repos for the ``python`` runtime; the manifests are
checked against the MCP Bundle JSON schemas copied into tests/fixtures/mcpb/. The
official CLI and real starts over stdio are in test_mcpb_official.py (``network``).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from test_build_cli import run_cli, tree
from test_build_example import copy_example, hermetic

from mcpbundle.plan.pinned_text import parse_pins
from support.mcpbschema import schema_errors
from support.wheelhouse import FakeDist, build_wheelhouse, write_wheel

SERVERS = {"ops": "server-ops", "customer": "server-customer", "finance": "server-finance"}
GENERATED = {"manifest.json", "pyproject.toml", "server/mcpbundle_main.py"}


def mcpb_example(root: Path, wheelhouse: Path) -> Path:
    """The hermetic example with what a .mcpb needs and the example cannot know: a
    version and an author (the example's mcpbundle.toml has both)."""
    return hermetic(copy_example(root), wheelhouse)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def manifest_of(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(members(path)["manifest.json"])
    return document


def env_example_names(path: Path) -> set[str]:
    return {
        line.split("=", 1)[0].strip()
        for line in path.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }


def test_example_gives_three_schema_valid_deterministic_bundles(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = mcpb_example(tmp_path / "example", wheelhouse)
    done = run_cli(repo, "build", "--format", "mcpb")
    assert "  mcpb:         mcpb/ops-0.1.0.mcpb (uv)\n" in done.stdout
    out = repo / "dist"
    bundles = sorted(p.name for p in (out / "mcpb").iterdir())
    assert bundles == ["customer-0.1.0.mcpb", "finance-0.1.0.mcpb", "ops-0.1.0.mcpb"]
    index = json.loads((out / "mcpbundle-manifest.json").read_text())
    for name, folder in SERVERS.items():
        path = out / "mcpb" / f"{name}-0.1.0.mcpb"
        entry = index["servers"][name]
        assert entry["mcpb"]["file"] == f"mcpb/{name}-0.1.0.mcpb"
        inside = members(path)
        document = json.loads(inside["manifest.json"])
        assert schema_errors(document) == [], name
        assert document["name"] == name
        assert document["version"] == "0.1.0"
        assert document["author"] == {"name": "Example Team"}
        assert document["description"].startswith(f"{folder}: ")  # the entry's docstring
        # the server's folder as the directory output holds it, byte for byte
        shipped = {f"server/{rel[len(folder) + 1 :]}": rel for rel in entry["files"]}
        assert set(inside) == GENERATED | set(shipped)
        for rel, output_rel in shipped.items():
            assert inside[rel] == (out / output_rel).read_bytes(), rel
        # the pins, for the client's uv
        import tomllib

        project = tomllib.loads(inside["pyproject.toml"].decode())["project"]
        pins = parse_pins((out / folder / "requirements.txt").read_text())
        assert project["dependencies"] == [f"{p.name}=={p.version}" for p in pins]
        assert "fastmcp==4.0" in project["dependencies"]
        # exactly the variables the code reads, each wired into the server's environment
        names = env_example_names(repo / folder / ".env.example")
        assert set(document["user_config"]) == names
        assert document["server"]["mcp_config"]["env"] == {
            n: f"${{user_config.{n}}}" for n in names
        }
        for setting in document["user_config"].values():
            assert setting["required"] is False  # every read has a default
            assert setting["sensitive"] is False
            assert setting["default"]  # from .env.example
        assert str(tmp_path).encode() not in path.read_bytes()
    assert (
        manifest_of(out / "mcpb" / "ops-0.1.0.mcpb")["user_config"]["OPS_SLA_TARGET"]["default"]
        == "99.9"
    )
    # same inputs, same bytes: again in place (a no-op), elsewhere, and via [bundle] formats
    again = run_cli(repo, "build", "--format", "mcpb")
    assert "up to date" in again.stdout
    second = run_cli(repo, "build", "--format", "mcpb", "--json", "-o", str(tmp_path / "second"))
    reported = {s["name"]: s["mcpb"] for s in json.loads(second.stdout)["servers"]}
    assert reported == {name: index["servers"][name]["mcpb"] for name in SERVERS}
    assert tree(tmp_path / "second" / "mcpb") == tree(out / "mcpb")
    toml = repo / "mcpbundle.toml"
    toml.write_text(toml.read_text().replace("[bundle]\n", '[bundle]\nformats = ["dir", "mcpb"]\n'))
    run_cli(repo, "build", "-o", str(tmp_path / "third"))
    assert tree(tmp_path / "third" / "mcpb") == tree(out / "mcpb")


def test_rebuilds_touch_only_the_bundle_that_changed(tmp_path: Path, wheelhouse: Path) -> None:
    repo = mcpb_example(tmp_path / "example", wheelhouse)
    run_cli(repo, "build", "--format", "mcpb")
    out = repo / "dist"
    before = tree(out)
    inodes = {p.name: p.stat().st_ino for p in (out / "mcpb").iterdir()}
    toml = repo / "mcpbundle.toml"
    toml.write_text(toml.read_text() + '\n[servers.ops.mcpb]\ndisplay_name = "Ops helpers"\n')
    run_cli(repo, "build", "--format", "mcpb")
    after = tree(out)
    assert manifest_of(out / "mcpb" / "ops-0.1.0.mcpb")["display_name"] == "Ops helpers"
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    assert changed == {"mcpb/ops-0.1.0.mcpb", "mcpbundle-manifest.json"}
    for name in ("customer-0.1.0.mcpb", "finance-0.1.0.mcpb"):
        assert (out / "mcpb" / name).stat().st_ino == inodes[name]  # linked, not rewritten
    # a deleted bundle is noticed and rebuilt, byte-identical
    (out / "mcpb" / "customer-0.1.0.mcpb").unlink()
    run_cli(repo, "build", "--format", "mcpb")
    assert tree(out) == after
    # a directory-only build keeps the bundles of servers it does not rebuild
    assert "up to date" in run_cli(repo, "build").stdout
    assert tree(out) == after


def test_missing_author_or_version_is_one_line_exit_2(tmp_path: Path, wheelhouse: Path) -> None:
    repo = mcpb_example(tmp_path / "example", wheelhouse)
    toml = repo / "mcpbundle.toml"
    text = toml.read_text()
    toml.write_text(text.replace('author = { name = "Example Team" }\n', ""))
    done = run_cli(repo, "build", "--format", "mcpb", check=False)
    assert done.returncode == 2, done.stderr
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("error: mcpbundle.toml: servers.ops: an MCP Bundle manifest needs an author")
    )
    assert "Traceback" not in done.stderr
    lines = text.splitlines(keepends=True)
    toml.write_text("".join(line for line in lines if not line.startswith("version = ")))
    done = run_cli(repo, "build", "--format", "mcpb", check=False)
    assert done.returncode == 2, done.stderr
    assert "servers.ops: no version for its .mcpb" in done.stderr
    assert not (repo / "dist").exists()  # nothing written


def test_a_secret_in_a_generated_manifest_fails_the_build(tmp_path: Path, wheelhouse: Path) -> None:
    repo = mcpb_example(tmp_path / "example", wheelhouse)
    token = "ghp_" + "FakeTokenForMcpbundleTests0123456789"
    toml = repo / "mcpbundle.toml"
    toml.write_text(toml.read_text() + f'\n[servers.ops.mcpb]\nlong_description = "{token}"\n')
    done = run_cli(repo, "build", "--format", "mcpb", check=False)
    assert done.returncode == 1, done.stderr
    assert "error: manifest.json (generated):" in done.stderr
    assert token not in done.stderr + done.stdout
    assert not (repo / "dist").exists()


SECRET_SERVER = '''"""A server that needs a key."""
import os

from fastmcp import FastMCP

KEY = os.environ["SERVICE_API_KEY"]
mcp = FastMCP("keyed")
'''


def small_repo(root: Path, wheelhouse: Path, server: str, toml_extra: str = "") -> Path:
    (root / "srv").mkdir(parents=True)
    (root / "srv" / "server.py").write_text(server)
    (root / "srv" / "requirements.txt").write_text("fastmcp\nalpha\n")
    (root / "srv" / ".env.example").write_text("SERVICE_API_KEY=your-key-here\n")
    (root / "mcpbundle.toml").write_text(
        f"[bundle]\nno-index = true\nfind-links = [{json.dumps(str(wheelhouse))}]\n"
        'version = "1.0.0"\nformats = ["dir", "mcpb"]\n'
        '[bundle.mcpb]\nauthor = { name = "Tests" }\n'
        '[servers.keyed]\npath = "srv"\nentrypoint = "server.py"\n' + toml_extra
    )
    return root


def test_a_key_read_without_default_is_a_required_secret(tmp_path: Path, wheelhouse: Path) -> None:
    repo = small_repo(tmp_path / "repo", wheelhouse, SECRET_SERVER)
    run_cli(repo, "build")
    document = manifest_of(repo / "dist" / "mcpb" / "keyed-1.0.0.mcpb")
    assert document["user_config"] == {
        "SERVICE_API_KEY": {
            "type": "string",
            "title": "SERVICE_API_KEY",
            "description": "Environment variable SERVICE_API_KEY (read in server.py:6).",
            "required": True,
            "sensitive": True,  # and its .env.example placeholder is no default
        }
    }
    assert schema_errors(document) == []


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('user_config.REGION = { type = "string" }\n', "user_config.REGION has no title, desc"),
        (  # an entry the server's environment derives may be amended without repeating it
            'user_config.SERVICE_API_KEY = { required = false }\nmanifest_version = "0.3"\n',
            "manifest_version '0.3' has no server type 'uv'",
        ),
    ],
    ids=["new-user-config-entry", "manifest-version"],
)
def test_a_merged_manifest_mcpb_would_refuse_is_one_line_exit_2(
    tmp_path: Path, wheelhouse: Path, table: str, says: str
) -> None:
    repo = small_repo(
        tmp_path / "repo", wheelhouse, SECRET_SERVER, "[servers.keyed.mcpb]\n" + table
    )
    done = run_cli(repo, "build", check=False)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: mcpbundle.toml: servers.keyed.mcpb (or bundle.mcpb): "), last
    assert says in last and "Traceback" not in done.stderr
    assert not (repo / "dist").exists()


LIB_SERVER = '''"""A server whose dependencies come from server/lib."""
import alpha
import fastmcp

print("fastmcp from", fastmcp.__file__, "alpha", alpha.__version__)
mcp = fastmcp.FastMCP("libbed")
'''


def test_python_runtime_bundles_the_pins_in_server_lib(tmp_path: Path, wheelhouse: Path) -> None:
    repo = small_repo(tmp_path / "repo", wheelhouse, LIB_SERVER, 'mcpb-runtime = "python"\n')
    run_cli(repo, "build")
    path = repo / "dist" / "mcpb" / "keyed-1.0.0.mcpb"
    inside = members(path)
    document = json.loads(inside["manifest.json"])
    assert schema_errors(document) == []
    assert document["server"]["type"] == "python"
    assert "pyproject.toml" not in inside
    lib = sorted(n for n in inside if n.startswith("server/lib/"))
    assert "server/lib/alpha/__init__.py" in lib
    assert "server/lib/fastmcp/__init__.py" in lib
    assert "server/lib/mcp/__init__.py" in lib
    assert not [n for n in lib if n.endswith(".pyc") or n.startswith("server/lib/bin/")]
    assert str(tmp_path).encode() not in path.read_bytes()
    # from a clean unzip, as the manifest says: PYTHONPATH=server/lib, python the launcher
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(path) as zf:
        zf.extractall(unpacked)
    config = document["server"]["mcp_config"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = config["env"]["PYTHONPATH"].replace("${__dirname}", str(unpacked))
    env["SERVICE_API_KEY"] = "placeholder"
    args = [a.replace("${__dirname}", str(unpacked)) for a in config["args"]]
    done = subprocess.run(
        [sys.executable, "-S", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=False, timeout=60,
    )  # fmt: skip  # -S: nothing of this venv's site-packages, only server/lib
    assert done.returncode == 0, done.stderr
    assert f"fastmcp from {unpacked}/server/lib/fastmcp/__init__.py alpha 2.0" in done.stdout
    # rebuilt elsewhere: the same bytes
    run_cli(repo, "build", "-o", str(tmp_path / "again"))
    assert (tmp_path / "again" / "mcpb" / "keyed-1.0.0.mcpb").read_bytes() == path.read_bytes()


def compiled_wheelhouse(root: Path, wheelhouse: Path, platforms: list[str]) -> Path:
    """The test wheelhouse plus ``cext``, a dist published only as compiled wheels."""
    build_wheelhouse(root)
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    for platform in platforms:
        write_wheel(FakeDist("cext", "1.0"), root, tag=f"{python}-{python}-{platform}")
    return root


def test_a_compiled_dependency_fails_pure_python_lib_naming_it(
    tmp_path: Path, wheelhouse: Path
) -> None:
    house = compiled_wheelhouse(tmp_path / "house", wheelhouse, ["manylinux_2_17_x86_64"])
    repo = small_repo(tmp_path / "repo", house, LIB_SERVER, 'mcpb-runtime = "python"\n')
    (repo / "srv" / "requirements.txt").write_text("fastmcp\nalpha\ncext\n")
    done = run_cli(repo, "build", check=False)
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: server 'keyed' (mcpb-runtime = 'python'): cext==1.0 has no ")
    assert "pure-Python wheel" in last
    assert "mcpb-compiled = true" in last
    # compiled wheels allowed, but not for every listed platform: named too
    toml = repo / "mcpbundle.toml"
    toml.write_text(toml.read_text() + 'mcpb-compiled = true\nmcpb-platforms = ["linux"]\n')
    done = run_cli(repo, "build", check=False)
    assert done.returncode == 1, done.stderr
    assert "cext==1.0 has no wheel for linux-aarch64" in done.stderr
    # one architecture named: only its wheels are needed (the manifest says the platform)
    toml.write_text(toml.read_text().replace('["linux"]', '["linux-x86_64"]'))
    run_cli(repo, "build")
    inside = members(repo / "dist" / "mcpb" / "keyed-1.0.0.mcpb")
    assert "server/lib/cext/__init__.py" in inside
    assert json.loads(inside["manifest.json"])["compatibility"]["platforms"] == ["linux"]
    toml.write_text(toml.read_text().replace('["linux-x86_64"]', '["linux"]'))
    write_wheel(FakeDist("cext", "1.0"), house, tag=f"{_cp()}-{_cp()}-manylinux_2_17_aarch64")
    run_cli(repo, "build")
    inside = members(repo / "dist" / "mcpb" / "keyed-1.0.0.mcpb")
    assert "server/lib/cext/__init__.py" in inside
    assert json.loads(inside["manifest.json"])["compatibility"]["platforms"] == ["linux"]


def _cp() -> str:
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def test_a_server_shipping_lib_is_refused(tmp_path: Path, wheelhouse: Path) -> None:
    repo = small_repo(tmp_path / "repo", wheelhouse, LIB_SERVER)
    (repo / "srv" / "lib").mkdir()
    (repo / "srv" / "lib" / "x.py").write_text("")
    done = run_cli(repo, "build", check=False)
    assert done.returncode == 1, done.stderr
    assert "error: server 'keyed': lib/x.py: the server ships a lib/ folder" in done.stderr


def test_zip_members_are_readable_by_zipfile(tmp_path: Path, wheelhouse: Path) -> None:
    repo = small_repo(tmp_path / "repo", wheelhouse, SECRET_SERVER)
    run_cli(repo, "build")
    data = (repo / "dist" / "mcpb" / "keyed-1.0.0.mcpb").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None


def test_an_abi3_module_two_architectures_share_asks_for_one(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """A compiled file whose name carries no architecture (``_rust.abi3.so``) cannot hold
    both linux wheels' builds in one server/lib: the error says which to name."""
    house = build_wheelhouse(tmp_path / "house")
    for arch in ("x86_64", "aarch64"):
        dist = FakeDist("cext", "1.0", module_source=f"ARCH = {arch!r}\n")
        write_wheel(dist, house, tag=f"{_cp()}-abi3-manylinux_2_17_{arch}")
    repo = small_repo(
        tmp_path / "repo", house, LIB_SERVER,
        'mcpb-runtime = "python"\nmcpb-compiled = true\nmcpb-platforms = ["linux"]\n',
    )  # fmt: skip
    (repo / "srv" / "requirements.txt").write_text("fastmcp\nalpha\ncext\n")
    done = run_cli(repo, "build", check=False)
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "cext/__init__.py differs between the wheels for linux-aarch64" in last
    assert "mcpb-platforms (e.g. 'linux-aarch64')" in last
    toml = repo / "mcpbundle.toml"
    toml.write_text(toml.read_text().replace('["linux"]', '["linux-aarch64"]'))
    run_cli(repo, "build")
    inside = members(repo / "dist" / "mcpb" / "keyed-1.0.0.mcpb")
    assert b"ARCH = 'aarch64'" in inside["server/lib/cext/__init__.py"]


def test_format_and_verify_are_not_for_a_branch(tmp_path: Path, wheelhouse: Path) -> None:
    repo = small_repo(tmp_path / "repo", wheelhouse, SECRET_SERVER)
    for flag in ("--format=mcpb", "--verify"):
        done = run_cli(repo, "build", "--branch", "deploy", flag, check=False)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == (
            "error: --verify and --format write a directory, not --branch"
        ), done.stderr


def test_an_icon_is_a_file_the_server_ships(tmp_path: Path, wheelhouse: Path) -> None:
    extra = '[servers.keyed.mcpb]\nicon = "assets/icon.png"\ndisplay_name = "Keyed"\n'
    repo = small_repo(tmp_path / "repo", wheelhouse, SECRET_SERVER, extra)
    (repo / "srv" / "assets").mkdir()
    (repo / "srv" / "assets" / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    run_cli(repo, "build")
    path = repo / "dist" / "mcpb" / "keyed-1.0.0.mcpb"
    document = manifest_of(path)
    assert document["icon"] == "server/assets/icon.png"
    assert document["display_name"] == "Keyed"
    assert members(path)["server/assets/icon.png"] == b"\x89PNG\r\n\x1a\n"
    assert schema_errors(document) == []
    toml = repo / "mcpbundle.toml"
    toml.write_text(toml.read_text().replace("assets/icon.png", "logo.png"))
    done = run_cli(repo, "build", check=False)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: mcpbundle.toml: servers.keyed.mcpb.icon: 'logo.png' is not a")


def test_build_format_takes_the_report_format_and_the_outputs(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """`--format` is text|json on every command and dir|mcpb on build: both at once work."""
    repo = mcpb_example(tmp_path / "example", wheelhouse)
    done = run_cli(repo, "build", "--format", "mcpb", "--format", "json")
    document = json.loads(done.stdout)
    assert [s["mcpb"]["file"] for s in document["servers"]] == [
        f"mcpb/{name}-0.1.0.mcpb" for name in ("ops", "customer", "finance")
    ]
    clash = run_cli(repo, "build", "--format", "json", "--format", "text", check=False)
    assert clash.returncode == 2
    assert "--format text and --format json cannot be combined" in clash.stderr
    assert "Traceback" not in clash.stderr


def test_dry_run_lists_each_mcpb_the_build_writes(tmp_path: Path, wheelhouse: Path) -> None:
    """`build --dry-run` with `[bundle] formats` (or `--format mcpb`) names every .mcpb,
    in JSON and text like the other files; then the real build writes exactly those."""
    repo = mcpb_example(tmp_path / "example", wheelhouse)
    toml = repo / "mcpbundle.toml"
    toml.write_text(toml.read_text().replace("[bundle]\n", '[bundle]\nformats = ["dir", "mcpb"]\n'))
    bundles = {f"mcpb/{name}-0.1.0.mcpb" for name in SERVERS}
    for flags in ([], ["--format", "mcpb"]):
        dry = json.loads(run_cli(repo, "build", "--dry-run", "--format", "json", *flags).stdout)
        listed = {path for server in dry["servers"] for path in server["files"]}
        assert bundles <= listed
        assert {s["name"]: s["mcpb"]["file"] for s in dry["servers"]} == {
            name: f"mcpb/{name}-0.1.0.mcpb" for name in SERVERS
        }
        text = run_cli(repo, "build", "--dry-run", *flags).stdout
        assert all(f"\n    {path}\n" in text for path in bundles), text
        assert "  mcpb:         mcpb/ops-0.1.0.mcpb (uv)\n" in text
        assert not (repo / "dist").exists()  # a dry run writes nothing
    listed |= set(dry["index_files"])
    real = json.loads(run_cli(repo, "build", "--format", "json").stdout)
    assert [s["files"] for s in real["servers"]] == [s["files"] for s in dry["servers"]]
    written = {
        p.relative_to(repo / "dist").as_posix()
        for p in (repo / "dist").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert listed == written


def test_dry_run_fails_as_the_build_does_without_version_or_author(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = mcpb_example(tmp_path / "example", wheelhouse)
    toml = repo / "mcpbundle.toml"
    text = toml.read_text()
    lines = text.splitlines(keepends=True)
    broken = {
        "author": text.replace('author = { name = "Example Team" }\n', ""),
        "version": "".join(line for line in lines if not line.startswith("version = ")),
    }
    for missing, config in broken.items():
        toml.write_text(config)
        dry = run_cli(repo, "build", "--dry-run", "--format", "mcpb", check=False)
        assert not (repo / "dist").exists(), missing  # the dry run wrote nothing
        real = run_cli(repo, "build", "--format", "mcpb", check=False)
        assert not (repo / "dist").exists(), missing
        assert (dry.returncode, real.returncode) == (2, 2), (missing, dry.stderr, real.stderr)
        last = dry.stderr.strip().splitlines()[-1]
        assert last == real.stderr.strip().splitlines()[-1], missing
        assert last.startswith("error: mcpbundle.toml: servers.ops: "), last
        assert "Traceback" not in dry.stderr
    assert "no version for its .mcpb" in last
    # a directory-only dry run (and build) needs neither
    assert run_cli(repo, "build", "--dry-run").returncode == 0
