"""Pin a server's requirements: the one module in mcpbundle that runs a resolver.

``resolve(request, settings)`` turns ``requirements.in`` text into fully pinned
``requirements.txt`` text with pip-tools (``python -m piptools compile``, the
default) or ``uv pip compile``. The resolver runs in a fresh temporary directory
on bare file names (``requirements.in`` -> ``requirements.txt``), so the output
has no absolute paths; ``# via -r requirements.in`` annotations are kept (the
bundle ships ``requirements.in`` next to ``requirements.txt``).

Machine-local configuration:

* Index settings (``index_url``, ``extra_index_urls``, ``find_links``,
  ``no_index``) are passed to the resolver and never written to the output
  (``--no-emit-index-url --no-emit-find-links --no-emit-trusted-host``).
* When *any* of them is set, the user's settings are the whole truth: pip runs
  with ``PIP_CONFIG_FILE=/dev/null`` (no pip.conf at all) and the ``PIP_*``
  variables that choose packages (index, find-links, pre, constraints, ...) are
  removed; transport ones (cert, proxy, timeout, retries, cache) are kept. For
  uv the ``UV_*`` index variables are removed. With no index settings, pip.conf
  and the environment are honoured (a corporate mirror keeps working) and only
  the ``--no-emit-*`` flags keep them out of the output.
* Both resolvers run with ``--no-config`` so no project config file is read.

Target python: pip-tools pins for the interpreter that runs it. When
``settings.python`` differs from the running interpreter, ``pythonX.Y`` is looked
up on ``PATH`` and under pyenv's ``versions/`` (pyenv shims that do not resolve
are skipped) and runs pip-tools from *this* environment through ``PYTHONPATH``:
a private directory of symlinks to the pure-Python distributions pip-tools needs
(``piptools``, ``pip``, ``click``, ``build``, ...). If that is impossible, one
warning says the pins follow the running interpreter. uv targets
``--python-version`` exactly.
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.utils import canonicalize_name

from mcpbundle.base.errors import ConfigError, ResolveError, ResolverUnavailable
from mcpbundle.base.interpreters import RUNNING_PYTHON, piptools_interpreter
from mcpbundle.base.runner import run
from mcpbundle.base.temp_dirs import temp_dir
from mcpbundle.base.uv_binary import find_uv, uv_version
from mcpbundle.plan.pinned_text import verify_pins
from mcpbundle.resolve.failures import pip_failure_reason, uv_failure_reason

log = logging.getLogger("mcpbundle")

COMPILE_COMMAND = "mcpbundle build"
IN_FILE = "requirements.in"
OUT_FILE = "requirements.txt"

# PIP_* variables that do not choose packages: kept even with explicit index settings.
_PIP_TRANSPORT_VARS = frozenset(
    {
        "PIP_CERT",
        "PIP_CLIENT_CERT",
        "PIP_PROXY",
        "PIP_TIMEOUT",
        "PIP_DEFAULT_TIMEOUT",
        "PIP_RETRIES",
        "PIP_TRUSTED_HOST",
        "PIP_DISABLE_PIP_VERSION_CHECK",
        "PIP_NO_INPUT",
        "PIP_CACHE_DIR",
        "PIP_NO_CACHE_DIR",
        "PIP_KEYRING_PROVIDER",
    }
)
_UV_INDEX_VARS = frozenset(
    {
        "UV_INDEX",
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_EXTRA_INDEX_URL",
        "UV_FIND_LINKS",
        "UV_NO_INDEX",
        "UV_CONFIG_FILE",
    }
)
_HINT_RESOLVE = "relax the requirement or check the index settings"


@dataclass(frozen=True, kw_only=True)
class ResolverSettings:
    """How to resolve: which resolver, for which python, against which index."""

    resolver: Literal["pip-tools", "uv"] = "pip-tools"
    python: str | None = None
    """Target ``"X.Y"``; None pins for the running interpreter."""
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    hashes: bool = False
    timeout: float = 900.0

    @property
    def explicit_index(self) -> bool:
        """True when the user chose the package sources (ambient pip config is ignored)."""
        return bool(self.index_url or self.extra_index_urls or self.find_links or self.no_index)


@dataclass(frozen=True, kw_only=True)
class ResolveRequest:
    """One server's resolution: its ``requirements.in`` text and previous pins."""

    server: str
    requirements_in: str
    previous: str | None = None
    """The previous ``requirements.txt`` text; its pins are kept unless upgraded."""
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    vendored: frozenset[str] = frozenset()
    """Names of vendored shared libs; none may appear in the pinned output."""


