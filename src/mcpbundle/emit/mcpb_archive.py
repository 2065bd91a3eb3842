"""A deterministic zip: same members, same bytes.

Members are written sorted by name, each with the same timestamp (1980-01-01, the
earliest a zip can hold), Unix permissions 0644 (0755 for an executable file), no
directory entries, no extra fields, DEFLATE at level 9. Nothing of the machine, the
clock or the umask reaches the archive.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from mcpbundle.base.errors import BuildError

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_UNIX = 3  # create_system: the external attributes hold Unix permissions


class Member:
    """Content for one archive entry: bytes, or a file read when the archive is written."""

    __slots__ = ("data", "executable", "path")

    def __init__(
        self, *, data: bytes | None = None, path: Path | None = None, executable: bool = False
    ) -> None:
        self.data = data
        self.path = path
        self.executable = executable

    @classmethod
    def of_file(cls, path: Path) -> Member:
        mode = os.stat(path).st_mode
        return cls(path=path, executable=bool(mode & stat.S_IXUSR))

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise BuildError(f"cannot read: {exc.strerror}", where=str(self.path)) from exc


def check_name(name: str) -> None:
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts or "\\" in name:
        raise BuildError(f"{name!r} is not a relative path", where="mcpb archive")


def zip_bytes(members: Mapping[str, Member]) -> bytes:
    """The archive of ``members`` (archive path -> content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(members):
            check_name(name)
            member = members[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = _UNIX
            mode = 0o755 if member.executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.read(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()
