"""The GitHub Actions workflow ``mcpbundle ci github`` writes to ``.github/workflows/``.

* Pull requests: ``check --format github``, then ``affected --since <base> --json``
  feeding a matrix that verifies each affected server on a runner of its own, a job
  that appends ``diff --format markdown`` of the affected servers (their MCP surface
  against the deploy branch) to the job summary (a gate with ``[ci] fail-on``), then a
  summary job. Permissions: ``contents: read``.
* Pushes to the default branch: the same verification, then the deploy job
  (``build --branch ... --push``) with ``contents: write`` in one concurrency group
  that is never cancelled, so two merges never push at once.

Everything comes from the config (``[ci]``, ``[bundle] branch``/``python``/``resolver``):
the same config gives the same text. mcpbundle's cache directory is cached, keyed on
``mcpbundle.toml``, the requirement inputs and the locks.

Actions are pinned to full commit SHAs, the version as a comment. Each SHA was taken
from a public workflow file that uses it (found with a code search; none is made up):

* ``actions/checkout`` v6.0.2: astral-sh/uv, ``.github/workflows/test.yml``
* ``actions/setup-python`` v6.2.0: astral-sh/uv, ``.github/workflows/check-docs.yml``
* ``astral-sh/setup-uv`` v7.3.0: astral-sh/uv, ``.github/workflows/check-docs.yml``
  and ``publish-pypi.yml``
* ``actions/cache`` v4.3.0: cboyd0319/PyGuard, ``.github/ACTIONS_VERSIONS.md`` (the pins
  of its workflows)
* (this repository's own release workflow, ``.github/workflows/release.yml``:
  ``actions/upload-artifact`` v4.6.2 from astral-sh/uv
  ``.github/workflows/build-dev-binaries.yml``, ``actions/download-artifact`` v4.3.0
  from astral-sh/uv ``.github/workflows/publish-pypi.yml``,
  ``pypa/gh-action-pypi-publish`` release/v1 from pypa/pip
  ``.github/workflows/release.yml``)
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpbundle import __version__
from mcpbundle.base.errors import UsageError
from mcpbundle.config.ci_settings import (
    PYTHON,
    branch_problem,
    directory_problem,
    fail_on_problem,
    install_problem,
)

WORKFLOW_PATH = ".github/workflows/mcpbundle-deploy.yml"

CHECKOUT = "actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2"
SETUP_PYTHON = "actions/setup-python@a309ff8b426b58ec0e2a45f0f869d46889d02405 # v6.2.0"
SETUP_UV = "astral-sh/setup-uv@eac588ad8def6316056a12d4907a9d4d84ff7a3b # v7.3.0"
CACHE = "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830 # v4.3.0"
PINNED = (CHECKOUT, SETUP_PYTHON, SETUP_UV, CACHE)


@dataclass(frozen=True, kw_only=True)
class WorkflowSettings:
    """What the generated GitHub workflow is made from (``[ci]`` and ``[bundle]``)."""

    python: str = "3.12"
    branch: str = "deploy"  # the deploy branch ([bundle] branch)
    default_branch: str = "main"  # pushes to it deploy; pull requests into it verify
    install: str = f"mcpbundle=={__version__}"
    resolver: str = "pip-tools"
    working_directory: str = "."  # where mcpbundle.toml is, relative to the repository
    split: bool = False  # build --split: one branch per server (push-to keys imply it)
    fail_on: str | None = None  # [ci] fail-on: `diff --fail-on` in pull requests (None: no gate)
    submodules: bool = False  # the repository has a .gitmodules: check them out too


def _check(settings: WorkflowSettings) -> None:
    problems = [
        ("--python", None if PYTHON.match(settings.python) else "is not a version like 3.12"),
        ("--branch", branch_problem(settings.branch)),
        ("[ci] default-branch", branch_problem(settings.default_branch)),
        ("--install", install_problem(settings.install)),
        ("[ci] working-directory", directory_problem(settings.working_directory)),
        ("[ci] fail-on", fail_on_problem(settings.fail_on) if settings.fail_on else None),
    ]
    for where, problem in problems:
        if problem:
            raise UsageError(f"value {problem}", where=where)


def _setup(s: WorkflowSettings, *, credentials: bool) -> list[str]:
    """The steps every job starts with: checkout, Python, uv, mcpbundle's cache, install."""
    wd = "" if s.working_directory in (".", "") else s.working_directory.strip("/") + "/"
    inputs = ", ".join(
        f"'{wd}{glob}'"
        for glob in ("mcpbundle.toml", "**/requirements*.txt", "**/pyproject.toml",
                     "**/*.lock", "**/pylock*.toml", "**/constraints*.txt")
    )  # fmt: skip
    key = f"mcpbundle-${{{{ runner.os }}}}-py{s.python}"
    lines = [
        "      - name: Check out with full history (for affected --since and the deploy branch)",
        f"        uses: {CHECKOUT}",
        "        with:",
        "          fetch-depth: 0",
    ]
    if s.submodules:  # shared code kept in a submodule ships only when it is checked out
        lines.append("          submodules: recursive")
    if not credentials:
        lines.append("          persist-credentials: false")
    lines += [
        "      - name: Set up Python",
        f"        uses: {SETUP_PYTHON}",
        "        with:",
        f'          python-version: "{s.python}"',
    ]
    if s.resolver == "uv":
        lines += ['      - name: Set up uv (resolver = "uv")', f"        uses: {SETUP_UV}"]
    lines += [
        "      - name: Keep mcpbundle's cache in this runner's temporary directory",
        '        run: echo "MCPBUNDLE_CACHE_DIR=${RUNNER_TEMP}/mcpbundle-cache" >> "$GITHUB_ENV"',
        "      - name: Restore mcpbundle's cache (pins, git checkouts, verify venvs)",
        f"        uses: {CACHE}",
        "        with:",
        "          path: ${{ runner.temp }}/mcpbundle-cache",
        f"          key: {key}-${{{{ hashFiles({inputs}) }}}}",
        "          restore-keys: |",
        f"            {key}-",
        "      - name: Install mcpbundle",
        "        run: |",
        f"          python -m pip install '{s.install}'",
    ]
    return lines


