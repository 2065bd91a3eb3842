"""What every command shares: state, reusable click options, logging, printing.

Options are decorators (as pip-tools does) so each command states the ones it
takes; printing goes through :func:`emit_document` (text or JSON on stdout).

The global options (``-c``, ``-q``, ``-v``, ``--debug``, ``--color``) work on both sides of
the command name, as in uv and ruff: :class:`mcpbundle.cli.help.Group` gives every command
its own copy, and each copy's callback updates the one :class:`State`.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from mcpbundle.base import progress
from mcpbundle.base.redact import mask_urls
from mcpbundle.config.settings import Config
from mcpbundle.config.validate import load_config

log = logging.getLogger("mcpbundle")
F = TypeVar("F", bound=Callable[..., Any])
Painter = Callable[[str, str], str]
# a command's result as a document, or the call that makes it (made only when printed)
Document = dict[str, Any] | Callable[[], dict[str, Any]]
COLOR_CHOICES = ("auto", "always", "never")


def plain(_style: str, text: str) -> str:
    return text


@dataclass
class State:
    """The global options of one command line, filled in on either side of the command."""

    config_path: Path | None = None
    debug: bool = False
    argv: tuple[str, ...] | None = None  # the command line, when run through main()
    quiet: int = 0  # -q: errors and warnings only; -qq: errors only
    verbose: int = 0
    color: str = "auto"
    _colour: dict[int, bool] = field(default_factory=dict, repr=False)

    def config(self, *, defer_missing: bool = False) -> Config:
        return load_config(Path.cwd(), self.config_path, defer_missing=defer_missing)

    def apply(self) -> None:
        """Set logging and progress from the options seen so far."""
        setup_logging(
            verbose=(self.verbose > 0 or self.debug) and not self.quiet,
            quiet=self.quiet,
            colour=self.colour(sys.stderr),
        )
        progress.configure(enabled=not self.quiet)

    def colour(self, stream: TextIO) -> bool:
        """Whether ``stream`` gets ANSI colour (``--color``, NO_COLOR, FORCE_COLOR, a terminal)."""
        key = id(stream)
        if key not in self._colour:
            self._colour[key] = colour_wanted(self.color, os.environ, _isatty(stream))
        return self._colour[key]

    def painter(self, *, err: bool = False) -> Painter:
        """The colour function for stdout (``err``: stderr); colour is imported only when on."""
        if not self.colour(sys.stderr if err else sys.stdout):
            return plain
        from mcpbundle.cli.colour import paint

        return paint


def colour_wanted(choice: str, environ: Any, is_terminal: bool) -> bool:
    """``--color always|never`` decides; ``auto``: NO_COLOR (non-empty) off, FORCE_COLOR
    (non-empty) on, else colour only on a terminal whose TERM is not ``dumb``."""
    if choice in ("always", "never"):
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return is_terminal and environ.get("TERM") != "dumb"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def current_state() -> State:
    ctx = click.get_current_context(silent=True)
    state = ctx.find_object(State) if ctx is not None else None
    return state if state is not None else State()


# ----------------------------------------------------------------- global options


class GlobalOption(click.Option):
    """An option every command takes, listed under "Global options" in help."""


def _state(ctx: click.Context) -> State:
    return ctx.ensure_object(State)


def _set_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        _state(ctx).config_path = value


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        state = _state(ctx)
        state.debug = True
        state.apply()


def _add_quiet(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value:
        state = _state(ctx)
        state.quiet += value
        state.apply()


def _add_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value:
        state = _state(ctx)
        state.verbose += value
        state.apply()


def _set_color(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        state = _state(ctx)
        state.color = value
        state._colour.clear()
        state.apply()


def global_params() -> list[click.Parameter]:
    """Fresh copies of the global options (a parameter object belongs to one command)."""
    common: dict[str, Any] = {"cls": GlobalOption, "expose_value": False}
    specs: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("-c", "--config"), {
            "type": click.Path(path_type=Path), "callback": _set_config, "metavar": "PATH",
            "help": "mcpbundle.toml to use (default: found in this directory or a parent).",
        }),
        (("-q", "--quiet"), {
            "count": True, "callback": _add_quiet,
            "help": "Print errors and warnings only; -qq: errors only. No progress lines.",
        }),
        (("-v", "--verbose"), {
            "count": True, "callback": _add_verbose, "help": "Log every command run (+ cmd).",
        }),
        (("--color",), {
            "type": click.Choice(COLOR_CHOICES), "default": None, "callback": _set_color,
            "help": "Colour on a terminal (auto, the default), always or never.",
        }),
        (("--debug",), {
            "is_flag": True, "callback": _set_debug, "help": "Show tracebacks; log commands run.",
        }),
    ]  # fmt: skip
    params: list[click.Parameter] = []
    for decls, attrs in specs:
        options = {**common, **attrs}
        cls = options.pop("cls")
        params.append(cls(list(decls), **options))
    return params


def global_options(func: F) -> F:
    """The global options on this command too (``mcpbundle build -q -c X``)."""
    params = global_params()
    if isinstance(func, click.Command):
        func.params.extend(params)
    else:  # as click.option does: collected, in reverse, when the command is made
        func.__dict__.setdefault("__click_params__", []).extend(reversed(params))
    return func


verbosity_options = global_options  # the name commands used before every option was global


# ----------------------------------------------------------------- reusable options


FORMATS = ("text", "json")


def json_option(func: F) -> F:
    """``--format text|json`` and its alias ``--json``; the command receives ``as_json``."""

    @functools.wraps(func)
    def wrapper(*args: Any, output_format: str, json_alias: bool, **kwargs: Any) -> Any:
        return func(*args, as_json=json_alias or output_format == "json", **kwargs)

    wrapper = click.option(
        "--json", "json_alias", is_flag=True, help="Print JSON on stdout (same as --format json)."
    )(wrapper)
    wrapper = click.option(
        "--format", "output_format", type=click.Choice(FORMATS), default="text",
        show_default=True, help="Output format.",
    )(wrapper)  # fmt: skip
    return wrapper  # type: ignore[return-value]


format_option = json_option


def servers_argument(func: F) -> F:
    from mcpbundle.cli.completion import complete_servers

    return click.argument(
        "servers", nargs=-1, metavar="[SERVER]...", shell_complete=complete_servers
    )(func)


def strict_option(func: F) -> F:
    return click.option(
        "--strict", is_flag=True, help="Treat warnings (undeclared shared code) as errors."
    )(func)


BUILD_OUTPUTS = ("dir", "mcpb")  # what build --format also writes (beside text|json)


def build_format_options(func: F) -> F:
    """``build --format``: ``text|json`` (the report, as every command) and ``dir|mcpb`` (what
    it writes; repeatable); ``--json``; ``--verify``. The command receives ``as_json`` and
    ``formats`` (the outputs named, empty: the config's ``[bundle] formats``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, format_values: tuple[str, ...], json_alias: bool, **kwargs: Any) -> Any:
        reports = sorted({value for value in format_values if value in FORMATS})
        if len(reports) > 1:
            raise click.UsageError("--format text and --format json cannot be combined")
        outputs = tuple(value for value in format_values if value in BUILD_OUTPUTS)
        as_json = json_alias or reports == ["json"]
        return func(*args, as_json=as_json, formats=outputs, **kwargs)

    wrapper = click.option(
        "--verify", "verify_first", is_flag=True,
        help="Load each server first: its tools and prompts go into its .mcpb.",
    )(wrapper)  # fmt: skip
    wrapper = click.option(
        "--json", "json_alias", is_flag=True, help="Print JSON on stdout (same as --format json)."
    )(wrapper)
    wrapper = click.option(
        "--format", "format_values", multiple=True,
        type=click.Choice([*FORMATS, *BUILD_OUTPUTS]),
        help="text|json: the report (default text); dir|mcpb: also write this output "
        "(repeatable; default: [bundle] formats).",
    )(wrapper)  # fmt: skip
    return wrapper  # type: ignore[return-value]


def parse_codes(text: str) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in text.split(",") if c.strip())


