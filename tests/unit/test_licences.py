"""A vendored library's licence: from its metadata, else the licence files nearest to it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mcpbundle.plan.licences import find_licence


def _project(root: Path, pyproject: str = "") -> Path:
    lib = root / "libs" / "core"
    lib.mkdir(parents=True)
    (lib / "pyproject.toml").write_text('[project]\nname = "core"\n' + pyproject)
    return lib


def test_a_setup_cfg_licence_is_the_expression(tmp_path: Path) -> None:
    lib = _project(tmp_path)
    (lib / "setup.cfg").write_text("[metadata]\nname = core\nlicense = mit\n")
    assert find_licence(lib, tmp_path).expression == "MIT"


def test_a_broken_setup_cfg_declares_nothing(tmp_path: Path) -> None:
    lib = _project(tmp_path)
    (lib / "setup.cfg").write_text("license = MIT\n[metadata\n")
    assert find_licence(lib, tmp_path).expression is None


def test_without_a_setup_cfg_configparser_is_not_imported(tmp_path: Path) -> None:
    """Every plan discovers every shared library's licence; configparser (and the
    parser's regular expressions) are for the rare setup.cfg only."""
    lib = _project(tmp_path)
    code = (
        "import sys; from pathlib import Path\n"
        "from mcpbundle.plan.licences import find_licence\n"
        f"licence = find_licence(Path({str(lib)!r}), Path({str(tmp_path)!r}))\n"
        "assert licence.expression is None, licence\n"
        "print('configparser' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
