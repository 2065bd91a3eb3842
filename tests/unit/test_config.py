"""``mcpbundle.toml`` validation: one actionable line per mistake, dataclasses otherwise."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.paths import branch_name_problem, find_cycle
from mcpbundle.config.read import find_config, read_toml
from mcpbundle.config.settings import BundleSettings, DeploySettings, Server
from mcpbundle.config.validate import check_output_dir, load_config, validate

SERVER = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
LIB = '[shared.util]\npath = "lib"\n'


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def monorepo(root: Path, toml: str, extra: dict[str, str | bytes] | None = None) -> Path:
    """A tiny repo: one server dir ``srv`` and one library ``lib/util_pkg``."""
    files: dict[str, str | bytes] = {
        "mcpbundle.toml": toml,
        "srv/server.py": "mcp = None\n",
        "lib/util_pkg/__init__.py": "",
    }
    files.update(extra or {})
    return write(root, files)


def fail(root: Path, toml: str, extra: dict[str, str | bytes] | None = None) -> ConfigError:
    monorepo(root, toml, extra)
    with pytest.raises(ConfigError) as info:
        load_config(root)
    return info.value


BAD = [
    # (id, toml, extra files, fragments)
    ("toml-syntax", "[servers.a\n", {}, ["mcpbundle.toml:1:11:", "TOML syntax error"]),
    ("toml-eof", SERVER + 'expect-tools = ["a",\n', {}, ["mcpbundle.toml:4:", "end of file"]),
    ("not-utf8", b"# \xff\n" + SERVER.encode(), {}, ["mcpbundle.toml: not valid UTF-8"]),
    ("unknown-top", SERVER + "[server]\n", {}, ["server: unknown key", "did you mean 'servers'?"]),
    ("unknown-bundle", '[bundle]\nouput = "d"\n' + SERVER, {}, ["bundle.ouput", "'output'"]),
    ("unknown-deploy", '[bundle.deploy]\nname = "x"\n' + SERVER, {}, ["bundle.deploy.name"]),
    ("unknown-shared", LIB + "pkgs = []\n" + SERVER, {}, ["shared.util.pkgs: unknown key"]),
    ("unknown-server", SERVER + "sharde = []\n", {}, ["servers.a.sharde", "'shared'"]),
    ("unknown-check", SERVER + "[check]\nselect = []\n", {}, ["check.select: unknown key"]),
    ("no-servers", "", {}, ["servers: no servers declared"]),
    ("servers-list", 'servers = ["a"]\n', {}, ["servers: must be a table, got a list"]),
    ("server-string", 'servers.a = "srv"\n', {}, ["servers.a: must be a table, got a string"]),
    (
        "bool-type",
        "[bundle]\nno-index = 1\n" + SERVER,
        {},
        ["bundle.no-index: must be true or false"],
    ),
    ("list-type", SERVER + 'exclude = "x"\n', {}, ["servers.a.exclude: must be a list of strings"]),
    (
        "list-item",
        SERVER + "ignore = [1]\n",
        {},
        ["servers.a.ignore[0]: must be a string, got an integer"],
    ),
    ("list-empty", SERVER + 'ignore = [" "]\n', {}, ["servers.a.ignore[0]: must not be empty"]),
    ("python", '[bundle]\npython = "py3"\n' + SERVER, {}, ["bundle.python: must look like '3.12'"]),
    (
        "resolver",
        '[bundle]\nresolver = "uvv"\n' + SERVER,
        {},
        ["bundle.resolver", "did you mean 'uv'?"],
    ),
    ("git", '[bundle]\ngit = "vendr"\n' + SERVER, {}, ["bundle.git", "'vendor'"]),
    (
        "overrides",
        '[bundle.git-overrides]\n"https://x" = "nope"\n' + SERVER,
        {},
        ["bundle.git-overrides.'https://x'"],
    ),
    ("branch-dash", '[bundle]\nbranch = "-x"\n' + SERVER, {}, ["bundle.branch", "starts with '-'"]),
    ("branch-dots", '[bundle]\nbranch = "a..b"\n' + SERVER, {}, ["bundle.branch", "'..'"]),
    (
        "output-root",
        '[bundle]\noutput = "."\n' + SERVER,
        {},
        ["bundle.output: '.' is the repository root"],
    ),
    ("output-parent", '[bundle]\noutput = ".."\n' + SERVER, {}, ["contains the repository"]),
    ("output-file", '[bundle]\noutput = "f"\n' + SERVER, {"f": "x"}, ["'f' is a file"]),
    ("output-server", '[bundle]\noutput = "srv"\n' + SERVER, {}, ["source directory 'srv'"]),
    (
        "output-lib-parent",
        '[bundle]\noutput = "libs"\n[shared.u]\npath = "libs/u"\n' + SERVER,
        {"libs/u/u.py": ""},
        ["source directory 'libs/u'"],
    ),
    ("output-tilde", '[bundle]\noutput = "~/out"\n' + SERVER, {}, ["bundle.output", "'~'"]),
    (
        "empty-server-name",
        '[servers.""]\npath = "srv"\nentrypoint = "server.py"\n',
        {},
        ["servers.'': name must not be empty"],
    ),
    (
        "bad-server-name",
        '[servers."a/b"]\npath = "srv"\nentrypoint = "server.py"\n',
        {},
        ["invalid name 'a/b'"],
    ),
    (
        "empty-lib-name",
        '[shared.""]\npath = "lib"\n' + SERVER,
        {},
        ["shared.'': name must not be empty"],
    ),
    (
        "missing-path",
        '[servers.a]\nentrypoint = "server.py"\n',
        {},
        ["servers.a.path: is required"],
    ),
    (
        "missing-entry",
        '[servers.a]\npath = "srv"\n',
        {},
        ["servers.a.entrypoint: is required", "entrypoint ="],
    ),
    ("lib-missing-path", "[shared.util]\n" + SERVER, {}, ["shared.util.path: is required"]),
    (
        "empty-path",
        '[servers.a]\npath = ""\nentrypoint = "server.py"\n',
        {},
        ["servers.a.path: must not be empty"],
    ),
    (
        "path-missing",
        '[servers.a]\npath = "nope"\nentrypoint = "server.py"\n',
        {},
        ["directory 'nope' does not exist"],
    ),
    (
        "path-file",
        '[servers.a]\npath = "srv/server.py"\nentrypoint = "x.py"\n',
        {},
        ["is not a directory"],
    ),
    (
        "path-absolute",
        '[servers.a]\npath = "/tmp"\nentrypoint = "server.py"\n',
        {},
        ["'/tmp' is absolute"],
    ),
    (
        "path-home",
        '[servers.a]\npath = "~/srv"\nentrypoint = "server.py"\n',
        {},
        ["'~/srv' is absolute"],
    ),
    (
        "path-escape",
        '[servers.a]\npath = "srv/../.."\nentrypoint = "server.py"\n',
        {},
        ["points outside the repository"],
    ),
    (
        "same-path",
        SERVER + '[servers.b]\npath = "./srv"\nentrypoint = "server.py"\n',
        {},
        ["servers.b.path: same directory 'srv' as server 'a'"],
    ),
    (
        "nested",
        SERVER + '[servers.b]\npath = "srv/x"\nentrypoint = "s.py"\n',
        {"srv/x/s.py": ""},
        ["servers.b.path", "inside server 'a'"],
    ),
    (
        "lib-same-path",
        LIB + '[shared.v]\npath = "lib/."\n' + SERVER,
        {},
        ["shared.v.path: same directory 'lib' as shared library 'util'"],
    ),
    (
        "entry-missing",
        '[servers.a]\npath = "srv"\nentrypoint = "main.py"\n',
        {},
        ["servers.a.entrypoint: file 'main.py' does not exist"],
    ),
    (
        "entry-not-py",
        '[servers.a]\npath = "srv"\nentrypoint = "server"\n',
        {},
        ["'server' is not a .py file"],
    ),
    (
        "entry-object",
        '[servers.a]\npath = "srv"\nentrypoint = "server.py:1app"\n',
        {},
        ["object name '1app'"],
    ),
    (
        "entry-object-empty",
        '[servers.a]\npath = "srv"\nentrypoint = "server.py:"\n',
        {},
        ["object name ''"],
    ),
    (
        "entry-keyword",
        '[servers.a]\npath = "srv"\nentrypoint = "server.py:def"\n',
        {},
        ["object name 'def'"],
    ),
    (
        "entry-dir",
        '[servers.a]\npath = "srv"\nentrypoint = "d.py"\n',
        {"srv/d.py/x": ""},
        ["'d.py' is not a file"],
    ),
    (
        "entry-outside",
        '[servers.a]\npath = "srv"\nentrypoint = "../x.py"\n',
        {"x.py": ""},
        ["points outside 'srv'"],
    ),
    (
        "requirements-missing",
        SERVER + 'requirements = "r.txt"\n',
        {},
        ["servers.a.requirements: file 'r.txt' does not exist"],
    ),
    (
        "vendor-dir-escape",
        SERVER + 'vendor-dir = ".."\n',
        {},
        ["servers.a.vendor-dir: must stay inside"],
    ),
    (
        "vendor-dir-absolute",
        SERVER + 'vendor-dir = "/x"\n',
        {},
        ["servers.a.vendor-dir: '/x' is absolute"],
    ),
    ("shim", SERVER + 'shim = "sometimes"\n', {}, ["servers.a.shim: must be one of"]),
    ("shim-name", SERVER + 'shim-name = "a-b.py"\n', {}, ["servers.a.shim-name"]),
    ("env", SERVER + "env = { X = true }\n", {}, ["servers.a.env.X: must be a string"]),
    (
        "unknown-lib",
        LIB + SERVER + 'shared = ["utl"]\n',
        {},
        ["servers.a.shared[0]: unknown shared library 'utl'", "did you mean 'util'?"],
    ),
    (
        "unknown-lib-nohint",
        LIB + SERVER + 'shared = ["zzz"]\n',
        {},
        ["declare it as a [shared.NAME] table"],
    ),
    (
        "unknown-requires",
        LIB + 'requires = ["x"]\n' + SERVER,
        {},
        ["shared.util.requires[0]: unknown shared library 'x'"],
    ),
    (
        "packages-ident",
        LIB + 'packages = ["a.b-c"]\n' + SERVER,
        {},
        ["shared.util.packages[0]: 'a.b-c' is not an importable name"],
    ),
    (
        "packages-keyword",
        LIB + 'packages = ["import"]\n' + SERVER,
        {},
        ["'import' is not an importable name"],
    ),
    (
        "cycle-1",
        LIB + 'requires = ["util"]\n' + SERVER,
        {},
        ["shared.util.requires: shared libraries form a cycle: util -> util"],
    ),
    (
        "cycle-2",
        '[shared.a]\npath = "lib"\nrequires = ["b"]\n[shared.b]\npath = "srv"\nrequires = ["a"]\n'
        + SERVER,
        {},
        ["cycle: a -> b -> a"],
    ),
    (
        "check-ignore",
        SERVER + "[check]\nignore = 'X'\n",
        {},
        ["check.ignore: must be a list of strings"],
    ),
]


@pytest.mark.parametrize(
    ("toml", "extra", "fragments"), [pytest.param(*c[1:], id=c[0]) for c in BAD]
)
def test_bad_config(
    tmp_path: Path, toml: str | bytes, extra: dict[str, str | bytes], fragments: list[str]
) -> None:
    files: dict[str, str | bytes] = {"mcpbundle.toml": toml, **extra}
    write(tmp_path, {"srv/server.py": "mcp = None\n", "lib/util_pkg/__init__.py": "", **files})
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    text = str(info.value)
    assert info.value.exit_code == 2
    assert "\n" not in text
    assert text.startswith("mcpbundle.toml")
    for fragment in fragments:
        assert fragment in text


def test_path_through_symlink_outside_repo(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"server.py": "mcp = None\n"})
    repo = tmp_path / "repo"
    write(repo, {"mcpbundle.toml": SERVER.replace('"srv"', '"link"')})
    (repo / "link").symlink_to(outside)
    with pytest.raises(ConfigError, match="resolves outside the repository through a symlink"):
        load_config(repo)


def test_symlinked_server_dirs_to_the_same_target_are_one_path(tmp_path: Path) -> None:
    toml = SERVER + '[servers.b]\npath = "alias"\nentrypoint = "server.py"\n'
    monorepo(tmp_path, toml)
    (tmp_path / "alias").symlink_to("srv")
    with pytest.raises(ConfigError, match="same directory 'alias' as server 'a'"):
        load_config(tmp_path)


def test_server_path_may_be_a_shared_lib_path(tmp_path: Path) -> None:
    monorepo(tmp_path, '[shared.s]\npath = "srv"\n' + SERVER + 'shared = ["s"]\n')
    config = load_config(tmp_path)
    assert config.shared["s"].path == config.servers["a"].path == "srv"


def test_root_server_may_hold_other_servers(tmp_path: Path) -> None:
    toml = '[servers.root]\npath = "."\nentrypoint = "main.py"\n' + SERVER
    monorepo(tmp_path, toml, {"main.py": ""})
    assert set(load_config(tmp_path).servers) == {"root", "a"}


def test_defaults(tmp_path: Path) -> None:
    monorepo(tmp_path, SERVER)
    config = load_config(tmp_path)
    assert config.bundle == BundleSettings()
    assert config.bundle.output == "dist"
    assert config.bundle.resolver == "pip-tools"
    assert config.bundle.branch == "deploy"
    assert config.bundle.deploy == DeploySettings()
    assert config.shared == {}
    assert config.check_ignore == ()
    assert config.servers["a"] == Server(name="a", path="srv", entrypoint="server.py")
    assert config.root == tmp_path.resolve()
    assert config.path == (tmp_path / "mcpbundle.toml").resolve()
    assert config.display == "mcpbundle.toml"


def test_full_config(tmp_path: Path) -> None:
    toml = """
