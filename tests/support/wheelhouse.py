"""A directory of tiny, deterministic, pure-Python wheels for hermetic resolver tests.

``build_wheelhouse(dest)`` writes each wheel directly as a zip file (no setuptools,
no network) with fixed timestamps and permissions, so the bytes (and therefore
``--generate-hashes`` output) are identical on every run. Resolve against it with
``no_index=True, find_links=(wheelhouse,)``.

Contents (distribution name, versions -> dependencies):

=================  ===========  ==============================================
distribution       versions     requires
=================  ===========  ==============================================
alpha              1.0 1.1 2.0  (nothing)
beta               1.0          gamma>=1.0
gamma              1.0          delta
delta              1.0          (nothing)            chain: beta->gamma->delta
epsilon            1.0          extra ``fast``: zeta>=1.0
zeta               1.0          (nothing)
eta                1.0          theta; python_version < "3.99"
                                iota; sys_platform == "nonexistent"
theta              1.0          (nothing)
iota               1.0          (nothing)            (never pinned via eta)
py-kappa           1.0          (nothing); import name ``kappa`` (top_level)
mcp                1.9 2.3      (nothing); fake, module ``mcp``
fastmcp            3.0          mcp<2
fastmcp            4.0          mcp>=2.2
=================  ===========  ==============================================

Every module defines ``__version__``. The fake ``fastmcp`` exposes a minimal
``FastMCP`` class (``FastMCP(name)``, ``@app.tool`` / ``@app.tool()``, ``app.tools``,
``app.run()`` which returns immediately) and ``fastmcp.MCP_REQUIREMENT``; the fake
``mcp`` exposes ``mcp.__version__``. Wheel file names follow the spec, e.g.
``py_kappa-1.0-py3-none-any.whl``.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class FakeDist:
    name: str
    version: str
    requires: tuple[str, ...] = ()
    extras: dict[str, tuple[str, ...]] = field(default_factory=dict)
    import_name: str | None = None
    module_source: str = ""

    @property
    def module(self) -> str:
        return self.import_name or canonicalize_name(self.name).replace("-", "_")


_FASTMCP_SOURCE = '''
MCP_REQUIREMENT = {mcp_req!r}


class FastMCP:
    """A fake FastMCP app: records tools, ``run`` returns at once."""

    def __init__(self, name="server", **kwargs):
        self.name = name
        self.tools = {{}}

    def tool(self, fn=None, **kwargs):
        def register(func):
            self.tools[func.__name__] = func
            return func

        return register(fn) if callable(fn) else register

    def run(self, *args, **kwargs):
        return None
'''


def _dists() -> list[FakeDist]:
    dists = [
        FakeDist("alpha", "1.0"),
        FakeDist("alpha", "1.1"),
        FakeDist("alpha", "2.0"),
        FakeDist("beta", "1.0", ("gamma>=1.0",)),
        FakeDist("gamma", "1.0", ("delta",)),
        FakeDist("delta", "1.0"),
        FakeDist("epsilon", "1.0", extras={"fast": ("zeta>=1.0",)}),
        FakeDist("zeta", "1.0"),
        FakeDist(
            "eta",
            "1.0",
            ('theta; python_version < "3.99"', 'iota; sys_platform == "nonexistent"'),
        ),
        FakeDist("theta", "1.0"),
        FakeDist("iota", "1.0"),
        FakeDist("py-kappa", "1.0", import_name="kappa"),
        FakeDist("mcp", "1.9"),
        FakeDist("mcp", "2.3"),
    ]
    for version, mcp_req in (("3.0", "mcp<2"), ("4.0", "mcp>=2.2")):
        dists.append(
            FakeDist(
                "fastmcp",
                version,
                (mcp_req,),
                module_source=_FASTMCP_SOURCE.format(mcp_req=mcp_req),
            )
        )
    return dists


def _metadata(dist: FakeDist) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {dist.name}", f"Version: {dist.version}"]
    lines.append(f"Summary: fake {dist.name} for mcpbundle tests")
    lines += [f"Requires-Dist: {req}" for req in dist.requires]
    for extra, reqs in sorted(dist.extras.items()):
        lines.append(f"Provides-Extra: {extra}")
        for req in reqs:
            name, sep, marker = req.partition(";")
            cond = f'({marker.strip()}) and extra == "{extra}"' if sep else f'extra == "{extra}"'
            lines.append(f"Requires-Dist: {name.strip()}; {cond}")
    return "\n".join(lines) + "\n"


_WHEEL = (
    "Wheel-Version: 1.0\nGenerator: mcpbundle-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def write_wheel(dist: FakeDist, dest: Path, tag: str = "py3-none-any") -> Path:
    """Write one wheel for ``dist`` into ``dest`` and return its path (``tag``: its
    compatibility tag, e.g. ``cp311-cp311-manylinux_2_17_x86_64`` for a compiled one)."""
    stem = f"{canonicalize_name(dist.name).replace('-', '_')}-{dist.version}"
    info = f"{stem}.dist-info"
    source = f"__version__ = {dist.version!r}\n{dist.module_source}"
    files: list[tuple[str, bytes]] = [
        (f"{dist.module}/__init__.py", source.encode()),
        (f"{info}/METADATA", _metadata(dist).encode()),
        (f"{info}/WHEEL", _WHEEL.replace("py3-none-any", tag).encode()),
        (f"{info}/top_level.txt", f"{dist.module}\n".encode()),
    ]
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files)
    files.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))

    path = dest / f"{stem}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files:
            zinfo = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            zinfo.external_attr = 0o644 << 16
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zinfo, data)
    return path


def build_wheelhouse(dest: Path) -> Path:
    """Write every fake wheel (see the module docstring) into ``dest``; return ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for dist in _dists():
        write_wheel(dist, dest)
    return dest
