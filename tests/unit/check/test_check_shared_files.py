"""A file shipped by many servers is analysed once, and its findings go to every server.

``run_checks`` shares one parse (and the rules' per-file results) between the targets
that ship the same file; what differs per target (the configured object name, the
server a finding is reported for) must still come out as if each ran alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from checkcases import build_target

from mcpbundle.check.engine import run_checks
from mcpbundle.check.model import CheckTarget, Finding

SERVER = 'from fastmcp import FastMCP\n\nmcp = FastMCP(name="x")\n'
# `srv` is only a server when the target's configured object is `srv`
SHARED = (
    "import srv_holder as holder\n"
    "srv = holder.srv\n"
    "srv.run()\n"
    'TOKEN = "ghp_' + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + '"\n'
)


def _targets(tmp_path: Path) -> list[CheckTarget]:
    first = build_target(
        tmp_path,
        {"src/server.py": SERVER, "src/shared.py": SHARED, "src/srv_holder.py": "srv = None\n"},
        server="alpha",
    )
    # the same files (the same paths and displays: a vendored library) in two more servers
    return [
        first,
        replace(first, server="beta", object_name="srv"),
        replace(first, server="gamma"),
    ]


def _by_server(findings: list[Finding]) -> dict[str, list[tuple[str, str, int]]]:
    out: dict[str, list[tuple[str, str, int]]] = {}
    for f in findings:
        out.setdefault(f.server, []).append((f.code, f.file, f.line))
    return out


def test_findings_of_a_shared_file_are_those_of_each_server_alone(tmp_path: Path) -> None:
    targets = _targets(tmp_path)
    together = run_checks(targets)
    alone = sorted((f for t in targets for f in run_checks([t])), key=Finding.sort_key)
    assert together == alone
    found = _by_server(together)
    # the secret is reported for every server that ships it
    for server in ("alpha", "beta", "gamma"):
        assert ("MCB011", "alpha/src/shared.py", 4) in found[server]
    # the per-file analysis is keyed by the object name: only beta runs `srv` at import
    assert ("MCB002", "alpha/src/shared.py", 3) in found["beta"]
    assert all(code != "MCB002" for code, _, _ in found["alpha"] + found["gamma"])
