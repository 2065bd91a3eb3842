"""Read requirement sources and classify every line.

A server's or library's requirements come from a ``requirements.txt`` (with
``-r``/``-c`` includes and ``\\`` continuations) or from ``pyproject.toml``
(``[project].dependencies``, ``[tool.uv.sources]``, Poetry path dependencies).
Each entry becomes a :class:`ReqLine` that says what it points at: PyPI, a local
directory, a git URL, another URL, a pip option. PEP 508 is parsed with
:mod:`packaging.requirements`, never with a regex.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mcpbundle.base.errors import ConfigError
from mcpbundle.plan.extras_names import canonical_extras, path_extras
from mcpbundle.plan.path_lookup import located
from mcpbundle.plan.root_templates import expand_root_references

Kind = Literal["pypi", "path", "git", "url", "option"]


@dataclass(frozen=True, kw_only=True)
class ReqLine:
    """One requirement entry and what it points at."""

    text: str  # the entry as written (for the manifest's ``rewrites``)
    origin: str  # "server-ops/requirements.txt:3" or "shared-utils/pyproject.toml"
    kind: Kind
    name: str | None = None  # canonical distribution name when known
    requirement: str | None = None  # normalised PEP 508 text (pypi kind)
    path: Path | None = None  # absolute directory (path kind; option kind: its file's)
    url: str | None = None  # git / url kinds
    editable: bool = False
    constraint: bool = False  # came from a ``-c`` file
    extras: tuple[str, ...] = ()  # canonical, sorted: ``core[table]`` -> ("table",)
    found_at: str | None = None  # a path not where written: why it is read from ``path``


def parse_requirement_text(
    text: str, *, origin: str, base: Path, editable: bool = False, constraint: bool = False
) -> ReqLine:
    """Classify one requirement entry; paths are resolved against ``base``, the directory
    of the file that declares it (also the project root its placeholders name)."""
    entry = expand_root_references(text.strip(), base)
    if entry.startswith("-"):
        return ReqLine(text=text, origin=origin, kind="option", constraint=constraint)
    lowered = entry.lower()
    if lowered.startswith("git+") or lowered.startswith("git://"):
        return git_line(text, entry, origin, editable, constraint, name=None)
    if lowered.startswith("file:"):
        return path_line(text, origin, _file_url_path(entry, base), editable, constraint, None)
    if "://" in entry.split("@")[0] or lowered.startswith(("http:", "https:")):
        return ReqLine(
            text=text,
            origin=origin,
            kind="url",
            url=entry,
            editable=editable,
            constraint=constraint,
        )
    if _looks_like_path(entry, base):
        where, extras = path_extras(entry, origin)
        line = path_line(text, origin, base / where, editable, constraint, None)
        return replace(line, extras=extras) if extras else line
    try:
        req = Requirement(entry)
    except InvalidRequirement as exc:
        raise ConfigError(
            f"invalid requirement {entry!r}: {_first_line(exc)}",
            where=origin,
            hint="write a PEP 508 requirement such as 'name>=1.0'",
        ) from exc
    name = canonicalize_name(req.name)
    if req.url:
        url = req.url
        if url.lower().startswith("git+"):
            return git_line(text, url, origin, editable, constraint, name=name)
        if url.lower().startswith("file:"):
            line = path_line(text, origin, _file_url_path(url, base), editable, constraint, name)
            return replace(line, extras=canonical_extras(req.extras))
        return ReqLine(
            text=text, origin=origin, kind="url", url=url, name=name, constraint=constraint
        )
    return ReqLine(
        text=text,
        origin=origin,
        kind="pypi",
        name=name,
        requirement=str(req),
        constraint=constraint,
        extras=canonical_extras(req.extras),
    )


def _first_line(exc: InvalidRequirement) -> str:
    """packaging's message without its multi-line caret picture, plus the column."""
    lines = str(exc).splitlines()
    text = lines[0] if lines else "invalid"
    caret = lines[-1] if len(lines) >= 3 else ""
    marker = caret.find("^")
    if marker >= 0:
        text += f" (at column {marker - 3})"  # packaging indents the picture by 4 spaces
    return text


