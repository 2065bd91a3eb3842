"""check reads the bundle as the runtime loads it: shims, generated files, the build's fixes,
sys.path edits, plan-time errors, the target's grammar, and a code frame."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from checkcases import TargetFactory

from mcpbundle.base.interpreters import find_interpreter
from mcpbundle.check.engine import run_checks, unknown_codes
from mcpbundle.check.model import Finding
from mcpbundle.check.report import format_findings
from mcpbundle.plan import python_parse as pyparse
from support.targetpython import isolated_env, next_version_sample, private_bin

SERVER = 'from fastmcp import FastMCP\n\nmcp = FastMCP(name="x")\n'
LEGACY = 'from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP(name="x")\n'
SHIM = (
    "import importlib as _mcpbundle_importlib\n"
    "import os as _mcpbundle_os\n"
    "import sys as _mcpbundle_sys\n"
    "_mcpbundle_here = _mcpbundle_os.path.dirname(_mcpbundle_os.path.abspath(__file__))\n"
    "_mcpbundle_root = _mcpbundle_os.path.join(_mcpbundle_here, 'src')\n"
    "_mcpbundle_sys.path.insert(0, _mcpbundle_root)\n"
    "_mcpbundle_module = _mcpbundle_importlib.import_module('pkg.server')\n"
    "mcp = _mcpbundle_module.build\n"
)


def _codes(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return [(f.code, f.line, f.severity) for f in findings]


# --- MCB005: an auto-fix is still a finding -------------------------------------------


def test_the_sdk_fix_the_build_applies_is_a_warning(make_target: TargetFactory) -> None:
    reqs = {"requirements.txt": "mcp>=1\nmcp<2\n"}  # what the build ships: the cap added
    target = make_target({"src/server.py": LEGACY}, requirements=reqs)
    assert run_checks([target], select=frozenset({"MCB005"})) == []  # what check said before
    fixed = replace(target, sdk_fix="srv/src/server.py:1")
    findings = run_checks([fixed], select=frozenset({"MCB005"}))
    assert _codes(findings) == [("MCB005", 1, "warning")]
    assert "the bundle adds `mcp<2`" in findings[0].message
    assert "from fastmcp import FastMCP" in findings[0].fix
    assert "pin `mcp<2` in the server's own requirements" in findings[0].fix
    strict = run_checks([replace(fixed, auto_fix=False)], select=frozenset({"MCB005"}))
    assert _codes(strict) == [("MCB005", 1, "error")]
    assert "auto-fix = false" in strict[0].message


def test_a_lock_that_pins_mcp_below_2_is_a_warning(make_target: TargetFactory) -> None:
    reqs = {"requirements.txt": "mcp>=1.0.0\n"}
    target = make_target({"src/server.py": LEGACY}, requirements=reqs)
    assert _codes(run_checks([target], select=frozenset({"MCB005"}))) == [("MCB005", 1, "error")]
    locked = replace(target, lock="srv/uv.lock", lock_pins={"mcp": "1.26.0"})
    [finding] = run_checks([locked], select=frozenset({"MCB005"}))
    assert finding.severity == "warning"
    assert "ships mcp==1.26.0 only because srv/uv.lock pins it" in finding.message
    newer = replace(target, lock="srv/uv.lock", lock_pins={"mcp": "2.3"})
    assert _codes(run_checks([newer], select=frozenset({"MCB005"}))) == [("MCB005", 1, "error")]


# --- shims and generated files --------------------------------------------------------


def test_a_shimmed_factory_server_is_checked_at_its_real_entrypoint(
    make_target: TargetFactory,
) -> None:
    files = {
        "mcpbundle_entry.py": SHIM,
        "src/pkg/__init__.py": "",
        "src/pkg/server.py": (
            "from fastmcp import FastMCP\nfrom .tools import hello\nfrom pkg.tools import bye\n\n"
            "def build():\n    return FastMCP('x')\n"
        ),
        "src/pkg/tools.py": "def hello():\n    pass\n\ndef bye():\n    pass\n",
    }
    target = make_target(
        files, entrypoint="src/pkg/server.py", object_name="build", sys_path=("", "src")
    )
    target = replace(target, shim="mcpbundle_entry.py", generated=frozenset({"mcpbundle_entry.py"}))
    assert run_checks([target]) == []
    # without the shim's path, the package import is (rightly) reported
    unshimmed = replace(target, sys_path=("",))
    assert "MCB004" in {f.code for f in run_checks([unshimmed])}
    # the shim itself edits sys.path: it is mcpbundle's code, never linted
    linted = replace(target, generated=frozenset())
    assert [(f.file, f.code) for f in run_checks([linted])] == [
        ("srv/mcpbundle_entry.py", "MCB004")
    ]


def test_a_sys_path_roots_own_init_and_main_are_never_imported(
    make_target: TargetFactory,
) -> None:
    files = {
        "src/app/server.py": SERVER,
        "src/app/__init__.py": "from . import server\n",
        "src/app/__main__.py": "from .server import mcp\n",
        "src/app/other.py": "from . import server\n",
    }
    target = make_target(files, entrypoint="src/app/server.py")
    # the entry's directory is the sys.path root: only other.py could be imported (as
    # a top-level module, where its relative import fails)
    assert [(f.file, f.code) for f in run_checks([target])] == [("srv/src/app/other.py", "MCB004")]


# --- MCB004: is a sys.path edit still needed? -----------------------------------------


def _edit_target(make_target: TargetFactory, edit: str, *, shim: bool) -> list[Finding]:
    files = {
        "src/pkg/__init__.py": "",
        "src/pkg/server.py": (
            f"import os\nimport sys\n{edit}\nfrom fastmcp import FastMCP\nfrom lib import x\n\n"
            "mcp = FastMCP('x')\n"
        ),
        "src/lib/__init__.py": "x = 1\n",
        "vendor/helpers/__init__.py": "",
    }
    sys_path = ("", "src") if shim else ("src/pkg",)
    target = make_target(files, entrypoint="src/pkg/server.py", sys_path=sys_path)
    if shim:
        target = replace(target, shim="mcpbundle_entry.py")
    return [f for f in run_checks([target]) if f.code == "MCB004"]


def test_a_file_relative_edit_the_shim_made_unneeded_is_a_warning(
    make_target: TargetFactory,
) -> None:
    edit = "sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))"
    [finding] = _edit_target(make_target, edit, shim=True)
    assert (finding.line, finding.severity) == (3, "warning")
    assert "the bundle was shimmed: mcpbundle_entry.py puts ./, src/ on sys.path" in (
        finding.message
    )
    assert finding.message.endswith("the edit is not needed")
    assert finding.fix == "remove the sys.path change"


def test_a_file_relative_edit_that_makes_imports_work_is_still_needed(
    make_target: TargetFactory,
) -> None:
    edit = "sys.path.insert(0, str(__import__('pathlib').Path(__file__).parent.parent))"
    # not statically readable (a call through __import__): unknown, imports fail -> error
    [unknown, failing] = _edit_target(make_target, edit, shim=False)
    assert (unknown.line, unknown.severity) == (3, "error")
    assert "cannot be told statically" in unknown.message
    assert (failing.line, failing.severity) == (5, "error")
    from_path = (
        "from pathlib import Path\n" + "sys.path.insert(0, str(Path(__file__).parent.parent))"
    )
    [needed] = _edit_target(make_target, from_path, shim=False)
    assert (needed.line, needed.severity) == (4, "warning")  # it works in the bundle: lib loads
    assert "is what makes `import lib` work" in needed.message
    assert "the edit is still needed" in needed.message
    assert "move `lib` next to the entrypoint" in needed.fix


def test_a_working_directory_edit_is_an_error_unless_the_shim_covers_it(
    make_target: TargetFactory,
) -> None:
    [edit, failing] = _edit_target(make_target, "sys.path.append('src')", shim=False)
    assert (edit.line, edit.severity) == (3, "error")
    assert "relative to the working directory" in edit.message
    assert "makes `import lib` work, so that import fails" in edit.message
    assert (failing.line, failing.severity) == (5, "error")
    [covered] = _edit_target(make_target, "sys.path.append('src')", shim=True)
    assert (covered.line, covered.severity) == (3, "warning")
    assert "the bundle was shimmed" in covered.message
    assert "the edit is not needed" in covered.message
    [unused] = _edit_target(make_target, "sys.path.append('vendor')", shim=True)
    assert unused.severity == "error"  # the runtime's working directory is not the folder


# --- plan-time errors become findings -------------------------------------------------


def test_plan_errors_merge_with_rule_findings(make_target: TargetFactory) -> None:
    files = {"src/server.py": "def create():\n    return FastMCP('x')\n"}
    no_object = Finding(
        code="MCB001", severity="error", server="srv", file="srv/src/server.py", line=1,
        column=1, message="no module-level server object (mcp, server or app)", fix="assign it",
    )  # fmt: skip
    target = replace(make_target(files), problems=(no_object,))
    [found] = run_checks([target])
    assert (found.code, found.line) == ("MCB001", 1)
    assert "only inside function create()" in found.message  # the rule's, which says more
    bad_line = replace(no_object, code="MCB003", file="srv/requirements.txt", line=2,
                       message="points at directory 'x', which does not exist")  # fmt: skip
    reqs = {"requirements.txt": "fastmcp\n-e ../x\n-e ../y\n"}
    target = replace(
        make_target({"src/server.py": SERVER}, requirements=reqs), problems=(bad_line,)
    )
    findings = run_checks([target])
    assert [(f.line, f.message.split(";")[0]) for f in findings] == [
        (2, "points at directory 'x', which does not exist"),  # the plan's error wins
        (3, "`-e ../y` is an editable install (-e)"),
    ]
    assert run_checks([target], ignore=frozenset({"MCB003"})) == []


# --- the target's grammar -------------------------------------------------------------


def test_target_syntax_without_its_interpreter_is_one_warning(
    make_target: TargetFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = next_version_sample()
    if found is None:
        pytest.skip("no syntax sample for a Python newer than the running one")
    version, sample = found
    for key, value in isolated_env(private_bin(tmp_path / "none", None), tmp_path).items():
        monkeypatch.setenv(key, value)
    pyparse.close_workers()
    find_interpreter.cache_clear()
    try:
        files = {"src/server.py": SERVER, "src/a.py": sample, "src/b.py": sample}
        one = replace(make_target(files, server="one"), python=version)
        two = replace(make_target(files, server="two"), python=version)
        findings = run_checks([one, two])
    finally:
        pyparse.close_workers()
        find_interpreter.cache_clear()
    assert _codes(findings) == [("MCB000", 1, "warning")]
    assert findings[0].message.startswith(
        f"cannot check {version}-only syntax: no python{version} found; install it"
    )
    assert "4 files not checked" in findings[0].message
    # the same files under the running grammar are syntax errors, as before
    assert {f.code for f in run_checks([make_target(files, server="three")])} == {"MCB000"}


# --- select / ignore and the code frame -----------------------------------------------


def test_unknown_codes() -> None:
    assert unknown_codes(["MCB001", "mcb00", "MCB", "MCB099", "E501"]) == ["MCB099", "E501"]


def test_text_format_shows_a_code_frame(make_target: TargetFactory) -> None:
    files = {
        "src/server.py": SERVER,
        "src/c.py": "import httpx\nif True:\n\tc = httpx.AsyncClient()  # x\n",
    }
    target = make_target(files, requirements={"requirements.txt": "fastmcp\nhttpx\n-e ../y\n"})
    text = format_findings(run_checks([target]), "text", servers=1)
    assert text.splitlines() == [
        "srv/requirements.txt:3:1: MCB003 error: `-e ../y` is an editable install (-e); the "
        "runtime installs from PyPI only (fix: publish the package to PyPI and pin it by name, "
        "or vendor the code into the server (declare it as a shared library))",
        "  |",
        "3 | -e ../y",
        "  | ^^^^^^^",
        "",
        "srv/src/c.py:3:6: MCB008 warning: httpx.AsyncClient() is created at import time, "
        "before the runtime's event loop exists; it binds to the wrong loop and leaks "
        "connections (fix: create the client inside the tool (`async with ...`) or lazily in "
        "an async getter / the server lifespan)",
        "  |",
        "3 |     c = httpx.AsyncClient()  # x",
        "  |         ^^^^^^^^^^^^^^^^^^^",
        "",
        "1 error, 1 warning in 1 server",
    ]
    assert "\x1b[" not in text
    coloured = format_findings(run_checks([target]), "text", servers=1, colour=True)
    assert "\x1b[1;31mMCB003\x1b[0m" in coloured
    assert "\x1b[1;33m^^^^" in coloured


def test_secrets_the_build_allows_are_not_findings(make_target: TargetFactory) -> None:
    token = "AKIA" + "Q3T7ZP2LX9WMRB4K"  # not sequential: a placeholder is no finding
    target = make_target({"src/server.py": SERVER, "docs/k.md": f"key {token}\n"})
    assert [f.code for f in run_checks([target])] == ["MCB011"]
    assert run_checks([replace(target, allow_secrets=("srv/docs/*.md",))]) == []


def test_the_code_frame_masks_credentials(make_target: TargetFactory) -> None:
    reqs = {"requirements.txt": "fastmcp\n-i https://me:s3cret@pypi.example/simple\n"}
    findings = run_checks([make_target({"src/server.py": SERVER}, requirements=reqs)])
    frame = format_findings(findings, "text").splitlines()[1:4]
    assert frame == [
        "  |",
        "2 | -i https://***@pypi.example/simple",
        "  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    ]


def test_a_factory_needing_arguments_is_named_with_them(make_target: TargetFactory) -> None:
    """The host calls a factory with no arguments; `mcp = build()` would fail the same way."""
    code = "from fastmcp import FastMCP\n\ndef build(config, /, token):\n    return FastMCP('x')\n"
    configured = make_target({"src/server.py": code}, object_name="build")
    [found] = run_checks([configured])
    assert (found.code, found.line) == ("MCB001", 3)
    assert found.message == (
        "factory `build` needs arguments (config, token), but the host calls it with none"
    )
    assert "`mcp = build(...)` at module level" in found.fix
    [unset] = run_checks([make_target({"src/server.py": code})])
    assert "only inside function build()" in unset.message
    assert unset.fix == (
        "add `mcp = build(...)` at module level, passing what it needs (config, token)"
    )
