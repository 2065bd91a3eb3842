"""Shared-library discovery: layouts, exclusions, given packages, distribution names, deps."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.settings import SharedLib
from mcpbundle.plan.lib_discovery import (
    LibInfo,
    discover_lib,
    discover_packages,
    import_path,
    top_level_names,
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def discover(root: Path, name: str = "util", path: str = "lib", **kwargs: object) -> LibInfo:
    lib = SharedLib(name=name, path=path, **kwargs)  # type: ignore[arg-type]
    return discover_lib(lib, root.resolve(), key_path=f"shared.{name}", display="mcpbundle.toml")


# ------------------------------------------------------------------ layouts


def test_src_layout(tmp_path: Path) -> None:
    write(tmp_path, {"lib/src/pkg_a/__init__.py": "", "lib/src/mod_b.py": "", "lib/setup.py": ""})
    root, names = discover_packages(tmp_path / "lib")
    assert (root, names) == (tmp_path / "lib" / "src", ("mod_b", "pkg_a"))


def test_empty_src_falls_back_to_flat(tmp_path: Path) -> None:
    write(tmp_path, {"lib/src/README": "", "lib/pkg/__init__.py": ""})
    assert discover_packages(tmp_path / "lib") == (tmp_path / "lib", ("pkg",))


def test_flat_layout_and_exclusions(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "lib/pkg/__init__.py": "",
            "lib/helpers.py": "",
            "lib/tests/__init__.py": "",
            "lib/docs/__init__.py": "",
            "lib/examples/__init__.py": "",
            "lib/namespace_dir/mod.py": "",  # no __init__.py: not discovered
            "lib/not-an-identifier/__init__.py": "",
            "lib/setup.py": "",
            "lib/conftest.py": "",
            "lib/noxfile.py": "",
            "lib/test_pkg.py": "",
            "lib/pkg_test.py": "",
            "lib/__main__.py": "",
            "lib/_private_script.py": "",
            "lib/data.json": "",
            "lib/my-script.py": "",
        },
    )
    assert discover_packages(tmp_path / "lib") == (tmp_path / "lib", ("helpers", "pkg"))


def test_directory_itself_is_a_package(tmp_path: Path) -> None:
    write(tmp_path, {"libs/mylib/__init__.py": "", "libs/mylib/core.py": ""})
    assert discover_packages(tmp_path / "libs" / "mylib") == (tmp_path / "libs", ("mylib",))


def test_nothing_found(tmp_path: Path) -> None:
    write(tmp_path, {"lib/README.md": "", "lib/tests/__init__.py": ""})
    assert discover_packages(tmp_path / "lib") == (tmp_path / "lib", ())
    with pytest.raises(ConfigError) as info:
        discover(tmp_path)
    assert str(info.value) == (
        "mcpbundle.toml: shared.util: no Python package or module found in 'lib'; "
        "set packages = [...] or check the path"
    )
    assert info.value.exit_code == 2


def test_repo_root_as_a_package_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, {"__init__.py": ""})
    with pytest.raises(ConfigError, match=r"shared.util.path: '.' is itself a package"):
        discover(tmp_path, path=".")


# ------------------------------------------------------------------ LibInfo


def test_distribution_name_from_pyproject(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "lib/pyproject.toml": '[project]\nname = "Shared.Utils_X"\nversion = "0.3"\n'
            'dependencies = ["pydantic>=2"]\n',
            "lib/src/shared_utils/__init__.py": "",
            "lib/src/shared_utils/text.py": "",
            "lib/requirements.txt": "ignored-because-pyproject-wins\n",
        },
    )
    info = discover(tmp_path)
    assert info.name == "util"
    assert info.path == "lib"
    assert info.distribution == "shared-utils-x"
    assert info.version == "0.3"
    assert info.source_root == "lib/src"
    assert info.packages == ("shared_utils",)
    assert info.top_level == ("shared_utils",)
    assert [d.name for d in info.dependencies] == ["pydantic"]


def test_distribution_name_falls_back_to_table_name(tmp_path: Path) -> None:
    write(tmp_path, {"lib/util_pkg/__init__.py": "", "lib/requirements.txt": "rich\n-e ../other\n"})
    write(tmp_path, {"other/o/__init__.py": ""})
    info = discover(tmp_path, name="My_Util")
    assert info.distribution == "my-util"
    assert info.version is None
    assert [(d.kind, d.origin) for d in info.dependencies] == [
        ("pypi", "lib/requirements.txt:1"),
        ("path", "lib/requirements.txt:2"),
    ]


def test_pyproject_without_dependencies_uses_requirements_txt(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "lib/pyproject.toml": '[project]\nname = "u"\ndynamic = ["dependencies"]\n',
            "lib/requirements.txt": "rich\n",
            "lib/u.py": "",
        },
    )
    info = discover(tmp_path)
    assert [d.name for d in info.dependencies] == ["rich"]
    assert info.packages == ("u",)


def test_no_dependency_source(tmp_path: Path) -> None:
    write(tmp_path, {"lib/u.py": ""})
    assert discover(tmp_path).dependencies == ()


def test_entry_points(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "lib/pyproject.toml": '[project]\nname = "u"\n[project.entry-points."x.plugins"]\n'
            'a = "u:a"\n',
            "lib/u.py": "",
        },
    )
    assert discover(tmp_path).entry_points == {"x.plugins": {"a": "u:a"}}


# ------------------------------------------------------------------ given packages


def test_given_packages_src(tmp_path: Path) -> None:
    write(
        tmp_path, {"lib/src/a/__init__.py": "", "lib/src/a/sub/__init__.py": "", "lib/src/b.py": ""}
    )
    info = discover(tmp_path, packages=("b", "a.sub"))
    assert info.source_root == "lib/src"
    assert info.packages == ("a.sub", "b")
    assert info.top_level == ("a", "b")


def test_given_packages_flat_and_self(tmp_path: Path) -> None:
    write(tmp_path, {"lib/tests/__init__.py": "", "libs/me/__init__.py": ""})
    assert discover(tmp_path, packages=("tests",)).source_root == "lib"  # given: not excluded
    assert discover(tmp_path, path="libs/me", packages=("me",)).source_root == "libs"


def test_given_package_missing(tmp_path: Path) -> None:
    write(tmp_path, {"lib/a/__init__.py": ""})
    with pytest.raises(ConfigError) as info:
        discover(tmp_path, packages=("a", "zzz"))
    assert str(info.value).startswith(
        "mcpbundle.toml: shared.util.packages: package 'zzz' not found in 'lib'"
    )


# ------------------------------------------------------------------ helpers


def test_import_path_and_top_level_names(tmp_path: Path) -> None:
    write(tmp_path, {"d/pkg/__init__.py": "", "d/mod.py": "", "d/ns/x.py": "", "d/x.txt": ""})
    (tmp_path / "d" / "__pycache__").mkdir()
    assert import_path(tmp_path / "d", "pkg") == tmp_path / "d" / "pkg"
    assert import_path(tmp_path / "d", "mod") == tmp_path / "d" / "mod.py"
    assert top_level_names(tmp_path / "d") == {"pkg", "mod", "ns"}
    assert top_level_names(tmp_path / "missing") == frozenset()


# ------------------------------------------------------------------ pkgutil namespaces

PKGUTIL = (
    "# part of the acme namespace\n"
    "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n"
)


@pytest.mark.parametrize(
    "init",
    [
        PKGUTIL,
        '"""Namespace."""\nfrom pkgutil import extend_path\n'
        "__path__ = extend_path(__path__, __name__)\n",
        "__import__('pkg_resources').declare_namespace(__name__)\n",
    ],
)
def test_a_pkgutil_style_namespace_is_named_by_its_portions(tmp_path: Path, init: str) -> None:
    """``acme/__init__.py`` that only extends ``__path__`` (what many distributions
    sharing a top-level name ship, awslabs/mcp's servers among them) is a namespace,
    not a package that owns the name ``acme``."""
    write(tmp_path, {"lib/acme/__init__.py": init, "lib/acme/common/__init__.py": ""})
    pyproject = tmp_path / "lib/pyproject.toml"
    pyproject.write_text("[tool.hatch.build.targets.wheel]\npackages = ['acme']\n")
    assert discover_packages(tmp_path / "lib", pyproject) == (tmp_path / "lib", ("acme.common",))
    pyproject.unlink()
    assert discover_packages(tmp_path / "lib") == (tmp_path / "lib", ("acme.common",))


def test_an_init_with_code_beside_extend_path_is_a_package(tmp_path: Path) -> None:
    write(tmp_path, {"lib/acme/__init__.py": PKGUTIL + "VERSION = 1\n", "lib/acme/x.py": ""})
    assert discover_packages(tmp_path / "lib") == (tmp_path / "lib", ("acme",))
