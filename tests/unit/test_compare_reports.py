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


def _tags(style: str, text: str) -> str:
    """A painter that shows where colour goes."""
    return f"<{style}>{text}</>"


def test_colour_marks_levels_servers_and_the_summary_line() -> None:
    """Issue 20: levels, paths and the summary line in colour, as check's report."""
    assert format_diff(DIFF, "text", paint=_tags).splitlines() == [
        "<path>customer</>: <ok>no change</>",
        "<path>ops</>: 3 changes",
        "  <error>breaking</>    tool 'service_name': parameter 'display_name' renamed to 'label'",
        "  <warning>compatible</>  tool 'health_check': optional parameter 'verbose' added",
        "  <info>info</>        tool 'duration_seconds': description changed",
        "<path>ops2</>: <warning>new server</>",
        "<summary>against deploy (1a2b3c4): 1 breaking, 2 compatible, 1 info</>",
    ]
    for fmt in ("json", "markdown", "github"):  # only the text format is coloured
        assert format_diff(DIFF, fmt, paint=_tags) == format_diff(DIFF, fmt)


def test_colour_marks_drift_as_an_error_and_its_paths() -> None:
    assert format_drift(_drift(drifted=True), paint=_tags).splitlines() == [
        "<path>deploy</>: tip 0123456, rebuilt from source 0123456",
        "  <path>customer</>: <ok>no drift</>",
        "  <path>ops</>: <error>1 path differs</>",
        "    <path>server-ops/src/server.py</>: differs from a rebuild",
        "<summary>drift: 1 path differs on deploy</>",
    ]
