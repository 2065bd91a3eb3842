"""Requirement entries: every line form classified; files, includes and pyproject deps."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpbundle.base.errors import ConfigError
from mcpbundle.plan.pyproject import poetry_specifier, read_pyproject
from mcpbundle.plan.requirements import ReqLine, parse_requirement_text, read_requirements_file


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def parse(text: str, base: Path, **kwargs: bool) -> ReqLine:
    return parse_requirement_text(text, origin="r.txt:1", base=base, **kwargs)


def read(root: Path, rel: str = "srv/requirements.txt") -> list[ReqLine]:
    return read_requirements_file(root / rel, root=root.resolve(), display=rel)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """``srv/`` plus a sibling ``common/`` project and a bare ``data/`` directory."""
    write(
        tmp_path,
        {
            "srv/server.py": "",
            "common/pyproject.toml": '[project]\nname = "Common_Lib"\n',
            "common/common_lib/__init__.py": "",
            "data/x.csv": "",
        },
    )
    return tmp_path.resolve()


# ------------------------------------------------------------------ single entries


@pytest.mark.parametrize(
    ("text", "name", "requirement"),
    [
        ("requests", "requests", "requests"),
        ("Requests[socks]>=2.31,<3", "requests", "Requests[socks]<3,>=2.31"),
        ("zope.interface==6", "zope-interface", "zope.interface==6"),
        ('pywin32; sys_platform == "win32"', "pywin32", 'pywin32; sys_platform == "win32"'),
        ("fastmcp >= 2.12", "fastmcp", "fastmcp>=2.12"),
    ],
)
def test_pypi(repo: Path, text: str, name: str, requirement: str) -> None:
    line = parse(text, repo / "srv")
    assert (line.kind, line.name, line.requirement) == ("pypi", name, requirement)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("../common", None),
        ("./../common/", None),
        ("common-lib @ file:../common", "common-lib"),
        ("common-lib @ file:///ABS/common", "common-lib"),
        ("file:../common", None),
        ("file:///ABS/common", None),
        ("file://localhost/ABS/common", None),
    ],
)
def test_local_paths(repo: Path, text: str, name: str | None) -> None:
    line = parse(text.replace("/ABS", str(repo)), repo / "srv")
    assert line.kind == "path"
    assert line.name == name
    assert line.path is not None
    assert line.path.resolve() == repo / "common"


def test_bare_name_is_a_path_only_for_an_installable_directory(repo: Path) -> None:
    write(repo, {"srv/tool/pyproject.toml": "", "srv/scripts/run.sh": ""})
    assert parse("tool", repo / "srv").kind == "path"
    assert parse("scripts", repo / "srv").kind == "pypi"  # a plain folder: PyPI's 'scripts'


def test_archives_are_paths(repo: Path) -> None:
    line = parse("dist/pkg-1.0-py3-none-any.whl", repo / "srv")
    assert line.kind == "path"
    assert parse("pkg-1.0.tar.gz", repo / "srv").kind == "path"


@pytest.mark.parametrize(
    ("text", "name", "url"),
    [
        ("git+https://github.com/o/r.git@v1#egg=my_pkg", "my-pkg", None),
        ("git+ssh://git@github.com/o/r.git", None, None),
        (
            "my-pkg @ git+https://github.com/o/r.git@main",
            "my-pkg",
            "git+https://github.com/o/r.git@main",
        ),
        ("git://github.com/o/r.git", None, None),
    ],
)
def test_git(repo: Path, text: str, name: str | None, url: str | None) -> None:
    line = parse(text, repo)
    assert (line.kind, line.name) == ("git", name)
    assert line.url == (url or text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("https://example.com/pkg-1.0.tar.gz", None),
        ("http://example.com/pkg.whl", None),
        ("pkg @ https://example.com/pkg-1.0.zip", "pkg"),
    ],
)
def test_urls(repo: Path, text: str, name: str | None) -> None:
    line = parse(text, repo)
    assert (line.kind, line.name) == ("url", name)


def test_options(repo: Path) -> None:
    assert parse("--index-url https://x", repo).kind == "option"


@pytest.mark.parametrize("text", ["requests==>2", "foo bar", "pkg[", "name @ ", "===", "a;;"])
def test_invalid_pep508(repo: Path, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text, repo)
    message = str(info.value)
    assert message.startswith(f"r.txt:1: invalid requirement {text.strip()!r}: ")
    assert "\n" not in message
    assert "PEP 508" in message
    assert info.value.exit_code == 2


# ------------------------------------------------------------------ files


def test_file_forms(repo: Path) -> None:
    write(
        repo,
        {
            "srv/requirements.txt": (
                "\ufeff# a comment\n"
                "\n"
                "fastmcp>=2.12  # trailing comment\n"
                "pydantic>=2\t# tab comment\n"
                "-e ../common\n"
                "--index-url https://pypi.example/simple\n"
                "-i https://pypi.example/simple\n"
                "httpx==0.27 \\\n"
                "    --hash=sha256:aaa \\\n"
                "    --hash=sha256:bbb\n"
                "-r more.txt\n"
                "-c constraints.txt\n"
                "git+https://github.com/o/r.git#egg=tool\n"
                "-e .\n"
            ),
            "srv/more.txt": "--requirement=even-more.txt\nrich\n",
            "srv/even-more.txt": "typer\n",
            "srv/constraints.txt": "anyio<5\n",
        },
    )
    lines = read(repo)
    summary = [
        (line.kind, line.name, line.origin, line.editable, line.constraint) for line in lines
    ]
    assert summary == [
        ("pypi", "fastmcp", "srv/requirements.txt:3", False, False),
        ("pypi", "pydantic", "srv/requirements.txt:4", False, False),
        ("path", None, "srv/requirements.txt:5", True, False),
        ("option", None, "srv/requirements.txt:6", False, False),
        ("option", None, "srv/requirements.txt:7", False, False),
        ("pypi", "httpx", "srv/requirements.txt:8", False, False),
        ("pypi", "typer", "srv/even-more.txt:1", False, False),  # not "(from ...):1"
        ("pypi", "rich", "srv/more.txt:2", False, False),
        ("pypi", "anyio", "srv/constraints.txt:1", False, True),
        ("git", "tool", "srv/requirements.txt:13", False, False),
        ("path", None, "srv/requirements.txt:14", True, False),
    ]
    assert lines[2].path == repo / "common"
    assert lines[5].requirement == "httpx==0.27"
    assert lines[-1].path == repo / "srv"


def test_short_option_forms(repo: Path) -> None:
    write(repo, {"srv/requirements.txt": "-e../common\n-rmore.txt\n", "srv/more.txt": "rich\n"})
    kinds = [(line.kind, line.name) for line in read(repo)]
    assert kinds == [("path", None), ("pypi", "rich")]


def test_comment_line_ending_in_backslash_is_not_a_continuation(repo: Path) -> None:
    write(repo, {"srv/requirements.txt": "# see \\\nrich\n"})
    assert [line.name for line in read(repo)] == ["rich"]


def test_hash_in_url_fragment_is_not_a_comment(repo: Path) -> None:
    write(repo, {"srv/requirements.txt": "git+https://x.example/r.git#egg=pkg\n"})
    assert read(repo)[0].name == "pkg"


def test_editable_git(repo: Path) -> None:
    write(repo, {"srv/requirements.txt": "-e git+https://x.example/r.git#egg=pkg\n"})
    line = read(repo)[0]
    assert (line.kind, line.name, line.editable) == ("git", "pkg", True)


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ({}, "srv/requirements.txt: requirements file not found"),
        ({"srv/requirements.txt/x": ""}, "srv/requirements.txt: requirements path is not a file"),
        ({"srv/requirements.txt": b"a\x00b"}, "requirements file is binary"),
        ({"srv/requirements.txt": b"caf\xe9\n"}, "requirements file is not valid UTF-8"),
        (
            {"srv/requirements.txt": "rich\nhttpx \\"},
            "srv/requirements.txt:2: unterminated line continuation",
        ),
        ({"srv/requirements.txt": "-r\n"}, "srv/requirements.txt:1: -r needs a file name"),
        ({"srv/requirements.txt": "-e\n"}, "srv/requirements.txt:1: -e needs a path or URL"),
        (
            {"srv/requirements.txt": "-r nope.txt\n"},
            "srv/nope.txt (from srv/requirements.txt:1): requirements file not found",
        ),
        (
            {"srv/requirements.txt": "-r ../../x.txt\n"},
            "srv/requirements.txt:1: -r ../../x.txt points outside the repository",
        ),
        (
            {"srv/requirements.txt": "-r requirements.txt\n"},
            "-r include loop: srv/requirements.txt -> srv/requirements.txt",
        ),
        (
            {"srv/requirements.txt": "-r a.txt\n", "srv/a.txt": "-c requirements.txt\n"},
            "-r include loop: srv/requirements.txt -> srv/a.txt -> srv/requirements.txt",
        ),
        (
            {"srv/requirements.txt": "rich\n\nfoo==>1\n"},
            "srv/requirements.txt:3: invalid requirement 'foo==>1'",
        ),
        (
            {"srv/requirements.txt": "-e ../gone\n"},
            "'-e ../gone' points at directory 'gone', which does not exist",
        ),
        (
            {"srv/requirements.txt": "x @ file:../gone\n"},
            "points at path 'gone', which does not exist",
        ),
    ],
)
def test_file_errors(repo: Path, files: dict[str, str | bytes], fragment: str) -> None:
    write(repo, files)
    with pytest.raises(ConfigError) as info:
        read(repo)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_continuation_keeps_first_line_number(repo: Path) -> None:
    write(repo, {"srv/requirements.txt": "rich\nfoo \\\n  ==>1\n"})
    with pytest.raises(ConfigError, match=r"srv/requirements.txt:2: invalid requirement"):
        read(repo)


# ------------------------------------------------------------------ pyproject


def test_pyproject_pep621_with_uv_sources(repo: Path) -> None:
    write(
        repo,
        {
            "srv/pyproject.toml": """
