"""The verify report (text and JSON), the probe's error lines, and the venv helpers."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from mcpbundle.base.errors import BuildError, CheckFailed
from mcpbundle.verify import load_probe as loadprobe
from mcpbundle.verify.probe_runner import HttpCheck, probe_environment
from mcpbundle.verify.report import with_hint
from mcpbundle.verify.venvs import choose_installer, has_requirements, venv_key
from mcpbundle.verify.verifier import ServerReport, VerifyReport, format_report

GOOD = ServerReport(
    name="ops",
    ok=True,
    install_seconds=3.25,
    import_seconds=0.412,
    peak_memory_mb=88.4,
    tools=("health_check", "uptime"),
    resources=("ops://environment",),
    prompts=("summary",),
    http=HttpCheck(
        ok=True,
        url="http://127.0.0.1:5000/mcp",
        initialize_ms=40.0,
        round_trip_ms=3.5,
        called_tool="health_check",
        call_ok=True,
    ),
    venv="/cache/venvs/abc (reused)",
)
BAD = ServerReport(
    name="finance",
    ok=False,
    install_seconds=1.0,
    peak_memory_mb=40.0,
    error="src/server.py, line 3: import dateutil\nModuleNotFoundError: No module named 'dateutil'",
)


def test_ok_is_all_servers() -> None:
    assert VerifyReport((GOOD,)).ok
    assert not VerifyReport((GOOD, BAD)).ok
    assert VerifyReport(()).ok


def test_json_has_exactly_the_documented_keys() -> None:
    document = json.loads(format_report(VerifyReport((GOOD, BAD)), json=True))
    assert set(document) == {"servers", "ok"}
    assert document["ok"] is False
    keys = {
        "name",
        "ok",
        "install_seconds",
        "import_seconds",
        "peak_memory_mb",
        "tools",
        "resources",
        "prompts",
        "http",
        "error",
        "source",
        "python",
        "warnings",
        "sandbox",
        "surface",
    }
    assert all(set(server) == keys for server in document["servers"])
    good, bad = document["servers"]
    assert good["tools"] == ["health_check", "uptime"]
    assert good["http"]["round_trip_ms"] == 3.5
    assert good["http"]["called_tool"] == "health_check"
    assert bad["http"] is None
    assert bad["import_seconds"] is None
    assert bad["error"].endswith("No module named 'dateutil'")


def test_text_report() -> None:
    text = format_report(VerifyReport((GOOD, BAD)), json=False)
    assert text.splitlines()[0] == "ops: ok"
    assert "install 3.2s, import 0.41s, peak memory 88 MB" in text
    assert "tools (2): health_check, uptime" in text
    assert "http: ok, initialize 40.0 ms, tools/list 3.5 ms, tools/call health_check ok" in text
    assert "finance: FAILED" in text
    assert "  error: src/server.py, line 3: import dateutil" in text
    assert "         ModuleNotFoundError: No module named 'dateutil'" in text
    assert text.splitlines()[-1] == "1 of 2 servers passed"


def test_text_report_shows_a_tool_error_without_failing() -> None:
    check = HttpCheck(
        ok=True,
        url="u",
        initialize_ms=1.0,
        round_trip_ms=1.0,
        called_tool="t",
        call_ok=False,
        call_error="boom",
    )
    report = VerifyReport((ServerReport(name="s", ok=True, http=check),))
    assert report.ok
    assert "tools/call t returned an error: boom" in format_report(report, json=False)


def test_raise_for_failures() -> None:
    VerifyReport((GOOD,)).raise_for_failures()
    with pytest.raises(CheckFailed, match="verify failed for finance"):
        VerifyReport((GOOD, BAD)).raise_for_failures()


def test_hint_for_the_removed_sdk_module() -> None:
    error = "ModuleNotFoundError: No module named 'mcp.server.fastmcp'"
    assert "from fastmcp import FastMCP" in with_hint(error)
    assert with_hint("ValueError: bad") == "ValueError: bad"


def test_an_sdk_server_the_pinned_fastmcp_cannot_serve_is_not_blamed_on_sdk_2() -> None:
    """chroma-mcp pins mcp==1.6.0 and builds the SDK's own FastMCP: the only fastmcp that
    fits is 2.2.6, whose client takes no such object. mcp.server.fastmcp is there, so
    the hint for MCP SDK 2's removal of it would send the user the wrong way."""
    error = (
        "ValueError: Could not infer a valid transport from: "
        "<mcp.server.fastmcp.server.FastMCP object at 0x7f279a6498d0>"
    )
    hint = with_hint(error).splitlines()[-1]
    assert "SDK 2" not in hint
    assert "mcp.server.fastmcp" in hint
    assert "from fastmcp import FastMCP" in hint


@pytest.mark.parametrize(
    "error",
    [
        "src/server.py, line 4: key = os.environ['API_KEY']\nKeyError: 'API_KEY'",
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\n"
        "api_key\n  Field required [type=missing, input_value={}, input_type=dict]",
    ],
)
def test_a_missing_setting_names_the_fix(error: str) -> None:
    text = with_hint(error, "billing")
    assert text.startswith(error)
    assert text.splitlines()[-1] == (
        "hint: a setting the server reads at import is missing: add env = {...} with a "
        "placeholder value to [servers.billing], or pass --env-file"
    )


