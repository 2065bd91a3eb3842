"""Secret rules on real repositories: doc-file warnings, new secret files, symlinks, the
config file, ``.secrets.baseline`` and pragmas; in-process plans and the real CLI.

Every fake secret is made at test time (:mod:`support.fakesecrets`). Each CLI test
asserts that no unmasked secret appears in stdout, stderr or any output file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_build_cli import base_files, make_repo, run_cli, tree, write_files

from mcpbundle.base.errors import BuildError
from mcpbundle.build import BuildOptions, plan_build
from mcpbundle.config.validate import load_config
from mcpbundle.emit.plan_scan import check_plan
from support.fakesecrets import Fakes
from support.gitrepo import commit_all, git, init_repo

F = Fakes(seed=23)


def _check(repo: Path, config: Path | None = None) -> tuple[str, ...]:
    loaded = load_config(repo, config)
    return check_plan(loaded, plan_build(loaded, BuildOptions(dry_run=True)))


def _commit(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    commit_all(repo, "change")


def assert_nowhere(secrets: list[str], *texts: str, output: Path | None = None) -> None:
    """No secret in the given texts, nor in any file under ``output``."""
    for secret in secrets:
        for text in texts:
            assert secret not in text
        if output is not None and output.exists():
            for rel, (_, data) in tree(output).items():
                assert secret.encode() not in data, rel


# ------------------------------------------------------------- documentation files


def test_readme_placeholder_passes(tmp_path: Path, wheelhouse: Path) -> None:
    readme = '# ops\n\n```json\n{"SLACK_USER_TOKEN": "xoxp-your-token-here"}\n```\n'
    repo = make_repo(tmp_path / "repo", wheelhouse, {"ops/README.md": readme})
    assert _check(repo) == ()


def test_readme_slack_token_warns_github_token_fails(tmp_path: Path, wheelhouse: Path) -> None:
    slack, github = F.slack_user(), F.github()
    readme = f'# ops\n\n"SLACK_USER_TOKEN": "{slack}"\n'
    repo = make_repo(tmp_path / "repo", wheelhouse, {"ops/README.md": readme})
    done = run_cli(repo, "build")
    assert done.returncode == 0
    assert "warning: ops/README.md:3: looks like a Slack token (xoxp-…(" in done.stderr
    shipped = tree(repo / "dist")
    assert slack.encode() in shipped["ops/README.md"][1]  # a warning: the file ships as written
    assert_nowhere([slack], done.stdout, done.stderr)
    for rel in ("mcpbundle-manifest.json", "DEPLOY.md"):
        assert slack.encode() not in shipped[rel][1]
    # the no-op replay prints the same warning
    again = run_cli(repo, "build")
    assert "warning: ops/README.md:3: looks like a Slack token" in again.stderr

    _commit(repo, {"ops/README.md": readme + f"\nexport GITHUB_TOKEN={github}\n"})
    before = tree(repo / "dist")
    failed = run_cli(repo, "build", check=False)
    assert failed.returncode == 1
    assert "error: ops/README.md:5: looks like a GitHub token (ghp_…(40 chars))" in failed.stderr
    assert tree(repo / "dist") == before
    assert_nowhere([slack, github], failed.stdout, failed.stderr)
    assert_nowhere([github], output=repo / "dist")


# ------------------------------------------------------------- new shapes, CLI


def test_new_shapes_fail_the_build_masked(tmp_path: Path, wheelhouse: Path) -> None:
    aws_id, aws_secret, hook, jwt, pw, tok = (
        F.aws_key_id(), F.aws_secret(), F.slack_webhook(), F.jwt(), F.password(), F.chars(20),
    )  # fmt: skip
    planted = {
        "ops/src/aws.py": f'AWS_SECRET_ACCESS_KEY = "{aws_secret}"\n',
        "ops/src/creds.py": f'PAIR = ("{aws_id}",\n        "{F.aws_secret()}")\n',
        "ops/src/notify.py": f'HOOK = "{hook}"\n',
        "ops/src/session.py": f'TOKEN = "{jwt}"\n',
        "ops/src/db.py": f'URL = "postgres://app:{pw}@db.internal/app"\n',
        "ops/src/settings.py": f'PASSWORD = "{pw}"\n',
        "ops/requirements-dev.txt": f"git+https://bot:{tok}@git.internal/o/p.git@v1#egg=p\n",
        "ops/extra/index.txt.in": f"--index-url https://user:{tok}@pypi.internal/simple\n",
    }
    repo = make_repo(tmp_path / "repo", wheelhouse, planted)
    done = run_cli(repo, "build", check=False)
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ops/extra/index.txt.in:1: looks like a URL with credentials")
    for where in ("ops/requirements-dev.txt:1", "ops/src/aws.py:1", "ops/src/creds.py:1",
                  "ops/src/creds.py:2", "ops/src/db.py:1", "ops/src/notify.py:1"):  # fmt: skip
        assert where in line
    assert "and " in line  # more than six: the rest are counted
    assert not (repo / "dist").exists()
    assert_nowhere([aws_id, aws_secret, hook, jwt, pw, tok], done.stdout, done.stderr)


@pytest.mark.parametrize(
    ("rel", "text", "where"),
    [
        ("ops/src/aws.py", 'AWS_SECRET_ACCESS_KEY = "{aws_secret}"\n', "ops/src/aws.py:1"),
        ("ops/src/notify.py", 'HOOK = "{hook}"\n', "ops/src/notify.py:1"),
        ("ops/src/session.py", 'TOKEN = "{jwt}"\n', "ops/src/session.py:1"),
        ("ops/src/db.py", 'URL = "postgres://app:{pw}@db.internal/app"\n', "ops/src/db.py:1"),
        ("ops/src/settings.py", 'PASSWORD = "{pw}"\n', "ops/src/settings.py:1"),
        ("ops/requirements-dev.txt", "git+https://bot:{tok}@h/o/p.git#egg=p\n", "requirements-dev"),
        ("ops/src/pip.conf", "[global]\nindex-url = https://u:{tok}@h/simple\n", "pip.conf:2"),
    ],
)
def test_each_new_shape_fails_the_plan(
    tmp_path: Path, wheelhouse: Path, rel: str, text: str, where: str
) -> None:
    values = {
        "aws_secret": F.aws_secret(), "hook": F.slack_webhook(), "jwt": F.jwt(),
        "pw": F.password(), "tok": F.chars(20),
    }  # fmt: skip
    repo = make_repo(tmp_path / "repo", wheelhouse, {rel: text.format(**values)})
    with pytest.raises(BuildError) as caught:
        _check(repo)
    assert where in str(caught.value)
    assert_nowhere(list(values.values()), str(caught.value))


# ------------------------------------------------------------- secret files by name

NEW_SECRET_FILES = [
    "ops/secrets.yaml", "ops/config/secrets.yml", "ops/secrets.json", "ops/.npmrc",
    "ops/.git-credentials", "ops/.pgpass", "ops/.kube/config", "ops/kubeconfig",
    "ops/deploy/prod.kubeconfig", "ops/.docker/config.json", "ops/.htpasswd",
    "ops/.aws/credentials", "libs/util/acme_util/secrets.yaml",
]  # fmt: skip


def test_new_secret_files_never_ship(tmp_path: Path, wheelhouse: Path) -> None:
    repo = make_repo(
        tmp_path / "repo", wheelhouse, {rel: "placeholder: 1\n" for rel in NEW_SECRET_FILES}
    )
    config = load_config(repo)
    plan = plan_build(config, BuildOptions(dry_run=True))
    skipped = {s for server in plan.servers for s in server.skipped_secrets}
    shipped = {c.source for server in plan.servers for c in server.files}
    for rel in NEW_SECRET_FILES:
        assert rel in skipped, rel
        assert rel not in shipped, rel
    assert "ops/src/server.py" in shipped
    assert "ops/.env.example" in shipped


# ------------------------------------------------------------------------ symlinks


def _with_links(tmp_path: Path, wheelhouse: Path) -> tuple[Path, str]:
    token = F.chars(32)
    repo = make_repo(tmp_path / "repo", wheelhouse, {".env.production": f"TOKEN={token}\n"})
    git(repo, "config", "mcpbundle.test", token)  # .git/config now holds the token
    os.symlink("../.env.production", repo / "ops/settings.env")
    os.symlink("../../.git/config", repo / "ops/src/gitconfig.txt")
    os.symlink("../.git", repo / "ops/repo-meta")
    os.symlink("../.git/HEAD", repo / "ops/HEAD.txt")
    commit_all(repo, "links")
    return repo, token


LINKS = ["ops/settings.env", "ops/src/gitconfig.txt", "ops/repo-meta", "ops/HEAD.txt"]


def test_symlinks_to_secrets_and_into_git_are_skipped(tmp_path: Path, wheelhouse: Path) -> None:
    repo, _ = _with_links(tmp_path, wheelhouse)
    plan = plan_build(load_config(repo), BuildOptions(dry_run=True))
    ops = next(s for s in plan.servers if s.name == "ops")
    assert set(LINKS) <= set(ops.skipped_secrets)
    assert not set(LINKS) & {c.source for c in ops.files}


def test_symlinked_secrets_never_reach_the_output(tmp_path: Path, wheelhouse: Path) -> None:
    repo, token = _with_links(tmp_path, wheelhouse)
    done = run_cli(repo, "build")
    for rel in LINKS:
        assert f"skipped secret file {rel}" in done.stdout
        assert not os.path.lexists(repo / "dist" / rel)
    assert_nowhere([token], done.stdout, done.stderr, output=repo / "dist")


# ------------------------------------------------------------- mcpbundle's own config


def _root_server(tmp_path: Path, wheelhouse: Path, name: str) -> Path:
    repo = init_repo(tmp_path / "repo")
    (repo / name).write_text(
        f"[bundle]\nno-index = true\nfind-links = [{json.dumps(str(wheelhouse))}]\n"
        '[servers.root]\npath = "."\nentrypoint = "server.py"\n'
        '[servers.root.env]\nAPI_TOKEN = "set in the deployment"\n'
    )
    (repo / "server.py").write_text("from fastmcp import FastMCP\n\nmcp = FastMCP('root')\n")
    (repo / "requirements.txt").write_text("fastmcp\n")
    (repo / ".gitignore").write_text("dist/\n")
    commit_all(repo, "root server")
    return repo


@pytest.mark.parametrize("name", ["mcpbundle.toml", "deploy.toml"])
def test_a_root_server_never_ships_the_config(tmp_path: Path, wheelhouse: Path, name: str) -> None:
    repo = _root_server(tmp_path, wheelhouse, name)
    explicit = None if name == "mcpbundle.toml" else Path(name)
    plan = plan_build(load_config(repo, explicit), BuildOptions(dry_run=True))
    shipped = {c.source for c in plan.servers[0].files}
    assert "server.py" in shipped
    assert name not in shipped


def test_root_server_build_output_has_no_config(tmp_path: Path, wheelhouse: Path) -> None:
    repo = _root_server(tmp_path, wheelhouse, "mcpbundle.toml")
    run_cli(repo, "build")
    assert (repo / "dist/server.py").is_file()
    assert not (repo / "dist/mcpbundle.toml").exists()


# ------------------------------------------------------------ baseline and pragmas


def _detect_secrets_baseline(repo: Path) -> None:
    """``detect-secrets scan`` itself writes the baseline, as a user would."""
    tool = Path(sys.executable).with_name("detect-secrets")
    done = subprocess.run(
        [str(tool), "scan"], cwd=repo, capture_output=True, text=True, check=True, timeout=120
    )
    (repo / ".secrets.baseline").write_text(done.stdout)


def test_secrets_baseline_entries_are_not_findings(tmp_path: Path, wheelhouse: Path) -> None:
    known = F.github()
    repo = make_repo(tmp_path / "repo", wheelhouse, {"ops/src/gh.py": f'TOKEN = "{known}"\n'})
    with pytest.raises(BuildError, match=r"ops/src/gh\.py:1"):
        _check(repo)
    _detect_secrets_baseline(repo)
    baseline = json.loads((repo / ".secrets.baseline").read_text())
    assert "ops/src/gh.py" in baseline["results"]
    commit_all(repo, "baseline")
    assert _check(repo) == ()
    # a new secret is still a finding; the audited one still is not
    _commit(repo, {"ops/src/gh2.py": f'OTHER = "{F.github()}"\n'})
    with pytest.raises(BuildError) as caught:
        _check(repo)
    assert str(caught.value).startswith("ops/src/gh2.py:1: looks like a GitHub token")
    assert "gh.py:1" not in str(caught.value).replace("gh2.py", "")


def test_baseline_in_the_git_root_above_the_config(tmp_path: Path, wheelhouse: Path) -> None:
    known = F.github()
    top = init_repo(tmp_path / "top")
    write_files(top / "tools", {**base_files(wheelhouse), "ops/src/gh.py": f'TOKEN = "{known}"\n'})
    commit_all(top, "all")
    repo = top / "tools"
    with pytest.raises(BuildError):
        _check(repo)
    _detect_secrets_baseline(top)
    assert "tools/ops/src/gh.py" in json.loads((top / ".secrets.baseline").read_text())["results"]
    assert _check(repo) == ()


def test_pragma_allowlist_secret_in_a_shipped_file(tmp_path: Path, wheelhouse: Path) -> None:
    token = F.github()
    text = f'TOKEN = "{token}"  # pragma: allowlist secret\n'
    repo = make_repo(tmp_path / "repo", wheelhouse, {"ops/src/gh.py": text})
    assert _check(repo) == ()
    done = run_cli(repo, "build", "--dry-run")
    assert done.returncode == 0


# ----------------------------------------------------------------------- check


def test_check_reports_doc_warnings_and_credentialed_urls(tmp_path: Path, wheelhouse: Path) -> None:
    slack, tok = F.slack_user(), F.chars(20)
    files = {
        "ops/README.md": f'# ops\n\n"SLACK_USER_TOKEN": "{slack}"\n',
        "ops/requirements-dev.txt": f"git+https://bot:{tok}@git.internal/o/p.git#egg=p\n",
    }
    repo = make_repo(tmp_path / "repo", wheelhouse, files)
    done = run_cli(repo, "check", "--format", "json", check=False)
    assert done.returncode == 1, done.stderr
    found = {
        (f["file"], f["line"], f["severity"])
        for f in json.loads(done.stdout)["findings"]
        if f["code"] == "MCB011"
    }
    assert found == {
        ("ops/README.md", 3, "warning"),
        ("ops/requirements-dev.txt", 1, "error"),
    }
    assert_nowhere([slack, tok], done.stdout, done.stderr)


def test_index_url_in_the_servers_requirements_is_an_input(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """The server's requirements.txt is replaced by the pins and the files it includes lose
    their index options: a credentialed index is a resolver input that never ships, so it is
    no finding; the same URL in a file that ships as is (requirements-dev.txt) is one."""
    tok, other = F.chars(20), F.chars(20)
    reqs = "-r base.txt\nalpha>=1.0\nfastmcp\n"
    base = f"--extra-index-url https://deploy:{tok}@pypi.internal/simple\n"
    dev = f"--index-url https://deploy:{other}@pypi.internal/simple\n"
    files = {"web/requirements.txt": reqs, "web/base.txt": base, "web/requirements-dev.txt": dev}
    repo = make_repo(tmp_path / "repo", wheelhouse, files)
    with pytest.raises(BuildError) as caught:
        _check(repo)
    assert str(caught.value).startswith("web/requirements-dev.txt:1: looks like a URL with cred")
    assert "web/base.txt" not in str(caught.value)
    done = run_cli(repo, "check", "web", "--format", "json", check=False)
    found = [
        (f["file"], f["line"], f["severity"])
        for f in json.loads(done.stdout)["findings"]
        if f["code"] == "MCB011"
    ]
    assert found == [("web/requirements-dev.txt", 1, "error")]
    (repo / "web/requirements-dev.txt").unlink()
    commit_all(repo, "no dev requirements")
    built = run_cli(repo, "build")
    assert_nowhere([tok, other], str(caught.value), done.stdout, done.stderr, built.stdout,
                   built.stderr, output=repo / "dist")  # fmt: skip


def test_pyproject_index_credentials_do_not_ship_other_secrets_do(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """The build rewrites the server's pyproject.toml without its index settings: a token in
    them is no finding; one elsewhere in the file ships and fails, at its source line."""
    tok, github = F.chars(20), F.github()
    pyproject = (
        '[project]\nname = "web"\nversion = "1.0"\ndependencies = ["py-kappa", "fastmcp"]\n\n'
        f'[[tool.uv.index]]\nname = "corp"\nurl = "https://deploy:{tok}@pypi.internal/simple"\n'
    )
    repo = make_repo(tmp_path / "repo", wheelhouse, {"web/pyproject.toml": pyproject})
    (repo / "web/requirements.txt").unlink()
    commit_all(repo, "pyproject only")
    assert _check(repo) == ()
    _commit(repo, {"web/pyproject.toml": pyproject + f'\n[tool.web]\ntoken = "{github}"\n'})
    with pytest.raises(BuildError) as caught:
        _check(repo)
    assert str(caught.value).startswith("web/pyproject.toml:11: looks like a GitHub token")
    assert "web/pyproject.toml:8" not in str(caught.value)
