"""run_checks / format_findings / has_errors: suppression, select/ignore, formats, order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from checkcases import TargetFactory, build_target

from mcpbundle.check.engine import has_errors, run_checks
from mcpbundle.check.model import Finding
from mcpbundle.check.registry import all_codes
from mcpbundle.check.report import format_findings

SERVER = 'from fastmcp import FastMCP\n\nmcp = FastMCP(name="x")\n'
CLIENTS = (
    "import httpx\n"
    "a = httpx.AsyncClient()  # mcpbundle: ignore[MCB008]\n"
    "b = httpx.AsyncClient()  # mcpbundle: ignore[MCB001, MCB008]\n"
    "c = httpx.AsyncClient()  # mcpbundle: ignore\n"
    "d = httpx.AsyncClient()  # mcpbundle: ignore[MCB009]\n"
    "e = httpx.AsyncClient()\n"
)
REQS = {"requirements.txt": "fastmcp\nhttpx\n"}


def test_inline_suppression(make_target: TargetFactory) -> None:
    target = make_target({"src/server.py": SERVER, "src/clients.py": CLIENTS}, requirements=REQS)
    findings = run_checks([target], select=frozenset({"MCB008"}))
    assert [(f.code, f.line) for f in findings] == [("MCB008", 5), ("MCB008", 6)]


def test_suppression_in_requirements_file(make_target: TargetFactory) -> None:
    reqs = {"requirements.txt": "fastmcp\n-e ../lib  # mcpbundle: ignore[MCB003]\n-e ../x\n"}
    findings = run_checks([make_target({"src/server.py": SERVER}, requirements=reqs)])
    assert [(f.code, f.line) for f in findings] == [("MCB003", 3)]


def test_target_ignore_and_ignore_argument(make_target: TargetFactory) -> None:
    files = {"src/server.py": SERVER, "src/clients.py": "import httpx\nc = httpx.AsyncClient()\n"}
    target = make_target(files, requirements=REQS, ignore=frozenset({"MCB008"}))
    assert run_checks([target]) == []
    target = make_target(files, requirements=REQS)
    assert [f.code for f in run_checks([target])] == ["MCB008"]
    assert run_checks([target], ignore=frozenset({"MCB008"})) == []
    assert run_checks([target], ignore=frozenset({"mcb00"})) == []  # prefix, any case


def test_select(make_target: TargetFactory) -> None:
    files = {"src/server.py": "import os\nimport nowhere\nK = os.environ['K']\n"}
    target = make_target(files)
    assert {f.code for f in run_checks([target])} == {"MCB001", "MCB004", "MCB006", "MCB007"}
    assert {f.code for f in run_checks([target], select=frozenset({"MCB004"}))} == {"MCB004"}
    assert {f.code for f in run_checks([target], select=frozenset({"MCB00"}))} == {
        "MCB001",
        "MCB004",
        "MCB006",
        "MCB007",
    }


def test_syntax_error_is_a_finding_not_a_crash(make_target: TargetFactory) -> None:
    target = make_target({"src/server.py": "def f(:\n"})
    findings = run_checks([target])
    assert [(f.code, f.severity, f.line) for f in findings] == [("MCB000", "error", 1)]
    assert "does not parse" in findings[0].message
    # a file that is not UTF-8 is reported the same way
    bad = make_target({"src/server.py": SERVER, "src/x.py": "x = 1\n"})
    bad.files["src/x.py"].path.write_bytes(b"x = '\xff'\n")
    assert [f.code for f in run_checks([bad])] == ["MCB000"]


def test_findings_sorted_and_deterministic(tmp_path: Path) -> None:
    def targets() -> list:  # type: ignore[type-arg]
        return [
            build_target(
                tmp_path,
                {"src/server.py": "import nowhere\nimport alsonot\n"},
                server=name,
            )
            for name in ("zeta", "alpha")
        ]

    first = run_checks(targets())
    second = run_checks(list(reversed(targets())))
    assert first == second
    assert first == sorted(first, key=Finding.sort_key)
    assert [f.server for f in first][:3] == ["alpha"] * 3


def _sample() -> list[Finding]:
    return [
        Finding(code="MCB001", severity="error", server="a", file="a/src/server.py", line=1,
                column=1, message="no server", fix="add one"),
        Finding(code="MCB008", severity="warning", server="a", file="a/src/x.py", line=3,
                column=5, message="client, at 50%", fix="lazy"),
        Finding(code="MCB007", severity="info", server="b", file="b/src/server.py", line=2,
                column=1, message="no .env.example", fix="add it"),
    ]  # fmt: skip


def test_text_format() -> None:
    text = format_findings(_sample(), "text")
    assert text.splitlines() == [
        "a/src/server.py:1:1: MCB001 error: no server (fix: add one)",
        "a/src/x.py:3:5: MCB008 warning: client, at 50% (fix: lazy)",
        "b/src/server.py:2:1: MCB007 info: no .env.example (fix: add it)",
        "1 error, 1 warning, 1 info in 2 servers",
    ]
    assert format_findings([], "text") == "0 errors, 0 warnings in 0 servers"
    assert format_findings([], "text", servers=3) == "0 errors, 0 warnings in 3 servers"


def test_github_format() -> None:
    lines = format_findings(_sample(), "github").splitlines()
    assert lines[0] == (
        "::error file=a/src/server.py,line=1,col=1,title=MCB001::no server (fix: add one)"
    )
    assert lines[1] == (
        "::warning file=a/src/x.py,line=3,col=5,title=MCB008::client, at 50%25 (fix: lazy)"
    )
    assert lines[2].startswith("::notice file=b/src/server.py,line=2,col=1,title=MCB007::")


def test_json_format() -> None:
    text = format_findings(_sample(), "json")
    data = json.loads(text)
    assert data["summary"] == {"errors": 1, "warnings": 1, "infos": 1, "servers": 2}
    assert data["findings"][0] == {
        "code": "MCB001",
        "column": 1,
        "file": "a/src/server.py",
        "fix": "add one",
        "line": 1,
        "message": "no server",
        "server": "a",
        "severity": "error",
    }
    assert text == json.dumps(data, indent=2, sort_keys=True)


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        format_findings([], "xml")  # type: ignore[arg-type]


def test_has_errors() -> None:
    sample = _sample()
    assert has_errors(sample)
    assert not has_errors(sample[1:])
    assert not has_errors([])


def test_codes_are_the_contract() -> None:
    assert list(all_codes()) == [f"MCB{n:03d}" for n in range(15)]


def test_secret_message_masks_the_value(make_target: TargetFactory) -> None:
    token = "AKIA" + "QX7ZP2M4K9LB3TRW"  # not sequential: "ABCD…" is a placeholder
    findings = run_checks([make_target({"src/server.py": SERVER, "src/k.py": f"K = '{token}'\n"})])
    assert [f.code for f in findings] == ["MCB011"]
    assert token not in findings[0].message
    assert "AKIA…(20 chars)" in findings[0].message


def test_a_few_hundred_files_are_checked_without_false_errors(make_target: TargetFactory) -> None:
    # Speed is measured by `make bench`, never asserted here; this checks the same load is
    # handled correctly (every module resolves its imports, none is an error).
    module = (
        "import os\nimport asyncio\nimport httpx\nfrom shared import config\n\n"
        "async def tool(x: int) -> int:\n    await asyncio.sleep(0)\n"
        "    return x + int(os.getenv('N', '1'))\n"
    ) * 5  # 300 files of 40 lines
    files = {"src/server.py": SERVER, "src/shared/__init__.py": "", "src/shared/config.py": ""}
    files.update({f"src/pkg{i // 50}/mod{i}.py": module for i in range(300)})
    target = make_target(files, requirements=REQS)
    findings = run_checks([target], select=frozenset({"MCB004"}))
    assert not [f for f in findings if f.severity == "error"]


def _mcb004(make_target: TargetFactory, imports: str, requirements: str) -> list[Finding]:
    target = make_target(
        {"src/server.py": f"{imports}\n{SERVER}"},
        requirements={"requirements.txt": f"fastmcp\n{requirements}"},
    )
    return run_checks([target], select=frozenset({"MCB004"}))


def test_an_import_unlike_any_unseen_requirement_names_none_as_its_source(
    make_target: TargetFactory,
) -> None:
    """A requirement check cannot see into (not installed here) may provide a module of
    another name, so a missing import stays a warning; but a name nothing like it is not
    said to come from it."""
    (finding,) = _mcb004(make_target, "import xmltodict", "platformdirs-unseen-xyz\n")
    assert finding.severity == "warning"
    assert "assuming" not in finding.message
    assert "platformdirs-unseen-xyz" in finding.message
    assert "`xmltodict`" in finding.fix


def test_an_import_like_an_unseen_requirement_is_assumed_to_come_from_it(
    make_target: TargetFactory,
) -> None:
    (finding,) = _mcb004(make_target, "import wikipediaapi", "wikipedia-api-unseen\n")
    assert finding.severity == "warning"
    assert "assuming it comes from `wikipedia-api-unseen`" in finding.message


def test_a_shared_ending_alone_does_not_make_a_source(make_target: TargetFactory) -> None:
    # "setuptools" and "cachetools" are 0.7 alike by difflib, all of it in "tools"
    (finding,) = _mcb004(make_target, "import setuptools", "cachetools-unseen\n")
    assert "assuming" not in finding.message


def test_a_shared_prefix_alone_does_not_make_a_source(make_target: TargetFactory) -> None:
    # "aiosqlite" and "aiofile" are 0.75 alike, all of it in "aio" and the letters after
    (finding,) = _mcb004(make_target, "import aiosqlite", "aiofile-unseen\n")
    assert "assuming" not in finding.message


def test_an_import_named_as_the_start_of_a_requirement_is_guessed(
    make_target: TargetFactory,
) -> None:
    (finding,) = _mcb004(make_target, "import PIL", "pillow-unseen\n")
    assert "assuming it comes from `pillow-unseen`" in finding.message


def test_packaging_and_test_scripts_are_not_checked_for_imports(
    make_target: TargetFactory,
) -> None:
    """setup.py, conftest.py and noxfile.py run at install or test time, never on the host:
    their imports (setuptools, pytest) are not the runtime's."""
    target = make_target(
        {
            "src/server.py": SERVER,
            "src/setup.py": "from setuptools import setup\n\nsetup(name='x')\n",
            "src/conftest.py": "import pytest\n",
            "src/tools/noxfile.py": "import nox\n",
        },
        requirements={"requirements.txt": "fastmcp\n"},
    )
    assert run_checks([target], select=frozenset({"MCB004"})) == []


@pytest.mark.parametrize(
    "source",
    [
        "for _ in range(1):\n    mcp = FastMCP('a')\n",
        "match 1:\n    case 1:\n        mcp = FastMCP('a')\n",
        "(mcp := FastMCP('a'))\n",
    ],
)
def test_a_server_bound_in_a_loop_a_match_or_a_walrus_is_found(
    make_target: TargetFactory, source: str
) -> None:
    target = make_target({"src/server.py": f"from fastmcp import FastMCP\n{source}"})
    assert run_checks([target], select=frozenset({"MCB001"})) == []