_AFFECTED = """\
      - name: Static deploy checklist
        run: mcpbundle check --format github
      - name: Servers this change affects
        id: affected
        env:
          BASE: >-
            ${{ github.event_name == 'pull_request' && github.event.pull_request.base.sha
            || github.event.before }}
        run: |
          if git cat-file -e "${BASE}^{commit}" 2>/dev/null; then
            mcpbundle affected --since "$BASE" --json > "$RUNNER_TEMP/affected.json"
          else
            # a new branch or a first push: no base to compare with, so every server
            mcpbundle list --json > "$RUNNER_TEMP/affected.json"
          fi
          python - "$RUNNER_TEMP/affected.json" >> "$GITHUB_OUTPUT" <<'PY'
          import json, sys
          doc = json.load(open(sys.argv[1]))
          if "matrix" in doc:
              names, include = doc["servers"], doc["matrix"]["include"]
          else:
              names = [s["name"] for s in doc["servers"]]
              include = [{"server": s["name"], "path": s["path"]} for s in doc["servers"]]
          print("servers=" + json.dumps(names))
          print("matrix=" + json.dumps({"include": include}))
          PY
"""


def _diff_job(s: WorkflowSettings, defaults: list[str]) -> list[str]:
    """Pull requests: the affected servers' MCP surface against the deploy branch, as a
    markdown table in the job summary; ``[ci] fail-on`` makes it a gate."""
    gate = f" --fail-on {s.fail_on}" if s.fail_on else ""
    lines = [
        "  diff:",
        "    name: MCP surface changes",
        "    needs: check",
        "    if: github.event_name == 'pull_request' && needs.check.outputs.servers != '[]'",
        "    runs-on: ubuntu-latest",
        *defaults,
        "    steps:",
        *_setup(s, credentials=False),
        f"      - name: Compare each affected server's surface with {s.branch} (job summary)",
    ]
    if not s.fail_on:
        lines.append("        continue-on-error: true  # shown, not a gate: set [ci] fail-on")
    lines += [
        "        env:",
        "          SERVERS: ${{ needs.check.outputs.servers }}",
        "        run: |",
        "          mapfile -t servers < <(python -c 'import json, os; "
        'print("\\n".join(json.loads(os.environ["SERVERS"])))\')',
        "          status=0",
        f'          mcpbundle diff "${{servers[@]}}" --format markdown{gate} '
        '> "$RUNNER_TEMP/diff.md" || status=$?',
        '          cat "$RUNNER_TEMP/diff.md" >> "$GITHUB_STEP_SUMMARY"',
        '          exit "$status"',
        "",
    ]
    return lines


