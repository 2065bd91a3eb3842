"""Deterministic synthetic monorepos (and an offline wheelhouse) for ``make bench``.

``make_monorepo(root, servers=N, libs=K, modules=M, ...)`` writes::

    mcpbundle.toml
    libs/lib-K/pyproject.toml      name "lib-K", PyPI dependencies
    libs/lib-K/lib_K/mod_J.py      M modules of ordinary code
    servers/srvNN/server.py        FastMCP app importing some libs
    servers/srvNN/requirements.txt fastmcp + PyPI names + ``-e ../../libs/lib-K``

Everything depends only on the arguments, so two runs build identical trees.
Offline, the PyPI side is a generated wheelhouse (``make_wheelhouse``) of tiny
wheels written by ``tests/support/wheelhouse.py``; online it is real PyPI names.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.wheelhouse import _FASTMCP_SOURCE, FakeDist, write_wheel

PACKAGES = 24  # synth-pkg-00 .. synth-pkg-23
LEAVES = 7  # synth-leaf-0 .. synth-leaf-6
ONLINE_NAMES = (
    "requests", "pyyaml", "python-dateutil", "attrs", "click", "rich", "tenacity",
    "jinja2", "tabulate", "cachetools", "orjson", "humanize",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Shape:
    servers: int = 10
    libs: int = 3
    modules: int = 5
    resolver: str = "pip-tools"
    online: bool = False
    wheelhouse: Path | None = None  # offline: find-links directory
    lock: str | None = None  # [bundle] lock; None: the default


def pypi_name(index: int, online: bool) -> str:
    if online:
        return ONLINE_NAMES[index % len(ONLINE_NAMES)]
    return f"synth-pkg-{index % PACKAGES:02d}"


def extra_requirement(step: int, online: bool) -> str:
    """A requirement to add to one server in the ``add-requirement`` scenario."""
    if online:
        return ("six", "idna", "certifi", "packaging", "toolz", "wrapt")[step % 6]
    return f"synth-extra-{step:02d}"


def make_wheelhouse(dest: Path, extra: int = 12) -> Path:
    """Tiny wheels: fastmcp/mcp fakes, synth-pkg-NN (3 versions) -> synth-leaf-N, extras."""
    dest.mkdir(parents=True, exist_ok=True)
    dists = [
        FakeDist("mcp", "1.9.0"),
        FakeDist(
            "fastmcp",
            "2.12.0",
            ("mcp>=1.9",),
            module_source=_FASTMCP_SOURCE.format(mcp_req="mcp>=1.9"),
        ),
    ]
    dists += [FakeDist(f"synth-leaf-{i}", "1.0") for i in range(LEAVES)]
    for index in range(PACKAGES):
        for version in ("1.0", "1.1", "2.0"):
            requires = (f"synth-leaf-{index % LEAVES}>=1.0",)
            if index % 4 == 0:
                requires += (f"synth-pkg-{(index + 1) % PACKAGES:02d}>=1.0",)
            dists.append(FakeDist(f"synth-pkg-{index:02d}", version, requires))
    dists += [FakeDist(f"synth-extra-{i:02d}", "1.0") for i in range(extra)]
    for dist in dists:
        if not any(dest.glob(f"{dist.name.replace('-', '_')}-{dist.version}-*.whl")):
            write_wheel(dist, dest)
    return dest


def server_libs(index: int, libs: int) -> list[int]:
    return sorted({index % libs, (index * 7 + 1) % libs}) if libs else []


def _module_source(lib: int, module: int) -> str:
    lines = [f'"""lib_{lib}.mod_{module}: synthetic shared code."""', ""]
    for fn in range(12):
        lines += [
            "",
            f"def f{fn}(value: int) -> int:",
            f'    """Step {fn} of module {module} in lib {lib}."""',
            f"    total = value * {fn + 1} + {module}",
            "    for step in range(3):",
            f"        total = (total + step * {lib + 1}) % 1_000_003",
            "    return total",
        ]
    return "\n".join(lines) + "\n"


def _lib(root: Path, lib: int, modules: int, online: bool) -> None:
    base = root / "libs" / f"lib-{lib}"
    package = base / f"lib_{lib}"
    package.mkdir(parents=True, exist_ok=True)
    deps = [pypi_name(lib * 2, online), pypi_name(lib * 2 + 1, online)]
    (base / "pyproject.toml").write_text(
        "[build-system]\n"
        'requires = ["setuptools>=68"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        f'name = "lib-{lib}"\n'
        'version = "0.1.0"\n'
        f"dependencies = {deps!r}\n".replace("'", '"')
    )
    (package / "__init__.py").write_text(f'"""Synthetic shared library {lib}."""\n')
    for module in range(modules):
        (package / f"mod_{module}.py").write_text(_module_source(lib, module))


def _server(root: Path, index: int, shape: Shape) -> None:
    name = f"srv{index:02d}"
    base = root / "servers" / name
    base.mkdir(parents=True, exist_ok=True)
    uses = server_libs(index, shape.libs)
    imports = "".join(f"from lib_{lib} import mod_0 as lib{lib}_mod\n" for lib in uses)
    tools = "".join(
        f"\n\n@mcp.tool()\ndef tool_{lib}(value: int) -> int:\n"
        f'    """Ask lib {lib}."""\n    return lib{lib}_mod.f0(value)\n'
        for lib in uses
    )
    (base / "server.py").write_text(
        f'"""Synthetic server {name}."""\n\nfrom fastmcp import FastMCP\n\n{imports}\n'
        f'mcp = FastMCP("{name}")\n{tools}'
    )
    own = [pypi_name(10 + index, shape.online)]
    if not shape.online:
        own.append("synth-pkg-05<2" if index % 3 == 0 else "synth-pkg-05>=1.0")
    reqs = ["fastmcp>=2.12", *own, *(f"-e ../../libs/lib-{lib}" for lib in uses)]
    (base / "requirements.txt").write_text("\n".join(reqs) + "\n")
    (base / ".env.example").write_text(f"{name.upper()}_TOKEN=\n")


def make_monorepo(root: Path, shape: Shape) -> Path:
    """Write the synthetic monorepo for ``shape`` into ``root``; return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for lib in range(shape.libs):
        _lib(root, lib, shape.modules, shape.online)
    for index in range(shape.servers):
        _server(root, index, shape)
    bundle = ['output = "dist"', f'resolver = "{shape.resolver}"']
    if shape.lock:
        bundle.append(f'lock = "{shape.lock}"')
    if shape.wheelhouse is not None:
        bundle += ["no-index = true", f'find-links = ["{shape.wheelhouse}"]']
    config = ["[bundle]", *bundle, ""]
    for lib in range(shape.libs):
        config += [f"[shared.lib{lib}]", f'path = "libs/lib-{lib}"', ""]
    for index in range(shape.servers):
        name = f"srv{index:02d}"
        config += [f"[servers.{name}]", f'path = "servers/{name}"', 'entrypoint = "server.py"', ""]
    (root / "mcpbundle.toml").write_text("\n".join(config))
    return root


