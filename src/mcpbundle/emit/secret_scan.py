"""Content scanning of everything that will ship: secrets by shape, not by file name.

:mod:`mcpbundle.plan.repo_files` keeps secret *files* (``.env``, keys, credentials) out of
the bundle by name. This module reads every file that will be copied, once, and
scans it with detect-secrets (:mod:`mcpbundle.emit.secret_engine`, imported only when
a scan runs). A finding fails the build before anything is written, unless:

- the line carries ``# pragma: allowlist secret`` (detect-secrets' own; also
  ``pragma: allowlist nextline secret`` on the line before) or
  ``mcpbundle: allow-secret``;
- the file matches one of ``[bundle] allow-secrets`` (gitignore-style, repo-relative);
- ``.secrets.baseline`` (detect-secrets' baseline, at the config's directory or
  the git work tree's root) lists the same value in the same file;
- the file is documentation (``*.md``, ``*.rst``, ``*.txt``, but not a
  requirements or constraints file) and the format has no checksum or fixed
  structure: then it is a warning, and the file ships.

Reported values are masked: enough to find the line, not enough to use the key.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

import pathspec

from mcpbundle.base.errors import BuildError, ConfigError, MCPBundleError
from mcpbundle.emit import scan_gates
from mcpbundle.emit.scan_memo import clean_memo, content_key, gates_path
from mcpbundle.git.worktree import git_root

if TYPE_CHECKING:
    pass

ALLOW_MARKER = "mcpbundle: allow-secret"
BASELINE_NAME = ".secrets.baseline"
DOC_SUFFIXES = (".md", ".rst", ".txt")
_REQUIREMENTS_NAME = re.compile(r".*(?:requirements|constraints).*\.txt")
# kinds whose value says nothing about the secret's shape: mask it whole
_OPAQUE = ("password", "secret", "URL", "high-entropy")
_BINARY_PROBE = 8192

Severity = Literal["error", "warning"]


@dataclass(frozen=True, kw_only=True)
class SecretHit:
    """One secret found in a file a bundle would ship, masked for printing."""

    display: str  # repo-relative path
    line: int
    kind: str
    masked: str
    severity: Severity = "error"
    text: str = field(default="", repr=False, compare=False)  # the line
    # sha1 of the value, and of what detect-secrets records for it (its baseline's hashes)
    digests: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def where(self) -> str:
        return f"{self.display}:{self.line}"

    @property
    def summary(self) -> str:
        article = "an" if self.kind[:1].lower() in "aeio" else "a"
        return f"looks like {article} {self.kind} ({self.masked})"


def mask(value: str, *, prefix: bool = True) -> str:
    """``ghp_…(40 chars)``: at most the format's prefix, never the key."""
    if value.startswith(("-----", "BEGIN ")):
        return value.strip("-")  # a private key's header, not the key
    if not prefix or len(value) < 16:
        return f"…({len(value)} chars)"
    head = re.match(r"[A-Za-z]{2,6}[_-]|AKIA|ASIA|AIza|eyJ", value)
    return f"{head.group(0) if head else value[:2]}…({len(value)} chars)"


def is_doc_file(path: str) -> bool:
    """``*.md``, ``*.rst``, ``*.txt``, except requirements and constraints files."""
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(DOC_SUFFIXES) and not _REQUIREMENTS_NAME.fullmatch(name)


def scan_bytes(
    data: bytes, display: str, *, requirement_files: Iterable[str] = ()
) -> list[SecretHit]:
    """Every secret in ``data`` (the content of ``display``), masked, with its severity."""
    secretengine = _engine()
    _remember_gates(secretengine)
    if b"\0" in data[:_BINARY_PROBE]:
        findings = secretengine.scan_binary(data)
    else:
        findings = secretengine.scan_text(data.decode("utf-8", errors="replace"), display)
    doc = is_doc_file(display) and display not in set(requirement_files)
    return [
        SecretHit(
            display=display,
            line=f.line,
            kind=f.kind,
            masked=mask(f.value, prefix=not any(word in f.kind for word in _OPAQUE)),
            severity="warning" if doc and f.kind not in secretengine.STRUCTURED else "error",
            text=f.text,
            digests=tuple(_sha1(v) for v in (f.value, *f.aliases)),
        )
        for f in findings
    ]


