"""Parse Python files with THIS interpreter's grammar and print their ASTs as JSON.

Run by :mod:`mcpbundle.plan.python_parse` under the target Python (``python3.12 -I
python_parse_worker.py``) when the running interpreter is older than the target and
rejects a file. It imports nothing but the standard library and executes
nothing it parses.

Protocol, one JSON object per line each way: a request ``{"source": <base64 of
the file's bytes>, "filename": str}`` is answered with ``{"tree": <node>}``,
``{"syntax": {"msg", "lineno", "offset", "end_lineno", "end_offset"}}`` or
``{"fail": str}``. A node is ``{"_t": class name, "_k": base class name, field:
value, ..., "lineno": ...}``; constants that JSON lacks are tagged: bytes
``{"_b": base64}``, complex ``{"_j": [real, imag]}``, Ellipsis ``{"_e": 1}``.
"""

from __future__ import annotations

import ast
import base64
import json
import sys
from typing import Any


def _kind(node: ast.AST) -> str:
    """The node's category: ``expr``, ``stmt``, ``pattern``, ``type_param``, ..."""
    for cls in type(node).__mro__:
        if cls.__base__ is ast.AST:
            return cls.__name__
    return type(node).__name__


def dump(value: Any) -> Any:
    if isinstance(value, ast.AST):
        out: dict[str, Any] = {"_t": type(value).__name__, "_k": _kind(value)}
        for name in value._fields:
            out[name] = dump(getattr(value, name, None))
        for name in value._attributes:
            out[name] = getattr(value, name, None)
        return out
    if isinstance(value, list):
        return [dump(item) for item in value]
    if isinstance(value, bytes):
        return {"_b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, complex):
        return {"_j": [value.real, value.imag]}
    if value is Ellipsis:
        return {"_e": 1}
    return value


def answer(request: dict[str, Any]) -> dict[str, Any]:
    source = base64.b64decode(request["source"])
    try:
        tree = ast.parse(source, filename=request.get("filename", "<unknown>"))
    except SyntaxError as exc:
        return {
            "syntax": {
                "msg": exc.msg,
                "lineno": exc.lineno,
                "offset": exc.offset,
                "end_lineno": getattr(exc, "end_lineno", None),
                "end_offset": getattr(exc, "end_offset", None),
            }
        }
    except (ValueError, MemoryError, RecursionError) as exc:
        return {"syntax": {"msg": str(exc) or type(exc).__name__, "lineno": 1, "offset": 1}}
    try:
        return {"tree": dump(tree)}
    except RecursionError:
        return {"fail": "the file nests too deeply to transfer"}


def main() -> int:
    sys.setrecursionlimit(20000)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = answer(json.loads(line))
        except Exception as exc:  # a broken request must not end the worker
            reply = {"fail": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
