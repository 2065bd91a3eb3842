"""Credentials in index and git URLs never reach an output, a commit, a log or the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcpbundle.base.redact import has_credentials, mask_urls
from support.gitrepo import commit_all, init_repo
from support.monorepo import mcpbundle, write

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
TOKENS = ("s3cr3tINDEXtoken", "s3cr3tEXTRAtoken", "s3cr3tGITtoken", "s3cr3tLINKStoken")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("https://user:pw@host/simple", "https://***@host/simple"),
        ("--index-url=https://tok@host/x", "--index-url=https://***@host/x"),
        ("git+https://u:t@github.com/o/r@main#egg=r", "git+https://***@github.com/o/r@main#egg=r"),
        ("git+ssh://git@github.com/o/r", "git+ssh://git@github.com/o/r"),
        ("see https://host/a@b", "see https://host/a@b"),
        ("two: http://a:b@x/ and ftp://c@y/", "two: http://***@x/ and ftp://***@y/"),
        ("no url user@example.com", "no url user@example.com"),
    ],
)
def test_mask_urls(text: str, masked: str) -> None:
    assert mask_urls(text) == masked
    assert has_credentials(text) == (text != masked)


def credentialed_repo(root: Path, wheelhouse: Path) -> Path:
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\npython = '{RUNNING}'\nno-index = true\n"
                f"find-links = [{str(wheelhouse)!r}]\ngit = 'pypi'\n"
                "[servers.ops]\npath = 'ops'\nentrypoint = 'server.py'\n"
            ),
            "ops/server.py": "from fastmcp import FastMCP\nmcp = FastMCP('ops')\n",
            "ops/requirements.txt": (
                f"--index-url https://deploy:{TOKENS[0]}@pypi.corp.example/simple\n"
                "-r reqs/base.txt\n"
                f"beta @ git+https://ci:{TOKENS[2]}@git.corp.example/team/beta@main\n"
            ),
            "ops/reqs/base.txt": (
                f"--extra-index-url=https://{TOKENS[1]}@mirror.corp.example/simple\n"
                f"-f https://u:{TOKENS[3]}@files.corp.example/wheels/\n"
                "fastmcp\nalpha\n"
                f"# mirror: https://{TOKENS[2]}@git.corp.example/team/beta\n"
            ),
        },
    )
    return root


def assert_no_token(*texts: str) -> None:
    for text in texts:
        for token in TOKENS:
            assert token not in text


def all_bytes(directory: Path) -> str:
    return "".join(
        p.read_bytes().decode("utf-8", "replace")
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    )


def test_build_masks_every_credential(tmp_path: Path, wheelhouse: Path) -> None:
    root = credentialed_repo(tmp_path / "repo", wheelhouse)
    done = mcpbundle(root, "-v", "build", "--json")
    assert done.returncode == 0, done.stderr
    assert_no_token(done.stdout, done.stderr, all_bytes(root / "dist"))
    assert "https://***@pypi.corp.example/simple" in done.stdout  # the rewrite, masked
    shipped = (root / "dist/ops/reqs/base.txt").read_text()
    assert "mirror.corp.example" not in shipped
    assert "alpha" in shipped
    listed = mcpbundle(root, "list", "--json")
    assert_no_token(listed.stdout, listed.stderr)
    # the caches hold plans, resolutions, scans and stamps of that build: no credential
    cache = Path(os.environ["MCPBUNDLE_CACHE_DIR"])
    assert_no_token(*(p.read_bytes().decode("latin-1") for p in cache.rglob("*") if p.is_file()))


def test_an_error_masks_the_credential(tmp_path: Path, wheelhouse: Path) -> None:
    root = credentialed_repo(tmp_path / "repo", wheelhouse)
    config = root / "mcpbundle.toml"
    config.write_text(config.read_text().replace("git = 'pypi'", "git = 'vendor'"))
    done = mcpbundle(root, "-v", "build")
    assert done.returncode == 1
    assert "https://***@git.corp.example/team/beta" in done.stderr
    assert_no_token(done.stdout, done.stderr)


def test_the_deploy_branch_holds_no_credential(tmp_path: Path, wheelhouse: Path) -> None:
    root = credentialed_repo(tmp_path / "repo", wheelhouse)
    init_repo(root)
    commit_all(root, "source")
    done = mcpbundle(root, "build", "--branch", "deploy")
    assert done.returncode == 0, done.stderr
    log = subprocess.run(
        ["git", "log", "-p", "deploy"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert "requirements.txt" in log
    assert_no_token(log, done.stdout, done.stderr)
    bad = mcpbundle(
        root,
        "build",
        "--branch",
        "deploy",
        "--push-to",
        f"https://x:{TOKENS[0]}@nohost.invalid/r:main",
    )
    assert bad.returncode != 0
    assert_no_token(bad.stdout, bad.stderr)
