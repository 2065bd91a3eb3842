"""The keys of the .mcpb output: formats, versions, runtime, platforms, manifest tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config import SERVER, fail, monorepo

from mcpbundle.config.mcpb_settings import MANIFEST_FIELDS, MCPB_PLATFORMS
from mcpbundle.config.validate import load_config
from support.mcpbcases import BAD_FIELDS, EVERY_FIELD, Bad, mcpb_table


def test_defaults(tmp_path: Path) -> None:
    config = load_config(monorepo(tmp_path, SERVER))
    assert config.bundle.formats == ("dir",)
    assert config.bundle.version is None
    assert config.bundle.mcpb == {}
    server = config.servers["a"]
    assert (server.version, server.mcpb_runtime, server.mcpb_compiled) == (None, "uv", False)
    assert server.mcpb_platforms == MCPB_PLATFORMS
    assert server.mcpb == {}


def test_every_key(tmp_path: Path) -> None:
    toml = (
        '[bundle]\nformats = ["mcpb"]\nversion = "1.2.0"\n'
        '[bundle.mcpb]\nauthor = { name = "Team", email = "team@example.com" }\n'
        'license = "MIT"\n'
        + SERVER
        + 'version = "2.0.0"\nmcpb-runtime = "python"\nmcpb-platforms = ["linux", "darwin"]\n'
        "mcpb-compiled = true\n"
        '[servers.a.mcpb]\ndisplay_name = "A"\nkeywords = ["x"]\n'
        '[servers.a.mcpb.compatibility]\nclaude_desktop = ">=0.10"\n'
    )
    config = load_config(monorepo(tmp_path, toml))
    assert config.bundle.formats == ("dir", "mcpb")  # the directory is always written
    assert config.bundle.version == "1.2.0"
    assert config.bundle.mcpb["author"] == {"name": "Team", "email": "team@example.com"}
    server = config.servers["a"]
    assert server.version == "2.0.0"
    assert server.mcpb_runtime == "python"
    assert server.mcpb_platforms == ("darwin", "linux")  # spec order
    assert server.mcpb_compiled is True
    assert server.mcpb == {
        "display_name": "A",
        "keywords": ["x"],
        "compatibility": {"claude_desktop": ">=0.10"},
    }


def test_one_architecture_of_a_platform(tmp_path: Path) -> None:
    toml = SERVER + 'mcpb-platforms = ["win32", "linux-x86_64", "darwin"]\n'
    server = load_config(monorepo(tmp_path, toml)).servers["a"]
    assert server.mcpb_platforms == ("darwin", "win32", "linux-x86_64")


BAD = [
    ("format", '[bundle]\nformats = ["zip"]\n' + SERVER, ["bundle.formats[0]", "'dir', 'mcpb'"]),
    ("formats-type", '[bundle]\nformats = "mcpb"\n' + SERVER, ["bundle.formats: must be a list"]),
    ("version", '[bundle]\nversion = "1 0"\n' + SERVER, ["bundle.version: '1 0' is not a"]),
    ("runtime", SERVER + 'mcpb-runtime = "node"\n', ["servers.a.mcpb-runtime", "'uv'"]),
    ("platform", SERVER + 'mcpb-platforms = ["macos"]\n', ["mcpb-platforms[0]", "'darwin'"]),
    ("arch", SERVER + 'mcpb-platforms = ["linux-x64"]\n', ["did you mean 'linux-x86_64'?"]),
    ("no-platform", SERVER + "mcpb-platforms = []\n", ["servers.a.mcpb-platforms: must not"]),
    ("compiled", SERVER + 'mcpb-compiled = "yes"\n', ["servers.a.mcpb-compiled: must be true"]),
    (
        "field",
        SERVER + "[servers.a.mcpb]\ndisplayname = 'x'\n",
        ["servers.a.mcpb.displayname: unknown key", "did you mean 'display_name'?"],
    ),
    ("mcpb-table", SERVER + "mcpb = 1\n", ["servers.a.mcpb: must be a table"]),
    ("author", "[bundle.mcpb]\nauthor = { email = 'a@b.c' }\n" + SERVER, ["author.name: is"]),
    (
        "override-version",
        SERVER + "[servers.a.mcpb]\nversion = '../x'\n",
        ["servers.a.mcpb.version: '../x' is not a version"],
    ),
]


@pytest.mark.parametrize(("toml", "fragments"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad(tmp_path: Path, toml: str, fragments: list[str]) -> None:
    message = str(fail(tmp_path, toml))
    for fragment in fragments:
        assert fragment in message, message
    assert message.startswith("mcpbundle.toml: ")


def test_every_manifest_field_with_a_valid_value_is_taken_as_written(tmp_path: Path) -> None:
    toml = SERVER + EVERY_FIELD
    server = load_config(monorepo(tmp_path, toml)).servers["a"]
    assert server.mcpb == mcpb_table(toml)
    assert set(server.mcpb) == set(MANIFEST_FIELDS)  # the case sets every field


@pytest.mark.parametrize("case", BAD_FIELDS, ids=[case.id for case in BAD_FIELDS])
def test_a_manifest_field_of_the_wrong_shape_is_one_line(tmp_path: Path, case: Bad) -> None:
    """Each manifest field is checked against the MCP Bundle manifest's shape of it, so a
    build never writes a manifest `mcpb validate` rejects (issue 21)."""
    message = str(fail(tmp_path, case.toml))
    assert message.startswith("mcpbundle.toml: "), message
    assert case.fragment in message, message
    assert "\n" not in message
