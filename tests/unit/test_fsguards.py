"""Guards around the file system: sparse copies, write errors, regular files, scratch dirs."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcpbundle.base import temp_dirs as tempdirs
from mcpbundle.base.errors import BuildError, ConfigError
from mcpbundle.base.regular_file import NotRegular, TooLarge, read_regular
from mcpbundle.config.paths import parse_size
from mcpbundle.config.schema import Reader
from mcpbundle.emit import directory as emit
from mcpbundle.plan.repo_files import read_capped


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def test_sparse_copy_keeps_the_holes(tmp_path: Path) -> None:
    source = tmp_path / "sparse.img"
    with source.open("wb") as handle:
        handle.write(b"head")
        handle.seek(256 * 1024 * 1024)
        handle.write(b"middle")
        handle.truncate(512 * 1024 * 1024)
    if source.stat().st_blocks * 512 >= source.stat().st_size:
        pytest.skip("this file system does not store holes")
    dest = tmp_path / "out" / "sparse.img"
    emit.copy_file(source, dest)
    assert dest.stat().st_size == source.stat().st_size
    assert dest.stat().st_blocks * 512 < 16 * 1024 * 1024, "the holes were filled in"
    assert _digest(dest) == _digest(source)


def test_ordinary_copy_keeps_bytes_and_the_executable_bit(tmp_path: Path) -> None:
    source = tmp_path / "run.sh"
    source.write_bytes(b"#!/bin/sh\necho hi\n" * 1000)
    source.chmod(0o750)
    dest = tmp_path / "out" / "run.sh"
    emit.copy_file(source, dest)
    assert dest.read_bytes() == source.read_bytes()
    assert dest.stat().st_mode & 0o777 == 0o755


def test_a_full_device_is_one_line_naming_the_output_path(tmp_path: Path) -> None:
    """A real ENOSPC from the kernel (/dev/full), mapped as a staged write failure."""
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(OSError) as raised:
            os.write(full, b"x" * 10)
    finally:
        os.close(full)
    assert raised.value.errno == errno.ENOSPC
    staged = tmp_path / ".dist.mcpbundle-tmp-123-0" / "ops" / "server.py"
    error = emit.io_error(raised.value, staged)
    assert str(error) == (
        f"{tmp_path}/dist/ops/server.py: no space left on the device (the previous output is "
        "unchanged); free some space and build again"
    )


def test_a_file_size_limit_is_one_line(tmp_path: Path) -> None:
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from mcpbundle.emit import directory as emit\n"
        "from mcpbundle.base.errors import BuildError\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "try:\n"
        "    emit.write_bytes(Path(sys.argv[1]) / 'big.bin', b'x' * 5000)\n"
        "except BuildError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert "big.bin: file too large: the file-size limit of this process was reached" in done.stdout


def test_read_regular_never_opens_a_fifo_or_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotRegular) as raised:
        read_regular(fifo, 100)  # would block forever with open()
    assert raised.value.kind == "FIFO"
    with pytest.raises(NotRegular):
        read_regular("/dev/zero", 100)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with pytest.raises(TooLarge):
        read_regular(big, 100)
    link = tmp_path / "link"
    link.symlink_to(big)
    with pytest.raises(OSError):
        read_regular(link, 1000, follow=False)
    assert read_regular(link, 1000) == b"x" * 101


def test_read_capped_names_the_file_and_the_key(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 2500)
    with pytest.raises(BuildError) as raised:
        read_capped(big, 1000, display="srv/big.bin")
    assert str(raised.value) == (
        "srv/big.bin: 2.5 KB is more than [bundle] max-file-size (1 KB); exclude the file, or "
        "raise max-file-size in mcpbundle.toml"
    )


@pytest.mark.parametrize(
    ("value", "size"),
    [(1000, 1000), ("50MB", 50 * 10**6), ("512 KiB", 512 * 1024), ("2GB", 2 * 10**9), ("7", 7)],
)
def test_parse_size(value: object, size: int) -> None:
    assert parse_size(Reader("mcpbundle.toml"), "bundle.max-file-size", value) == size


@pytest.mark.parametrize("value", ["lots", "-5MB", 0, True, 1.5, "5 parsecs"])
def test_parse_size_rejects(value: object) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_size(Reader("mcpbundle.toml"), "bundle.max-file-size", value)
    assert str(raised.value).startswith("mcpbundle.toml: bundle.max-file-size: ")


def test_remove_tree_removes_a_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)
    name = "top"
    for _ in range(3000):
        os.mkdir(name, dir_fd=fd)
        inner = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd, name = inner, "d"
    os.close(os.open("leaf", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    os.close(fd)
    (tmp_path / "top" / "link").symlink_to(tmp_path / "keep")
    (tmp_path / "keep").write_text("not followed\n")
    tempdirs.remove_tree(tmp_path / "top")
    assert not (tmp_path / "top").exists()
    assert (tmp_path / "keep").read_text() == "not followed\n"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_scratch_dirs_of_dead_processes_are_swept(tmp_path: Path) -> None:
    base = tmp_path / "tmp"
    base.mkdir()
    dead = base / f"mcpbundle-branch-{_dead_pid()}-0-abc123"
    dead.mkdir()
    (dead / "tree").mkdir()
    reused = base / f"mcpbundle-git-{os.getppid()}-1-abc123"  # a live pid, another start time
    reused.mkdir()
    unrelated = base / "mcpbundle-notes"
    unrelated.mkdir()
    with tempdirs.temp_dir("git") as mine:
        assert mine.parent == tempdirs.tmp_root()
        assert mine.name.startswith(f"mcpbundle-git-{os.getpid()}-")
        assert sorted(tempdirs.sweep(base)) == sorted([dead.name, reused.name])
        tempdirs.sweep()
        assert mine.is_dir(), "a live process's scratch dir was swept"
    assert not mine.exists()
    assert not dead.exists()
    assert unrelated.is_dir()


def test_listing_keeps_only_files_and_never_the_outputs_lock_or_staging(tmp_path: Path) -> None:
    from mcpbundle.plan.repo_files import SUBMODULE, TOO_DEEP, list_repo_files

    (tmp_path / "srv").mkdir()
    (tmp_path / "srv/server.py").write_text("mcp = None\n")
    (tmp_path / "srv/link.py").symlink_to("server.py")
    os.mkfifo(tmp_path / "srv/pipe")
    (tmp_path / ".dist.lock").write_text("")  # a root server must not ship the build's lock
    (tmp_path / ".dist.mcpbundle-tmp-1-0").mkdir()
    (tmp_path / ".dist.mcpbundle-tmp-1-0/x.py").write_text("")
    deep = tmp_path / "srv" / "/".join(["d"] * 120)
    deep.mkdir(parents=True)
    (deep / "f.py").write_text("")
    listed = list_repo_files(tmp_path, skip=[tmp_path / "dist"])
    assert listed.paths == ("srv/link.py", "srv/server.py")
    assert listed.special["srv/pipe"] == "FIFO"
    assert [kind for rel, kind in listed.special.items() if rel.startswith("srv/d/")] == [TOO_DEEP]
    assert SUBMODULE not in listed.special.values()


def test_listing_outside_git_never_reads_the_output_or_its_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output (thousands of files at 200 servers) is left out unread, not walked and
    then filtered; a deep tree in it is not even reported."""
    from mcpbundle.plan.repo_files import list_repo_files

    (tmp_path / "srv").mkdir()
    (tmp_path / "srv/server.py").write_text("mcp = None\n")
    for where in ("dist/servers/srv", ".dist.mcpbundle-stage-1/servers/srv"):
        (tmp_path / where).mkdir(parents=True)
        (tmp_path / where / "server.py").write_text("mcp = None\n")
    (tmp_path / "dist" / "/".join(["d"] * 120)).mkdir(parents=True)
    listed_dirs: list[str] = []
    real = os.scandir

    def scandir(path: str) -> object:
        listed_dirs.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    listed = list_repo_files(tmp_path, skip=[tmp_path / "dist"])
    assert listed.paths == ("srv/server.py",)
    assert listed.special == {}
    assert sorted(os.path.relpath(d, tmp_path) for d in listed_dirs) == [".", "srv"]
