"""Credentials never leave through a URL: the one helper that masks a URL's userinfo.

``https://user:token@host/simple`` becomes ``https://***@host/simple`` wherever
mcpbundle records or prints a URL: the manifest, reports, progress lines, errors
and the ``+ cmd`` log (applied where each leaves the process, so a new message
cannot forget it). ``ssh://git@host`` keeps its ``git`` user, which is no secret.
"""

from __future__ import annotations

import re

MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s/@?#'\"<>]+)@")


def mask_urls(text: str) -> str:
    """``text`` with the userinfo of every ``scheme://user[:secret]@`` replaced by ``***``."""
    if "@" not in text or "://" not in text:
        return text
    return _USERINFO.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    scheme, userinfo = match.group("scheme"), match.group("userinfo")
    if userinfo == "git" and "ssh" in scheme.lower():
        return match.group(0)
    return f"{scheme}{MASK}@"


def has_credentials(url: str) -> bool:
    """True when ``url`` carries a userinfo that :func:`mask_urls` would hide."""
    return mask_urls(url) != url
