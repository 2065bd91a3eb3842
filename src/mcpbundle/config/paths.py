"""Rules on paths and names in the configuration, apart from the tables that use them.

Each function either answers a question (``output_problem``, ``branch_name_problem``,
``find_cycle``) or checks one value and raises the reader's one-line error naming
its key path (``inside_path``, ``directory_path``, ``check_relative``).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from mcpbundle.base.errors import ConfigError
from mcpbundle.base.real_paths import resolved
from mcpbundle.config.schema import Reader


def within(path: Path | str, base: Path | str) -> bool:
    """``Path(path).is_relative_to(base)`` for normalised paths, compared as text: a
    config of 200 servers asks it thousands of times, and ``is_relative_to`` builds a
    path and its parts for each answer."""
    text, prefix = os.fspath(path), os.fspath(base)
    return text == prefix or text.startswith(prefix if prefix.endswith(os.sep) else prefix + os.sep)


def output_problem(
    root: Path, output: Path, protected: Iterable[Path] = (), *, inside_root: bool = False
) -> str | None:
    """Why ``output`` must not be replaced by a build (None when it may).

    A build swaps the whole output directory, so it must not be the repository,
    contain it, be a file or a symlink (the swap would replace what it points at),
    be (or contain) a directory in ``protected`` (the servers' and shared
    libraries' sources), or lie inside one (its build lock and staging
    directories would ship with it). ``inside_root``: it must also lie inside
    ``root`` (the config's ``output``; ``-o`` may name a new directory elsewhere).
    """
    if "\0" in str(output):
        return "contains a NUL byte"
    lexical = Path(os.path.normpath(output))
    if lexical.is_symlink():
        return "is a symlink, and a build would replace what it points at"
    out = resolved(output)
    root = resolved(root)
    if out == root:
        return "is the repository root itself"
    if root.is_relative_to(out):
        return "contains the repository"
    if out.exists() and not out.is_dir():
        return "is a file, not a directory"
    if inside_root and not out.is_relative_to(root):
        return "is outside the repository (use -o for a directory elsewhere)"
    for source in protected:
        real = resolved(source)
        shown = real.relative_to(root).as_posix() if within(real, root) else str(real)
        if within(real, out):
            return f"is or contains the source directory {shown!r}, which a build would replace"
        if real != root and within(out, real):
            return (
                f"is inside the source directory {shown!r}, whose files would ship the "
                "output's lock and staging directories"
            )
    return None


def parse_size(reader: Reader, key_path: str, value: object) -> int:
    """A size in bytes: an integer, or a string such as ``"50MB"``, ``"512 KiB"``, ``"2GB"``."""
    hint = "use a number of bytes or a string such as '50MB'"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise reader.fail(key_path, f"must be a size, got {type(value).__name__}", hint)
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.fullmatch(value.strip())
        if match is None:
            raise reader.fail(key_path, f"{value!r} is not a size", hint)
        size = int(float(match.group(1)) * _UNITS[(match.group(2) or "B").upper()])
    if size <= 0:
        raise reader.fail(key_path, "must be more than 0 bytes", hint)
    return size


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?", re.IGNORECASE)
_UNITS = {
    "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
}  # fmt: skip


_BAD_REF_CHARS = frozenset(" ~^:?*[\\\x7f")


def branch_name_problem(name: str) -> str | None:
    """What ``git check-ref-format --branch`` would reject in ``name`` (None if fine)."""
    if name.startswith("-"):
        return "it starts with '-'"
    if name in {"HEAD", "@"}:
        return f"{name!r} is reserved"
    bad = sorted({c for c in name if c in _BAD_REF_CHARS or ord(c) < 32})
    if bad:
        return "it contains " + ", ".join(repr(c) for c in bad)
    if ".." in name or "@{" in name or "//" in name:
        return "it contains '..', '@{' or '//'"
    if name.endswith((".", "/", ".lock")) or name.startswith("/"):
        return "it starts with '/' or ends with '.', '/' or '.lock'"
    if any(part.startswith(".") for part in name.split("/")):
        return "a component starts with '.'"
    return None


def check_relative(reader: Reader, key_path: str, text: str) -> None:
    if "\0" in text:
        raise reader.fail(key_path, "contains a NUL byte", "remove it from the path")
    if Path(text).is_absolute() or text.startswith("~"):
        raise reader.fail(
            key_path, f"{text!r} is absolute", "use a path relative to mcpbundle.toml"
        )


def directory_path(reader: Reader, key_path: str, value: object, root: Path) -> str:
    text = reader.string(key_path, value)
    return inside_path(reader, key_path, text, root, root, kind="directory")


def inside_path(
    reader: Reader,
    key_path: str,
    text: str,
    base: Path,
    root: Path,
    *,
    kind: str,
    within_base: bool = True,
    missing: list[ConfigError] | None = None,
) -> str:
    """Check ``base/text`` exists as ``kind`` inside ``base`` (or only inside ``root``
    when not ``within_base``); return it relative to ``base``.

    ``missing``: a path that does not exist (and is otherwise fine) is not an error
    here; the error it would raise is appended, for the caller to raise later."""
    try:
        return _inside_path(reader, key_path, text, base, root, kind, within_base)
    except ConfigError as exc:
        if missing is None or "\0" in text:
            raise
        lexical = os.path.normpath(base / text)
        target = resolved(Path(lexical))
        if os.path.lexists(lexical) or not target.is_relative_to(root):
            raise
        if within_base and not Path(lexical).is_relative_to(base):
            raise
        missing.append(exc)
        return Path(os.path.relpath(lexical, base)).as_posix()


def _inside_path(
    reader: Reader, key_path: str, text: str, base: Path, root: Path, kind: str, within_base: bool
) -> str:
    check_relative(reader, key_path, text)
    lexical = Path(os.path.normpath(base / text))
    if not within(lexical, root):
        raise reader.fail(
            key_path, f"{text!r} points outside the repository", "keep paths inside the repo"
        )
    if not within_base:
        _exists_as(reader, key_path, text, lexical, root, kind)
        return Path(os.path.relpath(lexical, base)).as_posix()
    if not within(lexical, base):
        inside = base.relative_to(root).as_posix()
        raise reader.fail(
            key_path,
            f"{text!r} points outside {inside!r}",
            f"give a path relative to the server's directory {inside!r}",
        )
    _exists_as(reader, key_path, text, lexical, root, kind)
    rel = os.fspath(lexical)[len(os.fspath(base)) :].lstrip(os.sep)
    return rel.replace(os.sep, "/") if rel else "."


def _exists_as(
    reader: Reader, key_path: str, text: str, lexical: Path, root: Path, kind: str
) -> None:
    target = resolved(lexical)
    if not within(target, root):
        raise reader.fail(
            key_path,
            f"{text!r} resolves outside the repository through a symlink",
            "keep paths inside the repo",
        )
    try:
        mode: int | None = os.stat(target).st_mode  # one stat answers all three
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.EBADF):  # as Path.exists decides
            raise
        mode = None
    if mode is None:
        raise reader.fail(key_path, f"{kind} {text!r} does not exist", "create it or fix the path")
    if kind == "directory" and not stat.S_ISDIR(mode):
        raise reader.fail(key_path, f"{text!r} is not a directory", "point it at a directory")
    if kind == "file" and not stat.S_ISREG(mode):
        raise reader.fail(key_path, f"{text!r} is not a file", "point it at a file")


def find_cycle(graph: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """A cycle in ``graph`` as ``[a, b, ..., a]``, or None. Deterministic (sorted order)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None
