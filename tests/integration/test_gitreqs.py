"""Git requirements against real bare repositories reached through file:// URLs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from mcpbundle.base.cache_dir import cache_root
from mcpbundle.base.errors import BuildError, ConfigError, GitError
from mcpbundle.git import repo_cache as gitcache
from mcpbundle.git.source import GitOutput
from mcpbundle.plan.git_requirements import (
    GitSpec,
    assert_pure_python,
    checkout,
    parse_git_url,
    pin_line,
    policy_for,
    repo_key,
    vendor_info,
)
from mcpbundle.plan.requirements import parse_requirement_text
from support.gitrepo import commit_all, git, init_repo
from support.gitsnap import write_files

ORIGIN = "servers/ops/requirements.txt:3"
WHERE = ORIGIN

PURE = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "Tiny_Lib"\nversion = "1.2.0"\ndependencies = ["httpx>=0.27"]\n'
    ),
    "src/tiny_lib/__init__.py": "VALUE = 1\n",
}


class Remote:
    """A working repo plus the bare repo it pushes to (the ``file://`` remote)."""

    def __init__(self, root: Path, files: dict[str, str]):
        self.work = init_repo(root / "work")
        self.bare = root / "remote.git"
        write_files(self.work, files)
        self.first = commit_all(self.work, "first")
        git(root, "clone", "-q", "--bare", str(self.work), str(self.bare))
        git(self.work, "remote", "add", "origin", str(self.bare))

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def commit(self, files: dict[str, str], message: str = "next") -> str:
        write_files(self.work, files)
        sha = commit_all(self.work, message)
        git(self.work, "push", "-q", "origin", "HEAD:main")
        return sha

    def push(self, *refs: str) -> None:
        git(self.work, "push", "-q", "origin", *refs)


def spec(text: str) -> GitSpec:
    return parse_git_url(parse_requirement_text(text, origin=ORIGIN, base=Path("/")))


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path / "origin", PURE)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


# -- parsing ---------------------------------------------------------------------------


def test_parse_bare_url_with_egg_ref_and_subdirectory() -> None:
    got = spec("git+https://github.com/org/pkg.git@v1.2#egg=My_Pkg&subdirectory=libs/core")
    assert got.url == "https://github.com/org/pkg.git"
    assert (got.ref, got.subdirectory, got.name) == ("v1.2", "libs/core", "my-pkg")
    assert got.origin == ORIGIN


def test_parse_pep508_form_keeps_extras_and_marker() -> None:
    got = spec('pkg[b,a] @ git+ssh://git@github.com/org/pkg@main ; python_version >= "3.11"')
    assert got.url == "ssh://git@github.com/org/pkg"
    assert (got.ref, got.name, got.extras) == ("main", "pkg", ("a", "b"))
    assert got.marker == 'python_version >= "3.11"'


def test_parse_without_ref() -> None:
    got = spec("git+https://gitlab.example.com/group/sub/pkg#egg=pkg")
    assert (got.url, got.ref, got.subdirectory) == (
        "https://gitlab.example.com/group/sub/pkg", None, None
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("git+https:///org/pkg@v1", "no host"),
        ("git+ftp://example.com/org/pkg@v1", "unsupported scheme"),
        ("git+https://github.com/org/pkg@#egg=pkg", "nothing after '@'"),
        ("git+https://github.com/org/pkg@v1#subdirectory=../x", "relative path"),
        ("git+https://github.com/#egg=pkg", "no repository path"),
    ],
)
def test_malformed_urls_name_the_origin(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match="malformed git URL") as info:
        spec(text)
    assert why in str(info.value)
    assert str(info.value).startswith(f"{ORIGIN}: ")
    assert info.value.exit_code == 2
    assert "\n" not in str(info.value)


# -- policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "requirement",
    [
        "git+https://github.com/org/pkg@v1#egg=pkg",
        "git+https://github.com/org/pkg.git@v1",
        "pkg @ git+https://GitHub.com/org/pkg.git/",
        "git+ssh://git@github.com/org/pkg.git@main#subdirectory=x",
    ],
)
def test_override_matches_the_repository(requirement: str) -> None:
    overrides = {"https://github.com/org/pkg": "pin"}
    assert policy_for(spec(requirement), "vendor", overrides) == "pin"
    dotted = {"git+https://github.com/org/pkg.git@whatever": "pin"}
    assert policy_for(spec(requirement), "vendor", dotted) == "pin"


