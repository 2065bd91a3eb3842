"""Open a file only when it is a regular file: never block on a FIFO, never read a device.

``open()`` on a FIFO waits for a writer forever and ``read()`` of ``/dev/zero``
never ends. :func:`open_regular` opens non-blocking and checks ``fstat`` before a
byte is read; :func:`read_regular` also caps how much it reads. Standard library
only: the no-op shortcut (:mod:`mcpbundle.incremental.stamp`) uses it before anything else is
imported.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO


class NotRegular(OSError):
    """The path exists but is a FIFO, a device, a socket or a directory (``kind``)."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(f"{path} is a {kind}, not a regular file")
        self.kind = kind


class TooLarge(OSError):
    """The file holds more than the caller's limit (``size`` bytes)."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(f"{path} holds {size} bytes, more than {limit}")
        self.size = size
        self.limit = limit


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words."""
    for test, name in (
        (stat.S_ISREG, "regular file"), (stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"), (stat.S_ISLNK, "symlink"),
    ):  # fmt: skip
        if test(mode):
            return name
    return "special file"


def open_regular(path: str | os.PathLike[str], *, follow: bool = True) -> BinaryIO:
    """``open(path, "rb")`` for a regular file; :class:`NotRegular` for anything else.

    ``follow=False`` also refuses a symlink (``ELOOP`` from ``O_NOFOLLOW``).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegular(os.fsdecode(path), kind_of(mode))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int, *, follow: bool = True) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (:class:`TooLarge` otherwise)."""
    with open_regular(path, follow=follow) as handle:
        data = handle.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(os.fsdecode(path), os.fstat(handle.fileno()).st_size, limit)
    return data
