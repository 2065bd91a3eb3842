"""Load one FastMCP server the way ``fastmcp run`` does, and report what it exposes.

A standalone script, run by :mod:`mcpbundle.verify.verifier` with the *server's* venv
interpreter (``python -I load_probe.py ...``) in a throwaway directory. It must not
import mcpbundle (which is not installed there) and needs only the standard
library plus the ``fastmcp`` the server's requirements installed.

``load ENTRY --root DIR [--path DIR ...]``
    Load ``file.py[:object]`` with FastMCP's own file loader (entrypoint directory
    first on ``sys.path``, module ``server_module``, then ``mcp``/``server``/``app``
    or the named object or factory), list tools, resources, resource templates and
    prompts through FastMCP's in-memory client, and measure the load time and
    peak memory. Each ``--path`` goes on ``sys.path`` where ``PYTHONPATH`` would put
    it (the probe runs with ``-I``, which ignores ``PYTHONPATH``): how the source
    tree is loaded, with every shared library importable as in a development venv.

``http URL``
    Connect to a running server over streamable HTTP: initialize, list tools, and
    call one tool that takes no required arguments and is annotated read-only.

The load's verdict also holds ``surface``: every tool, resource, template and prompt
as the MCP types dump it (schemas, annotations, arguments), for mcpbundle to normalize.

Either way the verdict is one JSON line written to ``--verdict-fd``, a pipe only
mcpbundle reads (never stdout, where the server may print anything), and the
process then ends at once (a server's leftover threads cannot hold it up). On
failure the JSON holds ``"ok": false`` and ``"error"``: the error's last lines,
not a traceback. With ``--sandbox DIR`` an audit hook records every file the
server's code opens for writing, creates, renames or removes outside ``DIR``
(bytecode caches and ``/dev`` aside); the verdict lists them as ``"writes"``.

While fastmcp and the server import, the cyclic GC runs rarely and what they built is then
frozen (:func:`collecting_later`): rescanning those long-lived objects was a seventh of a load.
"""

from __future__ import annotations

import argparse
import asyncio
import builtins
import contextlib
import gc
import importlib
import inspect
import json
import logging
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

MARKER = "MCPBUNDLE_PROBE "  # before the verdict when run by hand (no --verdict-fd)
WRITE_EVENTS = {
    "os.mkdir": 0, "os.remove": 0, "os.rmdir": 0, "os.truncate": 0, "shutil.rmtree": 0,
    "os.rename": 1, "os.replace": 1, "os.symlink": 1, "os.link": 1,
}  # fmt: skip  # event -> index of the path it writes
_GROUP: Any = getattr(builtins, "BaseExceptionGroup", None)  # Python 3.11+; targets go back to 3.10
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
SERVER_NAMES = ("mcp", "server", "app")
LOADER_MODULE = "fastmcp.utilities.mcp_server_config.v1.sources.filesystem"
LOAD_GC_THRESHOLD = 500_000


class ProbeError(Exception):
    """A failure already explained in one or two lines."""


class _Capture(logging.Handler):
    """Keeps the loader's error messages: it logs them and then calls ``sys.exit(1)``."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def error_lines(exc: BaseException, root: Path | None) -> str:
    """Where in the server's own files the error happened, and the exception line(s)."""
    exc = _innermost(exc)
    lines: list[str] = []
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if root is not None and _inside(Path(f.filename), root)]
    if mine and root is not None:
        frame = mine[-1]
        where = Path(frame.filename).resolve().relative_to(root.resolve()).as_posix()
        code = f": {frame.line.strip()}" if frame.line else ""
        lines.append(f"{where}, line {frame.lineno}{code}")
    told = [
        line.rstrip()
        for chunk in traceback.format_exception_only(type(exc), exc)
        for line in chunk.splitlines()
        if line.strip()
    ]
    # The exception's first line names its type ("...ValidationError: 2 validation
    # errors for Settings"): keep it, then as many of the last lines as fit in six.
    if len(lines) + len(told) > 6:
        told = [told[0], *told[-(5 - len(lines)) :]]
    return "\n".join([*lines, *told])


