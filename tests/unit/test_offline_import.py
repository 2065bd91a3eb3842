"""detect-secrets is imported without requests: faster, and its verifiers cannot send."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mcpbundle.emit import offline_import


def _run(code: str, *paths: Path) -> list[str]:
    """Run ``code`` in a fresh interpreter (nothing imported yet), ``paths`` first on sys.path."""
    prelude = "import sys\n" + "".join(f"sys.path.insert(0, {str(p)!r})\n" for p in paths)
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.split()


def test_a_scan_imports_detect_secrets_without_requests_and_still_finds_tokens() -> None:
    out = _run(
        """
        from mcpbundle.emit import secret_scan
        token = "ghp_" + "N4x7Qm2Lp9Rt5Vw8Yz3Bc6Df1Gh0Jk2Ls4Pq"
        hits = secret_scan.scan_bytes(f'T = "{token}"\\n'.encode(), "a.py")
        print(len(hits), "requests" in sys.modules)
        import detect_secrets.plugins.base as base
        print(base.requests.__name__, base.requests is sys.modules.get("requests"))
        try:
            base.requests.post("https://example.invalid")
        except OSError:
            print("refused")
        import requests
        print(hasattr(requests, "Session") and requests is not base.requests)
        """
    )
    assert out == ["1", "False", "requests", "False", "refused", "True"]


def test_real_requests_already_imported_is_left_alone() -> None:
    out = _run(
        """
        import requests
        from mcpbundle.emit import secret_scan
        secret_scan.scan_bytes(b"x = 1\\n", "a.py")
        import detect_secrets.plugins.base as base
        print(base.requests is requests, sys.modules["requests"] is requests)
        """
    )
    assert out == ["True", "True"]


def test_a_library_needing_more_of_requests_is_imported_again_with_the_real_one(
    tmp_path: Path,
) -> None:
    package = tmp_path / "needy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "early.py").write_text("import requests\n")
    (package / "late.py").write_text(
        "from needy import early\nimport requests\nSESSION = requests.adapters.HTTPAdapter\n"
    )
    out = _run(
        """
        import importlib
        from mcpbundle.emit.offline_import import load_offline
        late = load_offline(lambda: importlib.import_module("needy.late"), ("needy",))
        import needy.early as early
        print(late.requests is sys.modules["requests"], early.requests is late.requests)
        """,
        tmp_path,
    )
    assert out == ["True", "True"]


def test_an_error_of_the_library_itself_still_surfaces(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import requests\nraise ValueError('broken itself')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ValueError, match="broken itself"):
            offline_import.load_offline(lambda: __import__("broken"), ("broken",))
    finally:
        sys.path.remove(str(tmp_path))
        offline_import.forget(("broken",))


def test_the_stand_in_refuses_every_request() -> None:
    module = offline_import.stand_in()
    for verb in ("get", "post", "request", "Session"):
        with pytest.raises(module.exceptions.RequestException, match="network"):
            getattr(module, verb)("https://example.invalid")


def test_forget_removes_a_package_and_its_submodules_only() -> None:
    names = ("fake_pkg_x", "fake_pkg_x.sub", "fake_pkg_xy")
    for name in names:
        sys.modules[name] = offline_import.stand_in()
    try:
        offline_import.forget(("fake_pkg_x",))
        assert [n for n in names if n in sys.modules] == ["fake_pkg_xy"]
    finally:
        offline_import.forget(names)