def github_workflow(settings: WorkflowSettings | None = None) -> str:
    """The workflow text; the same settings always give the same text."""
    s = settings or WorkflowSettings()
    _check(s)
    wd = s.working_directory.strip("/") or "."
    defaults = ["    defaults:", "      run:", f"        working-directory: {wd}"]
    deploy = f"mcpbundle build --branch {s.branch}"
    deploy += " --split --push" if s.split else " --push"  # push-to keys: see pushtargets
    lines = [
        f"# Generated by mcpbundle {__version__} (`mcpbundle ci github --write`). Pull requests:",
        "# check, then verify each affected server on its own runner. Pushes to"
        f" {s.default_branch}:",
        f"# the same, then commit the bundles to '{s.branch}' and push them. Hosts deploy",
        "# from there. Regenerate it rather than editing it; see README.md, Deploy branch.",
        "name: mcpbundle",
        "",
        "on:",
        "  pull_request:",
        f"    branches: [{s.default_branch}]",
        "  push:",
        f"    branches: [{s.default_branch}]",
        "",
        "permissions:",
        "  contents: read",
        "",
        "# A newer push to a pull request cancels its older run; pushes to"
        f" {s.default_branch} never do.",
        "concurrency:",
        "  group: mcpbundle-${{ github.event.pull_request.number || github.sha }}",
        "  cancel-in-progress: true",
        "",
        "jobs:",
        "  check:",
        "    name: check and list the affected servers",
        "    runs-on: ubuntu-latest",
        *defaults,
        "    outputs:",
        "      servers: ${{ steps.affected.outputs.servers }}",
        "      matrix: ${{ steps.affected.outputs.matrix }}",
        "    steps:",
        *_setup(s, credentials=False),
        *_AFFECTED.rstrip("\n").splitlines(),
        "",
        "  verify:",
        "    name: verify ${{ matrix.server }}",
        "    needs: check",
        "    if: needs.check.outputs.servers != '[]'",
        "    runs-on: ubuntu-latest",
        *defaults,
        "    strategy:",
        "      fail-fast: false",
        "      matrix: ${{ fromJSON(needs.check.outputs.matrix) }}",
        "    steps:",
        *_setup(s, credentials=False),
        "      - name: Build it, install it in a fresh venv and load it as the host does",
        "        env:",
        "          SERVER: ${{ matrix.server }}",
        '        run: mcpbundle verify "$SERVER"',
        "",
        *_diff_job(s, defaults),
        "  summary:",
        "    name: mcpbundle",
        "    needs: [check, verify, diff]",
        "    if: ${{ !cancelled() }}",
        "    runs-on: ubuntu-latest",
        "    steps:",
        "      - name: Summary (fails when check or a verify failed)",
        "        env:",
        "          CHECK: ${{ needs.check.result }}",
        "          VERIFY: ${{ needs.verify.result }}",
        "          DIFF: ${{ needs.diff.result }}",
        "          SERVERS: ${{ needs.check.outputs.servers }}",
        "        run: |",
        "          {",
        '            echo "## mcpbundle"',
        '            echo "- check: $CHECK"',
        '            echo "- affected servers: ${SERVERS:-none}"',
        '            echo "- verify: $VERIFY"',
        '            echo "- MCP surface diff: $DIFF"',
        '          } >> "$GITHUB_STEP_SUMMARY"',
        '          test "$CHECK" = success',
        '          test "$VERIFY" = success || test "$VERIFY" = skipped',
        '          test "$DIFF" = success || test "$DIFF" = skipped',
        "",
        "  deploy:",
        f"    name: push the bundles to {s.branch}",
        "    needs: [check, verify]",
        "    if: >-",
        "      ${{ !cancelled() && github.event_name == 'push' && needs.check.result == 'success'",
        "      && (needs.verify.result == 'success' || needs.verify.result == 'skipped') }}",
        "    runs-on: ubuntu-latest",
        *defaults,
        "    permissions:",
        "      contents: write",
        "    # Queue, never cancel: two merges must not push at once, nor one stop mid-push.",
        "    concurrency:",
        "      group: mcpbundle-deploy",
        "      cancel-in-progress: false",
        "    steps:",
        *_setup(s, credentials=True),
        "      # A push-to another repository needs credentials for it in this job",
        "      # (e.g. a deploy key loaded into ssh-agent from a secret).",
        "      - name: Commit the bundles that changed and push them",
        f"        run: {deploy}",
    ]
    return "\n".join(lines) + "\n"
