"""``mcpbundle.toml`` validated into :mod:`mcpbundle.config.settings`' frozen dataclasses.

:func:`load_config` = :func:`mcpbundle.config.read.read_toml` + :func:`validate`.
Unknown keys, required keys and each value's type come from the table of keys in
:mod:`mcpbundle.config.settings` (:func:`~mcpbundle.config.schema.read_keys`, the same
table ``schema/mcpbundle.schema.json`` is made from); this module adds what a type cannot
say. Everything here is checked without running anything: types, unknown keys,
paths (exist, stay inside the repo, also through symlinks), entrypoints,
shared-lib names and cycles among declared ``requires``. Checks that need
package discovery (import-name clashes) live in :mod:`mcpbundle.plan`.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import ConfigError
from mcpbundle.base.real_paths import memoized
from mcpbundle.base.suggest import closest
from mcpbundle.config.ci_settings import read_ci
from mcpbundle.config.cross_checks import (
    reject_cycles,
    reject_overlapping_servers,
    reject_shared_duplicates,
)
from mcpbundle.config.paths import (
    branch_name_problem,
    check_relative,
    directory_path,
    inside_path,
    output_problem,
)
from mcpbundle.config.push_targets import target_problem
from mcpbundle.config.read import TOOL_TABLE, find_config, is_pyproject, read_toml, tool_table
from mcpbundle.config.schema import Reader, join, read_keys
from mcpbundle.config.settings import (
    BUNDLE,
    CHECK,
    DEPLOY,
    MAX_NAME,
    NAME_PATTERN,
    ROOT,
    SERVER,
    SHARED,
    BundleSettings,
    Config,
    DeploySettings,
    Server,
    SharedLib,
    _TableReader,
)

_NAME = re.compile(NAME_PATTERN)


def load_config(cwd: Path, explicit: Path | None = None, *, defer_missing: bool = False) -> Config:
    """The validated config. ``defer_missing`` (``build --keep-going``, ``check``): a
    server's missing entrypoint or requirements file fails that server when it is
    planned (:attr:`Server.missing`), not the whole config."""
    path = find_config(cwd, explicit)
    if is_pyproject(path):
        table = tool_table(read_toml(path), display=path.name)
        return validate(table, path, key_prefix=TOOL_TABLE + ".", defer_missing=defer_missing)
    return validate(read_toml(path), path, defer_missing=defer_missing)


def validate(
    data: Mapping[str, Any], path: Path, *, key_prefix: str = "", defer_missing: bool = False
) -> Config:
    """``data`` (the config file at ``path``) checked into a :class:`Config`."""
    with memoized():  # each server's and library's directory resolved once
        return _validate(data, path, key_prefix=key_prefix, defer_missing=defer_missing)


def _validate(
    data: Mapping[str, Any], path: Path, *, key_prefix: str, defer_missing: bool
) -> Config:
    root = path.parent.resolve()
    reader = _TableReader(path.name, key_prefix) if key_prefix else Reader(path.name)
    reader.reject_unknown("", data, ROOT.names)
    bundle = _bundle(reader, reader.table("bundle", data.get("bundle", {})), root)
    shared_table = reader.table("shared", data.get("shared", {}))
    servers_table = reader.table("servers", data.get("servers", {}))
    if not servers_table:
        raise reader.fail("servers", "no servers declared", "add a [servers.NAME] table")
    shared = {
        name: _shared(reader, join("shared", name), name, value, root)
        for name, value in shared_table.items()
    }
    servers = {
        name: _server(
            reader,
            join("servers", name),
            name,
            value,
            root=root,
            shared=shared,
            defer_missing=defer_missing,
        )
        for name, value in servers_table.items()
    }
    for lib in shared.values():
        for index, dep in enumerate(lib.requires or ()):
            if dep not in shared:
                raise _unknown_lib(
                    reader, f"{join('shared', lib.name)}.requires[{index}]", dep, shared
                )
    reject_cycles(reader, shared)
    reject_overlapping_servers(reader, servers, root)
    reject_shared_duplicates(reader, shared, root)
    protected = [root / s.path for s in servers.values()] + [root / s.path for s in shared.values()]
    problem = output_problem(root, root / bundle.output, protected, inside_root=True)
    if problem:
        hint = "pick a new subdirectory such as 'dist'"
        raise reader.fail("bundle.output", f"{bundle.output!r} {problem}", hint)
    check = read_keys(reader, "check", reader.table("check", data.get("check", {})), CHECK)
    return Config(
        path=path.resolve(),
        root=root,
        bundle=bundle,
        shared=shared,
        servers=servers,
        check_ignore=check.get("ignore", CHECK.default("ignore")),
        ci=read_ci(reader, reader.table("ci", data.get("ci", {}))),
        key_prefix=key_prefix,
    )


def _bundle(reader: Reader, table: dict[str, Any], root: Path) -> BundleSettings:
    read = read_keys(reader, "bundle", table, BUNDLE)  # types, by BUNDLE; meaning, below
    values = {BUNDLE[key].attr: value for key, value in read.items()}
    if "constraints" in read:
        values["constraints"] = tuple(
            inside_path(reader, f"bundle.constraints[{index}]", item, root, root, kind="file")
            for index, item in enumerate(read["constraints"])
        )
    if "deploy" in read:
        deploy = read["deploy"]
        if "push-to" in deploy:
            _check_push_to(reader, "bundle.deploy.push-to", deploy["push-to"])
        values["deploy"] = DeploySettings(**{DEPLOY[k].attr: v for k, v in deploy.items()})
    if "branch" in values:
        problem = branch_name_problem(values["branch"])
        if problem:
            raise reader.fail(
                "bundle.branch",
                f"{values['branch']!r} is not a valid branch name: {problem}",
                "use a name like 'deploy' (see git check-ref-format)",
            )
    output = values.get("output", BUNDLE.default("output"))
    if output.startswith("~"):
        raise reader.fail(
            "bundle.output", f"{output!r} starts with '~'", "use a path relative to mcpbundle.toml"
        )
    if Path(output).is_absolute():
        raise reader.fail(
            "bundle.output",
            f"{output!r} is absolute; the output must lie inside the repository",
            "use a path relative to mcpbundle.toml, or -o for a directory elsewhere",
        )
    problem = output_problem(root, root / output, inside_root=True)
    if problem:
        raise reader.fail(
            "bundle.output", f"{output!r} {problem}", "pick a new subdirectory such as 'dist'"
        )
    return BundleSettings(**values)


def check_output_dir(config: Config, output: Path, *, where: str = "-o/--output") -> None:
    """Raise :class:`ConfigError` if a build must not write ``output`` (e.g. ``-o .``)."""
    protected = [config.root / s.path for s in config.servers.values()]
    protected += [config.root / lib.path for lib in config.shared.values()]
    problem = output_problem(config.root, output, protected)
    if problem:
        raise ConfigError(
            f"{str(output)!r} {problem}", where=where, hint="pick a new subdirectory such as 'dist'"
        )


def output_dir(config: Config, override: Path | None) -> Path:
    """Where a build writes: ``-o`` (checked: ``-o .`` must never replace the repository),
    else ``[bundle] output``."""
    if override is not None:
        check_output_dir(config, override)
        return override.resolve()
    return (config.root / config.bundle.output).resolve()


def _shared(reader: Reader, key_path: str, name: str, value: object, root: Path) -> SharedLib:
    _check_name(reader, key_path, name)
    read = read_keys(reader, key_path, reader.table(key_path, value), SHARED)
    path = directory_path(reader, join(key_path, "path"), read["path"], root)
    packages = read.get("packages")
    for index, package in enumerate(packages or ()):
        if not _is_dotted_identifier(package):
            raise reader.fail(
                f"{join(key_path, 'packages')}[{index}]", f"{package!r} is not an importable name"
            )
    return SharedLib(name=name, path=path, packages=packages, requires=read.get("requires"))


def _server(
    reader: Reader,
    key_path: str,
    name: str,
    value: object,
    *,
    root: Path,
    shared: Mapping[str, SharedLib],
    defer_missing: bool = False,
) -> Server:
    _check_name(reader, key_path, name)
    read = read_keys(reader, key_path, reader.table(key_path, value), SERVER)
    path = directory_path(reader, join(key_path, "path"), read.pop("path"), root)
    entry_key = join(key_path, "entrypoint")
    entry_text = read.pop("entrypoint")
    entry_file, _, obj = entry_text.strip().partition(":")
    if ":" in entry_text and (not obj.isidentifier() or keyword.iskeyword(obj)):
        raise reader.fail(
            entry_key,
            f"object name {obj!r} is not a Python identifier",
            "use file.py:object, e.g. 'server.py:mcp'",
        )
    if not entry_file.endswith(".py"):
        raise reader.fail(
            entry_key, f"{entry_file!r} is not a .py file", "use file.py[:object], e.g. 'server.py'"
        )
    missing: list[ConfigError] | None = [] if defer_missing else None
    entry_rel = inside_path(
        reader, entry_key, entry_file, root / path, root, kind="file", missing=missing
    )
    values = {SERVER[key].attr: value for key, value in read.items()}
    if "requirements" in read:
        # A requirement input may live anywhere in the repository (the repository's one
        # pyproject.toml, say): it is read, never shipped.
        values["requirements"] = inside_path(
            reader, join(key_path, "requirements"), read["requirements"], root / path, root,
            kind="file", within_base=False, missing=missing,
        )  # fmt: skip
    if "constraints" in read:
        cons_key = join(key_path, "constraints")
        values["constraints"] = tuple(
            inside_path(
                reader, f"{cons_key}[{i}]", item, root / path, root, kind="file", within_base=False
            )
            for i, item in enumerate(read["constraints"])
        )
    if "vendor-dir" in read:
        vendor_key = join(key_path, "vendor-dir")
        vendor = read["vendor-dir"]
        check_relative(reader, vendor_key, vendor)
        target = (root / path / vendor).resolve()
        if not target.is_relative_to(root / path):
            raise reader.fail(vendor_key, "must stay inside the server's directory")
        values["vendor_dir"] = Path(vendor).as_posix()
    for index, lib in enumerate(values.get("shared", ())):
        if lib not in shared:
            raise _unknown_lib(reader, f"{join(key_path, 'shared')}[{index}]", lib, shared)
    shim_name = read.get("shim-name", "x.py")
    if not shim_name.endswith(".py") or not shim_name[:-3].isidentifier():
        raise reader.fail(join(key_path, "shim-name"), "must be a module file name like x.py")
    if "push-to" in read:
        _check_push_to(reader, join(key_path, "push-to"), read["push-to"])
    if missing:
        first = missing[0]
        values["missing"] = (first.message, first.where, first.hint)
    return Server(
        name=name,
        path=path,
        entrypoint=entry_rel,
        object=obj or None,
        **values,
    )


def _check_push_to(reader: Reader, key_path: str, text: str) -> None:
    problem = target_problem(text)
    if problem:
        hint = "e.g. 'git@github.com:acme/{server}-deploy.git:main'"
        raise reader.fail(key_path, f"{text!r} {problem}", hint)


def _check_name(reader: Reader, key_path: str, name: str) -> None:
    if len(name) > MAX_NAME:
        table = key_path.split(".", 1)[0]
        raise reader.fail(
            f"{table}.{name[:20]}…",
            f"name is {len(name)} characters long; at most {MAX_NAME} are allowed",
            "pick a shorter name",
        )
    if not name.strip():
        raise reader.fail(key_path, "name must not be empty", "give the table a name")
    if not _NAME.match(name):
        raise reader.fail(
            key_path,
            f"invalid name {name!r}",
            "use letters, digits, '-', '_' or '.', starting with a letter or digit",
        )


def _is_dotted_identifier(name: str) -> bool:
    parts = name.split(".")
    return all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


def _unknown_lib(
    reader: Reader, key_path: str, name: str, shared: Mapping[str, SharedLib]
) -> ConfigError:
    close = closest(name, shared)
    hint = f"did you mean '{close}'?" if close else "declare it as a [shared.NAME] table"
    return reader.fail(key_path, f"unknown shared library {name!r}", hint)
