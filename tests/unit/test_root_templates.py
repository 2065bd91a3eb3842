"""The project-root placeholders of PDM and Hatch, expanded as those tools do."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpbundle.plan.requirements import parse_requirement_text
from mcpbundle.plan.root_templates import expand_root_references


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("lib @ file:///${PROJECT_ROOT}/../shared", "lib @ file:///repo/servers/a/../shared"),
        ("lib @ file://${PROJECT_ROOT}/../shared", "lib @ file:///repo/servers/a/../shared"),
        ("-e ${PROJECT_ROOT}/../shared", "-e /repo/servers/a/../shared"),
        ("lib @ {root:uri}/../shared", "lib @ file:///repo/servers/a/../shared"),
        ("lib @ {root:parent:uri}/shared", "lib @ file:///repo/servers/shared"),
        ("lib @ {root:parent:parent:uri}/libs/x", "lib @ file:///repo/libs/x"),
        ("{root}/vendor/x.whl", "/repo/servers/a/vendor/x.whl"),
        ("{root:parent}/x", "/repo/servers/x"),
        ("alpha>=1.0", "alpha>=1.0"),
        ("alpha @ https://example.com/{user}/x.whl", "alpha @ https://example.com/{user}/x.whl"),
    ],
)
def test_placeholders_expand_against_the_declaring_project(entry: str, expected: str) -> None:
    assert expand_root_references(entry, Path("/repo/servers/a")) == expected


def test_a_pdm_dependency_is_a_path_line(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "pyproject.toml").write_text("[project]\nname='shared'\n")
    project = tmp_path / "server"
    project.mkdir()
    line = parse_requirement_text(
        "shared @ file:///${PROJECT_ROOT}/../shared", origin="x", base=project
    )
    assert line.kind == "path"
    assert line.name == "shared"
    assert line.path is not None and line.path.resolve() == (tmp_path / "shared").resolve()
    # the entry as written is what the manifest's rewrites show
    assert line.text == "shared @ file:///${PROJECT_ROOT}/../shared"


def test_a_hatch_dependency_is_a_path_line(tmp_path: Path) -> None:
    (tmp_path / "libs" / "core").mkdir(parents=True)
    project = tmp_path / "servers" / "a"
    project.mkdir(parents=True)
    line = parse_requirement_text(
        "core[table] @ {root:parent:parent:uri}/libs/core", origin="x", base=project
    )
    assert (line.kind, line.name, line.extras) == ("path", "core", ("table",))
    assert line.path is not None and line.path.resolve() == (tmp_path / "libs/core").resolve()
