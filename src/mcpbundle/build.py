"""``mcpbundle build``: plan -> pin -> stage -> swap in (or commit to a branch).

This module wires the stages together; each stage lives in its own module and
only :mod:`mcpbundle.emit.directory`, :mod:`mcpbundle.emit.branch` and, for the
``mcpb`` format, :mod:`mcpbundle.emit.mcpb` write outputs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpbundle.base.background import Background
from mcpbundle.base.errors import MCPBundleError
from mcpbundle.base.regular_file import read_regular
from mcpbundle.config.settings import Config
from mcpbundle.config.validate import output_dir
from mcpbundle.emit import directory as emit
from mcpbundle.emit import ownership, plan_scan, spare
from mcpbundle.emit.manifest import (
    CHANGED_BY,
    MCPB,
    MCPB_INPUTS,
    output_files,
    same_content,
)
from mcpbundle.emit.previous_output import unchanged_servers
from mcpbundle.emit.stage import (
    Reuse,
    ServerResult,
    Sources,
    index_bytes,
    input_hash,
    merge_entries,
    stage_all,
    stage_copies,
    write_index_files,
)
from mcpbundle.emit.staged_tree import StagedTree
from mcpbundle.git.source_state import Source
from mcpbundle.incremental.plan_store import plan_cache
from mcpbundle.plan.derived_reads import FACTS
from mcpbundle.plan.file_checks import check_shippable
from mcpbundle.plan.planner import BuildPlan, ServerPlan, make_plan
from mcpbundle.plan.repo_files import list_repo_files
from mcpbundle.resolve.pinner import Pinned, Pinner

if TYPE_CHECKING:  # the .mcpb writer and its imports load only for the mcpb format
    from mcpbundle.emit.mcpb_manifest import Surface

log = logging.getLogger("mcpbundle")


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    """What ``build`` was asked for: the servers, the output and how strictly to build."""

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
    """What a build did: its plan, each server's result, and whether it wrote the output."""

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
    pin_failures: dict[str, MCPBundleError] = {}
    # The resolver runs while the files of new servers are copied (they need no pins). It
    # starts only once the plan passed the secret scan, so a build refused for a secret
    # prints what it did before, and nothing else writes to stderr while it runs.
    pinning = Background(
        partial(
            pin_servers, config, plan, options, pin, lambda rel: _read_text(output / rel),
            failures=pin_failures if options.keep_going else None,
        ),
        name="mcpbundle-pin",
    )  # fmt: skip
    try:
        return _stage_swap(
            config, options, plan, output=output, owned=owned, pinning=pinning,
            pin_failures=pin_failures, source=source,
        )  # fmt: skip
    finally:
        pinning.wait()  # its resolver is this build's child: never left running behind


