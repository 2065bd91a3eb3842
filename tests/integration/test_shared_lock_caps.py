"""A cap mcpbundle adds for one server's code does not hold back the shared lock.

``mcp.import_server(...)`` is gone in fastmcp 4, so the build adds ``fastmcp<4`` to that
server's requirements. With the default ``lock = "shared"``, that cap used to enter the
one union resolution and pin every other server to fastmcp 3 as well, silently: a server
written for fastmcp 4 then failed on the host. The capped server is now pinned on its own
(with a warning saying why), and the others keep the fastmcp their requirements allow."""

from __future__ import annotations

import sys
from pathlib import Path

from support.monorepo import mcpbundle, write

SERVER = "from fastmcp import FastMCP\n\nmcp = FastMCP('{name}')\n"
COMPOSED = (
    SERVER + "other = FastMCP('other')\n\n\nasync def setup():\n"
    "    await mcp.import_server(other, prefix='o')\n"
)


def _repo(root: Path, wheelhouse: Path, lock: str) -> Path:
    files = {
        "mcpbundle.toml": (
            "[bundle]\n"
            f"python = '{sys.version_info.major}.{sys.version_info.minor}'\n"
            f"lock = '{lock}'\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
            + "".join(
                f"[servers.{n}]\npath = '{n}'\nentrypoint = 'server.py'\n"
                for n in ("legacy", "modern", "plain")
            )
        ),
        "legacy/server.py": COMPOSED.format(name="legacy"),
        "modern/server.py": SERVER.format(name="modern"),
        "plain/server.py": SERVER.format(name="plain"),
    }
    for name in ("legacy", "modern", "plain"):
        files[f"{name}/requirements.txt"] = "fastmcp>=3\nalpha\n"
    write(root, files)
    return root


def _pin(out: Path, server: str, name: str) -> str:
    for line in (out / server / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{name}=="):
            return line.split("==", 1)[1].split(";")[0].strip()
    raise AssertionError(f"{name} not pinned for {server}")


def test_an_added_cap_pins_its_server_alone(tmp_path: Path, wheelhouse: Path) -> None:
    repo = _repo(tmp_path / "repo", wheelhouse, "shared")
    done = mcpbundle(repo, "build")
    assert done.returncode == 0, done.stderr
    out = repo / "dist"
    assert _pin(out, "legacy", "fastmcp") == "3.0"  # its code needs fastmcp<4
    assert _pin(out, "modern", "fastmcp") == "4.0"  # not held back by legacy's cap
    assert _pin(out, "plain", "fastmcp") == "4.0"
    assert _pin(out, "modern", "alpha") == _pin(out, "plain", "alpha")  # still one lock
    assert "server 'legacy' is pinned on its own" in done.stderr
    assert "fastmcp<4" in done.stderr


def test_per_server_locks_are_unchanged(tmp_path: Path, wheelhouse: Path) -> None:
    repo = _repo(tmp_path / "repo", wheelhouse, "per-server")
    done = mcpbundle(repo, "build")
    assert done.returncode == 0, done.stderr
    assert _pin(repo / "dist", "legacy", "fastmcp") == "3.0"
    assert _pin(repo / "dist", "modern", "fastmcp") == "4.0"
    assert "pinned on its own" not in done.stderr


def test_a_conflict_is_reported_once_when_fastmcp_is_added(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """Requirements without fastmcp resolve twice: once to learn which mcp they pin, once
    with the fastmcp that fits it added. A server set aside in the first pass was warned
    about in both, in two wordings (found on chroma-mcp beside other servers)."""
    files = {
        "mcpbundle.toml": (
            "[bundle]\n"
            f"python = '{sys.version_info.major}.{sys.version_info.minor}'\n"
            f"no-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
            + "".join(
                f"[servers.{n}]\npath = '{n}'\nentrypoint = 'server.py'\n" for n in ("new", "old")
            )
        ),
        "new/server.py": SERVER.format(name="new"),
        "new/requirements.txt": "alpha==2.0\nmcp\n",
        "old/server.py": SERVER.format(name="old"),
        "old/requirements.txt": "alpha==1.0\nmcp\n",
    }
    repo = tmp_path / "repo"
    write(repo, files)
    done = mcpbundle(repo, "build")
    assert done.returncode == 0, done.stderr
    assert _pin(repo / "dist", "new", "fastmcp") == _pin(repo / "dist", "old", "fastmcp")
    warnings = [line for line in done.stderr.splitlines() if "pinned on its own" in line]
    assert len(warnings) == 1, done.stderr
    assert "server 'old' is pinned on its own" in warnings[0]
    steps = [line.split(": ", 1)[1] for line in done.stderr.splitlines() if "resolving" in line]
    assert [step.rsplit(" (", 1)[0] for step in steps] == [
        "resolving with pip-tools (one shared resolution)",
        "resolving with pip-tools (one shared resolution, fastmcp added)",
    ]  # two lines that say the same looked like work done twice
