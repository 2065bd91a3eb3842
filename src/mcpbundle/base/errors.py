"""Errors a user can act on.

Every error mcpbundle raises on purpose is a :class:`MCPBundleError`. Each class
carries the process exit code the CLI maps it to, so ``cli.py`` is the one place
that turns errors into exit codes, and no other module calls ``sys.exit``.

The message is one line: *where* (a file, ``file:line``, or a key path), *what*
is wrong, and *how* to fix it.
"""

from __future__ import annotations

from mcpbundle.base.redact import mask_urls


class MCPBundleError(Exception):
    """Base class: a failure explained in one line."""

    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        hint: str | None = None,
        server: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint
        self.server = server  # the one server this failure belongs to, when it is one

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text = f"{text}; {self.hint}"
        return mask_urls(" ".join(text.split("\n")))


class ConfigError(MCPBundleError):
    """mcpbundle.toml (or an input it names) is wrong: exit 2."""

    exit_code = 2


class UsageError(MCPBundleError):
    """The command line is wrong: exit 2."""

    exit_code = 2


class BuildError(MCPBundleError):
    """The build could not produce a correct bundle: exit 1."""

    exit_code = 1


class ResolveError(BuildError):
    """The resolver could not pin a server's requirements: exit 1."""


class ResolverUnavailable(ResolveError):
    """The selected resolver cannot run at all (not installed): no server's requirements
    are to blame, so nothing is retried server by server."""


class GitError(BuildError):
    """A git operation (clone, commit, push) failed: exit 1."""


class CheckFailed(MCPBundleError):
    """``check`` or ``verify`` found errors: exit 1."""

    exit_code = 1
