"""A shared library with only setup.cfg or setup.py: its install_requires ship too."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_plan import SRV, one, plan

TOML = (
    '[shared.legacy]\npath = "libs/legacy"\n[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
)


def _files(lib: dict[str, str]) -> dict[str, str]:
    return {
        **lib,
        "libs/legacy/legacy_lib/__init__.py": "",
        "libs/legacy/LICENSE": "MIT License\n",
        "srv/server.py": SRV,
        "srv/requirements.txt": "fastmcp\n-e ../libs/legacy\n",
    }


@pytest.mark.parametrize(
    "lib",
    [
        {"libs/legacy/setup.cfg": "[metadata]\nname = legacy\n[options]\npackages = find:\n"
         "install_requires =\n    requests>=2.31\n    pyyaml  # config files\n"},
        {"libs/legacy/setup.py": "from setuptools import setup\n\nsetup(name='legacy', "
         "install_requires=['requests>=2.31', 'pyyaml'])\n"},
        {"libs/legacy/setup.py": "import setuptools\n\nREQUIRES = ['requests>=2.31', 'pyyaml']\n"
         "setuptools.setup(name='legacy', install_requires=REQUIRES)\n"},
    ],
    ids=["setup.cfg", "setup.py", "setup.py-by-name"],
)  # fmt: skip
def test_install_requires_are_the_librarys_dependencies(
    tmp_path: Path, lib: dict[str, str]
) -> None:
    server = one(plan(tmp_path, TOML, _files(lib)))
    assert server.shared == ("legacy",)
    assert server.requirements_in == ("fastmcp", "pyyaml", "requests>=2.31")


def test_a_computed_install_requires_fails_the_servers_that_vendor_it(tmp_path: Path) -> None:
    lib = {"libs/legacy/setup.py": "from setuptools import setup\n\n"
           "setup(name='legacy', install_requires=open('deps.txt').read().split())\n"}  # fmt: skip
    result = plan(tmp_path, TOML, _files(lib), keep_going=True)
    assert [s.name for s in result.servers] == []
    (failure,) = result.failures.values()
    assert "computes its install_requires in code" in str(failure)
    assert failure.where == "libs/legacy/setup.py"
