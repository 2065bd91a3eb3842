"""A library many servers vendor without a licence is one warning, not one per server."""

from __future__ import annotations

from mcpbundle.plan.licences import licence_warnings

TAIL = "has no licence information; add a LICENSE file or [project] license"


def test_one_line_per_library_naming_its_servers_in_order() -> None:
    unlicensed = [
        ("a", "kit (libs/kit)"),
        ("b", "kit (libs/kit)"),
        ("b", "solo (libs/solo)"),
        *((f"s{i}", "wide (libs/wide)") for i in range(8)),
    ]
    assert licence_warnings(unlicensed) == [
        f"servers a, b: vendored kit (libs/kit) {TAIL}",
        f"servers.b: vendored solo (libs/solo) {TAIL}",  # one server: as it was
        f"servers s0, s1, s2, s3, s4 and 3 more: vendored wide (libs/wide) {TAIL}",
    ]