def test_no_matching_override_uses_the_default() -> None:
    overrides = {"https://github.com/org/pkg-extra": "pin", "https://github.com/other/pkg": "pin"}
    assert policy_for(spec("git+https://github.com/org/pkg@v1"), "vendor", overrides) == "vendor"
    assert policy_for(spec("git+https://github.com/org/pkg@v1"), "pin", {}) == "pin"
    assert repo_key("git+https://github.com/org/pkg.git@v1#egg=x") == "github.com/org/pkg"


# -- checkout --------------------------------------------------------------------------


def test_checkout_default_branch_reads_metadata(remote: Remote, cache: Path) -> None:
    co = checkout(spec(f"git+{remote.url}"), cache_dir=cache, where=WHERE)
    assert co.commit == remote.first
    assert (co.name, co.version) == ("tiny-lib", "1.2.0")
    assert (co.directory / "src/tiny_lib/__init__.py").read_text() == "VALUE = 1\n"
    key = gitcache.repo_cache(cache, remote.url)
    assert co.directory == key / remote.first
    assert key.parent == cache / "git"
    assert len(key.name) == 16


def test_checkout_branch_tag_and_sha_refs(remote: Remote, cache: Path) -> None:
    git(remote.work, "tag", "-a", "v1", "-m", "v1")
    git(remote.work, "tag", "light")
    remote.push("--tags")
    git(remote.work, "checkout", "-q", "-b", "feature")
    feature = remote.commit({"src/tiny_lib/__init__.py": "VALUE = 2\n"})
    remote.push("feature")
    cases = {
        "feature": feature, "v1": remote.first, "light": remote.first,
        remote.first: remote.first, feature[:10]: feature, "refs/heads/feature": feature,
    }  # fmt: skip
    for ref, expected in cases.items():
        co = checkout(spec(f"git+{remote.url}@{ref}#egg=tiny-lib"), cache_dir=cache, where=WHERE)
        assert co.commit == expected, ref
    value = (co.directory / "src/tiny_lib/__init__.py").read_text()
    assert value == "VALUE = 2\n"


def test_branch_moves_to_its_new_tip(remote: Remote, cache: Path) -> None:
    first = checkout(spec(f"git+{remote.url}@main"), cache_dir=cache, where=WHERE)
    second_sha = remote.commit({"src/tiny_lib/extra.py": "X = 1\n"})
    second = checkout(spec(f"git+{remote.url}@main"), cache_dir=cache, where=WHERE)
    assert (first.commit, second.commit) == (remote.first, second_sha)
    assert (second.directory / "src/tiny_lib/extra.py").is_file()
    assert not (first.directory / "src/tiny_lib/extra.py").exists()


def test_subdirectory(tmp_path: Path, cache: Path) -> None:
    files = {f"libs/tiny/{k}": v for k, v in PURE.items()}
    remote = Remote(tmp_path / "mono", {**files, "README.md": "mono\n"})
    co = checkout(
        spec(f"tiny-lib @ git+{remote.url}@main#subdirectory=libs/tiny"),
        cache_dir=cache,
        where=WHERE,
    )
    assert co.directory.name == "tiny"
    assert (co.directory / "pyproject.toml").is_file()
    info = vendor_info(co, WHERE)
    assert info.source_root == co.directory / "src"
    assert info.packages == ("tiny_lib",)
    assert [d.requirement for d in info.dependencies] == ["httpx>=0.27"]


def test_full_sha_is_served_from_cache_without_the_origin(remote: Remote, cache: Path) -> None:
    first = checkout(spec(f"git+{remote.url}@{remote.first}"), cache_dir=cache, where=WHERE)
    shutil.rmtree(remote.bare)
    again = checkout(spec(f"git+{remote.url}@{remote.first}"), cache_dir=cache, where=WHERE)
    assert again == first


