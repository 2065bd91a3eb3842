"""MCB004 reads installed metadata as text: the same answers as importlib.metadata."""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path

import pytest

from mcpbundle.check import imports, installed_cache

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


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a new ``mcpbundle check`` starts with: no answers in memory."""
    imports.installed_distribution.cache_clear()
    imports._followed.cache_clear()
    imports._provision.cache_clear()
    monkeypatch.setattr(installed_cache, "_OPEN", {})


def test_answers_are_remembered_across_runs_until_the_environment_changes(
    site: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The metadata of the distributions next to mcpbundle is read once per environment: a
    later run answers from ``CACHE/installed/`` (an edit that no install makes is not seen),
    and an install, which adds a ``*.dist-info`` directory, is a new environment."""
    cache = tmp_path_factory.mktemp("cache")  # not in the site directory: its time counts
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(cache))
    _fresh_process(monkeypatch)
    first = imports.provision({"fake-dist": frozenset({"async"})})
    assert first.modules["fake_pkg"] == "fake-dist"
    assert "anyio" in first.modules.values() or "anyio" in first.guessed
    installed_cache.save_all()
    assert [p.suffix for p in (cache / "installed").iterdir()] == [".json"]

    _fresh_process(monkeypatch)
    record = site / "fake_dist-1.0.dist-info" / "RECORD"
    record.write_text("other_pkg/__init__.py,sha256=abc,10\n")  # not an install: not seen
    stamp = site.stat()
    os.utime(site, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    remembered = imports.installed_distribution("fake-dist")
    assert remembered is not None and remembered.imports == {"fake_pkg", "single_module", "_native"}
    assert imports.provision({"fake-dist": frozenset({"async"})}) == first

    _fresh_process(monkeypatch)
    other = site / "other_dist-2.0.dist-info"  # an install: the directory's time changes
    other.mkdir()
    (other / "METADATA").write_text("Metadata-Version: 2.1\nName: other-dist\nVersion: 2.0\n")
    os.utime(site, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))
    found = imports.installed_distribution("fake-dist")
    assert found is not None and found.imports == {"other_pkg"}
    assert imports.installed_distribution("other-dist") is not None


def test_an_unreadable_or_foreign_cache_file_is_read_again(
    site: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    _fresh_process(monkeypatch)
    path = installed_cache.current().path
    path.parent.mkdir(parents=True)
    for junk in ("{not json", '{"format": 99, "kinds": {}}', '{"format": 1, "kinds": []}'):
        path.write_text(junk)
        _fresh_process(monkeypatch)
        found = imports.installed_distribution("fake-dist")
        assert found is not None and found.imports == {"fake_pkg", "single_module", "_native"}
    installed_cache.save_all()
    assert json.loads(path.read_text())["format"] == 1


def test_the_closure_is_walked_only_as_far_as_a_question_needs(
    site: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module of a requirement itself is answered from that requirement alone; a module
    no requirement names walks what they require, and gives what the whole walk gives."""
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    _fresh_process(monkeypatch)
    looked_up: list[str] = []
    real = imports.read_installed

    def counted(name: str) -> object:
        looked_up.append(name)
        return real(name)

    monkeypatch.setattr(imports, "read_installed", counted)
    provided = imports.provision({"fake-dist": frozenset({"async"})})
    assert provided.provider("fake_pkg") == "fake-dist"
    assert looked_up == ["fake-dist"]  # not idna, anyio: nothing asked needs them
    assert provided.provider("anyio") == "anyio"  # (a name the tables know)
    assert "idna" not in looked_up
    assert provided.provider("numpy") is None  # named by nothing: the whole walk
    assert {"idna", "anyio"} <= set(looked_up)
    _fresh_process(monkeypatch)
    monkeypatch.setattr(imports, "read_installed", real)
    whole = imports.provision({"fake-dist": frozenset({"async"})})
    assert (whole.modules, whole.guessed) == (provided.modules, provided.guessed)


def test_a_shared_walk_is_resumed_by_one_thread_at_a_time() -> None:
    """provision() caches one walk per set of requirements; threads asking it at once must
    not resume the same walk together (a generator refuses: 'already executing')."""
    import threading
    import time
    from collections.abc import Iterator

    def walk(result: imports.Provision) -> Iterator[None]:
        for index in range(40):
            time.sleep(0.001)  # the GIL is let go inside a step
            result.add_module(f"module_{index}", "dist")
            yield None

    provided = imports.Provision(walk)
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            provided.provider("absent")
        except BaseException as exc:  # what the test looks for
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(provided.modules) == 40
