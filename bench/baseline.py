"""The hand-written baseline: what a team does without mcpbundle.

For every server, one after the other: copy the server and the shared libraries
it installs with ``-e`` into ``OUT/<server>``, write a ``requirements.in`` with the
``-e`` lines replaced by the libraries' own dependencies, and run
``python -m piptools compile`` (or ``uv pip compile``) on it.

    python bench/baseline.py REPO OUT [--resolver pip-tools|uv] [--no-index] [--find-links DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from mcpbundle.base.runner import run


def _lib_dependencies(lib_dir: Path) -> list[str]:
    data = tomllib.loads((lib_dir / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data.get("project", {}).get("dependencies", []))


def _packages(lib_dir: Path) -> list[Path]:
    return [p for p in lib_dir.iterdir() if p.is_dir() and (p / "__init__.py").is_file()]


def bundle_server(server_dir: Path, out: Path) -> Path:
    """Copy the server and its ``-e`` libs into ``out``; write ``requirements.in``."""
    shutil.copytree(server_dir, out, dirs_exist_ok=True)
    lines: list[str] = []
    for raw in (server_dir / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("-e "):
            lib_dir = (server_dir / line[3:].strip()).resolve()
            for package in _packages(lib_dir):
                shutil.copytree(package, out / package.name, dirs_exist_ok=True)
            lines += _lib_dependencies(lib_dir)
        elif line and not line.startswith("#"):
            lines.append(line)
    (out / "requirements.txt").unlink(missing_ok=True)
    (out / "requirements.in").write_text("".join(f"{x}\n" for x in dict.fromkeys(lines)))
    return out


def compile_command(resolver: str, index_args: list[str]) -> list[str]:
    if resolver == "uv":
        import uv

        return [uv.find_uv_bin(), "pip", "compile", "--quiet", *index_args]
    return [sys.executable, "-m", "piptools", "compile", "--quiet", *index_args]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--resolver", choices=("pip-tools", "uv"), default="pip-tools")
    parser.add_argument("--no-index", action="store_true")
    parser.add_argument("--find-links", action="append", default=[])
    args = parser.parse_args(argv)
    index_args = ["--no-index"] if args.no_index else []
    for link in args.find_links:
        index_args += ["--find-links", link]
    env = dict(os.environ)
    if index_args:  # the given sources are the whole truth, as for mcpbundle
        env = {k: v for k, v in env.items() if not k.startswith(("PIP_", "UV_"))}
        env["PIP_CONFIG_FILE"] = os.devnull
    servers = sorted(p for p in (args.repo / "servers").iterdir() if p.is_dir())
    for server_dir in servers:
        out = bundle_server(server_dir, args.out / server_dir.name)
        cmd = [
            *compile_command(args.resolver, index_args),
            "-o",
            "requirements.txt",
            "requirements.in",
        ]
        done = run(cmd, cwd=out, env=env, timeout=1800)
        if done.returncode != 0:
            print(f"{server_dir.name}: {done.stderr[-2000:]}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
