"""Licences travel with vendored code: find them, ship them, list them.

A vendored library's ``LICENSE``/``NOTICE``/``COPYING`` sits beside its package,
outside what is copied. For each vendored distribution this module finds its
licence as metadata states it (PEP 639 ``license = "MIT"``, a ``{text}`` or
``{file}`` table, Poetry's or setup.cfg's ``license``, ``License ::`` classifiers)
and its licence files (``license-files`` globs, else the usual names, in the
library's directory or the nearest directory above it up to the repository or
checkout root). The files ship where PEP 639 puts them, in the vendored
``.dist-info/licenses/``, and each server gets a ``THIRD_PARTY_NOTICES.md``.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

from mcpbundle.base.listing import first_few
from mcpbundle.base.redact import mask_urls

NOTICES_NAME = "THIRD_PARTY_NOTICES.md"
_FILE_GLOBS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")


@dataclass(frozen=True, kw_only=True)
class Licence:
    """What is known of one distribution's licence."""

    expression: str | None = None  # an SPDX expression, or the free text metadata gives
    files: tuple[tuple[str, Path], ...] = ()  # (path relative to its project, the file)

    @property
    def known(self) -> bool:
        return self.expression is not None or bool(self.files)


def find_licence(project_dir: Path, stop: Path) -> Licence:
    """The licence of the project in ``project_dir`` (files searched up to ``stop``)."""
    data = _toml(project_dir / "pyproject.toml")
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    assert isinstance(project, dict)
    expression, named_file = _declared(project, data, project_dir)
    globs = project.get("license-files")
    files: list[tuple[str, Path]] = []
    if named_file is not None and named_file.is_file():
        files.append((named_file.relative_to(project_dir).as_posix(), named_file))
    elif isinstance(globs, list) and all(isinstance(g, str) for g in globs):
        files += _matching(project_dir, globs)
    else:
        files += _nearest(project_dir, stop)
    return Licence(expression=expression, files=tuple(sorted(dict(files).items())))


def _declared(
    project: dict[str, Any], data: dict[str, Any], project_dir: Path
) -> tuple[str | None, Path | None]:
    """``(expression or text, a licence file named by metadata)``."""
    value = project.get("license")
    if isinstance(value, str) and value.strip():
        return _spdx(value), None
    if isinstance(value, dict):
        if isinstance(value.get("text"), str) and value["text"].strip():
            return _spdx(value["text"].strip().splitlines()[0]), None
        if isinstance(value.get("file"), str):
            return None, project_dir / value["file"]
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict) and isinstance(poetry.get("license"), str):
        return _spdx(poetry["license"]), None
    classifiers = project.get("classifiers")
    if isinstance(classifiers, list):
        for item in classifiers:
            if isinstance(item, str) and item.startswith("License ::"):
                return item.rsplit("::", 1)[1].strip(), None
    setup_cfg = project_dir / "setup.cfg"
    if not setup_cfg.is_file():
        return None, None
    import configparser  # only for a setup.cfg's licence (every plan gets here without one)

    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read(setup_cfg, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None, None
    text = cfg.get("metadata", "license", fallback="").strip()
    return (_spdx(text) if text else None), None


def _spdx(text: str) -> str:
    try:
        return str(canonicalize_license_expression(text))
    except InvalidLicenseExpression:
        return " ".join(text.split())


def _matching(directory: Path, globs: Iterable[str]) -> list[tuple[str, Path]]:
    found = []
    for pattern in globs:
        for path in sorted(directory.glob(pattern)):
            if path.is_file() and path.resolve().is_relative_to(directory.resolve()):
                found.append((path.relative_to(directory).as_posix(), path))
    return found


def _nearest(directory: Path, stop: Path) -> list[tuple[str, Path]]:
    """The usual licence files of ``directory``, else of the nearest parent up to ``stop``."""
    current, stop = directory.resolve(), stop.resolve()
    while True:
        found = [
            (path.name, path)
            for path in sorted(current.iterdir())
            if path.is_file() and any(fnmatch.fnmatchcase(path.name, g) for g in _FILE_GLOBS)
        ]
        if found or current == stop or not current.is_relative_to(stop):
            return found
        current = current.parent


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


@dataclass(frozen=True, kw_only=True)
class Notice:
    """One vendored distribution's entry in THIRD_PARTY_NOTICES.md."""

    distribution: str
    version: str | None
    licence: Licence
    origin: str  # repo-relative path, or git URL at commit
    shipped: tuple[str, ...]  # where its licence files are in the bundle (server-relative)


def render_notices(server: str, notices: Sequence[Notice]) -> bytes:
    """``THIRD_PARTY_NOTICES.md``: every vendored distribution, its licence and origin."""
    lines = [
        f"# Third-party notices for {server}",
        "",
        "Generated by `mcpbundle build`; do not edit. Code vendored into this bundle:",
        "",
        "| distribution | version | licence | origin | licence files |",
        "| --- | --- | --- | --- | --- |",
    ]
    for notice in sorted(notices, key=lambda n: n.distribution):
        files = ", ".join(f"`{f}`" for f in notice.shipped) or "none"
        expression = notice.licence.expression or (
            "see licence files" if notice.licence.files else "**unknown**"
        )
        cells = [notice.distribution, notice.version or "unknown", expression, notice.origin, files]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return (mask_urls("\n".join(lines)) + "\n").encode()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_UNLICENSED = "has no licence information; add a LICENSE file or [project] license"


def licence_warnings(unlicensed: Sequence[tuple[str, str]]) -> list[str]:
    """One warning per library without licence information, naming the servers that vendor
    it (a library twenty servers vendor is one line, not twenty). ``unlicensed``: (server,
    library as "dist (path)") in plan order."""
    servers: dict[str, list[str]] = {}
    for server, lib in unlicensed:
        servers.setdefault(lib, []).append(server)
    lines = []
    for lib, names in servers.items():
        if len(names) == 1:
            lines.append(f"servers.{names[0]}: vendored {lib} {_UNLICENSED}")
            continue
        lines.append(f"servers {first_few(names)}: vendored {lib} {_UNLICENSED}")
    return lines
