"""The environment variables a bundle's code reads, found statically (no import).

One plain analysis that ``check`` (MCB006/MCB007) and the ``.mcpb`` writer (one
``user_config`` entry per variable) both call, so they never disagree:

- direct reads by name: ``os.environ["X"]`` (no default: ``KeyError`` when unset),
  ``os.getenv("X"[, default])``, ``os.environ.get("X"[, default])``,
  ``os.environ.setdefault("X", default)``, through any import alias
  (``from os import environ``, ``import os as o``);
- reads through a wrapper: a module-level function that passes one of its
  parameters as the name to such a read (``def env_str(name, default): return
  os.getenv(name, default)``), or to another wrapper, called anywhere in the bundle
  with a string constant for that parameter (``env_str("OPS_ENVIRONMENT", "dev")``).
  A call matches a wrapper by its qualified name: in the wrapper's own module, or
  through an import of that module or of a package above it (a re-export).

``.env.example`` files are read by :func:`env_example_values`: ``NAME=value`` and
commented ``# NAME=value`` lines (values are returned for defaults; callers decide
which to use).
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from mcpbundle.plan.ast_walk import statements, walk

ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault"})
_ENV_LINE = re.compile(r"^\s*(#)?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")
_MAX_ROUNDS = 8  # wrappers of wrappers of ...: deep enough for real code


@dataclass(frozen=True, kw_only=True)
class EnvRead:
    """A read of an environment variable by a constant name, and its default if any."""

    file: str  # the module's path inside the bundle (as given to find_env_reads)
    node: ast.AST  # the subscript or call that reads it (line and column for findings)
    name: str
    subscript: bool  # a direct os.environ["X"]
    default: bool  # read with a default (a getter given one, or a wrapper whose read has one)
    via: str | None = None  # the wrapper function called, when not a direct read


@dataclass(frozen=True)
class _Wrapper:
    """A function of the bundle that reads the variable named by one of its parameters."""

    file: str
    function: str
    index: int  # positional index of the name parameter
    param: str
    default: bool


def import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> what it stands for, from every import in the module."""
    return _aliases(n for n in statements(tree) if isinstance(n, ast.Import | ast.ImportFrom))


