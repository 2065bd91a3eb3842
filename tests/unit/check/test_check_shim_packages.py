"""A subpackage server's shim registers its package chain; check reads it from the shim
text and resolves the entry's relative imports inside that package."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from checkcases import build_target

from mcpbundle.check.engine import run_checks
from mcpbundle.check.target_paths import shim_packages
from mcpbundle.plan.shim_render import render_shim


def _shim() -> str:
    return render_shim(
        source_root_rel=".",
        module="tools_pkg.calc.server",
        object_name="mcp",
        factory=None,
        outside=[("tools_pkg", "_mcpbundle_chain/tools_pkg/__init__.py")],
        inside_package="tools_pkg.calc",
    )


def test_shim_packages_reads_the_chain_the_shim_registers() -> None:
    assert shim_packages("mcpbundle_entry.py", _shim()) == (
        ("_mcpbundle_chain/tools_pkg", "tools_pkg"),  # where its imported parts ship
        (".", "tools_pkg.calc"),
    )
    older = _shim().replace(", _mcpbundle_os.path.join(_mcpbundle_here, '_mcpbundle_chain', "
                            "'tools_pkg'))", ", None)")  # fmt: skip
    assert shim_packages("mcpbundle_entry.py", older)[0] == (None, "tools_pkg")
    assert shim_packages("mcpbundle_entry.py", "import os\n") == ()
    assert shim_packages("mcpbundle_entry.py", "def (:\n") == ()


def test_relative_imports_resolve_in_the_registered_package(tmp_path: Path) -> None:
    files = {
        "__init__.py": "",
        "util.py": "X = 1\n",
        "server.py": (
            "from fastmcp import FastMCP\nfrom . import util\nfrom .util import X\n"
            "from .nothing import y\n\nmcp = FastMCP('x')\n"
        ),
    }
    plain = build_target(tmp_path / "a", files, entrypoint="server.py", sys_path=("",))
    packaged = build_target(tmp_path / "b", files, entrypoint="server.py", sys_path=("",))
    packaged = replace(packaged, packages=shim_packages("mcpbundle_entry.py", _shim()))
    select = frozenset({"MCB004"})
    assert [f.line for f in run_checks([plain], select=select)] == [2, 3, 4]
    assert [f.line for f in run_checks([packaged], select=select)] == [4]
