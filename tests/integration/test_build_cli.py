"""``mcpbundle build`` end to end through the CLI, on hermetic monorepos in tmp dirs.

Every repo resolves offline against the test wheelhouse (``no-index`` +
``find-links``). The helpers at the top are shared with the other build test
modules (``from test_build_cli import ...``).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from mcpbundle.emit.manifest import sha256_file
from support.gitrepo import commit_all, init_repo

SERVER_OPS = '''"""ops server."""
from acme_util import greet
from fastmcp import FastMCP

mcp = FastMCP("ops")


@mcp.tool()
def hello(name: str) -> str:
    return greet(name)
'''

SERVER_WEB = """import kappa
from fastmcp import FastMCP

app = FastMCP("web")


@app.tool()
def version() -> str:
    return kappa.__version__
"""

# Secret *files* (by name): tracked ones here, untracked ones written after the commit.
TRACKED_SECRETS = {
    "ops/.env": "OPS_TOKEN=1\n",
    "ops/config/deploy.key": "not really a key\n",
    "ops/config/server.pem": "not really a cert\n",
    "ops/.netrc": "machine example.com\n",
    "ops/.pypirc": "[pypi]\n",
    "ops/credentials.json": "{}\n",
    "libs/util/acme_util/.env": "UTIL=1\n",
}
UNTRACKED_SECRETS = {"ops/.env.local": "LOCAL=1\n", "ops/src/id_rsa": "nope\n"}


def config_text(wheelhouse: Path, *, extra_bundle: str = "") -> str:
    return f"""[bundle]
output = "dist"
exclude = ["notebooks/"]
no-index = true
find-links = [{json.dumps(str(wheelhouse))}]
{extra_bundle}
[shared.util]
path = "libs/util"

[servers.ops]
path = "ops"
entrypoint = "src/server.py"

