"""Index options in a requirements file: given to the resolver, never shipped.

The host installs from PyPI only; the resolver may need another index to find what a
server names (a private mirror, a wheelhouse). A requirements file's ``-i``/``--index-url``,
``--extra-index-url``, ``-f``/``--find-links`` or ``--no-index`` is removed from what ships
and, when ``[bundle]`` names no index of its own, passed to the resolver of that server
(dropping it would resolve the names that index serves from PyPI instead: dependency
confusion). When ``[bundle]`` names one, ``[bundle]`` decides for every server. A line
naming PyPI itself changes nothing. Credentials in a URL reach only the resolver's command
line (masked wherever mcpbundle prints it), never a file.
"""

from __future__ import annotations

from pathlib import Path

from mcpbundle.base.errors import BuildError
from mcpbundle.base.redact import mask_urls
from mcpbundle.config.settings import BundleSettings
from mcpbundle.plan.requirements import ReqLine

# option -> the [bundle] key that sets it for the resolver
_KEYS = {
    "-i": "index-url",
    "--index-url": "index-url",
    "--extra-index-url": "extra-index-urls",
    "-f": "find-links",
    "--find-links": "find-links",
    "--no-index": "no-index",
}
_PYPI = ("https://pypi.org/simple", "https://pypi.python.org/simple")
IndexOption = tuple[str, str]  # ([bundle] key, value): ("extra-index-urls", URL)


def index_option(line: ReqLine, bundle: BundleSettings) -> IndexOption | None:
    """What ``line`` (an option line) asks of the resolver (None: nothing, or [bundle]
    decides the index)."""
    text = line.text.strip()
    flag, _, value = text.partition(" ")
    if "=" in flag:  # --index-url=URL
        flag, _, value = text.partition("=")
    key = _KEYS.get(flag)
    if key is None:
        return None
    value = value.strip()
    if key == "index-url" and value.rstrip("/") in _PYPI:
        return None
    if bundle.index_url or bundle.extra_index_urls or bundle.find_links or bundle.no_index:
        return None  # [bundle] decides the resolver's index: the option is only not shipped
    if key != "no-index" and not value:
        raise BuildError(
            f"{flag} needs a value", where=line.origin, hint=f"write '{flag} URL' or remove it"
        )
    if key == "find-links" and "://" not in value and line.path is not None:
        value = str((line.path / Path(value).expanduser()).resolve())
    return key, value


def merged_index(options: list[IndexOption], where: str) -> tuple[IndexOption, ...]:
    """A server's index options in order, each once; two different ``--index-url`` lines
    are an error (the resolver takes one)."""
    seen: dict[IndexOption, None] = {}
    for option in options:
        seen.setdefault(option, None)
    urls = sorted({value for key, value in seen if key == "index-url"})
    if len(urls) > 1:
        raise BuildError(
            f"its requirements name {len(urls)} different --index-url values "
            f"({', '.join(mask_urls(u) for u in urls)})",
            where=where,
            hint="keep one --index-url and make the others --extra-index-url",
        )
    return tuple(seen)