[project]
name = "My_Server"
version = "1.2"
dependencies = ["fastmcp>=2", "common-lib", "tool", "member", "plain @ file:../common"]
[project.scripts]
serve = "srv:main"
[tool.uv.sources]
Common_Lib = { path = "../common", editable = true }
tool = { git = "https://x.example/tool.git", tag = "v1", subdirectory = "py" }
member = { workspace = true }
[build-system]
requires = ["hatchling"]
""",
        },
    )
    info = read_pyproject(repo / "srv/pyproject.toml", root=repo)
    assert (info.name, info.version, info.has_dependencies, info.has_build_system) == (
        "my-server", "1.2", True, True
    )  # fmt: skip
    assert info.entry_points == {"console_scripts": {"serve": "srv:main"}}
    deps = info.dependencies
    assert [(d.kind, d.name) for d in deps] == [
        ("pypi", "fastmcp"),
        ("path", "common-lib"),
        ("git", "tool"),
        ("path", "member"),
        ("path", "plain"),
    ]
    assert deps[1].path == repo / "common"
    assert deps[1].editable
    assert deps[1].origin == "srv/pyproject.toml: project.dependencies[1]"
    assert deps[2].url == "git+https://x.example/tool.git@v1#subdirectory=py"
    assert deps[3].path is None


def test_pyproject_poetry(repo: Path) -> None:
    write(
        repo,
        {
            "srv/pyproject.toml": """
