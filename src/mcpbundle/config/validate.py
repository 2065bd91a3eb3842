"""``mcpbundle.toml`` validated into :mod:`mcpbundle.config.settings`' frozen dataclasses.

:func:`load_config` = :func:`mcpbundle.config.read.read_toml` + :func:`validate`.
Everything here is checked without running anything: types, unknown keys,
paths (exist, stay inside the repo, also through symlinks), entrypoints,
shared-lib names and cycles among declared ``requires``. Checks that need
package discovery (import-name clashes) live in :mod:`mcpbundle.plan`.
"""

from __future__ import annotations

import difflib
import keyword
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.ci_settings import read_ci
from mcpbundle.config.cross_checks import (
    reject_cycles,
    reject_overlapping_servers,
    reject_shared_duplicates,
)
from mcpbundle.config.mcpb_settings import (
    BUNDLE_KEYS,
    SERVER_KEYS,
    read_bundle_mcpb,
    read_server_mcpb,
)
from mcpbundle.config.paths import (
    branch_name_problem,
    check_relative,
    directory_path,
    inside_path,
    output_problem,
    parse_size,
)
from mcpbundle.config.push_targets import target_problem
from mcpbundle.config.read import TOOL_TABLE, find_config, is_pyproject, read_toml, tool_table
from mcpbundle.config.schema import Reader, join
from mcpbundle.config.settings import (
    GIT_POLICIES,
    LOCK_MODES,
    MAX_NAME,
    RESOLVERS,
    SHIM_MODES,
    BundleSettings,
    Config,
    DeploySettings,
    Server,
    SharedLib,
    _TableReader,
)
from mcpbundle.config.verify_settings import (
    read_memory,
    read_timeout,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


_PYTHON = re.compile(r"^3\.\d{1,2}$")


def load_config(cwd: Path, explicit: Path | None = None) -> Config:
    path = find_config(cwd, explicit)
    if is_pyproject(path):
        table = tool_table(read_toml(path), display=path.name)
        return validate(table, path, key_prefix=TOOL_TABLE + ".")
    return validate(read_toml(path), path)


def validate(data: Mapping[str, Any], path: Path, *, key_prefix: str = "") -> Config:
    root = path.parent.resolve()
    reader = _TableReader(path.name, key_prefix) if key_prefix else Reader(path.name)
    reader.reject_unknown("", data, ("bundle", "shared", "servers", "check", "ci"))
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
        name: _server(reader, join("servers", name), name, value, root=root, shared=shared)
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
    check = reader.table("check", data.get("check", {}))
    reader.reject_unknown("check", check, ("ignore",))
    check_ignore = reader.strings("check.ignore", check["ignore"]) if "ignore" in check else ()
    return Config(
        path=path.resolve(),
        root=root,
        bundle=bundle,
        shared=shared,
        servers=servers,
        check_ignore=check_ignore,
        ci=read_ci(reader, reader.table("ci", data.get("ci", {}))),
        key_prefix=key_prefix,
    )


def _bundle(reader: Reader, table: dict[str, Any], root: Path) -> BundleSettings:
    known = (
        "output", "exclude", "python", "index-url", "extra-index-urls", "find-links",
        "no-index", "hashes", "resolver", "git", "git-overrides", "branch", "deploy",
        "lock", "constraints", "add-fastmcp", "auto-fix", "allow-secrets",
        "max-file-size", *BUNDLE_KEYS,
    )  # fmt: skip
    reader.reject_unknown("bundle", table, known)
    values: dict[str, Any] = {}
    text_keys = ("output", "index-url", "branch")
    list_keys = ("exclude", "extra-index-urls", "find-links", "allow-secrets")
    bool_keys = ("no-index", "hashes", "add-fastmcp", "auto-fix")
    for key, value in table.items():
        key_path = join("bundle", key)
        attr = key.replace("-", "_")
        if key in text_keys:
            values[attr] = reader.string(key_path, value)
        elif key in list_keys:
            values[attr] = reader.strings(key_path, value)
        elif key in bool_keys:
            values[attr] = reader.boolean(key_path, value)
    if "python" in table:
        python = reader.string("bundle.python", table["python"])
        if not _PYTHON.match(python):
            raise reader.fail("bundle.python", f"must look like '3.12', got {python!r}")
        values["python"] = python
    if "constraints" in table:
        values["constraints"] = tuple(
            inside_path(reader, f"bundle.constraints[{index}]", item, root, root, kind="file")
            for index, item in enumerate(reader.strings("bundle.constraints", table["constraints"]))
        )
    values.update(read_bundle_mcpb(reader, table))
    if "max-file-size" in table:
        values["max_file_size"] = parse_size(reader, "bundle.max-file-size", table["max-file-size"])
    if "resolver" in table:
        values["resolver"] = reader.choice("bundle.resolver", table["resolver"], RESOLVERS)
    if "git" in table:
        values["git"] = reader.choice("bundle.git", table["git"], GIT_POLICIES)
    if "lock" in table:
        values["lock"] = reader.choice("bundle.lock", table["lock"], LOCK_MODES)
    if "git-overrides" in table:
        overrides = reader.table("bundle.git-overrides", table["git-overrides"])
        values["git_overrides"] = {
            url: reader.choice(join("bundle.git-overrides", url), policy, GIT_POLICIES)
            for url, policy in sorted(overrides.items())
        }
    if "deploy" in table:
        deploy = reader.table("bundle.deploy", table["deploy"])
        known_deploy = ("author-name", "author-email", "push-to")
        reader.reject_unknown("bundle.deploy", deploy, known_deploy)
        values["deploy"] = DeploySettings(
            **{
                key.replace("-", "_"): _push_to(reader, join("bundle.deploy", key), value)
                if key == "push-to"
                else reader.string(join("bundle.deploy", key), value)
                for key, value in deploy.items()
            }
        )
    if "branch" in values:
        problem = branch_name_problem(values["branch"])
        if problem:
            raise reader.fail(
                "bundle.branch",
                f"{values['branch']!r} is not a valid branch name: {problem}",
                "use a name like 'deploy' (see git check-ref-format)",
            )
    output = values.get("output", "dist")
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


def _shared(reader: Reader, key_path: str, name: str, value: object, root: Path) -> SharedLib:
    _check_name(reader, key_path, name)
    table = reader.table(key_path, value)
    reader.reject_unknown(key_path, table, ("path", "packages", "requires"))
    if "path" not in table:
        raise reader.fail(
            join(key_path, "path"), "is required", "set it to the library's directory"
        )
    path = directory_path(reader, join(key_path, "path"), table["path"], root)
    packages = None
    if "packages" in table:
        packages = reader.strings(join(key_path, "packages"), table["packages"])
        for index, package in enumerate(packages):
            if not _is_dotted_identifier(package):
                raise reader.fail(
                    f"{join(key_path, 'packages')}[{index}]",
                    f"{package!r} is not an importable name",
                )
    requires = None
    if "requires" in table:
        requires = reader.strings(join(key_path, "requires"), table["requires"])
    return SharedLib(name=name, path=path, packages=packages, requires=requires)


def _server(
    reader: Reader,
    key_path: str,
    name: str,
    value: object,
    *,
    root: Path,
    shared: Mapping[str, SharedLib],
) -> Server:
    _check_name(reader, key_path, name)
    table = reader.table(key_path, value)
    known = (
        "path", "entrypoint", "requirements", "constraints", "shared", "vendor-dir", "exclude",
        "shim", "shim-name", "ignore", "env", "expect-tools",
        "verify-timeout", "verify-memory", "push-to", *SERVER_KEYS,
    )  # fmt: skip
    reader.reject_unknown(key_path, table, known)
    hints = {
        "path": "set it to the server's directory, relative to mcpbundle.toml",
        "entrypoint": "set it to the server's file, e.g. entrypoint = 'server.py'",
    }
    for required in ("path", "entrypoint"):
        if required not in table:
            raise reader.fail(join(key_path, required), "is required", hints[required])
    path = directory_path(reader, join(key_path, "path"), table["path"], root)
    entry_key = join(key_path, "entrypoint")
    entry_text = reader.string(entry_key, table["entrypoint"])
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
    entry_rel = inside_path(reader, entry_key, entry_file, root / path, root, kind="file")
    values: dict[str, Any] = {}
    if "requirements" in table:
        req_key = join(key_path, "requirements")
        # A requirement input may live anywhere in the repository (the repository's one
        # pyproject.toml, say): it is read, never shipped.
        values["requirements"] = inside_path(
            reader, req_key, reader.string(req_key, table["requirements"]), root / path, root,
            kind="file", within_base=False,
        )  # fmt: skip
    if "constraints" in table:
        cons_key = join(key_path, "constraints")
        items = reader.strings(cons_key, table["constraints"])
        values["constraints"] = tuple(
            inside_path(
                reader, f"{cons_key}[{i}]", item, root / path, root, kind="file", within_base=False
            )
            for i, item in enumerate(items)
        )
    if "vendor-dir" in table:
        vendor_key = join(key_path, "vendor-dir")
        vendor = reader.string(vendor_key, table["vendor-dir"])
        check_relative(reader, vendor_key, vendor)
        target = (root / path / vendor).resolve()
        if not target.is_relative_to(root / path):
            raise reader.fail(vendor_key, "must stay inside the server's directory")
        values["vendor_dir"] = Path(vendor).as_posix()
    for key in ("shared", "exclude", "ignore", "expect-tools"):
        if key in table:
            values[key.replace("-", "_")] = reader.strings(join(key_path, key), table[key])
    for index, lib in enumerate(values.get("shared", ())):
        if lib not in shared:
            raise _unknown_lib(reader, f"{join(key_path, 'shared')}[{index}]", lib, shared)
    if "shim" in table:
        values["shim"] = reader.choice(join(key_path, "shim"), table["shim"], SHIM_MODES)
    if "shim-name" in table:
        shim_name = reader.string(join(key_path, "shim-name"), table["shim-name"])
        if not shim_name.endswith(".py") or not shim_name[:-3].isidentifier():
            raise reader.fail(join(key_path, "shim-name"), "must be a module file name like x.py")
        values["shim_name"] = shim_name
    if "env" in table:
        values["env"] = reader.string_map(join(key_path, "env"), table["env"])
    if "verify-timeout" in table:
        values["verify_timeout"] = read_timeout(
            reader, join(key_path, "verify-timeout"), table["verify-timeout"]
        )
    if "push-to" in table:
        values["push_to"] = _push_to(reader, join(key_path, "push-to"), table["push-to"])
    if "verify-memory" in table:
        values["verify_memory"] = read_memory(
            reader, join(key_path, "verify-memory"), table["verify-memory"]
        )
    values.update(read_server_mcpb(reader, key_path, table))
    return Server(
        name=name,
        path=path,
        entrypoint=entry_rel,
        object=obj or None,
        **values,
    )


def _push_to(reader: Reader, key_path: str, value: object) -> str:
    text = reader.string(key_path, value)
    problem = target_problem(text)
    if problem:
        hint = "e.g. 'git@github.com:acme/{server}-deploy.git:main'"
        raise reader.fail(key_path, f"{text!r} {problem}", hint)
    return text


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
    close = difflib.get_close_matches(name, list(shared), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else "declare it as a [shared.NAME] table"
    return reader.fail(key_path, f"unknown shared library {name!r}", hint)
