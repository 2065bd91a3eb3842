"""``mcpbundle build``: plan -> pin -> stage -> swap in (or commit to a branch).

This module wires the stages together; each stage lives in its own module and
only :mod:`mcpbundle.emit.directory`, :mod:`mcpbundle.emit.branch` and, for the
``mcpb`` format, :mod:`mcpbundle.emit.mcpb` write outputs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import MCPBundleError
from mcpbundle.base.regular_file import read_regular
from mcpbundle.config.settings import Config
from mcpbundle.config.validate import output_dir
from mcpbundle.emit import directory as emit
from mcpbundle.emit import ownership, plan_scan
from mcpbundle.emit.manifest import (
    CHANGED_BY,
    MCPB,
    MCPB_INPUTS,
    output_files,
    root_server_file,
    same_content,
)
from mcpbundle.emit.mcpb_manifest import Surface
from mcpbundle.emit.stage import (
    Reuse,
    ServerResult,
    Sources,
    index_bytes,
    input_hash,
    merge_entries,
    stage_all,
    write_index_files,
)
from mcpbundle.emit.staged_tree import verified_digest
from mcpbundle.git.source_state import Source
from mcpbundle.incremental.plan_store import plan_cache
from mcpbundle.plan.derived_reads import FACTS
from mcpbundle.plan.file_checks import check_shippable
from mcpbundle.plan.planner import BuildPlan, make_plan
from mcpbundle.plan.repo_files import list_repo_files
from mcpbundle.resolve.pinner import Pinned, Pinner

log = logging.getLogger("mcpbundle")


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    servers: tuple[str, ...] = ()
    output: Path | None = None
    strict: bool = False
    dry_run: bool = False
    keep_going: bool = False  # a failed server is reported; the others are built
    fetch_git: bool = True  # False: plan without the network (validate, list, check)
    force: bool = False  # replace an output holding files mcpbundle did not write
    formats: tuple[str, ...] | None = None  # None: [bundle] formats ("dir" is always written)
    surfaces: Mapping[str, Surface] | None = None  # tools/prompts for each .mcpb (--verify)
    plan_cache: bool = True  # build: unchanged servers' plans from the cache (False: --no-cache)


@dataclass(frozen=True, kw_only=True)
class BuildResult:
    output: Path
    plan: BuildPlan
    servers: tuple[ServerResult, ...]
    source: Source
    written: bool
    up_to_date: bool = False
    unchanged: tuple[str, ...] = ()
    failures: Mapping[str, MCPBundleError] = field(default_factory=dict)  # --keep-going


def plan_build(config: Config, options: BuildOptions, *, cached: bool = False) -> BuildPlan:
    """The plan; ``cached`` (build): servers whose planning inputs are as the last build
    recorded them are not planned again (:mod:`mcpbundle.incremental.plan_store`)."""
    output = output_dir(config, options.output)
    files = list_repo_files(config.root, skip=[output, config.path])  # never ship the config
    cache = plan_cache(config, files, output, FACTS) if cached and options.plan_cache else None
    plan = make_plan(
        config,
        files,
        only=options.servers,
        strict=options.strict,
        keep_going=options.keep_going,
        fetch_git=options.fetch_git,
        memo=cache.compute if cache is not None else None,
    )
    if cache is not None:
        cache.save()
        log.info("plans: %d from the cache, %d planned", cache.hits, cache.misses)
    skipped = check_shippable(config, plan, files)  # sizes, kinds, names: before any read
    return replace(plan, warnings=(*plan.warnings, *skipped)) if skipped else plan


def pin_servers(
    config: Config,
    plan: BuildPlan,
    options: BuildOptions,
    pin: Pinner,
    old_pins: Callable[[str], str | None],
    failures: dict[str, MCPBundleError] | None = None,
) -> dict[str, Pinned]:
    """Pins for the planned servers. A shared lock covers every server, even in a partial
    build, so ``build ops`` pins exactly what a full build would.

    ``failures`` (``--keep-going``): a server whose requirements do not resolve is
    recorded there and left out, and the others are pinned without it. A server the
    build was not asked for that fails to plan or resolve is left out of the lock, as a
    full ``--keep-going`` build would leave it: its failure is not this build's."""
    pin_plan = plan
    if options.servers and config.bundle.lock == "shared":
        pin_plan = plan_build(config, replace(options, servers=(), keep_going=True), cached=True)
    asked = {p.name for p in plan.servers}
    previous = {s.name: old_pins(s.requirements_txt) for s in pin_plan.servers}
    remaining = list(pin_plan.servers)
    while True:
        try:
            return pin(remaining, previous)
        except MCPBundleError as exc:
            names = {p.name for p in remaining}
            if exc.server not in names or (exc.server in asked and failures is None):
                raise
            if exc.server in asked and failures is not None:
                failures[exc.server] = exc
            else:
                log.info("server '%s' is left out of the shared lock: %s", exc.server, exc)
            remaining = [p for p in remaining if p.name != exc.server]


