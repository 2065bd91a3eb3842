"""PEP 508 text parsed once per process.

Planning 200 servers parses the same few hundred requirement texts about 12,000 times
(each server's merged list is read by the clash check, the SDK checks, the lock reader
and the sorter); :func:`parsed` keeps one :class:`~packaging.requirements.Requirement`
per text. Callers only read the object; an invalid text raises each time, as
``Requirement`` does.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.requirements import Requirement


@lru_cache(maxsize=8192)
def parsed(text: str) -> Requirement:
    """``Requirement(text)``, shared: never change the object returned."""
    return Requirement(text)