def _innermost(exc: BaseException) -> BaseException:
    """The single exception inside (nested) one-member exception groups."""
    while _GROUP is not None and isinstance(exc, _GROUP) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def _split_entry(entry: str) -> tuple[str, str | None]:
    head, sep, tail = entry.rpartition(":")
    if sep and head.endswith(".py") and tail.isidentifier():
        return head, tail
    return entry, None


async def _load_with_fastmcp(entry: str, root: Path | None) -> Any:
    """FastMCP's own loader, with its logged error turned into an exception."""
    loader = importlib.import_module(LOADER_MODULE)
    capture = _Capture()
    logger: logging.Logger = getattr(loader, "logger", logging.getLogger(LOADER_MODULE))
    logger.addHandler(capture)
    try:
        return await loader.FileSystemSource(path=entry).load_server()
    except SystemExit as exc:
        text = " ".join(" ".join(capture.messages).split()) or f"loader exited ({exc.code})"
        cause = exc.__context__  # a factory's own exception, which the loader only logs
        if isinstance(cause, Exception):
            text = f"{text}\n{error_lines(cause, root)}"
        raise ProbeError(text) from None
    finally:
        logger.removeHandler(capture)


def _server_kinds(fastmcp: Any) -> tuple[type, ...]:
    kinds: tuple[type, ...] = (fastmcp.FastMCP,)
    for module, name in (("mcp.server.mcpserver", "MCPServer"), ("mcp.server.fastmcp", "FastMCP")):
        with contextlib.suppress(ImportError, AttributeError):
            kinds += (getattr(importlib.import_module(module), name),)
    return kinds


async def _load_replica(entry: str, root: Path | None) -> Any:
    """The same rules as FastMCP's file loader, for versions where it is not importable."""
    import importlib.util

    kinds = _server_kinds(importlib.import_module("fastmcp"))
    file_text, obj_name = _split_entry(entry)
    path = Path(file_text).expanduser().resolve()
    if not path.is_file():
        raise ProbeError(f"entrypoint not found: {path}")
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("server_module", path)
    if spec is None or spec.loader is None:
        raise ProbeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["server_module"] = module
    spec.loader.exec_module(module)
    if obj_name is None:
        for name in SERVER_NAMES:
            if isinstance(getattr(module, name, None), kinds):
                return getattr(module, name)
        raise ProbeError(f"No server object found in {path.name} (looked for mcp, server, app)")
    obj = getattr(module, obj_name, None)
    if obj is None:
        raise ProbeError(f"Server object '{obj_name}' not found in {path.name}")
    if inspect.isfunction(obj) or inspect.iscoroutinefunction(obj):
        obj = obj()
        if inspect.isawaitable(obj):
            obj = await obj
        if not isinstance(obj, kinds):
            raise ProbeError(f"Factory function '{obj_name}' must return a FastMCP server")
    return obj


def peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return round(peak / scale, 1)


@contextlib.contextmanager
def collecting_later() -> Any:
    """Cyclic collections at most every ``LOAD_GC_THRESHOLD`` allocations while fastmcp
    and the server import; then what they built is not scanned again (frozen) and
    collections go on as before (or as the server's code set them)."""
    before, during = gc.get_threshold(), (LOAD_GC_THRESHOLD, 1000, 1000)
    gc.set_threshold(*during)
    try:
        yield
    finally:
        gc.freeze()
        if gc.get_threshold() == during:
            gc.set_threshold(*before)


