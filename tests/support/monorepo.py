"""A tiny hermetic monorepo (two servers, two shared libs) resolved against the wheelhouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def make_monorepo(root: Path, wheelhouse: Path) -> Path:
    """Servers ``ops`` (lib ``utils``) and ``sales`` (lib ``core`` -> ``utils``) in ``root``."""
    write(
        root,
        {
            "mcpbundle.toml": (
                "[bundle]\n"
                f"python = '{sys.version_info.major}.{sys.version_info.minor}'\n"
                "no-index = true\n"
                f"find-links = [{str(wheelhouse)!r}]\n"
                "[shared.utils]\npath = 'libs/utils'\n"
                "[shared.core]\npath = 'libs/core'\n"
                "[servers.ops]\npath = 'ops'\nentrypoint = 'src/server.py'\n"
                "[servers.sales]\npath = 'sales'\nentrypoint = 'app.py:app'\n"
            ),
            "libs/utils/pyproject.toml": (
                "[project]\nname = 'acme-utils'\nversion = '1.0'\nlicense = 'MIT'\n"
                "dependencies = ['beta']\n"
            ),
            "libs/utils/acme_utils/__init__.py": "def shout(s):\n    return s.upper()\n",
            "libs/core/pyproject.toml": (
                "[project]\nname = 'acme-core'\nversion = '2.0'\nlicense = 'Apache-2.0'\n"
                "dependencies = ['acme-utils', 'alpha<2']\n"
            ),
            "libs/core/src/acme_core/__init__.py": "from acme_utils import shout\n",
            "ops/requirements.txt": "fastmcp>=4\n-e ../libs/utils\n",
            "ops/src/server.py": (
                "from fastmcp import FastMCP\nfrom acme_utils import shout\n\n"
                "mcp = FastMCP('ops')\n\n\n@mcp.tool\ndef hello() -> str:\n"
                "    return shout('hi')\n"
            ),
            "ops/.env.example": "OPS_TOKEN=changeme\n",
            "ops/.env": "OPS_TOKEN=real-secret\n",
            "sales/requirements.txt": "eta\n../libs/core\n",
            "sales/app.py": "from acme_core import shout\n\napp = object()\n",
        },
    )
    return root


def mcpbundle(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "mcpbundle", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file under ``root``: relative path -> (bytes, executable)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), os.access(p, os.X_OK))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