# ----------------------------------------------------------------------- printing


def render_document(
    document: dict[str, Any],
    as_json: bool,
    formatter: Callable[..., str],
    paint: Painter = plain,
) -> str:
    if as_json:
        return mask_urls(json.dumps(document, indent=2, sort_keys=True))
    text = formatter(document) if paint is plain else formatter(document, paint=paint)
    return mask_urls(text)


def document_text(
    document: Document,
    as_json: bool,
    formatter: Callable[..., str],
    *,
    report: bool = False,
    coloured: bool = False,
) -> str | None:
    """What :func:`emit_document` prints (None: nothing, under ``-q``)."""
    state = current_state()
    if report and state.quiet and not as_json:
        return None
    paint = state.painter() if coloured and not as_json else plain
    made = document() if callable(document) else document
    return render_document(made, as_json, formatter, paint)


def emit_document(
    document: Document,
    as_json: bool,
    formatter: Callable[..., str],
    *,
    report: bool = False,
    coloured: bool = False,
) -> None:
    """Print ``document`` as JSON or as ``formatter``'s text. ``report``: the text is a
    report of what a command did, which ``-q`` leaves out (JSON is always printed).
    ``document`` may be the call that makes it: made only when it is printed (a build's
    report at 200 servers costs more than some of its stages).
    ``coloured``: ``formatter`` takes ``paint=``, called with colour on a terminal."""
    text = document_text(document, as_json, formatter, report=report, coloured=coloured)
    if text is not None:
        click.echo(text, color=current_state().colour(sys.stdout))


