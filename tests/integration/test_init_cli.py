"""``mcpbundle init`` and the build's .gitignore hint through the real CLI, in tmp dirs.

The generated config is built against the test wheelhouse (``no-index`` +
``find-links`` added after init, as a user with a private index would), and on a
copy of example-monorepo/ the generated config builds the same bundles as the
shipped one.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from test_build_example import copy_example, hermetic

from support.gitrepo import commit_all, git, init_repo
from support.monorepo import make_monorepo, mcpbundle, tree, write

SERVER = "from fastmcp import FastMCP\n\nmcp = FastMCP('x')\n"
HINT = re.compile(r"^hint: add 'dist/' to \.gitignore", re.MULTILINE)


def small_repo(root: Path) -> Path:
    write(root, {"server-ops/requirements.txt": "fastmcp\n", "server-ops/server.py": SERVER})
    return root


def test_init_writes_the_config_and_the_gitignore_line(tmp_path: Path) -> None:
    root = small_repo(tmp_path)
    done = mcpbundle(root, "init")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "wrote mcpbundle.toml: 1 server, 0 shared libraries"
    assert done.stdout.splitlines()[-1] == "next: mcpbundle build --dry-run"
    assert "added 'dist/' to .gitignore" in done.stdout
    assert (root / ".gitignore").read_text() == "dist/\n"
    assert mcpbundle(root, "validate").returncode == 0


def test_init_config_names_the_schema_editors_read(tmp_path: Path) -> None:
    """Its first line is the `#:schema` directive the example starts with; a pyproject
    table gets none (the line would apply to the whole pyproject.toml)."""
    root = small_repo(tmp_path)
    assert mcpbundle(root, "init").returncode == 0
    example = (Path(__file__).parents[2] / "mcpbundle.toml.example").read_text()
    first = (root / "mcpbundle.toml").read_text().splitlines()[0]
    assert first == example.splitlines()[0]
    assert first.startswith("#:schema https://")
    write(root, {"pyproject.toml": "[project]\nname = 'x'\n"})
    assert mcpbundle(root, "init", "--pyproject").returncode == 0
    assert "#:schema" not in (root / "pyproject.toml").read_text()


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    root = small_repo(tmp_path)
    (root / "mcpbundle.toml").write_text("# mine\n")
    done = mcpbundle(root, "init")
    assert done.returncode == 2
    assert done.stderr == (
        "error: mcpbundle.toml: already exists; pass --force to overwrite it, or --dry-run to "
        "print the new one\n"
    )
    assert (root / "mcpbundle.toml").read_text() == "# mine\n"
    assert not (root / ".gitignore").exists()
    forced = mcpbundle(root, "init", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "[servers.ops]" in (root / "mcpbundle.toml").read_text()


def test_dry_run_prints_the_file_it_would_write(tmp_path: Path) -> None:
    root = small_repo(tmp_path)
    dry = mcpbundle(root, "init", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert not (root / "mcpbundle.toml").exists()
    assert not (root / ".gitignore").exists()
    assert dry.stderr.startswith("would write mcpbundle.toml: 1 server,")
    assert "would add 'dist/' to .gitignore" in dry.stderr
    assert mcpbundle(root, "init").returncode == 0
    assert dry.stdout == (root / "mcpbundle.toml").read_text()


def test_dry_run_prints_the_file_even_when_one_exists(tmp_path: Path) -> None:
    """Issue 19: init refuses to overwrite without --force; --dry-run prints the file
    instead, so an existing config (or [tool.mcpbundle] table) never stops it."""
    root = small_repo(tmp_path)
    (root / "mcpbundle.toml").write_text("# mine\n")
    dry = mcpbundle(root, "init", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "[servers.ops]" in dry.stdout
    assert dry.stderr.startswith("would write mcpbundle.toml: 1 server,")
    assert (root / "mcpbundle.toml").read_text() == "# mine\n"
    assert not (root / ".gitignore").exists()
    (root / "pyproject.toml").write_text("[tool.mcpbundle.bundle]\noutput = 'out'\n")
    dry = mcpbundle(root, "init", "--pyproject", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "[tool.mcpbundle.servers.ops]" in dry.stdout
    assert (root / "pyproject.toml").read_text() == "[tool.mcpbundle.bundle]\noutput = 'out'\n"


def test_quiet_init_prints_nothing(tmp_path: Path) -> None:
    done = mcpbundle(small_repo(tmp_path), "init", "-q")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_no_server_is_one_error_line(tmp_path: Path) -> None:
    write(tmp_path, {"lib/helpers.py": "def f():\n    return 1\n"})
    done = mcpbundle(tmp_path, "init")
    assert done.returncode == 2
    assert done.stderr.startswith("error: no FastMCP server found in this directory")
    assert len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "mcpbundle.toml").exists()


@pytest.mark.parametrize("existing", ["dist\n", "/dist/\n", "*.pyc\ndist/"])
def test_gitignore_line_is_never_duplicated(tmp_path: Path, existing: str) -> None:
    root = small_repo(tmp_path)
    (root / ".gitignore").write_text(existing)
    assert mcpbundle(root, "init").returncode == 0
    assert (root / ".gitignore").read_text() == existing


def test_gitignore_line_is_appended_after_a_last_line_without_newline(tmp_path: Path) -> None:
    root = small_repo(tmp_path)
    (root / ".gitignore").write_text("*.pyc")
    assert mcpbundle(root, "init").returncode == 0
    assert (root / ".gitignore").read_text() == "*.pyc\ndist/\n"


def test_no_gitignore_line_when_git_already_ignores_the_output(tmp_path: Path) -> None:
    root = init_repo(small_repo(tmp_path))
    (root / ".git" / "info" / "exclude").write_text("/dist/\n")
    done = mcpbundle(root, "init")
    assert done.returncode == 0, done.stderr
    assert not (root / ".gitignore").exists()
    assert ".gitignore" not in done.stdout


def test_init_pyproject_then_build_reads_it(tmp_path: Path) -> None:
    root = small_repo(tmp_path)
    (root / "pyproject.toml").write_text("[tool.ruff]\nline-length = 90\n")
    done = mcpbundle(root, "init", "--pyproject")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote [tool.mcpbundle] in pyproject.toml: 1 server,")
    assert not (root / "mcpbundle.toml").exists()
    listed = mcpbundle(root / "server-ops", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [s["name"] for s in json.loads(listed.stdout)["servers"]] == ["ops"]
    again = mcpbundle(root, "init", "--pyproject")
    assert again.returncode == 2
    assert again.stderr.startswith("error: pyproject.toml: already has a [tool.mcpbundle] table")


# ----------------------------------------------------------- the build's gitignore hint


@pytest.fixture
def git_repo(tmp_path: Path, wheelhouse: Path) -> Path:
    root = make_monorepo(tmp_path / "repo", wheelhouse)
    (root / "ops" / ".env").unlink()
    init_repo(root)
    commit_all(root)
    return root


def test_first_build_hints_once_and_the_noop_replay_stays_quiet(git_repo: Path) -> None:
    first = mcpbundle(git_repo, "build")
    assert first.returncode == 0, first.stderr
    assert len(HINT.findall(first.stderr)) == 1
    line = next(x for x in first.stderr.splitlines() if x.startswith("hint:"))
    assert line == (
        "hint: add 'dist/' to .gitignore: git does not ignore the build output "
        "(`mcpbundle init` adds it)"
    )
    replayed = mcpbundle(git_repo, "build")  # the no-op stamp answers
    assert (replayed.returncode, replayed.stderr) == (0, "")
    full = mcpbundle(git_repo, "--debug", "build")  # never replayed: the full no-op path
    assert full.returncode == 0
    assert not HINT.search(full.stderr)


def test_no_hint_when_quiet_ignored_dry_run_or_outside_git(git_repo: Path, tmp_path: Path) -> None:
    quiet = mcpbundle(git_repo, "build", "-q")
    assert quiet.returncode == 0, quiet.stderr
    assert not HINT.search(quiet.stderr)
    shutil.rmtree(git_repo / "dist")
    dry = mcpbundle(git_repo, "build", "--dry-run")
    assert not HINT.search(dry.stderr)
    (git_repo / ".gitignore").write_text("dist/\n")
    ignored = mcpbundle(git_repo, "build")
    assert ignored.returncode == 0, ignored.stderr
    assert not HINT.search(ignored.stderr)
    shutil.rmtree(git_repo / ".git")
    shutil.rmtree(git_repo / "dist")
    (git_repo / ".gitignore").unlink()
    plain = mcpbundle(git_repo, "build")
    assert plain.returncode == 0, plain.stderr
    assert not HINT.search(plain.stderr)


def test_ignore_rules_decide_even_when_a_file_of_the_output_is_tracked(git_repo: Path) -> None:
    (git_repo / ".gitignore").write_text("dist/\n")
    write(git_repo, {"dist/README": "committed by someone\n"})
    git(git_repo, "add", "-f", "dist/README")
    commit_all(git_repo)
    shutil.rmtree(git_repo / "dist")
    done = mcpbundle(git_repo, "build")
    assert done.returncode == 0, done.stderr
    assert not HINT.search(done.stderr)  # the rules ignore dist/ (check-ignore --no-index)


# ------------------------------------------------------------------ example-monorepo


def _normalised(out: Path) -> dict[str, object]:
    files: dict[str, object] = dict(tree(out))
    manifest = json.loads((out / "mcpbundle-manifest.json").read_text())
    for entry in manifest["servers"].values():
        entry.pop("inputs")  # hashes the server's table, which expect-tools makes differ
    files["mcpbundle-manifest.json"] = manifest
    files.pop(".mcpbundle-output", None)
    return files


@pytest.mark.slow
def test_generated_config_builds_the_example_like_the_shipped_one(
    tmp_path: Path, wheelhouse: Path
) -> None:
    shipped = copy_example(tmp_path / "shipped")
    generated = copy_example(tmp_path / "generated")
    (generated / "mcpbundle.toml").unlink()
    done = mcpbundle(generated, "init")
    assert done.returncode == 0, done.stderr
    text = (generated / "mcpbundle.toml").read_text()
    python = re.search(r'^python = "(3\.\d+)"$', text, re.MULTILINE)
    assert python is not None, text
    for root in (shipped, generated):
        hermetic(root, wheelhouse)
    # The shipped config leaves python to the running interpreter; give both the same one.
    config = shipped / "mcpbundle.toml"
    config.write_text(
        config.read_text().replace("[bundle]\n", f'[bundle]\npython = "{python[1]}"\n', 1)
    )
    for root in (shipped, generated):
        built = mcpbundle(root, "build")
        assert built.returncode == 0, built.stderr
    assert _normalised(generated / "dist") == _normalised(shipped / "dist")


def test_a_gitignore_symlink_is_not_written_through(tmp_path: Path) -> None:
    root = small_repo(tmp_path / "repo")
    outside = tmp_path / "elsewhere"
    outside.write_text("keep\n")
    (root / ".gitignore").symlink_to(outside)
    done = mcpbundle(root, "init")
    assert done.returncode == 0, done.stderr
    assert outside.read_text() == "keep\n"
    assert ".gitignore" not in done.stdout


def test_affected_reads_the_tool_table_of_a_pyproject_config(tmp_path: Path) -> None:
    root = small_repo(tmp_path)
    write(root, {"server-web/requirements.txt": "fastmcp\n", "server-web/server.py": SERVER})
    (root / "pyproject.toml").write_text("[project]\nname = 'mono'\nversion = '0'\n")
    assert mcpbundle(root, "init", "--pyproject").returncode == 0
    init_repo(root)
    commit_all(root)
    text = (root / "pyproject.toml").read_text()
    marker = '[tool.mcpbundle.servers.web]\npath = "server-web"\n'
    assert marker in text
    (root / "pyproject.toml").write_text(text.replace(marker, marker + 'shim = "always"\n'))
    done = mcpbundle(root, "affected", "--since", "HEAD")
    assert (done.returncode, done.stdout) == (0, "web\n"), done.stderr
    (root / "pyproject.toml").write_text(text.replace("version = '0'", "version = '1'"))
    done = mcpbundle(root, "affected", "--since", "HEAD")
    assert done.stdout.split() == ["ops", "web"]
    assert "changed outside [tool.mcpbundle]; listing all servers" in done.stderr


def test_check_points_at_the_server_table_inside_pyproject(tmp_path: Path) -> None:
    write(tmp_path, {
        "ops/pkg/__init__.py": "", "ops/pkg/tools.py": "", "ops/pkg.py": "",
        "ops/pkg/server.py": "from fastmcp import FastMCP\nfrom .tools import x\n" + SERVER,
        "pyproject.toml": (
            "[project]\nname = 'm'\nversion = '0'\n\n[tool.mcpbundle.servers.ops]\npath = 'ops'\n"
            "entrypoint = 'pkg/server.py'\nshim-name = 'pkg.py'\n"
        ),
    })  # fmt: skip
    done = mcpbundle(tmp_path, "check")
    assert done.returncode == 1
    assert done.stdout.startswith(
        "pyproject.toml:5:1: MCB003 error: the server already has a file named 'pkg.py'"
    )
