"""Git requirements (vendor / pin) and pyproject-based servers through the real CLI."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from support.gitrepo import commit_all, git, init_repo
from support.monorepo import mcpbundle, write


def _bare_repo(tmp_path: Path, name: str, files: dict[str, str], tag: str) -> str:
    work = init_repo(tmp_path / f"{name}-work")
    write(work, files)
    commit_all(work, "release")
    git(work, "tag", tag)
    bare = tmp_path / f"{name}.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare.as_uri()


@pytest.fixture
def git_sources(tmp_path: Path) -> dict[str, str]:
    vendored = _bare_repo(
        tmp_path,
        "gitlib",
        {
            "pyproject.toml": (
                "[project]\nname = 'gitlib'\nversion = '0.3'\ndependencies = ['beta']\n"
            ),
            "gitlib/__init__.py": "VALUE = 42\n",
            "COPYING": "gitlib is free software\n",
        },
        "v0.3",
    )
    pinned = _bare_repo(
        tmp_path,
        "alpha",
        {"pyproject.toml": "[project]\nname = 'alpha'\nversion = '1.1'\n", "alpha.py": ""},
        "v1.1",
    )
    return {"vendored": vendored, "pinned": pinned}


def _repo(tmp_path: Path, wheelhouse: Path, requirements: str, extra: str = "") -> Path:
    root = tmp_path / "mono"
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n{extra}"
                "[servers.svc]\npath = 'svc'\nentrypoint = 'server.py'\n"
            ),
            "svc/requirements.txt": requirements,
            "svc/server.py": "import gitlib\nmcp = object()\n",
        },
    )
    return root


def test_git_vendor_and_pin(tmp_path: Path, wheelhouse: Path, git_sources: dict[str, str]) -> None:
    requirements = (
        f"git+{git_sources['vendored']}@v0.3#egg=gitlib\nalpha @ git+{git_sources['pinned']}@v1.1\n"
    )
    extra = f"[bundle.git-overrides]\n{git_sources['pinned']!r} = 'pin'\n"
    root = _repo(tmp_path, wheelhouse, requirements, extra)
    done = mcpbundle(root, "build", "--json")
    assert done.returncode == 0, done.stderr
    out = root / "dist" / "svc"
    assert (out / "gitlib" / "__init__.py").read_text() == "VALUE = 42\n"
    pins = (out / "requirements.txt").read_text()
    assert "alpha==1.1" in pins
    assert "beta==1.0" in pins  # the vendored checkout's own dependency
    assert "gitlib" not in pins.replace("# via", "")
    assert "git+" not in pins
    manifest = json.loads((root / "dist" / "mcpbundle-manifest.json").read_text())
    rewrites = {r["from"]: r["to"] for r in manifest["servers"]["svc"]["rewrites"]}
    assert any(to.startswith("vendored gitlib from") for to in rewrites.values())
    assert "alpha==1.1" in rewrites.values()
    licence = out / "gitlib-0.3.dist-info" / "licenses" / "COPYING"
    assert licence.read_text() == "gitlib is free software\n"
    notices = (out / "THIRD_PARTY_NOTICES.md").read_text()
    assert f"| gitlib | 0.3 | see licence files | {git_sources['vendored']} at " in notices


def test_git_missing_ref_is_one_line(
    tmp_path: Path, wheelhouse: Path, git_sources: dict[str, str]
) -> None:
    root = _repo(tmp_path, wheelhouse, f"git+{git_sources['vendored']}@v9#egg=gitlib\n")
    done = mcpbundle(root, "build")
    assert done.returncode == 1
    assert "v9" in done.stderr
    assert "requirements.txt:1" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / "dist").exists()


def test_uv_workspace_server_pyproject_is_rewritten(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "ws"
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
                "[shared.common]\npath = 'packages/common'\n"
                "[servers.api]\npath = 'servers/api'\nentrypoint = 'src/api/server.py'\n"
                "vendor-dir = 'src/api'\n"
            ),
            "pyproject.toml": "[tool.uv.workspace]\nmembers = ['packages/*', 'servers/*']\n",
            "packages/common/pyproject.toml": (
                "[project]\nname = 'common'\nversion = '1.0'\ndependencies = ['gamma']\n"
            ),
            "packages/common/src/common/__init__.py": "X = 1\n",
            "servers/api/pyproject.toml": (
                "# the api server\n[project]\nname = 'api'\nversion = '0.1'\n"
                "dependencies = ['alpha<2', 'common']\n\n"
                "[tool.uv.sources]\ncommon = { workspace = true }\n\n"
                "[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n"
            ),
            "servers/api/src/api/server.py": "import common\nmcp = object()\n",
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    out = root / "dist" / "servers" / "api"
    assert (out / "src" / "api" / "common" / "__init__.py").is_file()
    shipped = (out / "pyproject.toml").read_text()
    assert shipped.startswith("# the api server")
    data = tomllib.loads(shipped)
    assert "build-system" not in data
    assert "tool" not in data or "uv" not in data["tool"]
    # fastmcp is added (the host needs it), at the version matching the resolved mcp.
    assert data["project"]["dependencies"] == [
        "alpha==1.1",
        "delta==1.0",
        "fastmcp==4.0",
        "gamma==1.0",
        "mcp==2.3",
    ]
    manifest = json.loads((root / "dist" / "mcpbundle-manifest.json").read_text())
    added = [r["to"] for r in manifest["servers"]["api"]["rewrites"] if r["origin"] == "mcpbundle"]
    assert added == ["added fastmcp"]


def test_poetry_path_dependency_is_vendored(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "poetry"
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
                "[shared.lib]\npath = 'lib'\n"
                "[servers.app]\npath = 'app'\nentrypoint = 'main.py'\n"
            ),
            "lib/pyproject.toml": "[tool.poetry]\nname = 'lib'\nversion = '1.0'\n",
            "lib/lib/__init__.py": "",
            "app/pyproject.toml": (
                "[tool.poetry]\nname = 'app'\nversion = '0.1'\n"
                "[tool.poetry.dependencies]\npython = '^3.11'\nalpha = '^1.0'\n"
                "lib = { path = '../lib', develop = true }\n"
            ),
            "app/main.py": "import lib\nmcp = object()\n",
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    assert (root / "dist" / "app" / "lib" / "__init__.py").is_file()
    assert (root / "dist" / "app" / "requirements.txt").read_text().count("alpha==1.1") == 1
