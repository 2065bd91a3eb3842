"""The environment-variable analysis check's MCB006 and the .mcpb writer share."""

from __future__ import annotations

import ast
import textwrap

from mcpbundle.plan.env_reads import env_example_values, find_env_reads, module_names


def reads(files: dict[str, str]) -> list[tuple[str, str, int, bool, bool, str | None]]:
    modules = [(path, ast.parse(textwrap.dedent(text))) for path, text in files.items()]
    return [
        (r.file, r.name, getattr(r.node, "lineno", 0), r.subscript, r.default, r.via)
        for r in find_env_reads(modules)
    ]


def test_direct_reads_through_aliases_in_source_order() -> None:
    found = reads(
        {
            "server.py": """
                import os
                import os as o
                from os import environ, getenv
                A = os.environ["A"]
                B = o.getenv("B")
                C = environ.get("C", "c")
                D = getenv("D", default="d")
                os.environ.setdefault("E", "e")
                x = os.environ[name]  # not a constant: not a read by name
            """
        }
    )
    assert found == [
        ("server.py", "A", 5, True, False, None),
        ("server.py", "B", 6, False, False, None),
        ("server.py", "C", 7, False, True, None),
        ("server.py", "D", 8, False, True, None),
        ("server.py", "E", 9, False, True, None),
    ]


def test_reads_through_wrappers_in_another_module() -> None:
    found = reads(
        {
            "src/shared_utils/settings.py": """
                import os

                def env_str(name, default):
                    return os.getenv(name, default)

                def env_required(name):
                    return os.environ[name]

                def env_int(name, default=0):
                    return int(env_str(name, str(default)))
            """,
            "src/shared_utils/__init__.py": "from shared_utils.settings import env_str\n",
            "src/server.py": """
                from shared_utils.settings import env_required, env_int
                import shared_utils.settings as settings
                from shared_utils import env_str

                HOST = env_str("HOST", "localhost")
                TOKEN = env_required("API_TOKEN")
                PORT = env_int(name="PORT")
                MODE = settings.env_str("MODE", "dev")
                OTHER = unrelated("NOT_A_VARIABLE")
            """,
        }
    )
    assert found == [
        ("src/server.py", "HOST", 6, False, True, "env_str"),
        ("src/server.py", "API_TOKEN", 7, False, False, "env_required"),
        ("src/server.py", "PORT", 8, False, True, "env_int"),
        ("src/server.py", "MODE", 9, False, True, "env_str"),
    ]


def test_a_same_named_function_elsewhere_is_not_the_wrapper() -> None:
    found = reads(
        {
            "src/lib/settings.py": "import os\ndef get(name):\n    return os.getenv(name)\n",
            "src/server.py": "from other.place import get\nX = get('NOT_READ')\n",
            "src/lib/use.py": "from lib.settings import get\nY = get('READ')\n",
        }
    )
    assert [name for _, name, *_ in found] == ["READ"]


def test_module_names() -> None:
    assert module_names("src/shared_utils/settings.py") == [
        "settings",
        "shared_utils.settings",
        "src.shared_utils.settings",
    ]
    assert module_names("pkg/__init__.py") == ["pkg"]


def test_env_example_values() -> None:
    text = textwrap.dedent(
        """\
        # a header comment, not a variable
        export REGION=eu
        # THRESHOLD=0.6
        QUOTED="a b"  # trailing comment
        PLAIN=value # comment
        EMPTY=
        REGION=second-wins-not
        """
    )
    assert env_example_values([text, "LATER=1\n"]) == {
        "REGION": "eu",
        "THRESHOLD": "0.6",
        "QUOTED": "a b",
        "PLAIN": "value",
        "EMPTY": "",
        "LATER": "1",
    }


def test_one_tree_shipped_by_several_bundles() -> None:
    """check shares one parse of a vendored file between servers: each bundle gets the
    reads under its own path, and a wrapper found in one bundle does not leak into the
    next one's analysis of the same tree."""
    lib = ast.parse(
        textwrap.dedent(
            """
            import os

            def env_str(name, default=""):
                return os.getenv(name, default)

            TOKEN = os.environ["LIB_TOKEN"]
            """
        )
    )
    with_caller = ast.parse('from shared.settings import env_str\nX = env_str("LEVEL")\n')
    plain = ast.parse("import shared.settings\n")
    first = find_env_reads([("a/shared/settings.py", lib), ("a/server.py", with_caller)])
    second = find_env_reads([("b/shared/settings.py", lib), ("b/server.py", plain)])
    again = find_env_reads([("a/shared/settings.py", lib), ("a/server.py", with_caller)])

    def shown(found: list) -> list[tuple[str, str, str | None]]:  # type: ignore[type-arg]
        return [(r.file, r.name, r.via) for r in found]

    assert shown(first) == [
        ("a/server.py", "LEVEL", "env_str"),
        ("a/shared/settings.py", "LIB_TOKEN", None),
    ]
    assert shown(second) == [("b/shared/settings.py", "LIB_TOKEN", None)]
    assert shown(again) == shown(first)
