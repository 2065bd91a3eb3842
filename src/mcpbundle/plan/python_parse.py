"""Parse user code with the grammar of the Python it will run on (``[bundle] python``).

Public API::

    tree = parse_module(source, filename, target="3.12")  # ast.Module, or SyntaxError

* No target, or the running Python's own version: :func:`ast.parse`.
* A target older than the running Python: ``ast.parse(..., feature_version=target)``,
  so syntax the target lacks (``type X = int`` for 3.11) is a SyntaxError.
* A target newer than the running Python: the running grammar first; only a file
  it rejects is parsed by the target interpreter itself
  (:func:`mcpbundle.base.interpreters.find_interpreter`), in one long-lived worker
  process per target and run (:mod:`mcpbundle.plan.python_parse_worker`), its AST sent
  back as JSON and rebuilt here. Node types and fields the running Python lacks
  map to the nearest thing it has: ``TypeAlias`` becomes an ``Assign`` to the
  alias name, ``type_params`` are dropped, an unknown expression becomes a
  ``Constant(None)``, an unknown statement a ``Pass``. Answers are cached by
  content hash. With no such interpreter, :class:`TargetUnavailable` (a
  :class:`~mcpbundle.base.errors.BuildError`) says which Python to install.

Nothing parsed is executed, here or in the worker.
"""

from __future__ import annotations

import ast
import atexit
import base64
import contextlib
import hashlib
import json
import logging
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError

log = logging.getLogger("mcpbundle")

RUNNING = (sys.version_info.major, sys.version_info.minor)
WORKER = Path(__file__).with_name("python_parse_worker.py")
_MIN_FEATURE = (3, 7)  # the oldest feature_version every supported Python accepts


class TargetUnavailable(BuildError):
    """The running grammar rejects a file and no interpreter of the target can parse it."""

    def __init__(self, target: str, *, where: str | None = None, reason: str | None = None):
        self.target = target
        running = f"{RUNNING[0]}.{RUNNING[1]}"
        why = reason or f"no python{target} found"
        super().__init__(
            f"uses syntax Python {running} cannot parse, and it cannot be parsed as Python "
            f"{target}: {why}",
            where=where,
            hint=f"install Python {target} (on PATH or with pyenv) so mcpbundle can read the code",
        )
        self.reason = why


def parse_version(target: str | None) -> tuple[int, int] | None:
    """``"3.12"`` -> ``(3, 12)``; None for no target."""
    if not target:
        return None
    major, _, minor = target.partition(".")
    return int(major), int(minor)


def parse_module(
    source: bytes | str, filename: str = "<unknown>", target: str | None = None
) -> ast.Module:
    """The module's AST under ``target``'s grammar; SyntaxError only if the target rejects it."""
    version = parse_version(target)
    if version is None or version == RUNNING:
        return _local(source, filename, None)
    if version < RUNNING:
        return _local(source, filename, max(version, _MIN_FEATURE))
    try:
        return _local(source, filename, None)
    except SyntaxError:
        pass  # perhaps syntax newer than this interpreter: ask the target's own
    assert target is not None
    return _foreign(source, filename, target)


def _local(source: bytes | str, filename: str, feature: tuple[int, int] | None) -> ast.Module:
    try:
        if feature is None:
            return ast.parse(source, filename=filename)
        return ast.parse(source, filename=filename, feature_version=feature)
    except ValueError as exc:  # null bytes (3.11 raises ValueError, later versions SyntaxError)
        error = SyntaxError(str(exc))
        error.filename, error.lineno, error.offset = filename, 1, 1
        raise error from exc


# --- the worker under the target interpreter ------------------------------------------

_lock = threading.Lock()
_workers: dict[str, _Worker | None] = {}
_answers: dict[tuple[str, str], dict[str, Any]] = {}  # (content sha256, executable) -> reply


