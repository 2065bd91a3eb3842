"""Index options in a requirements file: never shipped, and never silently dropped.

The host installs from PyPI only, and the resolver takes its index from ``[bundle]``
(``index-url``, ``extra-index-urls``, ``find-links``, ``no-index``). A requirements file's
``-i``/``--index-url``, ``--extra-index-url``, ``-f``/``--find-links`` or ``--no-index`` is
removed from what ships; when ``[bundle]`` names no index at all, removing it would resolve
the names that index serves from PyPI instead (dependency confusion), so it is an error that
says where the setting goes. A line naming PyPI itself changes nothing and just goes.
"""

from __future__ import annotations

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


def check_index_option(line: ReqLine, bundle: BundleSettings) -> None:
    """Raise when ``line`` (an option line) names an index the resolver would not use."""
    text = line.text.strip()
    flag, _, value = text.partition(" ")
    if "=" in flag:  # --index-url=URL
        flag, _, value = text.partition("=")
    key = _KEYS.get(flag)
    if key is None:
        return
    value = value.strip()
    if key == "index-url" and value.rstrip("/") in _PYPI:
        return
    if bundle.index_url or bundle.extra_index_urls or bundle.find_links or bundle.no_index:
        return  # [bundle] decides the resolver's index: the option is only not shipped
    raise BuildError(
        f"{mask_urls(text)!r} would be dropped and its packages resolved from PyPI instead "
        "(a requirements file's index options are not given to the resolver)",
        where=line.origin,
        hint=f"set [bundle] {key} (a resolver input, never shipped), or remove the line",
    )
