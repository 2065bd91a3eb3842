"""What a ``sys.path`` edit adds, read statically.

``sys.path.insert(0, os.path.join(os.path.dirname(__file__), "src"))``,
``sys.path.append(str(Path(__file__).resolve().parent / "lib"))`` and
``sys.path.append("src")`` are evaluated to a :class:`Location`: a directory
relative to the bundle root (anchored at ``__file__``, so it means the same in
the runtime) or relative to the working directory (which the runtime does not
set to the server's folder). Anything else is unknown (None).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from mcpbundle.check.context import ModuleInfo

SYS_PATH_MUTATORS = frozenset(
    {
        "sys.path.append",
        "sys.path.insert",
        "sys.path.extend",
        "sys.path.__setitem__",
        "site.addsitedir",
    }
)
_SAME = frozenset(
    {
        "os.path.abspath",
        "os.path.realpath",
        "os.path.normpath",
        "os.path.expanduser",
        "os.fspath",
        "str",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "Path",
    }
)
_CWD = frozenset({"os.getcwd", "pathlib.Path.cwd", "Path.cwd"})
_MAX_DEPTH = 12


@dataclass(frozen=True)
class Location:
    """Where a ``sys.path`` entry points: a path below the bundle root or the working directory."""

    anchor: Literal["file", "cwd"]
    parts: tuple[str, ...]  # from the bundle root ("file") or the working directory ("cwd")

    @property
    def dir(self) -> str:
        return "/".join(self.parts)


@dataclass(frozen=True)
class PathEdit:
    """One edit of ``sys.path`` in the code, and the entry it adds when check can tell."""

    node: ast.AST
    text: str  # the edit as written (shortened)
    added: tuple[Location | None, ...]  # what it puts on sys.path; None: not known statically


def _join(base: Location | None, parts: list[str]) -> Location | None:
    if base is None:
        return None
    out = list(base.parts)
    for part in parts:
        for piece in part.replace("\\", "/").split("/"):
            if piece in {"", "."}:
                continue
            if piece == "..":
                if out and out[-1] != "..":
                    out.pop()
                elif base.anchor == "cwd":
                    out.append("..")
                else:
                    return None  # above the bundle root: outside what ships
            else:
                out.append(piece)
    return Location(base.anchor, tuple(out))


def _parent(loc: Location | None, times: int = 1) -> Location | None:
    return _join(loc, [".."] * times)


def _literal(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def _bindings(info: ModuleInfo) -> dict[str, ast.expr]:
    """Module-level names assigned exactly once (``ROOT = Path(__file__).parent``)."""
    seen: dict[str, list[ast.expr]] = {}
    assert info.tree is not None
    for stmt in info.tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    seen.setdefault(target.id, []).append(stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            seen.setdefault(stmt.target.id, []).append(stmt.value)
    return {name: values[0] for name, values in seen.items() if len(values) == 1}


class _Evaluator:
    def __init__(self, info: ModuleInfo) -> None:
        self.info = info
        self.names = _bindings(info)

    def eval(self, expr: ast.expr, depth: int = 0) -> Location | None:
        if depth > _MAX_DEPTH:
            return None
        text = _literal(expr)
        if text is not None:
            if text.startswith(("/", "~")) or (len(text) > 1 and text[1] == ":"):
                return None  # an absolute path: nothing of the bundle
            return _join(Location("cwd", ()), [text])
        if isinstance(expr, ast.Name):
            if expr.id == "__file__":
                return Location("file", tuple(self.info.bundle_path.split("/")))
            bound = self.names.get(expr.id)
            return self.eval(bound, depth + 1) if bound is not None else None
        if isinstance(expr, ast.Call):
            return self._call(expr, depth)
        if isinstance(expr, ast.Attribute) and expr.attr == "parent":
            return _parent(self.eval(expr.value, depth + 1))
        if (
            isinstance(expr, ast.Subscript)
            and isinstance(expr.value, ast.Attribute)
            and expr.value.attr == "parents"
            and isinstance(expr.slice, ast.Constant)
            and isinstance(expr.slice.value, int)
        ):
            return _parent(self.eval(expr.value.value, depth + 1), expr.slice.value + 1)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div | ast.Add):
            right = _literal(expr.right)
            if right is None:
                return None
            if isinstance(expr.op, ast.Add) and not right.startswith("/"):
                return None  # only os.path.dirname(__file__) + "/src" adds a path part
            return _join(self.eval(expr.left, depth + 1), [right])
        return None

    def _call(self, call: ast.Call, depth: int) -> Location | None:
        name = self.info.qualname(call.func)
        args = call.args
        if name in _CWD and not args:
            return Location("cwd", ())
        if name == "os.path.dirname" and len(args) == 1:
            return _parent(self.eval(args[0], depth + 1))
        if name in _SAME and len(args) == 1:
            return self.eval(args[0], depth + 1)
        if name == "os.path.join" and args:
            rest = [_literal(a) for a in args[1:]]
            if any(r is None for r in rest):
                return None
            return _join(self.eval(args[0], depth + 1), [r for r in rest if r is not None])
        func = call.func
        if isinstance(func, ast.Attribute):
            if func.attr in {"resolve", "absolute", "expanduser"} and not args:
                return self.eval(func.value, depth + 1)
            if func.attr == "joinpath":
                rest = [_literal(a) for a in args]
                if any(r is None for r in rest):
                    return None
                return _join(self.eval(func.value, depth + 1), [r for r in rest if r is not None])
        return None


def _added(info: ModuleInfo, evaluator: _Evaluator, node: ast.AST) -> tuple[Location | None, ...]:
    if not isinstance(node, ast.Call):
        return (None,)  # sys.path = [...] / sys.path[0:0] = [...]
    name = info.qualname(node.func)
    if name == "sys.path.insert" and len(node.args) == 2:
        return (evaluator.eval(node.args[1]),)
    if name in {"sys.path.append", "site.addsitedir"} and len(node.args) == 1:
        return (evaluator.eval(node.args[0]),)
    if name == "sys.path.extend" and len(node.args) == 1:
        items = node.args[0]
        if isinstance(items, ast.List | ast.Tuple):
            return tuple(evaluator.eval(e) for e in items.elts)
    return (None,)


_EDITS: dict[int, tuple[ModuleInfo, tuple[PathEdit, ...]]] = {}


def sys_path_edits(info: ModuleInfo) -> tuple[PathEdit, ...]:
    """Every change of ``sys.path`` that runs when the module is imported or run (once per
    parsed module: a vendored library's module is shared by every server that ships it)."""
    known = _EDITS.get(id(info))
    if known is None or known[0] is not info:
        if len(_EDITS) >= 4096:  # a long-lived process (tests) keeps no module forever
            _EDITS.clear()
        known = _EDITS[id(info)] = (info, tuple(_sys_path_edits(info)))
    return known[1]


def _sys_path_edits(info: ModuleInfo) -> Iterator[PathEdit]:
    evaluator: _Evaluator | None = None
    for node, scope in info.of(ast.Call, ast.Assign, ast.AugAssign, ast.AnnAssign):
        if scope.main_guard:
            continue
        found = False
        if isinstance(node, ast.Call) and info.qualname(node.func) in SYS_PATH_MUTATORS:
            found = True
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                base = target.value if isinstance(target, ast.Subscript) else target
                if info.qualname(base) == "sys.path":
                    found = True
                    break
        if not found:
            continue
        evaluator = evaluator or _Evaluator(info)
        text = ast.unparse(node)
        text = text if len(text) <= 70 else text[:67] + "..."
        yield PathEdit(node=node, text=text, added=_added(info, evaluator, node))
