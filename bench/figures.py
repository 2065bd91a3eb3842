"""What ``make bench`` measures: mcpbundle's scenarios and the floors they are held to.

Every measurement runs a command as a child process and records its wall time and
its CPU time (user + system of the child and everything it waited for), so a
figure taken on a busy machine can be read next to the work it did.

Floors (the least work any tool must do for the same result):

- ``interpreter``: ``python -c pass`` with the interpreter mcpbundle runs on;
- ``ast_floor``: one Python process that reads and ``ast.parse``\\ s every Python file each
  server ships (its own files and the shared libraries it vendors: a library vendored
  by n servers is parsed n times, as a per-server linter would);
- ``compile_floor``: one ``uv pip compile`` of the union of every server's requirements
  (the libraries' PyPI dependencies included), with the same index options and caches;
- ``copy_sources`` / ``copy_dist``: ``cp -r`` of the source tree (``servers/``, ``libs/``)
  and of the ``dist/`` the cold build produced;
- ``import_floor`` (information): ``python -c "import click, packaging..., pathspec"``, the
  third-party imports any check built on these dependencies pays before its own code;
- ``relink_dist`` (information): ``cp -al dist/`` plus ``rm -rf`` of that copy, the least an
  all-or-nothing rebuild of the output does (a tree of links, the old tree removed);
- ``inspect_floor``: one ``fastmcp inspect`` of a built server in its existing venv.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import synth

MCPBUNDLE = str(Path(sys.executable).with_name("mcpbundle"))
AST_SCRIPT = (
    "import ast, sys\n"
    "for path in sys.argv[1:]:\n"
    "    with open(path, 'rb') as handle:\n"
    "        ast.parse(handle.read(), path)\n"
)

# what any check built on mcpbundle's dependencies imports before its own code runs
IMPORT_SCRIPT = "import ast, click, packaging.requirements, packaging.specifiers, pathspec\n"


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    cmd: list[str], *, cwd: Path, env: Mapping[str, str], what: str, ok: bool = True
) -> Sample:
    """Run ``cmd``; its wall and CPU seconds. ``ok=False``: a non-zero exit is fine."""
    cpu = _cpu_children()
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if ok and done.returncode != 0:
        raise SystemExit(f"{what} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return Sample(wall, _cpu_children() - cpu)


def median(samples: list[Sample]) -> dict[str, float]:
    return {
        "wall": statistics.median(s.wall for s in samples),
        "cpu": statistics.median(s.cpu for s in samples),
    }


def medians(rounds: list[dict[str, Sample]]) -> dict[str, dict[str, float]]:
    return {key: median([r[key] for r in rounds if key in r]) for key in rounds[0]}


def bench_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MCPBUNDLE_CACHE_DIR=str(cache),
        FASTMCP_CHECK_FOR_UPDATES="off",
        UV_PYTHON_DOWNLOADS="never",
    )
    return env


# ------------------------------------------------------------------ mcpbundle


def build_round(template: Path, work: Path, step: int, online: bool) -> dict[str, Sample]:
    """Cold build, no-op, one-lib touch (twice), ``check``, one requirement added: a fresh copy
    and cache.

    The floors that need this round's output (``cp -r`` of ``dist/``) are taken here too."""
    repo = work / f"repo-{step}"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(template, repo)
    env = bench_env(work / f"cache-{step}")
    build = [MCPBUNDLE, "-q", "build"]
    times = {"cold": timed(build, cwd=repo, env=env, what="cold build")}
    times["noop"] = timed(build, cwd=repo, env=env, what="no-op rebuild")
    synth.touch_module(repo, step)
    times["touch_lib"] = timed(build, cwd=repo, env=env, what="rebuild after a lib touch")
    # the first rebuild after a cold build has no spare (the output before the previous
    # one) to start from; every later one does: the edit-rebuild loop
    synth.touch_module(repo, step + 1000)
    times["touch_lib_again"] = timed(build, cwd=repo, env=env, what="rebuild after a 2nd touch")
    # findings are fine: exit 1 is a finding, not a failure of the benchmark
    times["check"] = timed([MCPBUNDLE, "-q", "check"], cwd=repo, env=env, what="check", ok=False)
    synth.add_requirement(repo, step, online)
    times["add_requirement"] = timed(build, cwd=repo, env=env, what="rebuild after a new req")
    # The floors that copy and link dist/ run last (dist/ is as large as the cold build
    # left it): a tree of links changes the ctimes of the output's inodes, so the next
    # build hashes them again as after any change, and removing the copies keeps this
    # VM's disk (ext4 with discard) busy for whatever runs next.
    copy = work / f"dist-copy-{step}"
    times["copy_dist"] = timed(["cp", "-r", "dist", str(copy)], cwd=repo, env=env, what="cp -r")
    shutil.rmtree(copy, ignore_errors=True)
    times["relink_dist"] = _relink(repo, work / f"dist-links-{step}", env)
    shutil.rmtree(repo, ignore_errors=True)
    shutil.rmtree(work / f"cache-{step}", ignore_errors=True)
    return times


