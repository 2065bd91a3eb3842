"""A stamp's file and the small reads it is made of (:mod:`mcpbundle.incremental.stamp`).

``MAGIC``, the payload's sha256, then the payload (``marshal``); written atomically,
read only as a regular file of sane size. Standard library only, and not even
``typing``: the no-op shortcut imports this before anything else.
"""

from __future__ import annotations

import marshal
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import sha256 as _sha256
    from typing import Any
else:  # CPython's own SHA-256: hashlib's OpenSSL binding alone is a tenth of a no-op
    try:
        from _sha256 import sha256 as _sha256  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256 as _sha256  # its name from 3.12
        except ImportError:
            from hashlib import sha256 as _sha256

FORMAT = 4
MAGIC = b"mcpbundle-stamp 4\n"
MAX_STAMP_BYTES = 256 * 1024 * 1024


def store(path: str, document: dict[str, Any]) -> None:
    """Write atomically: ``MAGIC``, the payload's sha256, then the payload (marshal)."""
    payload = marshal.dumps(document)
    data = MAGIC + digest(payload).encode() + b"\n" + payload
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: str) -> dict[str, Any] | None:
    """The stamp at ``path``; None if absent, of another format, or not matching its checksum.

    Opened only as a regular file of sane size (a FIFO there must not hang the shortcut)."""
    from mcpbundle.base.regular_file import read_regular

    data = read_regular(path, MAX_STAMP_BYTES, follow=False)
    if not data.startswith(MAGIC):
        return None
    checksum, _, payload = data[len(MAGIC) :].partition(b"\n")
    if digest(payload).encode() != checksum:
        return None
    document = marshal.loads(payload)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    return document


def stat_of(path: str) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode]


def listing(path: str) -> str:
    return digest("\0".join(sorted(os.listdir(path))).encode("utf-8", "surrogateescape"))


def file_sha256(path: str) -> str:
    """The sha256 of a regular file (a FIFO or a device: :class:`NotRegular`, never a wait)."""
    # Not manifest.sha256_file: importing manifest pulls in json and pathlib (see above).
    from mcpbundle.base.regular_file import open_regular  # a recorded file now a FIFO must not hang

    digest = _sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def digest(data: bytes) -> str:
    return _sha256(data).hexdigest()
