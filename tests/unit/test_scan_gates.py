"""The scanner's gates, kept on disk, clear a content without importing detect-secrets,
and never one the engine would report."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_secretscan import PLUGIN_SAMPLES, SHAPES

from mcpbundle.emit import scan_gates, scan_memo, secret_engine
from support.fakesecrets import Fakes


@pytest.fixture
def gates(tmp_path: Path) -> Path:
    path = tmp_path / "x.gates"
    scan_gates.save(path, secret_engine.gates(), secret_engine.ENV_EXAMPLE_NAMES)
    yield path
    scan_gates.forget([path])


@pytest.mark.parametrize(("kind", "text", "path", "line"), SHAPES, ids=lambda v: str(v)[:30])
def test_no_shape_the_engine_reports_gets_past_the_gates(
    gates: Path, kind: str, text: str, path: str, line: int
) -> None:
    assert secret_engine.scan_text(text, path)
    assert not scan_gates.untouched(gates, text.encode(), path.rsplit("/", 1)[-1])


@pytest.mark.parametrize(("plugin", "line"), PLUGIN_SAMPLES, ids=[p for p, _ in PLUGIN_SAMPLES])
def test_no_plugin_sample_gets_past_the_gates(gates: Path, plugin: str, line: str) -> None:
    assert not scan_gates.untouched(gates, f"import os\n\n{line}\n".encode(), "x.py")


def test_ordinary_code_is_cleared_but_binary_and_env_examples_go_to_the_engine(
    gates: Path,
) -> None:
    code = b'"""Shared code."""\n\n\ndef total(value: int) -> int:\n    return value * 3\n'
    assert scan_gates.untouched(gates, code, "mod.py")
    assert not scan_gates.untouched(gates, code + b"\0", "mod.py")
    assert not scan_gates.untouched(gates, b"LOG_LEVEL=debug\n", ".env.example")


@pytest.mark.parametrize("junk", ["", "{not json", '{"format": 9}', '{"format": 1, "gates": 3}'])
def test_missing_or_foreign_gates_send_everything_to_the_engine(tmp_path: Path, junk: str) -> None:
    path = tmp_path / "x.gates"
    if junk:
        path.write_text(junk)
    assert not scan_gates.untouched(path, b"x = 1\n", "mod.py")
    scan_gates.forget([path])


def test_a_later_process_clears_new_clean_code_without_importing_detect_secrets(
    tmp_path: Path,
) -> None:
    """The first scan imports the engine and leaves its gates beside the memo; a later
    process scanning a content it never saw does not import detect-secrets at all, and
    still finds a token."""
    env = {**os.environ, "MCPBUNDLE_CACHE_DIR": str(tmp_path / "cache")}
    token = Fakes(seed=3).github()
    script = textwrap.dedent(
        """
        import sys
        from mcpbundle.emit.secret_scan import scan_data
        hits = scan_data(sys.argv[1].encode(), "lib/mod.py", False)
        from mcpbundle.emit.scan_memo import clean_memo
        clean_memo().flush()
        print(len(hits), "detect_secrets" in sys.modules)
        """
    )

    def run(text: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, text],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run("def first() -> int:\n    return 1\n") == "0 True"
    assert scan_memo.gates_path().name.endswith(".gates")
    assert list((tmp_path / "cache" / "scans").glob("*.gates"))
    assert run("def second() -> int:\n    return 2\n") == "0 False"
    assert run(f'TOKEN = "{token}"\n') == "1 True"
