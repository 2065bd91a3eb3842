"""What ``build``, ``list`` and ``validate`` print: plain documents, then text or JSON."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mcpbundle.build import BuildResult
from mcpbundle.config import Config
from mcpbundle.plan import BuildPlan, ServerPlan

if TYPE_CHECKING:
    from mcpbundle.deploy import DeployResult


def _shown(config: Config, path: os.PathLike[str] | str) -> str:
    """A path relative to the config directory when inside it (never absolute in reports)."""
    try:
        return os.path.relpath(path, config.root)
    except ValueError:
        return str(path)


def server_document(plan: ServerPlan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "path": plan.path,
        "entrypoint": plan.entrypoint,
        "requirements": plan.requirements_txt,
        "shared": list(plan.shared),
        "files": [copy.dest for copy in plan.files],
        "requirements_in": list(plan.requirements_in),
        "rewrites": [
            {"from": r.original, "to": r.replacement, "origin": r.origin} for r in plan.rewrites
        ],
        "skipped_secrets": list(plan.skipped_secrets),
    }


def build_report(config: Config, result: BuildResult) -> dict[str, Any]:
    return {
        "output": _shown(config, result.output),
        "written": result.written,
        "dry_run": not result.written and not result.up_to_date,
        "up_to_date": result.up_to_date,
        "unchanged": sorted(
            result.unchanged if not result.up_to_date else [s.plan.name for s in result.servers]
        ),
        "source": {"commit": result.source.commit, "dirty": result.source.dirty},
        "servers": [server_document(s.plan) for s in result.servers],
        "warnings": list(result.plan.warnings),
    }


def format_build_report(document: dict[str, Any]) -> str:
    if document["up_to_date"]:
        lines = [
            f"  skipped secret file {secret}"
            for server in document["servers"]
            for secret in server["skipped_secrets"]
        ]
        return "\n".join([f"up to date: {document['output']} (no file written)", *lines])
    lines = []
    verb = "built" if document["written"] else "would build"
    for server in document["servers"]:
        if server["name"] in document["unchanged"]:
            lines.append(f"unchanged {server['name']}")
            continue
        shared = ", ".join(server["shared"]) or "none"
        lines.append(
            f"{verb} {server['name']}: {len(server['files'])} files, shared: {shared}, "
            f"{len(server['requirements_in'])} requirements"
        )
        lines.append(f"  entrypoint:   {server['entrypoint']}")
        lines.append(f"  requirements: {server['requirements']}")
        for rewrite in server["rewrites"]:
            to = rewrite["to"] or "removed"
            lines.append(f"  rewrote {rewrite['from']!r} ({rewrite['origin']}) -> {to}")
        for secret in server["skipped_secrets"]:
            lines.append(f"  skipped secret file {secret}")
        if document["dry_run"]:
            lines.extend(f"    {path}" for path in server["files"])
    where = document["output"]
    lines.append(
        f"output: {where}" if document["written"] else f"dry run: nothing written to {where}"
    )
    return "\n".join(lines)


def list_document(config: Config, plan: BuildPlan) -> dict[str, Any]:
    return {
        "servers": [
            {"name": s.name, "path": s.path, "entrypoint": s.entrypoint, "shared": list(s.shared)}
            for s in plan.servers
        ],
        "shared": [
            {
                "name": lib.name,
                "path": lib.path,
                "distribution": lib.distribution,
                "packages": list(lib.packages),
                "requires": list(plan.requires.get(lib.name, ())),
            }
            for lib in plan.libs.values()
        ],
    }


def format_list(document: dict[str, Any]) -> str:
    lines = ["servers:"]
    for server in document["servers"]:
        shared = ", ".join(server["shared"]) or "-"
        lines.append(f"  {server['name']:<16} {server['entrypoint']}  (shared: {shared})")
    lines.append("shared libraries:")
    for lib in document["shared"]:
        requires = ", ".join(lib["requires"]) or "-"
        lines.append(
            f"  {lib['name']:<16} {lib['path']}  dist={lib['distribution']} "
            f"packages={','.join(lib['packages'])} requires={requires}"
        )
    return "\n".join(lines)


def deploy_report(result: DeployResult) -> dict[str, Any]:
    commit = result.commit
    return {
        "branch": result.branch,
        "commit": commit.commit,
        "parent": commit.parent,
        "created": commit.created,
        "unchanged": commit.unchanged,
        "pushed": list(result.pushed),
        "source": {"commit": result.source.commit, "dirty": result.source.dirty},
        "servers": [server_document(s.plan) for s in result.servers],
        "warnings": list(result.plan.warnings),
    }


def format_deploy_report(document: dict[str, Any]) -> str:
    names = ", ".join(s["name"] for s in document["servers"])
    short = document["commit"][:12]
    if document["unchanged"]:
        lines = [f"branch {document['branch']} is up to date at {short} (no commit made)"]
    else:
        kind = "created" if document["created"] else "updated"
        lines = [f"{kind} branch {document['branch']} at {short} ({names})"]
    lines.extend(f"pushed to {target}" for target in document["pushed"])
    return "\n".join(lines)
