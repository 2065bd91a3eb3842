"""``make bench``'s verdicts and tables: the issues' targets, the scaling table, round 1.

``results["sizes"]["N"][figure]`` is ``{"wall": s, "cpu": s}`` (medians); a target is a
ratio of two figures (a floor may be a sum of figures) at one size, with its limit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

# (label, numerator, denominator figures (summed), limit, sizes it is judged at: None = all)
Target = tuple[str, str, tuple[str, ...], float | None, tuple[int, ...] | None]
SCALING_TARGETS: tuple[Target, ...] = (
    ("check / ast.parse floor", "check", ("ast_floor",), 3.0, None),
    ("check / (ast.parse + dep imports)", "check", ("ast_floor", "import_floor"), None, None),
    ("cold build / (compile + cp -r dist)", "cold", ("compile_floor", "copy_dist"), 1.5, (200,)),
    ("cold build / (compile + cp -r src)", "cold", ("compile_floor", "copy_sources"), None, None),
    ("one-lib touch / cold build", "touch_lib", ("cold",), 0.15, (200,)),
    ("next one-lib touch / cold build", "touch_lib_again", ("cold",), None, None),
    ("cp -al dist + rm -rf / cold build", "relink_dist", ("cold",), None, None),
    ("no-op / interpreter start", "noop", ("interpreter",), 5.0, None),
    ("warm verify / fastmcp inspect", "verify_warm", ("inspect_floor",), 4.0, None),
    ("cold verify / warm verify", "verify_cold", ("verify_warm",), None, None),
)  # fmt: skip
MEMORY_LIMIT_MB = 150.0
MEMORY_SIZE = 200
# Round 1 (the hand-written baseline, pip-tools against uv), at the smallest size.
ROUND1_TARGETS = (
    ("cold (pip-tools) / baseline (pip-tools)", "pip-tools.cold", "baseline.pip-tools", 0.2),
    ("cold (uv) / cold (pip-tools)", "uv.cold", "pip-tools.cold", 0.5),
    ("no-op (pip-tools) / cold (pip-tools)", "pip-tools.noop", "pip-tools.cold", 0.05),
    ("one-lib-touch (pip-tools) / cold (pip-tools)", "pip-tools.touch_lib", "pip-tools.cold", 0.1),
    ("cold (uv) / baseline (uv)", "uv.cold", "baseline.uv", None),
)
FIGURES = (
    ("cold", "cold build (empty cache)"),
    ("noop", "no-op rebuild"),
    ("touch_lib", "one shared-lib module touched"),
    ("touch_lib_again", "the same, touched again"),
    ("add_requirement", "one requirement added"),
    ("check", "mcpbundle check"),
    ("verify_cold", "verify, no venv yet"),
    ("verify_warm", "verify, venvs exist"),
    ("interpreter", "floor: python -c pass"),
    ("ast_floor", "floor: ast.parse of the files"),
    ("compile_floor", "floor: uv pip compile (union)"),
    ("copy_sources", "floor: cp -r the sources"),
    ("copy_dist", "floor: cp -r dist/"),
    ("import_floor", "floor: import the dependencies"),
    ("relink_dist", "floor: cp -al dist/ + rm -rf"),
    ("inspect_floor", "floor: one fastmcp inspect"),
)


def _wall(figures: dict[str, Any], names: Sequence[str], kind: str = "wall") -> float | None:
    if not all(name in figures for name in names):
        return None
    return float(sum(figures[name][kind] for name in names))


def scaling_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for label, top, bottom, limit, judged in SCALING_TARGETS:
        for size, figures in sorted(results["sizes"].items(), key=lambda kv: int(kv[0])):
            numerator, denominator = _wall(figures, (top,)), _wall(figures, bottom)
            if numerator is None or not denominator:
                continue
            ratio = numerator / denominator
            # the same ratio of CPU seconds: on a loaded machine wall time mostly measures
            # the wait for a CPU, CPU time the work
            cpu_top, cpu_bottom = _wall(figures, (top,), "cpu"), _wall(figures, bottom, "cpu")
            cpu = cpu_top / cpu_bottom if cpu_top is not None and cpu_bottom else None
            bound = limit if judged is None or int(size) in judged else None
            checks.append(
                {
                    "target": label,
                    "servers": int(size),
                    "ratio": ratio,
                    "cpu_ratio": cpu,
                    "limit": bound,
                    "ok": None if bound is None else ratio <= bound,
                }
            )
    memory = results.get("memory_mb")
    if memory is not None:
        judged_here = results.get("memory_servers") == MEMORY_SIZE
        checks.append(
            {
                "target": "cold build peak RSS (MB)",
                "servers": results.get("memory_servers"),
                "ratio": memory,
                "limit": MEMORY_LIMIT_MB if judged_here else None,
                "ok": memory < MEMORY_LIMIT_MB if judged_here else None,
            }
        )
    return checks


def _lookup(tree: dict[str, Any], dotted: str) -> float | None:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node["wall"]) if isinstance(node, dict) else float(node)


def round1_targets(round1: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for label, top, bottom, limit in ROUND1_TARGETS:
        numerator, denominator = _lookup(round1, top), _lookup(round1, bottom)
        ratio = None if numerator is None or not denominator else numerator / denominator
        ok = None if ratio is None or limit is None else ratio <= limit
        checks.append({"target": label, "ratio": ratio, "limit": limit, "ok": ok})
    return checks


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def scaling_table(results: dict[str, Any]) -> str:
    sizes = sorted(results["sizes"], key=int)
    head = f"{'scenario (wall s, cpu s)':<34}" + "".join(f"{s + ' servers':>18}" for s in sizes)
    steps = list(itertools.pairwise(sizes))
    head += "".join(f"{b + '/' + a:>9}" for a, b in steps)
    rows = [head]
    for key, label in FIGURES:
        cells = []
        for size in sizes:
            figure = results["sizes"][size].get(key)
            text = (
                "" if figure is None else f"{_seconds(figure['wall'])} ({_seconds(figure['cpu'])})"
            )
            cells.append(f"{text:>18}")
        ratios = []
        for a, b in steps:
            fa, fb = results["sizes"][a].get(key), results["sizes"][b].get(key)
            ratios.append(
                f"{fb['wall'] / fa['wall']:>8.1f}x" if fa and fb and fa["wall"] else " " * 9
            )
        if any(c.strip() for c in cells):
            rows.append(f"{label:<34}" + "".join(cells) + "".join(ratios))
    return "\n".join(rows)


def verdicts(checks: list[dict[str, Any]], *, with_size: bool) -> str:
    rows = []
    for check in checks:
        ratio = "n/a" if check["ratio"] is None else f"{check['ratio']:.2f}"
        verdict = {True: "ok", False: "MISSED", None: "(info)"}[check["ok"]]
        limit = "-" if check["limit"] is None else f"{check['limit']:g}"
        where = f"{check['servers']:>5}" if with_size else ""
        cpu = check.get("cpu_ratio")
        cpu_text = f"{cpu:>9.2f}" if cpu is not None else " " * 9
        cpu_text = cpu_text if with_size else ""
        rows.append(f"{check['target']:<46}{where}{ratio:>9}{cpu_text}{limit:>8}  {verdict}")
    return "\n".join(rows)


def report(results: dict[str, Any]) -> str:
    parts = [scaling_table(results), ""]
    parts.append(
        f"{'target (ratio of wall s; of cpu s)':<46}{'size':>5}{'ratio':>9}{'cpu':>9}"
        f"{'limit':>8}  result"
    )
    parts.append(verdicts(results["targets"], with_size=True))
    round1 = results.get("round1")
    if round1:
        parts += ["", f"round 1 at {round1['servers']} servers (wall s):"]
        for resolver in ("pip-tools", "uv"):
            figures = round1.get(resolver, {})
            shown = ", ".join(f"{k} {_seconds(v['wall'])}" for k, v in figures.items())
            parts.append(f"  {resolver}: {shown}")
        base = round1.get("baseline", {})
        parts.append(
            "  hand-written baseline: "
            + ", ".join(f"{r} {_seconds(v['wall'])}" for r, v in sorted(base.items()))
        )
        parts.append(verdicts(round1["targets"], with_size=False))
    return "\n".join(parts)