def build(
    config: Config,
    options: BuildOptions,
    *,
    source: Source,
    pin: Pinner,
) -> BuildResult:
    """Build the directory output (or only plan it, with ``dry_run``)."""
    output = output_dir(config, options.output)
    plan = plan_build(config, options, cached=True)
    plan = plan_scan.scanned(config, plan, keep_going=options.keep_going and not options.dry_run)
    if options.dry_run:
        return BuildResult(
            output=output,
            plan=plan,
            servers=tuple(_dry_run_bundles(config, plan, options)),
            source=source,
            written=False,
        )
    emit.clean_leftovers(output)  # also when the build turns out to be a no-op
    owned = ownership.claim(output, repo_root=config.root, force=options.force)
    previous = owned.previous
    failures = dict(plan.failures)
    pins = pin_servers(
        config,
        plan,
        options,
        pin,
        lambda rel: _read_text(output / rel),
        failures=failures if options.keep_going else None,
    )
    if failures:  # --keep-going: the failed servers keep their previous output
        plan = replace(plan, servers=tuple(p for p in plan.servers if p.name not in failures))
    sources = Sources()  # each source file read and hashed once, for the hashes and the copies
    hashes = {p.name: input_hash(config, p, pins[p.name], sources) for p in plan.servers}
    unchanged = _unchanged(plan, hashes, previous, output)
    bundles = _bundle_hashes(config, plan, options, hashes)
    fresh: set[str] = set()
    if bundles:
        from mcpbundle.emit import mcpb  # zipfile and the manifest writer: only for .mcpb

        fresh = mcpb.fresh(bundles, unchanged, previous, output)
    if (
        previous is not None
        and not owned.foreign
        and len(unchanged) == len(plan.servers)
        and len(fresh) == len(bundles)
    ):
        entries = merge_entries(config, previous, [])
        current = index_bytes(config, entries)
        current[ownership.MARKER_NAME] = ownership.render_marker(entries)
        if all(_same(output / name, data) for name, data in current.items()):
            results = [ServerResult(plan=p, manifest_entry=entries[p.name]) for p in plan.servers]
            return BuildResult(
                output=output,
                plan=plan,
                servers=tuple(results),
                source=source,
                written=False,
                up_to_date=True,
                failures=failures,
            )
    with emit.staged(output) as staging:
        results, entries = stage_all(
            config, plan, staging, source=source, pins=pins, previous=previous,
            unchanged=unchanged,
            hashes=hashes,
            reuse=Reuse.of(output, previous),
            index=False,
            sources=sources,
        )  # fmt: skip
        rebuilt = {r.plan.name for r in results if r.plan.name not in unchanged}
        results, written = _write_bundles(
            config, results, entries, staging=staging, output=output, pins=pins,
            bundles={n: h for n, h in bundles.items() if n not in fresh},
            surfaces=options.surfaces or {}, unchanged=unchanged, source=source,
            previous=previous,
        )  # fmt: skip
        write_index_files(config, staging, entries)
        kept = [
            rel
            for n, e in entries.items()
            if n not in rebuilt
            for rel in _files_of(e)
            if rel not in written
        ]
        emit.carry_over(output, staging, kept)
        emit.write_bytes(staging / ownership.MARKER_NAME, ownership.render_marker(entries))
        emit.swap_in(staging, output)
    return BuildResult(
        output=output,
        plan=plan,
        servers=tuple(results),
        source=source,
        written=True,
        unchanged=tuple(n for n in unchanged if n in fresh or n not in bundles),
        failures=failures,
    )


def _dry_run_bundles(config: Config, plan: BuildPlan, options: BuildOptions) -> list[ServerResult]:
    """Each server with the .mcpb the build would write (failing as the build does)."""
    if "mcpb" not in (options.formats or config.bundle.formats):
        return [ServerResult(plan=p) for p in plan.servers]
    from mcpbundle.emit import mcpb  # zipfile and the manifest writer: only for .mcpb

    bundles = mcpb.planned(config, plan.servers)
    return [ServerResult(plan=p, manifest_entry={MCPB: bundles[p.name]}) for p in plan.servers]


def _files_of(entry: Mapping[str, Any]) -> list[str]:
    """The output files a manifest entry lists (a server's folder may hold another's),
    its .mcpb included."""
    return sorted(output_files(entry))


