"""Import costs that decide what the CLI imports, and when (part of ``make bench``).

Each row imports ``module`` in a fresh interpreter after ``already`` (what is loaded by
then), under ``-X importtime``, and takes the median cumulative time of ``module``'s own
line: the cost of importing it at that point. The rows:

* the no-op shortcut (``mcpbundle.incremental.stamp``), the budget everything else is
  measured against: the colour code and the libraries below stay out of it;
* the colour code (``mcpbundle.cli.colour``), imported only when a terminal gets colour;
* the libraries the code could use instead of what it writes by hand (platformdirs for
  the cache directory, filelock for the output lock, packaging.metadata for METADATA).

``python bench/imports.py`` prints the table alone.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys

# (label, module, already imported)
ROWS = (
    ("no-op shortcut: mcpbundle.incremental.stamp", "mcpbundle.incremental.stamp", ""),
    ("click (the CLI; never in the shortcut)", "click", ""),
    ("colour: mcpbundle.cli.colour after the CLI", "mcpbundle.cli.colour", "mcpbundle.cli.app"),
    ("platformdirs (cache directory)", "platformdirs", ""),
    ("filelock (output lock)", "filelock", ""),
    ("packaging.metadata after packaging.requirements", "packaging.metadata",
     "packaging.requirements"),
)  # fmt: skip
_LINE = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\S+)$")


def import_cost_ms(module: str, already: str = "", repeat: int = 5) -> float | None:
    """Median milliseconds to import ``module`` after ``already``; None if not installed."""
    setup = f"import {already}; " if already else ""
    samples = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"{setup}import {module}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            return None
        cumulative = 0
        for line in done.stderr.splitlines():
            match = _LINE.match(line)
            if match and match.group(2) == module:
                cumulative = int(match.group(1))
        samples.append(cumulative / 1000)
    return statistics.median(samples)


def import_costs(repeat: int = 5) -> dict[str, float | None]:
    return {label: import_cost_ms(module, already, repeat) for label, module, already in ROWS}


def report(costs: dict[str, float | None]) -> str:
    lines = ["import costs (median ms, fresh interpreter, -X importtime):"]
    for label, ms in costs.items():
        shown = "not installed" if ms is None else f"{ms:8.1f} ms"
        lines.append(f"  {label:<52} {shown}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(import_costs()))
