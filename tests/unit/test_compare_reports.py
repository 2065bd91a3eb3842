"""The text reports of ``diff`` and ``verify --drift``: what ``-q`` keeps (issue 20)."""

from __future__ import annotations

from mcpbundle.compare.bundles import OldBundle
from mcpbundle.compare.diff import DiffReport, ServerDiff
from mcpbundle.compare.diff_report import format_diff, quiet_levels
from mcpbundle.compare.drift import BranchDrift, DriftReport, format_drift
from mcpbundle.compare.surface_diff import Change

CHANGES = (
    Change("breaking", "tool", "service_name", "parameter 'display_name' renamed to 'label'"),
    Change("compatible", "tool", "health_check", "optional parameter 'verbose' added"),
    Change("info", "tool", "duration_seconds", "description changed"),
)
DIFF = DiffReport(
    against=OldBundle(label="deploy (1a2b3c4)", found=True),
    servers=(
        ServerDiff("customer", "unchanged", ()),
        ServerDiff("ops", "changed", CHANGES),
        ServerDiff("ops2", "new", (Change("compatible", "server", "", "new server"),)),
    ),
)
SHA = "0123456789abcdef0123456789abcdef01234567"


def _drift(*, drifted: bool) -> DriftReport:
    paths = {"ops": {"server-ops/src/server.py": ("differs from a rebuild",)}} if drifted else {}
    branch = BranchDrift(branch="deploy", tip=SHA, built=SHA, source=SHA, dirty=False,
                         paths=paths, servers=("customer", "ops"))  # fmt: skip
    return DriftReport((branch,))


def test_the_full_text_report_is_unchanged() -> None:
    assert format_diff(DIFF, "text").splitlines() == [
        "customer: no change",
        "ops: 3 changes",
        "  breaking    tool 'service_name': parameter 'display_name' renamed to 'label'",
        "  compatible  tool 'health_check': optional parameter 'verbose' added",
        "  info        tool 'duration_seconds': description changed",
        "ops2: new server",
        "against deploy (1a2b3c4): 1 breaking, 2 compatible, 1 info",
    ]


def test_quiet_keeps_errors_and_warnings_qq_errors_and_what_fail_on_fails_on() -> None:
    assert quiet_levels(1, None) == {"breaking", "compatible"}
    assert quiet_levels(2, None) == {"breaking"}
    assert quiet_levels(2, "info") == {"breaking", "compatible", "info"}
    assert format_diff(DIFF, "text", levels=quiet_levels(1, None)).splitlines() == [
        "ops: 3 changes",
        "  breaking    tool 'service_name': parameter 'display_name' renamed to 'label'",
        "  compatible  tool 'health_check': optional parameter 'verbose' added",
        "ops2: new server",
    ]
    assert format_diff(DIFF, "text", levels={"breaking"}).splitlines() == [
        "ops: 3 changes",
        "  breaking    tool 'service_name': parameter 'display_name' renamed to 'label'",
    ]
    calm = DiffReport(against=DIFF.against, servers=DIFF.servers[:1])
    assert format_diff(calm, "text", levels={"breaking"}) == ""
    missing = DiffReport(against=OldBundle(label="deploy", found=False), servers=DIFF.servers[2:])
    assert format_diff(missing, "text", levels={"breaking"}) == ""
    assert format_diff(missing, "text", levels={"compatible"}) == "ops2: new server"


def test_the_other_formats_are_never_filtered() -> None:
    for fmt in ("json", "markdown", "github"):
        assert format_diff(DIFF, fmt, levels={"breaking"}) == format_diff(DIFF, fmt)


def test_quiet_drift_is_the_drifted_paths_alone() -> None:
    assert format_drift(_drift(drifted=False), quiet=True) == ""
    assert format_drift(_drift(drifted=False)).splitlines()[-1] == (
        "no drift: the deploy matches a rebuild of its source"
    )
    assert format_drift(_drift(drifted=True), quiet=True).splitlines() == [
        "deploy: tip 0123456, rebuilt from source 0123456",
        "  ops: 1 path differs",
        "    server-ops/src/server.py: differs from a rebuild",
    ]
