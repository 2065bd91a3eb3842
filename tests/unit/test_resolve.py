"""Resolver runs against the local fake wheelhouse: hermetic, no network."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from pathlib import Path

import pytest

from mcpbundle.base import interpreters, uv_binary
from mcpbundle.base.errors import BuildError, ConfigError, ResolveError
from mcpbundle.base.interpreters import find_interpreter
from mcpbundle.plan.pinned_text import verify_pins
from mcpbundle.resolve import resolver as resolve_mod
from mcpbundle.resolve.failures import pip_failure_reason, uv_failure_reason
from mcpbundle.resolve.resolver import (
    ResolveRequest,
    ResolverSettings,
    resolve,
    resolver_identity,
)
from support.wheelhouse import FakeDist, build_wheelhouse, write_wheel

RESOLVERS = ["pip-tools", "uv"]
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(params=RESOLVERS)
def resolver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def settings_for(resolver: str, wheelhouse: Path, **kw: object) -> ResolverSettings:
    return ResolverSettings(
        resolver=resolver,  # type: ignore[arg-type]
        no_index=True,
        find_links=(str(wheelhouse),),
        **kw,  # type: ignore[arg-type]
    )


def pin(
    resolver: str,
    wheelhouse: Path,
    requirements_in: str,
    *,
    previous: str | None = None,
    upgrade: bool = False,
    upgrade_packages: tuple[str, ...] = (),
    vendored: frozenset[str] = frozenset(),
    **kw: object,
) -> str:
    request = ResolveRequest(
        server="ops",
        requirements_in=requirements_in,
        previous=previous,
        upgrade=upgrade,
        upgrade_packages=upgrade_packages,
        vendored=vendored,
    )
    return resolve(request, settings_for(resolver, wheelhouse, **kw))


def versions(text: str) -> dict[str, str]:
    return {p.name: p.version for p in verify_pins(text)}


def test_basic_pinning_picks_newest(resolver: str, wheelhouse: Path) -> None:
    out = pin(resolver, wheelhouse, "alpha\npy-kappa\n")
    assert versions(out) == {"alpha": "2.0", "py-kappa": "1.0"}
    assert "alpha==2.0\n    # via -r requirements.in\n" in out
    assert "mcpbundle build" in out


def test_dependency_chain_is_annotated(resolver: str, wheelhouse: Path) -> None:
    out = pin(resolver, wheelhouse, "beta\n")
    assert versions(out) == {"beta": "1.0", "gamma": "1.0", "delta": "1.0"}
    assert "gamma==1.0\n    # via beta\n" in out
    assert "delta==1.0\n    # via gamma\n" in out


def test_extras_are_stripped(resolver: str, wheelhouse: Path) -> None:
    out = pin(resolver, wheelhouse, "epsilon[fast]\n")
    assert versions(out) == {"epsilon": "1.0", "zeta": "1.0"}
    assert "[" not in out


def test_markers_are_evaluated(resolver: str, wheelhouse: Path) -> None:
    out = pin(resolver, wheelhouse, "eta\n")
    assert versions(out) == {"eta": "1.0", "theta": "1.0"}
    assert "iota" not in out


def test_fastmcp_pulls_matching_mcp(resolver: str, wheelhouse: Path) -> None:
    assert versions(pin(resolver, wheelhouse, "fastmcp\n"))["mcp"] == "2.3"
    assert versions(pin(resolver, wheelhouse, "fastmcp<4\n")) == {"fastmcp": "3.0", "mcp": "1.9"}


def test_no_machine_local_config_leaks(
    resolver: str, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", "/nonexistent/dummy-links")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///nonexistent/dummy-index/simple")
    monkeypatch.setenv("PIP_INDEX_URL", "https://dummy-mirror.invalid/simple")
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", "file:///nonexistent/dummy-uv/simple")
    monkeypatch.setenv("UV_FIND_LINKS", "/nonexistent/dummy-uv-links")
    out = pin(resolver, wheelhouse, "alpha\nbeta\nepsilon[fast]\n", hashes=True)
    for leak in ("dummy", "/nonexistent", "/opt/", str(wheelhouse), tempfile.gettempdir()):
        assert leak not in out
    assert "mcpbundle-resolve" not in out
    assert not [
        line for line in out.splitlines() if line.lstrip().startswith("-") and "--hash" not in line
    ]


def test_implicit_config_is_used_but_not_emitted(
    resolver: str, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No index settings: the environment's own index config is honoured, not written."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(wheelhouse))
    request = ResolveRequest(server="ops", requirements_in="beta\n")
    out = resolve(request, ResolverSettings(resolver=resolver))  # type: ignore[arg-type]
    assert versions(out) == {"beta": "1.0", "gamma": "1.0", "delta": "1.0"}
    assert str(wheelhouse) not in out
    assert tempfile.gettempdir() not in out


def test_child_env_scrubs_index_vars_only_with_explicit_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("PIP_CERT", "/etc/ssl/cert.pem")
    monkeypatch.setenv("UV_INDEX_URL", "https://mirror.invalid")
    explicit = resolve_mod._child_env(ResolverSettings(no_index=True))
    assert "PIP_FIND_LINKS" not in explicit
    assert "UV_INDEX_URL" not in explicit
    assert explicit["PIP_CERT"] == "/etc/ssl/cert.pem"
    assert explicit["PIP_CONFIG_FILE"] == os.devnull
    assert explicit["CUSTOM_COMPILE_COMMAND"] == "mcpbundle build"
    assert explicit["UV_PYTHON_DOWNLOADS"] == "never"
    monkeypatch.delenv("PIP_CONFIG_FILE", raising=False)
    implicit = resolve_mod._child_env(ResolverSettings())
    assert implicit["PIP_FIND_LINKS"] == "/opt/wheels"
    assert "PIP_CONFIG_FILE" not in implicit


def test_previous_pins_are_sticky(resolver: str, wheelhouse: Path) -> None:
    previous = pin(resolver, wheelhouse, "alpha==1.0\nfastmcp<4\n")
    assert versions(previous)["alpha"] == "1.0"
    out = pin(resolver, wheelhouse, "alpha\nfastmcp\n", previous=previous)
    assert versions(out) == {"alpha": "1.0", "fastmcp": "3.0", "mcp": "1.9"}
    # without the previous pins the newest win
    assert versions(pin(resolver, wheelhouse, "alpha\nfastmcp\n"))["alpha"] == "2.0"


def test_upgrade_package_and_upgrade_all(resolver: str, wheelhouse: Path) -> None:
    previous = pin(resolver, wheelhouse, "alpha==1.0\nfastmcp<4\n")
    one = pin(
        resolver, wheelhouse, "alpha\nfastmcp\n", previous=previous, upgrade_packages=("Alpha",)
    )
    assert versions(one) == {"alpha": "2.0", "fastmcp": "3.0", "mcp": "1.9"}
    every = pin(resolver, wheelhouse, "alpha\nfastmcp\n", previous=previous, upgrade=True)
    assert versions(every) == {"alpha": "2.0", "fastmcp": "4.0", "mcp": "2.3"}


def test_previous_pin_incompatible_with_new_input_is_dropped(
    resolver: str, wheelhouse: Path
) -> None:
    previous = pin(resolver, wheelhouse, "alpha==1.0\n")
    assert versions(pin(resolver, wheelhouse, "alpha>=1.1,<2\n", previous=previous)) == {
        "alpha": "1.1"
    }


def test_hashes(resolver: str, wheelhouse: Path) -> None:
    out = pin(resolver, wheelhouse, "alpha\nbeta\n", hashes=True)
    pins = {p.name: p for p in verify_pins(out)}
    digest = hashlib.sha256((wheelhouse / "alpha-2.0-py3-none-any.whl").read_bytes()).hexdigest()
    assert pins["alpha"].hashes == (f"sha256:{digest}",)
    assert all(p.hashes for p in pins.values())


def test_output_is_byte_identical_on_repeat(resolver: str, wheelhouse: Path) -> None:
    text = "beta\neta\nepsilon[fast]\nfastmcp\n"
    first = pin(resolver, wheelhouse, text, hashes=True)
    assert pin(resolver, wheelhouse, text, hashes=True) == first
    assert pin(resolver, wheelhouse, text, hashes=True, previous=first) == first


def test_relative_find_links(
    resolver: str, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(wheelhouse.parent)
    settings = ResolverSettings(resolver=resolver, no_index=True, find_links=(wheelhouse.name,))  # type: ignore[arg-type]
    out = resolve(ResolveRequest(server="ops", requirements_in="alpha<2\n"), settings)
    assert versions(out) == {"alpha": "1.1"}


@pytest.mark.parametrize(
    ("requirements_in", "names"),
    [
        ("alpha>=9\n", ["alpha>=9"]),
        ("beta\nfastmcp==4.0\nmcp<2\n", ["fastmcp==4.0", "mcp<2"]),
        ("nosuchpkg\n", ["nosuchpkg"]),
    ],
)
def test_failure_is_one_line_naming_server_and_requirement(
    resolver: str, wheelhouse: Path, requirements_in: str, names: list[str]
) -> None:
    with pytest.raises(ResolveError) as info:
        pin(resolver, wheelhouse, requirements_in)
    message = str(info.value)
    assert message.startswith("server 'ops': cannot resolve ")
    for name in names:
        assert name in message
    assert "\n" not in message
    assert "Traceback" not in message
    assert 'File "' not in message
    assert tempfile.gettempdir() not in message
    assert message.endswith("relax the requirement or check the index settings")


def test_syntax_error_message(resolver: str, wheelhouse: Path) -> None:
    with pytest.raises(ResolveError) as info:
        pin(resolver, wheelhouse, "alpha >=>= 1\n")
    message = str(info.value)
    assert "alpha >=>= 1" in message
    assert "Traceback" not in message
    assert message.endswith("fix the requirement's syntax")


def test_vendored_name_in_output_is_a_build_error(resolver: str, wheelhouse: Path) -> None:
    with pytest.raises(BuildError) as info:
        pin(resolver, wheelhouse, "beta\n", vendored=frozenset({"gamma"}))
    assert not isinstance(info.value, ResolveError)
    assert "vendored shared lib 'gamma'" in str(info.value)
    assert str(info.value).startswith("server 'ops' requirements.txt:")


def test_bad_python_setting_is_a_config_error(wheelhouse: Path) -> None:
    with pytest.raises(ConfigError, match="not a Python version"):
        pin("pip-tools", wheelhouse, "alpha\n", python="3")


# -- target python ------------------------------------------------------------------


def marker_wheelhouse(base: Path) -> Path:
    """The shared wheelhouse plus ``lam`` needing ``mu`` on Python >= 3.12 only."""
    house = build_wheelhouse(base)
    write_wheel(FakeDist("lam", "1.0", ('mu; python_version >= "3.12"',)), house)
    write_wheel(FakeDist("mu", "1.0"), house)
    return house


@pytest.mark.skipif(RUNNING >= "3.12", reason="needs a running Python older than 3.12")
def test_pip_tools_targets_python_312(tmp_path: Path) -> None:
    if find_interpreter("3.12") is None:
        pytest.skip("no python3.12 on this machine")
    house = marker_wheelhouse(tmp_path / "wh")
    settings = settings_for("pip-tools", house, python="3.12")
    out = resolve(ResolveRequest(server="ops", requirements_in="lam\n"), settings)
    assert "autogenerated by pip-compile with Python 3.12" in out
    assert versions(out) == {"lam": "1.0", "mu": "1.0"}
    running = resolve(
        ResolveRequest(server="ops", requirements_in="lam\n"), settings_for("pip-tools", house)
    )
    assert versions(running) == {"lam": "1.0"}
    assert "python==3.12" in resolver_identity(settings)


@pytest.mark.skipif(RUNNING >= "3.12", reason="needs a running Python older than 3.12")
def test_uv_targets_python_version(tmp_path: Path) -> None:
    house = marker_wheelhouse(tmp_path / "wh")
    out = resolve(
        ResolveRequest(server="ops", requirements_in="lam\n"),
        settings_for("uv", house, python="3.12"),
    )
    assert versions(out) == {"lam": "1.0", "mu": "1.0"}


def test_missing_target_interpreter_warns_once(
    wheelhouse: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(interpreters, "_warned", set())
    caplog.set_level(logging.WARNING, logger="mcpbundle")
    settings = settings_for("pip-tools", wheelhouse, python="3.99")
    request = ResolveRequest(server="ops", requirements_in="alpha\n")
    first = resolve(request, settings)
    assert resolve(request, settings) == first
    warnings = [r for r in caplog.records if "python3.99" in r.getMessage()]
    assert len(warnings) == 1
    assert f"pins are for the running Python {RUNNING}" in warnings[0].getMessage()
    assert f"with Python {RUNNING}" in first
    assert f"python=={RUNNING}" in resolver_identity(settings)


# -- identity and uv discovery --------------------------------------------------------


def test_resolver_identity_is_stable_and_distinct() -> None:
    pip_tools = ResolverSettings()
    uv = ResolverSettings(resolver="uv", python="3.12")
    assert resolver_identity(pip_tools) == resolver_identity(ResolverSettings(hashes=True))
    assert resolver_identity(pip_tools).startswith("pip-tools==")
    assert f"python=={RUNNING}" in resolver_identity(pip_tools)
    assert resolver_identity(uv).startswith("uv==")
    assert "python==3.12" in resolver_identity(uv)


def test_missing_uv_is_one_clear_error(wheelhouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uv", None)
    monkeypatch.setattr(uv_binary.shutil, "which", lambda _name: None)
    with pytest.raises(ResolveError) as info:
        pin("uv", wheelhouse, "alpha\n")
    message = str(info.value)
    assert "pip install uv" in message
    assert 'resolver = "pip-tools"' in message
    assert "\n" not in message


# -- stderr parsing (canned resolver output) -------------------------------------------

PIP_TRACEBACK = """\
  ERROR: Could not find a version that satisfies the requirement alpha>=9 (from versions: 1.0)
