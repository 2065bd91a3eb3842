"""Keep the build output out of git: the ``.gitignore`` line ``init`` adds, the build's hint.

``git check-ignore`` decides whether the output is ignored (so every way of ignoring
it counts: any ``.gitignore``, ``.git/info/exclude``, ``core.excludesFile``). ``init``
appends ``dist/`` to the ``.gitignore`` beside the config (creating it when needed)
unless git already ignores the output or a line of that file already names it. The
first ``build`` of a git work tree, the one that creates the output directory,
prints one ``hint:`` line when git does not ignore it; later builds do not repeat it
(so a no-op build, replayed from its stamp or not, prints nothing new).
"""

from __future__ import annotations

import os
from pathlib import Path

from mcpbundle.git.worktree import git_root

GITIGNORE = ".gitignore"


def ignore_line(output: Path, base: Path) -> str:
    """The ``.gitignore`` line (relative to ``base``) for the output directory: ``dist/``."""
    rel = output.resolve().relative_to(base.resolve()).as_posix()
    return f"{rel.rstrip('/')}/"


def is_ignored(path: Path) -> bool | None:
    """True / False as ``git check-ignore --no-index`` says (the ignore rules, whether or not
    a file in it is tracked); None outside a work tree or when git fails."""
    top = git_root(path.parent if not path.exists() else path)
    if top is None:
        return None
    from mcpbundle.git.source import git_call

    rel = os.path.relpath(path.resolve(), Path(top).resolve())
    if rel.startswith(".."):
        return None
    shown = rel + ("/" if path.is_dir() or not path.exists() else "")
    out = git_call(Path(top), "check-ignore", "-q", "--no-index", "--", shown)
    if out.status == 0:
        return True
    if out.status == 1:
        return False
    return None


def _names_it(text: str, line: str) -> bool:
    bare = line.rstrip("/")
    wanted = {bare, f"{bare}/", f"/{bare}", f"/{bare}/", f"{bare}/*", f"/{bare}/*"}
    return any(entry.strip() in wanted for entry in text.splitlines())


def ensure_ignored(base: Path, output: Path, *, dry_run: bool = False) -> str | None:
    """Add the output to ``base/.gitignore``; the line added, or None when nothing was needed.

    Outside a git work tree the line is added all the same (a repository may be created
    later); only an output outside ``base`` is left alone."""
    try:
        line = ignore_line(output, base)
    except ValueError:
        return None
    if is_ignored(output) is True:
        return None
    path = base / GITIGNORE
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return None  # never written through a link, nor anything but a regular file
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    except (OSError, UnicodeDecodeError):
        return None
    if _names_it(text, line):
        return None
    if not dry_run:
        prefix = "" if not text or text.endswith("\n") else "\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{prefix}{line}\n")
    return line


def build_hint(base: Path, output: Path) -> str | None:
    """The one-line hint for a build that created ``output`` in a work tree that tracks it."""
    if is_ignored(output) is not False:
        return None
    try:
        line = ignore_line(output, base)
    except ValueError:
        top = git_root(output.parent)
        if top is None:
            return None
        line = ignore_line(output, Path(top))
        base = Path(top)
    where = os.path.relpath(base.resolve() / GITIGNORE, Path.cwd().resolve())
    if where.startswith(".."):
        where = str(base.resolve() / GITIGNORE)
    return (
        f"hint: add {line!r} to {where}: git does not ignore the build output "
        "(`mcpbundle init` adds it)"
    )
