"""``make bench``: mcpbundle on synthetic monorepos of 10 and 50 servers (200 with --large).

    .venv/bin/python bench/run.py [--large] [--sizes 10,50] [--offline|--online]
                                  [--repeat R] [--libs K] [--modules M] [--no-verify]
                                  [--no-round1] [--json PATH]
    make bench ARGS="--large"

At every size (uv resolver, a fresh copy of the monorepo and a fresh mcpbundle cache
per run, medians of R runs): cold build, no-op, one shared-lib module touched,
``check``, one requirement added, and the floors of ``bench/figures.py`` they are held
to; at the smallest size also ``verify`` with no venvs and with venvs (online only:
verify installs the real fastmcp) and round 1 (pip-tools against uv against the
hand-written ``bench/baseline.py``); at the largest size the peak RSS of a cold build.
Prints the scaling table (each figure at each size and its growth per size step) and
the targets, and writes everything to ``bench/results/latest.json``. Offline (the
default without network) the packages come from a generated wheelhouse.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import figures  # noqa: E402
import imports  # noqa: E402
import synth  # noqa: E402
import table  # noqa: E402

SIZES = (10, 50)
LARGE = 200


def network_available() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
    except OSError:
        return False
    return True


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure_size(
    servers: int, args: argparse.Namespace, work: Path, wheelhouse: Path | None, *, verify: bool
) -> dict[str, Any]:
    shape = synth.Shape(
        servers=servers, libs=args.libs, modules=args.modules, resolver="uv",
        online=wheelhouse is None, wheelhouse=wheelhouse,
    )  # fmt: skip
    here = work / f"size-{servers}"
    template = synth.make_monorepo(here / "template", shape)
    progress(f"{servers} servers: builds and check ...")
    online = wheelhouse is None
    found = figures.repeated(
        args.repeat, lambda step: figures.build_round(template, here, step, online)
    )
    progress(f"{servers} servers: floors ...")
    index = [] if wheelhouse is None else ["--no-index", "--find-links", str(wheelhouse)]
    found.update(
        figures.repeated(args.repeat, lambda _step: figures.floors_round(template, here, index))
    )
    if verify:
        progress(f"{servers} servers: verify ...")
        found.update(
            figures.repeated(
                args.repeat, lambda step: figures.verify_round(template, here, step, 1)
            )
        )
    shutil.rmtree(here, ignore_errors=True)
    return found


def round1(
    servers: int, args: argparse.Namespace, work: Path, wheelhouse: Path | None, uv: dict[str, Any]
) -> dict[str, Any]:
    """Round 1's comparison: pip-tools, and the hand-written baseline with either resolver."""
    here = work / "round1"
    online = wheelhouse is None
    result: dict[str, Any] = {"servers": servers, "uv": uv, "baseline": {}}
    for resolver in ("pip-tools", "uv"):
        shape = synth.Shape(
            servers=servers, libs=args.libs, modules=args.modules, resolver=resolver,
            online=online, wheelhouse=wheelhouse,
        )  # fmt: skip
        template = synth.make_monorepo(here / f"template-{resolver}", shape)
        if resolver == "pip-tools":
            progress(f"round 1: mcpbundle with pip-tools, {servers} servers ...")
            result[resolver] = figures.repeated(
                args.repeat, lambda step, t=template: figures.build_round(t, here, step, online)
            )
        progress(f"round 1: hand-written baseline with {resolver} ...")
        base = figures.repeated(
            args.repeat,
            lambda step, t=template, r=resolver: {"t": _baseline(t, here, step, r, wheelhouse)},
        )
        result["baseline"][resolver] = base["t"]
    result["targets"] = table.round1_targets(result)
    shutil.rmtree(here, ignore_errors=True)
    return result


def _baseline(
    template: Path, work: Path, step: int, resolver: str, wheelhouse: Path | None
) -> figures.Sample:
    out = work / f"baseline-{resolver}-{step}"
    cmd = [sys.executable, str(BENCH / "baseline.py"), str(template), str(out)]
    cmd += ["--resolver", resolver]
    if wheelhouse is not None:
        cmd += ["--no-index", "--find-links", str(wheelhouse)]
    env = figures.bench_env(work / "baseline-cache")
    sample = figures.timed(cmd, cwd=work, env=env, what="baseline")
    shutil.rmtree(out, ignore_errors=True)
    return sample


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="generated wheelhouse, no network")
    parser.add_argument("--online", action="store_true", help="real PyPI (default with network)")
    parser.add_argument("--large", action="store_true", help=f"add the {LARGE}-server size")
    parser.add_argument("--sizes", default=None, help="comma-separated server counts")
    parser.add_argument("--libs", type=int, default=3)
    parser.add_argument("--modules", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-verify", action="store_true", help="skip verify")
    parser.add_argument("--no-round1", action="store_true", help="skip pip-tools and baseline")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(SIZES)
    if args.large and LARGE not in sizes:
        sizes.append(LARGE)
    sizes.sort()
    online = args.online or (not args.offline and network_available())
    verify = online and not args.no_verify
    results: dict[str, Any] = {"sizes": {}}
    results["bytecode"] = compile_installed()
    with tempfile.TemporaryDirectory(prefix="mcpbundle-bench-") as tmp:
        work = Path(tmp)
        wheelhouse = None if online else synth.make_wheelhouse(work / "wheelhouse")
        for servers in sizes:
            results["sizes"][str(servers)] = measure_size(
                servers, args, work, wheelhouse, verify=verify and servers == sizes[0]
            )
        largest = sizes[-1]
        progress(f"{largest} servers: peak memory of a cold build ...")
        shape = synth.Shape(
            servers=largest, libs=args.libs, modules=args.modules, resolver="uv",
            online=online, wheelhouse=wheelhouse,
        )  # fmt: skip
        template = synth.make_monorepo(work / "memory-template", shape)
        results["memory_mb"] = figures.peak_memory_mb(template, work)
        results["memory_servers"] = largest
        if not args.no_round1:
            results["round1"] = round1(
                sizes[0], args, work, wheelhouse, results["sizes"][str(sizes[0])]
            )
    results["targets"] = table.scaling_targets(results)
    results["imports_ms"] = imports.import_costs()
    results["params"] = {
        "sizes": sizes,
        "libs": args.libs,
        "modules": args.modules,
        "repeat": args.repeat,
        "mode": "online" if online else "offline",
        "verify": verify,
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "cpus": os.cpu_count(),
        "git": _git_head(),
    }
    print(table.report(results))
    print("\n" + imports.report(results["imports_ms"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    progress(f"\nwrote {args.json}")
    return 0


def compile_installed() -> str:
    """Write the bytecode of the mcpbundle under test, as a wheel install does.

    An editable install (``make dev``) has none, and with ``PYTHONDONTWRITEBYTECODE`` set
    (some machines set it globally) Python never writes it: every command would then compile
    mcpbundle's own modules from source, a cost no installed copy pays."""
    import compileall

    import mcpbundle

    package = Path(mcpbundle.__file__).resolve().parent
    compileall.compile_dir(package, quiet=1)
    return str(package)


def _git_head() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH.parent,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
