"""Every rule against its fixture file: positive and negative cases, code AND line."""

from __future__ import annotations

from pathlib import Path

import pytest
from checkcases import FIXTURES, Case, load_cases

from mcpbundle.check.engine import run_checks
from mcpbundle.check.registry import all_codes

RULE_FILES = sorted(p.name for p in FIXTURES.glob("mcb*.txt"))
CASES = [case for name in RULE_FILES for case in load_cases(name)]


def test_one_fixture_file_per_code() -> None:
    assert [name.removesuffix(".txt").upper() for name in RULE_FILES] == list(all_codes())


@pytest.mark.parametrize("name", RULE_FILES)
def test_each_fixture_has_positive_and_negative_cases(name: str) -> None:
    cases = load_cases(name)
    assert any(case.expect for case in cases), "no positive case"
    assert any(not case.expect for case in cases), "no negative case"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_case(case: Case, tmp_path: Path) -> None:
    code = case.source.removesuffix(".txt").upper()
    findings = run_checks([case.target(tmp_path)], select=frozenset({code}))
    got = sorted((f.code, f.line) for f in findings)
    want = sorted((c, line) for c, line, _ in case.expect)
    assert got == want, "\n".join(f"{f.file}:{f.line}: {f.code} {f.message}" for f in findings)
    for c, line, severity in case.expect:
        if severity is not None:
            assert any(
                f.code == c and f.line == line and f.severity == severity for f in findings
            ), f"{c}:{line} is not a {severity}"
