"""Assemble BENCHMARKS.md from ``results/summary.md`` and each stage's ``results/<stage>.md``.

Run after a benchmark has rewritten its results file: ``python -m benchmarks.collect``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
STAGES = ["imports", "ingest", "simulate", "predict", "predict_scale", "score", "planner"]
INTRO = """# Benchmarks

Every benchmark lives in `benchmarks/` and compares the product with a reference measured in the
same run. `make bench` runs them all at their default scale; each section below gives the exact
command that produced its figures. All figures were taken on this project's machines (2 cores,
24 GiB), mostly while other jobs shared the cores, so times vary by up to ±50 % between runs;
ratios measured in one run are the figures to read.
"""


def _demoted(text: str) -> str:
    return "\n".join("#" + line if line.startswith("#") else line for line in text.splitlines())


def main() -> None:
    parts = [INTRO, (HERE / "results" / "summary.md").read_text(encoding="utf-8")]
    for stage in STAGES:
        path = HERE / "results" / f"{stage}.md"
        if path.exists():
            parts.append(_demoted(path.read_text(encoding="utf-8")).rstrip() + "\n")
    (HERE.parent / "BENCHMARKS.md").write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    main()
