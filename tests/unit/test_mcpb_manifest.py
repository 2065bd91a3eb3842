"""The texts inside a .mcpb (manifest, pyproject, launcher), its zip, and the settings
(user_config) derived from the code and .env.example."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mcpbundle.emit.mcpb_archive import Member, zip_bytes
from mcpbundle.emit.mcpb_facts import Facts, Setting, is_sensitive, settings
from mcpbundle.emit.mcpb_manifest import (
    Launch,
    Prompt,
    Surface,
    launcher,
    manifest,
    merge,
    pyproject,
    python_range,
)
from support.mcpbschema import schema_errors

FACTS = Facts(
    name="ops",
    version="1.0.0",
    description="Ops helpers.",
    author={"name": "Team", "email": "team@example.com"},
    license="MIT",
    keywords=("sre",),
    urls={"homepage": "https://example.com", "repository": "https://github.com/acme/ops"},
    settings=(
        Setting(name="API_TOKEN", required=True, sensitive=True, default=None, read_at="a.py:1"),
        Setting(name="REGION", required=False, sensitive=False, default="eu", read_at="a.py:2"),
    ),
)
SURFACE = Surface(
    tools=(("health", "Report health."), ("ping", None)),
    prompts=(Prompt(name="summary", description="Summarize.", arguments=("service",)),),
)


def test_uv_manifest_starts_the_launcher_with_uv_and_wires_user_config() -> None:
    launch = Launch(runtime="uv", python="3.12", entry="src/server.py", object="mcp",
                    platforms=("darwin", "linux", "win32"))  # fmt: skip
    document = manifest(FACTS, launch, version="1.0.0", surface=SURFACE)
    assert schema_errors(document) == []
    assert document["manifest_version"] == "0.4"
    assert document["server"] == {
        "type": "uv",
        "entry_point": "server/mcpbundle_main.py",
        "mcp_config": {
            "command": "uv",
            "args": ["run", "--directory", "${__dirname}", "server/mcpbundle_main.py"],
            "env": {
                "API_TOKEN": "${user_config.API_TOKEN}",
                "REGION": "${user_config.REGION}",
            },
        },
    }
    assert document["user_config"]["API_TOKEN"] == {
        "type": "string",
        "title": "API_TOKEN",
        "description": "Environment variable API_TOKEN (read in a.py:1).",
        "required": True,
        "sensitive": True,
    }
    assert document["user_config"]["REGION"]["default"] == "eu"
    assert document["compatibility"]["runtimes"] == {"python": ">=3.12,<3.13"}
    assert document["tools"] == [{"name": "health", "description": "Report health."},
                                 {"name": "ping"}]  # fmt: skip
    assert document["prompts"] == [
        {
            "name": "summary",
            "description": "Summarize.",
            "arguments": ["service"],
            "text": "Summarize.\n\nservice: ${arguments.service}",
        }
    ]
    assert document["repository"] == {"type": "git", "url": "https://github.com/acme/ops"}
    assert document["author"] == {"name": "Team", "email": "team@example.com"}


def test_python_manifest_puts_server_lib_on_the_path() -> None:
    launch = Launch(runtime="python", python="3.11", entry="mcpbundle_entry.py", object="mcp",
                    platforms=("linux",))  # fmt: skip
    document = manifest(FACTS, launch, version="1.0.0", surface=None)
    assert schema_errors(document) == []
    assert document["manifest_version"] == "0.3"
    config = document["server"]["mcp_config"]
    assert config["command"] == "python"
    assert config["args"] == ["${__dirname}/server/mcpbundle_main.py"]
    assert config["env"]["PYTHONPATH"] == "${__dirname}/server/lib"
    assert "tools" not in document  # no surface without --verify
    assert document["compatibility"]["platforms"] == ["linux"]


def test_overrides_merge_tables_and_replace_the_rest() -> None:
    launch = Launch(runtime="uv", python="3.12", entry="s.py", object="mcp")
    document = manifest(
        FACTS,
        launch,
        version="1.0.0",
        surface=None,
        overrides=[
            {"keywords": ["a"], "compatibility": {"claude_desktop": ">=0.10.0"}},
            {"display_name": "Ops", "keywords": ["b"]},
        ],
    )
    assert document["keywords"] == ["b"]
    assert document["display_name"] == "Ops"
    assert document["compatibility"]["claude_desktop"] == ">=0.10.0"
    assert document["compatibility"]["runtimes"] == {"python": ">=3.12,<3.13"}
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}


def test_pyproject_lists_the_pins_for_the_target_python(tmp_path: Path) -> None:
    import tomllib

    text = "# header\nalpha==2.0 \\\n    --hash=sha256:ab\nbeta==1.0 ; python_version < '3.99'\n"
    data = tomllib.loads(pyproject("ops", "1.0.0-nightly", "3.12", text).decode())
    assert data["project"] == {
        "name": "ops",
        "version": "0",  # not PEP 440: uv needs one; the manifest keeps the real version
        "requires-python": ">=3.12,<3.13",
        "dependencies": ["alpha==2.0", 'beta==1.0; python_version < "3.99"'],
    }
    assert data["tool"]["uv"] == {"package": False}
    assert python_range("3.9") == ">=3.9,<3.10"


def test_the_launcher_loads_by_fastmcps_rules_and_calls_run(tmp_path: Path) -> None:
    server = tmp_path / "server"
    (server / "src").mkdir(parents=True)
    (server / "src" / "helper.py").write_text("NAME = 'from-src'\n")
    (server / "src" / "server.py").write_text(
        "import helper\n"
        "class App:\n"
        "    def run(self):\n"
        "        print('ran', helper.NAME, __name__)\n"
        "async def make():\n"
        "    return App()\n"
    )
    (server / "mcpbundle_main.py").write_bytes(launcher("src/server.py", "make"))
    done = subprocess.run(
        [sys.executable, str(server / "mcpbundle_main.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ran from-src server_module\n"


def test_zip_is_deterministic_sorted_with_fixed_times_and_modes(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o775)
    plain = tmp_path / "a.txt"
    plain.write_text("a\n")
    plain.chmod(0o600)
    members = {"z.txt": Member(data=b"z"), "bin/run.sh": Member.of_file(script),
               "a.txt": Member.of_file(plain)}  # fmt: skip
    first = zip_bytes(members)
    os.utime(plain, (1_000_000_000, 1_000_000_000))
    assert zip_bytes(dict(reversed(list(members.items())))) == first
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["a.txt", "bin/run.sh", "z.txt"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert [(i.external_attr >> 16) & 0o777 for i in infos] == [0o644, 0o755, 0o644]
        assert zf.read("a.txt") == b"a\n"


def test_zip_refuses_paths_that_leave_it() -> None:
    from mcpbundle.base.errors import BuildError

    with pytest.raises(BuildError):
        zip_bytes({"../x": Member(data=b"")})


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [("API_KEY", True), ("GITHUB_TOKEN", True), ("DB_PASSWORD", True), ("CLIENT_SECRET", True),
     ("OPENAI_APIKEY", True), ("AUTH_HEADER", True), ("OPS_ENVIRONMENT", False),
     ("REGION", False), ("KEYBOARD_LAYOUT", False), ("MAX_TOKENS_PER_CALL", False)],
)  # fmt: skip
def test_sensitive_names(name: str, sensitive: bool) -> None:
    assert is_sensitive(name) is sensitive


def test_settings_from_code_and_env_example(tmp_path: Path) -> None:
    files = {
        "src/server.py": (
            "import os\n"
            "from settings import env_str\n"
            "TOKEN = os.environ['API_TOKEN']\n"
            "REGION = env_str('REGION', 'eu')\n"
            "DEBUG = os.getenv('DEBUG')\n"
            "LEVEL = os.getenv('LEVEL', 'info')\n"
            "HOME = os.environ['HOME']\n"
        ),
        "src/settings.py": (
            "import os\ndef env_str(name, default):\n    return os.getenv(name, default)\n"
        ),
        ".env.example": "API_TOKEN=your-token-here\nREGION=us\nUNUSED=1\n",
    }
    shipped = {}
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        shipped[rel] = path
    found = {s.name: s for s in settings(shipped, None)}
    assert list(found) == ["API_TOKEN", "DEBUG", "LEVEL", "REGION"]  # HOME is the system's
    assert found["API_TOKEN"] == Setting(
        name="API_TOKEN", required=True, sensitive=True, default=None, read_at="src/server.py:3"
    )  # a secret's placeholder is never a default
    assert (found["REGION"].required, found["REGION"].default) == (False, "us")
    assert (found["DEBUG"].required, found["DEBUG"].default) == (True, None)
    assert (found["LEVEL"].required, found["LEVEL"].default) == (False, "info")
