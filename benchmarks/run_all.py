"""Run every benchmark module of this folder (``make bench``) at the scale its own default gives.

Each ``bench_*.py`` compares the product against a reference measured in the same run and writes
its figures to ``benchmarks/results/<stage>.md``; ``benchmarks.collect`` then rebuilds
``BENCHMARKS.md`` from them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        module = f"benchmarks.{path.stem}"
        print(f"== {module}", flush=True)
        if subprocess.call([sys.executable, "-m", module], cwd=HERE.parent) != 0:
            failed.append(module)
    subprocess.call([sys.executable, "-m", "benchmarks.collect"], cwd=HERE.parent)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
