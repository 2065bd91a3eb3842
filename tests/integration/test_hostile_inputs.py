"""Inputs the corpus cannot hold (FIFOs, devices, undecodable names, deep trees, limits).

Each case builds a real monorepo once (so there is a previous output), puts a
sentinel user file next to it, damages something, and runs the real CLI. It then
asserts the exit code, exactly one ``error:`` line holding the expected words, no
traceback, and (with a snapshot of the repository, the output and the sentinel)
that nothing was lost or changed. Positive cases (skipped FIFOs, a repaired
manifest) assert what was written instead.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import resource
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mcpbundle.base.temp_dirs import remove_tree
from support.gitrepo import commit_all, git, init_repo

SERVER = "from fastmcp import FastMCP\n\nmcp = FastMCP('srv')\n"


def make_repo(root: Path, wheelhouse: Path, *, use_git: bool, extra: str = "") -> Path:
    files = {
        "mcpbundle.toml": (
            f"[bundle]\nno-index = true\nfind-links = [{json.dumps(str(wheelhouse))}]\n{extra}"
            "[servers.srv]\npath = 'srv'\nentrypoint = 'server.py'\n"
        ),
        ".gitignore": "dist/\n",
        "srv/server.py": SERVER,
        "srv/requirements.txt": "alpha\nfastmcp\n",
        "srv/data.txt": "data\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    if use_git:
        init_repo(root)
        commit_all(root, "source")
    return root


def run_cli(
    cwd: Path, *args: str, preexec: Callable[[], None] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPBUNDLE_TEST_")}
    return subprocess.run(
        [sys.executable, "-m", "mcpbundle", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=env,
        preexec_fn=preexec,
    )  # fmt: skip


def snapshot(top: Path) -> dict[str, str]:
    """Every entry under ``top`` -> kind and content hash; iterative, never opens a FIFO."""
    state: dict[str, str] = {}
    pending = [top]
    while pending:
        here = pending.pop()
        try:
            entries = list(os.scandir(here))
        except OSError as exc:  # unreadable, or a path longer than PATH_MAX
            state[str(here.relative_to(top))] = f"unlisted:{exc.errno}"
            continue
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(top).as_posix()
            if rel.endswith(".git/index"):
                continue
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                state[rel] = "link:" + os.readlink(path)
            elif stat.S_ISDIR(mode):
                state[rel] = "dir"
                pending.append(path)
            elif stat.S_ISREG(mode) and entry.stat().st_size > 64 * 1024 * 1024:
                info = entry.stat(follow_symlinks=False)  # a huge (sparse) file: its identity
                state[rel] = f"big:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"
            elif stat.S_ISREG(mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                state[rel] = f"file:{oct(mode & 0o777)}:{digest}"
            else:
                state[rel] = f"special:{oct(mode)}"
    return state


def assert_one_line(done: subprocess.CompletedProcess[str], code: int, fragment: str) -> str:
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == code, output
    assert len(errors) == 1, output
    assert fragment in errors[0], output
    assert "internal error" not in errors[0], output
    return errors[0]


def _built(tmp_path: Path, wheelhouse: Path, *, use_git: bool) -> Path:
    repo = make_repo(tmp_path / "repo", wheelhouse, use_git=use_git)
    done = run_cli(repo, "build")
    assert done.returncode == 0, done.stderr
    (tmp_path / "sentinel.txt").write_text("a user's file next to the repository\n")
    return repo


@pytest.fixture
def built(tmp_path: Path, wheelhouse: Path) -> Path:
    """A built monorepo outside git, and a sentinel user file next to it."""
    return _built(tmp_path, wheelhouse, use_git=False)


@pytest.fixture
def built_git(tmp_path: Path, wheelhouse: Path) -> Path:
    """The same inside a git work tree."""
    return _built(tmp_path, wheelhouse, use_git=True)


def refused(
    tmp_path: Path,
    repo: Path,
    code: int,
    fragment: str,
    *args: str,
    preexec: Callable[[], None] | None = None,
) -> str:
    """Run ``build`` (or ``args``); assert one line and that nothing under tmp changed."""
    before = snapshot(tmp_path)
    done = run_cli(repo, *(args or ("build",)), preexec=preexec)
    line = assert_one_line(done, code, fragment)
    assert snapshot(tmp_path) == before, "the command wrote, changed or removed files"
    return line


# -- files that are not files --------------------------------------------------------


def _specials(srv: Path) -> dict[str, str]:
    os.mkfifo(srv / "pipe")
    made = {"srv/pipe": "FIFO"}
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(srv / "sock"))
    made["srv/sock"] = "socket"
    try:
        os.mknod(srv / "zero", stat.S_IFCHR | 0o666, os.makedev(1, 5))
        made["srv/zero"] = "character device"
    except PermissionError:
        pass  # not root: the FIFO and the socket still prove the rule
    return made


@pytest.mark.parametrize("use_git", [False, True], ids=["plain", "git"])
def test_fifos_devices_and_sockets_are_skipped_and_reported(
    tmp_path: Path, wheelhouse: Path, use_git: bool
) -> None:
    repo = make_repo(tmp_path / "repo", wheelhouse, use_git=use_git)
    made = _specials(repo / "srv")
    if use_git:  # git lists only tracked ones: a tracked file the working tree turned into a FIFO
        (repo / "srv/data.txt").unlink()
        os.mkfifo(repo / "srv/data.txt")
        made = {"srv/data.txt": "FIFO"}
    done = run_cli(repo, "build", timeout=60)  # a FIFO once hung the build forever
    assert done.returncode == 0, done.stderr
    for rel, kind in made.items():
        assert f"warning: skipped {rel}: a {kind}, not a regular file" in done.stderr
        assert not os.path.lexists(repo / "dist" / rel)
    assert (repo / "dist/srv/server.py").read_text() == SERVER


def test_a_fifo_for_a_requirements_file_is_an_error_not_no_requirements(
    tmp_path: Path, built: Path
) -> None:
    """Skipped, a requirements.txt turned FIFO would ship the server with no dependencies."""
    (built / "srv/requirements.txt").unlink()
    os.mkfifo(built / "srv/requirements.txt")
    refused(tmp_path, built, 1, "srv/requirements.txt: is a FIFO, not a regular file")


def test_undecodable_file_name_is_one_line(tmp_path: Path, built: Path) -> None:
    (built / os.fsdecode(b"srv/caf\xe9.py")).write_text("x = 1\n")
    refused(tmp_path, built, 1, "error: srv/caf\\xe9.py: file name is not valid UTF-8")


def test_undecodable_file_name_in_git_is_one_line(tmp_path: Path, built_git: Path) -> None:
    (built_git / os.fsdecode(b"srv/caf\xe9.py")).write_text("x = 1\n")
    commit_all(built_git, "a latin-1 name")
    refused(tmp_path, built_git, 1, "error: srv/caf\\xe9.py: file name is not valid UTF-8")


def _without_dac_override() -> None:
    """Root reads every directory; drop that power so a chmod 000 directory is unreadable."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.parametrize("use_git", [False, True], ids=["plain", "git"])
