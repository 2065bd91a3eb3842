"""Build :class:`CheckTarget` objects over a tmp dir, and read the fixture files.

A fixture file (``fixtures/*.txt``) holds cases; each case is a few bundle files
and the findings it must produce, exactly::

    ### case: function-wrapper
    ### expect: MCB001:2            (code:line[:severity], space-separated; "none")
    ### option: object_name=server_factory    (also entrypoint=, sys_path=a,b)
    ### file: src/server.py         (the lines below, numbered from 1)
    ...
    ### req: requirements.txt       (a shipped requirement file)
    ...

``#`` comment lines may precede the first case.

With no ``### req:`` a case ships ``requirements.txt`` = ``fastmcp``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mcpbundle.check.model import CheckTarget, SourceFile

FIXTURES = Path(__file__).parent / "fixtures"

TargetFactory = Callable[..., CheckTarget]


def _names(requirements: Mapping[str, str]) -> frozenset[str]:
    names = set()
    for text in requirements.values():
        for line in text.splitlines():
            entry = line.split(" #")[0].strip()
            if not entry or entry.startswith(("#", "-")):
                continue
            try:
                names.add(canonicalize_name(Requirement(entry).name))
            except InvalidRequirement:
                continue
    return frozenset(names)


def build_target(
    root: Path,
    files: Mapping[str, str],
    *,
    server: str = "srv",
    entrypoint: str = "src/server.py",
    object_name: str | None = None,
    sys_path: tuple[str, ...] | None = None,
    requirements: Mapping[str, str] | None = None,
    requirement_names: frozenset[str] | None = None,
    ignore: frozenset[str] = frozenset(),
) -> CheckTarget:
    """Write ``files`` under ``root/server`` and describe them as a target."""
    base = root / server
    reqs = {"requirements.txt": "fastmcp\n"} if requirements is None else dict(requirements)

    def write(mapping: Mapping[str, str]) -> dict[str, SourceFile]:
        out = {}
        for rel, text in mapping.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            out[rel] = SourceFile(path=path, display=f"{server}/{rel}")
        return out

    if sys_path is None:
        entry_dir = entrypoint.rpartition("/")[0]
        sys_path = (entry_dir,)
    return CheckTarget(
        server=server,
        files=write(files),
        entrypoint=entrypoint,
        object_name=object_name,
        sys_path=sys_path,
        requirement_files=write(reqs),
        requirement_names=_names(reqs) if requirement_names is None else requirement_names,
        ignore=ignore,
    )


@dataclass
class Case:
    source: str  # fixture file name
    name: str
    expect: list[tuple[str, int, str | None]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    requirements: dict[str, str] | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.source}::{self.name}"

    def target(self, root: Path) -> CheckTarget:
        sys_path = self.options.get("sys_path")
        return build_target(
            root,
            self.files,
            entrypoint=self.options.get("entrypoint", "src/server.py"),
            object_name=self.options.get("object_name"),
            sys_path=tuple(sys_path.split(",")) if sys_path is not None else None,
            requirements=self.requirements,
        )


def _parse_expect(text: str) -> list[tuple[str, int, str | None]]:
    out: list[tuple[str, int, str | None]] = []
    for item in text.split():
        if item == "none":
            continue
        code, line, *severity = item.split(":")
        out.append((code, int(line), severity[0] if severity else None))
    return out


def load_cases(name: str) -> list[Case]:
    """The cases of ``fixtures/<name>``."""
    cases: list[Case] = []
    chunks: dict[tuple[int, str, str], list[str]] = {}
    current: list[str] | None = None
    for raw in (FIXTURES / name).read_text(encoding="utf-8").splitlines(keepends=True):
        if raw.startswith("### "):
            key, _, value = raw[4:].strip().partition(":")
            value = value.strip()
            if key == "case":
                cases.append(Case(source=name, name=value))
                current = None
            elif key == "expect":
                cases[-1].expect.extend(_parse_expect(value))
            elif key == "option":
                opt, _, val = value.partition("=")
                cases[-1].options[opt.strip()] = val.strip()
            elif key in {"file", "req"}:
                current = chunks.setdefault((len(cases) - 1, key, value), [])
            else:
                raise ValueError(f"{name}: unknown fixture directive {raw!r}")
            continue
        if current is None:
            if raw.strip() and not (raw.startswith("#") and not cases):
                raise ValueError(f"{name}: text outside a file section: {raw!r}")
            continue
        current.append(raw)
    for (index, kind, path), lines in chunks.items():
        case = cases[index]
        if kind == "file":
            case.files[path] = "".join(lines)
        else:
            if case.requirements is None:
                case.requirements = {}
            case.requirements[path] = "".join(lines)
    return cases