def check_local_path(line: ReqLine, *, root: Path) -> ReqLine:
    """A ``path`` requirement must point at something that exists: else a ConfigError."""
    if line.kind != "path" or line.path is None or line.path.exists():
        return line
    shown = relative_display(line.path, root) if line.path.is_relative_to(root) else str(line.path)
    what = "directory" if line.editable else "path"
    raise ConfigError(
        f"{line.text.strip()!r} points at {what} {shown!r}, which does not exist",
        where=line.origin,
        hint="fix the path, or depend on a PyPI release instead",
    )


def read_requirements_file(path: Path, *, root: Path, display: str) -> list[ReqLine]:
    """Every entry of a requirements file, following ``-r``/``-c`` includes."""
    lines: list[ReqLine] = []
    _read_file(path, root=root, name=display, via=None, lines=lines, stack=(), constraint=False)
    return lines


def _read_file(
    path: Path,
    *,
    root: Path,
    name: str,
    via: str | None,
    lines: list[ReqLine],
    stack: tuple[Path, ...],
    constraint: bool,
) -> None:
    """Read ``path`` (shown as ``name``; ``via`` is the ``-r`` line that included it)."""
    display = f"{name} (from {via})" if via else name
    resolved = path.resolve()
    if resolved in stack:
        chain = " -> ".join(relative_display(p, root) for p in (*stack, resolved))
        raise ConfigError(f"-r include loop: {chain}", where=display, hint="remove one include")
    if not resolved.is_relative_to(root):
        raise ConfigError(
            "requirements include points outside the repository",
            where=display,
            hint="keep requirement files inside the repo",
        )
    if not resolved.exists():
        raise ConfigError(
            "requirements file not found", where=display, hint="create it or fix the path"
        )
    if not resolved.is_file():
        raise ConfigError(
            "requirements path is not a file", where=display, hint="point at a requirements file"
        )
    try:
        raw = resolved.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read requirements file: {exc.strerror}",
            where=display,
            hint="check its permissions",
        ) from exc
    if b"\x00" in raw:
        raise ConfigError(
            "requirements file is binary", where=display, hint="point at a text requirements file"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "requirements file is not valid UTF-8", where=display, hint="save it as UTF-8"
        ) from exc
    for number, logical in _logical_lines(text, name):
        where = f"{name}:{number}"
        entry = _strip_comment(logical).strip()
        if not entry:
            continue
        option, _, value = _split_option(entry)
        if option in ("-r", "--requirement", "-c", "--constraint"):
            if not value:
                raise ConfigError(
                    f"{option} needs a file name", where=where, hint=f"write '{option} FILE'"
                )
            included = resolved.parent / value
            if not included.resolve().is_relative_to(root):
                raise ConfigError(
                    f"{option} {value} points outside the repository",
                    where=where,
                    hint="keep requirement files inside the repo",
                )
            _read_file(
                included,
                root=root,
                name=relative_display(included, root),
                via=where,
                lines=lines,
                stack=(*stack, resolved),
                constraint=constraint or option in ("-c", "--constraint"),
            )
            continue
        if option in ("-e", "--editable"):
            if not value:
                raise ConfigError(
                    "-e needs a path or URL", where=where, hint="write '-e ../path/to/lib'"
                )
            line = _editable(entry, value, where, resolved.parent, constraint)
            lines.append(check_local_path(located(line, resolved.parent, root), root=root))
            continue
        if option:  # path: the file's directory (a relative --find-links is read from it)
            option_line = ReqLine(
                text=entry, origin=where, kind="option", path=resolved.parent,
                constraint=constraint,
            )  # fmt: skip
            lines.append(option_line)
            continue
        entry = _strip_hash_options(entry)
        line = parse_requirement_text(
            entry, origin=where, base=resolved.parent, constraint=constraint
        )
        lines.append(check_local_path(located(line, resolved.parent, root), root=root))


def _editable(entry: str, value: str, where: str, base: Path, constraint: bool) -> ReqLine:
    inner = parse_requirement_text(
        value, origin=where, base=base, editable=True, constraint=constraint
    )
    if inner.kind == "pypi":
        # ``-e name`` is not valid pip input; treat a bare word as a relative directory.
        inner = path_line(entry, where, base / value, True, constraint, None)
    return ReqLine(
        text=entry,
        origin=where,
        kind=inner.kind,
        name=inner.name,
        requirement=inner.requirement,
        path=inner.path,
        url=inner.url,
        editable=True,
        constraint=constraint,
        extras=inner.extras,
    )