[tool.poetry]
name = "srv"
version = "0.1.0"
[tool.poetry.dependencies]
python = "^3.11"
fastmcp = "^2.12"
pydantic = { version = "~2.7", extras = ["email"] }
anyio = "*"
httpx = "0.27.0"
common = { path = "../common", develop = true }
tool = { git = "https://x.example/tool.git", branch = "main" }
tomli = { version = "^2.0", markers = "python_version < '3.11'" }
uvloop = { version = "*", extras = ["a", "b"], markers = "sys_platform != 'win32'" }
docs = { version = "^1.0", optional = true }
""",
        },
    )
    info = read_pyproject(repo / "srv/pyproject.toml", root=repo)
    assert info.name == "srv"
    assert info.has_dependencies
    shown = [(d.kind, d.name, d.requirement) for d in info.dependencies]
    assert shown == [
        ("pypi", "fastmcp", "fastmcp<3,>=2.12"),
        ("pypi", "pydantic", "pydantic[email]<2.8,>=2.7"),
        ("pypi", "anyio", "anyio"),
        ("pypi", "httpx", "httpx==0.27.0"),
        ("path", "common", None),
        ("git", "tool", None),
        ("pypi", "tomli", 'tomli<3,>=2.0; python_version < "3.11"'),
        ("pypi", "uvloop", 'uvloop[a,b]; sys_platform != "win32"'),
    ]  # an optional dependency is installed only with its project's extra: never here
    assert info.dependencies[4].editable
    assert info.dependencies[5].url == "git+https://x.example/tool.git@main"


@pytest.mark.parametrize(
    ("version", "spec"),
    [
        ("^1.2.3", ">=1.2.3,<2"),
        ("^1.2", ">=1.2,<2"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=1.2", "~=1.2"),
        ("*", ""),
        ("", ""),
        ("1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        (">=1,<2", ">=1,<2"),
        ("^not-a-version", "^not-a-version"),
    ],
)
def test_poetry_specifier(version: str, spec: str) -> None:
    assert poetry_specifier(version) == spec


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            '[project]\ndependencies = "x"\n',
            "srv/pyproject.toml: project.dependencies: must be a list",
        ),
        (
            "[project]\ndependencies = [1]\n",
            "srv/pyproject.toml: project.dependencies[0]: must be a string",
        ),
        (
            '[project]\ndependencies = ["a==>1"]\n',
            "project.dependencies[0]: invalid requirement 'a==>1'",
        ),
        ("[project\n", "srv/pyproject.toml:1:"),
        (
            '[tool.poetry.dependencies]\nx = "^bad"\n',
            "tool.poetry.dependencies.x: invalid requirement",
        ),
        (
            '[project]\ndependencies = ["x"]\n[tool.uv.sources]\nx = { path = "../nope" }\n',
            "points at path 'nope', which does not exist",
        ),
    ],
)
def test_pyproject_errors(repo: Path, text: str, fragment: str) -> None:
    write(repo, {"srv/pyproject.toml": text})
    with pytest.raises(ConfigError) as info:
        read_pyproject(repo / "srv/pyproject.toml", root=repo)
    assert fragment in str(info.value)
    assert info.value.exit_code == 2


def test_pyproject_without_dependencies(repo: Path) -> None:
    write(repo, {"srv/pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n'})
    info = read_pyproject(repo / "srv/pyproject.toml", root=repo)
    assert (info.has_dependencies, info.dependencies) == (False, ())


# -- paths written from the repository root ---------------------------------------------

UV_EXPORT = (
    "# This file was autogenerated by uv via the following command:\n"
    "#    uv export --package notes -o servers/notes/requirements.txt\n"
    "-e ./libs/common\n"
    "    # via notes\n"
    "anyio==4.9.0 \\\n"
    "    --hash=sha256:673c0c244e15788651a4ff38710fea9675823028a6f08a5eda409e0c9840a28f\n"
)


def test_a_path_written_from_the_repo_root_is_read_from_there(tmp_path: Path) -> None:
    (tmp_path / "libs/common").mkdir(parents=True)
    (tmp_path / "servers/notes").mkdir(parents=True)
    (tmp_path / "servers/notes/requirements.txt").write_text(UV_EXPORT)
    lines = read(tmp_path, "servers/notes/requirements.txt")
    path = next(line for line in lines if line.kind == "path")
    assert path.editable and path.path is not None
    assert path.path.resolve() == (tmp_path / "libs/common").resolve()
    assert [line.requirement for line in lines if line.kind == "pypi"] == ["anyio==4.9.0"]


def test_the_files_own_folder_comes_first(tmp_path: Path) -> None:
    for rel in ("libs/common", "servers/notes/libs/common"):
        (tmp_path / rel).mkdir(parents=True)
    (tmp_path / "servers/notes/requirements.txt").write_text("./libs/common\n")
    (path,) = read(tmp_path, "servers/notes/requirements.txt")
    assert path.path is not None
    assert path.path.resolve() == (tmp_path / "servers/notes/libs/common").resolve()


def test_a_path_leaving_the_files_folder_is_not_looked_up_at_the_root(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "servers/notes").mkdir(parents=True)
    (tmp_path / "servers/notes/requirements.txt").write_text("-e ../common\n")
    with pytest.raises(ConfigError, match="which does not exist"):
        read(tmp_path, "servers/notes/requirements.txt")


def test_an_absolute_path_of_another_machine_is_read_from_its_tail(tmp_path: Path) -> None:
    """pip-compile writes ``-e ../../libs/common`` as the developer's absolute path."""
    (tmp_path / "libs/common").mkdir(parents=True)
    (tmp_path / "libs/common/pyproject.toml").write_text("[project]\nname = 'common'\n")
    (tmp_path / "servers/notes").mkdir(parents=True)
    (tmp_path / "servers/notes/requirements.txt").write_text(
        "-e file:///home/dev/work/repo/libs/common\n    # via -r requirements.in\n"
    )
    (line,) = read(tmp_path, "servers/notes/requirements.txt")
    assert line.path is not None
    assert line.path.resolve() == (tmp_path / "libs/common").resolve()
    assert line.found_at == (
        "is an absolute path of another machine; read as 'libs/common'"
        " (write '-e file:../../libs/common', which every machine reads)"
    )


def test_an_absolute_path_the_repo_does_not_hold_still_fails(tmp_path: Path) -> None:
    (tmp_path / "libs/common").mkdir(parents=True)  # no project file: not an installable tail
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv/requirements.txt").write_text("-e /home/dev/repo/libs/common\n")
    with pytest.raises(ConfigError, match="which does not exist"):
        read(tmp_path)


def test_a_relative_path_after_file_double_slash_is_relative(tmp_path: Path) -> None:
    line = parse("common @ file://../libs/common", tmp_path / "srv")
    assert line.kind == "path" and line.path == tmp_path / "libs/common"
