"""``make bench``: mcpbundle against the hand-written baseline on synthetic monorepos.

    .venv/bin/python bench/run.py [--offline] [--servers N] [--libs K] [--modules M]
                                  [--repeat R] [--memory] [--json PATH]

Every figure is the median of R runs, each on a fresh copy of the monorepo and a
fresh cache (``MCPBUNDLE_CACHE_DIR``): cold build, no-op rebuild, rebuild after
touching one shared-lib module, rebuild after adding one requirement to one
server, ``mcpbundle check``; for pip-tools and uv; plus the baseline
(``bench/baseline.py``) and the time to hash every input file. ``--memory`` adds
the peak RSS of a 50-server cold build. Offline (default without network) the
packages come from a generated wheelhouse.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

import imports  # noqa: E402
import synth  # noqa: E402

from mcpbundle.base.runner import run  # noqa: E402

RESOLVERS = ("pip-tools", "uv")
MCPBUNDLE = str(Path(sys.executable).with_name("mcpbundle"))
# The targets: "cold build" is the default resolver's (pip-tools); uv's cold
# build is itself held to 0.5x of it. Ratios against uv's own cold build are shown
# too, as information (limit None): no verdict.
TARGETS = (
    # (label, numerator, denominator, limit)
    ("cold (pip-tools) / baseline (pip-tools)", "pip-tools.cold", "baseline.pip-tools", 0.2),
    ("cold (uv) / cold (pip-tools)", "uv.cold", "pip-tools.cold", 0.5),
    ("no-op (pip-tools) / cold (pip-tools)", "pip-tools.noop", "pip-tools.cold", 0.05),
    ("no-op (uv) / cold (pip-tools)", "uv.noop", "pip-tools.cold", 0.05),
    ("one-lib-touch (pip-tools) / cold (pip-tools)", "pip-tools.touch_lib", "pip-tools.cold", 0.1),
    ("one-lib-touch (uv) / cold (pip-tools)", "uv.touch_lib", "pip-tools.cold", 0.1),
    ("no-op (pip-tools) / hashing (python process)", "pip-tools.noop", "hash_inputs.python", 3.0),
    ("no-op (uv) / cold (uv)", "uv.noop", "uv.cold", None),
    ("one-lib-touch (uv) / cold (uv)", "uv.touch_lib", "uv.cold", None),
    ("no-op (pip-tools) / hashing (sha256sum)", "pip-tools.noop", "hash_inputs.sha256sum", None),
    ("no-op (pip-tools) / hashing (in-process)", "pip-tools.noop", "hash_inputs.in_process", None),
)
HASH_SCRIPT = (
    "import hashlib, os, sys\n"
    "root = sys.argv[1]\n"
    "digest = hashlib.sha256()\n"
    "for top, dirs, files in os.walk(root):\n"
    "    dirs[:] = sorted(d for d in dirs if not (top == root and d in ('dist', '.git')))\n"
    "    for name in sorted(files):\n"
    "        with open(os.path.join(top, name), 'rb') as handle:\n"
    "            digest.update(hashlib.sha256(handle.read()).digest())\n"
    "print(digest.hexdigest())\n"
)
MEMORY_LIMIT_MB = 300.0


def network_available() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
    except OSError:
        return False
    return True


def cli_features() -> dict[str, bool]:
    top = run([MCPBUNDLE, "--help"], timeout=120).stdout
    build_help = run([MCPBUNDLE, "build", "--help"], timeout=120).stdout
    return {"check": "\n  check " in top, "no_cache": "--no-cache" in build_help}


def bench_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MCPBUNDLE_CACHE_DIR=str(cache),
        FASTMCP_CHECK_FOR_UPDATES="off",
        UV_PYTHON_DOWNLOADS="never",
    )
    return env


def timed(cmd: list[str], *, cwd: Path, env: dict[str, str], what: str) -> float:
    start = time.perf_counter()
    done = run(cmd, cwd=cwd, env=env, timeout=3600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{what} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed


def hash_inputs(root: Path) -> dict[str, float]:
    """Just hashing every input file: in this process, as a Python process, with sha256sum."""
    start = time.perf_counter()
    digest = hashlib.sha256()
    for path in synth.input_files(root):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    times = {"in_process": time.perf_counter() - start}
    env = dict(os.environ)
    times["python"] = timed([sys.executable, "-c", HASH_SCRIPT, str(root)], cwd=root, env=env,
                            what="hashing with python")  # fmt: skip
    files = [str(p.relative_to(root)) for p in synth.input_files(root)]
    if shutil.which("sha256sum"):
        times["sha256sum"] = timed(["sha256sum", *files], cwd=root, env=env, what="sha256sum")
    return times


def mcpbundle_round(
    template: Path, work: Path, step: int, online: bool, features: dict[str, bool]
) -> dict[str, float]:
    """One run of every mcpbundle scenario on a fresh copy and a fresh cache."""
    repo = work / f"repo-{step}"
    shutil.copytree(template, repo)
    env = bench_env(work / f"cache-{step}")
    build = [MCPBUNDLE, "-q", "build"]
    times = {"cold": timed(build, cwd=repo, env=env, what="cold build")}
    times["noop"] = timed(build, cwd=repo, env=env, what="no-op rebuild")
    synth.touch_module(repo, step)
    times["touch_lib"] = timed(build, cwd=repo, env=env, what="rebuild after a lib touch")
    synth.add_requirement(repo, step, online)
    times["add_requirement"] = timed(build, cwd=repo, env=env, what="rebuild after a new req")
    if features["no_cache"]:
        times["no_cache"] = timed([*build, "--no-cache"], cwd=repo, env=env, what="--no-cache")
    if features["check"]:
        start = time.perf_counter()
        run([MCPBUNDLE, "-q", "check"], cwd=repo, env=env, timeout=3600)  # findings are fine
        times["check"] = time.perf_counter() - start
    shutil.rmtree(repo, ignore_errors=True)
    return times


def baseline_round(
    template: Path, work: Path, step: int, resolver: str, wheelhouse: Path | None
) -> float:
    out = work / f"baseline-{resolver}-{step}"
    cmd = [sys.executable, str(BENCH / "baseline.py"), str(template), str(out)]
    cmd += ["--resolver", resolver]
    if wheelhouse is not None:
        cmd += ["--no-index", "--find-links", str(wheelhouse)]
    elapsed = timed(cmd, cwd=work, env=bench_env(work / "baseline-cache"), what="baseline")
    shutil.rmtree(out, ignore_errors=True)
    return elapsed


def median_of(repeat: int, measure: Callable[[int], dict[str, float]]) -> dict[str, float]:
    rounds = [measure(step) for step in range(repeat)]
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def peak_memory_mb(template: Path, work: Path) -> float:
    """Peak RSS (MB) of the largest process of a cold build (mcpbundle or a resolver)."""
    repo = work / "memory-repo"
    shutil.copytree(template, repo)
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "if done.returncode: sys.stderr.write(done.stderr.decode()[-3000:]); sys.exit(1)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    env = bench_env(work / "memory-cache")
    done = run([sys.executable, "-c", probe, MCPBUNDLE, "-q", "build"], cwd=repo, env=env)
    if done.returncode != 0:
        raise SystemExit(f"memory build failed:\n{done.stderr}")
    kib = int(done.stdout.split()[-1])
    return kib / (1024 * 1024) if sys.platform == "darwin" else kib / 1024


def lookup(results: dict[str, Any], dotted: str) -> float | None:
    node: Any = results
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node)


def report(results: dict[str, Any]) -> str:
    rows = [f"{'scenario':<28}" + "".join(f"{r:>12}" for r in RESOLVERS)]
    scenarios = list(results[RESOLVERS[0]])
    for scenario in scenarios:
        cells = "".join(f"{results[r][scenario]:>11.2f}s" for r in RESOLVERS)
        rows.append(f"{scenario:<28}{cells}")
    base = results["baseline"]
    rows.append(
        f"{'baseline (hand-written)':<28}" + "".join(f"{base[r]:>11.2f}s" for r in RESOLVERS)
    )
    for how, seconds in sorted(results["hash_inputs"].items()):
        rows.append(f"{'hash all inputs, ' + how.replace('_', '-'):<28}{seconds:>11.4f}s")
    rows += ["", f"{'target':<46}{'ratio':>8}{'limit':>8}  result"]
    for check in results["targets"]:
        ratio = "n/a" if check["ratio"] is None else f"{check['ratio']:.3f}"
        verdict = {True: "ok", False: "MISSED", None: "(info)"}[check["ok"]]
        limit = "-" if check["limit"] is None else check["limit"]
        rows.append(f"{check['target']:<46}{ratio:>8}{limit:>8}  {verdict}")
    if "memory_mb" in results:
        mem = results["memory_mb"]
        verdict = "ok" if mem < MEMORY_LIMIT_MB else "MISSED"
        rows.append(f"{'50-server peak RSS (MB)':<46}{mem:>8.1f}{MEMORY_LIMIT_MB:>8.0f}  {verdict}")
    return "\n".join(rows)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for label, numerator, denominator, limit in TARGETS:
        top, bottom = lookup(results, numerator), lookup(results, denominator)
        ratio = None if top is None or not bottom else top / bottom
        ok = None if ratio is None or limit is None else ratio <= limit
        checks.append({"target": label, "ratio": ratio, "limit": limit, "ok": ok})
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="generated wheelhouse, no network")
    parser.add_argument("--online", action="store_true", help="real PyPI (default with network)")
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--libs", type=int, default=3)
    parser.add_argument("--modules", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="also: 50-server peak RSS")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    args = parser.parse_args(argv)
    online = args.online or (not args.offline and network_available())
    features = cli_features()
    with tempfile.TemporaryDirectory(prefix="mcpbundle-bench-") as tmp:
        work = Path(tmp)
        wheelhouse = None if online else synth.make_wheelhouse(work / "wheelhouse")
        results: dict[str, Any] = {}
        for resolver in RESOLVERS:
            shape = synth.Shape(
                servers=args.servers,
                libs=args.libs,
                modules=args.modules,
                resolver=resolver,
                online=online,
                wheelhouse=wheelhouse,
            )
            template = synth.make_monorepo(work / f"template-{resolver}", shape)
            print(f"mcpbundle with {resolver} ...", file=sys.stderr, flush=True)
            results[resolver] = median_of(
                args.repeat,
                lambda step, t=template: mcpbundle_round(t, work, step, online, features),
            )
            print(f"baseline with {resolver} ...", file=sys.stderr, flush=True)
            base = median_of(
                args.repeat,
                lambda step, t=template, r=resolver: {
                    "t": baseline_round(t, work, step, r, wheelhouse)
                },
            )
            results.setdefault("baseline", {})[resolver] = base["t"]
        template = work / f"template-{RESOLVERS[0]}"
        results["hash_inputs"] = median_of(max(args.repeat, 5), lambda _s: hash_inputs(template))
        if args.memory:
            print("50-server build for peak memory ...", file=sys.stderr, flush=True)
            big = synth.Shape(
                servers=50, libs=args.libs, modules=args.modules, online=online,
                wheelhouse=wheelhouse,
            )  # fmt: skip
            results["memory_mb"] = peak_memory_mb(synth.make_monorepo(work / "big", big), work)
        results["targets"] = targets(results)
        results["imports_ms"] = imports.import_costs()
    results["params"] = {
        "servers": args.servers,
        "libs": args.libs,
        "modules": args.modules,
        "repeat": args.repeat,
        "mode": "online" if online else "offline",
        "features": features,
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "cpus": os.cpu_count(),
        "git": _git_head(),
    }
    print(report(results))
    print("\n" + imports.report(results["imports_ms"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


def _git_head() -> str | None:
    try:
        done = run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH.parent, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
