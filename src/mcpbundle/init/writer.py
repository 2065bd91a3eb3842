"""``mcpbundle init``: scan, render a commented config with tomlkit, write it.

The keys come in the order of ``mcpbundle.toml.example``; every guess that may be
wrong is a comment above its key. The text is validated as ``build`` would read it
before anything is written. ``mcpbundle.toml`` is written whole (refused when it
exists, unless ``force``; ``dry_run`` renders it either way); with ``pyproject`` the
tables go under ``[tool.mcpbundle]`` of the existing ``pyproject.toml``, every other
byte of which stays as it was.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Table

from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.config.json_schema import SCHEMA_ID
from mcpbundle.config.read import CONFIG_NAME, PYPROJECT_NAME, TOOL_TABLE
from mcpbundle.config.settings import Config
from mcpbundle.config.validate import validate
from mcpbundle.git.ignore import ensure_ignored
from mcpbundle.init.bundle_settings import BundleGuess, guess_bundle
from mcpbundle.init.libraries import FoundLib, find_libs
from mcpbundle.init.scan import FoundServer, find_servers, no_servers_error, read_repo

HEADER = (
    "Written by `mcpbundle init` from what this repository declares. A comment above a key",
    "says why it was chosen where the choice could be wrong: review those, then run",
    "`mcpbundle build --dry-run`. Every key, with its default: mcpbundle.toml.example.",
)


@dataclass(kw_only=True)
class InitResult:
    path: Path  # the file written (or that would be)
    text: str  # the config as written (for --pyproject: the [tool.mcpbundle] part)
    servers: list[FoundServer]
    libs: list[FoundLib]
    bundle: BundleGuess
    gitignore: str | None = None  # the line added to .gitignore
    warnings: list[str] = field(default_factory=list)


def run_init(target: Path, *, dry_run: bool, force: bool, pyproject: bool) -> InitResult:
    """Scan the directory holding ``target`` and write (or, ``dry_run``, render) its config."""
    root = target.parent.resolve()
    # --dry-run writes nothing, so an existing file never stops it from printing the new one
    _refuse_existing(target, force=force or dry_run, pyproject=pyproject)
    repo = read_repo(root)
    servers = find_servers(repo)
    if not servers:
        raise no_servers_error(repo)
    reach = find_libs(repo, servers)
    server_dirs = [s.path for s in reach.servers]
    entries = [(s.path, s.entrypoint.split(":", 1)[0]) for s in reach.servers]
    bundle = guess_bundle(repo, server_dirs, reach.projects, reach.git, entries=entries)
    document = render(bundle, reach.libs, reach.servers)
    # mcpbundle.toml names its JSON Schema first, as the example does, for editors
    schema_line = f"#:schema {SCHEMA_ID}\n"
    text = _as_pyproject(document) if pyproject else schema_line + str(document.as_string())
    text = text if text.endswith("\n") else text + "\n"
    _check(text, target, pyproject=pyproject)
    result = InitResult(path=target, text=text, servers=reach.servers, libs=reach.libs,
                        bundle=bundle, warnings=repo.warnings)  # fmt: skip
    if not dry_run:
        if pyproject:
            _write_pyproject(target, text)
        else:
            _write_atomic(target, text.encode("utf-8"))
    result.gitignore = ensure_ignored(target.parent, target.parent / bundle.output, dry_run=dry_run)
    return result


def init_target(cwd: Path, explicit: Path | None, *, pyproject: bool) -> tuple[Path, bool]:
    """The file init writes (``-c`` names it, else ``mcpbundle.toml`` / ``pyproject.toml``
    here) and whether it is a pyproject."""
    if explicit is None:
        return cwd / (PYPROJECT_NAME if pyproject else CONFIG_NAME), pyproject
    path = explicit if explicit.is_absolute() else cwd / explicit
    if path.is_dir():
        return path / (PYPROJECT_NAME if pyproject else CONFIG_NAME), pyproject
    return path, pyproject or path.name == PYPROJECT_NAME


def format_summary(result: InitResult, *, dry_run: bool) -> str:
    shown = result.path.name
    verb = "would write" if dry_run else "wrote"
    where = f"[{TOOL_TABLE}] in {shown}" if shown == PYPROJECT_NAME else shown
    servers, libs = len(result.servers), len(result.libs)
    counted = (
        f"{servers} server{'s' * (servers != 1)}, {libs} shared librar{'ies' if libs != 1 else 'y'}"
    )
    lines = [f"{verb} {where}: {counted}"]
    width = max(
        len(name)
        for name in [*(s.name for s in result.servers), *(lib.name for lib in result.libs)]
    )
    for server in result.servers:
        entry = server.entrypoint if server.path == "." else f"{server.path}/{server.entrypoint}"
        lines.append(f"  server {server.name:<{width}}  {entry}")
    for lib in result.libs:
        lines.append(f"  shared {lib.name:<{width}}  {lib.path}")
    bundle = result.bundle
    settings = [f"output {bundle.output}/"]
    settings.append(f"python {bundle.python}" if bundle.python else "python not set")
    if bundle.resolver:
        settings.append(f"resolver {bundle.resolver}")
    if bundle.git:
        settings.append(f"git {bundle.git}")
    if bundle.exclude:
        settings.append(f"exclude {', '.join(bundle.exclude)}")
    lines.append("  " + "; ".join(settings))
    if result.gitignore:
        lines.append(f"{'would add' if dry_run else 'added'} {result.gitignore!r} to .gitignore")
    lines.append("next: mcpbundle build --dry-run")
    return "\n".join(lines)


def render(bundle: BundleGuess, libs: list[FoundLib], servers: list[FoundServer]) -> Any:
    document = tomlkit.document()
    for line in HEADER:
        document.add(tomlkit.comment(line))
    document.add(tomlkit.nl())
    table = tomlkit.table()
    _add(table, "output", bundle.output, [bundle.output_note])
    if bundle.exclude:
        _add(table, "exclude", bundle.exclude, [bundle.exclude_note])
    if bundle.python is not None:
        _add(table, "python", bundle.python, [bundle.python_note])
    elif bundle.python_note:
        table.add(tomlkit.comment(f"python: {bundle.python_note}"))
    if bundle.resolver is not None:
        _add(table, "resolver", bundle.resolver, [bundle.resolver_note])
    elif bundle.resolver_note:
        for line in _wrap(f"resolver: {bundle.resolver_note}"):
            table.add(tomlkit.comment(line))
    if bundle.git is not None:
        _add(table, "git", bundle.git, [bundle.git_note])
    elif bundle.git_note and not bundle.git_overrides:
        table.add(tomlkit.comment(bundle.git_note))
    if bundle.git_overrides:
        overrides = tomlkit.table()
        overrides.add(tomlkit.comment(bundle.git_note))
        for url, policy in sorted(bundle.git_overrides.items()):
            overrides.add(url, policy)
        table.add("git-overrides", overrides)
    document.add("bundle", table)
    if libs:
        shared = tomlkit.table(is_super_table=True)
        for lib in libs:
            entry = tomlkit.table()
            _add(entry, "path", lib.path, lib.notes)
            shared.add(lib.name, entry)
        document.add("shared", shared)
    tables = tomlkit.table(is_super_table=True)
    for server in servers:
        entry = tomlkit.table()
        entry.add("path", server.path)
        notes = [f"entrypoint: {server.why}"] if server.why else []
        _add(entry, "entrypoint", server.entrypoint, [*notes, *server.notes])
        if server.requirements is not None:
            note = "the requirements of the project this directory belongs to"
            _add(entry, "requirements", server.requirements, [note])
        if server.shared:
            _add(entry, "shared", list(server.shared), server.shared_notes)
        tables.add(server.name, entry)
    document.add("servers", tables)
    return document


def _add(table: Table, key: str, value: object, notes: Sequence[str | None]) -> None:
    for note in notes:
        for line in _wrap(note or ""):
            table.add(tomlkit.comment(line))
    table.add(key, value)


def _wrap(text: str, width: int = 92) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = "  " + word
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current] if current else lines


def _as_pyproject(document: Any) -> str:
    """The same tables as ``[tool.mcpbundle.*]`` (the header comment above them)."""
    outer = tomlkit.document()
    tool = tomlkit.table(is_super_table=True)
    inner = tomlkit.table(is_super_table=True)
    for key, value in document.items():
        inner.add(key, value)
    tool.add("mcpbundle", inner)
    for line in _pyproject_header():
        outer.add(tomlkit.comment(line))
    outer.add("tool", tool)
    return str(outer.as_string())


def _pyproject_header() -> list[str]:
    return [line.replace("`mcpbundle init`", "`mcpbundle init --pyproject`") for line in HEADER]


def _check(text: str, target: Path, *, pyproject: bool) -> Config:
    """Validate what would be written as ``build`` reads it (a failure is init's own bug)."""
    try:
        data = tomllib.loads(text)
        if pyproject:
            return validate(data["tool"]["mcpbundle"], target, key_prefix=TOOL_TABLE + ".")
        return validate(data, target)
    except Exception as exc:  # reported as one line, never written
        raise BuildError(
            f"init produced a config that does not validate: {exc}",
            where=target.name,
            hint="please report this; write the config by hand meanwhile (mcpbundle.toml.example)",
        ) from exc


def _refuse_existing(target: Path, *, force: bool, pyproject: bool) -> None:
    if pyproject:
        if not target.is_file():
            raise UsageError(
                f"no {PYPROJECT_NAME} in {target.parent}",
                hint=f"run `mcpbundle init` without --pyproject to write {CONFIG_NAME}",
            )
        data = _pyproject_data(target)
        tool = data.get("tool")
        if isinstance(tool, dict) and "mcpbundle" in tool and not force:
            raise UsageError(
                f"already has a [{TOOL_TABLE}] table",
                where=target.name,
                hint="pass --force to replace it, or --dry-run to print the new one",
            )
        return
    if (target.exists() or target.is_symlink()) and not force:
        raise UsageError(
            "already exists",
            where=target.name,
            hint="pass --force to overwrite it, or --dry-run to print the new one",
        )


def _pyproject_data(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read: {exc}", where=path.name, hint="fix the file") from exc


def _write_pyproject(path: Path, addition: str) -> None:
    """Append the tables to ``path``; an old ``[tool.mcpbundle]`` is removed first (--force)."""
    original = path.read_bytes()
    data = _pyproject_data(path)
    tool = data.get("tool")
    base = original
    if isinstance(tool, dict) and "mcpbundle" in tool:
        document = tomlkit.parse(original.decode("utf-8"))
        del document["tool"]["mcpbundle"]
        if not document["tool"]:
            del document["tool"]
        header = "".join(f"# {line}\n" for line in _pyproject_header())
        base = document.as_string().replace(header, "").rstrip("\n").encode("utf-8")
    if base and not base.endswith(b"\n"):
        base += b"\n"
    data_out = base + (b"\n" if base else b"") + addition.encode("utf-8")
    try:
        tomllib.loads(data_out.decode("utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"cannot add [{TOOL_TABLE}]: {exc}",
            where=path.name,
            hint=f"write {CONFIG_NAME} instead (init without --pyproject)",
        ) from exc
    _write_atomic(path, data_out)


def _write_atomic(path: Path, data: bytes) -> None:
    if path.exists():
        mode = path.stat().st_mode & 0o777
    else:
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o666 & ~umask
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
