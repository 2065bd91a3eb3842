"""The ``python`` runtime's ``server/lib``: the pinned requirements, installed from wheels.

``pip install --target --no-deps --only-binary=:all:`` of exactly the pins (no
resolution: the pins are the resolver's), for the target Python and the bundle's
platforms, from the same index settings the resolver used, without bytecode.

- Default: pure-Python wheels only (``py3-none-any``), one install for every
  platform; a pin with no such wheel (a compiled dependency, or an sdist only) is a
  build error naming it.
- ``mcpb-compiled = true``: each platform's wheels (linux: manylinux x86_64 and
  aarch64; darwin: arm64 and x86_64; win32: amd64; or one architecture, named
  ``linux-x86_64``), installed one architecture at a time and merged (a compiled
  module's file name usually carries its platform, so they coexist; an ``abi3`` one
  that does not is a build error asking for one architecture); a pin without a wheel
  for a listed platform is a build error naming both.

Each pin's environment marker is evaluated for the platform it is installed for,
not for this machine. The pins themselves are the build's (resolved here): a
dependency only another platform needs and this machine's resolution left out is
not added.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker

from mcpbundle.base.errors import BuildError
from mcpbundle.base.runner import run, tail
from mcpbundle.base.temp_dirs import temp_dir
from mcpbundle.plan.pinned_text import parse_pins
from mcpbundle.resolve.resolver import ResolverSettings, child_env, index_args


@dataclass(frozen=True)
class Target:
    platform: str  # the MCP Bundle name: darwin, linux, win32
    arch: str
    tags: tuple[str, ...]  # pip --platform values
    system: str  # platform.system()
    machine: str  # platform.machine()

    @property
    def name(self) -> str:
        """``linux-x86_64``: how mcpb-platforms names this one architecture."""
        return f"{self.platform}-{self.arch}"


TARGETS = (
    Target("darwin", "arm64", ("macosx_11_0_arm64",), "Darwin", "arm64"),
    Target("darwin", "x86_64", ("macosx_10_12_x86_64",), "Darwin", "x86_64"),
    Target("linux", "x86_64", ("manylinux_2_17_x86_64", "manylinux2014_x86_64"), "Linux",
           "x86_64"),
    Target("linux", "aarch64", ("manylinux_2_17_aarch64", "manylinux2014_aarch64"), "Linux",
           "aarch64"),
    Target("win32", "amd64", ("win_amd64",), "Windows", "AMD64"),
)  # fmt: skip
_MISSING = re.compile(r"No matching distribution found for ([A-Za-z0-9._-]+)(?:==([^\s;]+))?")


def environment(target: Target, python: str) -> dict[str, str]:
    """The marker environment of ``target`` running CPython ``python``."""
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": f"{python}.0",
        "sys_platform": target.platform,
        "platform_system": target.system,
        "platform_machine": target.machine,
        "os_name": "nt" if target.platform == "win32" else "posix",
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }


def pins_for(requirements_txt: str, targets: Sequence[Target], python: str) -> list[str]:
    """``name==version`` lines whose marker holds on any of ``targets``."""
    lines = []
    for pin in parse_pins(requirements_txt):
        marker = Marker(pin.marker) if pin.marker else None
        if marker is None or any(marker.evaluate(environment(t, python)) for t in targets):
            lines.append(f"{pin.name}=={pin.version}")
    return lines


def install(
    dest: Path,
    *,
    requirements_txt: str,
    python: str,
    platforms: Sequence[str],
    compiled: bool,
    settings: ResolverSettings,
    server: str,
) -> None:
    """Install the pins into ``dest`` (created; must not exist)."""
    targets = [t for t in TARGETS if t.platform in platforms or t.name in platforms]
    if not compiled:
        pins = pins_for(requirements_txt, targets, python)
        _pip(dest, pins, python, ("any",), pure=True, settings=settings, server=server, what="")
        _drop_scripts(dest)
        return
    dest.mkdir(parents=True)
    with temp_dir("mcpblib") as scratch:
        for index, target in enumerate(targets):
            part = scratch / str(index)
            pins = pins_for(requirements_txt, [target], python)
            what = target.name
            _pip(part, pins, python, target.tags, pure=False, settings=settings, server=server,
                 what=what)  # fmt: skip
            _drop_scripts(part)
            _merge(part, dest, what, server)


def _drop_scripts(lib: Path) -> None:
    """pip's console scripts (``bin/``) start with this machine's interpreter path: the
    bundle runs its server through its launcher and ``python``, never through them."""
    scripts = lib / "bin"
    if scripts.is_dir() and not scripts.is_symlink():
        shutil.rmtree(scripts)


def _pip(
    dest: Path,
    pins: Sequence[str],
    python: str,
    tags: Sequence[str],
    *,
    pure: bool,
    settings: ResolverSettings,
    server: str,
    what: str,
) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    if not pins:
        return
    with temp_dir("mcpbpins") as scratch:
        listing = scratch / "requirements.txt"
        listing.write_text("".join(f"{pin}\n" for pin in pins), encoding="utf-8")
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        cmd += ["--no-input", "--no-compile", "--no-deps", "--only-binary=:all:"]
        cmd += ["--target", str(dest), "--python-version", python]
        if pure:
            cmd += ["--implementation", "py", "--abi", "none"]
        else:
            abi = f"cp{python.replace('.', '')}"
            cmd += ["--implementation", "cp", "--abi", abi, "--abi", "abi3", "--abi", "none"]
        for tag in tags:
            cmd += ["--platform", tag]
        cmd += [*index_args(settings), "-r", str(listing)]
        done = run(cmd, env=child_env(settings), cwd=scratch)
    if done.returncode == 0:
        return
    missing = _MISSING.search(done.stderr)
    if missing is None:
        raise BuildError(
            f"installing the pins into server/lib failed: {tail(done.stderr, 3)}",
            where=f"server '{server}' (mcpb-runtime = 'python')",
            hint="or set mcpb-runtime = 'uv' (the client installs the pins)",
            server=server,
        )
    name = missing.group(1) + (f"=={missing.group(2)}" if missing.group(2) else "")
    if pure:
        raise BuildError(
            f"{name} has no pure-Python wheel (it is compiled, or published as an sdist only)",
            where=f"server '{server}' (mcpb-runtime = 'python')",
            hint=f"set [servers.{server}] mcpb-compiled = true to bundle its wheel for each "
            "of mcpb-platforms, or mcpb-runtime = 'uv'",
            server=server,
        )
    platform = what.partition("-")[0]
    raise BuildError(
        f"{name} has no wheel for {what} (Python {python})",
        where=f"server '{server}' (mcpb-runtime = 'python')",
        hint=f"remove {platform!r} from [servers.{server}] mcpb-platforms, or set "
        "mcpb-runtime = 'uv'",
        server=server,
    )


def _merge(part: Path, dest: Path, what: str, server: str) -> None:
    """Add one platform's install to ``dest``: new files are moved in; a file both hold
    must be the same, except a distribution's metadata (its WHEEL names one platform)."""
    for source in sorted(part.rglob("*")):
        if source.is_dir():
            continue
        rel = source.relative_to(part)
        target = dest / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), str(target))
            continue
        if rel.parts[0].endswith(".dist-info") or filecmp.cmp(source, target, shallow=False):
            continue
        raise BuildError(
            f"{rel.as_posix()} differs between the wheels for {what} and an earlier platform, "
            "so they cannot share one server/lib",
            where=f"server '{server}' (mcpb-runtime = 'python')",
            hint=f"name one architecture in [servers.{server}] mcpb-platforms (e.g. "
            f"{what!r}), or set mcpb-runtime = 'uv'",
            server=server,
        )
