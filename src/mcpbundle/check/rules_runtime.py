"""Code that imports fine but misbehaves in the runtime (MCB006-MCB010).

MCB006 decision: ``os.environ["X"]`` is the warning (``KeyError`` when unset);
``os.getenv("X")``/``os.environ.get("X")`` without a default return None and are
fine (the reference validates such values at startup). Every variable read in
any form is also expected in the server's ``.env.example`` (any
``.env.example`` among the target's files; ``# X=...`` commented entries count as
documented): an undocumented variable is an MCB006 warning at its first read.
MCB007 (info) reports a missing ``.env.example`` once, at the first read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from mcpbundle.check.context import CheckContext, ModuleInfo
from mcpbundle.check.model import CheckTarget, Finding
from mcpbundle.check.registry import rule
from mcpbundle.plan.env_reads import documented_names, find_env_reads


@dataclass(frozen=True, kw_only=True)
class EnvRead:
    """A read of an environment variable in one parsed file, for MCB006."""

    info: ModuleInfo
    node: ast.AST
    name: str
    subscript: bool  # os.environ["X"]


def _env_reads(ctx: CheckContext) -> list[EnvRead]:
    """Every read of an environment variable by name, in file and source order (cached):
    :func:`mcpbundle.plan.env_reads.find_env_reads`, the analysis the .mcpb writer uses."""
    cached = ctx.memo.get("env_reads")
    if not isinstance(cached, list):
        infos = {info.bundle_path: info for info in ctx.modules() if info.tree is not None}
        modules = [(path, info.tree) for path, info in infos.items() if info.tree is not None]
        cached = ctx.memo["env_reads"] = [
            EnvRead(info=infos[read.file], node=read.node, name=read.name, subscript=read.subscript)
            for read in find_env_reads(modules)
        ]
    return cached


def _env_examples(target: CheckTarget, ctx: CheckContext) -> set[str] | None:
    """Variables documented in the target's ``.env.example`` files (None: there is none)."""
    texts = [
        ctx.text(target.files[path]) or ""
        for path in sorted(target.files)
        if path.rsplit("/", 1)[-1] == ".env.example"
    ]
    return documented_names(texts) if texts else None


@rule("MCB006", "warning", "environment variable read without a default or undocumented")
def check_env_vars(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    documented = _env_examples(target, ctx)
    reported: set[str] = set()
    for read in _env_reads(ctx):
        undocumented = (
            documented is not None and read.name not in documented and read.name not in reported
        )
        if undocumented:
            reported.add(read.name)
        if read.subscript:
            extra = "; it is also missing from .env.example" if undocumented else ""
            yield ctx.at(
                "MCB006",
                read.info,
                read.node,
                f'os.environ["{read.name}"] raises KeyError when {read.name} is not set' + extra,
                f'use os.getenv("{read.name}", <default>) or validate it at startup with a '
                "clear message" + (f", and document {read.name} in .env.example" if extra else ""),
            )
        elif undocumented:
            yield ctx.at(
                "MCB006",
                read.info,
                read.node,
                f"environment variable {read.name} is not documented in .env.example",
                f"add `{read.name}=` (with its default or a placeholder) to .env.example",
            )


@rule("MCB007", "info", ".env.example missing while the code reads environment variables")
def check_env_example(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    if _env_examples(target, ctx) is not None:
        return
    reads = list(_env_reads(ctx))
    if not reads:
        return
    names = sorted({r.name for r in reads})
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    first = reads[0]
    yield ctx.at(
        "MCB007",
        first.info,
        first.node,
        f"the server reads {len(names)} environment variable(s) ({shown}) but ships no "
        ".env.example",
        "add a .env.example next to the server listing every variable with its default",
    )


ASYNC_CLIENTS = frozenset(
    {
        "httpx.AsyncClient",
        "httpx2.AsyncClient",
        "aiohttp.ClientSession",
        "aiohttp.client.ClientSession",
    }
)


@rule("MCB008", "warning", "async HTTP client created at module level")
def check_module_clients(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    for info in ctx.modules():
        for call, name, scope in info.calls():
            if name in ASYNC_CLIENTS and scope.import_time:
                yield ctx.at(
                    "MCB008",
                    info,
                    call,
                    f"{name}() is created at import time, before the runtime's event loop "
                    "exists; it binds to the wrong loop and leaks connections",
                    "create the client inside the tool (`async with ...`) or lazily in an "
                    "async getter / the server lifespan",
                )


HTTP_FUNCS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})


def _blocking(name: str | None) -> bool:
    if name is None:
        return False
    if name in {"time.sleep", "subprocess.run", "subprocess.check_output", "subprocess.call"}:
        return True
    if name.startswith(("requests.", "urllib.request.", "urllib3.")):
        return True
    head, _, func = name.rpartition(".")
    return head in {"httpx", "httpx2"} and (func in HTTP_FUNCS or func == "Client")


@rule("MCB009", "warning", "blocking call inside async def")
def check_blocking(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    for info in ctx.modules():
        for call, name, scope in info.calls():
            if scope.func == "async" and _blocking(name):
                yield ctx.at(
                    "MCB009",
                    info,
                    call,
                    f"{name}() blocks the event loop inside an async function; every other "
                    "request waits",
                    "use an async client (httpx.AsyncClient), `await asyncio.sleep()`, or "
                    "`await asyncio.to_thread(...)`",
                )


DEPRECATED_TIME = {
    "datetime.datetime.utcnow": "datetime.now(timezone.utc)",
    "datetime.datetime.utcfromtimestamp": "datetime.fromtimestamp(ts, timezone.utc)",
    "datetime.utcnow": "datetime.now(timezone.utc)",
    "datetime.utcfromtimestamp": "datetime.fromtimestamp(ts, timezone.utc)",
}
WEAK_HASHES = frozenset({"md5", "sha1"})


def _weak_hash(call: ast.Call, name: str | None) -> str | None:
    if any(k.arg == "usedforsecurity" for k in call.keywords):
        return None
    if name in {"hashlib.md5", "hashlib.sha1"}:
        return name
    if (
        name == "hashlib.new"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and str(call.args[0].value).lower() in WEAK_HASHES
    ):
        return f'hashlib.new("{call.args[0].value!s}")'
    return None


@rule("MCB010", "warning", "deprecated or FIPS-unsafe call")
def check_deprecated(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    for info in ctx.modules():
        for call, name, _ in info.calls():
            if name in DEPRECATED_TIME:
                yield ctx.at(
                    "MCB010",
                    info,
                    call,
                    f"{name.removeprefix('datetime.')}() is deprecated since Python 3.12 and "
                    "returns a naive datetime",
                    f"use {DEPRECATED_TIME[name]}",
                )
                continue
            weak = _weak_hash(call, name)
            if weak:
                yield ctx.at(
                    "MCB010",
                    info,
                    call,
                    f"{weak}() without usedforsecurity=False fails on FIPS-enabled hosts",
                    "pass usedforsecurity=False when the hash is not a security control",
                )
