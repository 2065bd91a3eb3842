"""How to let a secret-looking line through, in the file's own comment syntax.

detect-secrets honours ``pragma: allowlist secret`` only at the end of a line and only
inside a comment it recognises (``#``, ``//``, ``/* */``, ``--``, ``<!-- -->``). A hint
that says ``# pragma`` for a Markdown file puts a visible ``#`` in the rendered page, and
for a JSON file it breaks the file: those have no comment, so they are offered the
baseline and ``[bundle] allow-secrets`` instead.
"""

from __future__ import annotations

from pathlib import PurePosixPath

PRAGMA = "pragma: allowlist secret"
MARKER = "mcpbundle: allow-secret"
_BY_SUFFIX: dict[str, tuple[str, str]] = {}
for _suffixes, _syntax in (
    (
        "py pyi pyx toml yaml yml cfg ini conf sh bash zsh fish env txt in r rb pl tf "
        "properties mk cmake dockerfile",
        ("# ", ""),
    ),
    ("js mjs cjs ts tsx jsx go java kt kts rs c h cc cpp hpp cs swift scala php", ("// ", "")),
    ("css scss less", ("/* ", " */")),
    ("sql lua hs", ("-- ", "")),
    ("md markdown html htm xml svg vue", ("<!-- ", " -->")),
):
    for _suffix in _suffixes.split():
        _BY_SUFFIX[_suffix] = _syntax
# no comment syntax: a marker would change the data or break the file
_NO_COMMENT = frozenset(["json", "ipynb", "csv", "tsv", "lock", "rst"])
_BY_NAME = {"dockerfile": ("# ", ""), "makefile": ("# ", ""), "procfile": ("# ", "")}


def _comment(path: str) -> tuple[str, str] | None:
    """The comment's opening and closing for ``path`` (``#`` for a kind not known here,
    which detect-secrets accepts in any file but YAML's); None when the file has none."""
    name = PurePosixPath(path.removesuffix(" (generated)")).name.lower()
    if name in _BY_NAME or name.startswith(".env"):
        return _BY_NAME.get(name, ("# ", ""))
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in _NO_COMMENT or name.startswith("pylock."):
        return None
    return _BY_SUFFIX.get(suffix, ("# ", ""))


def pragma_form(path: str, text: str = PRAGMA) -> str | None:
    """``text`` as a comment of ``path``'s syntax (``<!-- pragma: allowlist secret -->``
    for Markdown); None when the file has no comment syntax."""
    comment = _comment(path)
    if comment is None:
        return None
    start, end = comment
    return f"{start}{text}{end}"


def mark_advice(path: str) -> str:
    """The clause of a fix that lets the line through: mark it, or, for a file without
    comments, list it in the baseline or allow the path."""
    form = pragma_form(path)
    if form is None:
        return "list it in .secrets.baseline or add the path to [bundle] allow-secrets"
    return f"end the line with '{form}'"


def secret_hint(path: str) -> str:
    """The whole hint of a build error on a secret in ``path``."""
    form = pragma_form(path)
    if form is None:
        return (
            "remove it (and rotate it); this file has no comments, so list it in "
            ".secrets.baseline or add the path to [bundle] allow-secrets"
        )
    return (
        f"remove it (and rotate it), or end the line with '{form}' (or "
        f"'{pragma_form(path, MARKER)}'), list it in .secrets.baseline, or add the path to "
        "[bundle] allow-secrets"
    )
