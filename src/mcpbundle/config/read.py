"""Find and read ``mcpbundle.toml``: syntax only, no meaning.

Reading is kept apart from validation (as flit_core does): this module turns a
file into a plain ``dict`` or a one-line :class:`ConfigError` with
``file:line:col``; :mod:`mcpbundle.config.settings` decides what the dict means.
"""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import ConfigError
from mcpbundle.base.regular_file import TooLarge, kind_of, read_regular

CONFIG_NAME = "mcpbundle.toml"
MAX_TOML_BYTES = 16 * 1024 * 1024

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_TOML_END = "(at end of document)"


def find_config(start: Path, explicit: Path | None = None) -> Path:
    """The config file: ``explicit`` if given, else ``mcpbundle.toml`` in ``start`` or a parent."""
    if explicit is not None:
        path = explicit if explicit.is_absolute() else start / explicit
        problem = _not_a_config(path)
        if problem is not None:
            raise ConfigError(
                problem,
                where=str(explicit),
                hint="pass the path of an existing mcpbundle.toml to -c/--config",
            )
        if path.is_dir():
            path = path / CONFIG_NAME
        return path.resolve()
    here = start.resolve()
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {CONFIG_NAME} in {start} or any parent directory",
        hint="create one (see mcpbundle.toml.example) or pass -c/--config PATH",
    )


def _not_a_config(path: Path) -> str | None:
    """Why ``path`` (given to -c) cannot be read as a config file; None if it can."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "config file not found"
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if stat.S_ISDIR(mode):
        inside = path / CONFIG_NAME
        return None if inside.is_file() else f"is a directory without {CONFIG_NAME}"
    if not stat.S_ISREG(mode):
        return f"is a {kind_of(mode)}, not a file"
    return None


def read_toml(path: Path, *, display: str | None = None) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes ``file:line:col: message``."""
    shown = display or path.name
    try:
        data = read_regular(path, MAX_TOML_BYTES)
    except TooLarge as exc:
        raise ConfigError(
            f"is {exc.size} bytes, more than a config file may be ({MAX_TOML_BYTES})", where=shown
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", where=shown) from exc
    try:
        text = data.decode("utf-8-sig")  # tolerate a BOM (Windows editors write one)
    except UnicodeDecodeError as exc:
        raise ConfigError("not valid UTF-8", where=shown, hint="save the file as UTF-8") from exc
    try:
        return tomllib.loads(text)
    except RecursionError:
        hint = "flatten the nested arrays or tables"
        raise ConfigError("values are nested too deeply to read", where=shown, hint=hint) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        reason = _TOML_POSITION.sub("", message).strip()
        if match:
            where = f"{shown}:{match.group(1)}:{match.group(2)}"
        elif _TOML_END in message:  # e.g. an unclosed array: point at the last line
            reason = message.replace(_TOML_END, "").strip() + " at end of file"
            lines = text.splitlines() or [""]
            where = f"{shown}:{len(lines)}:{len(lines[-1]) + 1}"
        else:
            where = shown
        raise ConfigError(
            f"TOML syntax error: {reason}", where=where, hint="fix the TOML syntax"
        ) from exc
