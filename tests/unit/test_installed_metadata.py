"""MCB004 reads installed metadata as text: the same answers as importlib.metadata."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from mcpbundle.check import imports

METADATA = """\
Metadata-Version: 2.1
Name: Fake_Dist
Version: 1.0
Requires-Dist: idna>=2.8
Requires-Dist: anyio[trio] (>=4);
  extra == "async"
Requires-Dist: tomli; python_version < "3.11"

Name: not-a-header
Requires-Dist: not-a-requirement
"""

RECORD = """\
fake_pkg/__init__.py,sha256=abc,10
./fake_pkg/core.py,sha256=abc,10
"odd,name/__init__.py",sha256=abc,10
single_module.py,sha256=abc,10
_native.cpython-311-x86_64-linux-gnu.so,sha256=abc,10
README,,
../../bin/fake-tool,,
fake_dist-1.0.dist-info/METADATA,,
fake_dist-1.0.dist-info/RECORD,,
__pycache__/single_module.cpython-311.pyc,,
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    info = tmp_path / "fake_dist-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(METADATA)
    (info / "RECORD").write_text(RECORD)
    monkeypatch.syspath_prepend(str(tmp_path))
    imports.installed_distribution.cache_clear()
    yield tmp_path
    imports.installed_distribution.cache_clear()


def test_requirements_and_names_as_importlib_reads_them(site: Path) -> None:
    found = imports.installed_distribution("fake-dist")
    assert found is not None
    reference = metadata.distribution("fake-dist")
    # the folded line joined (importlib keeps the fold), the description's lines ignored
    assert list(found.requires) == [" ".join(line.split()) for line in reference.requires or ()]
    assert found.imports == {"fake_pkg", "single_module", "_native"}


def test_top_level_txt_wins(site: Path) -> None:
    (site / "fake_dist-1.0.dist-info" / "top_level.txt").write_text("fake_pkg\n\n")
    found = imports.installed_distribution("fake-dist")
    assert found is not None and found.imports == {"fake_pkg"}


def test_no_file_list_means_unknown_imports(site: Path) -> None:
    (site / "fake_dist-1.0.dist-info" / "RECORD").unlink()
    found = imports.installed_distribution("fake-dist")
    assert found is not None and found.imports is None


def test_a_name_that_differs_is_not_this_distribution(site: Path) -> None:
    assert imports.installed_distribution("fake-dist-two") is None
