"""Which import names a set of distributions provides.

Real metadata first: for every distribution installed next to mcpbundle, its
``top_level.txt`` or the top-level entries of its ``RECORD``, and its
``Requires-Dist`` (with extras and markers) to follow transitive requirements.
A table of well-known mismatches (``PyYAML`` -> ``yaml``) covers distributions
that are not installed; after that only a guess from the name is left, which
callers must treat as a guess (a warning, never an error).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mcpbundle.check import installed_cache
from mcpbundle.check.dist_info import Installed, read_installed
from mcpbundle.plan.import_names import KNOWN_IMPORTS

# Well-known distributions whose import name is their name (``-`` -> ``_``).
KNOWN_SAME_NAME = frozenset(
    {
        "aiohttp",
        "annotated-types",
        "anthropic",
        "anyio",
        "authlib",
        "boto3",
        "botocore",
        "certifi",
        "charset-normalizer",
        "click",
        "cyclopts",
        "fastapi",
        "fastmcp",
        "h11",
        "httpcore",
        "httpx",
        "httpx-sse",
        "idna",
        "jinja2",
        "jsonschema",
        "mcp",
        "numpy",
        "openai",
        "openapi-pydantic",
        "pandas",
        "pydantic",
        "pydantic-core",
        "pydantic-settings",
        "redis",
        "requests",
        "rich",
        "sqlalchemy",
        "sse-starlette",
        "starlette",
        "tenacity",
        "typing-inspection",
        "urllib3",
        "uvicorn",
        "websockets",
    }
)

# Requirements of well-known distributions, followed when they are not installed.
KNOWN_REQUIRES: dict[str, tuple[str, ...]] = {
    "fastmcp": (
        "mcp",
        "pydantic",
        "httpx",
        "python-dotenv",
        "rich",
        "pyyaml",
        "typing-extensions",
        "openapi-pydantic",
        "authlib",
        "cyclopts",
        "websockets",
    ),
    "mcp": (
        "anyio",
        "httpx",
        "httpx-sse",
        "pydantic",
        "pydantic-settings",
        "python-multipart",
        "sse-starlette",
        "starlette",
        "uvicorn",
        "jsonschema",
        "pyjwt",
    ),
    "httpx": ("anyio", "certifi", "httpcore", "idna"),
    "pydantic": ("pydantic-core", "typing-extensions", "annotated-types", "typing-inspection"),
    "requests": ("certifi", "charset-normalizer", "idna", "urllib3"),
    "starlette": ("anyio",),
    "uvicorn": ("click", "h11"),
}


@lru_cache(maxsize=1024)
def installed_distribution(name: str) -> Installed | None:
    """The distribution importable next to mcpbundle under this canonical name, if any.

    Looked up by name, once per name per process: reading every installed distribution's
    metadata and file list up front cost more than the rest of MCB004 at 10 servers; how
    one is read is :mod:`mcpbundle.check.dist_info`."""
    store = installed_cache.current()
    known = store.get("distributions", name)
    if isinstance(known, dict):
        imports = known.get("imports")
        return (
            Installed(
                imports=None if imports is None else frozenset(imports),
                requires=tuple(known.get("requires", ())),
            )
            if known.get("found")
            else None
        )
    found = read_installed(name)
    store.put(
        "distributions",
        name,
        {"found": False}
        if found is None
        else {
            "found": True,
            "imports": None if found.imports is None else sorted(found.imports),
            "requires": list(found.requires),
        },
    )
    return found


def name_guesses(dist: str) -> tuple[str, ...]:
    """Import names a distribution probably provides, from its name alone."""
    canonical = canonicalize_name(dist)
    base = canonical.replace("-", "_")
    guesses = [base]
    for prefix in ("python_", "py_", "py"):
        if base.startswith(prefix) and len(base) > len(prefix):
            guesses.append(base.removeprefix(prefix))
    if base.endswith("_python"):
        guesses.append(base.removesuffix("_python"))
    if "-" in canonical:
        guesses.append(canonical.split("-", 1)[0])  # namespace packages: google-auth -> google
    for guess in list(guesses):
        unnumbered = guess.rstrip("0123456789").rstrip("_")
        if unnumbered != guess and len(unnumbered) > 1:
            guesses.append(unnumbered)  # a fork or successor: phue2 -> phue
    return tuple(dict.fromkeys(guesses))


_END = object()  # what a finished walk gives


class Provision:
    """What the requirements (and what they require) make importable.

    The closure is walked only as far as a question needs: most imports are of a
    requirement itself, found at the first step, while walking fastmcp's whole tree
    (60 distributions' metadata) cost a cold ``check`` at 10 servers more than all its
    rules. The walk's order decides which distribution provides a name (the first to
    claim it), so a name found early is the one the whole walk would give; a name not
    found, :attr:`modules` and :attr:`guessed` finish the walk."""

    def __init__(self, walk: Callable[[Provision], Iterator[None]] | None = None) -> None:
        self._modules: dict[str, str] = {}  # import name -> distribution
        # distributions whose import names are only guessed: distribution -> guesses
        self._guessed: dict[str, tuple[str, ...]] = {}
        self._walk = walk(self) if walk is not None else None
        self._lock = threading.Lock()

    def add_module(self, import_name: str, distribution: str) -> None:
        self._modules.setdefault(import_name, distribution)

    def add_guess(self, distribution: str, guesses: tuple[str, ...]) -> None:
        self._guessed[distribution] = guesses

    def _step(self) -> bool:
        """One more distribution of the walk; False once it is done. (One walk may be
        shared, :func:`provision` caches it: a lock keeps two threads from resuming it.)"""
        with self._lock:
            if self._walk is None:
                return False
            if next(self._walk, _END) is _END:
                self._walk = None
                return False
            return True

    def _finish(self) -> None:
        while self._step():
            pass

    @property
    def modules(self) -> dict[str, str]:
        self._finish()
        return self._modules

    @property
    def guessed(self) -> dict[str, tuple[str, ...]]:
        self._finish()
        return self._guessed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Provision):
            return NotImplemented
        return (self.modules, self.guessed) == (other.modules, other.guessed)

    __hash__ = None  # type: ignore[assignment]  # mutable while its walk runs

    def provider(self, top: str) -> str | None:
        """The distribution that provides ``top``; a guessed one matches whatever the case
        (the ``pil`` extra of an unseen ``qrcode`` brings ``PIL``)."""
        while top not in self._modules and self._step():
            pass
        if top in self._modules:
            return self._modules[top]
        folded = top.lower()
        for dist, guesses in self.guessed.items():
            if any(folded == guess.lower() for guess in guesses):
                return dist
        return None


@lru_cache(maxsize=16384)
def _wanted(req: Requirement, extras: frozenset[str]) -> bool:
    """Whether ``req`` applies with ``extras`` requested (once per pair per process: every
    server's closure meets the same ``Requires-Dist`` lines)."""
    if req.marker is None:
        return True
    for extra in ("", *extras):
        try:
            if req.marker.evaluate({"extra": extra}):
                return True
        except UndefinedEnvironmentName:
            return True
    return False


def provision(roots: Mapping[str, frozenset[str]]) -> Provision:
    """Import names of ``roots`` (canonical name -> requested extras) and their closure."""
    return _provision(tuple(sorted((k, tuple(sorted(v))) for k, v in roots.items())))


@lru_cache(maxsize=256)
def _provision(roots: tuple[tuple[str, tuple[str, ...]], ...]) -> Provision:
    return Provision(lambda result: _walk(result, roots))


def _walk(result: Provision, roots: tuple[tuple[str, tuple[str, ...]], ...]) -> Iterator[None]:
    """Visit the closure of ``roots`` into ``result``, yielding after each visit."""
    done: dict[str, set[str]] = {}
    queue: list[tuple[str, frozenset[str]]] = [
        (canonicalize_name(n), frozenset(e)) for n, e in roots
    ]
    while queue:
        name, extras = queue.pop()
        seen = done.get(name)
        if seen is not None and extras <= seen:
            continue
        new_extras = extras - seen if seen is not None else extras
        done.setdefault(name, set()).update(extras)
        first_visit = seen is None
        dist = installed_distribution(name)
        if first_visit:
            _add_imports(result, name, dist)
        if dist is None:
            _guess_extras(result, name, extras if first_visit else frozenset(new_extras))
        queue.extend(_followed(name, extras if first_visit else frozenset(new_extras), first_visit))
        yield None


@lru_cache(maxsize=16384)
def _followed(
    name: str, extras: frozenset[str], first_visit: bool
) -> tuple[tuple[str, frozenset[str]], ...]:
    """What a visit of ``name`` with ``extras`` adds to the walk, in order (once per
    process: every server's closure walks the same installed distributions; across
    processes, :mod:`mcpbundle.check.installed_cache` remembers it)."""
    store = installed_cache.current()
    key = f"{name}\0{','.join(sorted(extras))}\0{int(first_visit)}"
    known = store.get("followed", key)
    if isinstance(known, list):
        return tuple((str(dep), frozenset(dep_extras)) for dep, dep_extras in known)
    found = _follow(name, extras, first_visit)
    store.put("followed", key, [[dep, sorted(dep_extras)] for dep, dep_extras in found])
    return found


def _follow(
    name: str, extras: frozenset[str], first_visit: bool
) -> tuple[tuple[str, frozenset[str]], ...]:
    dist = installed_distribution(name)
    if dist is None:
        known = KNOWN_REQUIRES.get(name, ()) if first_visit else ()
        return tuple((dep, frozenset()) for dep in known)
    found = []
    for line in dist.requires:
        req = _requirement(line)
        if req is None:
            continue
        if not first_visit and req.marker is None:
            continue  # already followed on the first visit
        if _wanted(req, extras):
            found.append((canonicalize_name(req.name), frozenset(req.extras)))
    return tuple(found)


@lru_cache(maxsize=8192)
def _requirement(line: str) -> Requirement | None:
    """One ``Requires-Dist`` line parsed, once per process (every target's closure walks the
    same installed distributions: parsing them again per server was most of MCB004)."""
    try:
        return Requirement(line)
    except InvalidRequirement:
        return None


def _guess_extras(result: Provision, name: str, extras: frozenset[str]) -> None:
    """An unseen distribution's extras name what they bring, more often than not
    (``qrcode[pil]``, ``httpx[socks]``): each extra's name is a guessed import name of
    ``name[extra]``, since check cannot read what the extra requires."""
    for extra in sorted(extras):
        result.add_guess(f"{name}[{extra}]", name_guesses(extra))


def _add_imports(result: Provision, name: str, dist: Installed | None) -> None:
    known = KNOWN_IMPORTS.get(name, ())
    if name in KNOWN_SAME_NAME:
        known = (*known, name.replace("-", "_"))
    if dist is not None and dist.imports is not None:
        names: Iterable[str] = (*sorted(dist.imports), *known)  # a metapackage has none
    elif known:
        names = known
    else:
        result.add_guess(name, name_guesses(name))
        return
    for import_name in names:
        result.add_module(import_name, name)