def test_unreadable_directory_is_one_line(tmp_path: Path, wheelhouse: Path, use_git: bool) -> None:
    repo = make_repo(tmp_path / "repo", wheelhouse, use_git=False)
    (repo / "srv/private").mkdir()
    (repo / "srv/private/notes.py").write_text("x = 1\n")
    if use_git:
        init_repo(repo)
        commit_all(repo, "source")
    (repo / "srv/private").chmod(0)
    try:
        refused(tmp_path, repo, 1, "srv/private", preexec=_without_dac_override)
    finally:
        (repo / "srv/private").chmod(0o755)


def test_two_thousand_nested_directories_are_one_line(tmp_path: Path, built: Path) -> None:
    deep = os.open(built / "srv", os.O_RDONLY)
    try:
        for _ in range(2000):
            os.mkdir("d", dir_fd=deep)
            inner = os.open("d", os.O_RDONLY, dir_fd=deep)
            os.close(deep)
            deep = inner
        os.close(os.open("f.py", os.O_WRONLY | os.O_CREAT, dir_fd=deep))
    finally:
        os.close(deep)
    try:
        line = refused(tmp_path, built, 1, "directories nested more than 100 levels deep")
        assert len(line) < 300, line
    finally:
        remove_tree(built / "srv/d")


def test_submodule_in_a_server_is_one_line(tmp_path: Path, built_git: Path) -> None:
    other = init_repo(tmp_path / "other")
    (other / "tool.py").write_text("x = 1\n")
    commit_all(other, "other")
    git(built_git, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(other),
        "srv/sub")  # fmt: skip
    commit_all(built_git, "add a submodule")
    refused(tmp_path, built_git, 1, "error: srv/sub: is a git submodule, which a bundle cannot")


def test_sparse_file_over_the_size_cap_fails_at_once(tmp_path: Path, built: Path) -> None:
    with (built / "srv/disk.img").open("wb") as handle:
        handle.truncate(8 * 1024**3)  # 8 GiB of holes: once minutes of hashing
    line = refused(tmp_path, built, 1, "srv/disk.img: 8.6 GB is more than [bundle] max-file-size")
    assert "(50 MB)" in line


def test_git_lfs_pointer_fails_the_build(tmp_path: Path, built: Path) -> None:
    (built / "srv/model.bin").write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 132000000\n"
    )
    refused(tmp_path, built, 1, "srv/model.bin: is a git-lfs pointer, not the file's content")


# -- limits of the machine -------------------------------------------------------------


def _file_size_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_file_size_limit_is_one_line_and_keeps_the_previous_output(
    tmp_path: Path, built: Path
) -> None:
    (built / "srv/blob.bin").write_bytes(os.urandom(256 * 1024))  # above ulimit -f, below 50 MB
    refused(tmp_path, built, 1, "file too large", preexec=_file_size_limit)