class _Worker:
    def __init__(self, exe: str) -> None:
        cmd = [exe, "-I", str(WORKER)]
        log.info("+ %s", shlex.join(cmd))
        self.exe = exe
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )

    def ask(self, data: bytes, filename: str) -> dict[str, Any] | None:
        request = {"source": base64.b64encode(data).decode("ascii"), "filename": filename}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except OSError:
            return None
        if not line:
            return None
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):  # a worker that died leaves a broken pipe
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _worker(target: str) -> _Worker | None:
    if target not in _workers:
        from mcpbundle.base.interpreters import find_interpreter

        exe = find_interpreter(target)
        try:
            _workers[target] = _Worker(exe) if exe is not None else None
        except OSError as exc:
            log.debug("cannot start python%s (%s): %s", target, exe, exc)
            _workers[target] = None
    return _workers[target]


@atexit.register
def close_workers() -> None:
    """Stop every worker and forget which interpreters exist (they are found again)."""
    with _lock:
        for worker in _workers.values():
            if worker is not None:
                worker.close()
        _workers.clear()


def _foreign(source: bytes | str, filename: str, target: str) -> ast.Module:
    data = source.encode("utf-8") if isinstance(source, str) else source
    with _lock:
        worker = _worker(target)
        if worker is None:
            raise TargetUnavailable(target, where=filename)
        key = (hashlib.sha256(data).hexdigest(), worker.exe)
        reply = _answers.get(key)
        if reply is None:
            reply = worker.ask(data, filename)
            if reply is None:
                _workers[target] = None
                worker.close()
                raise TargetUnavailable(
                    target, where=filename, reason=f"{worker.exe} stopped while parsing"
                )
            _answers[key] = reply
    if "tree" in reply:
        tree = rebuild(reply["tree"])
        if isinstance(tree, ast.Module):
            return tree
        reason = "the worker sent no module"
    elif "syntax" in reply:
        raise _syntax_error(reply["syntax"], filename)
    else:
        reason = str(reply.get("fail", "no answer"))
    raise TargetUnavailable(target, where=filename, reason=reason)


def _syntax_error(info: dict[str, Any], filename: str) -> SyntaxError:
    error = SyntaxError(str(info.get("msg") or "invalid syntax"))
    error.filename = filename
    error.lineno = info.get("lineno") or 1
    error.offset = info.get("offset") or 1
    error.end_lineno = info.get("end_lineno")
    error.end_offset = info.get("end_offset")
    return error


# --- JSON -> this interpreter's AST --------------------------------------------------

_DROP = object()  # a node with no counterpart here (a type parameter): left out


def rebuild(data: Any) -> Any:
    """The value of a worker's JSON (:mod:`mcpbundle.plan.python_parse_worker`) as AST objects."""
    value = _value(data)
    return None if value is _DROP else value


def _value(data: Any) -> Any:
    if isinstance(data, list):
        return [item for item in (_value(v) for v in data) if item is not _DROP]
    if isinstance(data, dict):
        if "_t" in data:
            return _node(data)
        if "_b" in data:
            return base64.b64decode(data["_b"])
        if "_j" in data:
            real, imag = data["_j"]
            return complex(real, imag)
        if "_e" in data:
            return Ellipsis
    return data


def _located(node: ast.AST, data: dict[str, Any]) -> ast.AST:
    for name in node._attributes:
        if name in data:
            setattr(node, name, data[name])
    return node


def _node(data: dict[str, Any]) -> Any:
    name = str(data["_t"])
    cls = getattr(ast, name, None)
    if not (isinstance(cls, type) and issubclass(cls, ast.AST)):
        return _stand_in(name, data)
    node = cls()
    for field in cls._fields:
        value = _value(data.get(field))
        setattr(node, field, None if value is _DROP else value)
    return _located(node, data)


def _stand_in(name: str, data: dict[str, Any]) -> Any:
    """The nearest node this Python has for a node type it lacks."""
    kind = data.get("_k")
    if name == "TypeAlias":  # type X[T] = value  ->  X = value
        target = _value(data.get("name"))
        value = _value(data.get("value"))
        if isinstance(target, ast.Name) and isinstance(value, ast.expr):
            target.ctx = ast.Store()
            assign = ast.Assign(targets=[target], value=value, type_comment=None)
            return _located(assign, data)
    if kind == "expr":
        return _located(ast.Constant(value=None, kind=None), data)
    if kind == "stmt":
        return _located(ast.Pass(), data)
    if kind == "pattern":
        return _located(ast.MatchAs(pattern=None, name=None), data)
    return _DROP
