from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mcpbundle.base.errors import ConfigError
from mcpbundle.plan.dist_info import dist_info_dir, render_dist_info, wheel_name


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _probe(root: Path, code: str) -> object:
    """Run ``code`` with only ``root`` (plus the stdlib) importable; it prints JSON."""
    script = (
        "import sys\n"
        f"sys.path[:] = [{str(root)!r}] + [p for p in sys.path if p and 'site-packages' not in p]\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", script + code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importlib_metadata_finds_version_and_entry_points(tmp_path: Path) -> None:
    files = render_dist_info(
        name="Shared.Core-Lib",
        version="1.2.0",
        top_level=["shared_core"],
        entry_points={"shared_core.plugins": {"csv": "shared_core.plugins:Csv"}},
    )
    _write(tmp_path, files)
    (tmp_path / "shared_core").mkdir()
    (tmp_path / "shared_core" / "__init__.py").write_text("")
    got = _probe(
        tmp_path,
        "import importlib.metadata as m, json\n"
        "eps = m.entry_points(group='shared_core.plugins')\n"
        "print(json.dumps([m.version('shared-core-lib'), m.version('Shared.Core_Lib'),\n"
        "  [(e.name, e.value) for e in eps],\n"
        "  m.distribution('shared_core_lib').read_text('top_level.txt'),\n"
        "  m.distribution('shared_core_lib').read_text('INSTALLER'),\n"
        "  m.packages_distributions().get('shared_core')]))\n",
    )
    assert got == [
        "1.2.0",
        "1.2.0",
        [["csv", "shared_core.plugins:Csv"]],
        "shared_core\n",
        "mcpbundle\n",
        ["Shared.Core-Lib"],
    ]


def test_unknown_version_and_no_entry_points(tmp_path: Path) -> None:
    files = render_dist_info(name="my-lib", version=None, top_level=["my_lib"], entry_points={})
    assert sorted(files) == [
        "my_lib-0+vendored.dist-info/INSTALLER",
        "my_lib-0+vendored.dist-info/METADATA",
        "my_lib-0+vendored.dist-info/RECORD",
        "my_lib-0+vendored.dist-info/top_level.txt",
    ]
    _write(tmp_path, files)
    got = _probe(
        tmp_path,
        "import importlib.metadata as m, json\n"
        "print(json.dumps([m.version('my-lib'), m.distribution('my-lib').entry_points == []]))\n",
    )
    assert got == ["0+vendored", True]


def test_exact_content_is_deterministic() -> None:
    args = {
        "name": "pkg",
        "version": "01.0",
        "top_level": ["b", "a", "a"],
        "entry_points": {"z.group": {"y": "a:y", "x": "a:x"}, "a.group": {"k": "b:k"}, "e": {}},
        "requires_dist": ["httpx>=0.27", "anyio"],
    }
    files = render_dist_info(**args)  # type: ignore[arg-type]
    assert files == render_dist_info(**args)  # type: ignore[arg-type]
    base = "pkg-1.0.dist-info"
    assert files[f"{base}/METADATA"] == (
        b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n"
        b"Requires-Dist: anyio\nRequires-Dist: httpx>=0.27\n"
    )
    assert files[f"{base}/top_level.txt"] == b"a\nb\n"
    assert files[f"{base}/entry_points.txt"] == (
        b"[a.group]\nk = b:k\n\n[z.group]\nx = a:x\ny = a:y\n"
    )
    assert files[f"{base}/RECORD"].decode().splitlines() == [
        f"{base}/INSTALLER,,",
        f"{base}/METADATA,,",
        f"{base}/RECORD,,",
        f"{base}/entry_points.txt,,",
        f"{base}/top_level.txt,,",
    ]
    assert list(files) == sorted(files)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("My.Lib", "my_lib"), ("a--b__c", "a_b_c"), ("shared-core", "shared_core"), ("X", "x")],
)
def test_wheel_name(name: str, expected: str) -> None:
    assert wheel_name(name) == expected
    assert dist_info_dir(name, "2") == f"{expected}-2.dist-info"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "bad name"},
        {"name": "-x"},
        {"version": "not a version"},
        {"entry_points": {"bad group!": {"a": "m:a"}}},
        {"entry_points": {"g": {"a=b": "m:a"}}},
        {"entry_points": {"g": {"a": ""}}},
        {"requires_dist": ["not valid ((("]},
    ],
)
def test_rejects_bad_input(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"name": "ok", "version": "1", "top_level": [], "entry_points": {}}
    args.update(kwargs)
    with pytest.raises(ConfigError) as info:
        render_dist_info(**args)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("licence", "licence_files"),
    [(None, ()), ("MIT", ("LICENSE",)), ("BSD 3-Clause License", ())],
)
def test_metadata_is_what_packaging_metadata_reads_and_validates(
    licence: str | None, licence_files: tuple[str, ...]
) -> None:
    """The hand-written METADATA (kept: see the README's Development notes) against the
    maintained reader: packaging.metadata parses it with validation, every field intact."""
    from packaging.metadata import Metadata

    files = render_dist_info(
        name="Shared.Core-Lib",
        version="1.2",
        top_level=["shared_core"],
        entry_points={},
        requires_dist=["httpx>=0.27", 'anyio; python_version >= "3.11"'],
        summary="Core  helpers\nfor servers",
        licence=licence,
        licence_files=licence_files,
    )
    text = files["shared_core_lib-1.2.dist-info/METADATA"].decode()
    metadata = Metadata.from_email(text, validate=True)
    assert (metadata.name, str(metadata.version)) == ("Shared.Core-Lib", "1.2")
    assert metadata.summary == "Core helpers for servers"
    assert sorted(map(str, metadata.requires_dist or [])) == [
        'anyio; python_version >= "3.11"',
        "httpx>=0.27",
    ]
    assert metadata.license_expression == (licence if licence == "MIT" else None)
    assert metadata.license == (licence if licence and licence != "MIT" else None)
    assert list(metadata.license_files or []) == list(licence_files)
