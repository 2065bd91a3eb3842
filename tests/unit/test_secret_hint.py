"""The way out a secret finding offers is written in the file's own comment syntax, and
taking it really lets the line through the real scanner."""

from __future__ import annotations

import pytest

from mcpbundle.emit.secret_hint import MARKER, mark_advice, pragma_form, secret_hint
from mcpbundle.emit.secret_scan import scan_bytes, secret_error
from support.fakesecrets import Fakes

F = Fakes(seed=23)
GH = F.github()

LINES = {
    "svc/settings.py": f'TOKEN = "{GH}"',
    "svc/config.yaml": f"token: {GH}",
    "svc/pyproject.toml": f'token = "{GH}"',
    "svc/README.md": f"Example: `{GH}`",
    "svc/docs/page.html": f"<code>{GH}</code>",
    "svc/web/client.ts": f"const token = '{GH}';",
    "svc/schema.sql": f"INSERT INTO keys VALUES ('{GH}');",
    "svc/theme.css": f'.x {{ content: "{GH}"; }}',
    "svc/.env.example": f"TOKEN={GH}",
    "svc/Dockerfile": f"ENV TOKEN={GH}",
    "svc/requirements.txt (generated)": f"--index-url https://u:{GH}@pypi.internal/simple",
}


@pytest.mark.parametrize("path", sorted(LINES))
def test_the_offered_pragma_silences_the_real_scanner(path: str) -> None:
    line = LINES[path]
    assert scan_bytes(f"{line}\n".encode(), path), "the fixture line must be a finding"
    form = pragma_form(path)
    assert form is not None
    assert scan_bytes(f"{line}  {form}\n".encode(), path) == []
    marker = pragma_form(path, MARKER)
    assert marker is not None
    assert scan_bytes(f"{line}  {marker}\n".encode(), path) == []


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("svc/README.md", "<!-- pragma: allowlist secret -->"),
        ("svc/settings.py", "# pragma: allowlist secret"),
        ("svc/web/client.ts", "// pragma: allowlist secret"),
        ("svc/schema.sql", "-- pragma: allowlist secret"),
    ],
)
def test_markdown_is_not_told_to_write_a_hash(path: str, form: str) -> None:
    assert pragma_form(path) == form
    assert form in secret_hint(path)
    assert mark_advice(path) == f"end the line with '{form}'"


@pytest.mark.parametrize(
    "path", ["svc/fixtures/keys.json", "svc/demo.ipynb", "svc/data.csv", "uv.lock", "docs/a.rst"]
)
def test_files_without_comments_are_offered_the_baseline(path: str) -> None:
    assert pragma_form(path) is None
    for text in (secret_hint(path), mark_advice(path)):
        assert "pragma" not in text
        assert ".secrets.baseline" in text and "[bundle] allow-secrets" in text


def test_a_json_build_error_does_not_suggest_a_comment() -> None:
    hits = scan_bytes(f'{{"token": "{GH}"}}\n'.encode(), "svc/keys.json")
    assert hits
    error = secret_error(hits)
    assert error.hint is not None and "pragma" not in error.hint
    assert "svc/keys.json:1" in str(error.where)


def test_a_python_build_error_names_both_markers() -> None:
    hits = scan_bytes(f'TOKEN = "{GH}"\n'.encode(), "svc/settings.py")
    hint = secret_error(hits).hint or ""
    assert "'# pragma: allowlist secret'" in hint and "'# mcpbundle: allow-secret'" in hint