def resolve(request: ResolveRequest, settings: ResolverSettings) -> str:
    """Pin ``request.requirements_in``; return the verified ``requirements.txt`` text.

    Raises :class:`ResolveError` when the resolver fails (naming the server and
    the offending requirements) and :class:`BuildError` when the output is not
    PyPI-only exact pins or pins a vendored lib.
    """
    where = f"server '{request.server}'"
    _check_python(settings)
    with temp_dir("resolve") as work:
        tmp = str(work)
        (work / "tmp").mkdir()  # the resolver's own scratch: gone with ours, even after a kill
        (work / IN_FILE).write_text(_with_newline(request.requirements_in), encoding="utf-8")
        if request.previous and not request.upgrade:
            (work / OUT_FILE).write_text(_with_newline(request.previous), encoding="utf-8")
        if settings.resolver == "uv":
            cmd, extra_env = _uv_command(request, settings)
        else:
            cmd, extra_env = _piptools_command(request, settings)
        env = _child_env(settings)
        env.update(extra_env)
        env.update(TMPDIR=str(work / "tmp"), TEMP=str(work / "tmp"), TMP=str(work / "tmp"))
        try:
            done = run(cmd, cwd=work, env=env, timeout=settings.timeout, die_with_parent=True)
        except subprocess.TimeoutExpired:
            raise ResolveError(
                f"{settings.resolver} did not finish within {settings.timeout:.0f}s",
                where=where,
                hint="check the index settings and network access",
                server=request.server,
            ) from None
        output_path = work / OUT_FILE
        if done.returncode != 0 or not output_path.is_file():
            raise _failure(request, settings, done.stderr + "\n" + done.stdout, tmp)
        output = output_path.read_text(encoding="utf-8")
    _check_no_local_paths(output, settings, tmp, where)
    verify_pins(output, vendored=request.vendored, where=f"{where} {OUT_FILE}")
    return output


def resolver_identity(settings: ResolverSettings) -> str:
    """A stable description of what determines the pins, for cache keys.

    E.g. ``"pip-tools==7.6.2 pip==26.3 python==3.12 linux-x86_64"`` or
    ``"uv==0.13.9 python==3.12 linux-x86_64"``. The python is the one pins are
    really made for (the running one if a pip-tools target interpreter is missing).
    """
    _check_python(settings)
    plat = f"{sys.platform}-{platform.machine().lower()}"
    if settings.resolver == "uv":
        return f"uv=={_uv_version(_find_uv())} python=={settings.python or RUNNING_PYTHON} {plat}"
    _exe, _env, python = piptools_interpreter(settings.python)
    from importlib import metadata  # only pip-tools builds need it (and it is slow to import)

    tools = f"pip-tools=={metadata.version('pip-tools')} pip=={metadata.version('pip')}"
    return f"{tools} python=={python} {plat}"


def pinned_for(settings: ResolverSettings) -> str:
    """The Python version the pins are really for: the target, unless pip-tools has no
    interpreter of it and falls back (with a warning) to the running one."""
    if settings.resolver == "uv":
        return settings.python or RUNNING_PYTHON
    return piptools_interpreter(settings.python)[2]


# -- commands -----------------------------------------------------------------


def index_args(settings: ResolverSettings) -> list[str]:
    """The index options of ``settings`` as pip / uv command-line arguments."""
    args: list[str] = []
    if settings.no_index:
        args.append("--no-index")
    if settings.index_url:
        args += ["--index-url", settings.index_url]
    for url in settings.extra_index_urls:
        args += ["--extra-index-url", url]
    for link in settings.find_links:
        args += ["--find-links", _absolute_link(link)]
    return args


def _common_args(request: ResolveRequest, settings: ResolverSettings) -> list[str]:
    args = ["--no-emit-index-url", "--no-emit-find-links", "--output-file", OUT_FILE]
    args += index_args(settings)
    if settings.hashes:
        args.append("--generate-hashes")
    if request.upgrade:
        args.append("--upgrade")
    else:
        for name in request.upgrade_packages:
            args += ["--upgrade-package", canonicalize_name(name)]
    return args


def _piptools_command(
    request: ResolveRequest, settings: ResolverSettings
) -> tuple[list[str], dict[str, str]]:
    exe, env, _python = piptools_interpreter(settings.python)
    cmd = [exe, "-m", "piptools", "compile", "--no-config", "--quiet", "--strip-extras"]
    cmd += ["--allow-unsafe", "--no-emit-trusted-host", "--newline", "LF"]
    cmd += _common_args(request, settings)
    return [*cmd, IN_FILE], env