def _engine() -> ModuleType:
    """:mod:`mcpbundle.emit.secret_engine`, imported only for a scan, with detect-secrets
    imported offline (see :mod:`mcpbundle.emit.offline_import`)."""
    loaded = sys.modules.get(_ENGINE)
    if loaded is not None:
        return loaded
    from mcpbundle.emit.offline_import import load_offline

    return load_offline(
        lambda: importlib.import_module(_ENGINE),
        ("detect_secrets", _ENGINE, "mcpbundle.emit.secret_shapes"),
    )


_ENGINE = "mcpbundle.emit.secret_engine"
_GATES_SAVED: set[str] = set()


def _remember_gates(engine: ModuleType) -> None:
    """Once per process and cache: the engine's gates, for processes that follow."""
    path = gates_path()
    if str(path) not in _GATES_SAVED:
        _GATES_SAVED.add(str(path))
        scan_gates.save(path, engine.gates(), engine.ENV_EXAMPLE_NAMES)


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()  # detect-secrets' hashed_secret


@lru_cache(maxsize=4096)
def _scan_path(
    path: str, display: str, requirement_file: bool, _stat: tuple[int, int]
) -> tuple[SecretHit, ...]:
    """One scan per distinct file (and content) in this process: keyed by whether the file is
    a requirement file, not by the set of them (which differs per server, so a library file
    vendored by many servers would be scanned once per server). Across processes a clean
    content is remembered (:mod:`mcpbundle.emit.scan_memo`) and not scanned again."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BuildError(f"cannot read: {exc.strerror}", where=display) from exc
    return scan_data(data, display, requirement_file)


_SCANNED: dict[str, tuple[SecretHit, ...]] = {}


def scan_data(data: bytes, display: str, requirement_file: bool) -> tuple[SecretHit, ...]:
    """One scan per distinct content and file name in this process; a clean one is
    remembered across processes (:mod:`mcpbundle.emit.scan_memo`).

    The scan depends on the file's name, not its directory (detect-secrets picks rules
    by extension, ``.env.example`` and documentation by name): the dist-info every
    server vendoring a library gets is scanned once, its hits named for each copy."""
    name = display.rsplit("/", 1)[-1]
    # the listing matters only where it decides the severity: a documentation file
    key = content_key(data, name, requirement_file and is_doc_file(name))
    hits = _SCANNED.get(key)
    if hits is None:
        memo = clean_memo()
        if key in memo:
            hits = ()
        elif scan_gates.untouched(gates_path(), data, name):
            hits = ()  # no line the engine would look at: clean without importing it
            memo.add(key)
        else:
            listed = (name,) if requirement_file else ()
            hits = tuple(scan_bytes(data, name, requirement_files=listed))
            if not hits:
                memo.add(key)
        _SCANNED[key] = hits
    return tuple(replace(hit, display=display) for hit in hits) if hits else ()


def scan_path(path: Path, display: str, requirement_files: Iterable[str] = ()) -> list[SecretHit]:
    try:
        st = path.stat()
    except OSError as exc:
        raise BuildError(f"cannot read: {exc.strerror}", where=display) from exc
    key = (st.st_size, st.st_mtime_ns)
    listed = display in frozenset(requirement_files)
    return list(_scan_path(str(path), display, listed, key))


# ------------------------------------------------------------------------ baseline


@dataclass(frozen=True)
class Baseline:
    """(repo-relative file, sha1 of the value) pairs a ``.secrets.baseline`` lists."""

    entries: frozenset[tuple[str, str]] = frozenset()
    path: str | None = None  # repo-relative baseline file itself (never scanned)

    def covers(self, hit: SecretHit) -> bool:
        return any((hit.display, digest) in self.entries for digest in hit.digests)


def load_baseline(root: Path) -> Baseline:
    """The baseline at ``root`` (the config's directory), else at the git work tree's root;
    its file names are made relative to ``root``. None there: an empty baseline."""
    places = [(root, "")]
    found = git_root(root)
    top = Path(found).resolve() if found is not None else None
    if top is not None and top != root.resolve():
        places.append((top, root.resolve().relative_to(top).as_posix() + "/"))
    for base, prefix in places:
        path = base / BASELINE_NAME
        if path.is_file():
            entries = _read_baseline(path, prefix)
            return Baseline(entries=entries, path=BASELINE_NAME if not prefix else None)
    return Baseline()


def _read_baseline(path: Path, prefix: str) -> frozenset[tuple[str, str]]:
    where = str(path)
    hint = "regenerate it with `detect-secrets scan > .secrets.baseline`"
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"not a detect-secrets baseline: {exc}", where=where, hint=hint) from exc
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, dict):
        raise ConfigError("not a detect-secrets baseline: no 'results'", where=where, hint=hint)
    entries = set()
    for filename, items in results.items():
        if not isinstance(filename, str) or not isinstance(items, list):
            continue
        name = filename.replace("\\", "/").removeprefix("./")
        if not name.startswith(prefix):
            continue
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("hashed_secret"), str):
                entries.add((name[len(prefix) :], item["hashed_secret"]))
    return frozenset(entries)


# ---------------------------------------------------------------- allow rules, plan


def allowed(repo_path: str, line_text: str, allow_globs: Sequence[str]) -> bool:
    """True when the line is marked ``mcpbundle: allow-secret`` or the path is allow-listed."""
    if ALLOW_MARKER in line_text:
        return True
    if not allow_globs:
        return False
    return bool(pathspec.GitIgnoreSpec.from_lines(list(allow_globs)).match_file(repo_path))


def scan_files(
    root: Path,
    paths: Iterable[str],
    allow_globs: Sequence[str],
    *,
    baseline: Baseline | None = None,
    requirement_files: Iterable[str] = (),
    rewritten_pyprojects: Iterable[str] = (),
) -> list[SecretHit]:
    """Hits in the repo-relative ``paths`` under ``root`` that no allow rule covers."""
    sources = [(root / rel, rel) for rel in sorted(set(paths))]
    return scan_sources(
        sources,
        allow_globs,
        baseline=baseline,
        requirement_files=requirement_files,
        rewritten_pyprojects=rewritten_pyprojects,
    )


def scan_sources(
    sources: Iterable[tuple[Path | bytes, str]],
    allow_globs: Sequence[str],
    *,
    baseline: Baseline | None = None,
    requirement_files: Iterable[str] = (),
    rewritten_pyprojects: Iterable[str] = (),
) -> list[SecretHit]:
    """Hits in each ``(file or its content, display)`` that no allow rule covers:
    ``[bundle] allow-secrets`` (matched against ``display``), the baseline, the line
    pragmas. Build and check both come here, so they never disagree."""
    spec = pathspec.GitIgnoreSpec.from_lines(list(allow_globs)) if allow_globs else None
    baseline = baseline or Baseline()
    requirements = frozenset(requirement_files)
    rewritten = frozenset(rewritten_pyprojects)
    hits: list[SecretHit] = []
    for path, display in sources:
        if (spec is not None and spec.match_file(display)) or display == baseline.path:
            continue
        if isinstance(path, bytes):
            found = list(scan_data(path, display, display in requirements))
        else:
            found = scan_path(path, display, requirements)
        if found and display in rewritten and isinstance(path, Path):
            found = shipped_pyproject(found, path, display)
        hits.extend(h for h in found if not baseline.covers(h))
    clean_memo().flush()
    return hits


def shipped_pyproject(hits: list[SecretHit], path: Path, display: str) -> list[SecretHit]:
    """The hits of a ``pyproject.toml`` the build rewrites that survive the rewrite (its
    index settings, say, do not ship): kept with the source's line numbers."""
    from mcpbundle.emit.pyproject_rewrite import rewrite_pyproject  # tomlkit: only when needed

    try:
        shipped = rewrite_pyproject(path.read_text(encoding="utf-8"), pins=[], where=display)
    except (OSError, UnicodeDecodeError, MCPBundleError):
        return hits  # the build reports an unreadable pyproject itself
    survivors = {d for h in scan_bytes(shipped.encode(), display) for d in h.digests}
    return [h for h in hits if survivors.intersection(h.digests)]


def secret_error(hits: Sequence[SecretHit]) -> BuildError:
    from mcpbundle.emit.secret_hint import secret_hint

    first = hits[0]
    message = first.summary
    if len(hits) > 1:
        others = ", ".join(h.where for h in hits[1:7])
        more = f" and {len(hits) - 7} more" if len(hits) > 7 else ""
        message += f" (also {others}{more})"
    return BuildError(
        message,
        where=first.where,
        hint=secret_hint(first.display),
    )
