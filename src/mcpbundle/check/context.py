"""Parse each file once and share the result between rules.

:class:`ModuleInfo` holds a Python file's AST, its import aliases (so a rule can
ask for the qualified name of ``dt.utcnow`` or ``FastMCP``), and every node with
the :class:`Scope` it runs in (module level or inside a function, under a
``__main__`` guard, inside ``try/except ImportError``, under ``TYPE_CHECKING``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from mcpbundle.check.import_guards import imports_stdlib_only
from mcpbundle.check.model import CheckTarget, Finding, Severity, SourceFile
from mcpbundle.check.static_tests import static_outcome
from mcpbundle.plan.env_reads import import_aliases, qualname
from mcpbundle.plan.python_parse import TargetUnavailable, parse_module

IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True)
class Scope:
    """Where a node runs."""

    func: str | None = None  # innermost function: None (module/class body), "sync", "async"
    main_guard: bool = False  # under ``if __name__ == "__main__":``
    optional: bool = False  # in the body of ``try: ... except ImportError``
    type_checking: bool = False  # under ``if TYPE_CHECKING:``
    dead: bool = False  # a branch the host never takes (``if sys.version_info < (3, 11):``)

    @property
    def import_time(self) -> bool:
        """True when the node runs when the module is imported by the runtime."""
        return (
            self.func is None and not self.main_guard and not self.type_checking and not self.dead
        )


def is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either order)."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _catches_import_error(handlers: list[ast.ExceptHandler]) -> bool:
    for handler in handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        for t in types:
            name = t.id if isinstance(t, ast.Name) else getattr(t, "attr", None)
            if name in IMPORT_ERRORS:
                return True
    return False


_SKIP = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
_SPECIAL = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.If, ast.Try, ast.TryStar)


def _special_children(
    current: ast.AST, sc: Scope, python: str | None
) -> list[tuple[ast.AST, Scope]]:
    """Children of a node that changes the scope, in source order."""
    children: list[tuple[ast.AST, Scope]] = []
    outcome = static_outcome(current.test, python) if isinstance(current, ast.If) else None
    if isinstance(current, ast.AsyncFunctionDef | ast.FunctionDef | ast.Lambda):
        inner = replace(sc, func="async" if isinstance(current, ast.AsyncFunctionDef) else "sync")
        # decorators, defaults and annotations run in the enclosing scope
        outer: list[ast.AST] = []
        if not isinstance(current, ast.Lambda):
            outer.extend(current.decorator_list)
            if current.returns is not None:
                outer.append(current.returns)
        outer.extend(current.args.defaults)
        outer.extend(d for d in current.args.kw_defaults if d is not None)
        children.extend((c, sc) for c in outer)
        body = [current.body] if isinstance(current, ast.Lambda) else current.body
        children.extend((c, inner) for c in body)
    elif isinstance(current, ast.If) and is_main_guard(current.test):
        children.append((current.test, sc))
        guarded = replace(sc, main_guard=True)
        children.extend((c, guarded) for c in current.body)
        children.extend((c, sc) for c in current.orelse)
    elif isinstance(current, ast.If) and _is_type_checking(current.test):
        children.append((current.test, sc))
        tc = replace(sc, type_checking=True)
        children.extend((c, tc) for c in current.body)
        children.extend((c, sc) for c in current.orelse)
    elif isinstance(current, ast.If) and outcome is not None:
        children.append((current.test, sc))
        dead = replace(sc, dead=True)
        children.extend((c, sc if outcome else dead) for c in current.body)
        children.extend((c, dead if outcome else sc) for c in current.orelse)
    elif isinstance(current, ast.Try | ast.TryStar) and _catches_import_error(current.handlers):
        opt = replace(sc, optional=True)
        children.extend((c, opt) for c in current.body)
        # A handler runs when the body fails: never, when it imports the stdlib alone
        # (``import tomllib`` / ``except ImportError: import tomli as tomllib``).
        handler = replace(sc, dead=True) if imports_stdlib_only(current.body, python) else sc
        children.extend((c, handler) for c in current.handlers)
        children.extend((c, sc) for c in (*current.orelse, *current.finalbody))
    else:
        children.extend((c, sc) for c in ast.iter_child_nodes(current))
    return children


def _scoped(tree: ast.AST, python: str | None = None) -> list[tuple[ast.AST, Scope]]:
    """Every node in source (pre-)order with its scope; iterative, no recursion limit."""
    out: list[tuple[ast.AST, Scope]] = []
    append = out.append
    stack: list[tuple[ast.AST, Scope]] = [(tree, Scope())]
    pop = stack.pop
    push = stack.append
    while stack:
        node, sc = pop()
        append((node, sc))
        if isinstance(node, _SPECIAL):
            stack.extend(reversed(_special_children(node, sc, python)))
            continue
        for name in reversed(node._fields):
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in reversed(value):
                    if isinstance(item, ast.AST) and not isinstance(item, _SKIP):
                        push((item, sc))
            elif isinstance(value, ast.AST) and not isinstance(value, _SKIP):
                push((value, sc))
    return out


@dataclass(kw_only=True)
class ModuleInfo:
    """One parsed Python file."""

    bundle_path: str
    display: str
    source: str
    tree: ast.Module | None
    error: SyntaxError | None
    unparsed: TargetUnavailable | None = None  # not checked: the target grammar is unavailable
    aliases: dict[str, str] = field(default_factory=dict)
    nodes: list[tuple[ast.AST, Scope]] = field(default_factory=list)
    by_type: dict[type[ast.AST], list[tuple[ast.AST, Scope]]] = field(default_factory=dict)
    _calls: list[tuple[ast.Call, str | None, Scope]] | None = None
    # what a rule found in this file that depends on nothing else (and the key it depends
    # on): one computation per distinct file, shared by every server that ships it
    memo: dict[tuple[str, object], object] = field(default_factory=dict)

    @classmethod
    def parse(
        cls, bundle_path: str, display: str, source: str, python: str | None = None
    ) -> ModuleInfo:
        """Parse with the grammar of ``python`` (the target; None: the running Python)."""
        try:
            tree = parse_module(source, display, python)
        except SyntaxError as exc:
            return cls(
                bundle_path=bundle_path, display=display, source=source, tree=None, error=exc
            )
        except TargetUnavailable as exc:
            return cls(
                bundle_path=bundle_path,
                display=display,
                source=source,
                tree=None,
                error=None,
                unparsed=exc,
            )
        info = cls(bundle_path=bundle_path, display=display, source=source, tree=tree, error=None)
        info.nodes = _scoped(tree, python)
        for pair in info.nodes:
            info.by_type.setdefault(type(pair[0]), []).append(pair)
        info.aliases = import_aliases(tree)
        return info

    def qualname(self, expr: ast.expr) -> str | None:
        """``dt.datetime.utcnow`` -> ``datetime.datetime.utcnow`` through the imports.

        An unknown bare name resolves to itself (``requests.get`` without an import
        still reads as ``requests.get``).
        """
        return qualname(expr, self.aliases)

    def walk(self) -> Iterator[tuple[ast.AST, Scope]]:
        return iter(self.nodes)

    def of(self, *types: type[ast.AST]) -> list[tuple[ast.AST, Scope]]:
        """The nodes of exactly these types (with their scopes), in source order."""
        if len(types) == 1:
            return self.by_type.get(types[0], [])
        found = [pair for t in types for pair in self.by_type.get(t, [])]
        found.sort(key=lambda p: (getattr(p[0], "lineno", 0), getattr(p[0], "col_offset", 0)))
        return found

    def calls(self) -> list[tuple[ast.Call, str | None, Scope]]:
        """Every call with the qualified name of what it calls (computed once)."""
        if self._calls is None:
            self._calls = [
                (node, self.qualname(node.func), scope)
                for node, scope in self.by_type.get(ast.Call, [])
                if isinstance(node, ast.Call)
            ]
        return self._calls


class FileCache:
    """Parsed modules and decoded texts, shared by every target of a run."""

    def __init__(self) -> None:
        self._modules: dict[tuple[Path, str, str, str | None], ModuleInfo] = {}
        self._texts: dict[Path, str | None] = {}
        self.facts: dict[tuple[object, ...], object] = {}  # what rules learn once per run

    def text(self, path: Path, data: bytes | None = None) -> str | None:
        """The file as text (``data``: its content, not read from disk), or None when it
        is binary or unreadable."""
        if path not in self._texts:
            try:
                data = path.read_bytes() if data is None else data
            except OSError:
                self._texts[path] = None
                return None
            if b"\0" in data[:8192]:
                self._texts[path] = None
                return None
            try:
                self._texts[path] = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                self._texts[path] = None
        return self._texts[path]

    def module(self, bundle_path: str, source: SourceFile, python: str | None) -> ModuleInfo:
        key = (source.path, bundle_path, source.display, python)
        if key not in self._modules:
            text = self.text(source.path, source.data)
            if text is None:
                err = SyntaxError("file is not UTF-8 text")
                err.lineno = 1
                self._modules[key] = ModuleInfo(
                    bundle_path=bundle_path,
                    display=source.display,
                    source="",
                    tree=None,
                    error=err,
                )
            else:
                self._modules[key] = ModuleInfo.parse(bundle_path, source.display, text, python)
        return self._modules[key]


class CheckContext:
    """What the rules of one target share."""

    def __init__(
        self, target: CheckTarget, cache: FileCache, severity_of: Callable[[str], Severity]
    ) -> None:
        self.target = target
        self.cache = cache
        self.severity_of = severity_of  # a code's default severity (the registry's)
        self.memo: dict[str, object] = {}  # results rules share (e.g. env reads)

    def python_paths(self) -> list[str]:
        """The bundle's Python files the user wrote (mcpbundle's generated ones excluded)."""
        generated = self.target.generated
        return sorted(p for p in self.target.files if p.endswith(".py") and p not in generated)

    def module(self, bundle_path: str) -> ModuleInfo | None:
        """The parsed module (None when it is not a file of the bundle)."""
        source = self.target.files.get(bundle_path)
        if source is None:
            return None
        return self.cache.module(bundle_path, source, self.target.python)

    def modules(self) -> Iterator[ModuleInfo]:
        """Every Python file of the bundle that parses, in path order."""
        for path in self.python_paths():
            info = self.module(path)
            if info is not None and info.tree is not None:
                yield info

    def text(self, source: SourceFile) -> str | None:
        return self.cache.text(source.path, source.data)

    def finding(
        self,
        code: str,
        *,
        file: str,
        line: int,
        column: int = 1,
        message: str,
        fix: str,
        severity: Severity | None = None,
        span: int = 0,
    ) -> Finding:
        return Finding(
            code=code,
            severity=severity or self.severity_of(code),
            server=self.target.server,
            file=file,
            line=max(line, 1),
            column=max(column, 1),
            message=message,
            fix=fix,
            span=max(span, 0),
        )

    def at(
        self,
        code: str,
        info: ModuleInfo,
        node: ast.AST,
        message: str,
        fix: str,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding at ``node`` of ``info``."""
        line = getattr(node, "lineno", 1)
        start = getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", None)
        # a multi-line node: the text format underlines to the end of its first line
        span = end - start if end is not None and getattr(node, "end_lineno", 0) == line else 0
        return self.finding(
            code,
            file=info.display,
            line=line,
            column=start + 1,
            message=message,
            fix=fix,
            severity=severity,
            span=span,
        )