Traceback (most recent call last):
  File "/x/pip/_internal/resolution/resolvelib/resolver.py", line 112, in resolve
    raise error from e
pip._internal.exceptions.DistributionNotFound: No matching distribution found for alpha>=9
"""

UV_FANCY = """\
  \u00d7 No solution found when resolving dependencies:
  \u2570\u2500\u25b6 Because only alpha<=2.0 is available and you require alpha>=9, we can
      conclude that your requirements are unsatisfiable.
"""


def test_pip_reason_drops_the_traceback() -> None:
    offenders, reason = pip_failure_reason(PIP_TRACEBACK)
    assert offenders[0] == "alpha>=9"
    assert reason == "No matching distribution found for alpha>=9 (available: 1.0)"


def test_uv_reason_handles_plain_and_fancy_output() -> None:
    plain = (
        "error: No solution found when resolving dependencies\n"
        "  cause: Because you require alpha>=9, we can conclude that it is unsatisfiable.\n"
    )
    assert uv_failure_reason(plain) == (
        ["alpha>=9"],
        "Because you require alpha>=9, we can conclude that it is unsatisfiable",
    )
    offenders, reason = uv_failure_reason(UV_FANCY)
    assert offenders == ["alpha>=9"]
    assert reason.startswith("Because only alpha<=2.0 is available")
    assert reason.endswith("we can conclude that your requirements are unsatisfiable")
    assert "\u2570" not in reason
    assert "\u00d7" not in reason
