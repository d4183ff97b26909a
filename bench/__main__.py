"""Run every benchmark module in this package: `python -m bench [module ...]`.

A benchmark module is any bench/<name>.py with a `main() -> int` function (0 when its targets
are met) that runs as `python -m bench.<name>`. Each runs in its own process, because each sets
up Django against its own database. The exit status is non-zero if any module missed a target.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmark_modules() -> list[str]:
    names = sorted(info.name for info in pkgutil.iter_modules([str(HERE)]) if not info.name.startswith("_"))
    return [name for name in names if _defines_main(name)]


def _defines_main(name: str) -> bool:
    spec = importlib.util.find_spec(f"bench.{name}")
    origin = spec.origin if spec else None
    return bool(origin) and "def main(" in Path(str(origin)).read_text()


def run(names: list[str]) -> int:
    failures = []
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        if subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent) != 0:
            failures.append(name)
    if failures:
        print(f"\nTargets missed (or errors) in: {', '.join(failures)}", flush=True)
        return 1
    print("\nEvery benchmark met its targets.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:] or benchmark_modules()))