async def probe_load(entry: str, root: Path | None) -> dict[str, Any]:
    with collecting_later():
        fastmcp, server, how, import_seconds = await _import_server(entry, root)
        client_class, kinds = fastmcp.Client, _server_kinds(fastmcp)  # imports them too
    if not isinstance(server, kinds):
        raise ProbeError(f"{entry}: found a {type(server).__name__}, not a FastMCP server")
    async with client_class(server) as client:
        tools = await client.list_tools()
        resources = await client.list_resources()
        templates = await client.list_resource_templates()
        prompts = await client.list_prompts()
    return {
        "ok": True,
        "loader": how,
        "fastmcp_version": getattr(fastmcp, "__version__", None),
        "import_seconds": round(import_seconds, 4),
        "peak_memory_mb": peak_memory_mb(),
        "tools": sorted(t.name for t in tools),
        "resources": sorted([str(r.uri) for r in resources] + [t.uriTemplate for t in templates]),
        "prompts": sorted(p.name for p in prompts),
        "surface": {
            "tools": [_dump(t) for t in tools],
            "resources": [_dump(r) for r in resources],
            "resource_templates": [_dump(t) for t in templates],
            "prompts": [_dump(p) for p in prompts],
        },
    }


async def _import_server(entry: str, root: Path | None) -> tuple[Any, Any, str, float]:
    try:
        fastmcp = importlib.import_module("fastmcp")
    except ImportError as exc:
        raise ProbeError(f"fastmcp is not importable: {exc}") from exc
    try:
        importlib.import_module(LOADER_MODULE)
        loader, how = _load_with_fastmcp, "fastmcp"
    except ImportError:
        loader, how = _load_replica, "replica"
    started = time.perf_counter()
    server = await loader(entry, root)
    return fastmcp, server, how, time.perf_counter() - started


def _dump(item: Any) -> dict[str, Any]:
    """One listed tool, resource, template or prompt as MCP puts it on the wire (camelCase
    keys, JSON values); mcpbundle normalizes it (``mcpbundle.verify.surface``)."""
    dump = getattr(item, "model_dump", None)
    if callable(dump):
        try:
            data = dump(mode="json", by_alias=True, exclude_none=True)
        except Exception:  # an old pydantic or an unserializable default: take the fields
            data = None
        if isinstance(data, dict):
            return data
    fields = ("name", "title", "description", "inputSchema", "outputSchema", "annotations",
              "uri", "uriTemplate", "mimeType", "arguments")  # fmt: skip
    found = {key: getattr(item, key, None) for key in fields}
    data = json.loads(json.dumps({k: v for k, v in found.items() if v is not None}, default=str))
    return data if isinstance(data, dict) else {}


def _safe_to_call(tool: Any) -> bool:
    """A tool that takes no required argument and says it only reads (``readOnlyHint``,
    and not ``destructiveHint``). A tool without annotations may delete, send or pay:
    MCP's defaults take it as destructive, and verify calls none of those."""
    schema = getattr(tool, "inputSchema", None) or {}
    if schema.get("required"):
        return False
    hints = getattr(tool, "annotations", None)
    read_only = _hint(hints, "readOnlyHint", "read_only_hint")
    return read_only is True and _hint(hints, "destructiveHint", "destructive_hint") is not True


def _hint(hints: Any, *names: str) -> object:
    """An annotation by its MCP name (SDK 1) or its Python name (SDK 2)."""
    for name in names:
        value = getattr(hints, name, None)
        if value is not None:
            return value
    return None


async def probe_http(url: str, timeout: float) -> dict[str, Any]:
    fastmcp = importlib.import_module("fastmcp")
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await _http_session(fastmcp, url, timeout)
        except Exception as exc:  # connection refused, reset, protocol errors: retry
            if time.monotonic() > deadline:
                raise ProbeError(f"no answer from {url}: {_innermost(exc)}") from exc
            await asyncio.sleep(0.25)