def _uv_command(
    request: ResolveRequest, settings: ResolverSettings
) -> tuple[list[str], dict[str, str]]:
    uv = _find_uv()
    cmd = [uv, "pip", "compile", "--no-config", "--quiet", "--color", "never"]
    cmd += ["--python", sys.executable]
    if settings.python:
        cmd += ["--python-version", settings.python]
    cmd += _common_args(request, settings)
    return [*cmd, IN_FILE], {}


def _child_env(settings: ResolverSettings) -> dict[str, str]:
    env = dict(os.environ)
    if settings.explicit_index:
        for key in list(env):
            if (key.startswith("PIP_") and key not in _PIP_TRANSPORT_VARS) or key in _UV_INDEX_VARS:
                del env[key]
        env["PIP_CONFIG_FILE"] = os.devnull
    for key in ("FORCE_COLOR", "CLICOLOR_FORCE", "PIP_REQUIRE_VIRTUALENV"):
        env.pop(key, None)
    env.update(
        {
            "CUSTOM_COMPILE_COMMAND": COMPILE_COMMAND,
            "UV_CUSTOM_COMPILE_COMMAND": COMPILE_COMMAND,
            "UV_PYTHON_DOWNLOADS": "never",
            "NO_COLOR": "1",
            "PYTHONIOENCODING": "utf-8",
        }
    )
    return env


def child_env(settings: ResolverSettings) -> dict[str, str]:
    """The environment pip runs in for ``settings`` (also the .mcpb lib install's)."""
    return _child_env(settings)


def _absolute_link(link: str) -> str:
    """find-links may be relative paths; the resolver runs elsewhere, so anchor them."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", link):
        return link
    return str(Path(link).expanduser().resolve())


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _check_python(settings: ResolverSettings) -> None:
    if settings.python is not None and not re.fullmatch(r"3\.\d{1,2}", settings.python):
        raise ConfigError(
            f"python = {settings.python!r} is not a Python version",
            where="resolver",
            hint='write it as "3.12"',
        )


def _check_no_local_paths(output: str, settings: ResolverSettings, tmp: str, where: str) -> None:
    local = [tmp, str(Path(tmp).resolve())]
    local += [_absolute_link(link) for link in settings.find_links]
    local += [url for url in (settings.index_url, *settings.extra_index_urls) if url]
    for path in local:
        if path and path in output:
            raise ResolveError(
                f"{settings.resolver} output mentions machine-local source {path!r}",
                where=where,
                hint="report this as an mcpbundle bug",
            )


# -- uv -------------------------------------------------------------------------


def _find_uv() -> str:
    """The uv binary (:func:`mcpbundle.base.uv_binary.find_uv`), or the error to show."""
    found = find_uv()
    if found:
        return found
    raise ResolverUnavailable(
        "resolver 'uv' is selected but no uv binary was found",
        where="resolver",
        hint='run `pip install uv`, or set resolver = "pip-tools"',
    )


@functools.cache
def _uv_version(uv: str) -> str:
    return uv_version(uv)


# -- failures -------------------------------------------------------------------

_FROM_INPUT = re.compile(r"\s*\(from -r requirements\.in \(line \d+\)\)")
_INPUT_LINE = re.compile(r"-r requirements\.in \(line (\d+)\)")


def _failure(
    request: ResolveRequest, settings: ResolverSettings, output: str, tmp: str
) -> ResolveError:
    inputs = request.requirements_in.splitlines()

    def input_line(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return inputs[index].strip() if 0 <= index < len(inputs) else match.group(0)

    text = output.replace(str(Path(tmp).resolve()) + os.sep, "").replace(tmp + os.sep, "")
    text = _INPUT_LINE.sub(input_line, _FROM_INPUT.sub("", text))
    if settings.resolver == "uv":
        offenders, reason = uv_failure_reason(text)
    else:
        offenders, reason = pip_failure_reason(text)
    if "No module named piptools" in text:
        offenders, reason = [], "pip-tools is not installed for this Python"
    what = ", ".join(dict.fromkeys(offenders)) or "the requirements"
    syntax = reason.startswith(("Invalid requirement", "Couldn't parse"))
    return ResolveError(
        f"cannot resolve {what}: {reason}",
        where=f"server '{request.server}'",
        hint="fix the requirement's syntax" if syntax else _HINT_RESOLVE,
        server=request.server,
    )