def _aliases(imports: Iterable[ast.Import | ast.ImportFrom]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def qualname(expr: ast.expr, aliases: Mapping[str, str]) -> str | None:
    """``o.environ.get`` -> ``os.environ.get`` through the imports (a bare unknown name
    resolves to itself)."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(aliases.get(expr.id, expr.id))
    return ".".join(reversed(parts))


def find_env_reads(modules: Sequence[tuple[str, ast.Module]]) -> list[EnvRead]:
    """Every read of an environment variable by a constant name, in file and source order.

    ``modules``: ``(bundle path, parsed module)`` pairs, the bundle's Python files. Each
    tree is walked once per process however many bundles ship it (:func:`_facts`)."""
    facts = {path: _facts(tree) for path, tree in modules}
    aliases: dict[str, Mapping[str, str]] = {p: fact.aliases for p, fact in facts.items()}
    wrappers = _wrappers(modules, aliases)
    reads: list[EnvRead] = []
    for path, _tree in sorted(modules, key=lambda m: m[0]):
        fact = facts[path]
        found = [
            EnvRead(file=path, node=node, name=name, subscript=subscript, default=default)
            for node, name, subscript, default in fact.direct
        ]
        found += _wrapper_reads(path, fact.calls, aliases[path], wrappers)
        found.sort(key=lambda r: (getattr(r.node, "lineno", 0), getattr(r.node, "col_offset", 0)))
        reads.extend(found)
    return reads


@dataclass(frozen=True)
class _Facts:
    """What the analysis needs of one module, from one walk of it."""

    aliases: dict[str, str]
    direct: tuple[tuple[ast.AST, str, bool, bool], ...]  # node, name, subscript, default
    calls: tuple[ast.Call, ...]  # every call, in walk order
    # top-level function (by id) -> its subscripts and calls, in walk order
    bodies: dict[int, tuple[ast.AST, ...]]
    # functions reading the variable a parameter names: name, index, parameter, default
    own_wrappers: tuple[tuple[str, int, str, bool], ...]


_FACTS: dict[int, tuple[ast.Module, _Facts]] = {}
_MAX_FACTS = 4096


def _facts(tree: ast.Module) -> _Facts:
    """The facts of ``tree``, computed once per tree object (a library file that every
    server vendors is parsed once and shared, so it is walked once too)."""
    known = _FACTS.get(id(tree))
    if known is not None and known[0] is tree:
        return known[1]
    imports: list[ast.Import | ast.ImportFrom] = []
    reads: list[ast.Subscript | ast.Call] = []
    for node in walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(node)
        elif isinstance(node, ast.Subscript | ast.Call):
            reads.append(node)
    aliases = _aliases(imports)
    direct: list[tuple[ast.AST, str, bool, bool]] = []
    calls = tuple(node for node in reads if isinstance(node, ast.Call))
    for node in reads:
        name = _read_name(node, aliases)
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            subscript = isinstance(node, ast.Subscript)
            direct.append((node, name.value, subscript, not subscript and _has_default(node)))
    bodies = _function_bodies(tree, reads)
    own: dict[str, tuple[str, int, str, bool]] = {}
    for func in _functions(tree):
        if func.name in own:
            continue
        params = _params(func) + [a.arg for a in func.args.kwonlyargs]
        hit = _reads_param("", bodies[id(func)], params, aliases, ())
        if hit is not None:
            param, default = hit
            positional = _params(func)
            index = positional.index(param) if param in positional else -1
            own[func.name] = (func.name, index, param, default)
    fact = _Facts(
        aliases=aliases,
        direct=tuple(direct),
        calls=calls,
        bodies=bodies,
        own_wrappers=tuple(own.values()),
    )
    if len(_FACTS) >= _MAX_FACTS:  # a long-lived process (tests) keeps no tree forever
        _FACTS.clear()
    _FACTS[id(tree)] = (tree, fact)
    return fact


def _function_bodies(
    tree: ast.Module, nodes: Sequence[ast.Subscript | ast.Call]
) -> dict[int, tuple[ast.AST, ...]]:
    """Top-level function (by id) -> the ``nodes`` in it, decorators, defaults and
    annotations included, in ``walk(function)``'s order, without walking it again.

    Top-level statements never share lines with a function (nothing follows a ``def`` on
    its line but its own body, and a decorator opens its line), so a function's nodes are
    those between its first decorator's line and its last line; and a breadth-first walk of
    the module, kept to one subtree, is that subtree's walk, in the same order."""
    functions = list(_functions(tree))
    starts = [min((d.lineno for d in f.decorator_list), default=f.lineno) for f in functions]
    order = sorted(range(len(functions)), key=lambda i: starts[i])
    firsts = [starts[i] for i in order]
    found: dict[int, list[ast.AST]] = {id(f): [] for f in functions}
    for node in nodes:
        at = bisect.bisect_right(firsts, node.lineno) - 1
        if at >= 0:
            func = functions[order[at]]
            if node.lineno <= (func.end_lineno or func.lineno):
                found[id(func)].append(node)
    return {key: tuple(value) for key, value in found.items()}


def _read_name(node: ast.AST, aliases: Mapping[str, str]) -> ast.expr | None:
    """The expression naming the variable, when ``node`` reads the environment."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and qualname(node.value, aliases) == "os.environ"
    ):
        return node.slice
    if isinstance(node, ast.Call) and node.args and qualname(node.func, aliases) in ENV_GETTERS:
        return node.args[0]
    return None


def _has_default(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    return len(node.args) >= 2 or any(k.arg == "default" for k in node.keywords)


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _params(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in (*func.args.posonlyargs, *func.args.args)]


def _wrappers(
    modules: Sequence[tuple[str, ast.Module]], aliases: Mapping[str, Mapping[str, str]]
) -> list[_Wrapper]:
    """Functions that read the variable their parameter names (to a fixed point)."""
    found: dict[tuple[str, str], _Wrapper] = {}
    for path, tree in modules:  # the first round: reads of a parameter, known per tree
        for name, index, param, default in _facts(tree).own_wrappers:
            found[(path, name)] = _Wrapper(path, name, index, param, default)
    for _ in range(_MAX_ROUNDS - 1 if found else 0):  # wrappers of those, and so on
        known = list(found.values())
        before = len(found)
        for path, tree in modules:
            for func in _functions(tree):
                if (path, func.name) in found:
                    continue
                params = _params(func) + [a.arg for a in func.args.kwonlyargs]
                nodes = _facts(tree).bodies[id(func)]
                hit = _reads_param(path, nodes, params, aliases[path], known)
                if hit is not None:
                    param, default = hit
                    positional = _params(func)
                    index = positional.index(param) if param in positional else -1
                    found[(path, func.name)] = _Wrapper(path, func.name, index, param, default)
        if len(found) == before:
            break
    return sorted(found.values(), key=lambda w: (w.file, w.function))


def _reads_param(
    path: str,
    nodes: Sequence[ast.AST],
    params: Sequence[str],
    aliases: Mapping[str, str],
    wrappers: Sequence[_Wrapper],
) -> tuple[str, bool] | None:
    """The parameter a function reads the environment by (``nodes``: the function's
    subscripts and calls in walk order), and whether that read has a default."""
    for node in nodes:
        name = _read_name(node, aliases)
        if isinstance(name, ast.Name) and name.id in params:
            return name.id, not isinstance(node, ast.Subscript) and _has_default(node)
        if isinstance(node, ast.Call) and wrappers:
            wrapper = _called_wrapper(path, node, aliases, wrappers)
            arg = _name_argument(node, wrapper) if wrapper is not None else None
            if wrapper is not None and isinstance(arg, ast.Name) and arg.id in params:
                return arg.id, wrapper.default
    return None


def _wrapper_reads(
    path: str, calls: Sequence[ast.Call], aliases: Mapping[str, str], wrappers: Sequence[_Wrapper]
) -> Iterator[EnvRead]:
    if not wrappers:
        return
    for node in calls:
        wrapper = _called_wrapper(path, node, aliases, wrappers)
        arg = _name_argument(node, wrapper) if wrapper is not None else None
        if wrapper is not None and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            yield EnvRead(
                file=path,
                node=node,
                name=arg.value,
                subscript=False,
                default=wrapper.default,
                via=wrapper.function,
            )


def _name_argument(call: ast.Call, wrapper: _Wrapper) -> ast.expr | None:
    if 0 <= wrapper.index < len(call.args):
        arg = call.args[wrapper.index]
        return None if isinstance(arg, ast.Starred) else arg
    return next((k.value for k in call.keywords if k.arg == wrapper.param), None)


def _called_wrapper(
    path: str, call: ast.Call, aliases: Mapping[str, str], wrappers: Sequence[_Wrapper]
) -> _Wrapper | None:
    called = qualname(call.func, aliases)
    if called is None:
        return None
    module, _, function = called.rpartition(".")
    for wrapper in wrappers:
        if wrapper.function != function:
            continue
        if not module:
            if wrapper.file == path:
                return wrapper
            continue
        if any(_within(module, name) for name in module_names(wrapper.file)):
            return wrapper
    return None


def _within(module: str, name: str) -> bool:
    return name == module or name.startswith(module + ".")


def module_names(bundle_path: str) -> list[str]:
    """The dotted names a file may be imported as, from any directory above it:
    ``src/shared_utils/settings.py`` -> ``settings``, ``shared_utils.settings``,
    ``src.shared_utils.settings`` (``__init__.py`` names its package)."""
    parts = list(PurePosixPath(bundle_path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return [".".join(parts[i:]) for i in range(len(parts) - 1, -1, -1) if parts[i:]]


def env_example_values(texts: Iterable[str]) -> dict[str, str]:
    """``NAME -> value`` from ``.env.example`` texts (commented ``# NAME=`` lines count;
    the first file naming a variable wins; quotes around a value are removed)."""
    values: dict[str, str] = {}
    for text in texts:
        for line in text.splitlines():
            match = _ENV_LINE.match(line)
            if match is None or match.group(2) in values:
                continue
            values[match.group(2)] = _value(match.group(3).strip())
    return values


def _value(text: str) -> str:
    """``"a b"  # note`` -> ``a b``; ``value # note`` -> ``value``."""
    quote = text[:1]
    if quote in ("'", '"') and quote in text[1:]:
        return text[1 : text.index(quote, 1)]
    return text.split(" #", 1)[0].strip()


def documented_names(texts: Iterable[str]) -> set[str]:
    """The variables ``.env.example`` texts document."""
    return set(env_example_values(texts))
