"""``mcpbundle init`` on the real-world corpus: does it find every expected server?

For every case of the corpus (``../shared/realworld/<case>/`` with ``snapshot.tar.gz``
and ``expected.json``): extract the snapshot into a temp dir, make it a git repository
with one commit (as ``run.sh`` does; the snapshot carries no mcpbundle.toml), run
``mcpbundle init``, and compare the generated servers with ``expected.json``: a server
matches when the generated config has one with the same directory and the same
``path/entrypoint`` (file and object). With ``--build``, ``mcpbundle build`` runs on
the generated config too. With ``--corpus-out DIR`` the corpus is copied to DIR with
each case's ``mcpbundle.toml`` replaced by the generated one, for
``MCPB=.venv/bin/mcpbundle DIR/run.sh`` (which loads every bundle with the expected tools).

    python bench/init_realworld.py [--corpus DIR] [--build] [--corpus-out DIR] [--mcpbundle EXE]

Prints one line per case and ``init: N/M expected servers found (K more generated)``;
exits 0 when every expected server is found (and, with --build, every build succeeds).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "realworld"  # ../shared of the checkout
GIT_ENV = {
    "GIT_AUTHOR_NAME": "mcpbundle bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "mcpbundle bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}  # fmt: skip


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
    )  # fmt: skip


def prepare(case: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    with tarfile.open(case / "snapshot.tar.gz") as archive:
        archive.extractall(dest, filter="data")
    (dest / "mcpbundle.toml").unlink(missing_ok=True)
    git(dest, "init", "-q")
    git(dest, "add", "-A", "-f")
    git(dest, "commit", "-q", "--no-verify", "-m", "snapshot")
    return dest


def compare(expected: dict[str, dict[str, str]], config: dict[str, object]) -> list[str]:
    """Expected servers the generated config lacks (same directory, file and object)."""
    servers = config.get("servers", {})
    assert isinstance(servers, dict)
    generated = {
        (str(t["path"]).strip("/"), f"{str(t['path']).strip('/')}/{t['entrypoint']}")
        for t in servers.values()
    }
    return [
        name
        for name, server in expected.items()
        if (server["path"].strip("/"), server["entrypoint"]) not in generated
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--mcpbundle", default=str(HERE.parent / ".venv" / "bin" / "mcpbundle"))
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--corpus-out", type=Path)
    args = parser.parse_args()
    cases = sorted(p.parent for p in args.corpus.glob("*/expected.json"))
    if not cases:
        print(f"init_realworld.py: no cases (*/expected.json) in {args.corpus}; pass --corpus DIR")
        return 2
    if args.corpus_out is not None:
        shutil.copytree(args.corpus, args.corpus_out, dirs_exist_ok=False)
    found = total = extra = built = 0
    with tempfile.TemporaryDirectory(prefix="mcpbundle-init-bench-") as scratch:
        for case in cases:
            expected = json.loads((case / "expected.json").read_text())["servers"]
            repo = prepare(case, Path(scratch) / case.name)
            init = subprocess.run([args.mcpbundle, "init"], cwd=repo, capture_output=True,
                                  text=True, check=False)  # fmt: skip
            total += len(expected)
            if init.returncode != 0:
                print(f"{case.name}: init failed: {init.stderr.strip()}")
                continue
            text = (repo / "mcpbundle.toml").read_text()
            config = tomllib.loads(text)
            missing = compare(expected, config)
            generated = len(config.get("servers", {}))
            found += len(expected) - len(missing)
            extra += generated - (len(expected) - len(missing))
            line = f"{case.name}: {len(expected) - len(missing)}/{len(expected)} expected"
            line += f", {generated} generated" + (f"; missing {missing}" if missing else "")
            if args.build:
                done = subprocess.run([args.mcpbundle, "build", "-q"], cwd=repo,
                                      capture_output=True, text=True, check=False)  # fmt: skip
                ok = done.returncode == 0
                built += ok
                tail = done.stderr.strip().splitlines()[-1:] if not ok else []
                line += "; build ok" if ok else f"; build FAILED: {' '.join(tail)[:300]}"
            print(line)
            if args.corpus_out is not None:
                (args.corpus_out / case.name / "mcpbundle.toml").write_text(text)
    print(f"init: {found}/{total} expected servers found ({extra} more generated)")
    if args.build:
        print(f"init: {built}/{len(cases)} generated configs build")
    ok = found == total and (not args.build or built == len(cases))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
