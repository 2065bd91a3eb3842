"""Build ``check`` targets from a plan (what build would ship) or from a built output."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mcpbundle.build import requirements_in_text
from mcpbundle.check import CheckTarget, SourceFile
from mcpbundle.config import Config
from mcpbundle.errors import BuildError, UsageError
from mcpbundle.manifest import MANIFEST_NAME, read_manifest
from mcpbundle.pins import pinned_versions
from mcpbundle.plan import BuildPlan, ServerPlan


def _inside(path: str, folder: str) -> str:
    return path if folder in ("", ".") else path[len(folder) + 1 :]


def _sys_path(entry_rel: str, vendor_rel: str) -> tuple[str, ...]:
    entry_dir = PurePosixPath(entry_rel).parent.as_posix()
    dirs = [entry_dir if entry_dir != "." else ""]
    if vendor_rel not in dirs:
        dirs.append(vendor_rel)
    return tuple(dirs)


def _ignore(config: Config, server: str) -> frozenset[str]:
    own = config.servers[server].ignore if server in config.servers else ()
    return frozenset(code.upper() for code in (*config.check_ignore, *own))


def source_targets(config: Config, plan: BuildPlan, scratch: Path) -> list[CheckTarget]:
    """Targets for what ``build`` would produce; generated requirements go to ``scratch``."""
    targets = []
    for server in plan.servers:
        targets.append(_source_target(config, server, scratch))
    return targets


def _source_target(config: Config, server: ServerPlan, scratch: Path) -> CheckTarget:
    requirements_txt = _inside(server.requirements_txt, server.path)
    files = {
        _inside(copy.dest, server.path): SourceFile(
            path=copy.path(config.root), display=copy.source
        )
        for copy in server.files
        if _inside(copy.dest, server.path) not in (requirements_txt, "requirements.in")
    }
    generated = scratch / server.name / "requirements.in"
    generated.parent.mkdir(parents=True, exist_ok=True)
    generated.write_text(requirements_in_text(server.requirements_in), encoding="utf-8")
    names = {canonicalize_name(Requirement(line).name) for line in server.requirements_in}
    return CheckTarget(
        server=server.name,
        files=files,
        entrypoint=_inside(server.entry_file, server.path),
        object_name=server.object,
        sys_path=_sys_path(
            _inside(server.entry_file, server.path), _inside(server.vendor_dir, server.path)
        ),
        requirement_files={
            requirements_txt: SourceFile(
                path=generated, display=f"{server.requirements_txt} (generated)"
            )
        },
        requirement_names=frozenset(names),
        ignore=_ignore(config, server.name),
        repo_root=config.root,
        allow_secrets=config.bundle.allow_secrets,
    )


def built_targets(config: Config, output: Path, only: Sequence[str]) -> list[CheckTarget]:
    """Targets for an output directory, read through its manifest."""
    manifest = read_manifest(output / MANIFEST_NAME)
    if manifest is None:
        raise BuildError(
            "no built output to check", where=str(output), hint="run `mcpbundle build` first"
        )
    servers = manifest["servers"]
    for name in only:
        if name not in servers:
            raise UsageError(f"server {name!r} is not in the built output", where=str(output))
    targets = []
    for name, entry in sorted(servers.items()):
        if only and name not in only:
            continue
        folder = str(entry["path"])
        base = output / folder if folder != "." else output
        entry_file, _, obj = str(entry["entrypoint"]).partition(":")
        files = {
            path.relative_to(base).as_posix(): SourceFile(
                path=path, display=path.relative_to(output).as_posix()
            )
            for path in sorted(base.rglob("*"))
            if path.is_file()
        }
        requirements = _inside(str(entry["requirements"]), folder)
        req_path = output / str(entry["requirements"])
        names = (
            set(pinned_versions(req_path.read_text(encoding="utf-8")))
            if req_path.is_file()
            else set()
        )
        entry_rel = _inside(entry_file, folder)
        vendor_rel = PurePosixPath(entry_rel).parent.as_posix()
        targets.append(
            CheckTarget(
                server=name,
                files=files,
                entrypoint=entry_rel,
                object_name=obj or None,
                sys_path=_sys_path(entry_rel, vendor_rel),
                requirement_files={
                    requirements: SourceFile(path=req_path, display=str(entry["requirements"]))
                },
                requirement_names=frozenset(canonicalize_name(n) for n in names),
                ignore=_ignore(config, name),
                repo_root=config.root,
                allow_secrets=config.bundle.allow_secrets,
            )
        )
    return targets