def _stage_swap(
    config: Config,
    options: BuildOptions,
    plan: BuildPlan,
    *,
    output: Path,
    owned: ownership.Claim,
    pinning: Background[dict[str, Pinned]],
    pin_failures: Mapping[str, MCPBundleError],
    source: Source,
) -> BuildResult:
    """The build once its resolver runs: copy what is new, stage the rest with the pins,
    swap in (or find the output up to date)."""
    previous = owned.previous
    failures = dict(plan.failures)
    sources = Sources()  # each source file read and hashed once, for the hashes and the copies
    with contextlib.ExitStack() as stack:
        tree, copied = None, {}
        reuse = Reuse.of(output, previous)
        # --keep-going may drop a server whose pins fail: copy only what surely ships
        fresh = _fresh(plan, previous) if not options.keep_going else []
        if fresh:  # no previous output to keep or compare: copy them while the resolver runs
            tree = stack.enter_context(spare.staged(output))
            copied = {p.name: stage_copies(config, p, tree, reuse, sources) for p in fresh}
        pins = pinning.result()
        failures.update(pin_failures)
        if failures:  # --keep-going: the failed servers keep their previous output
            plan = replace(plan, servers=tuple(p for p in plan.servers if p.name not in failures))
        hashes = {p.name: input_hash(config, p, pins[p.name], sources) for p in plan.servers}
        unchanged = unchanged_servers(plan, hashes, previous, output)
        bundles = _bundle_hashes(config, plan, options, hashes)
        fresh_bundles: set[str] = set()
        if bundles:
            from mcpbundle.emit import mcpb  # zipfile and the manifest writer: only for .mcpb

            fresh_bundles = mcpb.fresh(bundles, unchanged, previous, output)
        if (
            tree is None
            and previous is not None
            and not owned.foreign
            and len(unchanged) == len(plan.servers)
            and len(fresh_bundles) == len(bundles)
        ):
            done = _up_to_date(config, plan, previous, output=output, source=source)
            if done is not None:
                return replace(done, failures=failures)
        if tree is None:
            tree = stack.enter_context(spare.staged(output))
        staging = tree.root
        results, entries = stage_all(
            config, plan, staging, source=source, pins=pins, previous=previous,
            unchanged=unchanged,
            hashes=hashes,
            reuse=reuse,
            index=False,
            sources=sources,
            tree=tree,
            copied=copied,
        )  # fmt: skip
        rebuilt = {r.plan.name for r in results if r.plan.name not in unchanged}
        results, written = _write_bundles(
            config, results, entries, tree=tree, output=output, pins=pins,
            bundles={n: h for n, h in bundles.items() if n not in fresh_bundles},
            surfaces=options.surfaces or {}, unchanged=unchanged, source=source,
            previous=previous,
        )  # fmt: skip
        write_index_files(config, tree, entries)
        kept = [
            rel
            for n, e in entries.items()
            if n not in rebuilt
            for rel in _files_of(e)
            if rel not in written
        ]
        tree.carry_over(output, kept)
        tree.put_bytes(ownership.MARKER_NAME, ownership.render_marker(entries))
        tree.finish(ownership.listed_files(entries))
        emit.swap_in(staging, output, partial(spare.keep, output=output))
    return BuildResult(
        output=output,
        plan=plan,
        servers=tuple(results),
        source=source,
        written=True,
        unchanged=tuple(n for n in unchanged if n in fresh_bundles or n not in bundles),
        failures=failures,
    )


def _up_to_date(
    config: Config, plan: BuildPlan, previous: Mapping[str, Any], *, output: Path, source: Source
) -> BuildResult | None:
    """The no-op result when every server is unchanged and the output's index files
    (manifest, DEPLOY.md, ownership marker) are as this build would write them."""
    entries = merge_entries(config, previous, [])
    current = index_bytes(config, entries)
    current[ownership.MARKER_NAME] = ownership.render_marker(entries)
    if not all(_same(output / name, data) for name, data in current.items()):
        return None
    results = [ServerResult(plan=p, manifest_entry=entries[p.name]) for p in plan.servers]
    return BuildResult(
        output=output,
        plan=plan,
        servers=tuple(results),
        source=source,
        written=False,
        up_to_date=True,
    )


def _fresh(plan: BuildPlan, previous: Mapping[str, Any] | None) -> list[ServerPlan]:
    """The planned servers the previous manifest does not list: none can be unchanged."""
    known = previous.get("servers") if previous is not None else None
    listed = known if isinstance(known, dict) else {}
    return [p for p in plan.servers if p.name not in listed]


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
    tree: StagedTree,
    output: Path,
    pins: Mapping[str, Pinned],
    bundles: Mapping[str, str],
    surfaces: Mapping[str, Surface],
    unchanged: Sequence[str],
    source: Source,
    previous: Mapping[str, Any] | None,
) -> tuple[list[ServerResult], set[str]]:
    """Write the .mcpb of each server in ``bundles`` (name -> its inputs hash) into
    ``tree``, updating ``entries`` (and the results' entries) in place; return the
    results and the output files written. A server whose folder is unchanged is zipped
    from the previous output, where its files are as its entry lists them."""
    if not bundles:
        return results, set()
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
        files = [rel for rel in entry.get("files", {}) if isinstance(rel, str)]
        entry[MCPB] = mcpb.write(
            config, result.plan, pins[name], source=output if name in unchanged else tree.root,
            files=files, staging=tree.root, previous=output, surface=surfaces.get(name),
            release=tree.release,
        )  # fmt: skip
        entry[MCPB_INPUTS] = bundles[name]
        written.add(entry[MCPB]["file"])
        changed = not (isinstance(before, dict) and same_content(entry, before))
        entry[CHANGED_BY] = source.to_json() if changed else before.get(CHANGED_BY)
        result = replace(result, manifest_entry=entry, changed=changed)
        entries[name] = entry
        updated.append(result)
    return updated, written


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