def _logical_lines(text: str, display: str) -> list[tuple[int, str]]:
    """Join ``\\`` continuations; each logical line keeps its first line number."""
    result: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    physical = text.splitlines()
    for number, line in enumerate(physical, start=1):
        if not buffer:
            start = number
        if line.endswith("\\") and not line.lstrip().startswith("#"):
            buffer.append(line[:-1])
            if number == len(physical):
                raise ConfigError(
                    "unterminated line continuation: the last line ends with '\\'",
                    where=f"{display}:{start}",
                    hint="remove the trailing backslash or add the continued line",
                )
            continue
        buffer.append(line)
        result.append((start, " ".join(part.strip() for part in buffer)))
        buffer = []
    return result


_COMMENT = re.compile(r"(^|\s+)#.*$")


def _strip_comment(line: str) -> str:
    """pip's rule: ``#`` at the start of a line or after whitespace starts a comment."""
    return _COMMENT.sub("", line)


def _split_option(entry: str) -> tuple[str, str, str]:
    if not entry.startswith("-"):
        return "", "", entry
    if entry.startswith("--") and "=" in entry.split(maxsplit=1)[0]:
        option, _, value = entry.partition("=")
        return option, "=", value.strip()
    option, _, value = entry.partition(" ")
    if option.startswith("-") and not option.startswith("--") and len(option) > 2:
        return option[:2], "", option[2:].strip()  # -rfile.txt
    return option, " ", value.strip()


def _strip_hash_options(entry: str) -> str:
    parts = entry.split(" --hash")
    return parts[0].strip()


def _looks_like_path(entry: str, base: Path) -> bool:
    if (
        entry.startswith((".", "/", "~"))
        or os.sep in entry.split(";", maxsplit=1)[0]
        or "/" in entry
    ):
        return "@" not in entry.split("/", maxsplit=1)[0]
    if entry.endswith((".whl", ".zip", ".tar.gz")):
        return True
    # pip's rule: a bare word is a directory only if it is an installable project.
    directory = base / entry
    return directory.is_dir() and any(
        (directory / marker).is_file() for marker in ("pyproject.toml", "setup.py", "setup.cfg")
    )


def _file_url_path(url: str, base: Path) -> Path:
    # ``file:../x`` (relative, what real repos write), ``file:///abs/x``, ``file://localhost/x``.
    without = url[len("file:") :]
    if without.startswith(("//./", "//../")):  # ``file://../x``: relative, as uv reads it
        return base / unquote(without[2:])
    if without.startswith("//"):
        parsed = urlsplit(url)
        return Path(unquote(parsed.path))
    return base / unquote(without)


def git_line(
    text: str, url: str, origin: str, editable: bool, constraint: bool, *, name: str | None
) -> ReqLine:
    if name is None:
        fragment = urlsplit(url).fragment
        for part in fragment.split("&"):
            key, _, value = part.partition("=")
            if key == "egg" and value:
                name = canonicalize_name(value)
    return ReqLine(
        text=text,
        origin=origin,
        kind="git",
        url=url,
        name=name,
        editable=editable,
        constraint=constraint,
    )


def path_line(
    text: str, origin: str, path: Path, editable: bool, constraint: bool, name: str | None
) -> ReqLine:
    return ReqLine(
        text=text,
        origin=origin,
        kind="path",
        path=Path(os.path.normpath(path)),
        name=name,
        editable=editable,
        constraint=constraint,
    )


def relative_display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


INDEX_OPTIONS = frozenset(
    {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host", "--no-index"}
)


def without_index_options(text: str) -> str:
    """A requirements file's text with its index options removed (the index is an input of
    the resolver, never a file of the bundle: its URLs may carry credentials)."""
    kept = []
    for line in text.splitlines(keepends=True):
        entry = line.strip()
        option = _split_option(entry)[0] if entry.startswith("-") else ""
        if option in INDEX_OPTIONS:
            kept.append(f"# {option} ... (removed by mcpbundle: index options do not ship)\n")
        else:
            kept.append(line)
    return "".join(kept)
