"""What one Python file says about MCP servers, read with ``ast`` (never imported).

For ``mcpbundle init``: the module-level names bound to a new FastMCP / MCPServer
object (``mcp = FastMCP(...)``, ``FastMCP.from_openapi(...)``, ``mcp = create()``
where ``create`` is a factory), the module-level functions that build and return
one (factories), the module-level classes and their bases (``class Ours(FastMCP)``
makes ``Ours(...)`` a server too), and the module-level imports, so
:mod:`mcpbundle.init.module_index` can follow ``from .server import mcp`` from a
``__main__`` or a console script to the file that defines the server.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from mcpbundle.plan.entrypoints import SERVER_CLASSES, module_level_names, module_statements
from mcpbundle.plan.env_reads import qualname
from mcpbundle.plan.factory_args import required_arguments

_CLASS_NAMES = frozenset(name.rsplit(".", 1)[1] for name in SERVER_CLASSES)
# Class methods that return a server (FastMCP.from_openapi(...), .from_fastapi, .as_proxy).
_CONSTRUCTORS = frozenset({"from_openapi", "from_fastapi", "as_proxy"})
MAX_SOURCE_BYTES = 4 * 1024 * 1024
# What adds to a server's surface: its decorators and methods.
_REGISTERS = frozenset({
    "tool", "resource", "prompt", "add_tool", "add_resource", "add_prompt", "add_template",
    "mount", "import_server", "add_provider",
})  # fmt: skip
_COMPOSES = frozenset({"mount", "import_server"})  # server.mount(other): other is a part


@dataclass(frozen=True)
class ImportRef:
    """``from MODULE import NAME`` (``name`` None for ``import MODULE``), ``level`` dots."""

    module: str
    name: str | None
    level: int
    line: int


@dataclass(kw_only=True)
class Facts:
    """What :func:`analyze` found in one file."""

    created: dict[str, int] = field(default_factory=dict)  # name -> line: a new server
    factories: dict[str, int] = field(default_factory=dict)  # function -> line
    # factories a call with no arguments (the host's) cannot bind -> those arguments
    needs_arguments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    calls: dict[str, tuple[str, int]] = field(default_factory=dict)  # name = f(): (f, line)
    imports: dict[str, ImportRef] = field(default_factory=dict)  # local name -> where from
    imported: list[ImportRef] = field(default_factory=list)  # every module-level import
    names: dict[str, int] = field(default_factory=dict)  # every module-level name -> line
    # module-level class -> the names of its bases as written (``Base``, ``mod.Base``)
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the classes here derived from FastMCP / MCPServer, directly or through another here
    server_classes: set[str] = field(default_factory=set)
    # lines of servers created off module level: in functions (factories too), classes, guards
    inside: list[int] = field(default_factory=list)
    # names whose tools, resources or prompts this file registers (``@mcp.tool``,
    # ``mcp.add_tool(...)``, ``mcp.mount(...)``), anywhere in it
    registers: set[str] = field(default_factory=set)
    # names this file mounts or imports into a server (``mcp.mount(search)``,
    # ``await mcp.import_server(build())``: ``search``, ``build``)
    composes: set[str] = field(default_factory=set)

    @property
    def mentions_server(self) -> bool:
        return bool(self.created or self.factories or self.inside)


def analyze(source: bytes) -> Facts | None:
    """The facts of one file; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    facts = Facts(names=module_level_names(tree))
    aliases = _aliases(tree, facts)
    top = module_statements(tree.body)
    functions = {
        node.name: node for node in top if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    for name, function in functions.items():
        if _is_factory(function, aliases):
            facts.factories[name] = function.lineno
            needed = required_arguments(function)
            if needed:
                facts.needs_arguments[name] = needed
    _classes(top, aliases, facts)
    seen: set[int] = set()
    at_top: set[int] = set()  # the creating calls bound at module level
    for node in top:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        value = node.value
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            continue
        seen.add(id(node))
        if _creates_server(value, aliases):
            at_top.add(id(value))
            for name in names:
                facts.created.setdefault(name, node.lineno)
        elif isinstance(value.func, ast.Name):
            callee = value.func.id
            for name in names:
                if callee in facts.factories or callee in facts.server_classes:
                    facts.created.setdefault(name, node.lineno)
                else:
                    facts.calls.setdefault(name, (callee, node.lineno))
    for sub in ast.walk(tree):
        if isinstance(sub, ast.Call) and _creates_server(sub, aliases):
            if id(sub) not in at_top:
                facts.inside.append(sub.lineno)
        elif (
            isinstance(sub, ast.Attribute)
            and sub.attr in _REGISTERS
            and isinstance(sub.value, ast.Name)
        ):
            facts.registers.add(sub.value.id)
        if isinstance(sub, ast.Call):
            facts.composes.update(_composed(sub))
    facts.inside.sort()
    return facts


def _composed(call: ast.Call) -> list[str]:
    """What ``call`` mounts into a server: the names (or factories called) it passes to
    ``NAME.mount`` / ``NAME.import_server``, positionally (``mount("p", sub)`` in fastmcp
    2's first form) or as ``server=``."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in _COMPOSES):
        return []
    if not isinstance(func.value, ast.Name):
        return []
    passed = [*call.args, *(k.value for k in call.keywords if k.arg == "server")]
    names = []
    for value in passed:
        if isinstance(value, ast.Call) and not value.args and not value.keywords:
            value = value.func
        if isinstance(value, ast.Name):
            names.append(value.id)
    return names


def _classes(top: list[ast.stmt], aliases: dict[str, str], facts: Facts) -> None:
    """Fill ``facts.classes`` and ``facts.server_classes`` (a class derived from one defined
    above it counts: ``class Base(FastMCP)`` then ``class Traced(Base)``)."""
    for node in top:
        if not isinstance(node, ast.ClassDef):
            continue
        # a base written with its type arguments is the class it parametrizes:
        # ``class Ours(FastMCP[Ctx])`` (a class cannot derive from ``Optional[...]``)
        bases = [b.value if isinstance(b, ast.Subscript) else b for b in node.bases]
        written = tuple(text for base in bases if (text := qualname(base, {})) is not None)
        facts.classes[node.name] = written
        if any(_is_server_class(base, aliases) for base in bases) or any(
            base in facts.server_classes for base in written
        ):
            facts.server_classes.add(node.name)


def _aliases(tree: ast.Module, facts: Facts) -> dict[str, str]:
    """Local names of imported things -> their dotted import path; fills ``facts.imports``."""
    aliases: dict[str, str] = {}
    for node in module_statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                aliases[local] = alias.name if alias.asname else local
                ref = ImportRef(alias.name, None, 0, node.lineno)
                facts.imported.append(ref)
                facts.imports.setdefault(local, ref)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                if alias.name == "*":
                    continue
                local = alias.asname or alias.name
                if node.level == 0:
                    aliases[local] = f"{module}.{alias.name}"
                ref = ImportRef(module, alias.name, node.level, node.lineno)
                facts.imported.append(ref)
                facts.imports[local] = ref
    return aliases


def _is_server_class(node: ast.expr, aliases: dict[str, str]) -> bool:
    """``FastMCP``, ``fastmcp.FastMCP``, an alias of one, or the string ``"FastMCP"``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.rsplit(".", 1)[-1] in _CLASS_NAMES
    if isinstance(node, ast.Subscript):  # Optional[FastMCP] and the like are not factories
        return False
    full = qualname(node, aliases)
    if full is None:
        return False
    return full in SERVER_CLASSES or full.rsplit(".", 1)[-1] in _CLASS_NAMES


def _creates_server(call: ast.Call, aliases: dict[str, str]) -> bool:
    func = call.func
    if _is_server_class(func, aliases):
        return True
    return (
        isinstance(func, ast.Attribute)
        and func.attr in _CONSTRUCTORS
        and _is_server_class(func.value, aliases)
    )


def _is_factory(function: ast.FunctionDef | ast.AsyncFunctionDef, aliases: dict[str, str]) -> bool:
    """Annotated to return a server, or returns one it created."""
    if function.returns is not None and _is_server_class(function.returns, aliases):
        return True
    made: set[str] = set()
    returned: list[ast.expr] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            if _creates_server(node.value, aliases):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                made.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Return) and node.value is not None:
            returned.append(node.value)
    for value in returned:
        if isinstance(value, ast.Call) and _creates_server(value, aliases):
            return True
        if isinstance(value, ast.Name) and value.id in made:
            return True
    return False
