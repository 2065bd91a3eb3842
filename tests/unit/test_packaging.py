"""What `pip install mcpbundle` shows: SPDX licence, classifiers, URLs, extras, groups,
py.typed, a changelog entry for this version, pre-commit hooks and the release workflow."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from mcpbundle import __version__

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_licence_is_an_spdx_expression_with_its_file() -> None:
    project = _pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639
    requires = _pyproject()["build-system"]["requires"]
    assert requires == ["setuptools>=77"]  # the first to read `license = "MIT"`


def test_metadata_a_user_sees() -> None:
    project = _pyproject()["project"]
    classifiers = set(project["classifiers"])
    assert {"Typing :: Typed", "Environment :: Console", "Programming Language :: Python :: 3.11",
            "Programming Language :: Python :: 3.13"} <= classifiers  # fmt: skip
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= set(project["urls"])
    assert "mcp" in project["keywords"]
    readme = ROOT / project["readme"]
    assert project["readme"] != "README.md" and readme.is_file()
    assert "make test" not in readme.read_text()  # not the development manual
    assert (ROOT / "src" / "mcpbundle" / "py.typed").is_file()
    assert _pyproject()["tool"]["setuptools"]["package-data"]["mcpbundle"] == ["py.typed"]


def test_uv_extra_and_the_dev_group_equal_to_the_dev_extra() -> None:
    data = _pyproject()
    extras = data["project"]["optional-dependencies"]
    assert extras["uv"] == ["uv>=0.4"]
    group = data["dependency-groups"]["dev"]
    assert group == extras["dev"]  # pips without --group use the extra
    for needed in ("check-jsonschema", "pre-commit", "pyyaml", "setuptools"):
        assert any(item.startswith(needed) for item in group), needed
    assert "--group dev" in (ROOT / "Makefile").read_text()


def test_the_changelog_has_this_release() -> None:
    headings = re.findall(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert headings[0] == __version__


def test_pre_commit_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"mcpbundle-validate", "mcpbundle-check"}
    for name, hook in hooks.items():
        assert hook["entry"] == name.replace("-", " ")
        assert hook["pass_filenames"] is False and hook["language"] == "python"
        files = re.compile(hook["files"])
        for path in ("mcpbundle.toml", "mcp/mcpbundle.toml", "server.py", "a/b/c.py"):
            assert files.search(path), path
        for path in ("README.md", "not-mcpbundle.toml.bak", "requirements.txt"):
            assert not files.search(path), path


def test_release_workflow_validates_and_pins_its_actions() -> None:
    path = ROOT / ".github" / "workflows" / "release.yml"
    text = path.read_text()
    for action, comment in re.findall(r"uses: (\S+)(.*)", text):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert comment.startswith(" # "), action
    data = yaml.safe_load(text)
    assert data[True] == {"push": {"tags": ["v*"]}}
    assert data["jobs"]["publish"]["permissions"] == {"id-token": "write"}
    assert data["jobs"]["publish"]["steps"][-1]["uses"].startswith("pypa/gh-action-pypi-publish@")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
         "vendor.github-workflows", str(path)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
