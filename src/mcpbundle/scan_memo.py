"""The build's secret scan with each result kept across builds (issue 17).

:func:`mcpbundle.emit.secret_scan.check_plan` decides what is scanned and what a finding
means; this module only remembers answers. It relies on one contract of that module:
``scan_bytes(data, display, requirement_files=...)`` is a pure function of the bytes,
the display path and whether that path is among ``requirement_files``; its result is
kept under those (and mcpbundle's code, the installed packages, detect-secrets among
them, and the environment: :mod:`mcpbundle.incremental.result_store`). After a
one-file change only that file, and what the build generates differently, is scanned.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from mcpbundle.emit import secret_scan as secretscan
from mcpbundle.incremental.result_store import ResultStore

if TYPE_CHECKING:
    from mcpbundle.config.settings import Config
    from mcpbundle.plan.planner import BuildPlan


def check_plan(config: Config, plan: BuildPlan, *, cached: bool = True) -> tuple[str, ...]:
    """:func:`secret_scan.check_plan` with the scan results of earlier builds reused."""
    scan = getattr(secretscan, "scan_bytes", None)
    if not cached or scan is None:
        return secretscan.check_plan(config, plan)
    from mcpbundle.base.cache_dir import cache_root

    store = ResultStore.open(str(cache_root() / "scans"), "secrets", ("secrets",))
    with _remembered(store, scan):
        warnings = secretscan.check_plan(config, plan)
    store.save()
    return warnings


@contextlib.contextmanager
def _remembered(
    store: ResultStore, scan: Callable[..., list[secretscan.SecretHit]]
) -> Iterator[None]:
    def remembered(
        data: bytes, display: str, *, requirement_files: Iterable[str] = ()
    ) -> list[secretscan.SecretHit]:
        listed = display in set(requirement_files)
        digest = hashlib.sha256(data).hexdigest()
        key = hashlib.sha256(repr((digest, display, listed)).encode()).hexdigest()
        found = store.get(key)
        if found is None:
            found = tuple(scan(data, display, requirement_files=(display,) if listed else ()))
            store.put(key, found)
        return list(found)

    secretscan.scan_bytes = remembered
    try:
        yield
    finally:
        secretscan.scan_bytes = scan
