"""verify loads with the target Python (the manifest entry's, else ``[bundle] python``).

The mismatch cases are hermetic: a fixture interpreter directory whose
``python3.12`` is a shim that really runs this (older) interpreter, as a stale
pyenv or distro shim does, an empty pyenv root and no uv-managed Pythons. The
real-interpreter cases use a pyenv Python 3.12 when the machine has one.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpbundle.base import interpreters
from mcpbundle.verify import venvs
from mcpbundle.verify.probe_runner import SourceSpec
from mcpbundle.verify.venvs import find_uv
from mcpbundle.verify.verifier import VerifyReport, verify

PYTHON = Path(sys.executable)
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
NEWER = "3.12" if RUNNING != "3.12" else "3.13"
NEWER_ONLY = """
from fastmcp import FastMCP

type Names = list[str]  # Python 3.12 syntax

mcp = FastMCP("modern")


@mcp.tool()
def names() -> Names:
    return ["a"]
"""
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"


def real_python(version: str) -> Path | None:
    found = sorted(PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"))
    return found[-1] if found else None


@pytest.fixture
def no_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine whose only ``python{NEWER}`` is a shim running this older interpreter."""
    bin_dir = tmp_path / "interpreters" / "bin"
    bin_dir.mkdir(parents=True)
    shim = bin_dir / f"python{NEWER}"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "empty-pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "empty-uv"))
    interpreters.find_interpreter.cache_clear()
    yield
    interpreters.find_interpreter.cache_clear()


def make_out(
    tmp_path: Path,
    servers: dict[str, str | None],
    source: str = NEWER_ONLY,
    requires_python: str | None = None,
) -> Path:
    """An output whose servers (name -> manifest ``python`` or None) all hold ``source``."""
    out = tmp_path / "out"
    entries = {}
    for name, python in servers.items():
        (out / name).mkdir(parents=True)
        (out / name / "server.py").write_text(source, encoding="utf-8")
        (out / name / "requirements.txt").write_text("", encoding="utf-8")
        entries[name] = {
            "path": name,
            "entrypoint": f"{name}/server.py",
            "requirements": f"{name}/requirements.txt",
            "files": {},
            **({"python": python} if python else {}),
            **({"requires-python": requires_python} if requires_python else {}),
        }
    document = {"version": 1, "source": {"commit": None, "dirty": False}, "servers": entries}
    (out / "mcpbundle-manifest.json").write_text(json.dumps(document), encoding="utf-8")
    return out


def run(out: Path, tmp_path: Path, **kwargs: object) -> VerifyReport:
    options: dict[str, object] = {
        "servers": None,
        "http": False,
        "cache_dir": tmp_path / "cache",
        "env": {},
        "expect_tools": {},
        "installer": None,
        "jobs": 2,
    }
    options.update(kwargs)
    return verify(output_dir=out, **options)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_target")
def test_a_missing_target_python_fails_with_what_to_install(tmp_path: Path) -> None:
    out = make_out(tmp_path, {"by-entry": NEWER, "by-bundle": None, "running": RUNNING})
    report = run(out, tmp_path, target_python=NEWER)
    servers = {s.name: s for s in report.servers}
    expected = (
        f"needs Python {NEWER}, which is not installed here; install Python {NEWER} "
        f"(e.g. `uv python install {NEWER}` or `pyenv install {NEWER}`) and run verify again"
    )
    for name in ("by-entry", "by-bundle"):
        assert not servers[name].ok
        assert servers[name].error == expected, "one line, naming the Python to install"
        assert servers[name].tools == ()
    running = servers["running"]  # the entry's python wins over [bundle] python
    assert not running.ok, "the running Python loads it and reports the real error"
    assert running.python == ".".join(map(str, sys.version_info[:3]))
    assert running.error is not None
    assert "SyntaxError" in running.error or "fastmcp is not importable" in running.error
    venvs_dir = tmp_path / "cache" / "venvs"
    kept = venvs_dir.iterdir() if venvs_dir.is_dir() else ()
    built = [p / "pyvenv.cfg" for p in kept if not p.name.startswith(".")]  # not .surfaces
    assert len(built) == 1, "one venv: the running Python's, for the server that asked for it"
    assert RUNNING in built[0].read_text()


def test_an_interpreter_of_another_version_is_never_used(tmp_path: Path) -> None:
    out = make_out(tmp_path, {"modern": NEWER})
    spec = SourceSpec(
        entry=out / "modern" / "server.py", object=None, paths=(), root=out / "modern"
    )
    (server,) = run(out, tmp_path, python=PYTHON, sources={"modern": spec}).servers
    assert not server.ok
    assert server.error == (
        f"needs Python {NEWER}, but the interpreter given ({PYTHON}) is Python {RUNNING}"
    )
    assert server.source is None, "no load ran, from the bundle or the source tree"


