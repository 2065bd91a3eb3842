"""What ``mcpbundle ci github`` takes from the config: the workflow's settings and where
the workflow file goes (the repository's root, which may lie above ``mcpbundle.toml``)."""

from __future__ import annotations

import os
from pathlib import Path

from mcpbundle.cli.ci_template import WorkflowSettings
from mcpbundle.config.settings import Config
from mcpbundle.git.worktree import git_root


def workflow_root(config: Config) -> Path:
    """The top of the git work tree holding the config (its directory outside git)."""
    top = git_root(str(config.root))
    return Path(top) if top is not None else config.root


def settings_for(
    config: Config | None, *, python: str | None, install: str | None, split: bool
) -> WorkflowSettings:
    """Command line, then ``[ci]``, then ``[bundle]``, then the defaults."""
    if config is None:
        defaults = WorkflowSettings()
        return WorkflowSettings(
            python=python or defaults.python, install=install or defaults.install, split=split
        )
    ci = config.ci
    directory = ci.working_directory
    if directory is None:
        rel = os.path.relpath(config.root, workflow_root(config))
        directory = "." if rel == "." else Path(rel).as_posix()
    values = {
        "python": python or ci.python or config.bundle.python,
        "install": install or ci.install,
        "fail_on": ci.fail_on,
    }
    return WorkflowSettings(
        submodules=(workflow_root(config) / ".gitmodules").is_file(),
        branch=config.bundle.branch,
        default_branch=ci.default_branch,
        resolver=config.bundle.resolver,
        working_directory=directory,
        split=split,
        **{k: v for k, v in values.items() if v is not None},
    )
