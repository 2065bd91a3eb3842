"""Import a library that imports ``requests`` only to reach the network, without it.

detect-secrets imports ``requests`` in nearly every plugin module for one purpose:
verifying a found secret by sending it to its service. mcpbundle never verifies (it
would send the user's secret away), and importing requests (urllib3, ssl, http.client,
charset-normalizer, ...) cost each process that scans more than the scan: about 0.15 s
of a ``check`` at 10 servers. :func:`load_offline` imports such a library while
``sys.modules["requests"]`` is a stand-in whose network functions raise, so the
library's copy of ``requests`` cannot send anything; afterwards the entry is removed
again, and any other import of requests in the process gets the real one.

If the library needs more of requests at import than the stand-in has (a later
version might), its half-imported modules are forgotten and it is imported again with
the real requests: slower, never wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from types import ModuleType, SimpleNamespace
from typing import TypeVar

T = TypeVar("T")

CLIENT = "requests"
REFUSAL = "mcpbundle does not let a secret scanner reach the network"


class RequestException(OSError):
    """Stands in for ``requests.exceptions.RequestException`` (what a verifier catches)."""


class Response:
    """Stands in for ``requests.Response`` (used in annotations at import time)."""


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise RequestException(REFUSAL)


def stand_in() -> ModuleType:
    """A ``requests`` with the names imported code reads, and no way to the network."""
    module = ModuleType(CLIENT, f"stand-in for {CLIENT}: {REFUSAL}")
    module.exceptions = SimpleNamespace(RequestException=RequestException)  # type: ignore[attr-defined]
    module.RequestException = RequestException  # type: ignore[attr-defined]
    module.Response = Response  # type: ignore[attr-defined]
    for verb in ("request", "get", "head", "post", "put", "patch", "delete", "options"):
        setattr(module, verb, _refuse)
    module.Session = _refuse  # type: ignore[attr-defined]
    return module


def load_offline(load: Callable[[], T], packages: Iterable[str]) -> T:
    """``load()`` (which imports ``packages``) with the stand-in in place of requests.

    When requests is imported already there is nothing to save and ``load`` runs as is.
    When ``load`` fails under the stand-in, the modules of ``packages`` it imported are
    forgotten and it runs again with the real requests."""
    if CLIENT in sys.modules:
        return load()
    fake = stand_in()
    sys.modules[CLIENT] = fake
    try:
        return load()
    except Exception:  # it needed more of requests than the stand-in has
        pass  # so it is imported again below, with the real one
    finally:
        if sys.modules.get(CLIENT) is fake:
            del sys.modules[CLIENT]
    forget(packages)
    return load()


def forget(packages: Iterable[str]) -> None:
    """Remove ``packages`` and their submodules from ``sys.modules``."""
    names = tuple(packages)
    prefixes = tuple(f"{name}." for name in names)
    for name in [n for n in sys.modules if n in names or n.startswith(prefixes)]:
        del sys.modules[name]
