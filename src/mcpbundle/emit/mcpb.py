"""The MCP Bundle writer: ``<output>/mcpb/<server>-<version>.mcpb`` per server.

Made from the server's staged folder (the files its manifest entry lists, as the
directory output holds them) and written into the staging tree, so it is swapped in
with the rest of the output and listed in the ownership marker. Inside the zip:

- ``manifest.json`` (:mod:`mcpbundle.emit.mcpb_manifest`);
- ``server/``: the server's folder as the directory output holds it (vendored code,
  shim, dist-info, requirements), plus ``server/mcpbundle_main.py``, the launcher
  the manifest starts;
- runtime ``uv``: ``pyproject.toml`` whose dependencies are the pins;
  runtime ``python``: ``server/lib/``, the pins installed (:mod:`mcpbundle.emit.mcpb_lib`).

Deterministic (:mod:`mcpbundle.emit.mcpb_archive`). What mcpbundle generates for it
(manifest, pyproject, launcher) is scanned for secrets like every generated file; the
server's files were scanned before the build wrote anything.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mcpbundle import __version__
from mcpbundle.base.errors import BuildError, ConfigError
from mcpbundle.base.temp_dirs import temp_dir
from mcpbundle.config.mcpb_settings import MCPB_DIR
from mcpbundle.config.settings import Config
from mcpbundle.emit import directory as emit
from mcpbundle.emit import mcpb_facts, mcpb_lib
from mcpbundle.emit.manifest import MCPB, MCPB_INPUTS, sha256_file
from mcpbundle.emit.mcpb_archive import Member, zip_bytes
from mcpbundle.emit.mcpb_manifest import (
    LAUNCHER,
    SERVER_DIR,
    Launch,
    Surface,
    launcher,
    manifest,
    pyproject,
    render_json,
)
from mcpbundle.emit.secret_scan import scan_bytes, secret_error
from mcpbundle.emit.stage import written_paths
from mcpbundle.plan.planner import ServerPlan
from mcpbundle.resolve.pinner import Pinned, resolver_settings

_RESERVED = ("lib", "venv")  # server/lib and server/venv mean something to MCP Bundle clients
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]*$")


def inputs_hash(config: Config, plan: ServerPlan, dir_inputs: str, surface: Surface | None) -> str:
    """What a server's .mcpb is made of besides its folder (whose hash is ``dir_inputs``)."""
    server = config.servers[plan.name]
    parts = [
        __version__,
        dir_inputs,
        repr((server.version, server.mcpb_runtime, server.mcpb_platforms, server.mcpb_compiled)),
        json.dumps(server.mcpb, sort_keys=True, default=str),
        json.dumps(config.bundle.mcpb, sort_keys=True, default=str),
        str(config.bundle.version),
        json.dumps(surface.to_json() if surface is not None else None, sort_keys=True),
    ]
    if server.mcpb_runtime == "python":
        parts.append(repr(resolver_settings(config)))
    digest = hashlib.sha256("\0".join(parts).encode())
    return f"sha256:{digest.hexdigest()}"


def bundle_path(plan: ServerPlan, rel: str) -> str:
    """Output-relative ``rel`` of the server's folder as a path inside the bundle."""
    if plan.path in ("", "."):
        return f"{SERVER_DIR}/{rel}"
    return f"{SERVER_DIR}/{rel[len(plan.path.rstrip('/')) + 1 :]}"