@pytest.mark.skipif(real_python("3.12") is None, reason="needs a pyenv Python 3.12")
@pytest.mark.skipif(find_uv() is None, reason="needs uv")
def test_both_loads_run_under_the_target_python(tmp_path: Path, wheelhouse: Path) -> None:
    """A real 3.12 venv (offline: nothing to install, so no fastmcp in it)."""
    python = real_python("3.12")
    assert python is not None
    release = _release(python)
    out = make_out(tmp_path, {"modern": "3.12"}, requires_python=f">={release}")
    spec = SourceSpec(
        entry=out / "modern" / "server.py", object=None, paths=(), root=out / "modern"
    )
    report = run(
        out,
        tmp_path,
        installer="uv",
        index_args=("--no-index", "--find-links", str(wheelhouse)),
        sources={"modern": spec},
    )
    (server,) = report.servers
    assert server.python == release, "the release requires-python allows"
    assert server.error is not None
    assert "fastmcp is not importable" in server.error, "3.12 parsed the 3.12-only syntax"
    assert server.source is not None
    assert "fastmcp is not importable" in (server.source.error or "")
    assert server.venv is not None
    venv = Path(server.venv.split(" (")[0])
    assert "version_info = 3.12" in (venv / "pyvenv.cfg").read_text()


def test_venv_keys_name_the_interpreter(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("", encoding="utf-8")
    version, real = venvs.python_info(PYTHON)
    assert version == f"{sys.implementation.name}-{'.'.join(map(str, sys.version_info[:3]))}"
    assert real.is_file()
    first = venvs.venv_key(b"", version, ["pip", str(real)])
    assert first != venvs.venv_key(b"", version, ["pip", "/elsewhere/python3"])


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.skipif(real_python("3.12") is None, reason="needs a pyenv Python 3.12")
def test_a_server_needing_python_3_12_passes_under_3_12(tmp_path: Path) -> None:
    out = make_out(tmp_path, {"modern": None})
    (out / "modern" / "requirements.txt").write_text("fastmcp\n", encoding="utf-8")
    spec = SourceSpec(
        entry=out / "modern" / "server.py", object=None, paths=(), root=out / "modern"
    )
    report = run(out, tmp_path, target_python="3.12", sources={"modern": spec})
    (server,) = report.servers
    assert server.ok, server.error
    assert server.tools == ("names",)
    assert server.python is not None
    assert server.python.startswith("3.12.")
    assert server.source is not None
    assert server.source.ok


@pytest.fixture
def pyenv_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine's pyenv versions and nothing else: no python3.X on PATH, no uv Pythons."""
    monkeypatch.setenv("PATH", f"/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("PYENV_ROOT", str(PYENV_VERSIONS.parent))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "empty-uv"))
    interpreters.find_interpreter.cache_clear()
    yield
    interpreters.find_interpreter.cache_clear()


def _release(python: Path) -> str:
    return venvs.python_info(python)[0].rpartition("-")[2]


@pytest.mark.usefixtures("pyenv_only")
@pytest.mark.skipif(real_python("3.13") is None, reason="needs a pyenv Python 3.13")
def test_a_release_below_requires_python_is_never_used(tmp_path: Path) -> None:
    """A 3.13 fits ">=3.13.5" as a line, but the 3.13.0 installed here does not: the
    server fails naming what was found and what to install, and no load runs."""
    python = real_python("3.13")
    assert python is not None
    release = _release(python)
    bound = f">{release}"
    out = make_out(tmp_path, {"modern": "3.13"}, requires_python=bound)
    (server,) = run(out, tmp_path).servers
    assert not server.ok
    assert server.error is not None
    assert server.error.startswith(
        f"requires-python '{bound}', which no Python 3.13 here allows (found {release} ("
    )
    assert "\n" not in server.error
    assert "`uv python install 3.13`" in server.error
    assert server.python is None, "no interpreter was started for a load"


def test_an_interpreter_given_below_requires_python_is_refused(tmp_path: Path) -> None:
    release = ".".join(map(str, sys.version_info[:3]))
    out = make_out(tmp_path, {"here": RUNNING}, source="", requires_python=f">{release}")
    (server,) = run(out, tmp_path, python=PYTHON).servers
    assert not server.ok
    assert server.error == (
        f"requires-python '>{release}', but the interpreter given ({PYTHON}) is Python {release}"
    )
