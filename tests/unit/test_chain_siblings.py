"""What a subpackage server imports of its outer packages, found statically."""

from __future__ import annotations

from mcpbundle.plan.chain_siblings import chain_dirs, chain_siblings, module_name

LISTING = frozenset(
    {
        "src/pkg/__init__.py",
        "src/pkg/common/__init__.py",
        "src/pkg/common/names.py",
        "src/pkg/common/data/names.json",
        "src/pkg/util.py",
        "src/pkg/deep.py",
        "src/pkg/unused.py",
    }
)
SOURCES = {
    "src/pkg/common/__init__.py": b"from . import names\n",  # a package's own relative import
    "src/pkg/common/names.py": b"from ..deep import X\n",
    "src/pkg/util.py": b"",
    "src/pkg/deep.py": b"X = 1\n",
}


def _found(*start: tuple[str, bool, bytes]) -> list[str]:
    return chain_siblings(
        chain_root="src",
        chain=chain_dirs("src", ["pkg"]),
        inside="pkg.server",
        start=start,
        listing=LISTING,
        read=SOURCES.get,
        python=None,
    )


def test_a_subpackage_ships_whole_a_module_alone_and_what_they_import() -> None:
    assert _found(("pkg.server.main", False, b"from pkg import common, util\n")) == [
        "src/pkg/common/__init__.py",
        "src/pkg/common/data/names.json",
        "src/pkg/common/names.py",
        "src/pkg/deep.py",
        "src/pkg/util.py",
    ]


def test_relative_imports_resolve_against_the_modules_package() -> None:
    assert _found(("pkg.server", True, b"from ..util import f\n")) == ["src/pkg/util.py"]
    assert _found(("pkg.server.main", False, b"from ..util import f\n")) == ["src/pkg/util.py"]
    assert _found(("pkg.server.main", False, b"from . import tools\nimport os\n")) == []


def test_the_servers_own_package_and_unparsable_code_add_nothing() -> None:
    assert _found(("pkg.server.main", False, b"from pkg.server import tools\n")) == []
    assert _found(("pkg.server.main", False, b"def (:\n")) == []


def test_module_names() -> None:
    assert module_name("src/pkg/common/__init__.py", "src") == ("pkg.common", True)
    assert module_name("src/pkg/util.py", "src") == ("pkg.util", False)
    assert module_name("pkg/util.py", "") == ("pkg.util", False)