def test_full_file_system_is_one_line_and_keeps_the_previous_output(
    tmp_path: Path, built: Path
) -> None:
    """A real ENOSPC: a 1 MiB tmpfs mounted in a private mount namespace (no LD_PRELOAD)."""
    small = tmp_path / "small"
    small.mkdir()
    (built / "srv/blob.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    script = tmp_path / "driver.py"
    script.write_text(_FULL_DISK_DRIVER)
    namespace = ["unshare", "--mount", *([] if os.geteuid() == 0 else ["--map-root-user"])]
    done = subprocess.run(
        [*namespace, sys.executable, str(script), str(small), str(built)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode == 77:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    first, second = report["first"], report["second"]
    assert first["returncode"] == 0, first["stderr"]
    assert second["returncode"] == 1, second["stderr"]
    errors = [line for line in second["stderr"].splitlines() if line.startswith("error:")]
    assert len(errors) == 1, second["stderr"]
    assert "no space left on the device (the previous output is unchanged)" in errors[0]
    assert "Traceback" not in second["stderr"]
    assert report["before"] == report["after"], "the previous output changed"
    assert report["leftovers"] == []


_FULL_DISK_DRIVER = """
import hashlib, json, os, subprocess, sys
from pathlib import Path

small, repo = Path(sys.argv[1]), Path(sys.argv[2])
mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
                         capture_output=True, text=True)
if mounted.returncode != 0:
    sys.stderr.write(mounted.stderr)
    sys.exit(77)

def tree(top):
    return {p.relative_to(top).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(top.rglob("*")) if p.is_file()}

def build():
    done = subprocess.run([sys.executable, "-m", "mcpbundle", "build", "-o", str(small / "out")],
                          cwd=repo, capture_output=True, text=True)
    return {"returncode": done.returncode, "stderr": done.stderr}

blob = repo / "srv" / "blob.bin"
data = blob.read_bytes()
blob.unlink()
first = build()
before = tree(small / "out")
blob.write_bytes(data)
second = build()
after = tree(small / "out")
leftovers = sorted(p.name for p in small.iterdir() if p.name.startswith(".out.mcpbundle-"))
print(json.dumps({"first": first, "second": second, "before": before, "after": after,
                  "leftovers": leftovers}))
"""


# -- the output belongs to mcpbundle ----------------------------------------------------


def test_truncated_manifest_is_repaired(tmp_path: Path, built: Path) -> None:
    expected = snapshot(built / "dist")
    manifest = built / "dist/mcpbundle-manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:40])
    done = run_cli(built, "build")
    assert done.returncode == 0, done.stderr
    assert "mcpbundle-manifest.json: corrupt manifest" in done.stderr
    assert "rebuilding every server to repair it" in done.stderr
    assert snapshot(built / "dist") == expected


def test_a_user_file_in_the_output_is_kept_unless_forced(tmp_path: Path, built: Path) -> None:
    expected = snapshot(built / "dist")
    (built / "dist/notes.txt").write_text("mine\n")
    refused(tmp_path, built, 1, "dist/notes.txt: was not written by mcpbundle")
    done = run_cli(built, "build", "--force")
    assert done.returncode == 0, done.stderr
    assert snapshot(built / "dist") == expected


def test_an_output_outside_the_repository_is_ours_once_written(tmp_path: Path, built: Path) -> None:
    out = tmp_path / "elsewhere" / "bundle"
    assert run_cli(built, "build", "-o", str(out)).returncode == 0
    assert (out / ".mcpbundle-output").read_text().startswith("mcpbundle-output 1\n")
    again = run_cli(built, "build", "-o", str(out))
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    (out / "todo.md").write_text("mine\n")
    refused(tmp_path, built, 1, "todo.md: was not written by mcpbundle", "build", "-o", str(out))
    (out / ".mcpbundle-output").unlink()
    refused(
        tmp_path, built, 2, "outside the repository and was not written by mcpbundle",
        "build", "-o", str(out), "--force",
    )  # fmt: skip


def test_a_marker_alone_never_proves_a_directory_outside_the_repository_ours(
    tmp_path: Path, built: Path
) -> None:
    """Outside the repository mcpbundle replaces a directory only with its marker and a
    manifest it can read (issue 14): a marker that lists a user's file, with no manifest,
    is no proof."""
    out = tmp_path / "elsewhere" / "x"
    out.mkdir(parents=True)
    (out / ".mcpbundle-output").write_text("mcpbundle-output 1\n.mcpbundle-output\nvaluable.txt\n")
    (out / "valuable.txt").write_text("v\n")
    for force in ((), ("--force",)):
        refused(
            tmp_path, built, 2, "outside the repository and was not written by mcpbundle",
            "build", "-o", str(out), *force,
        )  # fmt: skip
    assert (out / "valuable.txt").read_text() == "v\n"


def test_the_marker_lists_every_file_and_is_swapped_in_with_the_output(built: Path) -> None:
    dist = built / "dist"
    listed = (dist / ".mcpbundle-output").read_text().splitlines()
    assert listed[0] == "mcpbundle-output 1"
    files = sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file())
    assert [line for line in listed[1:] if not line.startswith("#")] == files
