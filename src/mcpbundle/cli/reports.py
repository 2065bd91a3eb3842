"""What ``build``, ``list`` and ``validate`` print: plain documents, then text or JSON."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcpbundle.build import BuildResult
from mcpbundle.cli.options import Painter, plain
from mcpbundle.config.settings import Config
from mcpbundle.emit.ownership import INDEX_NAMES
from mcpbundle.emit.stage import written_paths
from mcpbundle.plan.planner import BuildPlan, ServerPlan

if TYPE_CHECKING:
    from mcpbundle.deploy import DeployResult


def _shown(config: Config, path: os.PathLike[str] | str) -> str:
    """A path relative to the config directory when inside it (never absolute in reports)."""
    try:
        return os.path.relpath(path, config.root)
    except ValueError:
        return str(path)


def server_document(config: Config, plan: ServerPlan) -> dict[str, Any]:
    """One server in a build report; ``files``: every file its build writes."""
    return {
        "name": plan.name,
        "path": plan.path,
        "entrypoint": plan.entrypoint,
        "requirements": plan.requirements_txt,
        "shared": list(plan.shared),
        "files": written_paths(config.root, plan),
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
        "servers": [
            {
                **_with_mcpb(server_document(config, s.plan), s.manifest_entry),
                # what it ships differs from the previous build's (None: a dry run)
                "changed": False if result.up_to_date else s.changed if result.written else None,
            }
            for s in result.servers
        ],
        "index_files": sorted(INDEX_NAMES),  # at the output's root, beside the servers
        "warnings": list(result.plan.warnings),
    }


def _with_mcpb(document: dict[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """The server's .mcpb (``{"file", "digest", "runtime", "version"}``; a dry run's has
    no digest) when it has one, also listed in ``files`` (every file its build writes)."""
    bundle = entry.get("mcpb")
    if not isinstance(bundle, Mapping):
        return document
    files = sorted({*document["files"], str(bundle["file"])})
    return {**document, "files": files, "mcpb": dict(bundle)}


def format_build_report(document: dict[str, Any], paint: Painter = plain) -> str:
    where = document["output"]  # in the summary line, painted with it
    if document["up_to_date"]:
        lines = [
            f"  skipped secret file {paint('path', secret)}"
            for server in document["servers"]
            for secret in server["skipped_secrets"]
        ]
        return "\n".join([paint("summary", f"up to date: {where} (no file written)"), *lines])
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
        lines.append(f"  entrypoint:   {paint('path', server['entrypoint'])}")
        lines.append(f"  requirements: {paint('path', server['requirements'])}")
        if server.get("mcpb"):
            bundle = server["mcpb"]
            lines.append(f"  mcpb:         {paint('path', bundle['file'])} ({bundle['runtime']})")
        for rewrite in server["rewrites"]:
            to = rewrite["to"] or "removed"
            origin = paint("path", rewrite["origin"])
            if rewrite["from"]:
                lines.append(f"  rewrote {rewrite['from']!r} ({origin}) -> {to}")
            elif rewrite["origin"] == "mcpbundle":  # fastmcp, which the host needs
                lines.append(f"  {to} (the host needs it)")
            else:  # an addition for what ``origin`` needs (mcp<2 for an old import)
                lines.append(f"  {to} (for {origin})")
        for secret in server["skipped_secrets"]:
            lines.append(f"  skipped secret file {paint('path', secret)}")
        if document["dry_run"]:
            lines.extend(f"    {paint('path', path)}" for path in server["files"])
    if document["dry_run"]:
        index = document.get("index_files", [])
        lines.append(f"would write {len(index)} files at the output's root")
        lines.extend(f"    {paint('path', name)}" for name in index)
    summary = f"output: {where}" if document["written"] else f"dry run: nothing written to {where}"
    lines.append(paint("summary", summary))
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


def format_list(document: dict[str, Any], paint: Painter = plain) -> str:
    lines = ["servers:"]
    for server in document["servers"]:
        shared = ", ".join(server["shared"]) or "-"
        entry = paint("path", server["entrypoint"])
        lines.append(f"  {server['name']:<16} {entry}  (shared: {shared})")
    lines.append("shared libraries:")
    for lib in document["shared"]:
        requires = ", ".join(lib["requires"]) or "-"
        lines.append(
            f"  {lib['name']:<16} {paint('path', lib['path'])}  dist={lib['distribution']} "
            f"packages={','.join(lib['packages'])} requires={requires}"
        )
    return "\n".join(lines)


def deploy_report(config: Config, result: DeployResult) -> dict[str, Any]:
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
            **server_document(config, server.plan),
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


def format_deploy_report(document: dict[str, Any], paint: Painter = plain) -> str:
    lines = []
    for branch in document["branches"]:
        short = branch["commit"][:12]
        name = paint("path", branch["branch"])
        if branch["unchanged"]:
            lines.append(f"branch {name} is up to date at {short} (no commit made)")
        else:
            kind = "created" if branch["created"] else "updated"
            changed = ", ".join(branch["changed"]) or "no server changed"
            lines.append(f"{kind} branch {name} at {short} ({changed})")
        lines.extend(f"pushed to {paint('path', target)}" for target in branch["pushed"])
    return "\n".join(lines)
