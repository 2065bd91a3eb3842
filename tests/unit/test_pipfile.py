"""A Pipenv-managed server or library: its Pipfile's [packages] are its requirements."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_plan import SRV, one, plan

from mcpbundle.base.errors import ConfigError
from mcpbundle.plan.pipfile import read_pipfile

PIPFILE = """\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
fastmcp = "*"
httpx = ">=0.27"
pendulum = "3.0.0"
rich = {version = "~=13.0", extras = ["jupyter"]}
uvloop = {version = "*", markers = "sys_platform == 'linux'"}
acme-shared = {path = "../shared", editable = true}

[dev-packages]
pytest = "*"

[requires]
python_version = "3.12"
"""
SHARED = {
    "shared/pyproject.toml": '[project]\nname = "acme-shared"\nlicense = "MIT"\n'
    'dependencies = ["pydantic>=2"]\n',
    "shared/acme_shared/__init__.py": "",
}
TOML = (
    '[shared.shared]\npath = "shared"\n'
    '[servers.weather]\npath = "weather"\nentrypoint = "server.py"\n'
)


def test_packages_read_as_requirements(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "svc" / "Pipfile").write_text(PIPFILE)
    lines = read_pipfile(tmp_path / "svc" / "Pipfile", root=tmp_path)
    texts = [(line.kind, line.requirement or line.text) for line in lines]
    assert texts == [
        ("pypi", "fastmcp"),
        ("pypi", "httpx>=0.27"),
        ("pypi", "pendulum==3.0.0"),
        ("pypi", "rich[jupyter]~=13.0"),
        ("pypi", 'uvloop; sys_platform == "linux"'),
        ("path", "acme-shared = {path = '../shared'}"),
    ]
    assert lines[-1].editable and lines[-1].path == tmp_path / "shared"
    assert lines[0].origin == "svc/Pipfile: packages.fastmcp"


def test_a_pipenv_server_vendors_its_path_packages_and_pins_the_rest(tmp_path: Path) -> None:
    files = {**SHARED, "weather/server.py": SRV, "weather/Pipfile": PIPFILE}
    server = one(plan(tmp_path, TOML, files))
    assert server.requirements_source == "weather/Pipfile"
    assert server.shared == ("shared",)
    assert server.requirements_in == (
        "fastmcp", "httpx>=0.27", "pendulum==3.0.0", "pydantic>=2", "rich[jupyter]~=13.0",
        'uvloop; sys_platform == "linux"',
    )  # fmt: skip


def test_a_requirements_txt_still_wins_over_a_pipfile(tmp_path: Path) -> None:
    files = {**SHARED, "weather/server.py": SRV, "weather/Pipfile": PIPFILE,
             "weather/requirements.txt": "fastmcp\n"}  # fmt: skip
    server = one(plan(tmp_path, TOML, files))
    assert server.requirements_source == "weather/requirements.txt"
    assert server.requirements_in == ("fastmcp",)


def test_a_malformed_entry_names_its_key(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text("[packages]\nhttpx = 3\n")
    with pytest.raises(ConfigError) as info:
        read_pipfile(tmp_path / "Pipfile", root=tmp_path)
    assert info.value.where == "Pipfile: packages.httpx"
