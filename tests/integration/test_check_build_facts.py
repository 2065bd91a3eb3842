"""`check` says what `build` does or cannot see: a vendored library without a licence, the
fastmcp the build adds, a git requirement it did not fetch, the closest server object."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support.monorepo import mcpbundle as run
from support.monorepo import write


def _findings(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    findings: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return findings


def _bundle(wheelhouse: Path, extra: str = "") -> str:
    return f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n{extra}"


# --- a vendored library with no licence information: an info finding ----------------


def _unlicensed_repo(root: Path, wheelhouse: Path) -> Path:
    write(
        root,
        {
            "mcpbundle.toml": _bundle(wheelhouse)
            + "[shared.utils]\npath = 'libs/utils'\n"
            + "[servers.ops]\npath = 'ops'\nentrypoint = 'server.py'\nshared = ['utils']\n",
            "libs/utils/pyproject.toml": "[project]\nname = 'acme-utils'\nversion = '1.0'\n",
            "libs/utils/acme_utils/__init__.py": "X = 1\n",
            "ops/requirements.txt": "fastmcp\n",
            "ops/server.py": "import acme_utils\nfrom fastmcp import FastMCP\n\nmcp = FastMCP()\n",
        },
    )
    return root


def _licence_infos(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [f for f in _findings(done) if f["code"] == "MCB012"]


def test_a_vendored_library_without_a_licence_is_an_info_finding(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = _unlicensed_repo(tmp_path / "repo", wheelhouse)
    done = run(repo, "check", "--format", "json")
    assert done.returncode == 0, done.stderr
    [info] = _licence_infos(done)
    assert (info["severity"], info["server"]) == ("info", "ops")
    assert (info["file"], info["line"]) == ("libs/utils/pyproject.toml", 1)
    assert "acme-utils (libs/utils)" in str(info["message"])
    assert "LICENSE" in str(info["fix"]) and "[project] license" in str(info["fix"])
    built = run(repo, "build")
    assert built.returncode == 0, built.stderr
    assert "acme-utils (libs/utils) has no licence information" in built.stderr
    after = run(repo, "check", "--built", "--format", "json")
    [again] = _licence_infos(after)
    assert (again["severity"], again["server"]) == ("info", "ops")
    assert "acme-utils (libs/utils)" in str(again["message"])
    (repo / "libs/utils/LICENSE").write_text("MIT License\n")
    assert _licence_infos(run(repo, "check", "--format", "json")) == []


# --- the fastmcp the build adds: MCB005, a warning; an error with auto-fix = false -------


def _no_fastmcp_repo(root: Path, wheelhouse: Path, extra: str = "") -> Path:
    write(
        root,
        {
            "mcpbundle.toml": _bundle(wheelhouse, extra)
            + "[servers.sales]\npath = 'sales'\nentrypoint = 'app.py'\n",
            "sales/requirements.txt": "alpha\n",
            "sales/app.py": "from fastmcp import FastMCP\n\napp = FastMCP('sales')\n",
        },
    )
    return root


def test_the_fastmcp_the_build_adds_is_a_warning_naming_the_fix(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = _no_fastmcp_repo(tmp_path / "repo", wheelhouse)
    done = run(repo, "check", "--format", "json")
    assert done.returncode == 0, done.stderr
    [finding] = _findings(done)
    assert (finding["code"], finding["severity"]) == ("MCB005", "warning")
    assert (finding["file"], finding["line"]) == ("sales/requirements.txt", 1)
    assert "the bundle adds fastmcp" in str(finding["message"])
    assert "add fastmcp to sales/requirements.txt" in str(finding["fix"])
    built = run(repo, "build")
    assert built.returncode == 0, built.stderr
    after = _findings(run(repo, "check", "--built", "--format", "json"))
    assert [(f["code"], f["severity"]) for f in after] == [("MCB005", "warning")]
    assert "the bundle adds fastmcp" in str(after[0]["message"])


def test_the_fastmcp_the_build_refuses_to_add_is_an_error(tmp_path: Path, wheelhouse: Path) -> None:
    repo = _no_fastmcp_repo(tmp_path / "repo", wheelhouse, "auto-fix = false\n")
    assert "its pinned requirements lack fastmcp" in run(repo, "build").stderr
    done = run(repo, "check", "--format", "json")
    assert done.returncode == 1
    [finding] = _findings(done)  # the import itself is fine: no MCB004 beside it
    assert (finding["code"], finding["severity"]) == ("MCB005", "error")
    assert "auto-fix = false" in str(finding["message"])
    assert "add-fastmcp = false" in str(finding["fix"])
    kept = _no_fastmcp_repo(tmp_path / "kept", wheelhouse, "add-fastmcp = false\n")
    found = _findings(run(kept, "check", "--format", "json"))
    assert "MCB005" not in {f["code"] for f in found}  # the build adds nothing, fails nothing


# --- a git requirement check did not fetch: an info finding naming it ---------------------


def test_each_git_requirement_check_did_not_fetch_is_named(tmp_path: Path) -> None:
    for policy in ("vendor", "pin"):
        repo = tmp_path / policy
        write(
            repo,
            {
                "mcpbundle.toml": f"[bundle]\ngit = {policy!r}\n"
                "[servers.ops]\npath = 'ops'\nentrypoint = 'server.py'\n",
                "ops/requirements.txt": (
                    "fastmcp\nalpha @ git+file:///nonexistent/alpha.git@v1.0\n"
                    "beta @ git+https://bot:s3cr3tvalue@git.example.com/acme/beta.git@v2\n"
                ),
                "ops/server.py": "from fastmcp import FastMCP\n\nmcp = FastMCP('ops')\n",
            },
        )
        done = run(repo, "check", "--format", "json")
        assert done.returncode == 0, done.stdout + done.stderr
        infos = sorted(
            (f for f in _findings(done) if "not fetch" in str(f["message"])),
            key=lambda f: int(str(f["line"])),
        )
        assert [(f["code"], f["severity"], f["file"], f["line"]) for f in infos] == [
            ("MCB003", "info", "ops/requirements.txt", 2),
            ("MCB003", "info", "ops/requirements.txt", 3),
        ], policy
        assert "file:///nonexistent/alpha.git@v1.0" in str(infos[0]["message"])
        assert f'git = "{policy}"' in str(infos[0]["message"])
        assert "git.example.com/acme/beta.git@v2" in str(infos[1]["message"])
        text = run(repo, "check")
        assert "s3cr3tvalue" not in text.stdout + text.stderr + done.stdout
        assert "did not fetch" in text.stdout


# --- a missing configured object: the closest definition's line and a did-you-mean -----


def test_a_misspelt_object_points_at_the_closest_definition(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(
        repo,
        {
            "mcpbundle.toml": "[servers.sales]\npath = 'sales'\nentrypoint = 'app.py:ap'\n",
            "sales/requirements.txt": "fastmcp\n",
            "sales/app.py": "from fastmcp import FastMCP\napp = FastMCP('sales')\n",
        },
    )
    validated = run(repo, "validate")
    assert "sales/app.py:2 has no module-level 'ap'; did you mean 'app'?" in validated.stderr
    done = run(repo, "check", "--format", "json")
    assert done.returncode == 1
    [finding] = _findings(done)
    assert (finding["code"], finding["file"], finding["line"]) == ("MCB001", "sales/app.py", 2)
    assert "did you mean 'app'?" in str(finding["message"])
    assert "'app'" in str(finding["fix"])
    text = run(repo, "check").stdout
    assert "sales/app.py:2:1: MCB001" in text and "2 | app = FastMCP('sales')" in text


# --- a server at the repository root: its bundle is its own files ---------------------


def _root_server_repo(root: Path, wheelhouse: Path) -> Path:
    server = "from fastmcp import FastMCP\n\nmcp = FastMCP('{}')\n"
    write(
        root,
        {
            "mcpbundle.toml": _bundle(wheelhouse)
            + "[shared.l]\npath = 'libs/l'\n"
            + "[servers.root]\npath = '.'\nentrypoint = 'server.py'\n"
            + "[servers.b]\npath = 'servers/b'\nentrypoint = 'server.py'\n",
            "requirements.txt": "fastmcp\n",
            "server.py": server.format("root"),
            "libs/l/pyproject.toml": "[project]\nname = 'l'\nversion = '1.0'\nlicense = 'MIT'\n",
            "libs/l/src/l_lib/__init__.py": "def twice(x):\n    return 2 * x\n",
            "servers/b/requirements.txt": "fastmcp\n-e ../../libs/l\n",
            "servers/b/server.py": "from l_lib import twice\n" + server.format("b"),
        },
    )
    return root


def test_check_built_reads_a_root_server_without_the_other_servers(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = _root_server_repo(tmp_path, wheelhouse)
    built = run(repo, "build")
    assert built.returncode == 0, built.stderr
    after = run(repo, "check", "--built", "--format", "json")
    assert after.returncode == 0, after.stdout
    assert [f for f in _findings(after) if f["severity"] != "info"] == []


def test_a_root_server_vendoring_a_library_does_not_ship_its_source_tree_too(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = _root_server_repo(tmp_path, wheelhouse)
    (repo / "requirements.txt").write_text("fastmcp\n-e libs/l\n")
    assert run(repo, "build").returncode == 0
    manifest = json.loads((repo / "dist" / "mcpbundle-manifest.json").read_text())
    root_files = manifest["servers"]["root"]["files"]
    assert "l_lib/__init__.py" in root_files
    assert not [f for f in root_files if f.startswith("libs/")]
    assert "servers/b/l_lib/__init__.py" in manifest["servers"]["b"]["files"]


def test_a_fastmcp_cap_the_code_needs_is_not_the_fastmcp_the_build_adds(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """Only the pinner's own rewrite (origin ``mcpbundle``) says the build added fastmcp; a
    cap an SDK fix adds for the code (``fastmcp<3`` for ``FastMCP(host=...)``) does not."""
    repo = _no_fastmcp_repo(tmp_path / "repo", wheelhouse)
    (repo / "sales" / "requirements.txt").write_text("alpha\nfastmcp\n")
    assert run(repo, "build").returncode == 0
    manifest_path = repo / "dist" / "mcpbundle-manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["servers"]["sales"]["rewrites"].append(
        {"from": "", "origin": "sales/app.py:3", "to": "added fastmcp<3"}
    )
    manifest_path.write_text(json.dumps(manifest))
    after = _findings(run(repo, "check", "--built", "--format", "json"))
    assert "MCB005" not in {f["code"] for f in after}


def test_without_a_requirements_file_the_fastmcp_fix_says_to_create_one(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = _no_fastmcp_repo(tmp_path / "repo", wheelhouse)
    (repo / "sales" / "requirements.txt").unlink()
    [finding] = _findings(run(repo, "check", "--format", "json"))
    assert finding["code"] == "MCB005"
    assert finding["file"] == "sales/app.py"
    assert "a requirements.txt you create in the server's directory" in str(finding["fix"])
