"""Where `build --branch` pushes: --push, --push-to, [bundle.deploy] and [servers.x] push-to."""

from __future__ import annotations

import pytest

from mcpbundle.base.errors import UsageError
from mcpbundle.config.push_targets import (
    Targets,
    check_distinct,
    is_split,
    target_problem,
    targets_for,
)

EACH = "git@github.com:acme/{server}-deploy.git:main"


def _for(**kwargs: object) -> Targets:
    base: dict[str, object] = {
        "pushing": True, "push_remote": None, "cli_push_to": None, "config_push_to": None,
    }  # fmt: skip
    base.update(kwargs)
    return targets_for(**base)  # type: ignore[arg-type]


def test_no_push_flag_pushes_nowhere_even_with_configured_targets() -> None:
    assert _for(pushing=False, config_push_to=EACH, server="ops") == Targets()


def test_bare_push_goes_to_origin_only_without_a_configured_target() -> None:
    assert _for(push_remote="") == Targets(remote="origin")
    assert _for(push_remote="", config_push_to=EACH, server="ops") == Targets(
        push_to="git@github.com:acme/ops-deploy.git:main"
    )
    own = "file:///srv/ops.git:main"
    assert _for(push_remote="", own=own, server="ops") == Targets(push_to=own)
    assert _for(push_remote="", config_push_to=EACH, own=own, server="ops").push_to == own


def test_named_remote_and_cli_push_to() -> None:
    assert _for(push_remote="up", config_push_to="x:main") == Targets(remote="up", push_to="x:main")
    cli = _for(push_remote="", cli_push_to="y:main", config_push_to="x:main")
    assert cli == Targets(remote="origin", push_to="y:main")  # CLI beats the config
    assert _for(cli_push_to=EACH, server="sales").push_to == (
        "git@github.com:acme/sales-deploy.git:main"
    )


def test_split_follows_the_placeholder_or_a_per_server_target() -> None:
    assert not is_split(False, "origin:main", None, {"ops": None})
    assert is_split(True, None, None, {})
    assert is_split(False, None, EACH, {"ops": None})
    assert not is_split(False, "origin:main", EACH, {"ops": None})  # the CLI one is in effect
    assert is_split(False, None, None, {"ops": "x:main"})


def test_two_servers_may_not_share_a_target() -> None:
    check_distinct({"a": Targets(push_to="x:a"), "b": Targets(push_to="x:b")})
    with pytest.raises(UsageError, match="would both push to"):
        check_distinct({"a": Targets(push_to="x:main"), "b": Targets(push_to="x:main")})


@pytest.mark.parametrize(
    ("value", "ok"),
    [(EACH, True), ("origin:main", True), ("origin", False), ("x:{name}", False),
     ("a\nb:main", False), ("https://h/{server}.git:deploy", True)],
)  # fmt: skip
def test_target_problem(value: str, ok: bool) -> None:
    assert (target_problem(value) is None) is ok
