"""Installed distributions read from their dist-info as importlib.metadata reads them."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from mcpbundle.check import dist_info
from mcpbundle.check.dist_info import Installed, read_installed

HERE = sorted(
    {canonicalize_name(d.metadata["Name"]) for d in metadata.distributions() if d.metadata["Name"]}
)


@pytest.mark.parametrize("name", HERE)
def test_every_installed_distribution_reads_as_importlib_reads_it(name: str) -> None:
    """This environment's own distributions (fastmcp's tree among them): the direct read
    gives what importlib.metadata gives, or leaves the answer to it."""
    direct = read_installed(name)
    assert direct == dist_info._from_importlib(name)


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    record = site / "rec_only-1.0.dist-info"
    record.mkdir(parents=True)
    (record / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Rec.Only\nVersion: 1.0\n"
        "Requires-Dist: httpx>=0.27\nRequires-Dist: rich ; extra == 'cli'\n\nBody: not a header\n"
    )
    (record / "RECORD").write_text(
        "rec_only/__init__.py,sha256=x,1\nrec_only_speedups.cpython-311-x86_64-linux-gnu.so,,\n"
        "rec_only-1.0.dist-info/METADATA,,\n../../bin/rec-only,,\n"
    )
    top = site / "with_top-2.0.dist-info"
    top.mkdir()
    (top / "METADATA").write_text("Metadata-Version: 2.1\nName: with-top\nVersion: 2.0\n")
    (top / "top_level.txt").write_text("alpha\nbeta\n")
    egg = site / "old_style.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: old-style\nVersion: 0.1\n")
    (egg / "top_level.txt").write_text("old_style\n")
    return site


def test_a_site_directory_of_each_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path)
    monkeypatch.setattr(sys, "path", [str(site)])
    assert read_installed("rec-only") == Installed(
        imports=frozenset({"rec_only", "rec_only_speedups"}),
        requires=("httpx>=0.27", "rich ; extra == 'cli'"),
    )
    assert read_installed("with-top") == Installed(
        imports=frozenset({"alpha", "beta"}), requires=()
    )
    assert read_installed("old-style") == Installed(imports=frozenset({"old_style"}), requires=())
    assert read_installed("missing") is None
    for name in ("rec-only", "with-top", "old-style"):
        assert read_installed(name) == dist_info._from_importlib(name)


def test_the_direct_read_does_not_import_importlib_metadata() -> None:
    code = (
        "import sys\nfrom mcpbundle.check.dist_info import read_installed\n"
        "assert read_installed('packaging') is not None\n"
        "print('importlib.metadata' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_name_with_no_metadata_is_answered_without_importlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", [str(_site(tmp_path))])

    def refuse(name: str) -> None:
        raise AssertionError(f"importlib asked for {name}")

    monkeypatch.setattr(dist_info, "_from_importlib", refuse)
    assert read_installed("not-installed-anywhere") is None


def test_a_zip_on_the_path_is_left_to_importlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    archive = tmp_path / "vendor.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped-3.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\n")
        bundle.writestr("zipped-3.0.dist-info/top_level.txt", "zipped\n")
    monkeypatch.setattr(sys, "path", [str(_site(tmp_path)), str(archive)])
    assert read_installed("zipped") == Installed(imports=frozenset({"zipped"}), requires=())
