"""Secret *content* never ships: the corpus in tests/corpus/secrets, planted in tracked files.

Corpus values are fake and split by ``<<>>`` on disk; the marker is removed here.
The scanner is tested in-process (planning only, no resolver); the CLI tests need
the scan wired into ``build`` and are expected to fail until it is.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_build_cli import make_repo, run_cli, tree

from mcpbundle.base.errors import BuildError
from mcpbundle.build import BuildOptions, plan_build
from mcpbundle.config.validate import load_config
from mcpbundle.emit.plan_scan import check_plan
from mcpbundle.emit.secret_scan import allowed, mask, scan_bytes
from support.gitrepo import git

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "secrets"
SPLIT = "<<>>"


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    plant: str
    raw: str  # as stored (split)

    @property
    def content(self) -> str:
        return self.raw.replace(SPLIT, "")

    @property
    def line(self) -> int:
        """The first line that carries the (split) secret."""
        return next(i for i, text in enumerate(self.raw.splitlines(), 1) if SPLIT in text)


def load_corpus() -> list[Case]:
    cases = []
    for path in sorted(CORPUS.glob("*.txt")):
        kind_line, plant_line, raw = path.read_text(encoding="utf-8").split("\n", 2)
        cases.append(
            Case(
                name=path.stem,
                kind=kind_line.removeprefix("# kind: "),
                plant=plant_line.removeprefix("# plant: "),
                raw=raw,
            )
        )
    return cases


CASES = load_corpus()


def test_corpus_is_big_and_inert_on_disk() -> None:
    assert len(CASES) >= 15
    assert len({c.kind for c in CASES}) >= 9
    for case in CASES:
        assert SPLIT in case.raw, case.name
        assert scan_bytes(case.raw.encode(), case.plant) == [], f"{case.name} is live on disk"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_scanner_finds_each_shape(case: Case) -> None:
    hits = scan_bytes(case.content.encode(), case.plant)
    assert hits, case.name
    assert hits[0].kind == case.kind
    assert hits[0].line == case.line
    assert hits[0].display == case.plant
    secret_part = case.content.splitlines()[case.line - 1]
    if case.kind != "private key":  # the BEGIN line itself is no secret
        assert hits[0].masked not in ("", secret_part)
    assert "FakeToken" not in hits[0].masked and "Fake0123" not in hits[0].masked
    assert "Fake" not in repr(hits[0])  # the line text is kept out of repr


@pytest.mark.parametrize(
    "text",
    [
        "OPENAI_API_KEY=sk-your-api-key-here\n",
        "API_KEY=your-api-key-here\n",
        "TOKEN=<paste-your-token>\n",
        "PASSWORD=changeme\n",
        "EMPTY=\n",
        "SHORT=abc123\n",
        "REGION=eu-west-1\n",
        "MODEL=claude-3-5-sonnet-20241022\n",
        "URL=https://api.example.com/v1\n",
        "DB=postgres://user:pass@localhost/db\n",
        "SLA=99.9\n",
        "SECRET=${FROM_THE_ENVIRONMENT_AT_RUNTIME}\n",
        "# a comment with AKIA in it\n",
        "KEY=xxxxxxxxxxxxxxxxxxxxxxxx\n",
    ],
)
def test_placeholders_in_env_example_are_fine(text: str) -> None:
    assert scan_bytes(text.encode(), "svc/.env.example") == []


def test_high_entropy_values_only_matter_in_env_example() -> None:
    line = b"SERVICE_TOKEN=q8Zr2LmX7vTn4KpB9sWd3HfY\n"
    assert scan_bytes(line, "svc/.env.example")
    assert scan_bytes(line, "svc/settings.txt") == []


def test_mask_hides_the_value() -> None:
    value = "AKIA" + "FAKE0TEST0KEY012"
    assert mask(value) == "AKIA…(20 chars)"


def test_allowed_by_marker_or_glob() -> None:
    assert allowed("ops/x.py", 'K = "..."  # mcpbundle: allow-secret', [])
    assert not allowed("ops/x.py", 'K = "..."', [])
    assert allowed("ops/fixtures/key.txt", "", ["ops/fixtures/"])
    assert allowed("ops/docs/a.md", "", ["*.md"])
    assert not allowed("ops/src/a.py", "", ["ops/fixtures/", "*.md"])


# ------------------------------------------------------------- planning, in-process


def _plan_repo(tmp_path: Path, wheelhouse: Path, files: dict[str, str]) -> Path:
    return make_repo(tmp_path / "repo", wheelhouse, files)


def _check(repo: Path) -> None:
    config = load_config(repo)
    check_plan(config, plan_build(config, BuildOptions(dry_run=True)))


def test_clean_repo_passes_the_scan(tmp_path: Path, wheelhouse: Path) -> None:
    _check(_plan_repo(tmp_path, wheelhouse, {}))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_planted_secret_fails_the_plan(tmp_path: Path, wheelhouse: Path, case: Case) -> None:
    repo = _plan_repo(tmp_path, wheelhouse, {case.plant: case.content})
    with pytest.raises(BuildError) as caught:
        _check(repo)
    message = str(caught.value)
    assert message.startswith(f"{case.plant}:{case.line}: looks like a")
    assert case.kind in message
    assert "mcpbundle: allow-secret" in message
    assert "[bundle] allow-secrets" in message


def test_allow_marker_and_allow_secrets_setting(tmp_path: Path, wheelhouse: Path) -> None:
    key = "AKIA" + "FAKE0TEST0KEY012"
    files = {
        "ops/src/settings.py": f'EXAMPLE = "{key}"  # mcpbundle: allow-secret\n',
        "ops/fixtures/sample.txt": f"{key}\n",
    }
    repo = make_repo(tmp_path / "repo", wheelhouse, files)
    with pytest.raises(BuildError, match=r"ops/fixtures/sample\.txt:1"):
        _check(repo)
    toml = (repo / "mcpbundle.toml").read_text()
    (repo / "mcpbundle.toml").write_text(
        toml.replace("[bundle]\n", '[bundle]\nallow-secrets = ["ops/fixtures/"]\n', 1)
    )
    _check(repo)


# ------------------------------------------------------------------------- the CLI


def test_cli_refuses_every_corpus_secret_and_keeps_previous_output(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = make_repo(tmp_path / "repo", wheelhouse)
    run_cli(repo, "build")
    before = tree(repo / "dist")
    for case in CASES:
        target = repo / case.plant
        existed = target.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(case.content, encoding="utf-8")
        git(repo, "add", case.plant)
        git(repo, "commit", "-q", "-m", f"plant {case.name}")  # tracked
        done = run_cli(repo, "build", check=False)
        assert done.returncode == 1, case.name
        assert f"{case.plant}:{case.line}: looks like a" in done.stderr, done.stderr
        assert tree(repo / "dist") == before, case.name
        for _, data in tree(repo / "dist").values():
            assert case.content.encode() not in data
        git(repo, "reset", "-q", "--hard", "HEAD~1")
        assert target.exists() == existed
    # nothing planted any more: the build goes through
    run_cli(repo, "build")


def test_cli_secret_in_untracked_file_also_fails(tmp_path: Path, wheelhouse: Path) -> None:
    repo = make_repo(tmp_path / "repo", wheelhouse)
    (repo / "web/notes.txt").write_text("token ghp_" + "FakeTokenForMcpbundleTests0123456789\n")
    assert (
        "web/notes.txt"
        in subprocess.run(
            ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout
    )
    done = run_cli(repo, "build", check=False)
    assert done.returncode == 1
    assert "web/notes.txt:1: looks like a GitHub token" in done.stderr
    assert not (repo / "dist").exists()
