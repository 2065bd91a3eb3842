"""The command line: parse, call, print. The one place errors become exit codes."""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mcpbundle import __version__
from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.cli.compare_commands import diff, surface
from mcpbundle.cli.completion import completion
from mcpbundle.cli.help import Group
from mcpbundle.cli.options import (
    Painter,
    State,
    build_format_options,
    document_text,
    emit_document,
    error_line,
    global_options,
    json_option,
    log,
    plain,
    servers_argument,
    strict_option,
    verbose_logging,
    verbosity_options,
    warn_all,
    warning_text,
)
from mcpbundle.cli.read_commands import check, verify
from mcpbundle.cli.support_commands import affected, cache, ci, init
from mcpbundle.config.settings import Config

# The pipeline is imported by the command that runs it: ``check`` or ``--help`` does not
# pay for the build's modules (measured with ``bench/imports.py``).
if TYPE_CHECKING:
    from mcpbundle.build import BuildOptions, BuildResult
    from mcpbundle.deploy import BranchOptions
    from mcpbundle.incremental.read_recorder import Reads

# ----------------------------------------------------------------------- commands


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mcpbundle")
@global_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Turn a monorepo of FastMCP servers into deploy-ready bundles."""
    ctx.ensure_object(State).apply()  # main() passes the State; the options filled it in


@cli.command()
@verbosity_options
@servers_argument
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output directory.")
@click.option("--dry-run", is_flag=True, help="Print the plan and every file; write nothing.")
@strict_option
@click.option("--upgrade", "-U", is_flag=True, help="Ignore previous pins; take newest versions.")
@click.option(
    "--upgrade-package", "-P", "upgrade_packages", multiple=True, metavar="NAME",
    help="Upgrade only this package (repeatable).",
)  # fmt: skip
@click.option(
    "--branch",
    "branch",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[NAME]",
    help="Commit the output to this branch (default: [bundle].branch, else 'deploy').",
)
@click.option("--allow-dirty", is_flag=True, help="Allow --branch with uncommitted changes.")
@click.option("--no-wait", is_flag=True, help="Fail if another build of the output is running.")
@click.option("--no-cache", is_flag=True, help="Resolve again; do not read the resolution cache.")
@click.option(
    "--keep-going",
    is_flag=True,
    help="Build every other server when one fails (exit 1 listing the failed ones).",
)
@click.option(
    "--push",
    "push_remote",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[REMOTE]",
    help="Push the branch(es) after committing: to REMOTE, and to the configured push-to "
    "targets (bare --push: origin for what has no push-to).",
)
@click.option(
    "--push-to",
    metavar="URL_OR_REMOTE:BRANCH",
    help="Also push the deploy commit to another repository's branch ({server}: each "
    "server's to its own; implies --split).",
)
@click.option("--split", is_flag=True, help="One branch per server: <branch>/<server>.")
@click.option(
    "--force", is_flag=True, help="Replace an output holding files mcpbundle did not write."
)
@click.option("--run-hooks", is_flag=True, help="Run the repository's pre-push hooks on --push.")
@build_format_options
@click.pass_obj
def build_cmd(
    state: State,
    servers: tuple[str, ...],
    output: Path | None,
    dry_run: bool,
    strict: bool,
    upgrade: bool,
    upgrade_packages: tuple[str, ...],
    branch: str | None,
    allow_dirty: bool,
    no_wait: bool,
    no_cache: bool,
    keep_going: bool,
    push_remote: str | None,
    push_to: str | None,
    force: bool,
    run_hooks: bool,
    split: bool,
    formats: tuple[str, ...],
    verify_first: bool,
    as_json: bool,
) -> None:
    """Vendor shared code, pin requirements and write the deploy-ready output."""
    from mcpbundle.build import BuildOptions, build
    from mcpbundle.cli.reports import build_report, format_build_report
    from mcpbundle.config.validate import output_dir
    from mcpbundle.emit.output_lock import output_lock
    from mcpbundle.git.source_state import current_source
    from mcpbundle.incremental import read_recorder as watch
    from mcpbundle.resolve.pinner import make_pinner

    if (push_remote is not None or push_to is not None or split) and branch is None:
        branch = ""
    options = BuildOptions(
        servers=servers,
        output=output,
        strict=strict,
        dry_run=dry_run,
        keep_going=keep_going,
        force=force,
        formats=("dir", *formats) if formats else None,
        plan_cache=not no_cache,
    )
    if branch is not None and not dry_run:
        from mcpbundle.deploy import BranchOptions

        if output is not None:
            raise UsageError("--branch and -o/--output cannot be combined")
        if verify_first or formats:
            raise UsageError("--verify and --format write a directory, not --branch")
        if keep_going:
            raise UsageError(
                "--keep-going builds a directory, not --branch",
                hint="a deploy commit holds every server or none; fix the failing server",
            )
        branch_options = BranchOptions(
            branch=branch, allow_dirty=allow_dirty, push_remote=push_remote, push_to=push_to,
            run_hooks=run_hooks, split=split,
        )  # fmt: skip
        _deploy(state, options, branch_options, upgrade, upgrade_packages, no_cache, as_json)
        return
    # A directory build records what it reads so the same command can replay a no-op.
    stampable = not (dry_run or upgrade or upgrade_packages or no_cache or state.debug)
    stampable = stampable and not keep_going and not verify_first
    recording = watch.recording() if stampable and not verbose_logging() else None
    started = time.time_ns()
    with recording or contextlib.nullcontext() as reads:
        config = state.config(defer_missing=keep_going or bool(servers))
        created = not dry_run and not output_dir(config, output).exists()
        if verify_first and not dry_run:  # before the lock: verify builds (and locks) first
            from mcpbundle.cli.build_verify import verified_surfaces

            options = replace(options, surfaces=verified_surfaces(config, servers, output))
        pinner = make_pinner(
            config, upgrade=upgrade, upgrade_packages=upgrade_packages, use_cache=not no_cache
        )
        lock = (
            contextlib.nullcontext()
            if dry_run
            else output_lock(output_dir(config, output), wait=not no_wait)
        )
        with lock:
            result = build(config, options, source=current_source(config.root), pin=pinner)
    warn_all(result.plan.warnings)
    report = partial(build_report, config, result)
    emit_document(report, as_json, format_build_report, report=True, coloured=True)
    if created and not state.quiet:  # a hint, not a warning: -q leaves it out
        _output_hint(config, output_dir(config, output))
    if result.failures:
        for name, error in sorted(result.failures.items()):
            error_line(f"server {name!r} failed: {error}")
        failed = ", ".join(sorted(result.failures))
        raise BuildError(
            f"{len(result.failures)} of {len(servers or config.servers)} servers failed: {failed}",
            hint="their previous output was kept; the other servers were built",
        )
    if reads is not None and state.argv is not None:
        _stamp_noop(state.argv, config, result, reads, started_ns=started, as_json=as_json)


def _output_hint(config: Config, out: Path) -> None:
    """The first build (it created the output) in a work tree that does not ignore it."""
    from mcpbundle.git.ignore import build_hint

    line = build_hint(config.root, out) if out.is_dir() else None
    if line is not None:
        click.echo(line, err=True)


def _deploy(
    state: State,
    options: BuildOptions,
    branch_options: BranchOptions,
    upgrade: bool,
    upgrade_packages: tuple[str, ...],
    no_cache: bool,
    as_json: bool,
) -> None:
    """``build --branch``: commit the output to a branch (never stamped: it reads git)."""
    from mcpbundle.cli.reports import deploy_report, format_deploy_report
    from mcpbundle.deploy import build_to_branch
    from mcpbundle.resolve.pinner import make_pinner

    config = state.config()
    if not branch_options.branch:
        branch_options = replace(branch_options, branch=config.bundle.branch)
    pinner = make_pinner(
        config, upgrade=upgrade, upgrade_packages=upgrade_packages, use_cache=not no_cache
    )
    deployed = build_to_branch(config, options, branch_options, pin=pinner)
    warn_all(deployed.plan.warnings)
    document = deploy_report(config, deployed)
    emit_document(document, as_json, format_deploy_report, report=True, coloured=True)


def _stamp_noop(
    argv: tuple[str, ...],
    config: Config,
    result: BuildResult,
    reads: Reads,
    *,
    started_ns: int,
    as_json: bool,
) -> None:
    """Stamp this build so the same command on the same inputs replays its no-op report."""
    from mcpbundle.cli.reports import build_report, format_build_report
    from mcpbundle.incremental import stamp_write

    noop = replace(result, written=False, up_to_date=True, unchanged=())
    report = partial(build_report, config, noop)
    text = document_text(report, as_json, format_build_report, report=True, coloured=True)
    stdout = "" if text is None else text + "\n"  # exactly what emit_document printed
    try:
        written = stamp_write.write(
            argv,
            reads=reads,
            root=str(config.root),
            output=str(result.output),
            stdout=stdout,
            stderr=warning_text(result.plan.warnings),
            started_ns=started_ns,
        )
    except OSError as exc:
        log.info("no-op stamp not written: %s", exc)
        return
    if written is None:
        log.info("no-op stamp not written: %s", reads.volatile or "inputs changed during the build")


build_cmd.name = "build"


@cli.command()
@verbosity_options
@strict_option
@json_option
@click.pass_obj
def validate(state: State, strict: bool, as_json: bool) -> None:
    """Check mcpbundle.toml and what it points at; build nothing."""
    from mcpbundle.build import BuildOptions, plan_build

    config = state.config()
    plan = plan_build(config, BuildOptions(strict=strict, dry_run=True, fetch_git=False))
    warn_all(plan.warnings)
    document = {
        "config": config.display,
        "ok": True,  # an invalid config is an error (exit 2), never a document
        "servers": list(config.servers),
        "shared": list(config.shared),
        "warnings": list(plan.warnings),
    }
    emit_document(document, as_json, _format_validate, report=True, coloured=True)


def _format_validate(document: dict[str, Any], paint: Painter = plain) -> str:
    servers, shared = len(document["servers"]), len(document["shared"])
    counts = f"({servers} server{'s' * (servers != 1)}, {shared} shared lib{'s' * (shared != 1)})"
    return f"{paint('path', document['config'])}: {paint('ok', 'ok')} {counts}"


@cli.command(name="list")
@verbosity_options
@json_option
@click.pass_obj
def list_cmd(state: State, as_json: bool) -> None:
    """Servers and shared libraries with their paths, entrypoints and closures."""
    from mcpbundle.build import BuildOptions, plan_build
    from mcpbundle.cli.reports import format_list, list_document

    config = state.config()
    plan = plan_build(config, BuildOptions(dry_run=True, fetch_git=False))
    emit_document(list_document(config, plan), as_json, format_list, coloured=True)


cli.add_command(init)
cli.add_command(check)
cli.add_command(verify)
cli.add_command(affected)
cli.add_command(diff)
cli.add_command(surface)
cli.add_command(ci)
cli.add_command(cache)
cli.add_command(completion)