[servers.web]
path = "web"
entrypoint = "app.py:app"
"""


def base_files(wheelhouse: Path) -> dict[str, str]:
    return {
        "mcpbundle.toml": config_text(wheelhouse),
        ".gitignore": "dist/\n",
        "libs/util/pyproject.toml": (
            '[project]\nname = "acme-util"\nversion = "0.1.0"\ndependencies = ["beta>=1.0"]\n'
        ),
        "libs/util/acme_util/__init__.py": "from acme_util.text import greet\n",
        "libs/util/acme_util/text.py": "def greet(name):\n    return f'hello {name}'\n",
        "libs/util/tests/test_util.py": "def test_x():\n    pass\n",
        "ops/requirements.txt": "# ops\nalpha>=1.0\nfastmcp\n-e ../libs/util\n",
        "ops/src/server.py": SERVER_OPS,
        "ops/src/run.sh": "#!/bin/sh\nexec fastmcp run server.py\n",
        "ops/.env.example": "# settings\nOPS_MODE=dev\nOPS_API_KEY=your-api-key-here\n",
        "ops/tests/test_ops.py": "def test_ops():\n    pass\n",
        "ops/notebooks/explore.py": "print('scratch')\n",
        "web/requirements.txt": "py-kappa\nfastmcp\n",
        "web/app.py": SERVER_WEB,
        **TRACKED_SECRETS,
    }


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_repo(path: Path, wheelhouse: Path, files: Mapping[str, str | bytes] | None = None) -> Path:
    """A committed monorepo with two servers and one shared lib (+ ``files``)."""
    init_repo(path)
    write_files(path, {**base_files(wheelhouse), **(files or {})})
    run_sh = path / "ops/src/run.sh"
    run_sh.chmod(run_sh.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    commit_all(path, "initial")
    write_files(path, UNTRACKED_SECRETS)
    return path


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPBUNDLE_TEST_")}
    env.update(extra)
    return env


def run_cli(
    repo: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "mcpbundle", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else cli_env(),
        check=False,
        timeout=300,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"mcpbundle {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def tree(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root``: (mode, bytes); the comparison key for 'unchanged'."""
    found: dict[str, tuple[int, bytes]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = (
                stat.S_IMODE(path.stat().st_mode),
                path.read_bytes(),
            )
    return found


def leftovers(output: Path) -> list[str]:
    """Staging/old directories beside ``output`` (the lock file is not one)."""
    return sorted(
        p.name for p in output.parent.iterdir() if p.name.startswith(f".{output.name}.mcpbundle-")
    )


@pytest.fixture
def repo(tmp_path: Path, wheelhouse: Path) -> Path:
    return make_repo(tmp_path / "repo", wheelhouse)


# ----------------------------------------------------------------------------- tests


def test_build_writes_servers_vendored_libs_and_requirements(repo: Path) -> None:
    done = run_cli(repo, "build")
    out = repo / "dist"
    files = set(tree(out))
    assert {
        "ops/src/server.py",
        "ops/src/run.sh",
        "ops/.env.example",
        "ops/requirements.in",
        "ops/requirements.txt",
        "ops/src/acme_util/__init__.py",
        "ops/src/acme_util/text.py",
        "web/app.py",
        "web/requirements.in",
        "web/requirements.txt",
        "mcpbundle-manifest.json",
        "DEPLOY.md",
    } <= files
    assert not any("/tests/" in f or "notebooks" in f for f in files)
    assert not any(f.startswith("libs/") for f in files), "libs are vendored, not mirrored"
    assert not any("__pycache__" in f for f in files)
    # servers mirror their directories byte for byte (and keep the executable bit)
    for rel in ("ops/src/server.py", "web/app.py", "ops/.env.example"):
        assert (out / rel).read_bytes() == (repo / rel).read_bytes()
    assert os.access(out / "ops/src/run.sh", os.X_OK)
    assert not os.access(out / "ops/src/server.py", os.X_OK)
    assert (out / "ops/src/acme_util/text.py").read_bytes() == (
        repo / "libs/util/acme_util/text.py"
    ).read_bytes()
    req_in = (out / "ops/requirements.in").read_text()
    assert "alpha>=1.0" in req_in
    assert "beta>=1.0" in req_in  # the vendored lib's dependency
    assert "libs/util" not in req_in
    pins = (out / "ops/requirements.txt").read_text()
    for pin in ("alpha==2.0", "beta==1.0", "gamma==1.0", "delta==1.0", "fastmcp==4.0"):
        assert pin in pins
    assert "kappa" in (out / "web/requirements.txt").read_text()
    assert "built ops" in done.stdout
    assert "built web" in done.stdout


def test_manifest_shape_and_hashes_match_files(repo: Path) -> None:
    run_cli(repo, "build")
    out = repo / "dist"
    manifest = json.loads((out / "mcpbundle-manifest.json").read_text())
    assert set(manifest) == {"version", "servers"}  # no source: a commit alone changes nothing
    assert manifest["version"] == 1
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    # gitsource: untracked files do not count as dirty (even though untracked,
    # non-ignored files do ship); only the untracked secret files are untracked here.
    for entry in manifest["servers"].values():  # the build that last changed each server
        assert entry["changed-by"] == {"commit": head, "dirty": False}
    assert set(manifest["servers"]) == {"ops", "web"}
    ops = manifest["servers"]["ops"]
    assert {"path", "entrypoint", "requirements", "shared", "rewrites", "files"} <= set(ops)
    assert ops["path"] == "ops"
    assert ops["entrypoint"] == "ops/src/server.py:mcp"
    assert ops["requirements"] == "ops/requirements.txt"
    assert ops["shared"] == ["util"]
    (rewrite,) = ops["rewrites"]
    assert {"from", "to"} <= set(rewrite)
    assert rewrite["from"] == "-e ../libs/util"
    assert rewrite["to"] == "vendored shared lib 'util'"
    assert rewrite.get("origin", "ops/requirements.txt:4") == "ops/requirements.txt:4"
    assert manifest["servers"]["web"]["entrypoint"] == "web/app.py:app"
    for name, entry in manifest["servers"].items():
        on_disk = {
            p.relative_to(out).as_posix() for p in (out / entry["path"]).rglob("*") if p.is_file()
        }
        assert set(entry["files"]) == on_disk, name
        for rel, digest in entry["files"].items():
            assert digest.startswith("sha256:")
            assert sha256_file(out / rel) == digest, rel


def test_deploy_md_lists_each_server(repo: Path) -> None:
    run_cli(repo, "build")
    text = (repo / "dist/DEPLOY.md").read_text()
    assert "## ops" in text
    assert "## web" in text
    assert "`ops/src/server.py:mcp`" in text
    assert "`web/requirements.txt`" in text
    assert "OPS_API_KEY, OPS_MODE" in text
    assert "your-api-key-here" not in text  # names only, never values


def test_rebuilds_are_byte_identical_and_machine_independent(
    tmp_path: Path, wheelhouse: Path
) -> None:
    first = make_repo(tmp_path / "a" / "repo", wheelhouse)
    second = tmp_path / "elsewhere" / "copy"
    shutil.copytree(first, second, symlinks=True)
    out1, out2, out3 = tmp_path / "out1", tmp_path / "x" / "out2", tmp_path / "out3"
    run_cli(first, "build", "-o", str(out1))
    run_cli(second, "build", "-o", str(out2))
    run_cli(first, "build", "-o", str(out3))
    assert tree(out1) == tree(out2) == tree(out3)
    forbidden = [
        str(tmp_path).encode(),
        str(wheelhouse).encode(),
        str(Path.home()).encode() if str(Path.home()) != "/" else b"\0\0",
        b"/tmp/",
        b"find-links",
        b"--index-url",
        b"--extra-index-url",
        b"file:/",
        b"file:.",
        b"mcpbundle-tmp",
    ]
    for rel, (_, data) in tree(out1).items():
        for needle in forbidden:
            assert needle not in data, f"{needle!r} in {rel}"


def test_partial_build_leaves_other_servers_unchanged(repo: Path) -> None:
    run_cli(repo, "build")
    out = repo / "dist"
    before = tree(out)
    (repo / "web/app.py").write_text(SERVER_WEB + "# changed\n")
    (repo / "ops/src/server.py").write_text(SERVER_OPS + "# changed too\n")
    done = run_cli(repo, "build", "ops")
    assert "built web" not in done.stdout
    after = tree(out)
    web = {k: v for k, v in before.items() if k.startswith("web/")}
    assert {k: v for k, v in after.items() if k.startswith("web/")} == web
    assert after["ops/src/server.py"][1].endswith(b"# changed too\n")
    manifest = json.loads(after["mcpbundle-manifest.json"][1])
    old_manifest = json.loads(before["mcpbundle-manifest.json"][1])
    assert manifest["servers"]["web"] == old_manifest["servers"]["web"]
    assert manifest["servers"]["ops"] != old_manifest["servers"]["ops"]
    assert leftovers(out) == []


def test_dry_run_writes_nothing(repo: Path) -> None:
    done = run_cli(repo, "build", "--dry-run")
    assert "would build ops" in done.stdout
    assert "ops/src/acme_util/text.py" in done.stdout
    assert not (repo / "dist").exists()
    assert leftovers(repo / "dist") == []
    run_cli(repo, "build")
    before = tree(repo / "dist")
    (repo / "web/app.py").write_text(SERVER_WEB + "# changed\n")
    run_cli(repo, "build", "--dry-run")
    assert tree(repo / "dist") == before


def test_json_report_shape(repo: Path) -> None:
    document = json.loads(run_cli(repo, "build", "--json").stdout)
    assert {"output", "written", "dry_run", "source", "servers", "warnings"} <= set(document)
    assert document["output"] == "dist"
    assert document["written"] is True
    assert document["dry_run"] is False
    assert set(document["source"]) == {"commit", "dirty"}
    assert [s["name"] for s in document["servers"]] == ["ops", "web"]
    ops = document["servers"][0]
    assert {
        "name", "path", "entrypoint", "requirements", "shared", "files",
        "requirements_in", "rewrites", "skipped_secrets",
    } <= set(ops)  # fmt: skip
    assert "ops/src/server.py" in ops["files"]
    dry = json.loads(run_cli(repo, "build", "--dry-run", "--json").stdout)
    assert dry["written"] is False
    assert dry["dry_run"] is True


def test_json_report_says_per_server_whether_it_changed(repo: Path) -> None:
    """Issue 16: build --json reports per server ``changed`` (what it ships differs from the
    previous build's), for a directory build as for a branch; null on a dry run."""

    def changed(*args: str) -> dict[str, object]:
        document = json.loads(run_cli(repo, "build", "--json", *args).stdout)
        return {s["name"]: s["changed"] for s in document["servers"]}

    assert changed() == {"ops": True, "web": True}
    assert changed() == {"ops": False, "web": False}  # up to date
    (repo / "web/app.py").write_text(SERVER_WEB + "# changed\n")
    assert changed("--dry-run") == {"ops": None, "web": None}
    assert changed() == {"ops": False, "web": True}
    assert changed("--no-cache") == {"ops": False, "web": False}  # rebuilt, the same bytes


def test_failed_build_leaves_previous_output_byte_identical(repo: Path) -> None:
    run_cli(repo, "build")
    out = repo / "dist"
    before = tree(out)
    (repo / "ops/src/server.py").write_text(SERVER_OPS + "# would change the output\n")
    (repo / "web/requirements.txt").write_text("py-kappa\nno-such-package-anywhere>=1\n")
    done = run_cli(repo, "build", check=False)
    assert done.returncode == 1
    assert "no-such-package-anywhere" in done.stderr
    assert tree(out) == before
    assert leftovers(out) == []


def test_secret_files_never_ship_and_are_reported(repo: Path) -> None:
    document = json.loads(run_cli(repo, "build", "--json").stdout)
    out = repo / "dist"
    shipped = set(tree(out))
    secrets = {**TRACKED_SECRETS, **UNTRACKED_SECRETS}
    untracked = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    assert "ops/.env.local" in untracked  # really untracked (and not ignored)
    for rel in secrets:
        name = rel.rsplit("/", 1)[-1]
        assert not any(f.endswith("/" + name) for f in shipped), rel
    reported = {s for server in document["servers"] for s in server["skipped_secrets"]}
    assert reported == set(secrets)
    assert "ops/.env.example" in shipped
    text = run_cli(repo, "build").stdout
    assert "skipped secret file ops/.env.local" in text
    assert "skipped secret file libs/util/acme_util/.env" in text


def test_no_wait_flag_fails_while_another_build_holds_the_lock(repo: Path) -> None:
    """``--no-wait`` fails at once while another build holds the output lock."""
    from mcpbundle.emit.output_lock import output_lock

    with output_lock((repo / "dist").resolve(), wait=False):
        done = run_cli(repo, "build", "--no-wait", check=False)
    assert done.returncode == 1
    assert "another build" in done.stderr
    assert not (repo / "dist").exists()
