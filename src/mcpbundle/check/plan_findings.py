"""Plan each server for ``check`` so one broken server never hides the others.

``check`` plans what ``build`` would ship, server by server. A plan-time error
(:class:`~mcpbundle.base.errors.MCPBundleError` from :func:`mcpbundle.plan.planner.make_plan`)
becomes a finding of that server, and the server is still checked by every rule
that needs no plan. A missing module-level server object is an MCB001 finding
(the rule's, which names the function or class that creates the server), and
``[bundle] auto-fix = false`` with code that needs ``mcp<2`` is planned with the
fix applied so that MCB005 reports it as an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mcpbundle.base.errors import MCPBundleError
from mcpbundle.check.model import Finding
from mcpbundle.config.settings import Config, Server
from mcpbundle.plan.entrypoints import parse_entry, server_object
from mcpbundle.plan.fastmcp_env import environment_python
from mcpbundle.plan.planner import PlanMemo, ServerPlan, make_plan
from mcpbundle.plan.python_parse import TargetUnavailable
from mcpbundle.plan.python_target import server_target
from mcpbundle.plan.repo_files import RepoFiles

# Codes whose rules read what only a plan knows (vendored libs, final requirements).
NEEDS_PLAN = frozenset({"MCB004", "MCB005"})
_REQUIREMENT_FILES = (".txt", ".in", "pyproject.toml")
_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::\d+)?$")
_FROM = re.compile(r"\(from (?P<where>[^)]+)\)")


@dataclass(frozen=True, kw_only=True)
class Planned:
    """One server: its plan, or the error that stopped planning it."""

    name: str
    plan: ServerPlan | None
    error: MCPBundleError | None = None
    object_missing: bool = False  # the error is "no module-level server object" (MCB001)


def lenient(config: Config) -> Config:
    """``config`` with the SDK auto-fix on, so its absence is a finding, not a stop."""
    if config.bundle.auto_fix:
        return config
    return replace(config, bundle=replace(config.bundle, auto_fix=True))


def plan_servers(
    config: Config, files: RepoFiles, names: Sequence[str], memo: PlanMemo | None = None
) -> list[Planned]:
    """A :class:`Planned` for each of ``names``, in order. Planned offline, as ``validate``
    and ``list`` are: git requirements that need a clone are listed, not fetched.
    ``memo``: the build's plan cache (the plans of servers whose inputs are unchanged)."""
    relaxed = lenient(config)
    try:
        whole = make_plan(relaxed, files, only=names, keep_going=True, fetch_git=False, memo=memo)
    except MCPBundleError:  # something every server shares: say it for each of them
        return [_retry(relaxed, files, name, None) for name in names]
    planned = {s.name: s for s in whole.servers}
    return [
        Planned(name=name, plan=planned[name])
        if name in planned
        else _retry(relaxed, files, name, whole.failures.get(name))
        for name in names
    ]


def target_python(config: Config, server: Server) -> str:
    """The server's target Python, as the plan chooses it."""
    declared = environment_python(config.root, server.path, server.entrypoint)
    return server_target(
        config.root, server.path, config.bundle.python, config.display, declared
    ).version


def _lacks_object(config: Config, server: Server) -> bool:
    """The entrypoint parses but binds no configured object (none of mcp / server / app
    when none is configured) at module level."""
    entry = config.root / server.path / server.entrypoint
    display = f"{server.path}/{server.entrypoint}"
    try:
        python = target_python(config, server)
        parse_entry(entry, display, python)
    except (MCPBundleError, OSError):
        return False
    try:
        server_object(entry, display, server.object, "entrypoint", python)
    except MCPBundleError:
        return True
    return False


def _plan(config: Config, files: RepoFiles, name: str) -> ServerPlan:
    return make_plan(config, files, only=[name], fetch_git=False).servers[0]


def _retry(config: Config, files: RepoFiles, name: str, error: MCPBundleError | None) -> Planned:
    """Plan one server that failed (``error``, or None: find it out)."""
    if error is None:
        try:
            return Planned(name=name, plan=_plan(config, files, name))
        except MCPBundleError as exc:
            error = exc
    server = config.servers[name]
    missing = _lacks_object(config, server)
    return Planned(name=name, plan=None, error=error, object_missing=missing)


def error_finding(config: Config, planned: Planned) -> Finding | None:
    """The plan-time error as a finding of its server (None: another finding covers it).

    A missing server object is MCB001 (shown only when the MCB001 rule finds nothing)."""
    name, error = planned.name, planned.error
    if error is None or isinstance(error, TargetUnavailable):
        return None  # the run reports the missing interpreter once
    file, line = _location(config, name, error.where)
    if line == 0:
        line = _quoted_line(config, file, error.message)
    code = "MCB003" if file.endswith(_REQUIREMENT_FILES) else "MCB000"
    if planned.object_missing:
        code = "MCB001"
    message = error.message
    origin = _FROM.search(error.where or "")
    if origin is not None:  # "missing.txt (from requirements.txt:2)": say which file
        message = f"{(error.where or '')[: origin.start()].strip()}: {message}"
    return Finding(
        code=code,
        severity="error",
        server=name,
        file=file,
        line=line,
        column=1,
        message=f"{message} (build fails here, so {', '.join(sorted(NEEDS_PLAN))} "
        "did not run for this server)",
        fix=error.hint or "fix it and run check again",
    )


def _location(config: Config, name: str, where: str | None) -> tuple[str, int]:
    """``(repo-relative file, line)`` named by an error's ``where``."""
    server = config.servers[name]
    if not where:
        return _rel(server.path, server.entrypoint), 1
    origin = _FROM.search(where)
    text = origin.group("where") if origin else where
    match = _LINE.match(text.strip())
    file, line = (match.group("file"), int(match.group("line"))) if match else (text, 0)
    file = file.split(": ", 1)[0].strip() if ": " in file else file.strip()
    root = config.root
    if file.startswith("/"):
        try:
            file = Path(file).resolve().relative_to(root).as_posix()
        except ValueError:
            return file, line
    if not (root / file).is_file():
        for base in (server.path, _rel(server.path, _parent(server.entrypoint))):
            if (root / base / file).is_file():
                file = _rel(base, file)
                break
    if file == config.display and not line:
        line = _table_line(config, name)
    return file, line


def _quoted_line(config: Config, file: str, message: str) -> int:
    """The first line of ``file`` holding what the message quotes (a URL, a 'name'); or 1."""
    pairs = re.findall(r"'([^']+)'|(\S+://\S+)", message)  # ('name', '') or ('', url)
    quoted = [(name or url).rstrip(".,:;") for name, url in pairs]
    try:
        lines = (config.root / file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    for number, text in enumerate(lines, start=1):
        if any(q in text for q in quoted):
            return number
    return 1


def _table_line(config: Config, name: str) -> int:
    """The line of ``[servers.<name>]`` in mcpbundle.toml (1 when not found)."""
    try:
        lines = config.path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1
    table = r"\s*\.\s*".join(map(re.escape, config.key("servers").split(".")))  # tool.mcpbundle.
    header = re.compile(rf"^\s*\[\s*{table}\s*\.\s*[\"']?{re.escape(name)}[\"']?\s*\]")
    return next((i + 1 for i, text in enumerate(lines) if header.match(text)), 1)


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def _rel(*parts: str) -> str:
    return "/".join(p for p in "/".join(parts).split("/") if p not in {"", "."}) or "."