def _bundle_hashes(
    config: Config, plan: BuildPlan, options: BuildOptions, hashes: Mapping[str, str]
) -> dict[str, str]:
    """Per server, the hash of what its .mcpb is made of (empty: no ``mcpb`` format)."""
    if "mcpb" not in (options.formats or config.bundle.formats):
        return {}
    from mcpbundle.emit import mcpb  # zipfile and the manifest writer: only for .mcpb

    surfaces = options.surfaces or {}
    return {
        p.name: mcpb.inputs_hash(config, p, hashes[p.name], surfaces.get(p.name))
        for p in plan.servers
    }


def _write_bundles(
    config: Config,
    results: list[ServerResult],
    entries: dict[str, Mapping[str, Any]],
    *,
    staging: Path,
    output: Path,
    pins: Mapping[str, Pinned],
    bundles: Mapping[str, str],
    surfaces: Mapping[str, Surface],
    unchanged: Sequence[str],
    source: Source,
    previous: Mapping[str, Any] | None,
) -> tuple[list[ServerResult], set[str]]:
    """Write the .mcpb of each server in ``bundles`` (name -> its inputs hash) into
    ``staging``, updating ``entries`` (and the results' entries) in place; return the
    results and the output files written. A server whose folder is unchanged is zipped
    from the previous output, where its files are as its entry lists them."""
    from mcpbundle.emit import mcpb  # zipfile and the manifest writer: only for .mcpb

    written: set[str] = set()
    updated = []
    for result in results:
        name = result.plan.name
        if name not in bundles:
            updated.append(result)
            continue
        entry = dict(result.manifest_entry)
        before = (previous or {}).get("servers", {}).get(name)
        tree = output if name in unchanged else staging
        files = [rel for rel in entry.get("files", {}) if isinstance(rel, str)]
        entry[MCPB] = mcpb.write(
            config, result.plan, pins[name], source=tree, files=files, staging=staging,
            previous=output, surface=surfaces.get(name),
        )  # fmt: skip
        entry[MCPB_INPUTS] = bundles[name]
        written.add(entry[MCPB]["file"])
        changed = not (isinstance(before, dict) and same_content(entry, before))
        entry[CHANGED_BY] = source.to_json() if changed else before.get(CHANGED_BY)
        result = replace(result, manifest_entry=entry, changed=changed)
        entries[name] = entry
        updated.append(result)
    return updated, written


def _unchanged(
    plan: BuildPlan,
    hashes: Mapping[str, str],
    previous: Mapping[str, Any] | None,
    output: Path,
) -> list[str]:
    """Servers whose inputs hash as recorded in the previous manifest, with output present."""
    if previous is None:
        return []
    paths = {
        n: e["path"]
        for n, e in previous["servers"].items()
        if isinstance(e, dict) and isinstance(e.get("path"), str)
    }
    same = []
    for server in plan.servers:
        entry = previous["servers"].get(server.name)
        if not isinstance(entry, dict):
            continue
        if entry.get("inputs") != hashes[server.name]:
            continue
        root = entry.get("path") in ("", ".")  # only a root server's folder holds the others
        others = [p for n, p in paths.items() if n != server.name] if root else []
        if _intact(output, entry, others):
            same.append(server.name)
    return same


def _intact(output: Path, entry: Mapping[str, Any], others: Sequence[str] = ()) -> bool:
    """The server's output holds exactly the files its manifest entry lists, unmodified.

    ``others``: the other servers' folders, which a server at the root contains."""
    files = entry.get("files")
    path = entry.get("path")
    if not isinstance(files, dict) or not isinstance(path, str):
        return False
    present = _files_under(str(output), path)
    if path in ("", "."):
        present = {p for p in present if root_server_file(p, others)}
    if present != set(files):
        return False
    return all(verified_digest(output / rel) == digest for rel, digest in files.items())


def _files_under(output: str, path: str) -> set[str]:
    """Output-relative POSIX paths of everything but directories below ``output/path`` (a
    link to a directory counts as an entry: it is nothing mcpbundle writes)."""
    base = output if path in ("", ".") else f"{output}/{path}"
    found: set[str] = set()
    for directory, dirs, names in os.walk(base):
        rel = directory[len(output) + 1 :]
        prefix = f"{rel}/" if rel else ""
        found.update(f"{prefix}{name}" for name in names)
        found.update(f"{prefix}{d}" for d in dirs if os.path.islink(f"{directory}/{d}"))
    return found


def _same(path: Path, data: bytes) -> bool:
    try:  # a regular file only (a FIFO put in the output must not hang the check)
        return read_regular(path, len(data), follow=False) == data
    except OSError:
        return False


def _read_text(path: Path) -> str | None:
    try:
        return read_regular(path, 1 << 24).decode("utf-8")  # a regular file of up to 16 MiB
    except (OSError, UnicodeDecodeError):
        return None