async def _http_session(fastmcp: Any, url: str, timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    async with fastmcp.Client(url, timeout=timeout) as client:
        initialized = time.perf_counter()
        tools = await client.list_tools()
        listed = time.perf_counter()
        callable_tools = sorted((t for t in tools if _safe_to_call(t)), key=lambda t: t.name)
        call: dict[str, Any] | None = None
        if callable_tools:
            name = callable_tools[0].name
            before = time.perf_counter()
            result = await client.call_tool(name, {}, raise_on_error=False)
            text = " ".join(getattr(c, "text", "") for c in result.content).strip()
            call = {
                "tool": name,
                "ok": not result.is_error,
                "ms": round((time.perf_counter() - before) * 1000, 1),
                "error": text[-300:] if result.is_error else None,
            }
    return {
        "ok": True,
        "url": url,
        "initialize_ms": round((initialized - started) * 1000, 1),
        "round_trip_ms": round((listed - initialized) * 1000, 1),
        "tools": sorted(t.name for t in tools),
        "call": call,
    }


def add_paths(paths: list[str]) -> None:
    """Put ``paths`` right after the script's directory, in order, like ``PYTHONPATH``."""
    for offset, path in enumerate(dict.fromkeys(paths)):
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(1 + offset, path)


class WriteLog:
    """An audit hook: files written, created, renamed or removed outside the sandbox."""

    LIMIT = 50

    def __init__(self, sandbox: str) -> None:
        self.allowed = (os.path.realpath(sandbox) + os.sep, "/dev/")
        self.found: dict[str, str] = {}
        self.busy = False

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if self.busy or len(self.found) >= self.LIMIT:
            return
        if event == "open":
            path, mode, flags = args
            if isinstance(flags, int):
                writes = bool(flags & WRITE_FLAGS)
            else:
                writes = isinstance(mode, str) and any(c in mode for c in "wax+")
            verb = "wrote"
        elif event in WRITE_EVENTS:
            path, writes = args[WRITE_EVENTS[event]], True
            verb = "removed" if event in ("os.remove", "os.rmdir", "shutil.rmtree") else "wrote"
        else:
            return
        if not writes or path is None or isinstance(path, int):
            return
        self.busy = True
        try:
            self._note(os.fsdecode(os.fspath(path)), verb)
        except Exception:  # never break the server's own call
            pass
        finally:
            self.busy = False

    def _note(self, path: str, verb: str) -> None:
        full = os.path.realpath(os.path.abspath(path))
        if "__pycache__" in full.split(os.sep) or (full + os.sep).startswith(self.allowed):
            return
        self.found.setdefault(full, verb)

    def report(self) -> list[str]:
        return [f"{verb} {path}" for path, verb in sorted(self.found.items())]


def send(document: dict[str, Any], fd: int | None) -> None:
    """The verdict: one JSON line on the private pipe (on stdout when run by hand)."""
    line = json.dumps(document, sort_keys=True) + "\n"
    sys.stdout.flush()
    if fd is None:
        print(MARKER + line, end="", flush=True)
        return
    data = line.encode()
    while data:
        data = data[os.write(fd, data) :]
    os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loadprobe")
    parser.add_argument("--verdict-fd", type=int, default=None)
    parser.add_argument("--sandbox", default=None)
    sub = parser.add_subparsers(dest="mode", required=True)
    load = sub.add_parser("load")
    load.add_argument("entry")
    load.add_argument("--root", type=Path, default=None)
    load.add_argument("--path", dest="paths", action="append", default=[])
    http = sub.add_parser("http")
    http.add_argument("url")
    http.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    fd: int | None = args.verdict_fd
    if fd is not None:
        os.set_inheritable(fd, False)  # nothing the server starts gets the verdict pipe
    writes = WriteLog(args.sandbox) if args.sandbox else None
    if writes is not None:
        sys.addaudithook(writes)
    root: Path | None = getattr(args, "root", None)
    try:
        if args.mode == "load":
            add_paths(args.paths)
            document = asyncio.run(probe_load(args.entry, root))
        else:
            document = asyncio.run(probe_http(args.url, args.timeout))
    except ProbeError as exc:
        document = {"ok": False, "error": str(exc)}
    except BaseException as exc:  # the server's own code failed: report, never crash
        if isinstance(exc, KeyboardInterrupt):
            raise
        document = {"ok": False, "error": error_lines(exc, root)}
    if args.mode == "load" and not document.get("ok"):
        document["peak_memory_mb"] = peak_memory_mb()
    document["python"] = ".".join(map(str, sys.version_info[:3]))
    if writes is not None:
        writes.busy = True
        document["writes"] = writes.report()
    send(document, fd)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # threads or atexit handlers the server left must not hold up the verdict