def echo(text: str, *, err: bool = False) -> None:
    """Print ``text`` (credentials in URLs masked); ANSI colour only where it is wanted."""
    state = current_state()
    click.echo(mask_urls(text), err=err, color=state.colour(sys.stderr if err else sys.stdout))


def error_text(message: str, *, colour: bool, where: str | None = None) -> str:
    """``error: <message>``, the label red and the location bold with colour."""
    if not colour:
        return f"error: {message}"
    from mcpbundle.cli.colour import paint

    if where and message.startswith(f"{where}: "):
        message = paint("path", where) + message[len(where) :]
    return f"{paint('error', 'error:')} {message}"


def error_line(message: str) -> None:
    """An ``error:`` line on stderr that is not the last one (that one is cli.entry's)."""
    colour = current_state().colour(sys.stderr)
    click.echo(mask_urls(error_text(message, colour=colour)), err=True, color=colour)


def warn_all(warnings: tuple[str, ...] | list[str]) -> None:
    for warning in warnings:
        log.warning("%s", warning)


def warning_text(warnings: tuple[str, ...] | list[str]) -> str:
    """What :func:`warn_all` prints on stderr at the current verbosity."""
    if not log.isEnabledFor(logging.WARNING):
        return ""
    formatter = LogFormatter(colour=current_state().colour(sys.stderr))
    lines = [
        formatter.format(
            logging.makeLogRecord({"levelno": logging.WARNING, "levelname": "WARNING", "msg": w})
        )
        for w in warnings
    ]
    return "".join(f"{line}\n" for line in lines)


def verbose_logging() -> bool:
    """True under ``-v``/``--debug`` (commands run are logged)."""
    return log.isEnabledFor(logging.INFO)


class LogFormatter(logging.Formatter):
    """``warning: ...`` / plain info lines, credentials in URLs masked."""

    def __init__(self, *, colour: bool = False):
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        message = mask_urls(record.getMessage())
        if record.levelno >= logging.WARNING:
            level = record.levelname.lower()
            if self.colour:
                from mcpbundle.cli.colour import paint

                return f"{paint(level, level + ':')} {message}"
            return f"{level}: {message}"
        return message


def setup_logging(*, verbose: bool, quiet: int | bool, colour: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter(colour=colour))
    log.handlers[:] = [handler]
    log.propagate = False
    level = logging.INFO if verbose else logging.WARNING
    if quiet and int(quiet) >= 2:
        level = logging.ERROR
    log.setLevel(level)
