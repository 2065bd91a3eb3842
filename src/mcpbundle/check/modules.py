"""Dotted module names a bundle provides, per ``sys.path`` root (for MCB004)."""

from __future__ import annotations

from dataclasses import dataclass

from mcpbundle.check.model import CheckTarget

MODULE_SUFFIXES = (".py", ".so", ".pyd")


def root_prefix(root: str) -> str:
    root = root.strip("/")
    return "" if root in {"", "."} else root + "/"


@dataclass(frozen=True)
class BundleModules:
    """Dotted module names the bundle provides, per ``sys_path`` root."""

    roots: tuple[str, ...]  # prefixes, "" or "src/"
    modules: frozenset[str]  # every importable dotted name under any root
    elsewhere: dict[str, str]  # top-level name -> bundle dir holding it, off sys.path
    # (prefix, package parts): a dir whose modules the entry shim registers as submodules of
    # a package (a subpackage server: "" -> ("tools_pkg", "calc"))
    packaged: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def build(
        cls, target: CheckTarget, extra: tuple[str, ...] = (), *, only: bool = False
    ) -> BundleModules:
        """Modules under the target's ``sys_path`` and the ``extra`` bundle dirs
        (only under ``extra`` when ``only``), and the packages the entry shim registers."""
        chosen = extra if only else (*target.sys_path, *extra)
        roots = tuple(root_prefix(r) for r in chosen) or ("",)
        packages = () if only else target.packages
        packaged = tuple(
            (root_prefix(d), tuple(name.split("."))) for d, name in packages if d is not None
        )
        bases = [*((prefix, ()) for prefix in roots), *packaged]
        modules: set[str] = set()
        for _, name in packages:
            parts = name.split(".")
            modules.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        elsewhere: dict[str, str] = {}
        for path in sorted(target.files):
            if not path.endswith(MODULE_SUFFIXES):
                continue
            parts = path.split("/")
            for i, part in enumerate(parts):
                name = part.split(".", 1)[0] if i == len(parts) - 1 else part
                if name.isidentifier() and name != "__init__":
                    elsewhere.setdefault(name, "/".join(parts[:i]) or ".")
            for prefix, package in bases:
                if not path.startswith(prefix):
                    continue
                parts = path[len(prefix) :].split("/")
                stem = parts[-1].split(".", 1)[0]
                dirs = [*package, *parts[:-1]]
                if not all(d.isidentifier() for d in dirs):
                    continue
                for i in range(1, len(dirs) + 1):  # packages and namespace dirs
                    modules.add(".".join(dirs[:i]))
                if stem != "__init__" and stem.isidentifier():
                    modules.add(".".join([*dirs, stem]))
        return cls(roots=roots, modules=frozenset(modules), elsewhere=elsewhere, packaged=packaged)

    def depths(self, bundle_path: str) -> list[tuple[str, list[str]]]:
        """``(root, package parts)`` for each root the file is under (and each package
        the shim registers over its directory, with that package's parts first)."""
        out = []
        bases = [*((prefix, ()) for prefix in self.roots), *self.packaged]
        for prefix, package in bases:
            if bundle_path.startswith(prefix):
                parts = bundle_path[len(prefix) :].split("/")[:-1]
                out.append((prefix, [*package, *parts]))
        return out
