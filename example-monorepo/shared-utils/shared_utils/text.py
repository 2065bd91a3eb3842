"""Text helpers: slugs, truncation, counting."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str, separator: str = "-", max_length: int = 64) -> str:
    """ASCII, lower-case slug: ``"Café Ops #1"`` -> ``"cafe-ops-1"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NON_WORD.sub(separator, ascii_text.lower()).strip(separator)
    if max_length > 0 and len(slug) > max_length:
        slug = slug[:max_length].rstrip(separator)
    return slug


def truncate(text: str, limit: int, suffix: str = "...") -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``suffix`` when cut."""
    if limit < len(suffix):
        raise ValueError(f"limit must be at least {len(suffix)}")
    if len(text) <= limit:
        return text
    return text[: limit - len(suffix)].rstrip() + suffix


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())