[bundle]
output = "out/bundles"
exclude = ["notebooks/"]
python = "3.12"
index-url = "https://example.com/simple"
extra-index-urls = ["https://extra.example.com/simple"]
find-links = ["wheels"]
no-index = true
hashes = true
resolver = "uv"
git = "pin"
git-overrides = { "https://b.example/x.git" = "vendor", "https://a.example/y.git" = "pin" }
branch = "release/deploy"
lock = "per-server"
add-fastmcp = false
auto-fix = false
allow-secrets = ["srv/.env.sample"]

[bundle.deploy]
author-name = "Bot"
author-email = "bot@example.com"

[shared.util]
path = "lib/"
packages = ["util_pkg"]
requires = []

[shared.core]
path = "./core"
requires = ["util"]

[servers.a]
path = "srv"
entrypoint = "./src/server.py:app"
requirements = "reqs/base.txt"
shared = ["core"]
vendor-dir = "vendor"
exclude = ["*.md"]
shim = "always"
shim-name = "entry.py"
ignore = ["MB101"]
env = { Z = "1", A = "" }
expect-tools = ["ping"]

[check]
ignore = ["MB200"]
"""
    extra = {"srv/src/server.py": "", "srv/reqs/base.txt": "", "core/core_pkg/__init__.py": ""}
    monorepo(tmp_path, toml, extra)
    config = load_config(tmp_path)
    bundle = config.bundle
    assert bundle.output == "out/bundles"
    assert bundle.exclude == ("notebooks/",)
    assert bundle.python == "3.12"
    assert bundle.index_url == "https://example.com/simple"
    assert bundle.extra_index_urls == ("https://extra.example.com/simple",)
    assert bundle.find_links == ("wheels",)
    assert bundle.no_index is True
    assert bundle.hashes is True
    assert bundle.resolver == "uv"
    assert bundle.git == "pin"
    assert list(bundle.git_overrides) == ["https://a.example/y.git", "https://b.example/x.git"]
    assert bundle.branch == "release/deploy"
    assert bundle.lock == "per-server"
    assert bundle.add_fastmcp is False
    assert bundle.auto_fix is False
    assert bundle.allow_secrets == ("srv/.env.sample",)
    assert bundle.deploy == DeploySettings(author_name="Bot", author_email="bot@example.com")
    util, core = config.shared["util"], config.shared["core"]
    assert (util.path, util.packages, util.requires) == ("lib", ("util_pkg",), ())
    assert (core.path, core.packages, core.requires) == ("core", None, ("util",))
    server = config.servers["a"]
    assert server.entrypoint == "src/server.py"
    assert server.object == "app"
    assert server.requirements == "reqs/base.txt"
    assert server.shared == ("core",)
    assert server.vendor_dir == "vendor"
    assert server.exclude == ("*.md",)
    assert server.shim == "always"
    assert server.shim_name == "entry.py"
    assert server.ignore == ("MB101",)
    assert list(server.env.items()) == [("A", ""), ("Z", "1")]
    assert server.expect_tools == ("ping",)
    assert config.check_ignore == ("MB200",)


def test_validate_takes_a_dict(tmp_path: Path) -> None:
    monorepo(tmp_path, "")
    data = tomllib.loads(SERVER)
    config = validate(data, tmp_path / "mcpbundle.toml")
    assert list(config.servers) == ["a"]
    with pytest.raises(ConfigError) as info:
        validate({"servers": {"a": {"path": "srv"}}}, tmp_path / "mcpbundle.toml")
    assert str(info.value).startswith("mcpbundle.toml: servers.a.entrypoint: is required;")


def test_the_example_monorepo_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "example-monorepo"
    if not (example / "mcpbundle.toml").is_file():
        pytest.skip("no example monorepo")
    config = load_config(example)
    assert set(config.servers) == {"ops", "customer", "finance"}
    assert config.shared["core"].requires == ("utils",)
    assert config.servers["finance"].object == "app"


# --------------------------------------------------------------------------- reading


def test_find_config_searches_parents(tmp_path: Path) -> None:
    monorepo(tmp_path, SERVER)
    assert find_config(tmp_path / "srv") == (tmp_path / "mcpbundle.toml").resolve()


def test_find_config_explicit(tmp_path: Path) -> None:
    monorepo(tmp_path, SERVER)
    assert find_config(tmp_path / "srv", Path("..")) == (tmp_path / "mcpbundle.toml").resolve()
    with pytest.raises(ConfigError) as info:
        find_config(tmp_path, Path("missing.toml"))
    assert str(info.value).startswith("missing.toml: config file not found; ")
    assert info.value.exit_code == 2


def test_find_config_none(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no mcpbundle\.toml"):
        find_config(tmp_path)


def test_read_toml_accepts_a_bom(tmp_path: Path) -> None:
    path = write(tmp_path, {"x.toml": "\ufeffa = 1\n"}) / "x.toml"
    assert read_toml(path) == {"a": 1}


def test_read_toml_positions(tmp_path: Path) -> None:
    path = write(tmp_path, {"x.toml": 'a = 1\nb = "x\n'}) / "x.toml"
    with pytest.raises(ConfigError) as info:
        read_toml(path, display="dir/x.toml")
    assert str(info.value).startswith("dir/x.toml:2:")


def test_read_toml_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        read_toml(tmp_path / "nope.toml")


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({}, None),
        ({"a": ("b",), "b": ()}, None),
        ({"a": ("a",)}, ["a", "a"]),
        ({"b": ("a",), "a": ("b",)}, ["a", "b", "a"]),
        ({"a": ("b",), "b": ("c",), "c": ("a",)}, ["a", "b", "c", "a"]),
        ({"x": ("a",), "a": ("b",), "b": ("a",)}, ["a", "b", "a"]),
        ({"a": ("b", "c"), "b": ("d",), "c": ("d",), "d": ()}, None),
    ],
)
def test_find_cycle(graph: dict[str, tuple[str, ...]], cycle: list[str] | None) -> None:
    assert find_cycle(graph) == cycle


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("deploy", True),
        ("release/deploy-1.2", True),
        ("-x", False),
        ("HEAD", False),
        ("a b", False),
        ("a..b", False),
        ("a~1", False),
        ("a:b", False),
        ("a\\b", False),
        ("x.lock", False),
        ("x/", False),
        ("x.", False),
        ("a/.hidden", False),
        ("a@{1}", False),
        ("a//b", False),
    ],
)
def test_branch_name_problem(name: str, ok: bool) -> None:
    assert (branch_name_problem(name) is None) is ok


def test_check_output_dir(tmp_path: Path) -> None:
    monorepo(tmp_path, LIB + SERVER)
    config = load_config(tmp_path)
    check_output_dir(config, tmp_path / "dist")
    check_output_dir(config, tmp_path.parent / "elsewhere")
    for bad, fragment in [
        (tmp_path, "repository root"),
        (tmp_path.parent, "contains the repository"),
        (tmp_path / "srv", "source directory 'srv'"),
        (tmp_path / "lib", "source directory 'lib'"),
        (tmp_path / "srv" / "server.py", "is a file"),
    ]:
        with pytest.raises(ConfigError, match=fragment) as info:
            check_output_dir(config, bad)
        assert str(info.value).startswith("-o/--output: ")