def touch_module(root: Path, step: int) -> Path:
    """Change one shared-lib module (lib 0, module 0) in a way that changes its bytes."""
    path = root / "libs" / "lib-0" / "lib_0" / "mod_0.py"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\nTOUCHED_{step} = {step}\n")
    return path


def add_requirement(root: Path, step: int, online: bool) -> str:
    """Append one new requirement to the first server's requirements file."""
    requirement = extra_requirement(step, online)
    path = root / "servers" / "srv00" / "requirements.txt"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{requirement}\n")
    return requirement


def input_files(root: Path, output: str = "dist") -> list[Path]:
    """Every file a build reads (everything except the output and VCS metadata)."""
    skip = {output, ".git"}
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and not (set(path.relative_to(root).parts[:1]) & skip)
    )


def _server_dirs(root: Path) -> list[Path]:
    config = tomllib.loads((root / "mcpbundle.toml").read_text(encoding="utf-8"))
    return [root / server["path"] for server in config["servers"].values()]


def _editable_libs(server_dir: Path) -> list[Path]:
    lines = (server_dir / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [(server_dir / line[3:].strip()).resolve() for line in lines if line.startswith("-e ")]


def shipped_python_files(root: Path) -> list[Path]:
    """Every Python file each server ships, once per server that ships it (its own files,
    then those of the libraries it vendors)."""
    found: list[Path] = []
    for server_dir in _server_dirs(root):
        found += sorted(server_dir.rglob("*.py"))
        for lib in _editable_libs(server_dir):
            found += sorted(lib.rglob("*.py"))
    return found


def union_requirements(root: Path) -> list[str]:
    """The PyPI requirements of every server together (its libraries' dependencies too)."""
    lines: list[str] = []
    for server_dir in _server_dirs(root):
        text = (server_dir / "requirements.txt").read_text(encoding="utf-8")
        lines += [line for line in text.splitlines() if line and not line.startswith("-e ")]
        for lib in _editable_libs(server_dir):
            project = tomllib.loads((lib / "pyproject.toml").read_text(encoding="utf-8"))
            lines += project["project"]["dependencies"]
    return list(dict.fromkeys(lines))
