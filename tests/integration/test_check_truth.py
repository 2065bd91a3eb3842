"""`mcpbundle check` tells the truth: every finding of every server in one run, no false
alarm on code that loads (shims, src layouts, the target Python's syntax), the build's own
fixes reported, unknown codes refused, a code frame, colour only on a terminal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.monorepo import write
from support.targetpython import isolated_env, newer_python, next_version_sample, private_bin

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "reference-pitfalls"
SERVER = "from fastmcp import FastMCP\n\nmcp = FastMCP('x')\n"


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpbundle", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _findings(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    data = json.loads(done.stdout)
    findings: list[dict[str, object]] = data["findings"]
    return findings


def _triples(findings: list[dict[str, object]], server: str) -> set[tuple[object, ...]]:
    return {(f["code"], f["line"], f["severity"]) for f in findings if f["server"] == server}


# --- the reference document's pitfalls, one run ---------------------------------------


def test_every_reference_pitfall_in_one_run(tmp_path: Path) -> None:
    repo = tmp_path / "pitfalls"
    shutil.copytree(CORPUS, repo)
    expected = json.loads((repo / "expected.json").read_text())
    done = run(repo, "check", "--format", "json")
    assert done.returncode == 1, done.stderr
    findings = _findings(done)
    for server, want in expected.items():
        got = _triples(findings, server)
        if want["kind"] == "correct":
            got = {t for t in got if t[2] != "info"}  # infos are advice, not alarms
        assert got == {tuple(t) for t in want["findings"]}, server
    assert json.loads(done.stdout)["summary"]["servers"] == len(expected)
    github = run(repo, "check", "--format", "github")
    lines = github.stdout.splitlines()
    assert len(lines) == len(findings)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert "::error file=pattern-1-function-wrapper/src/server.py,line=2,col=1,title=MCB001::" in (
        github.stdout
    )


# --- plan-time errors are findings; only a broken mcpbundle.toml stops ----------------


def _broken_repo(root: Path) -> Path:
    config = "[shared.core]\npath = 'libs/core'\n"
    for name in ("good", "noobject", "nolib", "badline", "missing", "unreadable"):
        config += f"[servers.{name}]\npath = {name!r}\nentrypoint = 'server.py'\n"
    write(
        root,
        {
            "mcpbundle.toml": config,
            "libs/core/pyproject.toml": "[project]\nname = 'core'\nversion = '1'\nlicense = 'MIT'",
            "libs/core/core/__init__.py": "",
            "good/server.py": SERVER + "import httpx\nclient = httpx.AsyncClient()\n",
            "good/requirements.txt": "fastmcp\nhttpx\n-e ../libs/core\n",
            "noobject/server.py": "from fastmcp import FastMCP\n\n\ndef make():\n"
            "    return FastMCP('x')\n",
            "noobject/requirements.txt": "fastmcp\n",
            "nolib/server.py": SERVER,
            "nolib/requirements.txt": "fastmcp\n-e ../libs/core\n-e ../libs/undeclared\n",
            "badline/server.py": SERVER + "import os\nKEY = os.environ['KEY']\n",
            "badline/requirements.txt": "fastmcp\nnot a requirement ===\n",
            "missing/server.py": SERVER,
            "missing/requirements.txt": "fastmcp\n-r extra.txt\n",
            "unreadable/requirements.txt": "fastmcp\n",
        },
    )
    (root / "unreadable" / "server.py").write_bytes(SERVER.encode() + b"x = '\xff'\n")
    return root


def test_plan_time_errors_are_findings_and_every_server_is_checked(tmp_path: Path) -> None:
    repo = _broken_repo(tmp_path / "repo")
    done = run(repo, "check", "--format", "json")
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == "error: check found errors"
    findings = _findings(done)
    assert _triples(findings, "good") == {("MCB008", 5, "warning")}
    assert _triples(findings, "noobject") == {("MCB001", 4, "error")}
    assert ("MCB003", 3, "error") in _triples(findings, "nolib")
    assert _triples(findings, "badline") >= {("MCB003", 2, "error"), ("MCB006", 5, "warning")}
    [missing] = [f for f in findings if f["server"] == "missing"]
    assert (missing["code"], missing["file"], missing["line"]) == (
        "MCB003",
        "missing/requirements.txt",
        2,
    )
    assert str(missing["message"]).startswith("missing/extra.txt: requirements file not found")
    [unreadable] = [f for f in findings if f["server"] == "unreadable"]  # said once
    assert (unreadable["code"], unreadable["line"]) == ("MCB000", 4)
    text = run(repo, "check")
    assert text.returncode == 1
    assert "in 6 servers" in text.stdout.splitlines()[-1]
    (repo / "mcpbundle.toml").write_text("[servers.x\n")
    broken = run(repo, "check", "--format", "json")
    assert broken.returncode == 2
    assert broken.stdout == ""
    assert broken.stderr.startswith("error: mcpbundle.toml")
    assert len(broken.stderr.strip().splitlines()) == 1


def test_unknown_codes_are_a_usage_error(tmp_path: Path) -> None:
    repo = _broken_repo(tmp_path / "repo")
    for option in ("--select", "--ignore"):
        done = run(repo, "check", option, "MCB001,MCB999")
        assert done.returncode == 2, option
        assert done.stdout == ""
        line = done.stderr.strip()
        assert line.startswith(f"error: {option}: unknown check code MCB999; known codes: ")
        assert "MCB000, MCB001" in line
        assert "MCB011" in line
    assert run(repo, "check", "--select", "MCB00", "--format", "json").returncode == 1


# --- the build's own fix is still a finding -------------------------------------------


def _legacy_repo(root: Path, wheelhouse: Path, auto_fix: bool = True) -> Path:
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
                + ("" if auto_fix else "auto-fix = false\n")
                + "[servers.old]\npath = 'old'\nentrypoint = 'server.py'\n"
            ),
            "old/requirements.txt": "fastmcp\nmcp>=1\n",
            "old/server.py": "from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP('old')\n",
        },
    )
    return root


def test_the_sdk_auto_fix_is_a_warning_and_an_error_without_auto_fix(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = _legacy_repo(tmp_path / "repo", wheelhouse)
    done = run(repo, "check", "--format", "json")
    assert done.returncode == 0, done.stderr
    [finding] = _findings(done)
    assert (finding["code"], finding["severity"], finding["line"]) == ("MCB005", "warning", 1)
    assert "the bundle adds `mcp<2`" in str(finding["message"])
    built = run(repo, "build")
    assert built.returncode == 0, built.stderr
    after = run(repo, "check", "--built", "--format", "json")
    assert [(f["code"], f["severity"]) for f in _findings(after)] == [("MCB005", "warning")]
    strict = _legacy_repo(tmp_path / "strict", wheelhouse, auto_fix=False)
    refused = run(strict, "check", "--format", "json")
    assert refused.returncode == 1
    [error] = _findings(refused)
    assert (error["code"], error["severity"]) == ("MCB005", "error")
    assert "auto-fix = false" in str(error["message"])


def test_the_fastmcp_the_build_adds_is_importable(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(
        repo,
        {
            "mcpbundle.toml": "[servers.s]\npath = 's'\nentrypoint = 'server.py'\n",
            "s/server.py": SERVER,  # no requirements at all: the build adds fastmcp
        },
    )
    done = run(repo, "check", "--format", "json")
    assert done.returncode == 0  # only the fix the build applies: no MCB004 for the import
    assert [(f["code"], f["severity"]) for f in _findings(done)] == [("MCB005", "warning")]
    config = repo / "mcpbundle.toml"
    config.write_text("[bundle]\nadd-fastmcp = false\n" + config.read_text())
    found = _findings(run(repo, "check", "--format", "json"))
    assert [(f["code"], f["line"], f["severity"]) for f in found] == [("MCB004", 1, "error")]


# --- shimmed and src-layout servers: no false alarm, source or built ------------------


def _layout_repo(root: Path, wheelhouse: Path) -> Path:
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
                "[shared.core]\npath = 'libs/core'\n"
                "[servers.pkg]\npath = 'pkg'\nentrypoint = 'src/pkg_server/server.py'\n"
                "[servers.factory]\npath = 'factory'\n"
                "entrypoint = 'src/factory_server/app.py:build_server'\n"
            ),
            "libs/core/pyproject.toml": (
                "[project]\nname = 'acme-core'\nversion = '1.0'\nlicense = 'MIT'\n"
            ),
            "libs/core/src/acme_core/__init__.py": "from acme_core.text import shout\n",
            "libs/core/src/acme_core/text.py": "def shout(s):\n    return s.upper()\n",
            "pkg/requirements.txt": "fastmcp>=4\n-e ../libs/core\n",
            "pkg/src/pkg_server/__init__.py": "",
            "pkg/src/pkg_server/server.py": (
                "from fastmcp import FastMCP\nfrom acme_core import shout\n\n"
                "from .tools import hello\nfrom pkg_server.config import NAME\n\n"
                "mcp = FastMCP(NAME)\nmcp.tool(hello)\n"
            ),
            "pkg/src/pkg_server/tools.py": "def hello() -> str:\n    return 'hi'\n",
            "pkg/src/pkg_server/config.py": "NAME = 'pkg'\n",
            "factory/pyproject.toml": (
                "[project]\nname = 'factory-server'\nversion = '0.1'\n"
                "dependencies = ['fastmcp>=4', 'acme-core']\n"
                "[tool.uv.sources]\nacme-core = { workspace = true }\n"
            ),
            "factory/src/factory_server/__init__.py": "",
            "factory/src/factory_server/app.py": (
                "from fastmcp import FastMCP\nfrom factory_server.tools import register\n\n\n"
                "def build_server() -> FastMCP:\n    mcp = FastMCP('factory')\n"
                "    register(mcp)\n    return mcp\n"
            ),
            "factory/src/factory_server/tools.py": (
                "from acme_core import shout\n\n\ndef register(mcp):\n"
                "    mcp.tool(lambda: shout('x'))\n"
            ),
        },
    )
    return root


def test_shimmed_and_src_layout_servers_have_no_false_findings(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = _layout_repo(tmp_path / "repo", wheelhouse)
    source = run(repo, "check", "--format", "json")
    assert source.returncode == 0, source.stdout + source.stderr
    assert _findings(source) == []
    built = run(repo, "build")
    assert built.returncode == 0, built.stderr
    manifest = json.loads((repo / "dist" / "mcpbundle-manifest.json").read_text())
    assert all(entry["shim"] for entry in manifest["servers"].values())  # both were shimmed
    after = run(repo, "check", "--built", "--format", "json")
    assert after.returncode == 0, after.stdout + after.stderr
    assert _findings(after) == []
    # and a real mistake in the same layout is still found, in both modes
    server = repo / "pkg" / "src" / "pkg_server" / "server.py"
    server.write_text(server.read_text() + "from pkg_server.nothing import x\n")
    for args in (("check",), ("check", "--built")):
        if args[-1] == "--built":
            assert run(repo, "build").returncode == 0
        found = _findings(run(repo, *args, "--format", "json"))
        assert [(f["code"], f["line"]) for f in found] == [("MCB004", 9)], args


# --- the target Python's syntax (check and build) -------------------------------------


def _target_repo(root: Path, wheelhouse: Path, version: str, sample: str) -> Path:
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\npython = {version!r}\nno-index = true\n"
                f"find-links = [{str(wheelhouse)!r}]\n"
                "[servers.new]\npath = 'new'\nentrypoint = 'server.py'\n"
            ),
            "new/requirements.txt": "fastmcp>=4\n",
            "new/server.py": "from fastmcp import FastMCP\n\n" + sample + "mcp = FastMCP('new')\n",
            "new/types.py": sample,
        },
    )
    return root


def test_target_only_syntax_checks_and_builds_with_the_target_python(
    tmp_path: Path, wheelhouse: Path
) -> None:
    target = newer_python()
    if target is None:
        pytest.skip("no Python newer than the running one (with a syntax sample) is installed")
    env = isolated_env(private_bin(tmp_path / "py", target), tmp_path)
    repo = _target_repo(tmp_path / "repo", wheelhouse, target.version, target.sample)
    done = run(repo, "check", "--format", "json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _findings(done) == []
    built = run(repo, "build", env=env)
    assert built.returncode == 0, built.stderr
    assert "syntax error" not in built.stderr
    (repo / "new" / "types.py").write_text(target.sample + "def broken(:\n")
    bad = run(repo, "check", "--format", "json", env=env)
    [finding] = _findings(bad)
    assert (finding["code"], finding["severity"]) == ("MCB000", "error")
    assert f"does not parse as Python {target.version}" in str(finding["message"])


def test_target_only_syntax_without_the_target_python(tmp_path: Path, wheelhouse: Path) -> None:
    found = next_version_sample()
    if found is None:
        pytest.skip("no syntax sample for a Python newer than the running one")
    version, sample = found
    env = isolated_env(private_bin(tmp_path / "py", None), tmp_path)
    if shutil.which(f"python{version}", path=env["PATH"]):
        pytest.skip(f"python{version} is in a system directory")
    repo = _target_repo(tmp_path / "repo", wheelhouse, version, sample)
    done = run(repo, "check", "--format", "json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    [finding] = _findings(done)
    assert (finding["code"], finding["severity"]) == ("MCB000", "warning")
    assert str(finding["message"]).startswith(
        f"cannot check {version}-only syntax: no python{version} found; install it"
    )
    built = run(repo, "build", env=env)
    assert built.returncode == 1
    [line] = built.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: ")
    assert "server.py" in line
    assert f"install Python {version}" in line


# --- code frame and colour ------------------------------------------------------------


def _frame_repo(root: Path) -> Path:
    write(
        root,
        {
            "mcpbundle.toml": "[servers.s]\npath = 's'\nentrypoint = 'server.py'\n",
            "s/requirements.txt": "fastmcp\nhttpx\n",
            "s/server.py": SERVER + "import httpx\nclient = httpx.AsyncClient()\n",
        },
    )
    return root


def _on_terminal(repo: Path, env: dict[str, str]) -> str:
    """Run `check` with stdout on a pseudo-terminal; what the terminal showed."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcpbundle", "check"],
            cwd=repo,
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=60)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_text_output_has_a_code_frame_and_colour_only_on_a_terminal(tmp_path: Path) -> None:
    repo = _frame_repo(tmp_path / "repo")
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    env["TERM"] = "xterm"
    piped = run(repo, "check", env=env)
    assert piped.stdout.splitlines()[1:5] == [
        "  |",
        "5 | client = httpx.AsyncClient()",
        "  |          ^^^^^^^^^^^^^^^^^^^",
        "",
    ]
    assert "\x1b[" not in piped.stdout
    shown = _on_terminal(repo, env)
    assert "\x1b[1;33mMCB008\x1b[0m" in shown
    assert "\x1b[34m5\x1b[0m \x1b[34m|\x1b[0m client = httpx.AsyncClient()" in shown
    assert "\x1b[" not in _on_terminal(repo, {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in _on_terminal(repo, {**env, "NO_COLOR": "1", "FORCE_COLOR": "1"})
    forced = run(repo, "check", env={**env, "FORCE_COLOR": "1"})
    assert "\x1b[1;33mMCB008\x1b[0m" in forced.stdout
    assert (
        "\x1b["
        not in run(repo, "check", "--format", "json", env={**env, "FORCE_COLOR": "1"}).stdout
    )
