"""One resolution for the whole monorepo (``[bundle] lock = "shared"``).

The union of all servers' requirements is resolved once; each server's
``requirements.txt`` is the part of that lock reachable from its own direct
requirements through the resolver's ``# via`` annotations. A shared package has
one version everywhere. Derived files keep the resolver's header, line format
(markers, ``--hash``) and annotations limited to what remains (``# via -r
requirements.in`` marks the server's own requirements). Extras are stripped by
the resolver, so a package needed only by an extra another server requests is
kept: a superset that still installs consistently.

Servers that conflict (the union does not resolve) are found by bisection, O(log n)
cached resolutions per conflict, and pinned on their own, as are servers whose
``requirements.in`` has option lines; :class:`SharedResult` says which and why.
:func:`resolve_per_server` (``lock = "per-server"``) resolves each server, in parallel.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement

from mcpbundle.base.errors import BuildError, ResolverUnavailable
from mcpbundle.plan.parsed_requirement import parsed
from mcpbundle.plan.pinned_text import verify_pins
from mcpbundle.resolve.annotated import (
    SHARED_NAME,
    derive,
    marker_environment,
    merge_previous,
    requirement_lines,
    union_input,
)
from mcpbundle.resolve.cache import cached_resolve
from mcpbundle.resolve.resolver import OUT_FILE, ResolveRequest, ResolverSettings


@dataclass(frozen=True, kw_only=True)
class SharedResult:
    outputs: dict[str, str]  # server -> requirements.txt text
    fallback: dict[str, str] = field(default_factory=dict)  # server -> why it was resolved alone
    # the servers of ``fallback`` set aside because they conflict with the others (the
    # caller warns: a first pass the build resolves again would warn twice)
    conflicts: dict[str, str] = field(default_factory=dict)
    shared: tuple[str, ...] = ()  # servers whose pins come from the union lock
    resolutions: int = 0  # resolver requests made (hits included)
    cache_hits: int = 0


# -- resolving ---------------------------------------------------------------------------------


def _unshareable(lines: Sequence[str]) -> str | None:
    for line in lines:
        if line.startswith("-"):
            return f"option line {line.split()[0]!r} cannot be merged into a shared lock"
        try:
            parsed(line)
        except InvalidRequirement:
            return f"requirement {line!r} is not PEP 508"
    return None


def resolve_shared(
    server_inputs: Mapping[str, str],
    previous: Mapping[str, str | None],
    settings: ResolverSettings,
    *,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    use_cache: bool = True,
    vendored: Mapping[str, frozenset[str]] | None = None,
    alone: Mapping[str, str] | None = None,
) -> SharedResult:
    """Pin every server from one union resolution (see the module docstring).

    ``server_inputs`` maps server -> ``requirements.in`` text; ``previous`` maps
    server -> its previous ``requirements.txt`` (or None); ``alone``: servers to pin on
    their own, with why (the caller says so). Raises the :class:`ResolveError` of a
    server that does not resolve even on its own.
    """
    vendored = vendored or {}
    counter = _Counter()
    lines = {name: requirement_lines(server_inputs[name]) for name in sorted(server_inputs)}
    fallback = {name: why for name, ls in lines.items() if (why := _unshareable(ls)) is not None}
    for name, why in sorted((alone or {}).items()):
        if name in lines and name not in fallback:
            fallback[name] = why
    attempts: dict[tuple[str, ...], str | BuildError] = {}

    def attempt(group: Sequence[str]) -> str | BuildError:
        key = tuple(group)
        if key not in attempts:
            request = ResolveRequest(
                server=SHARED_NAME,
                requirements_in=union_input({name: lines[name] for name in group}),
                previous=None if upgrade else merge_previous(previous.get(n) for n in group),
                upgrade=upgrade,
                upgrade_packages=tuple(upgrade_packages),
            )
            try:
                attempts[key] = counter.run(request, settings, use_cache)
            except ResolverUnavailable:
                raise  # no group of servers would resolve: not a conflict
            except BuildError as exc:
                attempts[key] = exc
        return attempts[key]

    candidates = [name for name in lines if name not in fallback]
    shared, conflicts = _partition(candidates, attempt)
    fallback.update(conflicts)
    outputs: dict[str, str] = {}
    if shared:
        union = attempt(shared)
        assert isinstance(union, str)
        env = marker_environment(settings.python)
        # Servers with the same requirements (and vendored names) get the same part of the
        # lock: derived and checked once per distinct set, not once per server.
        done: dict[tuple[tuple[str, ...], frozenset[str]], str] = {}
        for name in shared:
            mine = vendored.get(name, frozenset())
            key = (tuple(lines[name]), mine)
            if key not in done:
                derived = derive(union, lines[name], environment=env)
                verify_pins(derived, vendored=mine, where=f"server '{name}' {OUT_FILE}")
                done[key] = derived
            outputs[name] = done[key]
    alone = _parallel(
        _server_requests(
            sorted(fallback), server_inputs, previous, upgrade, upgrade_packages, vendored
        ),
        settings,
        use_cache,
        counter,
    )
    outputs.update(alone)
    return SharedResult(
        outputs={name: outputs[name] for name in sorted(outputs)},
        fallback=dict(sorted(fallback.items())),
        conflicts=dict(sorted(conflicts.items())),
        shared=tuple(shared),
        resolutions=counter.runs,
        cache_hits=counter.hits,
    )


def _partition(
    servers: Sequence[str], attempt: Callable[[Sequence[str]], str | BuildError]
) -> tuple[list[str], dict[str, str]]:
    """``(servers sharing one lock, {conflicting server: reason})``.

    Bisection: the longest prefix of the remaining servers that resolves together
    with those already kept; the next server conflicts and is set aside.
    """
    kept: list[str] = []
    conflicts: dict[str, str] = {}
    rest = list(servers)
    while rest:
        result = attempt(kept + rest)
        if isinstance(result, str):
            return kept + rest, conflicts
        failures = {len(rest): result}
        low, high = 0, len(rest) - 1
        while low < high:
            middle = (low + high) // 2
            probe = attempt(kept + rest[: middle + 1])
            if isinstance(probe, str):
                low = middle + 1
            else:
                high = middle
                failures[middle + 1] = probe
        culprit, error = rest[low], failures[low + 1]
        others = kept + rest[:low]
        message = error.message if error.message else str(error)
        if others:
            conflicts[culprit] = f"cannot share one lock with {', '.join(others)}: {message}"
        else:
            conflicts[culprit] = f"its requirements do not resolve: {message}"
        kept = others
        rest = rest[low + 1 :]
    return kept, conflicts


class _Counter:
    """Resolver requests made and cache hits, counted across threads."""

    def __init__(self) -> None:
        self.runs = 0
        self.hits = 0
        self._lock = threading.Lock()

    def run(self, request: ResolveRequest, settings: ResolverSettings, use_cache: bool) -> str:
        with self._lock:
            self.runs += 1
        output, hit = cached_resolve(request, settings, enabled=use_cache)
        with self._lock:
            self.hits += int(hit)
        return output


def _parallel(
    requests: Sequence[ResolveRequest],
    settings: ResolverSettings,
    use_cache: bool,
    counter: _Counter,
) -> dict[str, str]:
    """Resolve ``requests`` concurrently; the first failure (in request order) is raised."""
    if not requests:
        return {}
    workers = max(1, min(len(requests), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mcpbundle-resolve") as pool:
        futures = [pool.submit(counter.run, request, settings, use_cache) for request in requests]
        return {
            request.server: future.result()
            for request, future in zip(requests, futures, strict=True)
        }


def _server_requests(
    names: Iterable[str],
    server_inputs: Mapping[str, str],
    previous: Mapping[str, str | None],
    upgrade: bool,
    upgrade_packages: Sequence[str],
    vendored: Mapping[str, frozenset[str]],
) -> list[ResolveRequest]:
    return [
        ResolveRequest(
            server=name,
            requirements_in=server_inputs[name],
            previous=previous.get(name),
            upgrade=upgrade,
            upgrade_packages=tuple(upgrade_packages),
            vendored=vendored.get(name, frozenset()),
        )
        for name in names
    ]


def resolve_per_server(
    server_inputs: Mapping[str, str],
    previous: Mapping[str, str | None],
    settings: ResolverSettings,
    *,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    use_cache: bool = True,
    vendored: Mapping[str, frozenset[str]] | None = None,
    alone: Mapping[str, str] | None = None,
) -> SharedResult:
    """One resolution per server (``lock = "per-server"``), run in parallel."""
    counter = _Counter()
    requests = _server_requests(
        sorted(server_inputs), server_inputs, previous, upgrade, upgrade_packages, vendored or {}
    )
    outputs = _parallel(requests, settings, use_cache, counter)
    return SharedResult(outputs=outputs, resolutions=counter.runs, cache_hits=counter.hits)
