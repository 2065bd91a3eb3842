"""The secret scan applied to a build plan: every file the plan would ship, copied or
generated, and the servers each secret belongs to.

:func:`check_plan` fails the whole build on a secret; :func:`plan_secrets` says which
servers ship it, so that ``build --keep-going`` fails only those (:func:`scanned`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from mcpbundle.emit.scan_memo import clean_memo
from mcpbundle.emit.secret_hint import mark_advice
from mcpbundle.emit.secret_scan import SecretHit, load_baseline, scan_data, scan_files, secret_error
from mcpbundle.plan.shipped_files import join

if TYPE_CHECKING:
    from mcpbundle.config.settings import Config
    from mcpbundle.plan.planner import BuildPlan


def _shipped_by(plan: BuildPlan) -> dict[str, list[str]]:
    """Per server, the repo-relative source of every file it copies as is (its own and
    vendored code): not the copies the build then overwrites (the server's requirements.txt,
    which the pins replace, and every file it generates)."""
    shipped: dict[str, list[str]] = {}
    for server in plan.servers:
        written = {
            join(server.path, "requirements.in"),
            server.requirements_txt,
            *(rel for rel, _ in server.generated),
        }
        shipped[server.name] = [c.source for c in server.files if c.dest not in written]
    return shipped


def _plan_hits(config: Config, plan: BuildPlan) -> tuple[list[SecretHit], dict[str, set[str]]]:
    """Every finding in what the plan would ship, in scan order (sources by path, then the
    generated files), and the servers that ship each file."""
    shipped = _shipped_by(plan)
    hits = scan_files(
        config.root,
        sorted({rel for sources in shipped.values() for rel in sources}),
        config.bundle.allow_secrets,
        baseline=load_baseline(config.root),
        requirement_files={f for server in plan.servers for f in server.requirement_files},
        rewritten_pyprojects={s.pyproject for s in plan.servers if s.pyproject is not None},
    )
    owners: dict[str, set[str]] = {}
    for name, sources in shipped.items():
        for rel in sources:
            owners.setdefault(rel, set()).add(name)
    for name, found in _generated_hits(plan).items():
        for hit in found:
            owners.setdefault(hit.display, set()).add(name)
            hits.append(hit)
    return hits, owners


def plan_secrets(
    config: Config, plan: BuildPlan
) -> tuple[tuple[str, ...], dict[str, list[SecretHit]]]:
    """``(warnings, {server: its secrets})`` for what the plan would ship (``build
    --keep-going``): a secret belongs to every server that ships its file, a vendored
    library's to each server vendoring it."""
    hits, owners = _plan_hits(config, plan)
    secrets: dict[str, list[SecretHit]] = {}
    for hit in hits:
        if hit.severity == "error":
            for name in sorted(owners.get(hit.display, ())):
                secrets.setdefault(name, []).append(hit)
    return tuple(doc_warning(h) for h in hits if h.severity != "error"), secrets


def scanned(config: Config, plan: BuildPlan, *, keep_going: bool) -> BuildPlan:
    """The plan once what it would ship is scanned for secrets: a secret fails the build,
    or with ``keep_going`` only the servers that ship it (left out, as failures)."""
    if not keep_going:
        return replace(plan, warnings=(*plan.warnings, *check_plan(config, plan)))
    warnings, secrets = plan_secrets(config, plan)
    failed = {name: secret_error(hits) for name, hits in secrets.items()}
    return replace(
        plan,
        servers=tuple(p for p in plan.servers if p.name not in failed),
        warnings=(*plan.warnings, *warnings),
        failures={**plan.failures, **failed},
    )


def check_plan(config: Config, plan: BuildPlan) -> tuple[str, ...]:
    """Fail the build (BuildError) when a file that would ship contains a secret; return
    the warnings (findings in documentation) for the build to print."""
    hits, _ = _plan_hits(config, plan)
    errors = [h for h in hits if h.severity == "error"]
    if errors:
        raise secret_error(errors)
    return tuple(doc_warning(h) for h in hits)


def _generated_hits(plan: BuildPlan) -> dict[str, list[SecretHit]]:
    """Per server, what the build writes from the plan (requirements.in, scrubbed
    requirement files, shims, metadata) ships too; reported as ``FILE (generated)``."""
    from mcpbundle.plan.requirement_lists import requirements_in_text

    hits: dict[str, list[SecretHit]] = {}
    for server in plan.servers:
        generated = [
            (join(server.path, "requirements.in"), requirements_in_text(server.requirements_in)),
            *((rel, data.decode("utf-8", errors="replace")) for rel, data in server.generated),
        ]
        for rel, text in generated:
            hits.setdefault(server.name, []).extend(
                scan_data(text.encode(), f"{rel} (generated)", False)
            )
    clean_memo().flush()
    return hits


def doc_warning(hit: SecretHit) -> str:
    return (
        f"{hit.where}: {hit.summary} in documentation; it ships as written: use a "
        f"placeholder, or {mark_advice(hit.display)}"
    )