def test_second_build_does_not_clone_or_extract_again(
    remote: Remote, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = gitcache.git_call

    def counting(repo: Path, *args: str, **kwargs: Any) -> GitOutput:
        calls.append(next(a for a in args if not a.startswith("-")))
        return real(repo, *args, **kwargs)

    monkeypatch.setattr(gitcache, "git_call", counting)
    co = checkout(spec(f"git+{remote.url}@main"), cache_dir=cache, where=WHERE)
    assert calls.count("clone") == 1
    assert calls.count("checkout-index") == 1
    calls.clear()
    again = checkout(spec(f"git+{remote.url}@main"), cache_dir=cache, where=WHERE)
    assert again == co
    assert calls == ["ls-remote"]  # the branch is resolved; nothing is cloned or fetched
    remote.commit({"NEWS": "x\n"})
    calls.clear()
    checkout(spec(f"git+{remote.url}@main"), cache_dir=cache, where=WHERE)
    assert "clone" not in calls
    assert "fetch" in calls


def test_a_failed_extraction_leaves_no_entry(
    remote: Remote, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = gitcache.git_call

    def failing(repo: Path, *args: str, **kwargs: Any) -> GitOutput:
        if "checkout-index" in args:
            return GitOutput(1, b"", "fatal: killed\n")
        return real(repo, *args, **kwargs)

    monkeypatch.setattr(gitcache, "git_call", failing)
    with pytest.raises(GitError, match="cannot check out"):
        checkout(spec(f"git+{remote.url}"), cache_dir=cache, where=WHERE)
    key = gitcache.repo_cache(cache, remote.url)
    assert sorted(p.name for p in key.iterdir()) == ["mirror.git"]
    monkeypatch.setattr(gitcache, "git_call", real)
    assert checkout(spec(f"git+{remote.url}"), cache_dir=cache, where=WHERE).version == "1.2.0"


# -- errors ----------------------------------------------------------------------------


def test_unreachable_repository(tmp_path: Path, cache: Path) -> None:
    url = (tmp_path / "missing.git").as_uri()
    with pytest.raises(GitError) as info:
        checkout(spec(f"git+{url}@v1#egg=x"), cache_dir=cache, where=WHERE)
    text = str(info.value)
    assert text.startswith(f"{WHERE}: cannot reach {url}: ")
    assert "does not appear to be a git repository" in text
    assert "\n" not in text
    assert info.value.exit_code == 1


def test_missing_ref(remote: Remote, cache: Path) -> None:
    with pytest.raises(GitError) as info:
        checkout(spec(f"git+{remote.url}@v9"), cache_dir=cache, where=WHERE)
    assert str(info.value) == (
        f"{WHERE}: ref 'v9' not found in {remote.url}; check the tag/branch name "
        "(or the commit sha)"
    )


def test_missing_commit(remote: Remote, cache: Path) -> None:
    for ref in ("0" * 40, "deadbeef1"):
        with pytest.raises(GitError, match=f"ref '{ref}' not found"):
            checkout(spec(f"git+{remote.url}@{ref}"), cache_dir=cache, where=WHERE)


def test_missing_subdirectory(remote: Remote, cache: Path) -> None:
    with pytest.raises(BuildError, match="subdirectory 'libs/nope' not found") as info:
        checkout(spec(f"git+{remote.url}#subdirectory=libs/nope"), cache_dir=cache, where=WHERE)
    assert str(info.value).startswith(f"{WHERE}: ")


def test_name_needed_when_metadata_has_none(tmp_path: Path, cache: Path) -> None:
    remote = Remote(tmp_path / "bare", {"thing.py": "X = 1\n"})
    with pytest.raises(BuildError, match="cannot tell the package name"):
        checkout(spec(f"git+{remote.url}"), cache_dir=cache, where=WHERE)
    co = checkout(spec(f"git+{remote.url}#egg=thing"), cache_dir=cache, where=WHERE)
    assert (co.name, co.version) == ("thing", None)
    assert vendor_info(co, WHERE).packages == ("thing",)


# -- pin -------------------------------------------------------------------------------


def test_pin_line(remote: Remote, cache: Path) -> None:
    text = f'tiny-lib[cli] @ git+{remote.url}@main ; sys_platform == "linux"'
    co = checkout(spec(text), cache_dir=cache, where=WHERE)
    assert pin_line(co, WHERE) == 'tiny-lib[cli]==1.2.0; sys_platform == "linux"'
    plain = checkout(spec(f"git+{remote.url}"), cache_dir=cache, where=WHERE)
    assert pin_line(plain, WHERE) == "tiny-lib==1.2.0"


def test_pin_needs_a_static_version(tmp_path: Path, cache: Path) -> None:
    dynamic = {
        "pyproject.toml": '[project]\nname = "dyn"\ndynamic = ["version"]\n',
        "dyn/__init__.py": "__version__ = '3'\n",
    }
    remote = Remote(tmp_path / "dyn", dynamic)
    co = checkout(spec(f"git+{remote.url}"), cache_dir=cache, where=WHERE)
    with pytest.raises(BuildError, match="no static version to pin") as info:
        pin_line(co, WHERE)
    assert '= "vendor" in [bundle.git-overrides]' in str(info.value)


def test_setup_cfg_metadata(tmp_path: Path, cache: Path) -> None:
    files = {
        "setup.cfg": "[metadata]\nname = cfg_pkg\nversion = 0.4\n"
        "[options]\ninstall_requires =\n    rich>=13\n    # comment\n",
        "cfg_pkg.py": "",
    }
    remote = Remote(tmp_path / "cfg", files)
    co = checkout(spec(f"git+{remote.url}"), cache_dir=cache, where=WHERE)
    assert pin_line(co, WHERE) == "cfg-pkg==0.4"
    assert [d.requirement for d in vendor_info(co, WHERE).dependencies] == ["rich>=13"]


# -- pure python -----------------------------------------------------------------------


def test_pure_python_passes(remote: Remote, cache: Path) -> None:
    assert_pure_python(checkout(spec(f"git+{remote.url}"), cache_dir=cache, where=WHERE), WHERE)


@pytest.mark.parametrize(
    ("files", "why"),
    [
        (
            {
                "setup.py": "from setuptools import Extension, setup\n"
                "setup(name='fast', version='1', ext_modules=[Extension('fast', ['fast.c'])])\n",
                "fast.c": "int x;\n",
            },
            "setup.py uses ext_modules",
        ),
        (
            {
                "pyproject.toml": '[build-system]\nrequires = ["maturin>=1"]\n'
                'build-backend = "maturin"\n[project]\nname = "fast"\nversion = "1"\n',
            },
            "build backend 'maturin'",
        ),
        (
            {
                "pyproject.toml": '[build-system]\nrequires = ["setuptools", "Cython"]\n'
                '[project]\nname = "fast"\nversion = "1"\n',
            },
            "build requirement 'cython'",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "fast"\nversion = "1"\n',
                "fast/__init__.py": "",
                "fast/_speed.pyx": "",
            },
            "fast/_speed.pyx",
        ),
    ],
)
def test_compiled_code_cannot_be_vendored(
    tmp_path: Path, cache: Path, files: dict[str, str], why: str
) -> None:
    remote = Remote(tmp_path / "fast", files)
    co = checkout(spec(f"git+{remote.url}#egg=fast"), cache_dir=cache, where=WHERE)
    with pytest.raises(BuildError) as info:
        assert_pure_python(co, WHERE)
    text = str(info.value)
    assert text.startswith(f"{WHERE}: fast ")
    assert f"needs compiling ({why})" in text
    assert '= "pin" in [bundle.git-overrides]' in text


def test_setup_py_dependencies_cannot_be_read(tmp_path: Path, cache: Path) -> None:
    files = {"setup.py": "from setuptools import setup\nsetup(name='old', version='1')\n",
             "old.py": ""}  # fmt: skip
    remote = Remote(tmp_path / "old", files)
    co = checkout(spec(f"git+{remote.url}#egg=old"), cache_dir=cache, where=WHERE)
    assert_pure_python(co, WHERE)
    with pytest.raises(BuildError, match="declares its dependencies in code"):
        vendor_info(co, WHERE)


# -- cache root ------------------------------------------------------------------------


def test_cache_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "explicit"
    monkeypatch.delenv("MCPBUNDLE_CACHE_DIR")
    assert cache_root() == tmp_path / "xdg" / "mcpbundle"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "mcpbundle"


def test_symlink_out_of_the_repository_is_refused(tmp_path: Path, cache: Path) -> None:
    remote = Remote(tmp_path / "links", {"libs/pkg/pkg/__init__.py": "", "libs/ok.txt": ""})
    (remote.work / "libs/pkg/pkg/up.txt").symlink_to("../../ok.txt")
    commit_all(remote.work, "inside link")
    remote.push("HEAD:main")
    text = f"pkg @ git+{remote.url}@main#subdirectory=libs/pkg"
    co = checkout(spec(text), cache_dir=cache, where=WHERE)
    assert vendor_info(co, WHERE).packages == ("pkg",)
    (remote.work / "libs/pkg/pkg/secret").symlink_to("/etc/passwd")
    commit_all(remote.work, "escaping link")
    remote.push("HEAD:main")
    co = checkout(spec(text), cache_dir=cache, where=WHERE)
    with pytest.raises(BuildError, match="symlink pkg/secret points outside the repository"):
        vendor_info(co, WHERE)
