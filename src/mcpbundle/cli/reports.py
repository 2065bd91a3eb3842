"""What ``build``, ``list`` and ``validate`` print: plain documents, then text or JSON."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcpbundle.build import BuildResult
from mcpbundle.config.settings import Config
from mcpbundle.plan.planner import BuildPlan, ServerPlan

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
        "servers": [_with_mcpb(server_document(s.plan), s.manifest_entry) for s in result.servers],
        "warnings": list(result.plan.warnings),
    }


def _with_mcpb(document: dict[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """The server's .mcpb (``{"file", "digest", "runtime", "version"}``) when it has one."""
    bundle = entry.get("mcpb")
    return {**document, "mcpb": dict(bundle)} if isinstance(bundle, Mapping) else document


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
        if server.get("mcpb"):
            lines.append(f"  mcpb:         {server['mcpb']['file']} ({server['mcpb']['runtime']})")
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
    """``build --branch``'s document. ``branches``: every branch written (one, or one per
    server with ``--split``); ``servers[]`` adds ``changed``, ``branch``, ``commit`` and
    ``pushed`` (where that server's commit went; empty when it did not change)."""
    from mcpbundle.deploy import branch_of_server

    of = branch_of_server(result)
    servers = []
    for server in result.servers:
        name = server.plan.name
        deployed = of[name]
        changed = name in deployed.changed
        servers.append({
            **server_document(server.plan),
            "changed": changed,
            "branch": deployed.branch,
            "commit": deployed.commit.commit,
            "pushed": list(deployed.pushed) if changed else [],
        })  # fmt: skip
    branches = [
        {
            "branch": b.branch,
            "commit": b.commit.commit,
            "parent": b.commit.parent,
            "created": b.commit.created,
            "unchanged": b.commit.unchanged,
            "servers": list(b.servers),
            "changed": list(b.changed),
            "pushed": list(b.pushed),
        }
        for b in result.branches
    ]
    single = branches[0] if not result.split and branches else None
    return {
        "branch": result.branch,
        "split": result.split,
        "commit": single["commit"] if single else None,
        "parent": single["parent"] if single else None,
        "created": single["created"] if single else False,
        "unchanged": all(b["unchanged"] for b in branches),
        "pushed": list(result.pushed),
        "branches": branches,
        "source": result.source.to_json(),
        "servers": servers,
        "warnings": list(result.plan.warnings),
    }


def format_deploy_report(document: dict[str, Any]) -> str:
    lines = []
    for branch in document["branches"]:
        short = branch["commit"][:12]
        if branch["unchanged"]:
            lines.append(f"branch {branch['branch']} is up to date at {short} (no commit made)")
        else:
            kind = "created" if branch["created"] else "updated"
            changed = ", ".join(branch["changed"]) or "no server changed"
            lines.append(f"{kind} branch {branch['branch']} at {short} ({changed})")
        lines.extend(f"pushed to {target}" for target in branch["pushed"])
    return "\n".join(lines)
