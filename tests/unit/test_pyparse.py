"""pyparse: user code read with the grammar of the target Python, not the running one."""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpbundle.base.interpreters import find_interpreter
from mcpbundle.plan import python_parse as pyparse
from mcpbundle.plan.python_parse import TargetUnavailable, parse_module, rebuild
from mcpbundle.plan.python_parse_worker import dump
from support.targetpython import (
    RUNNING,
    fake_python,
    isolated_env,
    newer_python,
    next_version_sample,
    private_bin,
)

RUNNING_TEXT = f"{RUNNING[0]}.{RUNNING[1]}"


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No interpreter or worker remembered from another test, before or after."""
    pyparse.close_workers()
    find_interpreter.cache_clear()
    yield monkeypatch
    pyparse.close_workers()
    find_interpreter.cache_clear()


def _only(monkeypatch: pytest.MonkeyPatch, bin_dir: Path, home: Path) -> None:
    for key, value in isolated_env(bin_dir, home).items():
        monkeypatch.setenv(key, value)


def test_no_target_and_the_running_target_parse_as_ast_parse() -> None:
    source = "import os\nx = os.getenv('X')\n"
    expected = ast.dump(ast.parse(source))
    assert ast.dump(parse_module(source, "m.py", None)) == expected
    assert ast.dump(parse_module(source.encode(), "m.py", RUNNING_TEXT)) == expected


def test_an_older_target_rejects_syntax_it_lacks() -> None:
    match = "match x:\n    case 1:\n        pass\n"
    parse_module(match, "m.py", "3.10")
    with pytest.raises(SyntaxError, match=r"3\.10"):
        parse_module(match, "m.py", "3.9")


def test_a_real_syntax_error_is_a_syntax_error() -> None:
    with pytest.raises(SyntaxError) as info:
        parse_module("def f(:\n", "m.py", None)
    assert info.value.lineno == 1
    with pytest.raises(SyntaxError):  # null bytes: SyntaxError on every Python
        parse_module(b"x = 1\0\n", "m.py", None)


def test_rebuild_round_trips_what_the_worker_dumps() -> None:
    source = (
        "async def f(a, /, b=1, *c, d, **e) -> bytes:\n"
        "    x = {1: b'\\x00', **e}\n"
        "    y = 1j + 2.5 + ...\n"
        "    match x:\n"
        "        case {1: [_, *rest]} | None:\n"
        "            return f'{x!r:>{10}}'\n"
        "    return b'\\xff'\n"
    )
    tree = ast.parse(source)
    data = json.loads(json.dumps(dump(tree)))
    assert ast.dump(rebuild(data), include_attributes=True) == ast.dump(
        tree, include_attributes=True
    )


def _at(line: int, **node: object) -> dict[str, object]:
    return {"lineno": line, "col_offset": 0, "end_lineno": line, "end_col_offset": 5, **node}


def test_nodes_this_python_lacks_map_to_the_nearest_it_has() -> None:
    name = _at(1, _t="Name", _k="expr", id="UserId", ctx={"_t": "Store", "_k": "expr_context"})
    alias = _at(
        1,
        _t="TypeAlias",
        _k="stmt",
        name=name,
        type_params=[_at(1, _t="TypeVar", _k="type_param", name="T")],
        value=_at(1, _t="Name", _k="expr", id="int", ctx={"_t": "Load", "_k": "expr_context"}),
    )
    template = _at(2, _t="Assign", _k="stmt", targets=[], value=_at(2, _t="TemplateStr", _k="expr"))
    statement = _at(3, _t="FutureStatement", _k="stmt")
    function = _at(
        4,
        _t="FunctionDef",
        _k="stmt",
        name="f",
        args={"_t": "arguments", "_k": "arguments", "args": [], "defaults": []},
        body=[_at(4, _t="Pass", _k="stmt")],
        decorator_list=[],
        type_params=[_at(4, _t="TypeVar", _k="type_param", name="T")],
    )
    module = {"_t": "Module", "_k": "mod", "body": [alias, template, statement, function]}
    tree = rebuild(module)
    assert isinstance(tree, ast.Module)
    first, second, third, fourth = tree.body
    assert isinstance(first, ast.Assign)
    assert [ast.unparse(t) for t in first.targets] == ["UserId"]
    assert isinstance(first.targets[0].ctx, ast.Store)
    assert (first.lineno, ast.unparse(first.value)) == (1, "int")
    assert isinstance(second, ast.Assign)
    assert isinstance(second.value, ast.Constant)
    assert second.value.value is None
    assert (second.value.lineno, second.value.end_col_offset) == (2, 5)
    assert isinstance(third, ast.Pass)
    assert third.lineno == 3
    assert isinstance(fourth, ast.FunctionDef)
    assert fourth.name == "f"


def test_no_target_interpreter_is_target_unavailable(
    fresh: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    found = next_version_sample()
    if found is None:
        pytest.skip(f"no syntax sample for a Python newer than {RUNNING_TEXT}")
    version, sample = found
    _only(fresh, private_bin(tmp_path, None), tmp_path)
    with pytest.raises(TargetUnavailable) as info:
        parse_module(sample, "server.py", version)
    assert info.value.reason == f"no python{version} found"
    assert f"install Python {version}" in str(info.value)
    assert str(info.value).startswith("server.py: ")
    parse_module("x = 1\n", "ok.py", version)  # what the running grammar reads needs nothing


def test_a_target_interpreter_that_dies_is_target_unavailable(
    fresh: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    found = next_version_sample()
    if found is None:
        pytest.skip(f"no syntax sample for a Python newer than {RUNNING_TEXT}")
    version, sample = found
    _only(fresh, fake_python(tmp_path, version, "exit 3"), tmp_path)
    with pytest.raises(TargetUnavailable, match="stopped while parsing"):
        parse_module(sample, "server.py", version)


def test_the_worker_protocol_under_a_stand_in_interpreter(
    fresh: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A "python3.N" that is really the running interpreter: the worker answers with
    # this grammar, so a file it rejects comes back as the worker's SyntaxError.
    found = next_version_sample()
    if found is None:
        pytest.skip(f"no syntax sample for a Python newer than {RUNNING_TEXT}")
    version, sample = found
    _only(fresh, fake_python(tmp_path, version, f'exec {sys.executable} "$@"'), tmp_path)
    with pytest.raises(SyntaxError) as info:
        parse_module("x = 1\n" + sample, "server.py", version)
    assert info.value.filename == "server.py"
    assert info.value.lineno == 2


def test_target_only_syntax_parses_under_the_target(
    fresh: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = newer_python()
    if target is None:
        pytest.skip(f"no Python newer than {RUNNING_TEXT} with a syntax sample is installed")
    _only(fresh, private_bin(tmp_path, target), tmp_path)
    source = target.sample + "mcp = object()\n"
    with pytest.raises(SyntaxError):
        ast.parse(source)  # the running grammar rejects it
    tree = parse_module(source, "server.py", target.version)
    last = tree.body[-1]
    assert isinstance(last, ast.Assign)
    assert ast.unparse(last) == "mcp = object()"
    assert last.lineno == source.count("\n")
    with pytest.raises(SyntaxError) as info:  # and the target's own errors still are errors
        parse_module(target.sample + "def f(:\n", "bad.py", target.version)
    assert info.value.lineno == target.sample.count("\n") + 1
    # one worker per target and run, answers cached by content
    worker = pyparse._workers[target.version]
    assert worker is not None
    parse_module(source, "again.py", target.version)
    assert pyparse._workers[target.version] is worker
