"""The reference document's patterns, verbatim (fixtures/reference_*.txt).

Every INCORRECT pattern is found with the right code and line; every CORRECT
pattern is free of errors (and its warnings/infos are exactly the expected ones).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from checkcases import load_cases

from mcpbundle.check.engine import run_checks

INCORRECT = load_cases("reference_incorrect.txt")
CORRECT = load_cases("reference_correct.txt")


def _show(findings: object) -> str:
    return "\n".join(f"{f.file}:{f.line}: {f.code} {f.severity} {f.message}" for f in findings)  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", INCORRECT, ids=[c.name for c in INCORRECT])
def test_incorrect_pattern_is_found(case: object, tmp_path: Path) -> None:
    findings = run_checks([case.target(tmp_path)])  # type: ignore[attr-defined]
    got = {(f.code, f.line) for f in findings}
    for code, line, severity in case.expect:  # type: ignore[attr-defined]
        assert (code, line) in got, _show(findings)
        if severity is not None:
            assert (code, line, severity) in {(f.code, f.line, f.severity) for f in findings}


@pytest.mark.parametrize("case", CORRECT, ids=[c.name for c in CORRECT])
def test_correct_pattern_has_no_errors(case: object, tmp_path: Path) -> None:
    findings = run_checks([case.target(tmp_path)])  # type: ignore[attr-defined]
    assert not [f for f in findings if f.severity == "error"], _show(findings)
    got = sorted((f.code, f.line) for f in findings)
    assert got == sorted((c, line) for c, line, _ in case.expect), _show(findings)  # type: ignore[attr-defined]
