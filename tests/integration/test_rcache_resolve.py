"""The resolver cache around real pip-tools / uv runs on the fake wheelhouse."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from mcpbundle.resolve import cache as rcache
from mcpbundle.resolve.cache import cache_info, cache_key, cached_resolve
from mcpbundle.resolve.resolver import ResolveRequest, ResolverSettings, resolve
from mcpbundle.resolve.shared_lock import resolve_shared
from support.wheelhouse import FakeDist, write_wheel


@pytest.fixture(params=["pip-tools", "uv"])
def settings(request: pytest.FixtureRequest, wheelhouse: Path) -> ResolverSettings:
    return ResolverSettings(resolver=request.param, no_index=True, find_links=(str(wheelhouse),))


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(cache))
    return cache


class Counting:
    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, request: ResolveRequest, settings: ResolverSettings) -> str:
        self.runs += 1
        return resolve(request, settings)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counting:
    counter = Counting()
    monkeypatch.setattr(rcache, "resolve", counter)
    return counter


REQUEST = ResolveRequest(server="ops", requirements_in="beta\nalpha<2\n")


def test_hit_is_byte_identical_to_a_fresh_resolution(
    settings: ResolverSettings, counting: Counting
) -> None:
    miss, hit1 = cached_resolve(REQUEST, settings)
    cached, hit2 = cached_resolve(REQUEST, settings)
    assert (hit1, hit2) == (False, True)
    assert cached == miss == resolve(REQUEST, settings)
    assert counting.runs == 1


def test_rebuild_with_previous_pins_is_a_fixed_point_hit(
    settings: ResolverSettings, counting: Counting
) -> None:
    first, _ = cached_resolve(REQUEST, settings)
    assert resolve(replace(REQUEST, previous=first), settings) == first  # what the alias assumes
    again, hit = cached_resolve(replace(REQUEST, previous=first), settings)
    assert hit
    assert again == first
    assert counting.runs == 1


def test_hashes_and_python_are_separate_entries(
    settings: ResolverSettings, counting: Counting
) -> None:
    plain, _ = cached_resolve(REQUEST, settings)
    hashed, hit = cached_resolve(REQUEST, replace(settings, hashes=True))
    assert not hit
    assert "--hash=sha256:" in hashed
    assert "--hash" not in plain
    if settings.resolver == "uv":
        _out, hit = cached_resolve(REQUEST, replace(settings, python="3.10"))
        assert not hit


def test_new_wheel_in_find_links_is_a_miss(
    settings: ResolverSettings, wheelhouse: Path, tmp_path: Path, counting: Counting
) -> None:
    links = tmp_path / "links"
    shutil.copytree(wheelhouse, links)
    local = replace(settings, find_links=(str(links),))
    request = ResolveRequest(server="ops", requirements_in="alpha\n")
    first, _ = cached_resolve(request, local)
    assert "alpha==2.0" in first
    write_wheel(FakeDist("alpha", "3.0"), links)
    second, hit = cached_resolve(request, local)
    assert not hit
    assert "alpha==3.0" in second


def test_corrupt_entry_is_replaced_by_a_real_resolution(
    settings: ResolverSettings, counting: Counting
) -> None:
    good, _ = cached_resolve(REQUEST, settings)
    path = rcache.entry_path(cache_key(REQUEST, settings))
    path.write_bytes(path.read_bytes()[:-7])
    again, hit = cached_resolve(REQUEST, settings)
    assert (again, hit) == (good, False)
    assert counting.runs == 2
    assert cached_resolve(REQUEST, settings) == (good, True)


def test_shared_lock_no_op_rebuild_runs_no_resolver(
    settings: ResolverSettings, counting: Counting
) -> None:
    servers = {"ops": "beta\nalpha\n", "customer": "alpha<2\n", "finance": "eta\n"}
    first = resolve_shared(servers, {}, settings)
    assert counting.runs == 1
    second = resolve_shared(servers, first.outputs, settings)
    assert second.outputs == first.outputs
    assert second.cache_hits == second.resolutions == 1
    assert counting.runs == 1
    assert cache_info()["kinds"]["resolve"]["entries"] == 2
    # adding a requirement to one server: one union resolution, other pins kept
    changed = dict(servers, finance="eta\npy-kappa\n")
    third = resolve_shared(changed, second.outputs, settings)
    assert counting.runs == 2
    assert third.outputs["ops"] == first.outputs["ops"]
    assert "py-kappa==1.0" in third.outputs["finance"]


def test_disabled_cache_always_resolves(settings: ResolverSettings, counting: Counting) -> None:
    cached_resolve(REQUEST, settings, enabled=False)
    cached_resolve(REQUEST, settings, enabled=False)
    assert counting.runs == 2
    assert cache_info()["entries"] == 0