def write(
    config: Config,
    plan: ServerPlan,
    pinned: Pinned,
    *,
    source: Path,
    files: Sequence[str],
    staging: Path,
    previous: Path | None,
    surface: Surface | None,
    release: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the server's .mcpb into ``staging``; return its manifest entry (``mcpb``).

    ``source``: the output tree holding ``files`` (output-relative, the server's folder:
    the staging tree, or the previous output for a server whose folder is unchanged).
    ``previous``: the previous output, whose identical .mcpb is linked, not rewritten.
    ``release``: frees a path of a staging tree that started from an older output
    (:meth:`~mcpbundle.emit.staged_tree.StagedTree.release`)."""
    server = config.servers[plan.name]
    shipped = {bundle_path(plan, rel): source / rel for rel in files}
    _reject_reserved(plan, shipped)
    inside = {rel[len(SERVER_DIR) + 1 :]: path for rel, path in shipped.items()}
    facts = mcpb_facts.gather(config, plan, inside)
    document, version, entry = _checked_manifest(config, plan, facts, inside, surface)
    generated = {
        "manifest.json": render_json(document),
        f"{SERVER_DIR}/{LAUNCHER}": launcher(entry, plan.object),
    }
    if server.mcpb_runtime == "uv":
        generated["pyproject.toml"] = pyproject(
            plan.name, version, plan.python, pinned.requirements_txt
        )
    _scan(generated)
    members = {rel: Member.of_file(path) for rel, path in shipped.items()}
    for rel, data in generated.items():
        if rel in members:
            raise BuildError(
                f"the server ships {rel[len(SERVER_DIR) + 1 :]}, a name its .mcpb needs for "
                "its own file",
                where=f"server '{plan.name}'",
                hint="rename that file, or exclude it",
                server=plan.name,
            )
        members[rel] = Member(data=data)
    rel = bundle_file(plan, version)
    if server.mcpb_runtime == "python":
        with temp_dir("mcpblib") as scratch:
            lib = scratch / "lib"
            mcpb_lib.install(
                lib,
                requirements_txt=pinned.requirements_txt,
                python=plan.python,
                platforms=server.mcpb_platforms,
                compiled=server.mcpb_compiled,
                settings=resolver_settings(config),
                server=plan.name,
            )
            for path in sorted(lib.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    members[f"{SERVER_DIR}/lib/{path.relative_to(lib).as_posix()}"] = (
                        Member.of_file(path)
                    )
            data = zip_bytes(members)
    else:
        data = zip_bytes(members)
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    target = staging / rel
    if release is not None:
        release(rel)
    if target.exists():
        raise written_twice(plan, rel)
    if previous is None or not emit.link_previous(previous / rel, target, digest, 0o644):
        emit.write_bytes(target, data)
    return {"file": rel, "digest": digest, "runtime": server.mcpb_runtime, "version": version}


def planned(config: Config, plans: Sequence[ServerPlan]) -> dict[str, dict[str, Any]]:
    """What :func:`write` would write for each of ``plans``, without writing (``build
    --dry-run``): server name -> its manifest entry (``mcpb``) but the digest. Fails as
    the build fails on a missing version or author, a version that cannot name a file,
    an override naming a file the server does not ship, a reserved folder and two
    servers naming one file: these need only the names of the files the build writes."""
    result: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for plan in plans:
        names = {bundle_path(plan, rel): Path(rel) for rel in written_paths(config.root, plan)}
        _reject_reserved(plan, names)
        inside = {rel[len(SERVER_DIR) + 1 :]: path for rel, path in names.items()}
        facts = mcpb_facts.gather(config, plan, {})  # its user settings need the contents
        _, version, _ = _checked_manifest(config, plan, facts, inside, None)
        rel = bundle_file(plan, version)
        if rel in seen:
            raise written_twice(plan, rel)
        seen.add(rel)
        runtime = config.servers[plan.name].mcpb_runtime
        result[plan.name] = {"file": rel, "runtime": runtime, "version": version}
    return result


def bundle_file(plan: ServerPlan, version: str) -> str:
    """The output-relative path of the server's .mcpb."""
    return f"{MCPB_DIR}/{plan.name}-{version}.mcpb"


def written_twice(plan: ServerPlan, rel: str) -> BuildError:
    return BuildError(
        f"{rel} is written twice (another server ships it)",
        where=f"server '{plan.name}'",
        hint="give the servers different names or versions",
        server=plan.name,
    )


def _checked_manifest(
    config: Config,
    plan: ServerPlan,
    facts: mcpb_facts.Facts,
    inside: Mapping[str, Path],
    surface: Surface | None,
) -> tuple[dict[str, Any], str, str]:
    """The server's manifest, the version naming its file and the entry file inside the
    server's folder; a ConfigError when the manifest has no author or the version cannot
    name a file. ``inside``: the server's files, path inside its folder -> file."""
    server = config.servers[plan.name]
    entry = bundle_path(plan, plan.entry_file)[len(SERVER_DIR) + 1 :]
    launch = Launch(
        runtime=server.mcpb_runtime,
        python=plan.python,
        entry=entry,
        object=plan.object,
        platforms=tuple(dict.fromkeys(p.partition("-")[0] for p in server.mcpb_platforms)),
    )
    version = _version(config, plan, facts)
    overrides = [_paths(config.bundle.mcpb, f"{config.display}: bundle.mcpb", plan, inside),
                 _paths(server.mcpb, f"{config.display}: servers.{plan.name}.mcpb", plan,
                        inside)]  # fmt: skip
    document = manifest(facts, launch, version=version, surface=surface, overrides=overrides)
    if "author" not in document:
        raise ConfigError(
            "an MCP Bundle manifest needs an author, and its project names none",
            where=f"{config.display}: servers.{plan.name}",
            hint=f'set [servers.{plan.name}.mcpb] author = {{ name = "..." }} (or '
            "[bundle.mcpb] author), or authors in its pyproject.toml",
        )
    _check_merged(config, plan.name, document)
    version = str(document.get("version") or version)
    if not _VERSION.match(version):
        raise ConfigError(
            f"{version!r} is not a version that can name a file",
            where=f"{config.display}: servers.{plan.name}",
            hint="use a version such as '1.0.0'",
        )
    return document, version, entry


def _check_merged(config: Config, name: str, document: Mapping[str, Any]) -> None:
    """What only the merged manifest shows and ``mcpb validate`` refuses: a user_config
    entry a table adds without type, title or description, a manifest_version older
    than its server type (``uv`` needs 0.4)."""
    where = f"{config.display}: servers.{name}.mcpb (or bundle.mcpb)"
    for key, entry in sorted((document.get("user_config") or {}).items()):
        lacking = [f for f in ("type", "title", "description") if f not in entry]
        if lacking:
            raise ConfigError(
                f"user_config.{key} has no {', '.join(lacking)}, which an MCP Bundle "
                "manifest requires of every entry",
                where=where,
                hint=f"set them in user_config.{key}, or name an environment variable the "
                "server reads (its entry is then derived)",
                server=name,
            )
    runtime = (document.get("server") or {}).get("type")
    version = document.get("manifest_version")
    if runtime == "uv" and version != "0.4":
        raise ConfigError(
            f"manifest_version {version!r} has no server type 'uv' (it came in 0.4)",
            where=where,
            hint="remove manifest_version (it follows mcpb-runtime), or set "
            "mcpb-runtime = 'python'",
            server=name,
        )


def _version(config: Config, plan: ServerPlan, facts: mcpb_facts.Facts) -> str:
    server = config.servers[plan.name]
    for candidate in (facts.version, server.version, config.bundle.version):
        if candidate:
            return candidate
    override = server.mcpb.get("version") or config.bundle.mcpb.get("version")
    if isinstance(override, str) and override:
        return override
    raise ConfigError(
        "no version for its .mcpb: its project names none",
        where=f"{config.display}: servers.{plan.name}",
        hint=f"set [servers.{plan.name}] version (or [bundle] version), or version in the "
        "[project] table of its pyproject.toml",
    )


def _reject_reserved(plan: ServerPlan, shipped: Mapping[str, Path]) -> None:
    for rel in shipped:
        top = rel.split("/")[1] if rel.count("/") >= 2 else ""
        if top in _RESERVED:
            raise BuildError(
                f"the server ships a {top}/ folder, which an MCP Bundle reserves "
                f"(server/{top}/ holds installed packages)",
                where=f"server '{plan.name}': {rel[len(SERVER_DIR) + 1 :]}",
                hint="rename the folder, or exclude it",
                server=plan.name,
            )


def _paths(
    table: Mapping[str, Any], where: str, plan: ServerPlan, inside: Mapping[str, Path]
) -> dict[str, Any]:
    """``icon``, ``icons[].src`` and ``screenshots`` name files of the server's folder (or
    https URLs): made paths inside the bundle, or an error when the server does not ship
    them."""
    result = dict(table)

    def place(value: object, key: str) -> object:
        if not isinstance(value, str) or value.startswith(("https://", "http://")):
            return value
        rel = value.removeprefix("./")
        if rel not in inside:
            raise ConfigError(
                f"{value!r} is not a file the server ships",
                where=f"{where}.{key}",
                hint="name a file inside the server's folder (relative to it), or an https URL",
            )
        return f"{SERVER_DIR}/{rel}"

    if "icon" in result:
        result["icon"] = place(result["icon"], "icon")
    if isinstance(result.get("icons"), list):
        result["icons"] = [
            {**icon, "src": place(icon.get("src"), "icons")} if isinstance(icon, dict) else icon
            for icon in result["icons"]
        ]
    if isinstance(result.get("screenshots"), list):
        result["screenshots"] = [place(s, "screenshots") for s in result["screenshots"]]
    return result


def _scan(generated: Mapping[str, bytes]) -> None:
    hits = [h for rel, data in generated.items() for h in scan_bytes(data, f"{rel} (generated)")]
    errors = [h for h in hits if h.severity == "error"]
    if errors:
        raise secret_error(errors)


def intact(output: Path, entry: Mapping[str, Any]) -> bool:
    """The entry's .mcpb is in ``output`` with the bytes it records."""
    mcpb = entry.get(MCPB)
    if not isinstance(mcpb, dict) or not isinstance(mcpb.get("file"), str):
        return False
    path = output / mcpb["file"]
    return path.is_file() and not path.is_symlink() and sha256_file(path) == mcpb.get("digest")


def fresh(
    bundles: Mapping[str, str],
    unchanged: Sequence[str],
    previous: Mapping[str, Any] | None,
    output: Path,
) -> set[str]:
    """Servers whose folder is unchanged and whose .mcpb was made of the same inputs and
    is still in the output as written."""
    found = set()
    for name, digest in bundles.items():
        entry = (previous or {}).get("servers", {}).get(name)
        if (
            name in unchanged
            and isinstance(entry, dict)
            and entry.get(MCPB_INPUTS) == digest
            and intact(output, entry)
        ):
            found.add(name)
    return found
