"""Find and read ``mcpbundle.toml``: syntax only, no meaning.

Reading is kept apart from validation (as flit_core does): this module turns a
file into a plain ``dict`` or a one-line :class:`ConfigError` with
``file:line:col``; :mod:`mcpbundle.config` decides what the dict means.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from mcpbundle.errors import ConfigError

CONFIG_NAME = "mcpbundle.toml"

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_TOML_END = "(at end of document)"


def find_config(start: Path, explicit: Path | None = None) -> Path:
    """The config file: ``explicit`` if given, else ``mcpbundle.toml`` in ``start`` or a parent."""
    if explicit is not None:
        path = explicit if explicit.is_absolute() else start / explicit
        if path.is_dir():
            path = path / CONFIG_NAME
        if not path.is_file():
            raise ConfigError(
                "config file not found",
                where=str(explicit),
                hint="pass the path of an existing mcpbundle.toml to -c/--config",
            )
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


def read_toml(path: Path, *, display: str | None = None) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes ``file:line:col: message``."""
    shown = display or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", where=shown) from exc
    try:
        text = data.decode("utf-8-sig")  # tolerate a BOM (Windows editors write one)
    except UnicodeDecodeError as exc:
        raise ConfigError("not valid UTF-8", where=shown, hint="save the file as UTF-8") from exc
    try:
        return tomllib.loads(text)
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