def test_probe_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("VIRTUAL_ENV", "/venv")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    env = probe_environment({"API_KEY": "placeholder", "PYTHONPATH": "/sneaky"})
    assert "PYTHONPATH" not in env
    assert "VIRTUAL_ENV" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert env["API_KEY"] == "placeholder"
    assert env["FASTMCP_CHECK_FOR_UPDATES"] == "off"
    assert env["PYTHONNOUSERSITE"] == "1"


def test_probe_error_lines_point_at_the_server_file(tmp_path: Path) -> None:
    server = tmp_path / "src" / "server.py"
    server.parent.mkdir()
    server.write_text("x = 1\nimport not_there_at_all\n", encoding="utf-8")
    try:
        exec(compile(server.read_text(), str(server), "exec"), {})
    except ImportError as exc:
        text = loadprobe.error_lines(exc, tmp_path)
    assert text.splitlines() == [
        "src/server.py, line 2: import not_there_at_all",
        "ModuleNotFoundError: No module named 'not_there_at_all'",
    ]


def test_probe_collects_rarely_while_importing_then_as_before() -> None:
    """The import's objects end up frozen, the thresholds as they were, even on an error."""
    before = gc.get_threshold()
    seen: list[int] = []
    built: list[list[object]] = []

    def load() -> None:
        with loadprobe.collecting_later():
            seen.append(gc.get_threshold()[0])
            built.extend([object()] for _ in range(100))
            raise ImportError("the server failed")

    try:
        with pytest.raises(ImportError):
            load()
        assert seen == [loadprobe.LOAD_GC_THRESHOLD]
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() >= len(built)
    finally:
        gc.unfreeze()


def test_probe_keeps_the_collector_settings_a_server_made() -> None:
    before = gc.get_threshold()
    try:
        with loadprobe.collecting_later():
            gc.set_threshold(1234, 5, 6)  # the server's own tuning, at import time
        assert gc.get_threshold() == (1234, 5, 6)
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def test_probe_error_lines_unwrap_single_exception_groups() -> None:
    group = ExceptionGroup("unhandled errors in a TaskGroup", [ConnectionError("refused")])
    assert loadprobe.error_lines(group, None) == "ConnectionError: refused"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("/x/server.py", ("/x/server.py", None)),
        ("/x/server.py:app", ("/x/server.py", "app")),
        ("C:/x/server.py", ("C:/x/server.py", None)),
    ],
)
def test_probe_split_entry(entry: str, expected: tuple[str, str | None]) -> None:
    assert loadprobe._split_entry(entry) == expected


def test_has_requirements() -> None:
    assert not has_requirements(b"")
    assert not has_requirements(b"# only a comment\n\n   \n")
    assert has_requirements(b"# pinned\nfastmcp==2.12.0  # via -r\n")


def test_venv_key_changes_with_every_input() -> None:
    base = venv_key(b"fastmcp\n", "cpython-3.12.1", ["uv"])
    assert base == venv_key(b"fastmcp\n", "cpython-3.12.1", ["uv"])
    assert (
        len(
            {
                base,
                venv_key(b"fastmcp==2\n", "cpython-3.12.1", ["uv"]),
                venv_key(b"fastmcp\n", "cpython-3.13.0", ["uv"]),
                venv_key(b"fastmcp\n", "cpython-3.12.1", ["pip"]),
            }
        )
        == 4
    )


def test_choose_installer_rejects_unknown() -> None:
    with pytest.raises(BuildError, match="unknown installer"):
        choose_installer("conda")
    assert choose_installer("pip") == "pip"


def test_a_long_validation_error_keeps_its_type_and_gets_the_setting_hint() -> None:
    fields = "".join(
        f"{name}\n  Field required [type=missing, input_value={{}}, input_type=dict]\n"
        "    For further information visit https://errors.pydantic.dev/2/v/missing\n"
        for name in ("hue_bridge_ip", "hue_bridge_username")
    )

    class ValidationError(ValueError):
        pass

    try:
        raise ValidationError(f"2 validation errors for Settings\n{fields}")
    except ValidationError as exc:
        text = loadprobe.error_lines(exc, None)
    assert text.splitlines()[0].endswith("ValidationError: 2 validation errors for Settings")
    assert len(text.splitlines()) == 6
    assert "add env = {...} with a placeholder value to [servers.hub]" in with_hint(text, "hub")


def test_text_report_says_why_no_tool_was_called() -> None:
    check = HttpCheck(ok=True, url="u", initialize_ms=1.0, round_trip_ms=1.0)
    report = VerifyReport((ServerReport(name="s", ok=True, http=check),))
    text = format_report(report, json=False)
    assert "tools/call skipped: no tool without arguments is annotated readOnlyHint" in text


def test_the_empty_surface_warning_names_settings_too() -> None:
    """mcp-atlassian registers 63 tools at import and lists only those of the services its
    settings enable: loaded with none set it exposes nothing, and the warning's only advice
    was about where tools are registered. With --env-file naming the settings it lists all."""
    from mcpbundle.verify.report import EMPTY_SURFACE

    assert "a function the host never calls" in EMPTY_SURFACE
    assert "--env-file" in EMPTY_SURFACE
