"""`mcpbundle ci github` through the real CLI: the workflows it writes for several configs
validate against GitHub's workflow schema (the real check-jsonschema and its vendored
`github-workflows` schema, no network), and its affected step works on real output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mcpbundle import __version__
from mcpbundle.cli.ci_template import WORKFLOW_PATH
from support.gitrepo import commit_all, git, init_repo
from support.monorepo import make_monorepo, mcpbundle

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _workflow(cwd: Path, *args: str) -> str:
    done = mcpbundle(cwd, "ci", "github", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


@pytest.fixture
def top(tmp_path: Path, wheelhouse: Path) -> Path:
    """A git repository whose monorepo (and mcpbundle.toml) is in `mcp/`."""
    root = init_repo(tmp_path / "top")
    make_monorepo(root / "mcp", wheelhouse)
    (root / "mcp" / ".gitignore").write_text(".env\ndist/\n")
    commit_all(root, "monorepo in a subdirectory")
    return root


def test_generated_workflows_validate_for_several_configs(top: Path, tmp_path: Path) -> None:
    mcp = top / "mcp"
    config = mcp / "mcpbundle.toml"
    original = config.read_text()
    variants: dict[str, str] = {"pip-tools, working directory": _workflow(mcp)}
    config.write_text(original.replace("[bundle]\n", "[bundle]\nresolver = 'uv'\n"))
    variants["uv"] = _workflow(mcp)
    variants["split"] = _workflow(mcp, "--split", "--python", "3.13")
    config.write_text(
        original
        + "[bundle.deploy]\npush-to = 'git@github.com:acme/{server}-deploy.git:main'\n"
        + "[ci]\ndefault-branch = 'trunk'\nworking-directory = 'mcp'\npython = '3.11'\n"
        + "install = 'mcpbundle @ git+https://github.com/acme/mcpbundle@v0.1.0'\n"
        + "fail-on = 'breaking'\n"
    )
    variants["push-to, [ci] keys"] = _workflow(mcp)
    files = []
    for number, (name, text) in enumerate(sorted(variants.items())):
        path = tmp_path / f"workflow-{number}.yml"
        path.write_text(text)
        files.append(str(path))
        assert "working-directory: mcp" in text, name
    done = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout
    assert "astral-sh/setup-uv@" in variants["uv"]
    assert "astral-sh/setup-uv@" not in variants["pip-tools, working directory"]
    assert f"pip install 'mcpbundle=={__version__}'" in variants["uv"]
    assert 'python-version: "3.13"' in variants["split"]
    assert "build --branch deploy --split --push" in variants["split"]
    configured = variants["push-to, [ci] keys"]
    assert "branches: [trunk]" in configured and 'python-version: "3.11"' in configured
    assert "pip install 'mcpbundle @ git+https://github.com/acme/mcpbundle@v0.1.0'" in configured
    assert configured.count("'mcp/mcpbundle.toml'") == 4  # the cache key of each job
    assert "--format markdown --fail-on breaking" in configured
    assert "--fail-on" not in variants["uv"]


def test_a_schema_violation_is_caught(tmp_path: Path) -> None:
    """The validation above can fail: a job without `runs-on` is rejected."""
    text = _workflow(tmp_path).replace("    runs-on: ubuntu-latest\n", "", 1)
    path = tmp_path / "broken.yml"
    path.write_text(text)
    done = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout


def _affected_script(workflow: str) -> str:
    body = workflow.split("<<'PY'\n", 1)[1].split("\n          PY\n", 1)[0]
    return "\n".join(line.removeprefix("          ") for line in body.splitlines()) + "\n"


def test_the_affected_step_turns_real_output_into_the_matrix(top: Path, tmp_path: Path) -> None:
    mcp = top / "mcp"
    script = tmp_path / "affected.py"
    script.write_text(_affected_script(_workflow(mcp)))
    (mcp / "libs" / "core" / "src" / "acme_core" / "more.py").write_text("Y = 2\n")
    commit_all(top, "core change")

    def matrix(*args: str) -> dict[str, str]:
        source = tmp_path / "input.json"
        done = mcpbundle(mcp, *args)
        assert done.returncode == 0, done.stderr
        source.write_text(done.stdout)
        out = subprocess.run(
            [sys.executable, str(script), str(source)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return dict(line.split("=", 1) for line in out.splitlines())

    since = matrix("affected", "--since", "HEAD~1", "--json")
    assert json.loads(since["servers"]) == ["sales"]
    assert json.loads(since["matrix"])["include"][0]["server"] == "sales"
    everything = matrix("list", "--json")  # the fallback when there is no base commit
    assert json.loads(everything["servers"]) == ["ops", "sales"]
    assert [m["server"] for m in json.loads(everything["matrix"])["include"]] == ["ops", "sales"]


def test_write_goes_to_the_repository_root_shows_diffs_and_keeps_hand_edits(top: Path) -> None:
    mcp = top / "mcp"
    first = mcpbundle(mcp, "ci", "github", "--write")
    assert first.returncode == 0, first.stderr
    workflow = top / WORKFLOW_PATH
    assert workflow.is_file() and not (mcp / ".github").exists()
    assert "working-directory: mcp" in workflow.read_text()
    _append(mcp / "mcpbundle.toml", "[ci]\npython = '3.13'\n")
    updated = mcpbundle(mcp, "ci", "github", "--write")
    assert updated.returncode == 0, updated.stderr
    assert '+          python-version: "3.13"' in updated.stdout  # the diff of what changed
    assert updated.stdout.rstrip().endswith(f"wrote {WORKFLOW_PATH}")
    workflow.write_text(workflow.read_text().replace("fail-fast: false", "fail-fast: true"))
    edited = workflow.read_text()
    refused = mcpbundle(mcp, "ci", "github", "--write")
    assert refused.returncode == 1 and refused.stderr.count("error:") == 1
    assert "-      fail-fast: true" in refused.stdout and workflow.read_text() == edited
    forced = mcpbundle(mcp, "ci", "github", "--write", "--force")
    assert forced.returncode == 0 and "fail-fast: false" in workflow.read_text()
    assert git(top, "status", "--porcelain").splitlines() == [
        " M mcp/mcpbundle.toml",
        "?? .github/",
    ]


def test_bad_ci_keys_are_one_line(top: Path) -> None:
    mcp = top / "mcp"
    for bad in ("python = 3.12", "python = '3'", "install = \"x'y\"", "workdir = 'x'",
                "working-directory = '../out'", "default-branch = 'a b'",
                "fail-on = 'never'", "fail-on = true"):  # fmt: skip
        (mcp / "mcpbundle.toml").write_text(
            re.sub(r"\n\[ci\].*", "", (mcp / "mcpbundle.toml").read_text(), flags=re.S)
            + f"\n[ci]\n{bad}\n"
        )
        done = mcpbundle(mcp, "validate")
        assert done.returncode == 2, (bad, done.stdout)
        assert done.stderr.count("\n") == 1 and "ci." in done.stderr, (bad, done.stderr)


def test_write_without_a_config_is_a_usage_error(tmp_path: Path) -> None:
    done = mcpbundle(tmp_path, "ci", "github", "--write")
    assert done.returncode == 2 and done.stderr.count("error:") == 1
    assert not (tmp_path / ".github").exists()