def _relink(repo: Path, links: Path, env: Mapping[str, str]) -> Sample:
    """``cp -al dist/`` then ``rm -rf`` of the copy: the least a rebuild that keeps the old
    output whole until one swap does (a new tree of links to the unchanged files, the old
    tree removed), whatever changed."""
    shutil.rmtree(links, ignore_errors=True)
    made = timed(["cp", "-al", "dist", str(links)], cwd=repo, env=env, what="cp -al")
    removed = timed(["rm", "-rf", str(links)], cwd=repo, env=env, what="rm -rf")
    return Sample(made.wall + removed.wall, made.cpu + removed.cpu)


def floors_round(template: Path, work: Path, resolver_args: list[str]) -> dict[str, Sample]:
    """The floors that need only the source tree."""
    env = bench_env(work / "floor-cache")
    times = {"interpreter": timed([sys.executable, "-c", "pass"], cwd=work, env=env, what="python")}
    times["import_floor"] = timed(
        [sys.executable, "-c", IMPORT_SCRIPT], cwd=work, env=env, what="dependency imports"
    )
    files = [str(p) for p in synth.shipped_python_files(template)]
    times["ast_floor"] = timed(
        [sys.executable, "-c", AST_SCRIPT, *files], cwd=work, env=env, what="ast.parse floor"
    )
    union = work / "union.in"
    union.write_text("".join(f"{line}\n" for line in synth.union_requirements(template)))
    compile_cmd = [uv_bin(), "pip", "compile", "--quiet", *resolver_args, str(union)]
    times["compile_floor"] = timed(
        [*compile_cmd, "-o", str(work / "union.txt")], cwd=work, env=env, what="uv pip compile"
    )
    copy = work / "source-copy"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir()
    times["copy_sources"] = timed(
        ["cp", "-r", "servers", "libs", str(copy)], cwd=template, env=env, what="cp -r"
    )
    shutil.rmtree(copy, ignore_errors=True)
    return times


def uv_bin() -> str:
    import uv

    return str(uv.find_uv_bin())


# --------------------------------------------------------------------- verify

_VENV_LINE = re.compile(r"^  venv: (\S+)", re.MULTILINE)


def verify_round(template: Path, work: Path, step: int, repeat: int) -> dict[str, Sample]:
    """Cold ``verify`` (no venv yet; uv's own cache as it is), then ``repeat`` warm ones, and
    ``fastmcp inspect`` of the first server in its venv."""
    repo = work / f"verify-repo-{step}"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(template, repo)
    env = bench_env(work / f"verify-cache-{step}")
    timed([MCPBUNDLE, "-q", "build"], cwd=repo, env=env, what="build for verify")
    verify = [MCPBUNDLE, "verify"]
    times = {"verify_cold": timed(verify, cwd=repo, env=env, what="cold verify")}
    warm = [timed(verify, cwd=repo, env=env, what="warm verify") for _ in range(repeat)]
    times["verify_warm"] = sorted(warm, key=lambda s: s.wall)[len(warm) // 2]
    shown = subprocess.run(
        [*verify, "srv00"], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout
    found = _VENV_LINE.search(shown)
    if found is None:
        raise SystemExit(f"no venv in verify's report:\n{shown}")
    inspect = [str(Path(found.group(1)) / "bin" / "fastmcp"), "inspect", "server.py"]
    where = repo / "dist" / "servers" / "srv00"
    runs = [timed(inspect, cwd=where, env=env, what="fastmcp inspect") for _ in range(repeat)]
    times["inspect_floor"] = sorted(runs, key=lambda s: s.wall)[len(runs) // 2]
    shutil.rmtree(repo, ignore_errors=True)
    shutil.rmtree(work / f"verify-cache-{step}", ignore_errors=True)
    return times


# --------------------------------------------------------------------- memory


def peak_memory_mb(template: Path, work: Path) -> float:
    """Peak RSS (MB) of the largest process of a cold build (mcpbundle or a resolver)."""
    repo = work / "memory-repo"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(template, repo)
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "if done.returncode: sys.stderr.write(done.stderr.decode()[-3000:]); sys.exit(1)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    env = bench_env(work / "memory-cache")
    done = subprocess.run(
        [sys.executable, "-c", probe, MCPBUNDLE, "-q", "build"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"memory build failed:\n{done.stderr}")
    shutil.rmtree(repo, ignore_errors=True)
    kib = int(done.stdout.split()[-1])
    return kib / (1024 * 1024) if sys.platform == "darwin" else kib / 1024


def repeated(
    repeat: int, measure: Callable[[int], dict[str, Sample]]
) -> dict[str, dict[str, float]]:
    return medians([measure(step) for step in range(repeat)])
